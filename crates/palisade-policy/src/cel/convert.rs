//! JSON to CEL values, borrowing strings from the JSON (no copies of the
//! object's text). JSON integers become `int` as Kubernetes types them.

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use serde_json::Value;
use std::collections::HashMap;

/// The CEL value of a JSON value. Integers that fit `int64` are `int`
/// (Kubernetes' OpenAPI integers are int64), larger ones `uint`. Fields set
/// to `null` are left out, as the API server drops them when it decodes an
/// object (`volumes: null` is no volumes, so `has()` is false).
pub fn to_val(v: &Value) -> Box<dyn Val + '_> {
    match v {
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => Box::new(CelString::from(s.as_str())),
        Value::Array(a) => Box::new(CelList::from(a.iter().map(to_val).collect::<Vec<_>>())),
        Value::Object(m) => {
            let map: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (CelMapKey::from(k.as_str()), to_val(v)))
                .collect();
            Box::new(CelMap::from(map))
        }
    }
}

/// A CEL value as JSON (for messages and annotations); `None` for values
/// JSON cannot hold.
pub fn to_json(v: &cel::Value) -> Option<Value> {
    use cel::objects::Key;
    Some(match v {
        cel::Value::Null => Value::Null,
        cel::Value::Bool(b) => Value::Bool(*b),
        cel::Value::Int(i) => Value::from(*i),
        cel::Value::UInt(u) => Value::from(*u),
        cel::Value::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number)?,
        cel::Value::String(s) => Value::String(s.to_string()),
        cel::Value::List(l) => Value::Array(l.iter().map(to_json).collect::<Option<Vec<_>>>()?),
        cel::Value::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.map.iter() {
                let key = match k {
                    Key::String(s) => s.to_string(),
                    Key::Int(i) => i.to_string(),
                    Key::Uint(u) => u.to_string(),
                    Key::Bool(b) => b.to_string(),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        cel::Value::Timestamp(t) => Value::String(t.to_rfc3339()),
        cel::Value::Duration(d) => {
            Value::String(format!("{}s", d.num_milliseconds() as f64 / 1000.0))
        }
        _ => return None,
    })
}

/// A CEL value as display text: strings bare, the rest as JSON.
pub fn to_text(v: &cel::Value) -> String {
    match v {
        cel::Value::String(s) => s.to_string(),
        other => to_json(other)
            .map(|j| j.to_string())
            .unwrap_or_else(|| format!("{other:?}")),
    }
}
