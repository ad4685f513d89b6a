//! Kubernetes' quantity library: `quantity()`, `isQuantity()`, `asInteger`,
//! `asApproximateFloat`, `isInteger`, `sign`, `add`, `sub` (comparisons
//! are in the parent module). Quantities are held exactly in nano units.

use super::{cel_fn, fail, global, member, opaque, str_arg};
use cel::common::types::{DYN_TYPE, STRING_TYPE};
use cel::objects::Opaque;
use cel::{DeclarationError, Env, ExecutionError, Value};
use std::sync::Arc;

/// A quantity in units of 10^-9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(pub i128);

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Quantity"
    }
}

const NANO: i128 = 1_000_000_000;

/// Parses a quantity (`500m`, `1.5Gi`, `1e3`, `-2k`).
pub fn parse(s: &str) -> Option<Quantity> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (num, suffix) = body.split_at(end);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() || frac.contains('.') || num.len() > 30 {
        return None;
    }
    let (mut exp10, bin): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        e if e.starts_with(['e', 'E']) => (e[1..].parse::<i32>().ok().filter(|x| x.abs() < 30)?, 0),
        _ => return None,
    };
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    exp10 += 9 - frac.len() as i32;
    let mut v = digits.checked_mul(1i128.checked_shl(bin)?)?;
    if exp10 >= 0 {
        v = v.checked_mul(10i128.checked_pow(exp10 as u32)?)?;
    } else {
        let d = 10i128.checked_pow((-exp10) as u32)?;
        v = v.checked_add(d - 1)? / d; // Kubernetes rounds up below its precision
    }
    Some(Quantity(if neg { -v } else { v }))
}

/// Registers the quantity functions.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    global(env, "quantity", vec![STRING_TYPE], quantity)?;
    global(env, "isQuantity", vec![STRING_TYPE], is_quantity)?;
    member(env, "asInteger", DYN_TYPE, vec![], as_integer)?;
    member(env, "asApproximateFloat", DYN_TYPE, vec![], as_float)?;
    member(env, "isInteger", DYN_TYPE, vec![], is_integer)?;
    member(env, "sign", DYN_TYPE, vec![], sign)?;
    member(env, "add", DYN_TYPE, vec![DYN_TYPE], add)?;
    member(env, "sub", DYN_TYPE, vec![DYN_TYPE], sub)?;
    Ok(())
}

fn q(f: &str, a: &[Value], i: usize) -> Result<Quantity, ExecutionError> {
    match a.get(i) {
        Some(Value::Int(n)) => Ok(Quantity(*n as i128 * NANO)),
        _ => Ok(*opaque::<Quantity>(f, a, i)?),
    }
}

fn val(x: i128) -> Value {
    Value::Opaque(Arc::new(Quantity(x)))
}

cel_fn!(quantity, |a| {
    let s = str_arg("quantity", a, 0)?;
    Ok(val(parse(s)
        .ok_or_else(|| fail("quantity", format!("invalid quantity {s:?}")))?
        .0))
});
cel_fn!(is_quantity, |a| Ok(Value::Bool(
    parse(str_arg("isQuantity", a, 0)?).is_some()
)));
cel_fn!(as_integer, |a| {
    let x = q("asInteger", a, 0)?.0;
    if x % NANO != 0 {
        return Err(fail("asInteger", "quantity is not an integer"));
    }
    i64::try_from(x / NANO)
        .map(Value::Int)
        .map_err(|_| fail("asInteger", "quantity overflows int"))
});
cel_fn!(as_float, |a| Ok(Value::Float(
    q("asApproximateFloat", a, 0)?.0 as f64 / NANO as f64
)));
cel_fn!(is_integer, |a| {
    let x = q("isInteger", a, 0)?.0;
    Ok(Value::Bool(
        x % NANO == 0 && i64::try_from(x / NANO).is_ok(),
    ))
});
cel_fn!(sign, |a| Ok(Value::Int(q("sign", a, 0)?.0.signum() as i64)));
cel_fn!(add, |a| {
    let s = q("add", a, 0)?.0.checked_add(q("add", a, 1)?.0);
    s.map(val).ok_or_else(|| fail("add", "overflow"))
});
cel_fn!(sub, |a| {
    let s = q("sub", a, 0)?.0.checked_sub(q("sub", a, 1)?.0);
    s.map(val).ok_or_else(|| fail("sub", "overflow"))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubernetes_quantities() {
        assert_eq!(parse("500m"), Some(Quantity(500_000_000)));
        assert_eq!(parse("1Gi"), Some(Quantity(1_073_741_824 * NANO)));
        assert_eq!(parse("1.5k"), Some(Quantity(1500 * NANO)));
        assert_eq!(parse("1e3"), Some(Quantity(1000 * NANO)));
        assert_eq!(
            parse("2E"),
            Some(Quantity(2_000_000_000_000_000_000 * NANO))
        );
        assert!(parse("1.5.3").is_none() && parse("12Q").is_none() && parse("").is_none());
    }
}
