//! Resolving scalars as kubectl reads them: sigs.k8s.io/yaml over
//! gopkg.in/yaml.v2, that is YAML 1.1 (`yes`/`no`/`on`/`off`/`y`/`n` are
//! booleans, `012` is octal, `0b11` binary, `1_000` an integer), then the
//! JSON kubectl sends (mapping keys become strings, floats are written as
//! Go writes them).
//!
//! This is the single place where the loader gives plain scalars a type:
//! values through [`resolve_scalar`], mapping keys through [`resolve_key`].

use serde_json::{Number, Value};
use std::borrow::Cow;

/// The text of a scalar that is kept in a value, without the spare
/// capacity the parser leaves in it (a plain scalar's buffer starts at 129
/// bytes: held by every object of a scan, that is most of its memory).
pub(super) fn kept(text: Cow<'_, str>) -> String {
    let mut s = text.into_owned();
    if s.capacity() > s.len() + SLACK {
        s.shrink_to_fit();
    }
    s
}

/// Spare bytes a kept string may carry.
const SLACK: usize = 8;

/// What yaml.v2 makes of a scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str,
}

/// A scalar's explicit tag as yaml.v2 treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    /// No tag, or one yaml.v2 does not resolve (`!foo`): resolved from the text.
    None,
    /// `!!str` or `!!binary`: the text.
    Str,
    /// `!!null`, `!!bool`, `!!int`, `!!float`, `!!timestamp`: the text must
    /// resolve to that type.
    Typed(&'static str),
    /// A local tag yaml.v2 keeps as a string (`!foo 12` is "12").
    Other,
}

fn tag_of(tag: Option<&str>) -> Tag {
    match tag {
        None => Tag::None,
        Some("str" | "binary") => Tag::Str,
        Some("null") => Tag::Typed("null"),
        Some("bool") => Tag::Typed("bool"),
        Some("int") => Tag::Typed("int"),
        Some("float") => Tag::Typed("float"),
        Some("timestamp") => Tag::Typed("timestamp"),
        Some(_) => Tag::Other,
    }
}

/// Resolves a scalar value. An error names what kubectl would reject (a
/// float JSON cannot hold, a tag the text does not fit).
pub(super) fn resolve_scalar(
    text: Cow<'_, str>,
    plain: bool,
    tag: Option<&str>,
) -> Result<Value, String> {
    if tag == Some("binary") {
        return binary(&text).map(Value::String);
    }
    let r = typed(&text, plain, tag_of(tag))?;
    Ok(match r {
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => Value::Number(i.into()),
        Resolved::Uint(u) => Value::Number(u.into()),
        Resolved::Float(f) => Value::Number(json_float(f).ok_or_else(|| {
            format!("`{text}` is a YAML 1.1 float ({f}) that JSON cannot hold: kubectl rejects it")
        })?),
        Resolved::Str => Value::String(kept(text)),
    })
}

/// Checks a scalar that is parsed but not built: the errors of
/// [`resolve_scalar`], without building the value.
pub(super) fn check_scalar(text: &str, plain: bool, tag: Option<&str>) -> Result<(), String> {
    match typed(text, plain, tag_of(tag))? {
        Resolved::Float(f) if !f.is_finite() => Err(format!(
            "`{text}` is a YAML 1.1 float ({f}) that JSON cannot hold: kubectl rejects it"
        )),
        _ => Ok(()),
    }
}

/// Resolves a mapping key to the string kubectl's JSON has for it: `n` is
/// "false", `012` is "10", `1e3` is "1000"; a null key or an unsigned
/// integer above i64 has no JSON form (kubectl rejects the document).
pub(super) fn resolve_key(text: String, plain: bool, tag: Option<&str>) -> Result<String, String> {
    if tag == Some("binary") {
        return binary(&text);
    }
    let r = typed(&text, plain, tag_of(tag))?;
    Ok(match r {
        Resolved::Str => text,
        Resolved::Bool(b) => b.to_string(),
        Resolved::Int(i) => i.to_string(),
        Resolved::Float(f) => go_float32_g(f),
        Resolved::Null => return Err(format!("mapping key `{text}` is null: kubectl rejects it")),
        Resolved::Uint(_) => {
            return Err(format!(
                "mapping key `{text}` is an unsigned integer kubectl cannot convert: it rejects it"
            ))
        }
    })
}

/// A `!!binary` scalar: its base64 text decoded (line breaks ignored), as
/// yaml.v2 does; bytes that are not UTF-8 become U+FFFD as in Go's JSON.
fn binary(text: &str) -> Result<String, String> {
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| "!!binary value contains invalid base64 data".to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The scalar as yaml.v2 resolves it under `tag`.
fn typed(text: &str, plain: bool, tag: Tag) -> Result<Resolved, String> {
    match tag {
        Tag::Str | Tag::Other => return Ok(Resolved::Str),
        Tag::None if !plain => return Ok(Resolved::Str),
        Tag::None => return Ok(resolve_plain(text)),
        Tag::Typed(_) => {}
    }
    let Tag::Typed(want) = tag else {
        return Ok(Resolved::Str);
    };
    let r = resolve_plain(text);
    let got = match r {
        Resolved::Null => "null",
        Resolved::Bool(_) => "bool",
        Resolved::Int(_) | Resolved::Uint(_) => "int",
        Resolved::Float(_) => "float",
        Resolved::Str if is_timestamp(text) => "timestamp",
        Resolved::Str => "str",
    };
    match (want, r) {
        _ if want == got => Ok(r),
        ("float", Resolved::Int(i)) => Ok(Resolved::Float(i as f64)),
        _ => Err(format!("cannot decode !!{got} `{text}` as a !!{want}")),
    }
}

/// yaml.v2's `resolve` for an untagged plain scalar.
fn resolve_plain(text: &str) -> Resolved {
    let Some(&first) = text.as_bytes().first() else {
        return Resolved::Null;
    };
    // yaml.v2 looks a scalar up only when its first byte hints at a type.
    let hinted = first.is_ascii_digit() || b"+-.yYnNtTfFoO~".contains(&first);
    if !hinted {
        return Resolved::Str;
    }
    if let Some(r) = word(text) {
        return r;
    }
    match first {
        b'.' => go_parse_float(text).map_or(Resolved::Str, Resolved::Float),
        b'+' | b'-' | b'0'..=b'9' => number(text),
        _ => Resolved::Str,
    }
}

/// The words yaml.v2 resolves by table.
fn word(text: &str) -> Option<Resolved> {
    Some(match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Resolved::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// A scalar starting with a sign or a digit: a timestamp (kept as a
/// string), an integer in base 10, 16 (`0x`), 8 (`0o`, or a leading `0`) or
/// 2 (`0b`), with `_` anywhere ignored, or a decimal float.
fn number(text: &str) -> Resolved {
    if is_timestamp(text) {
        return Resolved::Str;
    }
    let plain: Cow<'_, str> = if text.contains('_') {
        Cow::Owned(text.replace('_', ""))
    } else {
        Cow::Borrowed(text)
    };
    if let Some(r) = go_parse_int(&plain) {
        return r;
    }
    if is_yaml_float(&plain) {
        if let Some(f) = plain.parse::<f64>().ok().filter(|f| f.is_finite()) {
            return Resolved::Float(f);
        }
    }
    Resolved::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)` (no sign).
fn go_parse_int(s: &str) -> Option<Resolved> {
    let (neg, signed, body) = match s.as_bytes().first()? {
        b'-' => (true, true, &s[1..]),
        b'+' => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0b") => (2, &body[2..]),
        Some("0o") => (8, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        let v = 0i64.checked_sub_unsigned(magnitude)?;
        return Some(Resolved::Int(v));
    }
    match i64::try_from(magnitude) {
        Ok(v) => Some(Resolved::Int(v)),
        Err(_) if !signed => Some(Resolved::Uint(magnitude)),
        Err(_) => None,
    }
}

/// yaml.v2's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    mantissa_ok && exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// Go's `strconv.ParseFloat` for a text starting with `.`: digits, an
/// optional exponent, `_` only between two digits; out of range is an error.
fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let between_digits = |i: usize| {
        i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(|c| c.is_ascii_digit())
    };
    if (0..b.len()).any(|i| b[i] == b'_' && !between_digits(i)) {
        return None;
    }
    let plain = s.replace('_', "");
    let rest = plain.strip_prefix('.')?;
    if !rest.starts_with(|c: char| c.is_ascii_digit()) || !is_yaml_float(&plain) {
        return None;
    }
    plain.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Whether yaml.v2 reads the text as a timestamp (YYYY-M-D, with an
/// optional time): it keeps such a value as its text.
/// yaml.v2's quick check (four digits and a dash) stands for its full
/// parse here: such a text is no number either, so it is a string both ways.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// The JSON number kubectl sends for `f`, as serde_json reads it back:
/// Go writes a float below 1e21 with its shortest digits and no exponent
/// (`1e3` is `1000`, an integer to a JSON reader; `-2^63` is
/// `-9223372036854776000`, a float), which is also how Rust displays it.
/// `None` for NaN and infinities (Go's json.Marshal fails on them).
fn json_float(f: f64) -> Option<Number> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() != 0.0 {
        return Number::from_f64(f);
    }
    serde_json::from_str(&f.to_string())
        .ok()
        .or_else(|| Number::from_f64(f))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` with yaml.v2's names for
/// infinities and NaN: how sigs.k8s.io/yaml turns a float key into a string.
fn go_float32_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let x = f as f32;
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    // Shortest digits that read back as the same f32, and the exponent.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0");
    }
    // %g at the shortest precision: %e below 1e-4 and from 1e6 up.
    if !(-4..6).contains(&exp) {
        return e_form(sign, &digits, exp);
    }
    f_form(sign, &digits, exp)
}

fn e_form(sign: &str, digits: &str, exp: i32) -> String {
    let (head, tail) = digits.split_at(1);
    let dot = if tail.is_empty() { "" } else { "." };
    let esign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{head}{dot}{tail}e{esign}{:02}", exp.abs())
}

fn f_form(sign: &str, digits: &str, exp: i32) -> String {
    let n = digits.len() as i32;
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    if exp + 1 >= n {
        let zeros = "0".repeat((exp + 1 - n) as usize);
        return format!("{sign}{digits}{zeros}");
    }
    let (int, frac) = digits.split_at((exp + 1) as usize);
    format!("{sign}{int}.{frac}")
}
