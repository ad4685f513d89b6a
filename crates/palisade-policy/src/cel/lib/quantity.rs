//! Kubernetes' quantity library: `quantity()`, `isQuantity()`, `asInteger`,
//! `asApproximateFloat`, `isInteger`, `sign`, `add`, `sub` (comparisons
//! are in the parent module). Quantities are held exactly in nano units.

use super::{cel_fn, fail, global, member, opaque, str_arg};
use cel::common::types::{DYN_TYPE, STRING_TYPE};
use cel::objects::Opaque;
use cel::{DeclarationError, Env, ExecutionError, Value};
use num_bigint::{BigInt, Sign};
use num_traits::{ToPrimitive, Zero};
use std::sync::Arc;

/// A quantity in units of 10^-9 (nano), of any size: Kubernetes'
/// `resource.Quantity` is arbitrary-precision above its nano resolution.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(pub BigInt);

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Quantity"
    }
}

fn nano() -> BigInt {
    BigInt::from(1_000_000_000u32)
}

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
    if int.is_empty() && frac.is_empty() || frac.contains('.') {
        return None;
    }
    let (mut exp10, bin): (i64, u32) = match suffix {
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
        e if e.starts_with(['e', 'E']) => {
            (e[1..].parse::<i64>().ok().filter(|x| x.abs() <= 1000)?, 0)
        }
        _ => return None,
    };
    let digits: BigInt = format!("{int}{frac}").parse().ok()?;
    exp10 += 9 - frac.len() as i64;
    let mut v = digits << bin;
    if exp10 >= 0 {
        v *= BigInt::from(10u32).pow(exp10 as u32);
    } else {
        let d = BigInt::from(10u32).pow((-exp10) as u32);
        v = (v + &d - 1u32) / d; // Kubernetes rounds up below its precision
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

fn q(f: &str, a: &[Value], i: usize) -> Result<BigInt, ExecutionError> {
    match a.get(i) {
        Some(Value::Int(n)) => Ok(BigInt::from(*n) * nano()),
        _ => Ok(opaque::<Quantity>(f, a, i)?.0.clone()),
    }
}

fn val(x: BigInt) -> Value {
    Value::Opaque(Arc::new(Quantity(x)))
}

/// The whole number of units of `x`, if it is one and fits an int.
fn as_int(x: &BigInt) -> Option<i64> {
    let n = nano();
    if (x % &n).is_zero() {
        (x / n).to_i64()
    } else {
        None
    }
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
    as_int(&q("asInteger", a, 0)?)
        .map(Value::Int)
        .ok_or_else(|| fail("asInteger", "cannot convert value to integer"))
});
cel_fn!(as_float, |a| {
    let x = q("asApproximateFloat", a, 0)?;
    Ok(Value::Float(x.to_f64().unwrap_or(f64::NAN) / 1e9))
});
cel_fn!(is_integer, |a| Ok(Value::Bool(
    as_int(&q("isInteger", a, 0)?).is_some()
)));
cel_fn!(sign, |a| Ok(Value::Int(match q("sign", a, 0)?.sign() {
    Sign::Minus => -1,
    Sign::NoSign => 0,
    Sign::Plus => 1,
})));
cel_fn!(add, |a| Ok(val(q("add", a, 0)? + q("add", a, 1)?)));
cel_fn!(sub, |a| Ok(val(q("sub", a, 0)? - q("sub", a, 1)?)));

#[cfg(test)]
mod tests {
    use super::*;

    fn n(x: i128) -> Option<Quantity> {
        Some(Quantity(BigInt::from(x)))
    }

    #[test]
    fn parses_kubernetes_quantities() {
        const NANO: i128 = 1_000_000_000;
        assert_eq!(parse("500m"), n(500_000_000));
        assert_eq!(parse("1Gi"), n(1_073_741_824 * NANO));
        assert_eq!(parse("1.5k"), n(1500 * NANO));
        assert_eq!(parse("1e3"), n(1000 * NANO));
        assert_eq!(parse("2E"), n(2_000_000_000_000_000_000 * NANO));
        assert!(parse("9999999999999999999999999999999999999G").is_some());
        assert!(parse("1.5.3").is_none() && parse("12Q").is_none() && parse("").is_none());
    }
}
