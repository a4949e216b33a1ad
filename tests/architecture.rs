//! The layout is the architecture: the check half never reaches into the serve half, and the
//! modules' dependencies (their `crate::` paths) form no cycle.
//!
//! Read from the source itself, so a new `use` that breaks the design fails here, with the
//! cycle or the offending file named. The same reading holds functions to about 100 lines
//! unless a `// Long on purpose: ...` line above one says why.

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

/// Whether a line opens a function: `fn`, after any of `pub`, `pub(...)`, `const`, `async`,
/// `unsafe`.
fn opens_fn(line: &str) -> bool {
    let mut rest = line.trim_start();
    loop {
        if rest.starts_with("fn ") {
            return true;
        }
        let word_end = if rest.starts_with("pub(") {
            rest.find(')').map(|i| i + 1)
        } else {
            ["pub ", "const ", "async ", "unsafe "]
                .iter()
                .find(|w| rest.starts_with(*w))
                .map(|w| w.len())
        };
        match word_end {
            Some(n) => rest = rest[n..].trim_start(),
            None => return false,
        }
    }
}

/// The change in brace depth over a line of code, skipping string and char literals and `//`
/// comments (enough to measure functions; `in_string` carries a string across lines).
fn brace_delta(line: &str, in_string: &mut bool) -> (i32, bool) {
    let (mut delta, mut opened) = (0, false);
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if *in_string {
            match c {
                b'\\' => i += 1,
                b'"' => *in_string = false,
                _ => {}
            }
        } else {
            match c {
                b'/' if bytes.get(i + 1) == Some(&b'/') => break,
                b'"' => *in_string = true,
                b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
                b'\'' if bytes.get(i + 1) == Some(&b'\\') => {
                    let tail = bytes.get(i + 2..).unwrap_or_default();
                    i += tail.iter().position(|&b| b == b'\'').unwrap_or(0) + 2
                }
                b'{' => {
                    delta += 1;
                    opened = true;
                }
                b'}' => delta -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    (delta, opened)
}

/// The functions in `text` longer than `max` lines: (first line, length).
fn long_functions(text: &str, max: usize) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        if !opens_fn(line) {
            continue;
        }
        let (mut depth, mut started, mut in_string) = (0, false, false);
        for (end, l) in lines.iter().enumerate().skip(start) {
            if !started && l.contains(';') && !l.contains('{') {
                break;
            }
            let (delta, opened) = brace_delta(l, &mut in_string);
            depth += delta;
            started |= opened;
            if started && depth <= 0 {
                if end - start + 1 > max {
                    out.push((start + 1, end - start + 1));
                }
                break;
            }
        }
    }
    out
}

#[test]
fn no_function_is_over_a_hundred_lines_without_a_reason() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut unexplained = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (line, length) in long_functions(&text, 100) {
            let explained = lines[..line - 1]
                .iter()
                .rev()
                .map(|l| l.trim_start())
                .take_while(|l| l.starts_with("//") || l.starts_with("#["))
                .any(|l| l.starts_with("// Long on purpose:"));
            if !explained {
                unexplained.push(format!(
                    "{}:{line}: {length} lines",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "split these into named steps, or say why not in a `// Long on purpose: ...` line \
         above them:\n{}",
        unexplained.join("\n")
    );
}

#[test]
fn the_long_function_finder_measures_functions() {
    let text = "fn short() {\n    let s = \"{\";\n}\n\npub(crate) async fn long() {\n".to_owned()
        + &"    x();\n".repeat(5)
        + "}\ntrait T {\n    fn declared(&self);\n}\n";
    assert_eq!(long_functions(&text, 3), vec![(5, 7)]);
    assert!(opens_fn("    pub(super) async fn f("));
    assert!(!opens_fn("    // fn f("));
}
