//! Shared by the robustness tests: every field of an object replaced by
//! values of every JSON type.

use serde_json::{json, Value};

/// One value of every JSON type, with the edge cases rules mistake for others.
pub fn replacements() -> [Value; 12] {
    [
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(""),
        json!("true"),
        json!([]),
        json!([1, "x", null]),
        json!({}),
        json!({"a": 1}),
    ]
}

/// The JSON pointer of every node below `v` (children before parents).
pub fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let key = k.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    if !at.is_empty() {
        out.push(at);
    }
}
