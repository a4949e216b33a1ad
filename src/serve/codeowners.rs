//! CODEOWNERS, with GitHub's semantics: gitignore-style patterns, the last matching line wins,
//! and a matching line without owners leaves the path unowned.
//!
//! Patterns: a leading `/` anchors at the repository root; a pattern with a `/` elsewhere than
//! at its end is also anchored; otherwise it matches at any depth. A trailing `/` matches a
//! directory and everything below it; `dir/*` matches the files directly in `dir`; `*` does
//! not cross `/` and `**` does. A pattern naming a directory (without a trailing `/`) also
//! owns what is below it.
//!
//! The file is read from the trusted branch by the caller; this module only parses and matches.

use globset::{GlobBuilder, GlobMatcher};

/// One rule: the compiled pattern and its owners (without `@`).
#[derive(Debug, Clone)]
struct Rule {
    matchers: Vec<GlobMatcher>,
    owners: Vec<String>,
}

/// A parsed CODEOWNERS file.
#[derive(Debug, Clone, Default)]
pub struct CodeOwners {
    rules: Vec<Rule>,
}

impl CodeOwners {
    /// Parses the file's text; lines that do not compile are skipped (GitHub ignores them too).
    pub fn parse(text: &str) -> CodeOwners {
        let rules = text
            .lines()
            .map(|l| l.split(" #").next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut parts = l.split_whitespace();
                let pattern = parts.next()?;
                let owners = parts
                    .map(|o| o.trim_start_matches('@').to_owned())
                    .collect();
                Some(Rule {
                    matchers: globs(pattern)?,
                    owners,
                })
            })
            .collect();
        CodeOwners { rules }
    }

    /// The owners of a repository-relative path (a file or a directory): the last rule that
    /// matches wins; empty when no rule matches or the winning rule names no one.
    pub fn owners_of(&self, path: &str) -> &[String] {
        let path = path.trim_start_matches("./").trim_matches('/');
        self.rules
            .iter()
            .rev()
            .find(|r| r.matchers.iter().any(|m| m.is_match(path)))
            .map_or(&[], |r| r.owners.as_slice())
    }

    /// The owner groups of a stack: one for its directory and one for each changed file, each
    /// a list from which one approval is needed (unowned paths need none).
    pub fn groups<'a>(
        &self,
        dir: &'a str,
        changed: impl IntoIterator<Item = &'a str>,
    ) -> Vec<Vec<String>> {
        let mut groups: Vec<Vec<String>> = Vec::new();
        for path in std::iter::once(dir).chain(changed) {
            let owners = self.owners_of(path);
            if !owners.is_empty() && !groups.iter().any(|g| g.as_slice() == owners) {
                groups.push(owners.to_vec());
            }
        }
        groups
    }
}

/// The globs one CODEOWNERS pattern stands for.
fn globs(pattern: &str) -> Option<Vec<GlobMatcher>> {
    let anchored = pattern.starts_with('/') || pattern.trim_end_matches('/').contains('/');
    let body = pattern.trim_start_matches('/');
    let dir_only = body.ends_with('/');
    let body = body.trim_end_matches('/');
    let base = if body.is_empty() {
        "**".to_owned()
    } else if anchored {
        body.to_owned()
    } else {
        format!("{{{body},**/{body}}}")
    };
    let mut out = Vec::new();
    if !dir_only {
        out.push(base.clone());
    }
    // What a matching directory holds.
    if !base.ends_with("/*") {
        out.push(format!("{base}/**"));
    }
    if dir_only {
        // `dir/` also names the directory itself (a stack's dir is matched as a path).
        out.push(base);
    }
    out.iter()
        .map(|g| {
            GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# comment
*                   @everyone
/stacks/network/    @acme/netops @nina
*.md                @docs
stacks/prod         @prod-owner
docs/*              @writer
/stacks/unowned/
";

    #[test]
    fn the_last_matching_rule_wins() {
        let c = CodeOwners::parse(FILE);
        assert_eq!(c.owners_of("stacks/network"), ["acme/netops", "nina"]);
        assert_eq!(
            c.owners_of("stacks/network/main.tf"),
            ["acme/netops", "nina"]
        );
        assert_eq!(c.owners_of("stacks/network/README.md"), ["docs"]);
        assert_eq!(c.owners_of("stacks/data/main.tf"), ["everyone"]);
        assert_eq!(c.owners_of("stacks/prod/main.tf"), ["prod-owner"]);
        assert_eq!(c.owners_of("stacks/prod"), ["prod-owner"]);
        // `docs/*` is the files directly in docs, not deeper ones.
        assert_eq!(c.owners_of("docs/a.txt"), ["writer"]);
        assert_eq!(c.owners_of("docs/deep/a.txt"), ["everyone"]);
        // A rule with no owners leaves the path unowned.
        assert!(c.owners_of("stacks/unowned/main.tf").is_empty());
        assert!(CodeOwners::default().owners_of("x").is_empty());
    }

    #[test]
    fn unanchored_names_match_at_any_depth() {
        let c = CodeOwners::parse("secrets @sec\n/top.tf @top\n");
        assert_eq!(c.owners_of("a/b/secrets/x.tf"), ["sec"]);
        assert_eq!(c.owners_of("secrets"), ["sec"]);
        assert_eq!(c.owners_of("top.tf"), ["top"]);
        assert!(c.owners_of("a/top.tf").is_empty());
    }

    #[test]
    fn a_stack_needs_the_owners_of_its_dir_and_of_every_changed_file() {
        let c = CodeOwners::parse(FILE);
        let groups = c.groups(
            "stacks/data",
            [
                "stacks/data/main.tf",
                "stacks/prod/main.tf",
                "stacks/unowned/x",
            ],
        );
        assert_eq!(
            groups,
            vec![vec!["everyone".to_owned()], vec!["prod-owner".to_owned()]]
        );
    }
}
