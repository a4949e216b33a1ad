// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

//! Go's `fmt` verbs, flags, widths and precisions as OPA's `sprintf` uses them. OPA hands Go
//! integers (`int64`, or `*big.Int` past it), `float64`s, and every other value as its
//! string, so a verb that does not fit (`%d` of a string) is written into the text like Go's
//! `%!d(string=text)`.

use crate::number::Number;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One argument as Go sees it.
pub(super) enum GoArg<'a> {
    Int(&'a Number),
    Float(f64),
    Str(String),
}

impl GoArg<'_> {
    /// The Go type named in `%!verb(type=value)`.
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            GoArg::Int(n) if n.as_i64().is_some() => "int64",
            GoArg::Int(_) => "*big.Int",
            GoArg::Float(_) => "float64",
            GoArg::Str(_) => "string",
        }
    }

    /// The value as `%v` writes it.
    pub(super) fn plain(&self) -> String {
        match self {
            GoArg::Int(n) => n.format_decimal(),
            GoArg::Float(f) => float_g(*f, None, false),
            GoArg::Str(s) => s.clone(),
        }
    }
}

/// Flags, width and precision of one verb, e.g. `%-08.3f`.
#[derive(Default, Clone, Copy)]
pub(super) struct Spec {
    pub minus: bool,
    pub plus: bool,
    pub sharp: bool,
    pub zero: bool,
    pub space: bool,
    pub width: Option<usize>,
    pub precision: Option<usize>,
}

impl Spec {
    /// Pads `body` to the width, in characters: spaces on the left (on the right with `-`),
    /// or zeros with `0`, after the sign for numbers.
    fn pad(&self, body: String, numeric: bool) -> String {
        let len = body.chars().count();
        let Some(width) = self.width.filter(|w| *w > len) else {
            return body;
        };
        let fill = width - len;
        if self.minus {
            return body + &" ".repeat(fill);
        }
        if self.zero {
            let sign_len = if numeric && body.starts_with(['-', '+', ' ']) {
                1
            } else {
                0
            };
            let (sign, rest) = body.split_at(sign_len);
            return format!("{sign}{}{rest}", "0".repeat(fill));
        }
        " ".repeat(fill) + &body
    }

    fn sign(&self, negative: bool) -> &'static str {
        match (negative, self.plus, self.space) {
            (true, _, _) => "-",
            (false, true, _) => "+",
            (false, false, true) => " ",
            _ => "",
        }
    }
}

/// Writes one verb of `arg`, or `None` when the verb does not fit the argument.
pub(super) fn format_verb(verb: char, spec: &Spec, arg: &GoArg) -> Option<String> {
    match arg {
        GoArg::Str(s) => format_string(verb, spec, s),
        GoArg::Int(n) => format_int(verb, spec, n),
        GoArg::Float(f) => format_float(verb, spec, *f),
    }
}

fn format_string(verb: char, spec: &Spec, s: &str) -> Option<String> {
    let truncated: String = match spec.precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    let body = match verb {
        's' | 'v' => truncated,
        'q' => {
            let mut out = String::new();
            super::append_go_quoted(&mut out, &truncated, super::Width::None).ok()?;
            out
        }
        'x' | 'X' => {
            let bytes: Vec<u8> = match spec.precision {
                Some(p) => s.bytes().take(p).collect(),
                None => s.bytes().collect(),
            };
            let mut out = String::new();
            if spec.sharp && !bytes.is_empty() {
                out.push_str(if verb == 'x' { "0x" } else { "0X" });
            }
            for b in bytes {
                if verb == 'x' {
                    out.push_str(&format!("{b:02x}"));
                } else {
                    out.push_str(&format!("{b:02X}"));
                }
            }
            out
        }
        _ => return None,
    };
    Some(spec.pad(body, false))
}

fn format_int(verb: char, spec: &Spec, n: &Number) -> Option<String> {
    let negative = !n.is_positive() && n.as_i64() != Some(0);
    let abs = n.abs();
    let (digits, prefix) = match verb {
        'd' | 'v' => (abs.format_decimal(), ""),
        's' if n.as_i64().is_none() => (abs.format_decimal(), ""),
        'b' => (abs.format_bin(), if spec.sharp { "0b" } else { "" }),
        'o' => (abs.format_octal(), if spec.sharp { "0" } else { "" }),
        'O' => (abs.format_octal(), "0o"),
        'x' => (abs.format_hex(), if spec.sharp { "0x" } else { "" }),
        'X' => (abs.format_big_hex(), if spec.sharp { "0X" } else { "" }),
        'c' => {
            let c = n.as_u64().and_then(|v| char::from_u32(u32::try_from(v).ok()?));
            return Some(spec.pad(c.unwrap_or('\u{FFFD}').to_string(), false));
        }
        'q' => {
            let c = n.as_u64().and_then(|v| char::from_u32(u32::try_from(v).ok()?));
            let c = c.unwrap_or('\u{FFFD}');
            let quoted = match c {
                '\'' => "'\\''".to_string(),
                '\\' => "'\\\\'".to_string(),
                '\n' => "'\\n'".to_string(),
                '\t' => "'\\t'".to_string(),
                c => format!("'{c}'"),
            };
            return Some(spec.pad(quoted, false));
        }
        'U' => {
            let hex = abs.format_big_hex();
            return Some(spec.pad(format!("U+{hex:0>4}"), false));
        }
        _ => return None,
    };
    let mut digits = digits;
    match spec.precision {
        Some(0) if abs.as_u64() == Some(0) => digits.clear(),
        Some(p) if p > digits.len() => digits = "0".repeat(p - digits.len()) + &digits,
        _ => {}
    }
    let body = format!("{}{prefix}{digits}", spec.sign(negative));
    // Go ignores the `0` flag when a precision is given for an integer.
    let spec = Spec {
        zero: spec.zero && spec.precision.is_none(),
        ..*spec
    };
    Some(spec.pad(body, true))
}

fn format_float(verb: char, spec: &Spec, f: f64) -> Option<String> {
    let negative = f.is_sign_negative() && f != 0.0;
    let abs = f.abs();
    let digits = match verb {
        'f' | 'F' => format!("{:.*}", spec.precision.unwrap_or(6), abs),
        'e' | 'E' => {
            let s = float_e(abs, spec.precision.unwrap_or(6));
            if verb == 'E' {
                s.to_uppercase()
            } else {
                s
            }
        }
        'g' | 'v' => float_g(abs, spec.precision, spec.sharp),
        'G' => float_g(abs, spec.precision, spec.sharp).to_uppercase(),
        _ => return None,
    };
    Some(spec.pad(format!("{}{digits}", spec.sign(negative)), true))
}

/// `%.{precision}e` of a non-negative number, with Go's exponent (`e+06`).
fn float_e(abs: f64, precision: usize) -> String {
    go_exponent(&format!("{abs:.precision$e}"))
}

/// Rust's `1.5e6` / `1.5e-7` exponent written like Go's: `1.5e+06`, `1.5e-07`.
fn go_exponent(s: &str) -> String {
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s.to_string(),
    }
}

/// Go's `%g` (and `%v` of a float): the shortest representation, or `precision` significant
/// digits, in exponent form when the exponent is below -4 or at least the precision (6 for the
/// shortest form).
fn float_g(abs: f64, precision: Option<usize>, sharp: bool) -> String {
    let (shortest, eprec) = match precision {
        None => (format!("{abs:e}"), 6),
        Some(p) => {
            let p = p.max(1);
            (format!("{:.*e}", p - 1, abs), p)
        }
    };
    let (mantissa, exp) = shortest.split_once('e').unwrap_or((&shortest, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mantissa = if sharp || precision.is_none() {
        mantissa.to_string()
    } else {
        trim_fraction(mantissa)
    };
    if exp < -4 || exp >= eprec as i64 {
        return go_exponent(&format!("{mantissa}e{exp}"));
    }
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exp + 1;
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let point = point as usize;
        if digits.len() <= point {
            format!("{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    };
    if sharp {
        text
    } else {
        trim_fraction(&text)
    }
}

/// `1.500` -> `1.5`, `2.000` -> `2`.
fn trim_fraction(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}
