//! SARIF 2.1.0 for GitHub code scanning.
//!
//! One rule per policy that produced a result (with title, description, remediation as help,
//! and a default level), one result per finding located at the plan file, with the resource
//! address as a logical location and a stable fingerprint so alerts track across runs.
//! Policy errors are reported as tool execution notifications.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::catalogue;
use crate::check::Report;
use crate::policy::Level;

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
    }
}

/// FNV-1a, for stable fingerprints without a crypto dependency.
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn uri(name: &str) -> String {
    name.trim_start_matches("./").replace('\\', "/")
}

pub fn sarif(report: &Report) -> String {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for (_, f) in report.findings() {
        rules.entry(&f.policy_id).or_insert_with(|| match report.policies.get(&f.policy_id) {
            Some(m) => json!({
                "id": m.id,
                "name": m.id.split('-').map(|w| { let mut c = w.chars(); c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default() }).collect::<String>(),
                "shortDescription": {"text": m.title},
                "fullDescription": {"text": m.description},
                "help": {
                    "text": format!("{}\n\nRemediation: {}", m.description, m.remediation),
                    "markdown": format!("{}\n\n**Remediation:** {}", m.description, m.remediation),
                },
                "helpUri": catalogue::anchor(&m.id),
                "defaultConfiguration": {"level": level(m.level)},
                "properties": {"tags": ["terraform", "security"], "precision": "high"},
            }),
            None => json!({
                "id": f.policy_id,
                "shortDescription": {"text": format!("Rego policy {}", f.policy_id)},
                "help": {"text": format!("Defined in {}", f.file)},
                "defaultConfiguration": {"level": level(f.level)},
            }),
        });
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let results: Vec<Value> = report
        .findings()
        .map(|(plan, f)| {
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": {"uri": uri(&plan.name)},
                    "region": {"startLine": 1},
                },
            });
            if let Some(a) = &f.address {
                location["logicalLocations"] = json!([{"name": a, "fullyQualifiedName": a, "kind": "resource"}]);
            }
            json!({
                "ruleId": f.policy_id,
                "ruleIndex": index[f.policy_id.as_str()],
                "level": level(f.level),
                "message": {"text": f.message},
                "locations": [location],
                "partialFingerprints": {
                    "planguard/v1": fingerprint(&[&f.policy_id, &f.rule, f.address.as_deref().unwrap_or(""), &f.message]),
                },
            })
        })
        .collect();
    let notifications: Vec<Value> = report
        .plans
        .iter()
        .flat_map(|p| {
            let failures = p.evaluation.failures.iter().map(|f| {
                json!({
                    "level": "error",
                    "message": {"text": format!("policy {} could not be evaluated: {}", f.policy_id, f.message)},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&f.file)}, "region": {"startLine": f.line.max(1)}}}],
                })
            });
            let unreadable = p.error.iter().map(|e| json!({"level": "error", "message": {"text": e}}));
            failures.chain(unreadable).collect::<Vec<_>>()
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "planguard",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": catalogue::DOCS_URL,
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("sarif serialises");
    s.push('\n');
    s
}
