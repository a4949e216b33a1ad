//! The deployment files obey the rules the cluster and the image build enforce.
//!
//! `deploy/kyverno/` holds the admission policies a platform team applies; the kyverno CLI is
//! not available where these tests run, so this file states the same rules in Rust and applies
//! them to every manifest in `deploy/kubernetes/`, per container. It also checks what Kyverno
//! cannot: the data directory is a PersistentVolumeClaim that the manifests create, the config
//! and the App key come from the ConfigMap and Secret they should, the server config holds no
//! secrets, `kustomization.yaml` lists exactly the manifests, and the Dockerfile pins its bases
//! and runs as a non-root user. The replicas variant (`deploy/kubernetes-replicas/`, the base
//! with kustomize patches, rendered here by applying them) passes the same container rules
//! and shares nothing but the database.
//!
//! Every rule returns messages naming the file, the object and the container. Each rule is
//! also run against a deliberately broken copy of the real files, so a rule that silently
//! stops finding anything fails as well.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use yaml_serde::Value;

// ---------------------------------------------------------------------------------------------
// Loading

/// One YAML document and the file it came from.
#[derive(Clone)]
struct Manifest {
    file: String,
    doc: Value,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && is_yaml(p))
        .collect();
    files.sort();
    files
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Every document of every YAML file in `dir` (multi-document files included).
fn load_dir(dir: &Path) -> Vec<Manifest> {
    yaml_files(dir).iter().flat_map(|p| load_file(p)).collect()
}

/// Every document of one YAML file.
fn load_file(path: &Path) -> Vec<Manifest> {
    let text = std::fs::read_to_string(path).unwrap();
    let file = file_name(path);
    let mut out = Vec::new();
    for de in yaml_serde::Deserializer::from_str(&text) {
        let doc = Value::deserialize(de)
            .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", path.display()));
        if !doc.is_null() {
            out.push(Manifest {
                file: file.clone(),
                doc,
            });
        }
    }
    out
}

fn kubernetes() -> Vec<Manifest> {
    load_dir(&root().join("deploy/kubernetes"))
}

fn kyverno() -> Vec<Manifest> {
    load_dir(&root().join("deploy/kyverno"))
}

fn dockerfile() -> String {
    std::fs::read_to_string(root().join("deploy/Dockerfile")).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Small accessors over yaml_serde values (indexing a missing key gives Null).

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

fn seq(v: &Value) -> &[Value] {
    v.as_sequence().map(|s| s.as_slice()).unwrap_or(&[])
}

fn kind(m: &Manifest) -> &str {
    s(&m.doc["kind"]).unwrap_or("")
}

fn name(m: &Manifest) -> &str {
    s(&m.doc["metadata"]["name"]).unwrap_or("")
}

fn what(m: &Manifest) -> String {
    format!("{}: {}/{}", m.file, kind(m), name(m))
}

/// A value that is set and not empty (a string, a number).
fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    }
}

/// The pod template of a workload, or None for objects that run no pods.
fn pod_spec(m: &Manifest) -> Option<&Value> {
    let spec = match kind(m) {
        "Pod" => &m.doc["spec"],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            &m.doc["spec"]["template"]["spec"]
        }
        "CronJob" => &m.doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => return None,
    };
    Some(spec)
}

/// `(label, container)` for every container and init container of a pod spec.
fn containers(pod: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (field, label) in [
        ("initContainers", "initContainer"),
        ("containers", "container"),
    ] {
        for c in seq(&pod[field]) {
            let n = s(&c["name"]).unwrap_or("?");
            out.push((format!("{label} {n:?}"), c));
        }
    }
    out
}

fn is_init(label: &str) -> bool {
    label.starts_with("initContainer")
}

// ---------------------------------------------------------------------------------------------
// Rules per container: the ones deploy/kyverno states.

/// The tag of an image reference: `Ok(None)` for a digest, `Err` when there is no tag.
fn image_tag(image: &str) -> Result<Option<&str>, ()> {
    if image.contains('@') {
        return Ok(None);
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) if !tag.is_empty() => Ok(Some(tag)),
        _ => Err(()),
    }
}

fn workload_violations(ms: &[Manifest]) -> Vec<String> {
    let mut v = Vec::new();
    for m in ms {
        let Some(pod) = pod_spec(m) else { continue };
        let obj = what(m);
        if pod["automountServiceAccountToken"].as_bool() != Some(false) {
            v.push(format!("{obj}: automountServiceAccountToken must be false"));
        }
        let pod_sc = &pod["securityContext"];
        if containers(pod).is_empty() {
            v.push(format!("{obj}: no containers"));
        }
        for (label, c) in containers(pod) {
            let at = format!("{obj} {label}");
            let sc = &c["securityContext"];

            for kind in ["requests", "limits"] {
                for res in ["cpu", "memory"] {
                    if !present(&c["resources"][kind][res]) {
                        v.push(format!("{at}: no resources.{kind}.{res}"));
                    }
                }
            }

            // Init containers cannot have probes, unless they are sidecars.
            if !is_init(&label) || s(&c["restartPolicy"]) == Some("Always") {
                for probe in ["livenessProbe", "readinessProbe"] {
                    if !c[probe].is_mapping() {
                        v.push(format!("{at}: no {probe}"));
                    }
                }
            }

            let non_root = match sc["runAsNonRoot"].as_bool() {
                Some(b) => b,
                None => pod_sc["runAsNonRoot"].as_bool() == Some(true),
            };
            if !non_root {
                v.push(format!(
                    "{at}: runAsNonRoot is not true (on the pod or the container)"
                ));
            }
            let uid = sc["runAsUser"].as_u64().or(pod_sc["runAsUser"].as_u64());
            if uid == Some(0) {
                v.push(format!("{at}: runAsUser is 0 (root)"));
            }
            if sc["readOnlyRootFilesystem"].as_bool() != Some(true) {
                v.push(format!("{at}: readOnlyRootFilesystem is not true"));
            }
            if sc["allowPrivilegeEscalation"].as_bool() != Some(false) {
                v.push(format!("{at}: allowPrivilegeEscalation is not false"));
            }
            if !seq(&sc["capabilities"]["drop"])
                .iter()
                .any(|d| s(d) == Some("ALL"))
            {
                v.push(format!("{at}: capabilities.drop does not contain ALL"));
            }
            let seccomp = s(&sc["seccompProfile"]["type"]).or(s(&pod_sc["seccompProfile"]["type"]));
            if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
                v.push(format!("{at}: seccompProfile is not RuntimeDefault"));
            }

            match s(&c["image"]) {
                None => v.push(format!("{at}: no image")),
                Some(image) => match image_tag(image) {
                    Err(()) => v.push(format!("{at}: image {image:?} has no tag")),
                    Ok(Some("latest")) => {
                        v.push(format!("{at}: image {image:?} uses the latest tag"))
                    }
                    Ok(_) => {}
                },
            }
        }
    }
    v
}

// ---------------------------------------------------------------------------------------------
// The server's own needs: config, secrets, data volume, service.

const CONFIG_KEY: &str = "planguard.toml";
/// Keys that hold secrets and must come from the environment (a Secret), never the ConfigMap.
const SECRET_KEYS: &[&str] = &["webhook_secret", "token", "private_key"];

fn find<'a>(ms: &'a [Manifest], k: &str, n: &str) -> Option<&'a Manifest> {
    ms.iter().find(|m| kind(m) == k && name(m) == n)
}

/// The ConfigMap carrying planguard.toml, and the parsed TOML.
fn server_config(ms: &[Manifest]) -> Result<(&Manifest, toml::Table), String> {
    let m = ms
        .iter()
        .find(|m| kind(m) == "ConfigMap" && m.doc["data"][CONFIG_KEY].is_string())
        .ok_or_else(|| format!("no ConfigMap has a {CONFIG_KEY} key"))?;
    let text = s(&m.doc["data"][CONFIG_KEY]).unwrap();
    let table = text
        .parse::<toml::Table>()
        .map_err(|e| format!("{}: {CONFIG_KEY} is not valid TOML: {e}", what(m)))?;
    Ok((m, table))
}

fn secret_keys_in(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in table {
        let full = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if SECRET_KEYS.contains(&k.as_str()) {
            out.push(full.clone());
        }
        match v {
            toml::Value::Table(t) => secret_keys_in(t, &full, out),
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(t) = item {
                        secret_keys_in(t, &full, out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn config_violations(ms: &[Manifest]) -> Vec<String> {
    let (m, table) = match server_config(ms) {
        Ok(x) => x,
        Err(e) => return vec![e],
    };
    let mut found = Vec::new();
    secret_keys_in(&table, "", &mut found);
    found
        .into_iter()
        .map(|k| {
            format!(
                "{}: {CONFIG_KEY} sets the secret `{k}`: take it from a Secret through its \
                 PLANGUARD_* environment variable instead",
                what(m)
            )
        })
        .collect()
}

/// Where a file inside a container comes from: `(kind, object name, key)` for files from a
/// ConfigMap or Secret, `(volume type, volume name, "")` for other volumes.
fn file_source(pod: &Value, c: &Value, path: &str) -> Option<(String, String, String)> {
    let mount = seq(&c["volumeMounts"])
        .iter()
        .filter_map(|vm| {
            let mp = s(&vm["mountPath"])?.trim_end_matches('/');
            let rest = path.strip_prefix(mp)?;
            (rest.is_empty() || rest.starts_with('/')).then_some((mp.len(), vm, rest))
        })
        .max_by_key(|(len, _, _)| *len)?;
    let (_, vm, rest) = mount;
    let rel = rest.trim_start_matches('/');
    let vol_name = s(&vm["name"])?;
    let vol = seq(&pod["volumes"])
        .iter()
        .find(|v| s(&v["name"]) == Some(vol_name))?;
    let from_object = |kind: &str, src: &Value| -> Option<(String, String, String)> {
        let obj = s(&src["name"]).or(s(&src["secretName"]))?;
        let items = seq(&src["items"]);
        let key = if items.is_empty() {
            Some(rel.to_owned())
        } else {
            items
                .iter()
                .find(|i| s(&i["path"]) == Some(rel))
                .and_then(|i| s(&i["key"]).map(str::to_owned))
        }?;
        Some((kind.to_owned(), obj.to_owned(), key))
    };
    if vol["configMap"].is_mapping() {
        return from_object("ConfigMap", &vol["configMap"]);
    }
    if vol["secret"].is_mapping() {
        return from_object("Secret", &vol["secret"]);
    }
    if vol["projected"].is_mapping() {
        return seq(&vol["projected"]["sources"]).iter().find_map(|src| {
            if src["configMap"].is_mapping() {
                from_object("ConfigMap", &src["configMap"])
            } else if src["secret"].is_mapping() {
                from_object("Secret", &src["secret"])
            } else {
                None
            }
        });
    }
    let vtype = vol
        .as_mapping()?
        .keys()
        .filter_map(|k| k.as_str())
        .find(|k| *k != "name")?;
    Some((vtype.to_owned(), vol_name.to_owned(), String::new()))
}

/// The container that runs `planguard serve`.
fn server_container(m: &Manifest) -> Option<(&Value, &Value)> {
    let pod = pod_spec(m)?;
    seq(&pod["containers"])
        .iter()
        .find(|c| {
            seq(&c["args"]).first().and_then(s) == Some("serve")
                || s(&c["image"]).is_some_and(|i| i.contains("/planguard"))
        })
        .map(|c| (pod, c))
}

fn env_var<'a>(c: &'a Value, n: &str) -> Option<&'a Value> {
    seq(&c["env"]).iter().find(|e| s(&e["name"]) == Some(n))
}

/// The one workload running `planguard serve`.
fn the_server(ms: &[Manifest]) -> Result<&Manifest, String> {
    let servers: Vec<&Manifest> = ms
        .iter()
        .filter(|m| server_container(m).is_some())
        .collect();
    match servers[..] {
        [m] => Ok(m),
        _ => Err(format!(
            "expected exactly one workload running planguard serve, found {}",
            servers.len()
        )),
    }
}

fn server_violations(ms: &[Manifest]) -> Vec<String> {
    let mut v = Vec::new();
    let m = match the_server(ms) {
        Ok(m) => m,
        Err(e) => return vec![e],
    };
    let (pod, c) = server_container(m).unwrap();
    let at = format!("{} container {:?}", what(m), s(&c["name"]).unwrap_or("?"));
    let (cfg_map, cfg) = match server_config(ms) {
        Ok(x) => x,
        Err(e) => return vec![e],
    };

    // The config file the container reads is the ConfigMap's planguard.toml.
    let args: Vec<&str> = seq(&c["args"]).iter().filter_map(s).collect();
    let config_path = args
        .windows(2)
        .find(|w| w[0] == "--config")
        .map(|w| w[1])
        .unwrap_or("/etc/planguard/planguard.toml");
    match file_source(pod, c, config_path) {
        Some((k, n, key)) if k == "ConfigMap" && n == name(cfg_map) && key == CONFIG_KEY => {}
        other => v.push(format!(
            "{at}: --config {config_path} is not the ConfigMap {}'s {CONFIG_KEY} (it is {other:?})",
            name(cfg_map)
        )),
    }

    // The data directory is a PVC that the manifests create.
    let data_dir = cfg
        .get("data_dir")
        .and_then(|d| d.as_str())
        .unwrap_or("./planguard-data");
    if !data_dir.starts_with('/') {
        v.push(format!(
            "{}: data_dir must be an absolute path on the data volume, not {data_dir:?}",
            what(cfg_map)
        ));
    }
    let data_mount = seq(&c["volumeMounts"])
        .iter()
        .find(|vm| s(&vm["mountPath"]).map(|p| p.trim_end_matches('/')) == Some(data_dir));
    let claim = data_mount
        .and_then(|vm| s(&vm["name"]))
        .and_then(|vn| {
            seq(&pod["volumes"])
                .iter()
                .find(|vol| s(&vol["name"]) == Some(vn))
        })
        .and_then(|vol| s(&vol["persistentVolumeClaim"]["claimName"]));
    match claim {
        None => v.push(format!(
            "{at}: the data directory {data_dir} is not a mounted PersistentVolumeClaim"
        )),
        Some(claim) => match find(ms, "PersistentVolumeClaim", claim) {
            None => v.push(format!(
                "{at}: mounts PersistentVolumeClaim {claim:?} at {data_dir}, but no manifest creates it"
            )),
            Some(pvc) => {
                let rwo = seq(&pvc.doc["spec"]["accessModes"])
                    .iter()
                    .any(|a| matches!(s(a), Some("ReadWriteOnce" | "ReadWriteOncePod")));
                if rwo && kind(m) == "Deployment" {
                    if s(&m.doc["spec"]["strategy"]["type"]) != Some("Recreate") {
                        v.push(format!(
                            "{}: the data volume is {} and ReadWriteOnce, so the strategy must be Recreate",
                            what(m),
                            what(pvc)
                        ));
                    }
                    if m.doc["spec"]["replicas"].as_u64().unwrap_or(1) > 1 {
                        v.push(format!(
                            "{}: SQLite on a ReadWriteOnce volume allows one replica",
                            what(m)
                        ));
                    }
                }
                if !present(&pvc.doc["spec"]["resources"]["requests"]["storage"]) {
                    v.push(format!("{}: no storage request", what(pvc)));
                }
            }
        },
    }
    if let Some(db) = cfg.get("database").and_then(|d| d.as_str()) {
        if !db.starts_with(&format!("{data_dir}/")) {
            v.push(format!(
                "{}: database {db} is outside data_dir {data_dir}, so not on the volume",
                what(cfg_map)
            ));
        }
    }

    // A read-only root filesystem needs a writable /tmp.
    match file_source(pod, c, "/tmp") {
        Some((t, _, _)) if t == "emptyDir" => {}
        other => v.push(format!("{at}: /tmp is not an emptyDir (it is {other:?})")),
    }

    // Secrets arrive from a Secret, never as literal values.
    match env_var(c, "PLANGUARD_GITHUB_WEBHOOK_SECRET") {
        Some(e) if e["valueFrom"]["secretKeyRef"].is_mapping() => {}
        _ => v.push(format!(
            "{at}: PLANGUARD_GITHUB_WEBHOOK_SECRET must come from a secretKeyRef"
        )),
    }
    for e in seq(&c["env"]) {
        let n = s(&e["name"]).unwrap_or("");
        let secretish = ["SECRET", "TOKEN", "PRIVATE_KEY"]
            .iter()
            .any(|w| n.contains(w))
            && !n.ends_with("_PATH");
        if secretish && e.get("value").is_some() {
            v.push(format!(
                "{at}: {n} is set to a literal value; use a secretKeyRef"
            ));
        }
    }
    let key_path = env_var(c, "PLANGUARD_GITHUB_PRIVATE_KEY_PATH")
        .and_then(|e| s(&e["value"]))
        .or_else(|| {
            cfg.get("github")
                .and_then(|g| g.get("private_key_path"))
                .and_then(|p| p.as_str())
        });
    match key_path {
        None => v.push(format!(
            "{at}: no GitHub App private key path is configured"
        )),
        Some(p) => match file_source(pod, c, p) {
            Some((k, _, _)) if k == "Secret" => {}
            other => v.push(format!(
                "{at}: the GitHub App key {p} is not a file from a Secret (it is {other:?})"
            )),
        },
    }

    // The listen port, the container port and the Service line up.
    let listen_port = cfg
        .get("listen")
        .and_then(|l| l.as_str())
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.parse::<u64>().ok());
    let http_port = seq(&c["ports"])
        .iter()
        .find(|p| s(&p["name"]) == Some("http"))
        .and_then(|p| p["containerPort"].as_u64());
    if http_port != Some(8080) || listen_port != Some(8080) {
        v.push(format!(
            "{at}: the http port is {http_port:?} and the config listens on {listen_port:?}; both should be 8080"
        ));
    }
    for probe in ["livenessProbe", "readinessProbe"] {
        let want = if probe == "livenessProbe" {
            "/healthz"
        } else {
            "/readyz"
        };
        let p = &c[probe]["httpGet"];
        let port_ok = p["port"].as_u64() == Some(8080) || s(&p["port"]) == Some("http");
        if s(&p["path"]) != Some(want) || !port_ok {
            v.push(format!("{at}: {probe} must be GET {want} on port 8080"));
        }
    }
    let labels = &m.doc["spec"]["template"]["metadata"]["labels"];
    let services: Vec<&Manifest> = ms
        .iter()
        .filter(|svc| kind(svc) == "Service")
        .filter(|svc| {
            svc.doc["spec"]["selector"]
                .as_mapping()
                .is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, val)| &labels[k] == val))
        })
        .collect();
    if services.is_empty() {
        v.push(format!("{}: no Service selects its pods", what(m)));
    }
    for svc in services {
        let ok = seq(&svc.doc["spec"]["ports"]).iter().any(|p| {
            p["port"].as_u64() == Some(80)
                && (p["targetPort"].as_u64() == Some(8080) || s(&p["targetPort"]) == Some("http"))
        });
        if !ok {
            v.push(format!("{}: no port 80 forwarding to 8080", what(svc)));
        }
    }

    if m.doc["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .unwrap_or(30)
        < 300
    {
        v.push(format!(
            "{}: terminationGracePeriodSeconds is too short for running jobs to drain",
            what(m)
        ));
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Kustomizations and Kyverno policies.

fn kustomization_violations(dir: &Path) -> Vec<String> {
    let rel = dir
        .strip_prefix(root())
        .unwrap_or(dir)
        .display()
        .to_string();
    let path = dir.join("kustomization.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return vec![format!("{rel}: no kustomization.yaml")];
    };
    let k: Value = yaml_serde::from_str(&text).unwrap();
    let listed: BTreeSet<String> = seq(&k["resources"])
        .iter()
        .filter_map(s)
        .map(str::to_owned)
        .collect();
    let mut v = Vec::new();
    for r in &listed {
        if !dir.join(r).is_file() {
            v.push(format!(
                "{rel}/kustomization.yaml: lists {r}, which does not exist"
            ));
        }
        if r.contains(".example.") {
            v.push(format!(
                "{rel}/kustomization.yaml: lists {r}, an example with placeholder values"
            ));
        }
    }
    for f in yaml_files(dir) {
        let f = file_name(&f);
        if f != "kustomization.yaml" && !f.contains(".example.") && !listed.contains(&f) {
            v.push(format!(
                "{rel}/{f}: not listed in kustomization.yaml, so never applied"
            ));
        }
    }
    v
}

/// The Kyverno policies that state this file's container rules.
const KYVERNO_POLICIES: &[&str] = &[
    "require-requests-limits",
    "require-probes",
    "require-run-as-non-root",
    "require-ro-rootfs",
    "disallow-privilege-escalation",
    "disallow-latest-tag",
];

fn kyverno_violations(ms: &[Manifest]) -> Vec<String> {
    let mut v = Vec::new();
    let mut names = BTreeSet::new();
    for m in ms.iter().filter(|m| m.file != "kustomization.yaml") {
        let at = what(m);
        if kind(m) != "ClusterPolicy" || s(&m.doc["apiVersion"]) != Some("kyverno.io/v1") {
            v.push(format!("{at}: expected a kyverno.io/v1 ClusterPolicy"));
        }
        if s(&m.doc["spec"]["validationFailureAction"]) != Some("Enforce") {
            v.push(format!("{at}: validationFailureAction is not Enforce"));
        }
        let rules = seq(&m.doc["spec"]["rules"]);
        if rules.is_empty() {
            v.push(format!("{at}: no rules"));
        }
        for r in rules {
            let rn = s(&r["name"]).unwrap_or("?");
            let val = &r["validate"];
            if !present(&val["message"])
                || !(val["pattern"].is_mapping()
                    || val["anyPattern"].is_sequence()
                    || val["deny"].is_mapping())
            {
                v.push(format!(
                    "{at} rule {rn:?}: needs validate.message and a pattern, anyPattern or deny"
                ));
            }
            if !seq(&r["match"]["any"])
                .iter()
                .chain(seq(&r["match"]["all"]))
                .any(|x| {
                    seq(&x["resources"]["kinds"])
                        .iter()
                        .any(|k| s(k) == Some("Pod"))
                })
            {
                v.push(format!("{at} rule {rn:?}: does not match Pods"));
            }
        }
        names.insert(name(m).to_owned());
    }
    for want in KYVERNO_POLICIES {
        if !names.contains(*want) {
            v.push(format!("deploy/kyverno: no ClusterPolicy named {want}"));
        }
    }
    v
}

// ---------------------------------------------------------------------------------------------
// The Dockerfile.

struct Instruction {
    line: usize,
    op: String,
    args: String,
}

/// Instructions with continuation lines joined and comments dropped.
fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || (line.is_empty() && cur.is_none()) {
            continue;
        }
        let (body, more) = match line.strip_suffix('\\') {
            Some(b) => (b.trim_end(), true),
            None => (line, false),
        };
        let (start, mut acc) = cur.take().unwrap_or((i + 1, String::new()));
        if !acc.is_empty() {
            acc.push(' ');
        }
        acc.push_str(body);
        if more {
            cur = Some((start, acc));
        } else if let Some((op, args)) = acc.split_once(char::is_whitespace) {
            out.push(Instruction {
                line: start,
                op: op.to_ascii_uppercase(),
                args: args.trim().to_owned(),
            });
        }
    }
    out
}

/// The top-level paths of Cargo.toml's `package.include`, which is everything the crate's
/// build reads.
fn cargo_include() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let t: toml::Table = text.parse().unwrap();
    let mut tops: Vec<String> = t["package"]["include"]
        .as_array()
        .expect("Cargo.toml has package.include")
        .iter()
        .filter_map(|p| p.as_str())
        .map(|p| p.trim_end_matches("/**").to_owned())
        .collect();
    tops.push("Cargo.lock".to_owned());
    tops.sort();
    tops.dedup();
    tops
}

fn dockerfile_violations(text: &str, needed: &[String]) -> Vec<String> {
    let mut v = Vec::new();
    let ins = instructions(text);
    let mut stages: Vec<String> = Vec::new();
    let mut stage_of = Vec::new();
    for i in &ins {
        if i.op == "FROM" {
            let words: Vec<&str> = i
                .args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let image = words.first().copied().unwrap_or("");
            if let [_, as_, alias] = words[..] {
                if as_.eq_ignore_ascii_case("as") {
                    stages.push(alias.to_owned());
                } else {
                    stages.push(String::new());
                }
            } else {
                stages.push(String::new());
            }
            let earlier = &stages[..stages.len() - 1];
            if !earlier.iter().any(|s| s == image) {
                match image_tag(image) {
                    Err(()) => v.push(format!(
                        "deploy/Dockerfile:{}: FROM {image} has no tag",
                        i.line
                    )),
                    Ok(Some("latest")) => v.push(format!(
                        "deploy/Dockerfile:{}: FROM {image} uses the latest tag",
                        i.line
                    )),
                    Ok(_) => {}
                }
            }
        }
        stage_of.push(stages.len());
    }
    if stages.is_empty() {
        return vec!["deploy/Dockerfile: no FROM".to_owned()];
    }
    let last = stages.len();
    let final_stage: Vec<&Instruction> = ins
        .iter()
        .zip(&stage_of)
        .filter(|(_, st)| **st == last)
        .map(|(i, _)| i)
        .collect();
    match final_stage.iter().rev().find(|i| i.op == "USER") {
        None => v.push(
            "deploy/Dockerfile: the final stage has no USER, so the container runs as root"
                .to_owned(),
        ),
        Some(u) => {
            let user = u.args.split(':').next().unwrap_or("").trim();
            if user.is_empty() || user == "root" || user == "0" {
                v.push(format!(
                    "deploy/Dockerfile:{}: USER {} is root",
                    u.line, u.args
                ));
            }
        }
    }
    if !final_stage
        .iter()
        .any(|i| i.op == "EXPOSE" && i.args.split_whitespace().any(|p| p == "8080"))
    {
        v.push("deploy/Dockerfile: the final stage does not EXPOSE 8080".to_owned());
    }
    if !final_stage
        .iter()
        .any(|i| i.op == "ENTRYPOINT" && i.args.contains("planguard"))
    {
        v.push("deploy/Dockerfile: the entry point is not planguard".to_owned());
    }

    // The build stage copies everything the crate's build reads, and builds reproducibly.
    let copied: BTreeSet<String> = ins
        .iter()
        .filter(|i| i.op == "COPY" && !i.args.contains("--from"))
        .flat_map(|i| {
            let words: Vec<&str> = i
                .args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let n = words.len().saturating_sub(1);
            words[..n]
                .iter()
                .map(|w| w.trim_start_matches("./").trim_end_matches('/').to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    for n in needed {
        if !copied.contains(n) {
            v.push(format!(
                "deploy/Dockerfile: the build does not COPY {n}, which the crate needs"
            ));
        }
    }
    if !ins
        .iter()
        .any(|i| i.op == "RUN" && i.args.contains("cargo build --release --locked"))
    {
        v.push("deploy/Dockerfile: no `cargo build --release --locked`".to_owned());
    }

    // OpenTofu is pinned and checked.
    let arg = |n: &str| {
        ins.iter()
            .filter(|i| i.op == "ARG")
            .find_map(|i| i.args.strip_prefix(&format!("{n}=")).map(str::to_owned))
    };
    match arg("TOFU_VERSION") {
        Some(ver) if !ver.is_empty() && ver != "latest" => {}
        _ => v.push("deploy/Dockerfile: ARG TOFU_VERSION is not pinned".to_owned()),
    }
    match arg("TOFU_SHA256_AMD64") {
        Some(sum) if sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_hexdigit()) => {}
        other => v.push(format!(
            "deploy/Dockerfile: ARG TOFU_SHA256_AMD64 is not a SHA-256 ({other:?})"
        )),
    }
    if !ins
        .iter()
        .any(|i| i.op == "RUN" && i.args.contains("sha256sum -c"))
    {
        v.push("deploy/Dockerfile: the OpenTofu download is not checked with sha256sum".to_owned());
    }
    v
}

// ---------------------------------------------------------------------------------------------
// The real files pass.

fn assert_none(what: &str, v: Vec<String>) {
    assert!(v.is_empty(), "{what}:\n  {}", v.join("\n  "));
}

#[test]
fn every_container_follows_the_cluster_rules() {
    let ms = kubernetes();
    let workloads = ms.iter().filter(|m| pod_spec(m).is_some()).count();
    assert!(workloads >= 1, "no workload in deploy/kubernetes");
    assert_none("deploy/kubernetes", workload_violations(&ms));
}

#[test]
fn the_server_gets_its_config_secrets_and_a_persistent_data_volume() {
    assert_none("deploy/kubernetes", server_violations(&kubernetes()));
}

#[test]
fn the_configmap_holds_no_secrets() {
    assert_none("deploy/kubernetes", config_violations(&kubernetes()));
}

#[test]
fn kustomizations_list_exactly_the_manifests() {
    assert_none(
        "deploy/kubernetes",
        kustomization_violations(&root().join("deploy/kubernetes")),
    );
    assert_none(
        "deploy/kyverno",
        kustomization_violations(&root().join("deploy/kyverno")),
    );
}

#[test]
fn kyverno_policies_are_enforcing_cluster_policies() {
    assert_none("deploy/kyverno", kyverno_violations(&kyverno()));
}

#[test]
fn the_dockerfile_pins_its_bases_and_runs_as_a_user() {
    assert_none(
        "deploy/Dockerfile",
        dockerfile_violations(&dockerfile(), &cargo_include()),
    );
}

#[test]
fn the_example_secret_is_only_placeholders() {
    let ms = load_dir(&root().join("deploy/kubernetes"));
    let secrets: Vec<&Manifest> = ms.iter().filter(|m| kind(m) == "Secret").collect();
    assert!(!secrets.is_empty(), "secret.example.yaml is missing");
    for m in secrets {
        assert!(
            m.file.contains(".example."),
            "{}: a real Secret in the manifests",
            what(m)
        );
        for (k, val) in m.doc["stringData"].as_mapping().into_iter().flatten() {
            let val = s(val).unwrap_or("");
            assert!(
                val.contains("REPLACE-ME"),
                "{}: {:?} is not a marked placeholder",
                what(m),
                s(k).unwrap_or("?")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Each rule catches a regression, with a message naming the file and the container.

/// The mutable value at a `/`-separated path (numbers index sequences).
fn node<'a>(v: &'a mut Value, path: &str) -> &'a mut Value {
    let mut cur = v;
    for part in path.split('/') {
        cur = match part.parse::<usize>() {
            Ok(i) => &mut cur.as_sequence_mut().unwrap()[i],
            Err(_) => cur
                .get_mut(part)
                .unwrap_or_else(|| panic!("no {part} in {path}")),
        };
    }
    cur
}

fn remove(v: &mut Value, path: &str) {
    let (parent, key) = path.rsplit_once('/').unwrap();
    node(v, parent)
        .as_mapping_mut()
        .unwrap()
        .remove(key)
        .unwrap();
}

const SERVER: &str = "spec/template/spec/containers/0";

/// The manifests with `edit` applied to the Deployment.
fn with_deployment(edit: impl FnOnce(&mut Value)) -> Vec<Manifest> {
    let mut ms = kubernetes();
    let d = ms
        .iter_mut()
        .find(|m| kind(m) == "Deployment")
        .expect("a Deployment");
    edit(&mut d.doc);
    ms
}

fn assert_caught(v: Vec<String>, needles: &[&str]) {
    assert!(
        v.iter().any(|msg| needles.iter().all(|n| msg.contains(n))),
        "no message containing {needles:?}; got:\n  {}",
        v.join("\n  ")
    );
}

const WHERE: &[&str] = &[
    "deployment.yaml",
    "Deployment/planguard",
    "container \"planguard\"",
];

fn caught_in_server(v: Vec<String>, problem: &str) {
    let mut needles = WHERE.to_vec();
    needles.push(problem);
    assert_caught(v, &needles);
}

#[test]
fn missing_limits_and_requests_are_caught() {
    let ms = with_deployment(|d| remove(d, &format!("{SERVER}/resources/limits/memory")));
    caught_in_server(workload_violations(&ms), "no resources.limits.memory");
    let ms = with_deployment(|d| remove(d, &format!("{SERVER}/resources/requests")));
    caught_in_server(workload_violations(&ms), "no resources.requests.cpu");
}

#[test]
fn missing_probes_are_caught() {
    let ms = with_deployment(|d| remove(d, &format!("{SERVER}/readinessProbe")));
    caught_in_server(workload_violations(&ms), "no readinessProbe");
    let ms = with_deployment(|d| remove(d, &format!("{SERVER}/livenessProbe")));
    caught_in_server(workload_violations(&ms), "no livenessProbe");
    let ms = with_deployment(|d| {
        *node(d, &format!("{SERVER}/readinessProbe/httpGet/path")) = "/healthz".into()
    });
    caught_in_server(server_violations(&ms), "readinessProbe must be GET /readyz");
}

#[test]
fn running_as_root_is_caught() {
    let ms = with_deployment(|d| {
        *node(d, &format!("{SERVER}/securityContext/runAsNonRoot")) = false.into()
    });
    caught_in_server(workload_violations(&ms), "runAsNonRoot is not true");
    // Without the container's setting the pod's applies; without both, it is caught.
    let ms = with_deployment(|d| {
        remove(d, &format!("{SERVER}/securityContext/runAsNonRoot"));
        remove(d, "spec/template/spec/securityContext/runAsNonRoot");
    });
    caught_in_server(workload_violations(&ms), "runAsNonRoot is not true");
    let ms =
        with_deployment(|d| *node(d, &format!("{SERVER}/securityContext/runAsUser")) = 0.into());
    caught_in_server(workload_violations(&ms), "runAsUser is 0");
}

#[test]
fn a_writable_root_filesystem_and_privilege_escalation_are_caught() {
    let ms = with_deployment(|d| {
        *node(
            d,
            &format!("{SERVER}/securityContext/readOnlyRootFilesystem"),
        ) = false.into()
    });
    caught_in_server(
        workload_violations(&ms),
        "readOnlyRootFilesystem is not true",
    );
    let ms = with_deployment(|d| {
        remove(
            d,
            &format!("{SERVER}/securityContext/allowPrivilegeEscalation"),
        )
    });
    caught_in_server(
        workload_violations(&ms),
        "allowPrivilegeEscalation is not false",
    );
    let ms = with_deployment(|d| remove(d, &format!("{SERVER}/securityContext/capabilities")));
    caught_in_server(
        workload_violations(&ms),
        "capabilities.drop does not contain ALL",
    );
}

#[test]
fn latest_and_untagged_images_are_caught() {
    for (image, problem) in [
        ("ghcr.io/planguard/planguard:latest", "uses the latest tag"),
        ("ghcr.io/planguard/planguard", "has no tag"),
        ("registry.local:5000/planguard", "has no tag"),
    ] {
        let ms = with_deployment(|d| *node(d, &format!("{SERVER}/image")) = image.into());
        caught_in_server(workload_violations(&ms), problem);
    }
    let ms = with_deployment(|d| {
        *node(d, &format!("{SERVER}/image")) = "ghcr.io/planguard/planguard@sha256:0123".into()
    });
    assert_none("a digest is pinned", workload_violations(&ms));
}

#[test]
fn init_containers_are_checked_too() {
    let ms = with_deployment(|d| {
        let init: Value = yaml_serde::from_str(
            "name: migrate\nimage: busybox\nsecurityContext: {runAsNonRoot: true}\n",
        )
        .unwrap();
        node(d, "spec/template/spec")
            .as_mapping_mut()
            .unwrap()
            .insert("initContainers".into(), Value::Sequence(vec![init]));
    });
    let v = workload_violations(&ms);
    for problem in [
        "no resources.limits.cpu",
        "image \"busybox\" has no tag",
        "readOnlyRootFilesystem is not true",
    ] {
        assert_caught(
            v.clone(),
            &["deployment.yaml", "initContainer \"migrate\"", problem],
        );
    }
    assert!(
        !v.iter()
            .any(|m| m.contains("migrate") && m.contains("Probe")),
        "init containers need no probes: {v:?}"
    );
}

#[test]
fn a_data_directory_without_its_pvc_is_caught() {
    // The volume is an emptyDir: the database would be lost on every restart.
    let ms = with_deployment(|d| {
        let vol = node(d, "spec/template/spec/volumes/0");
        assert_eq!(s(&vol["name"]), Some("data"));
        *vol = yaml_serde::from_str("{name: data, emptyDir: {}}").unwrap();
    });
    caught_in_server(
        server_violations(&ms),
        "the data directory /var/lib/planguard is not a mounted PersistentVolumeClaim",
    );
    // The claim is mounted but no manifest creates it.
    let mut ms = kubernetes();
    ms.retain(|m| kind(m) != "PersistentVolumeClaim");
    caught_in_server(server_violations(&ms), "but no manifest creates it");
    // A rolling update would start a second pod on the same RWO volume.
    let ms = with_deployment(|d| *node(d, "spec/strategy/type") = "RollingUpdate".into());
    assert_caught(
        server_violations(&ms),
        &["deployment.yaml", "strategy must be Recreate"],
    );
}

#[test]
fn secrets_in_the_configmap_or_env_are_caught() {
    for (line, key) in [
        ("webhook_secret = \"hunter2\"", "github.webhook_secret"),
        ("private_key = \"-----BEGIN\"", "github.private_key"),
        ("token = \"ghp_x\"", "github.token"),
    ] {
        let mut ms = kubernetes();
        let cm = ms.iter_mut().find(|m| kind(m) == "ConfigMap").unwrap();
        let toml = node(&mut cm.doc, &format!("data/{CONFIG_KEY}"));
        let text = s(toml)
            .unwrap()
            .replace("[github]\n", &format!("[github]\n{line}\n"));
        *toml = text.into();
        assert_caught(
            config_violations(&ms),
            &["configmap.yaml", "ConfigMap/planguard-config", key],
        );
    }
    let ms = with_deployment(|d| {
        *node(d, &format!("{SERVER}/env/0")) =
            yaml_serde::from_str("{name: PLANGUARD_GITHUB_WEBHOOK_SECRET, value: hunter2}")
                .unwrap();
    });
    let v = server_violations(&ms);
    caught_in_server(
        v.clone(),
        "PLANGUARD_GITHUB_WEBHOOK_SECRET must come from a secretKeyRef",
    );
    caught_in_server(v, "is set to a literal value");
}

#[test]
fn a_key_or_config_from_the_wrong_place_is_caught() {
    // The App key mounted from the ConfigMap instead of the Secret.
    let ms = with_deployment(|d| {
        let sources = node(d, "spec/template/spec/volumes/2/projected/sources");
        let secret = sources.as_sequence_mut().unwrap().pop().unwrap();
        assert!(secret["secret"].is_mapping());
    });
    caught_in_server(
        server_violations(&ms),
        "the GitHub App key /etc/planguard/app.pem",
    );
    let ms = with_deployment(|d| {
        *node(d, &format!("{SERVER}/args/2")) = "/etc/other/planguard.toml".into()
    });
    caught_in_server(server_violations(&ms), "--config /etc/other/planguard.toml");
}

#[test]
fn kustomization_drift_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    for f in yaml_files(&root().join("deploy/kubernetes")) {
        std::fs::copy(&f, dir.path().join(file_name(&f))).unwrap();
    }
    std::fs::remove_file(dir.path().join("pvc.yaml")).unwrap();
    std::fs::write(dir.path().join("extra.yaml"), "kind: ConfigMap\n").unwrap();
    let v = kustomization_violations(dir.path());
    assert_caught(
        v.clone(),
        &["kustomization.yaml", "lists pvc.yaml, which does not exist"],
    );
    assert_caught(v, &["extra.yaml", "not listed in kustomization.yaml"]);
}

#[test]
fn an_auditing_kyverno_policy_is_caught() {
    let mut ms = kyverno();
    let p = ms.iter_mut().find(|m| name(m) == "require-probes").unwrap();
    *node(&mut p.doc, "spec/validationFailureAction") = "Audit".into();
    assert_caught(
        kyverno_violations(&ms),
        &[
            "require-probes.yaml",
            "ClusterPolicy/require-probes",
            "not Enforce",
        ],
    );
    ms.retain(|m| name(m) != "disallow-latest-tag");
    assert_caught(
        kyverno_violations(&ms),
        &["no ClusterPolicy named disallow-latest-tag"],
    );
}

#[test]
fn dockerfile_regressions_are_caught() {
    let good = dockerfile();
    let needed = cargo_include();
    let check = |text: String, needle: &str| {
        assert_caught(dockerfile_violations(&text, &needed), &[needle]);
    };
    check(
        good.replace("FROM debian:bookworm-slim\n", "FROM debian\n"),
        "FROM debian has no tag",
    );
    check(
        good.replace("FROM rust:1.95-bookworm", "FROM rust:latest"),
        "FROM rust:latest uses the latest tag",
    );
    check(
        good.replace("USER 10001:10001", "USER root"),
        "USER root is root",
    );
    check(
        good.replace("USER 10001:10001\n", ""),
        "the final stage has no USER",
    );
    check(
        good.replace("COPY policies ./policies\n", ""),
        "does not COPY policies",
    );
    check(
        good.replace("sha256sum -c", "true"),
        "not checked with sha256sum",
    );
}

#[test]
fn image_tags_parse() {
    assert_eq!(image_tag("rust:1.95-bookworm"), Ok(Some("1.95-bookworm")));
    assert_eq!(image_tag("ghcr.io/a/b:0.1.0"), Ok(Some("0.1.0")));
    assert_eq!(image_tag("localhost:5000/a/b"), Err(()));
    assert_eq!(image_tag("localhost:5000/a/b:1"), Ok(Some("1")));
    assert_eq!(image_tag("a/b@sha256:00"), Ok(None));
    assert_eq!(image_tag("debian"), Err(()));
}

// ---------------------------------------------------------------------------------------------
// The replicas variant: deploy/kubernetes-replicas, the base with kustomize's patches applied.

fn replicas_dir() -> PathBuf {
    root().join("deploy/kubernetes-replicas")
}

/// Applies a JSON patch (RFC 6902): `add` and `replace`, all the variant uses.
fn json_patch(doc: &mut Value, ops: &Value) {
    for op in seq(ops) {
        let path = s(&op["path"]).unwrap().trim_start_matches('/');
        let (parent, key) = path.rsplit_once('/').unwrap();
        let target = node(doc, parent);
        let value = op["value"].clone();
        match (s(&op["op"]).unwrap(), key.parse::<usize>()) {
            ("add", _) if key == "-" => target.as_sequence_mut().unwrap().push(value),
            ("add" | "replace", Ok(i)) => target.as_sequence_mut().unwrap()[i] = value,
            ("add" | "replace", Err(_)) => {
                target.as_mapping_mut().unwrap().insert(key.into(), value);
            }
            (other, _) => panic!("unsupported patch op {other}"),
        }
    }
}

/// What `kubectl apply -k deploy/kubernetes-replicas` applies: its resources (directories
/// are bases), minus what a `$patch: delete` patch deletes, with its JSON patches applied.
fn replicas_variant() -> Vec<Manifest> {
    let dir = replicas_dir();
    let k: Value =
        yaml_serde::from_str(&std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap())
            .unwrap();
    let mut ms = Vec::new();
    for r in seq(&k["resources"]).iter().filter_map(s) {
        let p = dir.join(r);
        ms.extend(if p.is_dir() {
            load_dir(&p)
        } else {
            load_file(&p)
        });
    }
    for patch in seq(&k["patches"]) {
        let text = std::fs::read_to_string(dir.join(s(&patch["path"]).unwrap())).unwrap();
        let body: Value = yaml_serde::from_str(&text).unwrap();
        if s(&body["$patch"]) == Some("delete") {
            ms.retain(|m| {
                !(kind(m) == kind_of(&body) && name(m) == s(&body["metadata"]["name"]).unwrap())
            });
            continue;
        }
        let target = &patch["target"];
        for m in ms.iter_mut() {
            if Some(kind(m)) == s(&target["kind"]) && Some(name(m)) == s(&target["name"]) {
                json_patch(&mut m.doc, &body);
            }
        }
    }
    ms
}

fn kind_of(doc: &Value) -> &str {
    s(&doc["kind"]).unwrap_or("")
}

/// The variant's own rules: several replicas, rolling updates, no volume, the database URL from
/// a Secret, distinct replica names, and a disruption budget.
fn replicas_violations(ms: &[Manifest]) -> Vec<String> {
    let m = match the_server(ms) {
        Ok(m) => m,
        Err(e) => return vec![e],
    };
    let (pod, c) = server_container(m).unwrap();
    let at = what(m);
    let mut v = Vec::new();
    let replicas = m.doc["spec"]["replicas"].as_u64().unwrap_or(1);
    if replicas < 2 {
        v.push(format!(
            "{at}: replicas is {replicas}; this variant runs several"
        ));
    }
    if s(&m.doc["spec"]["strategy"]["type"]) == Some("Recreate") {
        v.push(format!(
            "{at}: the Recreate strategy stops every replica at once; use RollingUpdate"
        ));
    }
    for pvc in ms.iter().filter(|x| kind(x) == "PersistentVolumeClaim") {
        v.push(format!(
            "{}: the replicas share no disk, so no PersistentVolumeClaim",
            what(pvc)
        ));
    }
    for vol in seq(&pod["volumes"]) {
        if present(&vol["persistentVolumeClaim"]) {
            v.push(format!(
                "{at}: volume {:?} is a PersistentVolumeClaim; the replicas share no disk",
                s(&vol["name"]).unwrap_or("?")
            ));
        }
    }
    match env_var(c, "PLANGUARD_DATABASE") {
        Some(e) if e["valueFrom"]["secretKeyRef"].is_mapping() => {}
        _ => v.push(format!(
            "{at}: PLANGUARD_DATABASE must come from a secretKeyRef (the URL holds a password)"
        )),
    }
    match env_var(c, "PLANGUARD_REPLICA") {
        Some(e) if s(&e["valueFrom"]["fieldRef"]["fieldPath"]) == Some("metadata.name") => {}
        _ => v.push(format!(
            "{at}: PLANGUARD_REPLICA must be the pod's name (fieldRef metadata.name), so the replicas' names differ"
        )),
    }
    let labels = &m.doc["spec"]["template"]["metadata"]["labels"];
    let budget = ms.iter().find(|p| {
        kind(p) == "PodDisruptionBudget"
            && p.doc["spec"]["selector"]["matchLabels"]
                .as_mapping()
                .is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, val)| &labels[k] == val))
    });
    match budget {
        None => v.push(format!("{at}: no PodDisruptionBudget selects its pods")),
        Some(p) => {
            let min = p.doc["spec"]["minAvailable"].as_u64();
            if !min.is_some_and(|n| n >= 1 && n < replicas) {
                v.push(format!(
                    "{}: minAvailable must be between 1 and {} (replicas - 1), not {min:?}",
                    what(p),
                    replicas - 1
                ));
            }
        }
    }
    v
}

#[test]
fn the_replicas_variant_follows_the_cluster_rules() {
    let ms = replicas_variant();
    assert!(ms.iter().any(|m| kind(m) == "PodDisruptionBudget"));
    assert_none("deploy/kubernetes-replicas", workload_violations(&ms));
    assert_none("deploy/kubernetes-replicas", config_violations(&ms));
}

#[test]
fn the_replicas_variant_shares_only_the_database() {
    assert_none(
        "deploy/kubernetes-replicas",
        replicas_violations(&replicas_variant()),
    );
    // Every file is used: a resource, a patch, the kustomization or an example.
    let k = std::fs::read_to_string(replicas_dir().join("kustomization.yaml")).unwrap();
    for f in yaml_files(&replicas_dir()) {
        let f = file_name(&f);
        assert!(
            f == "kustomization.yaml" || f.contains(".example.") || k.contains(&f),
            "deploy/kubernetes-replicas/{f} is not used by kustomization.yaml"
        );
    }
}

#[test]
fn a_replicas_variant_with_a_volume_one_replica_or_a_literal_url_is_caught() {
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut ms = replicas_variant();
        f(&mut ms.iter_mut().find(|m| kind(m) == "Deployment").unwrap().doc);
        replicas_violations(&ms)
    };
    assert_caught(
        edit(&|d| *node(d, "spec/replicas") = 1u64.into()),
        &["Deployment/planguard", "replicas is 1"],
    );
    assert_caught(
        edit(&|d| *node(d, "spec/strategy/type") = "Recreate".into()),
        &["Recreate strategy stops every replica"],
    );
    assert_caught(
        edit(&|d| {
            *node(d, "spec/template/spec/volumes/0") =
                yaml_serde::from_str("{name: data, persistentVolumeClaim: {claimName: x}}").unwrap()
        }),
        &["volume \"data\" is a PersistentVolumeClaim"],
    );
    assert_caught(
        edit(&|d| {
            let env = node(d, &format!("{SERVER}/env"));
            for e in env.as_sequence_mut().unwrap() {
                if s(&e["name"]) == Some("PLANGUARD_DATABASE") {
                    *e = yaml_serde::from_str(
                        "{name: PLANGUARD_DATABASE, value: 'postgres://u:p@h/d'}",
                    )
                    .unwrap();
                }
            }
        }),
        &["PLANGUARD_DATABASE must come from a secretKeyRef"],
    );
    let mut ms = replicas_variant();
    ms.retain(|m| kind(m) != "PodDisruptionBudget");
    assert_caught(replicas_violations(&ms), &["no PodDisruptionBudget"]);
    let mut ms = replicas_variant();
    ms.extend(load_file(&root().join("deploy/kubernetes/pvc.yaml")));
    assert_caught(replicas_violations(&ms), &["no PersistentVolumeClaim"]);
}
