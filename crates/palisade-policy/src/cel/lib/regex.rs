//! Kubernetes' regex library (`find`, `findAll`) and CEL's `matches`, with
//! Go's RE2 syntax and a process-wide cache of compiled patterns
//! ([`crate::cel::re2`]).

use super::{cel_fn, fail, global, member, str_arg};
use crate::cel::re2;
use cel::common::ast::Expr;
use cel::common::types::{INT_TYPE, STRING_TYPE};
use cel::parser::Expression;
use cel::{DeclarationError, Env, ExecutionError, Value};
use std::sync::Arc;

/// The cached `matches` that compiled expressions call instead of the
/// standard one.
const MATCHES: &str = "@matches";

/// Registers `find`, `findAll` and the cached `matches`.
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
    global(env, MATCHES, vec![STRING_TYPE, STRING_TYPE], matches)?;
    Ok(())
}

/// Rewrites every `matches` call of `e` (global or member) into the cached
/// one.
pub fn use_cache(e: &mut Expression) {
    match &mut e.expr {
        Expr::Call(call) => {
            if let Some(t) = call.target.as_mut() {
                use_cache(t);
            }
            call.args.iter_mut().for_each(use_cache);
            if call.func_name == "ofNonZeroValue"
                && matches!(call.target.as_deref().map(|t| &t.expr), Some(Expr::Ident(n)) if n == "optional")
            {
                call.target = None;
                call.func_name = super::optional::OF_NON_ZERO.to_string();
            }
            if call.func_name == "matches" {
                if let Some(t) = call.target.take() {
                    call.args.insert(0, *t);
                }
                if call.args.len() == 2 {
                    call.func_name = MATCHES.to_string();
                }
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
                use_cache(part);
            }
        }
        Expr::List(l) => l.elements.iter_mut().for_each(use_cache),
        Expr::Map(m) => {
            for entry in &mut m.entries {
                if let cel::common::ast::EntryExpr::MapEntry(me) = &mut entry.expr {
                    use_cache(&mut me.key);
                    use_cache(&mut me.value);
                }
            }
        }
        Expr::Select(s) => use_cache(&mut s.operand),
        _ => {}
    }
}

fn compile(f: &str, re: &str) -> Result<Arc<regex::Regex>, ExecutionError> {
    re2::cached(re).map_err(|e| fail(f, format!("invalid regex `{re}`: {e}")))
}

cel_fn!(matches, |a| {
    let s = str_arg("matches", a, 0)?;
    let re = compile("matches", str_arg("matches", a, 1)?)?;
    Ok(Value::Bool(re.is_match(s)))
});

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
