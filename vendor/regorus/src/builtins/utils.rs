// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

#![allow(clippy::pattern_type_mismatch)]
use crate::ast::{Expr, Ref};
use crate::lexer::Span;
use crate::number::Number;
use crate::value::{Array, Object, Set};
use crate::Rc;
use crate::Value;
use crate::*;

use anyhow::{bail, Result};

/// The most elements one call of a builtin that generates a collection (`numbers.range`,
/// `numbers.range_step`, `net.cidr_expand`) may produce. Its arguments set the result's size,
/// and a larger result would exhaust memory before any other limit is checked.
pub const MAX_GENERATED_ELEMENTS: u128 = 1 << 20;

/// Refuses a generated collection of `elements` elements when there would be more than
/// [`MAX_GENERATED_ELEMENTS`].
pub fn ensure_generated_size(span: &Span, fcn: &str, elements: u128) -> Result<()> {
    if elements > MAX_GENERATED_ELEMENTS {
        bail!(span.error(&format!(
            "`{fcn}` would produce {elements} elements, more than the limit of {MAX_GENERATED_ELEMENTS}"
        )));
    }
    Ok(())
}

/// Checks the memory limit before a builtin allocates a result of `bytes` at once (the
/// embedder's probe; see `limits::check_memory_probe_for`): a result assembled from shared
/// values (`concat` of a million references to one 1 MB string is 1 TB) must be refused
/// before it is allocated, as a failed allocation aborts the process.
pub fn ensure_allocation(bytes: usize) -> Result<()> {
    crate::utils::limits::check_memory_probe_for(u64::try_from(bytes).unwrap_or(u64::MAX))
        .map_err(anyhow::Error::new)
}

/// Makes room for `more` bytes in a result a builtin builds piece by piece, checking the memory
/// limit for the larger buffer before it is allocated (growing a 1 GB buffer allocates 2 GB).
#[cfg(feature = "regex")]
pub fn ensure_room(out: &mut String, more: usize) -> Result<()> {
    let needed = out.len().saturating_add(more);
    if needed > out.capacity() {
        let grown = needed.max(out.capacity().saturating_mul(2));
        ensure_allocation(grown)?;
        out.reserve_exact(grown - out.len());
    }
    Ok(())
}

/// Checks the memory limit before a builtin serializes `value` (`json.marshal`,
/// `yaml.marshal`): a value of shared parts holds little and serializes to a lot (a million
/// references to one 1 MB string is 1 TB of JSON), and a serializer's output grows without a
/// check. Walks the value once, checking the limits as it goes, and asks the memory probe for
/// a lower bound of the output (each string's bytes, one byte per other value) each time the
/// bound doubles.
pub fn ensure_serialized_allocation(value: &Value) -> Result<()> {
    fn walk(value: &Value, bound: &mut usize, next_check: &mut usize) -> Result<()> {
        enforce_limit()?;
        *bound = bound.saturating_add(match value {
            Value::String(s) => s.len().saturating_add(1),
            _ => 1,
        });
        if *bound >= *next_check {
            ensure_allocation(*bound)?;
            *next_check = bound.saturating_mul(2);
        }
        match value {
            Value::Array(items) => items.iter().try_for_each(|v| walk(v, bound, next_check)),
            Value::Set(items) => items.iter().try_for_each(|v| walk(v, bound, next_check)),
            Value::Object(fields) => fields.iter().try_for_each(|(k, v)| {
                walk(k, bound, next_check)?;
                walk(v, bound, next_check)
            }),
            _ => Ok(()),
        }
    }
    walk(value, &mut 0, &mut (1 << 20))
}

/// Checks the limits from a builtin's loop: one unit of work.
#[inline]
pub fn enforce_limit() -> Result<()> {
    enforce_limit_for(1)
}

/// Checks the limits from a builtin's loop after `work` units of work (elements visited,
/// bytes scanned): the memory limit, and every so often the evaluation's time limit and
/// the embedder's memory probe (`limits::builtin_tick`).
#[inline]
pub fn enforce_limit_for(work: usize) -> Result<()> {
    crate::utils::limits::check_memory_limit_if_needed().map_err(anyhow::Error::new)?;
    crate::utils::limits::builtin_tick(work).map_err(anyhow::Error::new)
}

pub fn ensure_args_count(
    span: &Span,
    fcn: &'static str,
    params: &[Ref<Expr>],
    args: &[Value],
    expected: usize,
) -> Result<()> {
    if args.len() != expected {
        let span = match args.len() > expected {
            false => span,
            true => params[args.len() - 1].span(),
        };
        if expected == 1 {
            bail!(span.error(format!("`{fcn}` expects 1 argument").as_str()))
        } else {
            bail!(span.error(format!("`{fcn}` expects {expected} arguments").as_str()))
        }
    }
    Ok(())
}

pub fn ensure_numeric(fcn: &str, arg: &Expr, v: &Value) -> Result<Number> {
    Ok(match &v {
        Value::Number(n) => n.clone(),
        _ => {
            let span = arg.span();
            bail!(
                span.error(format!("`{fcn}` expects numeric argument. Got `{v}` instead").as_str())
            )
        }
    })
}

pub fn validate_integer_arg(
    fcn: &str,
    param: &Ref<Expr>,
    original_value: &Value,
    numeric_value: &Number,
    strict: bool,
    allow_negative: bool,
) -> Result<bool> {
    if !numeric_value.is_integer() {
        if strict {
            bail!(param.span().error(
                format!("`{fcn}` expects integer arguments. Got `{original_value}`").as_str()
            ));
        }
        return Ok(false);
    }

    if !allow_negative {
        if let Some(int_value) = numeric_value.as_i128() {
            if int_value < 0 {
                if strict {
                    bail!(param.span().error(
                        format!("`{fcn}` expects non-negative integer arguments. Got `{original_value}`")
                            .as_str(),
                    ));
                }
                return Ok(false);
            }
        } else if !numeric_value.is_positive() {
            if strict {
                bail!(param.span().error(
                    format!(
                        "`{fcn}` expects non-negative integer arguments. Got `{original_value}`"
                    )
                    .as_str(),
                ));
            }
            return Ok(false);
        }
    }

    Ok(true)
}

pub fn ensure_string(fcn: &str, arg: &Expr, v: &Value) -> Result<Rc<str>> {
    Ok(match &v {
        Value::String(s) => s.clone(),
        _ => {
            let span = arg.span();
            bail!(span.error(format!("`{fcn}` expects string argument. Got `{v}` instead").as_str()))
        }
    })
}

pub fn ensure_string_element<'a>(
    fcn: &str,
    arg: &Expr,
    v: &'a Value,
    idx: usize,
) -> Result<&'a str> {
    Ok(match &v {
        Value::String(s) => s.as_ref(),
        _ => {
            let span = arg.span();
            bail!(span.error(
                format!("`{fcn}` expects string collection. Element {idx} is not a string.")
                    .as_str()
            ))
        }
    })
}

pub fn ensure_string_collection<'a>(fcn: &str, arg: &Expr, v: &'a Value) -> Result<Vec<&'a str>> {
    let mut collection = vec![];
    match &v {
        Value::Array(a) => {
            for (idx, elem) in a.iter().enumerate() {
                collection.push(ensure_string_element(fcn, arg, elem, idx)?);
                // Enforce allocator limit while materializing the string collection.
                enforce_limit()?;
            }
        }
        Value::Set(s) => {
            for (idx, elem) in s.iter().enumerate() {
                collection.push(ensure_string_element(fcn, arg, elem, idx)?);
                // Enforce allocator limit while materializing the string collection.
                enforce_limit()?;
            }
        }
        _ => {
            let span = arg.span();
            bail!(span.error(format!("`{fcn}` expects array/set of strings.").as_str()))
        }
    }
    Ok(collection)
}

pub fn ensure_array(fcn: &str, arg: &Expr, v: Value) -> Result<Rc<Array>> {
    Ok(match v {
        Value::Array(a) => a,
        _ => {
            let span = arg.span();
            bail!(span.error(format!("`{fcn}` expects array argument. Got `{v}` instead").as_str()))
        }
    })
}

pub fn ensure_set(fcn: &str, arg: &Expr, v: Value) -> Result<Rc<Set>> {
    Ok(match v {
        Value::Set(s) => s,
        _ => {
            let span = arg.span();
            bail!(span.error(format!("`{fcn}` expects set argument. Got `{v}` instead").as_str()))
        }
    })
}

pub fn ensure_object(fcn: &str, arg: &Expr, v: Value) -> Result<Rc<Object>> {
    Ok(match v {
        Value::Object(o) => o,
        _ => {
            let span = arg.span();
            bail!(span.error(format!("`{fcn}` expects object argument. Got `{v}` instead").as_str()))
        }
    })
}
