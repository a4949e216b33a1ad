//! Policy metadata, read from OPA-style `# METADATA` comment blocks.
//!
//! regorus has no `rego.metadata`, so planguard reads the annotation block itself. The format is
//! OPA's own (a YAML document in comments directly above `package`), which keeps the library's
//! files valid for `opa` and `conftest` too. planguard's fields live under `custom:`:
//!
//! ```rego
//! # METADATA
//! # title: EBS volumes are encrypted at rest
//! # description: An unencrypted volume stores data and snapshots in clear.
//! # custom:
//! #   id: aws-ebs-encryption
//! #   level: error
//! #   resource_types: [aws_ebs_volume]
//! #   remediation: Set `encrypted = true`.
//! #   checkov: [CKV_AWS_3]
//! package planguard.encryption.ebs_encryption
//! ```

use serde::{Deserialize, Serialize};

use super::Level;

/// How a policy may be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Each finding depends on one resource change of `resource_types`, plus the
    /// `context_types` resources and the provider configuration: the engine may evaluate the
    /// policy on slices of the plan that hold only those resources.
    #[default]
    Resource,
    /// The policy reads only configuration blocks of `resource_types`, the provider
    /// configuration and `variables`: it is evaluated once, on an input holding just those.
    /// With no `resource_types` it reads the provider configuration alone, and always runs.
    Configuration,
    /// The policy needs the whole plan (or the parts of `input` it names).
    Plan,
}

/// The catalogue entry of one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyMeta {
    pub id: String,
    pub title: String,
    pub level: Level,
    pub description: String,
    pub remediation: String,
    pub scope: Scope,
    pub resource_types: Vec<String>,
    pub context_types: Vec<String>,
    pub checkov: Vec<String>,
    pub trivy: Vec<String>,
}

/// OPA's annotation fields; the ones planguard does not use are accepted for compatibility.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Annotation {
    title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    related_resources: Option<yaml_serde::Value>,
    #[serde(default)]
    authors: Option<yaml_serde::Value>,
    #[serde(default)]
    organizations: Option<yaml_serde::Value>,
    #[serde(default)]
    schemas: Option<yaml_serde::Value>,
    #[serde(default)]
    entrypoint: Option<bool>,
    custom: Option<Custom>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Custom {
    id: String,
    level: Level,
    #[serde(default)]
    scope: Scope,
    #[serde(default)]
    resource_types: Vec<String>,
    #[serde(default)]
    context_types: Vec<String>,
    remediation: String,
    #[serde(default)]
    checkov: Vec<String>,
    #[serde(default)]
    trivy: Vec<String>,
}

/// Reads the package-level `# METADATA` block of a policy file.
///
/// Returns `Ok(None)` when the file has no block (a plain conftest policy) or when the block
/// carries no planguard `custom.id`; an error names the line of a malformed block.
pub fn parse(source: &str) -> Result<Option<PolicyMeta>, String> {
    let lines: Vec<&str> = source.lines().collect();
    let Some(pkg) = lines
        .iter()
        .position(|l| l.trim_start().starts_with("package "))
    else {
        return Ok(None);
    };
    // The block is the run of comment lines directly above `package`, starting at `# METADATA`.
    let mut start = pkg;
    while start > 0 && lines[start - 1].trim_start().starts_with('#') {
        start -= 1;
    }
    let Some(offset) = lines[start..pkg]
        .iter()
        .position(|l| l.trim() == "# METADATA")
    else {
        return Ok(None);
    };
    let first = start + offset + 1;
    let yaml: String = lines[first..pkg]
        .iter()
        .map(|l| {
            let l = l.trim_start().trim_start_matches('#');
            l.strip_prefix(' ').unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let annotation: Annotation = yaml_serde::from_str(&yaml)
        .map_err(|e| format!("line {}: invalid METADATA block: {e}", first + 1))?;
    let Some(custom) = annotation.custom else {
        return Ok(None);
    };
    let missing = |what: &str| {
        format!(
            "line {}: METADATA for {} has no {what}",
            first + 1,
            custom.id
        )
    };
    let title = annotation.title.ok_or_else(|| missing("title"))?;
    let description = annotation
        .description
        .ok_or_else(|| missing("description"))?;
    if custom.scope == Scope::Resource && custom.resource_types.is_empty() {
        return Err(format!(
            "line {}: METADATA for {} has scope `resource` but no resource_types",
            first + 1,
            custom.id
        ));
    }
    Ok(Some(PolicyMeta {
        id: custom.id,
        title,
        level: custom.level,
        description: description.trim().to_owned(),
        remediation: custom.remediation.trim().to_owned(),
        scope: custom.scope,
        resource_types: custom.resource_types,
        context_types: custom.context_types,
        checkov: custom.checkov,
        trivy: custom.trivy,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_block_above_package() {
        let src = "# a file comment\n\n# METADATA\n# title: T\n# description: |\n#   Long\n#   text\n# custom:\n#   id: x-y\n#   level: warning\n#   resource_types: [aws_a, aws_b]\n#   remediation: Do it.\n#   checkov: [CKV_AWS_1]\npackage p\n";
        let meta = parse(src).unwrap().unwrap();
        assert_eq!(meta.id, "x-y");
        assert_eq!(meta.level, Level::Warning);
        assert_eq!(meta.description, "Long\ntext");
        assert_eq!(meta.resource_types, ["aws_a", "aws_b"]);
        assert_eq!(meta.checkov, ["CKV_AWS_1"]);
        assert_eq!(meta.scope, Scope::Resource);
    }

    #[test]
    fn plain_policies_have_none_and_bad_blocks_name_the_line() {
        assert_eq!(
            parse("package main\ndeny contains \"x\" if { true }\n").unwrap(),
            None
        );
        let err = parse("# METADATA\n# title: [\npackage p\n").unwrap_err();
        assert!(err.starts_with("line 2: invalid METADATA block"), "{err}");
        let err = parse("# METADATA\n# title: t\n# description: d\n# custom:\n#   id: a\n#   level: error\n#   remediation: r\npackage p\n").unwrap_err();
        assert!(err.contains("no resource_types"), "{err}");
    }
}
