//! Load-time validation of constant arguments, as the API server's CEL
//! environment validates them (cel-go's literal validators and constant
//! conversions): regex patterns, `duration('..')`, `timestamp('..')`, and
//! `int`/`uint`/`double` of a literal that cannot convert.

use cel::common::ast::{Expr, LiteralValue};
use cel::parser::Expression;

fn literal(e: Option<&Expression>) -> Option<&LiteralValue> {
    match &e?.expr {
        Expr::Literal(l) => Some(l),
        _ => None,
    }
}

fn string(e: Option<&Expression>) -> Option<&str> {
    match literal(e)? {
        LiteralValue::String(s) => Some(s.inner()),
        _ => None,
    }
}

/// Checks the constant arguments of a call to `f`.
pub fn validate(f: &str, target: Option<&Expression>, args: &[Expression]) -> Result<(), String> {
    match f {
        "matches" => {
            let pattern = if target.is_some() {
                args.first()
            } else {
                args.get(1)
            };
            if let Some(p) = string(pattern) {
                super::re2::compile(p).map_err(|e| format!("invalid regex `{p}`: {e}"))?;
            }
        }
        "find" | "findAll" => {
            if let Some(p) = string(args.first()) {
                super::re2::compile(p).map_err(|e| format!("invalid regex `{p}`: {e}"))?;
            }
        }
        "duration" => {
            if let Some(s) = string(args.first()) {
                parse_duration(s).ok_or_else(|| format!("invalid duration literal `{s}`"))?;
            }
        }
        "timestamp" => {
            if let Some(s) = string(args.first()) {
                parse_timestamp(s).ok_or_else(|| format!("invalid timestamp literal `{s}`"))?;
            }
        }
        "int" | "uint" | "double" => conversion(f, literal(args.first()))?,
        _ => {}
    }
    Ok(())
}

fn conversion(f: &str, l: Option<&LiteralValue>) -> Result<(), String> {
    let ok = match (f, l) {
        ("int", Some(LiteralValue::Double(d))) => {
            let d = *d.inner();
            d.is_finite() && d > -9.223_372_036_854_776e18 && d < 9.223_372_036_854_776e18
        }
        ("int", Some(LiteralValue::UInt(u))) => *u.inner() <= i64::MAX as u64,
        ("int", Some(LiteralValue::String(s))) => s.inner().parse::<i64>().is_ok(),
        ("uint", Some(LiteralValue::Double(d))) => {
            let d = *d.inner();
            d.is_finite() && d > -1.0 && d < 1.844_674_407_370_955_2e19
        }
        ("uint", Some(LiteralValue::Int(i))) => *i.inner() >= 0,
        ("uint", Some(LiteralValue::String(s))) => s.inner().parse::<u64>().is_ok(),
        ("double", Some(LiteralValue::String(s))) => go_float(s.inner()),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "constant conversion `{f}(...)` fails: the value is out of range or does not parse"
        ))
    }
}

fn go_float(s: &str) -> bool {
    let t = s.trim_start_matches(['+', '-']);
    matches!(t.to_ascii_lowercase().as_str(), "inf" | "infinity" | "nan")
        || s.parse::<f64>().is_ok()
}

/// Parses a Go duration (`1h30m`, `-1.5s`, `300ms`) into nanoseconds, as
/// cel-go does (within the range of a Go `time.Duration`).
pub fn parse_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_end);
        if num.is_empty() || num == "." {
            return None;
        }
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += num.parse::<f64>().ok()? * scale;
        rest = tail;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let n = total as i128;
    Some(if neg { -n } else { n })
}

/// Checks an RFC 3339 timestamp as Go's `time.RFC3339` layout parses it,
/// within CEL's range (years 1 to 9999 in UTC).
pub fn parse_timestamp(s: &str) -> Option<()> {
    let b = s.as_bytes();
    let shape = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':';
    if !shape {
        return None;
    }
    let (civil, offset_secs) = if let Some(c) = s.strip_suffix('Z') {
        (c, 0i64)
    } else {
        let (c, off) = s.split_at(s.len().checked_sub(6)?);
        let sign = match off.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (h, m) = off[1..].split_once(':')?;
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        if h > 23 || m > 59 {
            return None;
        }
        (c, sign * (h * 3600 + m * 60))
    };
    if civil.len() > 19 && !civil[19..].starts_with('.') {
        return None;
    }
    let dt: jiff::civil::DateTime = civil.parse().ok()?;
    let utc = dt
        .checked_sub(jiff::SignedDuration::from_secs(offset_secs))
        .ok()?;
    (1..=9999).contains(&utc.year()).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_parses_them() {
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("-1.5s"), Some(-1_500_000_000));
        assert_eq!(parse_duration("0"), Some(0));
        for bad in ["", "1", "1x", "1d", "h", "1.2.3s", "9999999999h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_as_go_parses_them() {
        assert!(parse_timestamp("2011-08-18T19:03:37.01+01:00").is_some());
        assert!(parse_timestamp("2009-02-13T23:31:30Z").is_some());
        for bad in [
            "2009-02-13",
            "2009-02-13 23:31:30Z",
            "yesterday",
            "2009-02-30T00:00:00Z",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }
}
