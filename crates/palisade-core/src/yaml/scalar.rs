//! Resolving plain scalars as Kubernetes' YAML reader does.

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

/// Resolves a scalar as Kubernetes' YAML reader does (YAML 1.2 core schema,
/// leading-zero numbers kept as strings).
pub(super) fn resolve_scalar(text: Cow<'_, str>, plain: bool, tag: Option<&str>) -> Value {
    match tag {
        Some("str") | Some("binary") => return Value::String(kept(text)),
        Some("null") => return Value::Null,
        _ => {}
    }
    if !plain {
        return Value::String(kept(text));
    }
    match &*text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    // Most scalars are words: no number starts with a letter.
    let numeric = text
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'));
    if !numeric {
        return Value::String(kept(text));
    }
    if let Some(n) = parse_int(&text) {
        return Value::Number(n);
    }
    if is_float(&text) {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(kept(text))
}

fn parse_int(text: &str) -> Option<Number> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    // from_str_radix takes a sign of its own (`0x-5`): only digits may follow.
    let radix = |body: &str, radix: u32| -> Option<Number> {
        if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let v = i64::from_str_radix(body, radix).ok()?;
        Some(Number::from(if neg { v.checked_neg()? } else { v }))
    };
    if let Some(hex) = digits.strip_prefix("0x") {
        return radix(hex, 16);
    }
    if let Some(oct) = digits.strip_prefix("0o") {
        return radix(oct, 8);
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    if neg {
        text.parse::<i64>().ok().map(Number::from)
    } else if let Ok(v) = digits.parse::<i64>() {
        Some(Number::from(v))
    } else {
        digits.parse::<u64>().ok().map(Number::from)
    }
}

fn is_float(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (!a.is_empty() || !b.is_empty())
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exp_ok && (mantissa.contains('.') || exp.is_some())
}
