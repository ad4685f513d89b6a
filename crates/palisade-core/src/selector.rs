//! Kubernetes label selectors (`matchLabels` and `matchExpressions`).

use serde::Deserialize;
use std::collections::BTreeMap;

/// A label selector as in `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Labels that must be equal.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements.
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values for `In` and `NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// Error for an invalid selector operator.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("unknown label selector operator `{0}` (expected In, NotIn, Exists or DoesNotExist)")]
pub struct BadOperator(pub String);

impl LabelSelector {
    /// Parses a selector from JSON.
    pub fn from_value(v: &serde_json::Value) -> Result<Self, String> {
        let sel: LabelSelector = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        sel.validate().map_err(|e| e.to_string())?;
        Ok(sel)
    }

    /// Checks every operator is known.
    pub fn validate(&self) -> Result<(), BadOperator> {
        for r in &self.match_expressions {
            if !matches!(
                r.operator.as_str(),
                "In" | "NotIn" | "Exists" | "DoesNotExist"
            ) {
                return Err(BadOperator(r.operator.clone()));
            }
        }
        Ok(())
    }

    /// Whether the selector is empty (an empty selector matches everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether `labels` satisfy the selector.
    pub fn matches<'a, F>(&self, lookup: F) -> bool
    where
        F: Fn(&str) -> Option<&'a str>,
    {
        self.match_labels
            .iter()
            .all(|(k, v)| lookup(k) == Some(v.as_str()))
            && self.match_expressions.iter().all(|r| {
                let got = lookup(&r.key);
                match r.operator.as_str() {
                    "In" => got.is_some_and(|g| r.values.iter().any(|v| v == g)),
                    "NotIn" => got.is_none_or(|g| !r.values.iter().any(|v| v == g)),
                    "Exists" => got.is_some(),
                    "DoesNotExist" => got.is_none(),
                    _ => false,
                }
            })
    }

    /// Whether a JSON labels object satisfies the selector.
    pub fn matches_json(&self, labels: Option<&serde_json::Value>) -> bool {
        self.matches(|k| labels.and_then(|l| l.get(k)).and_then(|v| v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn match_labels_and_expressions() {
        let sel = LabelSelector::from_value(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]
        }))
        .unwrap();
        assert!(sel.matches_json(Some(&json!({"app": "web"}))));
        assert!(!sel.matches_json(Some(&json!({"app": "web", "tier": "db"}))));
        assert!(!sel.matches_json(None));
        assert!(LabelSelector::from_value(
            &json!({"matchExpressions": [{"key": "a", "operator": "Has"}]})
        )
        .is_err());
    }
}
