// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

#![allow(clippy::pattern_type_mismatch)]

//! Builtins OPA 1.0 removed from Rego v1 but still offers to v0 policies
//! (`opa eval --v0-compatible`): `any`, `all`, `re_match`, `net.cidr_overlap`, `set_diff` and
//! the `cast_*` family. Registered only with the `deprecated` feature; like OPA, a caller
//! should refuse them in v1 modules.

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::{ensure_args_count, ensure_set};
use crate::lexer::Span;
use crate::value::Value;
use crate::*;

use anyhow::{bail, Result};

/// The builtins this module provides.
const NAMES: &[&str] = &[
    "all",
    "any",
    "cast_array",
    "cast_boolean",
    "cast_null",
    "cast_object",
    "cast_set",
    "cast_string",
    "net.cidr_overlap",
    "re_match",
    "set_diff",
];

/// Whether `path` is a builtin removed from Rego v1 (callable from v0 modules only).
pub fn is_deprecated(path: &str) -> bool {
    NAMES.contains(&path)
}

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("all", (all, 1));
    m.insert("any", (any, 1));
    m.insert("set_diff", (set_diff, 2));
    m.insert("cast_array", (cast_array, 1));
    m.insert("cast_set", (cast_set, 1));
    m.insert("cast_string", (cast_string, 1));
    m.insert("cast_boolean", (cast_boolean, 1));
    m.insert("cast_null", (cast_null, 1));
    m.insert("cast_object", (cast_object, 1));
    // Same implementations as their replacements, as in OPA.
    if let Some(regex_match) = m.get("regex.match").copied() {
        m.insert("re_match", regex_match);
    }
    if let Some(cidr_contains) = m.get("net.cidr_contains").copied() {
        m.insert("net.cidr_overlap", cidr_contains);
    }
}

/// The elements of an array or set argument.
fn elements(span: &Span, name: &str, v: &Value) -> Result<Vec<Value>> {
    Ok(match v {
        Value::Array(a) => a.iter().cloned().collect(),
        Value::Set(s) => s.iter().cloned().collect(),
        _ => bail!(span
            .error(format!("`{name}` expects array or set argument. Got `{v}` instead").as_str())),
    })
}

fn all(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "all", params, args, 1)?;
    let items = elements(params[0].span(), "all", &args[0])?;
    Ok(Value::Bool(items.iter().all(|v| v == &Value::Bool(true))))
}

fn any(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "any", params, args, 1)?;
    let items = elements(params[0].span(), "any", &args[0])?;
    Ok(Value::Bool(items.iter().any(|v| v == &Value::Bool(true))))
}

fn set_diff(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "set_diff", params, args, 2)?;
    let a = ensure_set("set_diff", &params[0], args[0].clone())?;
    let b = ensure_set("set_diff", &params[1], args[1].clone())?;
    Ok(Value::from(a.difference(&b)))
}

fn cast_array(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "cast_array", params, args, 1)?;
    match &args[0] {
        Value::Array(_) => Ok(args[0].clone()),
        Value::Set(s) => Ok(Value::from(s.iter().cloned().collect::<Vec<Value>>())),
        v => bail!(params[0].span().error(
            format!("`cast_array` expects array or set argument. Got `{v}` instead").as_str()
        )),
    }
}

fn cast_set(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "cast_set", params, args, 1)?;
    match &args[0] {
        Value::Set(_) => Ok(args[0].clone()),
        Value::Array(a) => Ok(Value::from(
            a.iter()
                .cloned()
                .collect::<alloc::collections::BTreeSet<Value>>(),
        )),
        v => bail!(params[0].span().error(
            format!("`cast_set` expects array or set argument. Got `{v}` instead").as_str()
        )),
    }
}

/// `cast_string`, `cast_boolean`, `cast_null`, `cast_object`: the argument itself, if it
/// has the type.
fn cast_same(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    name: &'static str,
    fits: fn(&Value) -> bool,
) -> Result<Value> {
    ensure_args_count(span, name, params, args, 1)?;
    if !fits(&args[0]) {
        let v = &args[0];
        bail!(params[0]
            .span()
            .error(format!("`{name}` got `{v}`, of the wrong type").as_str()));
    }
    Ok(args[0].clone())
}

fn cast_string(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    cast_same(span, params, args, "cast_string", |v| {
        matches!(v, Value::String(_))
    })
}

fn cast_boolean(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    cast_same(span, params, args, "cast_boolean", |v| {
        matches!(v, Value::Bool(_))
    })
}

fn cast_null(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    cast_same(span, params, args, "cast_null", |v| {
        matches!(v, Value::Null)
    })
}

fn cast_object(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    cast_same(span, params, args, "cast_object", |v| {
        matches!(v, Value::Object(_))
    })
}
