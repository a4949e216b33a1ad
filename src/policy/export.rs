//! `planguard policies export DIR`: the built-in library as plain Rego that OPA and conftest run
//! unchanged.
//!
//! Inside planguard the library's helpers call `planguard.*` builtins (src/policy/native.rs).
//! An export writes every library file, its Rego unit tests included, and in place of the
//! builtins their specification in plain Rego (`planguard.rego`, package `planguard`, from
//! src/policy/pure.rego); each file that calls a builtin gets `import data.planguard`, so the
//! same call resolves to the Rego function. Nothing else of a file changes. The schema of the
//! library's settings (`options.schema.json`) is written beside them.

use std::path::{Path, PathBuf};

use super::load::builtin_sources;
use super::BUILTIN_PREFIX;

/// The pure-Rego `planguard.*` functions (package `planguard`).
pub const PURE_REGO: &str = include_str!("pure.rego");

/// The name of the file holding [`PURE_REGO`] in an export.
pub const PURE_FILE: &str = "planguard.rego";

/// Writes the library into `dir` (created if needed). Returns the files written, relative to
/// `dir`, in order.
pub fn export(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut write = |rel: &str, text: &str| -> std::io::Result<()> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        written.push(PathBuf::from(rel));
        Ok(())
    };
    write(PURE_FILE, PURE_REGO)?;
    write(super::options::SCHEMA_FILE, super::options::SCHEMA)?;
    for source in builtin_sources(true) {
        let rel = source
            .file
            .strip_prefix(BUILTIN_PREFIX)
            .unwrap_or(&source.file)
            .to_owned();
        write(&rel, &portable(&source.text))?;
    }
    Ok(written)
}

/// A library file with `import data.planguard` after its `package` line when it calls a
/// `planguard.*` function.
pub fn portable(text: &str) -> String {
    if !calls_builtins(text) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 32);
    let mut done = false;
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        if !done && line.trim_start().starts_with("package ") {
            out.push_str("\nimport data.planguard\n");
            done = true;
        }
    }
    out
}

fn calls_builtins(text: &str) -> bool {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .any(|l| {
            l.match_indices("planguard.").any(|(i, _)| {
                let before = l[..i].chars().next_back();
                let after = &l[i + "planguard.".len()..];
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                    && after
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .is_some_and(|name| super::native::is_builtin(&format!("planguard.{name}")))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_that_call_a_builtin_import_the_rego() {
        let calls = "package planguard.lib\n\nimport rego.v1\n\nafter(rc) := planguard.after(rc)\n";
        assert_eq!(
            portable(calls),
            "package planguard.lib\n\nimport data.planguard\n\nimport rego.v1\n\nafter(rc) := planguard.after(rc)\n"
        );
        let reads_data =
            "package x\n\n# planguard.after(rc) in a comment\ny := data.planguard.config.k\n";
        assert_eq!(portable(reads_data), reads_data);
    }
}
