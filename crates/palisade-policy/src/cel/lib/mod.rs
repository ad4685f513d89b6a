//! Kubernetes' CEL extension libraries that the `cel` crate does not ship:
//! lists, regex, sets, url, ip/cidr, quantity and semver.
//!
//! Each function is written over [`cel::Value`]s; [`cel_fn!`] turns it into
//! the overload signature the `cel` crate calls.

pub mod format;
pub mod lists;
pub mod net;
pub mod optional;
pub mod quantity;
pub mod regex;
pub mod semver;
pub mod typed;
pub mod url;

use cel::common::types::{Type, DYN_TYPE};
use cel::{DeclarationError, Env, ExecutionError, Value};

/// Declares a `cel` overload `$name` that converts its arguments to
/// [`cel::Value`]s and calls `$body(&[Value]) -> Result<Value, ExecutionError>`.
macro_rules! cel_fn {
    ($name:ident, $body:expr) => {
        fn $name<'b, 'v>(
            args: Vec<cel::common::value::CowVal<'b, 'v>>,
        ) -> Result<cel::common::value::CowVal<'b, 'v>, cel::ExecutionError> {
            let vals = args
                .iter()
                .map(|a| cel::Value::try_from(a.as_ref()))
                .collect::<Result<Vec<_>, _>>()?;
            let f: fn(&[cel::Value]) -> Result<cel::Value, cel::ExecutionError> = $body;
            let out = f(&vals)?;
            let boxed: Box<dyn cel::common::value::Val> =
                Box::<dyn cel::common::value::Val>::try_from(out)?;
            Ok(cel::common::value::CowVal::Owned(boxed))
        }
    };
}
pub(crate) use cel_fn;

/// An error from function `f`.
pub fn fail(f: &str, msg: impl std::fmt::Display) -> ExecutionError {
    ExecutionError::function_error(f, msg)
}

/// Argument `i` as a string.
pub fn str_arg<'a>(f: &str, args: &'a [Value], i: usize) -> Result<&'a str, ExecutionError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(other) => Err(fail(
            f,
            format!("expected a string, got {}", other.type_of()),
        )),
        None => Err(ExecutionError::invalid_argument_count(i + 1, args.len())),
    }
}

/// Argument `i` as an opaque value of type `T`.
pub fn opaque<'a, T: 'static>(
    f: &str,
    args: &'a [Value],
    i: usize,
) -> Result<&'a T, ExecutionError> {
    match args.get(i) {
        Some(Value::Opaque(o)) => o
            .downcast_ref::<T>()
            .ok_or_else(|| fail(f, format!("unexpected {} argument", o.runtime_type_name()))),
        Some(other) => Err(fail(f, format!("unexpected {} argument", other.type_of()))),
        None => Err(ExecutionError::invalid_argument_count(i + 1, args.len())),
    }
}

type F = cel::common::functions::Function;

/// Registers a global function.
fn global(env: &mut Env, name: &str, args: Vec<Type>, f: F) -> Result<(), DeclarationError> {
    let id = format!("k8s_{name}_{}", args.len());
    env.add_overload(name, &id, args, f)
}

/// Registers a member function on `target`.
fn member(
    env: &mut Env,
    name: &str,
    target: Type,
    args: Vec<Type>,
    f: F,
) -> Result<(), DeclarationError> {
    let id = format!("k8s_{}_{name}_{}", target.name(), args.len());
    env.add_member_overload(name, &id, target, args, f)
}

/// Registers every library on `env`.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    lists::register(env)?;
    regex::register(env)?;
    net::register(env)?;
    url::register(env)?;
    quantity::register(env)?;
    semver::register(env)?;
    format::register(env)?;
    optional::register(env)?;
    typed::register(env)?;
    // Comparisons shared by quantity and semver dispatch on the receiver.
    member(env, "isGreaterThan", DYN_TYPE, vec![DYN_TYPE], compare_gt)?;
    member(env, "isLessThan", DYN_TYPE, vec![DYN_TYPE], compare_lt)?;
    member(env, "compareTo", DYN_TYPE, vec![DYN_TYPE], compare_to)?;
    for name in ["net.IP", "net.CIDR"] {
        env.add_type(Type::new_opaque_type(name.to_string()))?;
    }
    Ok(())
}

fn ordering(f: &str, args: &[Value]) -> Result<std::cmp::Ordering, ExecutionError> {
    if let Ok(a) = opaque::<quantity::Quantity>(f, args, 0) {
        return Ok(a.cmp(opaque::<quantity::Quantity>(f, args, 1)?));
    }
    if let Ok(a) = opaque::<semver::Semver>(f, args, 0) {
        return Ok(a.cmp(opaque::<semver::Semver>(f, args, 1)?));
    }
    Err(fail(f, "expected a quantity or a semver"))
}

cel_fn!(compare_gt, |a| Ok(Value::Bool(
    ordering("isGreaterThan", a)?.is_gt()
)));
cel_fn!(compare_lt, |a| Ok(Value::Bool(
    ordering("isLessThan", a)?.is_lt()
)));
cel_fn!(compare_to, |a| Ok(Value::Int(
    ordering("compareTo", a)? as i64
)));
