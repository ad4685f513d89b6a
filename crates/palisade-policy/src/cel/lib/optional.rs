//! `optional.ofNonZeroValue` as cel-go defines the zero value of each type,
//! the zero timestamp (`0001-01-01T00:00:00Z`, Go's zero `time.Time`)
//! included. Compiled expressions call it in place of the `cel` crate's.

use super::{cel_fn, global};
use cel::common::types::DYN_TYPE;
use cel::objects::OptionalValue;
use cel::{DeclarationError, Env, Value};
use std::sync::Arc;

/// The name compiled expressions call.
pub const OF_NON_ZERO: &str = "@ofNonZeroValue";

/// Registers the function.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    global(env, OF_NON_ZERO, vec![DYN_TYPE], of_non_zero)
}

/// Whether `v` is its type's zero value.
pub fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::UInt(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.map.is_empty(),
        Value::Duration(d) => d.is_zero(),
        Value::Timestamp(t) => t.timestamp() == -62_135_596_800 && t.timestamp_subsec_nanos() == 0,
        _ => false,
    }
}

cel_fn!(of_non_zero, |a| {
    let v = a.first().cloned().unwrap_or(Value::Null);
    let o = if is_zero(&v) {
        OptionalValue::none()
    } else {
        OptionalValue::of(v)
    };
    Ok(Value::Opaque(Arc::new(o)))
});
