//! Enforcement levels: how much a failing policy holds up an apply.
//!
//! Owns the three levels (Sentinel's and Atlantis's vocabulary), the rules that assign them to
//! policies, and the one decision the rest of the server asks of this module: [`level_for`] a
//! finding, given the server's rules and the repository's.
//!
//! - `advisory`: reported, never blocks.
//! - `soft-mandatory`: blocks until a policy owner approves the finding (the default).
//! - `hard-mandatory`: blocks; nobody can approve it away.
//!
//! The server's rules come from its TOML config; a repository's from `planguard.yaml`. A
//! repository may make a policy stricter than the server does, never laxer, so whoever runs
//! the server keeps the last word. What a level means for a PR (comments, check runs, the
//! apply gate) is the worker's business, not this module's.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use globset::Glob;
use serde::{Deserialize, Serialize};

use crate::policy::Level;

/// How the policy loader names embedded files ([`crate::policy::BUILTIN_PREFIX`]). Folder
/// patterns are matched below it, so `encryption/` names the built-in `encryption` folder.
const BUILTIN_PREFIX: &str = crate::policy::BUILTIN_PREFIX;

/// How strongly a failing policy blocks an apply. Ordered from laxest to strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnforcementLevel {
    Advisory,
    SoftMandatory,
    HardMandatory,
}

impl EnforcementLevel {
    /// The level of a finding that no rule mentions.
    pub const DEFAULT: EnforcementLevel = EnforcementLevel::SoftMandatory;

    /// The name used in configuration and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            EnforcementLevel::Advisory => "advisory",
            EnforcementLevel::SoftMandatory => "soft-mandatory",
            EnforcementLevel::HardMandatory => "hard-mandatory",
        }
    }
}

/// Whether a finding holds an apply back: the one rule the gate, the PR comment and the check
/// annotations all use. Only error findings count; an advisory one never blocks, a
/// soft-mandatory one blocks until someone allowed to approves it, a hard-mandatory one always.
pub fn blocks(finding: Level, level: EnforcementLevel, approved: bool) -> bool {
    finding == Level::Error
        && match level {
            EnforcementLevel::Advisory => false,
            EnforcementLevel::SoftMandatory => !approved,
            EnforcementLevel::HardMandatory => true,
        }
}

/// The level recorded for a policy when its stack was planned, or [`EnforcementLevel::DEFAULT`].
pub fn level_of(levels: &BTreeMap<String, EnforcementLevel>, policy_id: &str) -> EnforcementLevel {
    levels
        .get(policy_id)
        .copied()
        .unwrap_or(EnforcementLevel::DEFAULT)
}

impl fmt::Display for EnforcementLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// "These policies get this level." A pattern is a policy id (`aws-s3-encryption`), a glob over
/// ids (`aws-s3-*`), or a folder of policy files when it ends with `/` (`encryption/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnforcementRule {
    pub policies: Vec<String>,
    pub level: EnforcementLevel,
}

impl EnforcementRule {
    /// Whether any of this rule's patterns names the finding's policy. `policy_file` is the
    /// file's path below its policy root, as [`below_root`] gives it.
    pub fn matches(&self, policy_id: &str, policy_file: &str) -> bool {
        self.policies
            .iter()
            .any(|p| pattern_matches(p, policy_id, policy_file))
    }
}

/// Where a policy file is for folder patterns: its path below the root it was loaded from.
/// That is the built-in library (`builtin:policies/encryption/ebs_encryption.rego` gives
/// `encryption/ebs_encryption.rego`) or the configured policy path (`[policies] paths`) that holds it,
/// the deepest one when they nest (`/srv/org/security/policies/aws/x.rego` below
/// `/srv/org/security/policies` gives `aws/x.rego`, so a rule `security/` does not match it).
/// A policy path that is a file gives the file's name. Folders above the root never count.
///
/// A relative path under no root is taken as it is (relative to a root already); an absolute
/// one under no root gives `None`, and folder patterns do not match it.
pub fn below_root(policy_file: &str, roots: &[PathBuf]) -> Option<String> {
    if let Some(rest) = policy_file.strip_prefix(BUILTIN_PREFIX) {
        return Some(rest.to_owned());
    }
    let file = Path::new(policy_file);
    let best = roots
        .iter()
        .filter_map(|root| file.strip_prefix(root).ok())
        .min_by_key(|rest| rest.components().count());
    match best {
        Some(rest) if rest.as_os_str().is_empty() => {
            file.file_name().map(|n| n.to_string_lossy().into_owned())
        }
        Some(rest) => Some(rest.to_string_lossy().into_owned()),
        None if file.is_absolute() => None,
        None => Some(policy_file.to_owned()),
    }
}

/// The level of a finding from `policy_id`, defined in `policy_file` (as the policy loader
/// reports it: `builtin:policies/encryption/ebs_encryption.rego` or the user's path), loaded from one of
/// `roots` (the server's `[policies] paths`); folder patterns see the file's path below its
/// root ([`below_root`]).
///
/// The first server rule that matches gives the server's level ([`EnforcementLevel::DEFAULT`]
/// when none does); the first repository rule that matches gives the repository's. The result
/// is the stricter of the two: a repository can raise a level, never lower it.
pub fn level_for(
    policy_id: &str,
    policy_file: &str,
    roots: &[PathBuf],
    server: &[EnforcementRule],
    repo: &[EnforcementRule],
) -> EnforcementLevel {
    // A file under no root matches no folder pattern: "" is below no folder.
    let file = below_root(policy_file, roots).unwrap_or_default();
    let first = |rules: &[EnforcementRule]| {
        rules
            .iter()
            .find(|r| r.matches(policy_id, &file))
            .map(|r| r.level)
    };
    let server_level = first(server).unwrap_or(EnforcementLevel::DEFAULT);
    match first(repo) {
        Some(repo_level) => server_level.max(repo_level),
        None => server_level,
    }
}

/// Problems with a list of rules, each as (path below the list, message), for example
/// `("[1].policies[0]", "...")`. The config loaders prefix the list's own key.
pub fn validate(rules: &[EnforcementRule]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if rule.policies.is_empty() {
            problems.push((
                format!("[{i}].policies"),
                "is empty, so the rule never applies; list policy ids, globs such as \
                 \"aws-s3-*\", or folders such as \"encryption/\""
                    .to_owned(),
            ));
        }
        for (j, pattern) in rule.policies.iter().enumerate() {
            if let Some(message) = pattern_problem(pattern) {
                problems.push((format!("[{i}].policies[{j}]"), message));
            }
        }
    }
    problems
}

fn pattern_problem(pattern: &str) -> Option<String> {
    if pattern.trim().is_empty() {
        return Some("is empty; write a policy id, a glob or a folder ending in '/'".to_owned());
    }
    if let Some(folder) = pattern.strip_suffix('/') {
        if folder.is_empty() || folder.starts_with('/') || folder.split('/').any(str::is_empty) {
            return Some(format!(
                "{pattern:?} is not a folder pattern; write a relative folder such as \
                 \"encryption/\" or \"policies/aws/\""
            ));
        }
        if folder.contains(['*', '?', '[', '{']) {
            return Some(format!(
                "{pattern:?}: folder patterns are matched literally, without wildcards; \
                 name the folder, or use a glob over policy ids instead"
            ));
        }
        return None;
    }
    match Glob::new(pattern) {
        Ok(_) => None,
        Err(e) => Some(format!(
            "{pattern:?} is not a valid glob ({}); write an id such as \"aws-s3-encryption\" \
             or a glob such as \"aws-s3-*\"",
            e.kind()
        )),
    }
}

fn pattern_matches(pattern: &str, policy_id: &str, policy_file: &str) -> bool {
    if pattern.ends_with('/') {
        return folder_matches(pattern, policy_file);
    }
    if !pattern.contains(['*', '?', '[', '{']) {
        return pattern == policy_id;
    }
    // Invalid globs are reported when the configuration loads; here they just never match.
    Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(policy_id))
        .unwrap_or(false)
}

/// `encryption/` matches files directly or indirectly under a folder named `encryption` below
/// the policy root: `encryption/x.rego`, `policies/encryption/x.rego` (the path given is
/// already relative to the root, see [`below_root`]).
fn folder_matches(folder: &str, policy_file: &str) -> bool {
    let file = policy_file.replace('\\', "/");
    let file = file.strip_prefix("./").unwrap_or(&file);
    file.starts_with(folder) || file.contains(&format!("/{folder}"))
}

#[cfg(test)]
mod tests {
    use super::EnforcementLevel::*;
    use super::*;

    #[test]
    fn the_one_blocking_rule() {
        #[rustfmt::skip]
        let cases = [
            // finding,       level,         approved, blocks
            (Level::Error,   Advisory,      false,    false),
            (Level::Error,   SoftMandatory, false,    true),
            (Level::Error,   SoftMandatory, true,     false),
            (Level::Error,   HardMandatory, true,     true),
            (Level::Warning, HardMandatory, false,    false),
        ];
        for (finding, level, approved, want) in cases {
            assert_eq!(
                blocks(finding, level, approved),
                want,
                "{finding:?} {level} {approved}"
            );
        }
        let levels = BTreeMap::from([("a".to_owned(), HardMandatory)]);
        assert_eq!(level_of(&levels, "a"), HardMandatory);
        assert_eq!(level_of(&levels, "unlisted"), EnforcementLevel::DEFAULT);
    }

    fn rule(policies: &[&str], level: EnforcementLevel) -> EnforcementRule {
        EnforcementRule {
            policies: policies.iter().map(|p| p.to_string()).collect(),
            level,
        }
    }

    const S3_FILE: &str = "builtin:policies/encryption/s3_bucket_encryption.rego";

    #[test]
    fn levels_are_ordered_named_and_parsed_in_kebab_case() {
        assert!(Advisory < SoftMandatory && SoftMandatory < HardMandatory);
        assert_eq!(HardMandatory.to_string(), "hard-mandatory");
        let parsed: Vec<EnforcementLevel> =
            yaml_serde::from_str("[advisory, soft-mandatory, hard-mandatory]").unwrap();
        assert_eq!(parsed, vec![Advisory, SoftMandatory, HardMandatory]);
        assert!(yaml_serde::from_str::<EnforcementLevel>("mandatory").is_err());
    }

    #[test]
    fn a_finding_no_rule_mentions_is_soft_mandatory() {
        assert_eq!(
            level_for("aws-s3-encryption", S3_FILE, &[], &[], &[]),
            SoftMandatory
        );
        let server = [rule(&["tagging-*"], Advisory)];
        assert_eq!(
            level_for("aws-s3-encryption", S3_FILE, &[], &server, &[]),
            SoftMandatory
        );
    }

    #[test]
    fn patterns_match_exact_ids_globs_and_folders() {
        let s3 = below_root(S3_FILE, &[]).unwrap();
        let id = |p: &str| rule(&[p], HardMandatory).matches("aws-s3-encryption", &s3);
        assert!(id("aws-s3-encryption"));
        assert!(id("aws-s3-*"));
        assert!(id("aws-s3-encrypt?on"));
        assert!(id("encryption/"));
        assert!(!id("aws-s3"), "an exact id is not a prefix");
        assert!(!id("aws-ec2-*"));
        assert!(!id("tagging/"));
        assert!(!id("cryption/"), "folders match whole path components");

        let user = |file: &str| rule(&["encryption/"], Advisory).matches("my.rule", file);
        assert!(user("encryption/buckets.rego"));
        assert!(user("policies/encryption/buckets.rego"));
        assert!(user("./encryption/buckets.rego"));
        assert!(!user("policies/tagging/encryption.rego"));
    }

    #[test]
    fn folder_patterns_see_only_the_path_below_the_policy_root() {
        let roots = [PathBuf::from("/srv/org/security/policies")];
        let file = "/srv/org/security/policies/aws/buckets.rego";
        assert_eq!(
            below_root(file, &roots).as_deref(),
            Some("aws/buckets.rego")
        );
        let level =
            |pattern: &str| level_for("my.rule", file, &roots, &[rule(&[pattern], Advisory)], &[]);
        assert_eq!(level("security/"), SoftMandatory, "a folder above the root");
        assert_eq!(level("policies/"), SoftMandatory, "the root itself");
        assert_eq!(level("org/"), SoftMandatory);
        assert_eq!(level("aws/"), Advisory, "a folder below the root");

        // Nested roots: the deepest one counts; a root that is a file gives its name.
        let nested = [
            PathBuf::from("/srv/org"),
            PathBuf::from("/srv/org/security/policies/"),
            PathBuf::from("/etc/one.rego"),
        ];
        assert_eq!(
            below_root(file, &nested).as_deref(),
            Some("aws/buckets.rego")
        );
        assert_eq!(
            below_root("/etc/one.rego", &nested).as_deref(),
            Some("one.rego")
        );
        // Component-wise: `/srv/orgs` is not below `/srv/org`.
        assert_eq!(below_root("/srv/orgs/security/x.rego", &nested), None);
        assert_eq!(
            level_for(
                "x",
                "/srv/orgs/security/x.rego",
                &nested,
                &[rule(&["security/"], Advisory)],
                &[]
            ),
            SoftMandatory,
            "a file under no root matches no folder"
        );
        // Relative roots, as configured, and built-ins.
        let rel = [PathBuf::from("./policies")];
        assert_eq!(
            below_root("./policies/encryption/x.rego", &rel).as_deref(),
            Some("encryption/x.rego")
        );
        assert_eq!(
            below_root("builtin:policies/encryption/ebs_encryption.rego", &rel).as_deref(),
            Some("encryption/ebs_encryption.rego")
        );
    }

    #[test]
    fn the_first_matching_server_rule_wins() {
        let server = [
            rule(&["aws-s3-public-*"], HardMandatory),
            rule(&["aws-s3-*"], Advisory),
        ];
        assert_eq!(
            level_for("aws-s3-public-acl", S3_FILE, &[], &server, &[]),
            HardMandatory
        );
        assert_eq!(
            level_for("aws-s3-versioning", S3_FILE, &[], &server, &[]),
            Advisory
        );
    }

    #[test]
    fn a_repository_can_raise_a_level() {
        let server = [rule(&["tagging/"], Advisory)];
        let repo = [rule(&["required-tags"], HardMandatory)];
        let file = "builtin:policies/tagging/tags_required.rego";
        assert_eq!(
            level_for("required-tags", file, &[], &server, &repo),
            HardMandatory
        );
    }

    #[test]
    fn a_repository_cannot_lower_the_servers_level() {
        let server = [rule(&["aws-s3-*"], HardMandatory)];
        let repo = [rule(&["aws-s3-*"], Advisory)];
        assert_eq!(
            level_for("aws-s3-encryption", S3_FILE, &[], &server, &repo),
            HardMandatory
        );
        // Nor the default: a repository rule saying "advisory" leaves soft-mandatory in force.
        assert_eq!(
            level_for("aws-s3-encryption", S3_FILE, &[], &[], &repo),
            SoftMandatory
        );
    }

    #[test]
    fn only_the_first_matching_repository_rule_counts() {
        let repo = [
            rule(&["aws-*"], SoftMandatory),
            rule(&["aws-s3-*"], HardMandatory),
        ];
        assert_eq!(
            level_for("aws-s3-encryption", S3_FILE, &[], &[], &repo),
            SoftMandatory
        );
    }

    #[test]
    fn invalid_rules_are_reported_with_their_position() {
        let rules = [
            rule(&["aws-s3-*"], Advisory),
            rule(&[], Advisory),
            rule(&["ok", "aws-[s3", "", "/abs/", "enc*/"], Advisory),
        ];
        let problems = validate(&rules);
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "[1].policies",
                "[2].policies[1]",
                "[2].policies[2]",
                "[2].policies[3]",
                "[2].policies[4]"
            ]
        );
        assert!(
            problems[1].1.contains("not a valid glob"),
            "{}",
            problems[1].1
        );
    }
}
