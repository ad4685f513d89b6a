//! Functions whose result depends on a static type the `cel` crate's
//! runtime does not see, called where the load-time check found that type
//! ([`crate::cel::check::check_and_plan`]): `sum()` of a `list(duration)`
//! (`duration('0')` when empty, as Kubernetes' lists library gives) and
//! `string()` of a timestamp (RFC 3339 with the offset as written, as Go's
//! `time.Format(time.RFC3339Nano)`).

use super::{cel_fn, fail, global};
use cel::common::ast::Expr;
use cel::common::types::DYN_TYPE;
use cel::parser::Expression;
use cel::{DeclarationError, Env, Value};
use std::sync::Arc;

/// `sum()` of a list of durations.
pub const SUM_DURATION: &str = "@sumDuration";
/// `string()` of a timestamp.
pub const STRING_TIMESTAMP: &str = "@stringTimestamp";

/// Registers the functions.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    global(env, SUM_DURATION, vec![DYN_TYPE], sum_duration)?;
    global(env, STRING_TIMESTAMP, vec![DYN_TYPE], string_timestamp)
}

/// Applies `rewrites` (expression id, function) to `e`: the call becomes a
/// global call of the function, its receiver the first argument.
pub fn apply(e: &mut Expression, rewrites: &[(u64, &'static str)]) {
    if rewrites.is_empty() {
        return;
    }
    let id = e.id;
    match &mut e.expr {
        Expr::Call(call) => {
            if let Some(t) = call.target.as_mut() {
                apply(t, rewrites);
            }
            call.args.iter_mut().for_each(|a| apply(a, rewrites));
            if let Some((_, name)) = rewrites.iter().find(|(i, _)| *i == id) {
                if let Some(t) = call.target.take() {
                    call.args.insert(0, *t);
                }
                call.func_name = name.to_string();
            }
        }
        Expr::Comprehension(c) => {
            for part in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                apply(part, rewrites);
            }
        }
        Expr::List(l) => l.elements.iter_mut().for_each(|x| apply(x, rewrites)),
        Expr::Map(m) => {
            for entry in &mut m.entries {
                if let cel::common::ast::EntryExpr::MapEntry(me) = &mut entry.expr {
                    apply(&mut me.key, rewrites);
                    apply(&mut me.value, rewrites);
                }
            }
        }
        Expr::Select(s) => apply(&mut s.operand, rewrites),
        _ => {}
    }
}

cel_fn!(sum_duration, |a| {
    let Some(Value::List(l)) = a.first() else {
        return Err(fail("sum", "expected a list"));
    };
    let mut acc = Value::Duration(chrono::Duration::zero());
    for v in l.iter() {
        acc = (acc + v.clone())?;
    }
    Ok(acc)
});

cel_fn!(string_timestamp, |a| {
    let Some(Value::Timestamp(t)) = a.first() else {
        return Err(fail("string", "expected a timestamp"));
    };
    let text = if t.offset().local_minus_utc() == 0 {
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    };
    Ok(Value::String(Arc::new(trim_fraction(&text))))
});

/// Drops trailing zeros of the fractional seconds, as Go's RFC3339Nano.
fn trim_fraction(s: &str) -> String {
    let Some(dot) = s.find('.') else {
        return s.to_string();
    };
    let end = s[dot..]
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or(s.len(), |i| dot + i);
    let frac = s[dot + 1..end].trim_end_matches('0');
    if frac.is_empty() {
        format!("{}{}", &s[..dot], &s[end..])
    } else {
        format!("{}.{frac}{}", &s[..dot], &s[end..])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trims_fractions_as_go() {
        assert_eq!(
            super::trim_fraction("2011-08-18T19:03:37.010+01:00"),
            "2011-08-18T19:03:37.01+01:00"
        );
        assert_eq!(
            super::trim_fraction("2011-08-18T19:03:37.000Z"),
            "2011-08-18T19:03:37Z"
        );
        assert_eq!(
            super::trim_fraction("2011-08-18T19:03:37Z"),
            "2011-08-18T19:03:37Z"
        );
    }
}
