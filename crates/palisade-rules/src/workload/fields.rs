//! Reading pod-spec fields that may have the wrong type, and naming
//! containers in messages.

use palisade_core::workload::Container;
use palisade_core::Field;
use serde_json::Value;

/// A field that should be a boolean, as found in the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    /// `true`.
    True,
    /// `false`.
    False,
    /// Missing or `null`.
    Absent,
    /// Some other type; the text describes it (e.g. `a string ("yes")`).
    Invalid(String),
}

impl Flag {
    /// Reads `v` as a boolean field.
    pub fn of(v: Option<&Value>) -> Flag {
        match v {
            None | Some(Value::Null) => Flag::Absent,
            Some(Value::Bool(true)) => Flag::True,
            Some(Value::Bool(false)) => Flag::False,
            Some(other) => Flag::Invalid(describe(other)),
        }
    }

    /// Whether the field is exactly `true`.
    pub fn is_true(&self) -> bool {
        *self == Flag::True
    }

    /// Whether the field is exactly `false`.
    pub fn is_false(&self) -> bool {
        *self == Flag::False
    }
}

/// Most characters of a value quoted in a message.
const QUOTE_MAX: usize = 40;

/// Describes a value of the wrong type for a message: its JSON type and, for
/// short scalars, the value (never used on env values, which may be secrets).
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => {
            let shown: String = s.chars().take(QUOTE_MAX).collect();
            let more = if s.chars().count() > QUOTE_MAX {
                "..."
            } else {
                ""
            };
            format!("a string ({shown:?}{more})")
        }
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

/// The `securityContext` of a container or pod spec, when it is a mapping.
pub fn security_context(v: &Value) -> Option<&Value> {
    v.field("securityContext").filter(|s| s.is_object())
}

/// A field of the `securityContext` of `v`.
pub fn sc_field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    security_context(v).and_then(|s| s.field(key))
}

/// Names a container for a message: ``container `app` ``,
/// ``init container `setup` ``, or its position when it has no name.
pub fn label(c: &Container<'_>) -> String {
    let kind = match c.list {
        "initContainers" => "init container",
        "ephemeralContainers" => "ephemeral container",
        _ => "container",
    };
    if c.name.is_empty() {
        format!("unnamed {kind} at {}", c.path)
    } else {
        format!("{kind} `{}`", c.name)
    }
}

/// Whether `v` is the number 0 (a root UID).
pub fn is_zero(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Number(n)) => {
            n.as_u64() == Some(0) || n.as_i64() == Some(0) || n.as_f64() == Some(0.0)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_of_every_type() {
        assert_eq!(Flag::of(Some(&json!(true))), Flag::True);
        assert_eq!(Flag::of(Some(&json!(false))), Flag::False);
        assert_eq!(Flag::of(None), Flag::Absent);
        assert_eq!(Flag::of(Some(&Value::Null)), Flag::Absent);
        assert_eq!(
            Flag::of(Some(&json!("yes"))),
            Flag::Invalid("a string (\"yes\")".into())
        );
        assert_eq!(
            Flag::of(Some(&json!(1))),
            Flag::Invalid("a number (1)".into())
        );
        assert!(matches!(Flag::of(Some(&json!({}))), Flag::Invalid(_)));
    }

    #[test]
    fn long_strings_are_cut() {
        let d = describe(&json!("x".repeat(100)));
        assert!(d.ends_with("...)") && d.len() < 70, "{d}");
    }

    #[test]
    fn zero_uids() {
        assert!(is_zero(Some(&json!(0))));
        assert!(is_zero(Some(&json!(0.0))));
        assert!(!is_zero(Some(&json!(1000))));
        assert!(!is_zero(Some(&json!("0"))));
        assert!(!is_zero(None));
    }
}
