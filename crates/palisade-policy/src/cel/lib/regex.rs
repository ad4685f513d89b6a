//! Kubernetes' regex library: `find` and `findAll` on strings.

use super::{cel_fn, fail, member, str_arg};
use cel::common::types::{INT_TYPE, STRING_TYPE};
use cel::{DeclarationError, Env, ExecutionError, Value};
use std::sync::Arc;

/// Registers `find` and `findAll`.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    member(env, "find", STRING_TYPE, vec![STRING_TYPE], find)?;
    member(env, "findAll", STRING_TYPE, vec![STRING_TYPE], find_all)?;
    member(
        env,
        "findAll",
        STRING_TYPE,
        vec![STRING_TYPE, INT_TYPE],
        find_all_n,
    )?;
    Ok(())
}

fn compile(f: &str, re: &str) -> Result<regex::Regex, ExecutionError> {
    regex::Regex::new(re).map_err(|e| fail(f, e))
}

fn all(f: &str, a: &[Value], limit: Option<i64>) -> Result<Value, ExecutionError> {
    let s = str_arg(f, a, 0)?;
    let re = compile(f, str_arg(f, a, 1)?)?;
    let n = match limit {
        Some(n) if n >= 0 => n as usize,
        _ => usize::MAX,
    };
    let found: Vec<Value> = re
        .find_iter(s)
        .take(n)
        .map(|m| Value::String(Arc::new(m.as_str().to_string())))
        .collect();
    Ok(Value::List(Arc::new(found)))
}

cel_fn!(find, |a| {
    let s = str_arg("find", a, 0)?;
    let re = compile("find", str_arg("find", a, 1)?)?;
    Ok(Value::String(Arc::new(
        re.find(s)
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
    )))
});

cel_fn!(find_all, |a| all("findAll", a, None));

cel_fn!(find_all_n, |a| {
    let n = match a.get(2) {
        Some(Value::Int(n)) => *n,
        _ => -1,
    };
    all("findAll", a, Some(n))
});
