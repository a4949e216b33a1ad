// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

use crate::{Engine, InvalidRuleRootError, LimitError, PolicyLengthConfig, Source, Value};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::string::ToString as _;
use alloc::sync::Arc;
use anyhow::Result;
use core::num::{NonZeroU32, NonZeroUsize};
use core::sync::atomic::{AtomicUsize, Ordering};

fn is_invalid_root(error: &anyhow::Error) -> bool {
    error.downcast_ref::<InvalidRuleRootError>().is_some()
}

fn make_policy_length_config(
    max_col: u32,
    max_file_bytes: usize,
    max_lines: usize,
) -> Result<PolicyLengthConfig> {
    Ok(PolicyLengthConfig {
        max_col: NonZeroU32::new(max_col)
            .ok_or_else(|| anyhow::anyhow!("max_col must be non-zero"))?,
        max_file_bytes: NonZeroUsize::new(max_file_bytes)
            .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
        max_lines: NonZeroUsize::new(max_lines)
            .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
    })
}

#[test]
fn has_declared_rule_rooted_at_checks_authored_heads_in_the_exact_module() -> Result<()> {
    let declarations = [
        (
            "conditional.rego",
            "package customer\nmetadata if { false }",
        ),
        ("complete.rego", "package customer\nmetadata := false"),
        (
            "descendant.rego",
            "package customer\nmetadata.parameters.child := null",
        ),
        (
            "default.rego",
            "package customer\ndefault metadata.parameters = false",
        ),
        (
            "default_child.rego",
            "package customer\ndefault metadata.parameters.child = null",
        ),
        (
            "function.rego",
            "package customer\nmetadata.lookup(value) := value",
        ),
        ("set.rego", "package customer\nmetadata contains \"item\""),
        (
            "other_descendant.rego",
            "package customer\nmetadata.other := true",
        ),
    ];

    let mut engine = Engine::new();
    for (path, policy) in declarations {
        engine.add_policy(path.to_string(), policy.to_string())?;
        anyhow::ensure!(
            engine.has_declared_rule_rooted_at(path, "metadata")?,
            "expected metadata declaration in {path}"
        );
    }

    engine.add_policy(
        "lookalike.rego".to_string(),
        "package customer\nmetadataExtra := true".to_string(),
    )?;
    anyhow::ensure!(
        !engine.has_declared_rule_rooted_at("lookalike.rego", "metadata")?,
        "metadata must not match the metadataExtra root"
    );
    anyhow::ensure!(
        !engine.has_declared_rule_rooted_at("lookalike.rego", "meta")?,
        "matching must use exact root components"
    );

    for path in [
        "conditional.rego",
        "complete.rego",
        "descendant.rego",
        "default.rego",
        "default_child.rego",
        "function.rego",
        "set.rego",
        "other_descendant.rego",
    ] {
        anyhow::ensure!(
            !engine.has_declared_rule_rooted_at(path, "params")?,
            "metadata declarations must not count as params in {path}"
        );
    }

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_accepts_exact_dotted_prefixes() -> Result<()> {
    let declarations = [
        (
            "exact.rego",
            "package customer\nmetadata.parameters := false",
            "metadata.parameters",
            true,
        ),
        (
            "descendant.rego",
            "package customer\nmetadata.parameters.child := false",
            "metadata.parameters",
            true,
        ),
        (
            "default.rego",
            "package customer\ndefault metadata.parameters = false",
            "metadata.parameters",
            true,
        ),
        (
            "function.rego",
            "package customer\nmetadata.parameters.lookup(value) := value",
            "metadata.parameters",
            true,
        ),
        (
            "set.rego",
            "package customer\nmetadata.parameters contains \"item\"",
            "metadata.parameters",
            true,
        ),
        (
            "sibling.rego",
            "package customer\nmetadata.other := true",
            "metadata.parameters",
            false,
        ),
        (
            "lookalike.rego",
            "package customer\nmetadata.parametersX := true",
            "metadata.parameters",
            false,
        ),
        (
            "shorter.rego",
            "package customer\nmetadata := true",
            "metadata.parameters",
            false,
        ),
        (
            "body_key.rego",
            "package customer\nmetadata := {\"parameters\": true}",
            "metadata.parameters",
            false,
        ),
        (
            "escaped_string_key.rego",
            r#"package customer
metadata["param\u0065ters"] := true"#,
            "metadata.parameters",
            true,
        ),
        (
            "quoted_dotted_key.rego",
            r#"package customer
metadata["parameters.child"] := true"#,
            "metadata.parameters.child",
            false,
        ),
        (
            "boolean_key.rego",
            "package customer\nmetadata[true] := true",
            "metadata.true",
            false,
        ),
        (
            "null_key.rego",
            "package customer\nmetadata[null] := true",
            "metadata.null",
            false,
        ),
        (
            "number_key.rego",
            "package customer\nmetadata[1] := true",
            "metadata.parameters",
            false,
        ),
        (
            "keyword_field.rego",
            "package customer\nmetadata.if := true",
            "metadata.if",
            true,
        ),
        (
            "boolean_word_field.rego",
            "package customer\nmetadata.true := true",
            "metadata.true",
            true,
        ),
    ];

    let mut engine = Engine::new();
    for (path, policy, _, _) in declarations {
        engine.add_policy(path.to_string(), policy.to_string())?;
    }
    for (path, _, selector, expected) in declarations {
        anyhow::ensure!(
            engine.has_declared_rule_rooted_at(path, selector)? == expected,
            "unexpected dotted-prefix result for {path}"
        );
    }

    engine.add_policy(
        "other_module.rego".to_string(),
        "package customer\nmetadata.parameters.child := true".to_string(),
    )?;
    engine.add_policy(
        "selected_module.rego".to_string(),
        "package customer\nallow := true".to_string(),
    )?;
    anyhow::ensure!(
        !engine.has_declared_rule_rooted_at("selected_module.rego", "metadata.parameters")?,
        "declarations from another module in the same package must not match"
    );

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_preserves_params_behavior_and_excludes_references() -> Result<()> {
    let params_declarations = [
        ("conditional.rego", "package customer\nparams if { false }"),
        ("complete.rego", "package customer\nparams := false"),
        (
            "descendant.rego",
            "package customer\nparams.child.nested := null",
        ),
        ("default.rego", "package customer\ndefault params = false"),
        (
            "default_child.rego",
            "package customer\ndefault params.child = null",
        ),
        (
            "function.rego",
            "package customer\nparams.lookup(value) := value",
        ),
        ("set.rego", "package customer\nparams contains \"item\""),
    ];

    let mut engine = Engine::new();
    for (path, policy) in params_declarations {
        engine.add_policy(path.to_string(), policy.to_string())?;
        anyhow::ensure!(
            engine.has_declared_rule_rooted_at(path, "params")?,
            "expected params declaration in {path}"
        );
        anyhow::ensure!(
            !engine.has_declared_rule_rooted_at(path, "metadata")?,
            "expected no metadata declaration in {path}"
        );
    }

    engine.add_policy(
        "references.rego".to_string(),
        r#"package customer
           import data.shared as metadata
           # metadata.comment := true
           note := "metadata.parameters"
           config := {"metadata": true}
           use := metadata.value
        "#
        .to_string(),
    )?;
    anyhow::ensure!(
        !engine.has_declared_rule_rooted_at("references.rego", "metadata")?,
        "imports, references, comments, strings and object keys are not declarations"
    );

    engine.add_policy(
        "same_package.rego".to_string(),
        "package customer\nmetadata.child := true".to_string(),
    )?;
    anyhow::ensure!(
        !engine.has_declared_rule_rooted_at("references.rego", "metadata")?,
        "same-package rules must not change another module's result"
    );
    anyhow::ensure!(
        engine.has_declared_rule_rooted_at("same_package.rego", "metadata")?,
        "expected the selected same_package.rego declaration"
    );

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_validates_native_root_grammar_after_source_selection() -> Result<()>
{
    let mut engine = Engine::new();
    engine.add_policy(
        "unique.rego".to_string(),
        "package customer\nmetadata := true".to_string(),
    )?;

    for invalid_root in [
        "",
        " ",
        "\tmetadata",
        "metadata ",
        "metadata # trailing comment",
        ".metadata",
        "metadata.",
        "metadata..parameters",
        "metadata .parameters",
        "metadata. parameters",
        "metadata[\"parameters\"]",
        "metadata; other()",
        "metadata := true",
        "true",
        "if",
        "input",
        "data",
    ] {
        let error = engine
            .has_declared_rule_rooted_at("unique.rego", invalid_root)
            .err()
            .ok_or_else(|| anyhow::anyhow!("invalid root selector must fail"))?;
        anyhow::ensure!(
            is_invalid_root(&error),
            "expected InvalidRuleRootError for {invalid_root:?}, got {error:#}"
        );
    }

    for native_identifier in ["contains", "_", "__target__"] {
        anyhow::ensure!(
            !engine.has_declared_rule_rooted_at("unique.rego", native_identifier)?,
            "expected {native_identifier} to follow native rule-reference grammar"
        );
    }

    let missing_source = engine
        .has_declared_rule_rooted_at("missing.rego", "metadata..parameters")
        .err()
        .ok_or_else(|| anyhow::anyhow!("missing source must fail before selector validation"))?;
    anyhow::ensure!(
        !is_invalid_root(&missing_source),
        "missing source must retain source-selection error precedence"
    );

    engine.add_policy(
        "duplicate.rego".to_string(),
        "package customer\nx := true".to_string(),
    )?;
    engine.add_policy(
        "duplicate.rego".to_string(),
        "package customer\nmetadata := true".to_string(),
    )?;
    let duplicate_source = engine
        .has_declared_rule_rooted_at("duplicate.rego", "metadata..parameters")
        .err()
        .ok_or_else(|| anyhow::anyhow!("duplicate source must fail before selector validation"))?;
    anyhow::ensure!(
        !is_invalid_root(&duplicate_source),
        "duplicate source must retain source-selection error precedence"
    );

    anyhow::ensure!(
        Engine::new()
            .add_policy("malformed.rego".to_string(), "package".to_string())
            .is_err(),
        "malformed policy must fail to load"
    );

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_checks_every_head_even_after_a_match() -> Result<()> {
    for (path, policy) in [
        (
            "unclassifiable_before.rego",
            "package customer\nbroken[lookup()] := true\nmetadata := true",
        ),
        (
            "unclassifiable_after.rego",
            "package customer\nmetadata := true\nbroken[lookup()] := true",
        ),
    ] {
        let mut engine = Engine::new();
        engine.add_policy(path.to_string(), policy.to_string())?;
        let error = engine
            .has_declared_rule_rooted_at(path, "metadata")
            .err()
            .ok_or_else(|| {
                anyhow::anyhow!("unclassifiable heads must fail even when another head matches")
            })?;
        anyhow::ensure!(
            !is_invalid_root(&error),
            "head-classification failure must not be classified as an invalid selector"
        );
    }

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_classifies_unresolved_bracket_components() -> Result<()> {
    let mut engine = Engine::new();
    engine.add_policy(
        "dynamic.rego".to_string(),
        "package customer\nmetadata[key] := true".to_string(),
    )?;
    anyhow::ensure!(
        engine.has_declared_rule_rooted_at("dynamic.rego", "metadata")?,
        "a bare root remains decidable before an unresolved bracket component"
    );
    let dynamic_error = engine
        .has_declared_rule_rooted_at("dynamic.rego", "metadata.parameters")
        .err()
        .ok_or_else(|| {
            anyhow::anyhow!("an unresolved bracket component must not be treated as a field")
        })?;
    anyhow::ensure!(
        !is_invalid_root(&dynamic_error),
        "a dynamic head component is a classification error, not a selector error"
    );

    engine.add_policy(
        "dynamic_after_mismatch.rego".to_string(),
        "package customer\nmetadata.other[key] := true".to_string(),
    )?;
    anyhow::ensure!(
        !engine
            .has_declared_rule_rooted_at("dynamic_after_mismatch.rego", "metadata.parameters")?,
        "a known sibling mismatch must be decided before a later dynamic component"
    );

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_checks_unclassifiable_heads_after_dotted_matches() -> Result<()> {
    for (path, policy) in [
        (
            "dotted_unclassifiable_before.rego",
            "package customer\nbroken[lookup()] := true\nmetadata.parameters := true",
        ),
        (
            "dotted_unclassifiable_after.rego",
            "package customer\nmetadata.parameters := true\nbroken[lookup()] := true",
        ),
    ] {
        let mut engine = Engine::new();
        engine.add_policy(path.to_string(), policy.to_string())?;
        let error = engine
            .has_declared_rule_rooted_at(path, "metadata.parameters")
            .err()
            .ok_or_else(|| {
                anyhow::anyhow!("all rule heads must be classified around a dotted match")
            })?;
        anyhow::ensure!(
            !is_invalid_root(&error),
            "head-classification failure must not be classified as an invalid selector"
        );
    }

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_uses_immutable_load_time_parser_context() -> Result<()> {
    let mut engine = Engine::new();
    engine.set_rego_v0(true);
    engine.add_policy(
        "v0.rego".to_string(),
        "package customer\nif := true".to_string(),
    )?;
    engine.add_policy(
        "v0_dotted.rego".to_string(),
        "package customer\nif.child := true".to_string(),
    )?;
    engine.set_rego_v0(false);

    anyhow::ensure!(
        engine.has_declared_rule_rooted_at("v0.rego", "if")?,
        "a later Rego mode change must not alter the loaded module's grammar"
    );
    anyhow::ensure!(
        engine.has_declared_rule_rooted_at("v0_dotted.rego", "if.child")?,
        "dotted parsing must use the module's captured v0 rule-root grammar"
    );

    let clone = engine.clone();
    anyhow::ensure!(
        clone.has_declared_rule_rooted_at("v0.rego", "if")?,
        "cloned engines must share the immutable parser context"
    );
    anyhow::ensure!(
        clone.has_declared_rule_rooted_at("v0_dotted.rego", "if.child")?,
        "cloned engines must preserve dotted selector parsing context"
    );

    engine.set_policy_length_config(PolicyLengthConfig {
        max_col: NonZeroU32::new(1).ok_or_else(|| anyhow::anyhow!("max_col must be non-zero"))?,
        max_file_bytes: NonZeroUsize::new(1)
            .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
        max_lines: NonZeroUsize::new(1)
            .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
    });
    anyhow::ensure!(
        engine.has_declared_rule_rooted_at("v0.rego", "if")?,
        "later policy length limits must not replace the load-time limits"
    );

    let mut imported = Engine::new();
    imported.set_rego_v0(true);
    imported.add_policy(
        "v0_future_keyword.rego".to_string(),
        "package customer\nimport future.keywords.if\nallow := true".to_string(),
    )?;
    imported.set_rego_v0(false);
    let error = imported
        .has_declared_rule_rooted_at("v0_future_keyword.rego", "if")
        .err()
        .ok_or_else(|| anyhow::anyhow!("an imported future keyword is not a valid root"))?;
    anyhow::ensure!(
        is_invalid_root(&error),
        "future-keyword membership must be captured independently of Module.rego_v1"
    );

    let mut imported_every = Engine::new();
    imported_every.set_rego_v0(true);
    imported_every.add_policy(
        "v0_every.rego".to_string(),
        "package customer\nimport future.keywords.every\nallow := true".to_string(),
    )?;
    let imported_every_error = imported_every
        .has_declared_rule_rooted_at("v0_every.rego", "in")
        .err()
        .ok_or_else(|| anyhow::anyhow!("importing every also makes in a future keyword"))?;
    anyhow::ensure!(
        is_invalid_root(&imported_every_error),
        "imported in must be disallowed"
    );

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_enforces_captured_policy_file_size_limit() -> Result<()> {
    const MAX_FILE_BYTES: usize = 32;

    let mut engine = Engine::new();
    engine.set_policy_length_config(PolicyLengthConfig {
        max_col: NonZeroU32::new(64).ok_or_else(|| anyhow::anyhow!("max_col must be non-zero"))?,
        max_file_bytes: NonZeroUsize::new(MAX_FILE_BYTES)
            .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
        max_lines: NonZeroUsize::new(4)
            .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
    });
    engine.add_policy(
        "limits.rego".to_string(),
        "package customer\nx := true".to_string(),
    )?;

    engine.set_policy_length_config(PolicyLengthConfig {
        max_col: NonZeroU32::new(1).ok_or_else(|| anyhow::anyhow!("max_col must be non-zero"))?,
        max_file_bytes: NonZeroUsize::new(1)
            .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
        max_lines: NonZeroUsize::new(1)
            .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
    });

    let below_limit = "a".repeat(31);
    anyhow::ensure!(
        !engine.has_declared_rule_rooted_at("limits.rego", &below_limit)?,
        "a selector one byte below the captured file-size limit should be accepted"
    );

    let at_limit = "a".repeat(MAX_FILE_BYTES);
    anyhow::ensure!(
        !engine.has_declared_rule_rooted_at("limits.rego", &at_limit)?,
        "a selector exactly at the captured file-size limit should be accepted"
    );

    let above_limit = "a".repeat(33);
    let too_many_lines = "a\nb\nc\nd\ne";
    let source_errors = [
        (
            "file-size",
            above_limit.as_str(),
            Source::from_contents_with_limits(
                "<rule-root>".to_string(),
                above_limit.clone(),
                NonZeroUsize::new(MAX_FILE_BYTES)
                    .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
                NonZeroUsize::new(4)
                    .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
            )
            .err()
            .ok_or_else(|| anyhow::anyhow!("selector source should exceed the file-size limit"))?,
        ),
        (
            "line-count",
            too_many_lines,
            Source::from_contents_with_limits(
                "<rule-root>".to_string(),
                too_many_lines.to_string(),
                NonZeroUsize::new(MAX_FILE_BYTES)
                    .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
                NonZeroUsize::new(4)
                    .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
            )
            .err()
            .ok_or_else(|| anyhow::anyhow!("selector source should exceed the line-count limit"))?,
        ),
    ];
    for (limit, selector, expected_error) in source_errors {
        let error = engine
            .has_declared_rule_rooted_at("limits.rego", selector)
            .err()
            .ok_or_else(|| {
                anyhow::anyhow!("a selector source over its captured limits must fail")
            })?;
        anyhow::ensure!(
            !is_invalid_root(&error) && error.downcast_ref::<LimitError>().is_none(),
            "{limit} source-construction failures must retain the operation-error category: {error:#}"
        );
        anyhow::ensure!(
            error.to_string() == expected_error.to_string(),
            "{limit} source-construction error changed: expected {expected_error:#}, got {error:#}"
        );
    }

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_enforces_captured_column_boundary() -> Result<()> {
    let mut engine = Engine::new();
    engine.set_policy_length_config(PolicyLengthConfig {
        max_col: NonZeroU32::new(32).ok_or_else(|| anyhow::anyhow!("max_col must be non-zero"))?,
        max_file_bytes: NonZeroUsize::new(2048)
            .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
        max_lines: NonZeroUsize::new(4)
            .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
    });
    engine.add_policy(
        "columns.rego".to_string(),
        "package customer\nx := true".to_string(),
    )?;

    engine.set_policy_length_config(PolicyLengthConfig {
        max_col: NonZeroU32::new(1).ok_or_else(|| anyhow::anyhow!("max_col must be non-zero"))?,
        max_file_bytes: NonZeroUsize::new(1)
            .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
        max_lines: NonZeroUsize::new(1)
            .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
    });

    for length in [30, 31] {
        let selector = "a".repeat(length);
        anyhow::ensure!(
            !engine.has_declared_rule_rooted_at("columns.rego", &selector)?,
            "an absent identifier ending at or before column 32 should be accepted"
        );
    }

    let selector = "a".repeat(32);
    let error = engine
        .has_declared_rule_rooted_at("columns.rego", &selector)
        .err()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "an identifier advancing from column 1 to column 33 must exceed max_col 32"
            )
        })?;
    anyhow::ensure!(
        is_invalid_root(&error),
        "column-width parse errors should retain invalid-selector mapping: {error:#}"
    );

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_initializes_lexer_with_captured_column_limit() -> Result<()> {
    let mut engine = Engine::new();
    engine.set_policy_length_config(PolicyLengthConfig {
        max_col: NonZeroU32::new(2048)
            .ok_or_else(|| anyhow::anyhow!("max_col must be non-zero"))?,
        max_file_bytes: NonZeroUsize::new(2048)
            .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
        max_lines: NonZeroUsize::new(4)
            .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
    });
    engine.add_policy(
        "wide_columns.rego".to_string(),
        "package customer\nx := true".to_string(),
    )?;

    engine.set_policy_length_config(PolicyLengthConfig {
        max_col: NonZeroU32::new(1).ok_or_else(|| anyhow::anyhow!("max_col must be non-zero"))?,
        max_file_bytes: NonZeroUsize::new(1)
            .ok_or_else(|| anyhow::anyhow!("max_file_bytes must be non-zero"))?,
        max_lines: NonZeroUsize::new(1)
            .ok_or_else(|| anyhow::anyhow!("max_lines must be non-zero"))?,
    });

    let selector = "a".repeat(1024);
    anyhow::ensure!(
        !engine.has_declared_rule_rooted_at("wide_columns.rego", &selector)?,
        "a 1024-character identifier should fit the captured 2048-column limit"
    );

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_preserves_target_effective_v1_without_future_keywords() -> Result<()>
{
    let mut engine = Engine::new();
    engine.set_rego_v0(true);
    engine.add_policy(
        "target_context.rego".to_string(),
        r#"package customer
__target__ := "target.tests.sample_test_target"
if.child := true"#
            .to_string(),
    )?;

    engine.set_rego_v0(false);
    engine.add_policy(
        "ordinary_v1.rego".to_string(),
        "package ordinary\nallow := true".to_string(),
    )?;

    anyhow::ensure!(
        engine.has_declared_rule_rooted_at("target_context.rego", "if.child")?,
        "the __target__ directive enables v1 root restrictions without importing future keywords"
    );
    for reserved_root in ["input", "data"] {
        let error = engine
            .has_declared_rule_rooted_at("target_context.rego", reserved_root)
            .err()
            .ok_or_else(|| {
                anyhow::anyhow!("target modules must retain v1 input/data shadow restrictions")
            })?;
        anyhow::ensure!(
            is_invalid_root(&error),
            "expected v1 root restriction for {reserved_root}, got {error:#}"
        );
    }

    let clone = engine.clone();
    anyhow::ensure!(
        clone.has_declared_rule_rooted_at("target_context.rego", "if.child")?,
        "clones must preserve the target module's actual future-keyword membership"
    );

    let ordinary_v1_error = engine
        .has_declared_rule_rooted_at("ordinary_v1.rego", "if")
        .err()
        .ok_or_else(|| anyhow::anyhow!("an ordinary v1 module imports if as a future keyword"))?;
    anyhow::ensure!(
        is_invalid_root(&ordinary_v1_error),
        "ordinary v1 parsing must continue to reject if as a root"
    );

    Ok(())
}

#[cfg(feature = "std")]
#[test]
fn has_declared_rule_rooted_at_captures_context_when_loading_from_file() -> Result<()> {
    struct TempPolicyFile(std::path::PathBuf);

    impl Drop for TempPolicyFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    let path = std::env::temp_dir().join(format!(
        "regorus-declared-rule-context-{}.rego",
        std::process::id()
    ));
    std::fs::write(&path, "package customer\nif := true")?;
    let _cleanup = TempPolicyFile(path.clone());
    let source_path = path.to_string_lossy().into_owned();

    let mut engine = Engine::new();
    engine.set_rego_v0(true);
    engine.add_policy_from_file(&path)?;
    engine.set_rego_v0(false);

    anyhow::ensure!(
        engine.has_declared_rule_rooted_at(&source_path, "if")?,
        "file-loaded modules must retain their effective load-time parser context"
    );

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_context_survives_compiled_policy_restoration() -> Result<()> {
    let mut engine = Engine::new();
    engine.set_rego_v0(true);
    engine.add_policy(
        "legacy.rego".to_string(),
        "package legacy\nif := true\nallow := true".to_string(),
    )?;
    engine.add_policy(
        "legacy_dotted.rego".to_string(),
        "package legacy_dotted\nif.child := true".to_string(),
    )?;
    engine.add_policy(
        "future.rego".to_string(),
        "package guarded\nimport future.keywords.if\nactive := true".to_string(),
    )?;

    let entrypoint = "data.legacy.allow".into();
    let compiled = engine.compile_with_entrypoint(&entrypoint)?;
    let mut restored = Engine::new_from_compiled_policy(compiled.inner.clone());

    anyhow::ensure!(
        restored.has_declared_rule_rooted_at("legacy.rego", "if")?,
        "compiled-policy restoration must preserve a v0 module's parser context"
    );
    anyhow::ensure!(
        restored.has_declared_rule_rooted_at("legacy_dotted.rego", "if.child")?,
        "compiled-policy restoration must preserve dotted v0 selector context"
    );
    let error = restored
        .has_declared_rule_rooted_at("future.rego", "if")
        .err()
        .ok_or_else(|| {
            anyhow::anyhow!("compiled-policy restoration must preserve imported keywords")
        })?;
    anyhow::ensure!(is_invalid_root(&error), "future keyword context was lost");

    let interpreter_result = restored.eval_rule("data.legacy.allow".to_string())?;
    let compiled_result = compiled.eval_with_input(Value::new_object())?;
    anyhow::ensure!(
        interpreter_result == Value::Bool(true) && compiled_result == interpreter_result,
        "compiled-policy context transfer must not change interpreter evaluation"
    );

    #[cfg(feature = "rvm")]
    {
        let entry_points = ["data.legacy.allow"];
        let program = crate::languages::rego::compiler::Compiler::compile_from_policy(
            &compiled,
            &entry_points,
        )?;
        let mut vm = crate::rvm::vm::RegoVM::new_with_policy(compiled.clone());
        vm.load_program(program);
        vm.set_data(Value::new_object())?;
        vm.set_input(Value::new_object());
        let rvm_result = vm.execute_entry_point_by_name("data.legacy.allow")?;
        anyhow::ensure!(
            rvm_result == interpreter_result,
            "compiled-policy context transfer must not change RVM evaluation"
        );
    }

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_does_not_evaluate_rule_bodies() -> Result<()> {
    let calls = Arc::new(AtomicUsize::new(0));
    let extension_calls = calls.clone();
    let mut engine = Engine::new();
    engine.add_extension(
        "count".to_string(),
        0,
        Box::new(move |_| {
            extension_calls.fetch_add(1, Ordering::SeqCst);
            Ok(Value::Bool(true))
        }),
    )?;
    engine.add_policy(
        "extension.rego".to_string(),
        "package customer\nmetadata.parameters := count()".to_string(),
    )?;

    anyhow::ensure!(
        engine.has_declared_rule_rooted_at("extension.rego", "metadata")?,
        "expected metadata declaration"
    );
    anyhow::ensure!(
        engine.has_declared_rule_rooted_at("extension.rego", "metadata.parameters")?,
        "expected the dotted metadata declaration without evaluating its body"
    );
    anyhow::ensure!(
        calls.load(Ordering::SeqCst) == 0,
        "declaration detection must not invoke extensions"
    );

    Ok(())
}

#[test]
fn an_extension_called_again_from_one_call_site_keeps_its_state() -> Result<()> {
    // The extension numbers its calls itself: each call from the same call site (whose
    // resolution the interpreter keeps) must reach the one stateful extension.
    let calls = Arc::new(AtomicUsize::new(0));
    let extension_calls = calls.clone();
    let mut own_count = 0_u64;
    let mut engine = Engine::new();
    engine.add_extension(
        "counter".to_string(),
        1,
        Box::new(move |args| {
            extension_calls.fetch_add(1, Ordering::SeqCst);
            own_count += 1;
            Ok(Value::from(alloc::vec![args[0].clone(), Value::from(own_count)]))
        }),
    )?;
    engine.add_policy(
        "test.rego".to_string(),
        r#"package test
        numbered := [counter(i) | some i in [10, 20, 30]]
        undefined_argument := [counter(input.missing) | some i in [10, 20]]
        wrong_arity if counter(1, 2, 3)
        "#
        .to_string(),
    )?;

    assert_eq!(
        engine.eval_rule("data.test.numbered".to_string())?,
        Value::from_json_str("[[10, 1], [20, 2], [30, 3]]")?
    );
    assert_eq!(
        engine.eval_rule("data.test.undefined_argument".to_string())?,
        Value::from_json_str("[]")?
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        engine.eval_rule("data.test.numbered".to_string())?,
        Value::from_json_str("[[10, 4], [20, 5], [30, 6]]")?
    );
    let error = engine
        .eval_rule("data.test.wrong_arity".to_string())
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("incorrect number of parameters supplied to extension"),
        "{error:#}"
    );
    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_handles_twenty_thousand_component_selector_and_reuse() -> Result<()>
{
    const COMPONENT_COUNT: usize = 20_000;

    let mut engine = Engine::new();
    engine.set_policy_length_config(make_policy_length_config(524_288, 524_288, 4)?);
    engine.add_policy(
        "shallow.rego".to_string(),
        "package customer\nmetadata := true".to_string(),
    )?;

    let mut selector = String::from("metadata");
    for index in 0..COMPONENT_COUNT {
        selector.push_str(&format!(".segment_{index:05}"));
    }
    anyhow::ensure!(
        !engine.has_declared_rule_rooted_at("shallow.rego", &selector)?,
        "a deep descendant selector must not match a shallow head"
    );

    let malformed_selector = format!("{selector}[\"invalid\"]");
    let malformed_error = engine
        .has_declared_rule_rooted_at("shallow.rego", &malformed_selector)
        .err()
        .ok_or_else(|| anyhow::anyhow!("bracketed selectors must remain invalid"))?;
    anyhow::ensure!(
        is_invalid_root(&malformed_error),
        "a malformed selector must retain invalid-root classification"
    );
    anyhow::ensure!(
        engine.has_declared_rule_rooted_at("shallow.rego", "metadata")?,
        "the engine must remain reusable after deep and malformed selectors"
    );

    Ok(())
}

#[test]
fn has_declared_rule_rooted_at_handles_32_component_heads_and_cloned_load_context() -> Result<()> {
    let mut full_head = String::from("metadata");
    for index in 0..31 {
        full_head.push_str(&format!(".segment_{index:02}"));
    }

    let mut engine = Engine::new();
    engine.set_policy_length_config(make_policy_length_config(2048, 4096, 4)?);
    engine.add_policy(
        "loaded_deep_head.rego".to_string(),
        format!("package customer\n{full_head} := true"),
    )?;
    engine.set_policy_length_config(make_policy_length_config(1, 1, 1)?);

    for (selector, expected) in [
        ("metadata", true),
        ("metadata.segment_00", true),
        ("metadata.segment_00.segment_01", true),
        ("metadata.segment_01.segment_00", false),
        ("metadata.segment_00.segment_02", false),
        (full_head.as_str(), true),
    ] {
        anyhow::ensure!(
            engine.has_declared_rule_rooted_at("loaded_deep_head.rego", selector)? == expected,
            "selector {selector} returned an unexpected declaration result"
        );
    }

    let clone = engine.clone();
    anyhow::ensure!(
        clone.has_declared_rule_rooted_at("loaded_deep_head.rego", &full_head)?,
        "a cloned engine must retain the module's load-time selector context"
    );

    Ok(())
}

#[test]
fn execution_time_limit_applies_to_compiling() -> Result<()> {
    // Analysis and loop hoisting grow with the product of a body's statements and its
    // comprehensions: a policy can make compiling slow, so the time limit covers it.
    let body: String = (0..200)
        .map(|i| format!("  c{i} := [y | some y in [1, 2, 3]; y > {i}]\n"))
        .collect();
    let mut engine = Engine::new();
    engine.add_policy(
        "limits.rego".to_string(),
        format!("package limits\nimport rego.v1\nr if {{\n{body}}}\n"),
    )?;
    engine.set_execution_timer_config(crate::utils::limits::ExecutionTimerConfig {
        limit: core::time::Duration::from_nanos(1),
        check_interval: NonZeroU32::new(1).expect("non-zero"),
    });
    let err = engine
        .eval_rule("data.limits.r".to_string())
        .expect_err("compiling exceeds a 1 ns limit")
        .to_string();
    assert!(
        err.contains("compiling: execution exceeded time limit"),
        "{err}"
    );
    assert!(err.contains("limits.rego:"), "{err}");
    Ok(())
}

#[test]
fn execution_time_limit_applies_inside_a_builtin_call() -> Result<()> {
    // A check interval the interpreter never reaches, so only the builtins read the clock:
    // each call below does at least `TICK_INTERVAL` units of work and must observe the
    // 1 ns limit itself (each ran for minutes on inputs a policy can build).
    let n = crate::utils::limits::TICK_INTERVAL as usize * 2;
    let xs: alloc::vec::Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let keys: serde_json::Map<String, serde_json::Value> =
        xs.iter().map(|x| (x.clone(), 1.into())).collect();
    let input = serde_json::json!({ "xs": xs, "s": "a".repeat(n), "obj": keys });
    let calls = [
        ("prefix", "strings.any_prefix_match(input.xs, [\"zz\"])"),
        ("suffix", "strings.any_suffix_match(input.xs, [\"zz\"])"),
        ("replace_n", "strings.replace_n({\"b\": \"c\"}, input.s)"),
        ("union_n", "object.union_n([input.obj, input.obj])"),
        ("subset", "object.subset(input.xs, input.xs)"),
        ("regex_replace", "regex.replace(input.s, \"a\", \"b\")"),
        ("find_n", "regex.find_n(\"a\", input.s, -1)"),
        ("walk", "[p | walk(input.xs, [p, _])]"),
    ];
    let mut policy = String::from("package limits\nimport rego.v1\nsmall := count(input.xs)\n");
    for (rule, call) in calls {
        policy.push_str(&format!("{rule} := {call}\nnot_{rule} if not {call}\n"));
    }
    let mut engine = Engine::new();
    engine.add_policy("limits.rego".to_string(), policy)?;
    engine.set_input(Value::from_json_str(&input.to_string())?);
    let limit = |limit| crate::utils::limits::ExecutionTimerConfig {
        limit,
        check_interval: NonZeroU32::new(u32::MAX).expect("non-zero"),
    };
    engine.set_execution_timer_config(limit(core::time::Duration::from_nanos(1)));
    assert_eq!(
        engine.eval_rule("data.limits.small".to_string())?,
        Value::from(n)
    );
    for (rule, _) in calls {
        for rule in [rule.to_string(), format!("not_{rule}")] {
            let err = engine
                .eval_rule(format!("data.limits.{rule}"))
                .expect_err(&rule)
                .to_string();
            assert!(
                err.contains("execution exceeded time limit"),
                "{rule}: {err}"
            );
        }
    }
    // Within the limit the calls complete.
    engine.set_execution_timer_config(limit(core::time::Duration::from_secs(3600)));
    assert_eq!(
        engine.eval_rule("data.limits.prefix".to_string())?,
        Value::from(false)
    );
    assert_eq!(
        engine.eval_rule("data.limits.subset".to_string())?,
        Value::from(true)
    );
    Ok(())
}

#[test]
#[cfg(feature = "std")]
fn execution_time_limit_applies_inside_a_comparison() -> Result<()> {
    // Two values of 2^40 elements, built apart by doubling: small in memory, but comparing them
    // visits every element (hours) inside one step. A comparison cannot return an error, so it
    // unwinds with the `LimitError` as the panic payload.
    let policy = "package limits\nimport rego.v1\ndouble(x) := [x, x]\n\
        d(x) := double(double(double(double(double(double(double(double(double(double(x))))))))))\n\
        huge if d(d(d(d([1])))) == d(d(d(d([1]))))\n\
        small if d([1]) == d([1])\n";
    let mut engine = Engine::new();
    engine.add_policy("limits.rego".to_string(), policy.to_string())?;
    engine.set_execution_timer_config(crate::utils::limits::ExecutionTimerConfig {
        limit: core::time::Duration::from_millis(200),
        check_interval: NonZeroU32::new(64).expect("non-zero"),
    });
    assert_eq!(
        engine.eval_rule("data.limits.small".to_string())?,
        Value::from(true)
    );
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.eval_rule("data.limits.huge".to_string())
    }))
    .expect_err("the comparison stops at the time limit");
    assert!(
        matches!(
            unwound.downcast_ref::<LimitError>(),
            Some(LimitError::TimeLimitExceeded { .. })
        ),
        "the payload is the time limit"
    );
    // The engine evaluates as before afterwards.
    assert_eq!(
        engine.eval_rule("data.limits.small".to_string())?,
        Value::from(true)
    );
    Ok(())
}

#[test]
fn execution_time_limit_applies_to_formatting_a_value() -> Result<()> {
    // A value of 2^40 elements built by doubling is small in memory, but `sprintf("%v")` and
    // `print` wrote out every element (the text growing towards terabytes) within one step.
    let policy = "package limits\nimport rego.v1\ndouble(x) := [x, x]\n\
        d(x) := double(double(double(double(double(double(double(double(double(double(x))))))))))\n\
        formatted := sprintf(\"%v\", [d(d(d(d([1]))))])\n\
        printed if print(d(d(d(d([1])))))\n\
        small := sprintf(\"%v\", [double([1])])\n";
    let mut engine = Engine::new();
    engine.add_policy("limits.rego".to_string(), policy.to_string())?;
    engine.set_execution_timer_config(crate::utils::limits::ExecutionTimerConfig {
        limit: core::time::Duration::from_millis(200),
        check_interval: NonZeroU32::new(64).expect("non-zero"),
    });
    for rule in ["data.limits.formatted", "data.limits.printed"] {
        let err = engine
            .eval_rule(rule.to_string())
            .expect_err("formatting stops at the time limit");
        assert!(
            err.chain().any(|e| matches!(
                e.downcast_ref::<LimitError>(),
                Some(LimitError::TimeLimitExceeded { .. })
            )),
            "{rule}: {err:#}"
        );
    }
    assert_eq!(
        engine.eval_rule("data.limits.small".to_string())?,
        Value::from("[[1], [1]]")
    );
    Ok(())
}

#[test]
fn engines_sharing_the_definitions_of_a_rule_together_give_its_value() -> Result<()> {
    // Five definitions over two files of one package; the third is defined in the second file.
    // Another rule reads a helper every definition uses.
    let first = "package main\nimport rego.v1\nnames := [\"a\", \"b\", \"c\", \"d\", \"e\"]\n\
        deny contains names[0]\ndeny contains names[1]\n\
        deny contains names[3] if input.on\ndeny contains names[4]\n";
    let second = "package main\nimport rego.v1\ndeny contains names[2]\nwarn contains \"w\"\n";
    let mut engine = Engine::new();
    engine.add_policy("first.rego".to_string(), first.to_string())?;
    engine.add_policy("second.rego".to_string(), second.to_string())?;
    engine.set_input(Value::from_json_str(r#"{"on": true}"#)?);
    let whole = engine.eval_rule("data.main.deny".to_string())?;
    assert_eq!(whole.as_set()?.len(), 5);

    let mut union = alloc::collections::BTreeSet::new();
    for part in 0..3 {
        let mut share = engine.clone();
        share.set_rule_definition_share(Some(("data.main.deny".to_string(), part, 3)));
        let value = share.eval_rule("data.main.deny".to_string())?;
        let items = value.as_set()?;
        // Each engine evaluates its own definitions only: 2, 2 and 1 of the 5.
        assert_eq!(items.len(), if part < 2 { 2 } else { 1 }, "part {part}");
        union.extend(items.iter().cloned());
        // Other rules are whole.
        assert_eq!(share.eval_rule("data.main.warn".to_string())?.as_set()?.len(), 1);
        // Without the share, the engine evaluates every definition again.
        share.set_rule_definition_share(None);
        assert_eq!(share.eval_rule("data.main.deny".to_string())?, whole);
    }
    assert_eq!(Value::from(union), whole);

    // A share outside the parts evaluates every definition.
    engine.set_rule_definition_share(Some(("data.main.deny".to_string(), 3, 3)));
    assert_eq!(engine.eval_rule("data.main.deny".to_string())?, whole);
    Ok(())
}

#[test]
fn a_query_is_made_once_for_an_engine_and_its_clones_until_the_policies_change() -> Result<()> {
    let mut engine = Engine::new();
    engine.add_policy(
        "a.rego".to_string(),
        "package a\nimport rego.v1\nx := input.n + 1\n".to_string(),
    )?;
    // A loop, so that the query has hoisted loops of its own.
    let query = "[v | some v in [data.a.x, 10]; v > 1]".to_string();
    let answer = |engine: &mut Engine| -> Result<Value> {
        let results = engine.eval_query(query.clone(), false)?;
        Ok(results.result[0].expressions[0].value.clone())
    };
    engine.set_input(Value::from_json_str(r#"{"n": 1}"#)?);
    assert_eq!(answer(&mut engine)?, Value::from_json_str("[2, 10]")?);
    // Clones evaluate the same query on their own inputs.
    for n in 2..5 {
        let mut clone = engine.clone();
        clone.set_input(Value::from_json_str(&format!(r#"{{"n": {n}}}"#))?);
        assert_eq!(answer(&mut clone)?, Value::from_json_str(&format!("[{}, 10]", n + 1))?);
    }
    // Another query on the same engine is its own.
    let other = engine.eval_query("[data.a.x, 3]".to_string(), false)?;
    assert_eq!(
        other.result[0].expressions[0].value,
        Value::from_json_str("[2, 3]")?
    );
    // A new module takes the index the query's own module had: the query is made again.
    engine.add_policy(
        "b.rego".to_string(),
        "package b\nimport rego.v1\ny := [v | some v in input.more]\n".to_string(),
    )?;
    engine.set_input(Value::from_json_str(r#"{"n": 5, "more": [1, 2]}"#)?);
    assert_eq!(answer(&mut engine)?, Value::from_json_str("[6, 10]")?);
    let both = engine.eval_query("[data.a.x, data.b.y]".to_string(), false)?;
    assert_eq!(
        both.result[0].expressions[0].value,
        Value::from_json_str("[6, [1, 2]]")?
    );
    Ok(())
}

#[test]
fn rules_with_several_part_references_are_found_by_clones_and_after_policies_change() -> Result<()> {
    let mut engine = Engine::new();
    engine.add_policy(
        "p.rego".to_string(),
        "package p\nimport rego.v1\na.b.c := input.n\n".to_string(),
    )?;
    let value = |engine: &mut Engine, query: &str| -> Result<Value> {
        let results = engine.eval_query(query.to_string(), false)?;
        Ok(results.result[0].expressions[0].value.clone())
    };
    engine.set_input(Value::from_json_str(r#"{"n": 1}"#)?);
    assert_eq!(value(&mut engine, "data.p.a")?, Value::from_json_str(r#"{"b": {"c": 1}}"#)?);
    let mut clone = engine.clone();
    clone.set_input(Value::from_json_str(r#"{"n": 2}"#)?);
    assert_eq!(value(&mut clone, "data.p.a")?, Value::from_json_str(r#"{"b": {"c": 2}}"#)?);
    assert_eq!(value(&mut clone, "[k | some k, _ in data.p]")?, Value::from_json_str(r#"["a"]"#)?);
    engine.add_policy(
        "q.rego".to_string(),
        "package q\nimport rego.v1\nx.y := 2\nz.w := 1 if input.never\n".to_string(),
    )?;
    assert_eq!(value(&mut engine, "data.q.x")?, Value::from_json_str(r#"{"y": 2}"#)?);
    // With its only rule undefined, `z` is the empty object made for the rule's prefix.
    assert_eq!(value(&mut engine, "data.q.z")?, Value::from_json_str("{}")?);
    assert_eq!(
        value(&mut engine, "[k | some k, _ in data.q]")?,
        Value::from_json_str(r#"["x", "z"]"#)?
    );
    Ok(())
}

#[test]
fn an_engine_asked_ever_new_queries_keeps_answering_them() -> Result<()> {
    // More distinct queries than the engine keeps made: each is still made and answered.
    let mut engine = Engine::new();
    for n in 0..300 {
        let results = engine.eval_query(format!("[v | some v in [{n}, 1]; v > 0]"), false)?;
        let expected = if n > 0 { format!("[{n}, 1]") } else { "[1]".to_string() };
        assert_eq!(
            results.result[0].expressions[0].value,
            Value::from_json_str(&expected)?
        );
    }
    Ok(())
}
