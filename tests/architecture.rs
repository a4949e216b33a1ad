//! The layout is the architecture: the check half never reaches into the serve half, and the
//! modules' dependencies (their `crate::` paths) form no cycle.
//!
//! Read from the source itself, so a new `use` that breaks the design fails here, with the
//! cycle or the offending file named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module -> the modules its non-test code names through `crate::...` paths.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/serve/worker/plan.rs` -> `serve::worker`; `src/policy/eval.rs` -> `policy`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<&str> = rel.iter().map(|p| p.to_str().unwrap()).collect();
    match parts.as_slice() {
        ["serve", "mod"] => "serve".into(),
        ["serve", m, ..] => format!("serve::{m}"),
        [m, ..] => (*m).into(),
        [] => unreachable!(),
    }
}

/// The module named by each `crate::a::b` path, without comments and `#[cfg(test)]` code.
fn named_modules(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    for line in code.lines().map(|l| l.split("//").next().unwrap_or("")) {
        for (i, _) in line.match_indices("crate::") {
            let rest = &line[i + "crate::".len()..];
            let ident = |s: &str| -> String {
                s.chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect()
            };
            let first = ident(rest);
            let module = match rest.strip_prefix("serve::") {
                Some(inner) if !ident(inner).is_empty() => format!("serve::{}", ident(inner)),
                _ => first,
            };
            if !module.is_empty() {
                out.insert(module);
            }
        }
    }
    out
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut g = Graph::new();
    for file in files {
        let module = module_of(&src, &file);
        let names = named_modules(&std::fs::read_to_string(&file).unwrap());
        let edges = g.entry(module.clone()).or_default();
        edges.extend(names.into_iter().filter(|n| *n != module));
    }
    g
}

/// A cycle through `start`, if there is one (depth-first, iterative).
fn cycle_from(g: &Graph, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in g.get(&node).into_iter().flatten() {
            if next == start {
                return Some([path.clone(), vec![start.to_owned()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    assert!(
        g.contains_key("serve::worker") && g.contains_key("policy"),
        "{g:?}"
    );
    for module in g.keys() {
        if let Some(cycle) = cycle_from(&g, module) {
            panic!("dependency cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_check_half_never_uses_the_serve_half() {
    let g = graph();
    for (module, uses) in &g {
        if module == "cli" || module.starts_with("serve") {
            continue;
        }
        let serve: Vec<_> = uses.iter().filter(|u| u.starts_with("serve")).collect();
        assert!(serve.is_empty(), "{module} (check half) uses {serve:?}");
    }
}

#[test]
fn the_http_edge_is_used_by_nothing_inside() {
    let g = graph();
    for (module, uses) in &g {
        if module != "serve" && module != "serve::http" {
            assert!(
                !uses.contains("serve::http"),
                "{module} depends on serve::http"
            );
        }
    }
}
