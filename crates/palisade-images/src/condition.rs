//! An attestor's `condition`: a CEL expression over the attestation's
//! `predicate`, compiled once in the same environment as Palisade's CEL
//! policies (Kubernetes' libraries included).

use serde_json::Value;
use std::sync::Arc;

/// A compiled condition.
pub struct Condition {
    source: String,
    env: Arc<cel::Env>,
    program: cel::Program,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

impl Condition {
    /// Compiles `source`; the error says why it does not compile.
    pub fn compile(source: &str) -> Result<Condition, String> {
        if source.trim().is_empty() {
            return Err("the condition is empty".into());
        }
        let env = palisade_policy::cel::env::env()?;
        let program = env
            .compile(source)
            .map_err(|e| format!("CEL does not compile: {e}"))?;
        Ok(Condition {
            source: source.to_string(),
            env,
            program,
        })
    }

    /// `Ok` when the condition holds for `predicate`, else why not.
    pub fn eval(&self, predicate: &Value) -> Result<(), String> {
        let mut ctx = cel::Context::with_env(self.env.clone());
        ctx.add_variable_as_val(
            "predicate",
            palisade_policy::cel::convert::to_val(predicate),
        );
        match self.program.execute(&ctx) {
            Ok(cel::Value::Bool(true)) => Ok(()),
            Ok(cel::Value::Bool(false)) => Err(format!("condition `{}` is false", self.source)),
            Ok(other) => Err(format!(
                "condition `{}` gave {other:?}, not a boolean",
                self.source
            )),
            Err(e) => Err(format!("condition `{}` failed: {e}", self.source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_read_the_predicate() {
        let c = Condition::compile("predicate.scanner.result.criticalCount == 0").unwrap();
        let ok = json!({"scanner": {"result": {"criticalCount": 0}}});
        let bad = json!({"scanner": {"result": {"criticalCount": 2}}});
        assert!(c.eval(&ok).is_ok());
        assert!(c.eval(&bad).unwrap_err().contains("is false"));
        assert!(c.eval(&json!({})).is_err());
        assert!(Condition::compile("predicate.(").is_err());
    }
}
