//! The schema stays within what the checker understands and in step with the library, and
//! every refusal reads well.

use super::*;

/// The keywords [`matches`] and [`parse`] understand, and annotations it may ignore.
const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "title",
    "description",
    "type",
    "properties",
    "items",
    "additionalProperties",
    "anyOf",
    "minimum",
    "maximum",
    "pattern",
    "default",
    "x-expected",
    "x-example",
];

fn walk(schema: &Value, at: &str, out: &mut Vec<String>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    for (key, v) in map {
        if !KNOWN.contains(&key.as_str()) {
            out.push(format!("{at}: `{key}`"));
        }
        if key == "pattern" && v.as_str() != Some(DIGITS) {
            out.push(format!("{at}: pattern {v}"));
        }
        match key.as_str() {
            "properties" => {
                for (name, s) in v.as_object().into_iter().flatten() {
                    walk(s, &format!("{at}.{name}"), out);
                }
            }
            "items" | "additionalProperties" => walk(v, &format!("{at}.{key}"), out),
            "anyOf" => {
                for (i, s) in v.as_array().into_iter().flatten().enumerate() {
                    walk(s, &format!("{at}.anyOf[{i}]"), out);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn the_schema_uses_only_what_the_checker_understands() {
    let doc: Value = serde_json::from_str(SCHEMA).unwrap();
    let mut unknown = Vec::new();
    walk(&doc, "", &mut unknown);
    assert!(unknown.is_empty(), "unsupported keywords: {unknown:?}");
    assert!(!options().is_empty());
}

#[test]
fn every_default_and_example_fits_its_own_schema() {
    for o in options() {
        assert!(o.accepts(&o.default), "{}: default {}", o.name, o.default);
        let example: serde_json::Map<String, Value> = yaml_serde::from_str(&o.example).unwrap();
        assert_eq!(example.len(), 1, "{}", o.name);
        assert!(o.accepts(&example[&o.name]), "{}: example", o.name);
    }
}

/// `lib.config("name", default)` calls in the library (the helper in `lib/plan.rego` is
/// called as `config(...)`).
fn library_reads() -> Vec<(String, Value, String)> {
    let mut reads = Vec::new();
    for source in crate::policy::builtin_sources(false) {
        for (i, _) in source.text.match_indices("config(\"") {
            if i > 0 && source.text.as_bytes()[i - 1].is_ascii_alphanumeric() {
                continue;
            }
            let rest = &source.text[i + "config(\"".len()..];
            let (name, rest) = rest.split_once('"').unwrap();
            let rest = rest.trim_start_matches([',', ' ']);
            // The default runs to the call's closing parenthesis.
            let mut depth = 0;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' | '[' | '{' => depth += 1,
                        ')' if depth == 0 => return true,
                        ')' | ']' | '}' => depth -= 1,
                        _ => {}
                    }
                    false
                })
                .map(|(j, _)| j)
                .unwrap();
            let default = serde_json::from_str(&rest[..end])
                .unwrap_or_else(|e| panic!("{}: default of {name}: {e}", source.file));
            reads.push((name.to_owned(), default, source.file.clone()));
        }
    }
    reads
}

#[test]
fn the_schema_lists_every_setting_the_library_reads_with_its_default() {
    let reads = library_reads();
    assert!(reads.len() >= 9, "{reads:?}");
    for (name, default, file) in &reads {
        let option = options()
            .iter()
            .find(|o| &o.name == name)
            .unwrap_or_else(|| panic!("{file} reads `{name}`, which the schema does not list"));
        assert_eq!(&option.default, default, "{file}: default of `{name}`");
    }
    for o in options() {
        assert!(
            reads.iter().any(|(name, _, _)| name == &o.name),
            "the schema lists `{}`, which no policy reads",
            o.name
        );
    }
}

#[test]
fn settings_of_the_right_shape_and_keys_for_other_policies_pass() {
    let ok = [
        ("required_tags", serde_json::json!(["Owner"])),
        ("tag_values", serde_json::json!({"Team": ["a", "b"]})),
        ("public_ingress_ports", serde_json::json!([443, "8080"])),
        ("s3_require_kms", serde_json::json!(true)),
        ("my_own_setting", serde_json::json!({"anything": 1})),
    ];
    for (name, value) in ok {
        assert_eq!(check(name, &value), Ok(()), "{name}");
    }
}

#[test]
fn refusals_say_what_is_wrong_and_how_to_write_it() {
    let bad = [
        ("required_tags", serde_json::json!(5)),
        ("required_tags", serde_json::json!(["Owner", 7])),
        ("tag_values", serde_json::json!({"Environment": "prod"})),
        ("public_ingress_ports", serde_json::json!([80, 70000])),
        ("public_ingress_ports", serde_json::json!(["https"])),
        ("s3_require_kms", serde_json::json!("true")),
        ("ebs_default_encryption", Value::Null),
        ("required_tag", serde_json::json!(["Owner"])),
        ("s3_requires_kms", serde_json::json!(true)),
    ];
    let text: Vec<String> = bad
        .iter()
        .map(|(name, value)| format!("{name} = {value}\n  {}", check(name, value).unwrap_err()))
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

#[test]
fn the_catalogue_table_lists_every_setting() {
    insta::assert_snapshot!(markdown_table());
}
