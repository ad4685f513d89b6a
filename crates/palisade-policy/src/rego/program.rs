//! A compiled Gatekeeper Rego program: the template's Rego plus its libs in
//! one regorus engine, prepared once and cloned per evaluation.

use regorus::utils::limits::ExecutionTimerConfig;
use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Deepest nesting of brackets a Rego source may have. The Gatekeeper
/// library nests at most 6 deep; regorus' parser takes time exponential in
/// the depth of some unclosed nestings (43 `[` kept it busy for minutes), so
/// a hostile template would stall a scan or the webhook's load.
pub const MAX_NESTING: usize = 24;

/// Engines most recently used per program on this thread, so that an
/// evaluation without data reuses a prepared engine instead of cloning one.
const MAX_CACHED: usize = 512;

thread_local! {
    static ENGINES: RefCell<HashMap<u64, regorus::Engine>> = RefCell::new(HashMap::new());
}

/// One `violation[{"msg": ..., "details": ...}]` result.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The message.
    pub msg: String,
    /// The details object, `null` when absent.
    pub details: serde_json::Value,
}

/// Rego compiled and prepared for evaluation.
#[derive(Clone)]
pub struct RegoProgram {
    id: u64,
    engine: regorus::Engine,
    rule: String,
    uses_inventory: bool,
}

impl RegoProgram {
    /// Compiles `rego` and `libs` (Rego v0, as Gatekeeper reads them) for the
    /// template `name`, bounding each evaluation by `limit`. The error is the
    /// compiler's message.
    pub fn compile(
        name: &str,
        rego: &str,
        libs: &[String],
        limit: Duration,
    ) -> Result<RegoProgram, String> {
        check_nesting(rego)?;
        for (i, lib) in libs.iter().enumerate() {
            check_nesting(lib).map_err(|e| format!("libs[{i}]: {e}"))?;
        }
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit,
            check_interval: NonZeroU32::new(64).unwrap_or(NonZeroU32::MIN),
        });
        let package = engine
            .add_policy(format!("{name}.rego"), rego.to_string())
            .map_err(|e| format!("{e:#}"))?;
        for (i, lib) in libs.iter().enumerate() {
            engine
                .add_policy(format!("{name}.libs[{i}].rego"), lib.clone())
                .map_err(|e| format!("libs[{i}]: {e:#}"))?;
        }
        let has_violation = engine
            .has_declared_rule_rooted_at(&format!("{name}.rego"), "violation")
            .map_err(|e| format!("{e:#}"))?;
        if !has_violation {
            return Err(format!("{package} has no `violation` rule"));
        }
        let mut program = RegoProgram {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            rule: format!("{package}.violation"),
            uses_inventory: rego.contains("inventory")
                || libs.iter().any(|l| l.contains("inventory")),
            engine,
        };
        // Analyse and schedule now, so that evaluations clone a prepared engine
        // and errors such as unknown functions surface at load time.
        program.engine.set_input(regorus::Value::new_object());
        program
            .engine
            .eval_rule(program.rule.clone())
            .map_err(|e| format!("{e:#}"))?;
        Ok(program)
    }

    /// Whether the Rego reads `data.inventory`.
    pub fn uses_inventory(&self) -> bool {
        self.uses_inventory
    }

    /// Evaluates `violation` for `input` with `data` merged in.
    pub fn evaluate(
        &self,
        input: regorus::Value,
        data: Option<&regorus::Value>,
    ) -> Result<Vec<Violation>, String> {
        let result = match data.filter(|_| self.uses_inventory) {
            Some(data) => {
                let mut engine = self.engine.clone();
                engine
                    .add_data(data.clone())
                    .map_err(|e| format!("{e:#}"))?;
                engine.set_input(input);
                engine
                    .eval_rule(self.rule.clone())
                    .map_err(|e| format!("{e:#}"))?
            }
            None => ENGINES.with(|cell| {
                let mut cache = cell.borrow_mut();
                if cache.len() >= MAX_CACHED && !cache.contains_key(&self.id) {
                    cache.clear();
                }
                let engine = cache.entry(self.id).or_insert_with(|| self.engine.clone());
                engine.set_input(input);
                let r = engine.eval_rule(self.rule.clone());
                if r.is_err() {
                    cache.remove(&self.id); // do not reuse an interrupted engine
                }
                r.map_err(|e| format!("{e:#}"))
            })?,
        };
        let items: Vec<&regorus::Value> = match &result {
            regorus::Value::Undefined => return Ok(Vec::new()),
            regorus::Value::Set(s) => s.iter().collect(),
            regorus::Value::Array(a) => a.iter().collect(),
            other => return Err(format!("`violation` is not a set: {other}")),
        };
        Ok(items.into_iter().map(violation).collect())
    }
}

fn violation(v: &regorus::Value) -> Violation {
    let msg = match &v["msg"] {
        regorus::Value::String(s) => s.to_string(),
        regorus::Value::Undefined => String::from("(violation without msg)"),
        other => other.to_string(),
    };
    let details = match &v["details"] {
        regorus::Value::Undefined => serde_json::Value::Null,
        d => serde_json::to_value(d).unwrap_or(serde_json::Value::Null),
    };
    Violation { msg, details }
}

/// Refuses a source whose brackets (`(`, `[`, `{`, outside strings and
/// comments) nest deeper than [`MAX_NESTING`], naming the line.
fn check_nesting(src: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut chars = src.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            // a comment runs to the end of the line
            '#' if chars.by_ref().any(|c| c == '\n') => line += 1,
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' | '\n' => {
                            line += usize::from(c == '\n');
                            break;
                        }
                        _ => {}
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    match c {
                        '`' => break,
                        '\n' => line += 1,
                        _ => {}
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!(
                        "line {line}: brackets nested more than {MAX_NESTING} deep"
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_evaluates() {
        let rego = "package t\nviolation[{\"msg\": msg}] { input.x > 1; msg := sprintf(\"x is %v\", [input.x]) }\n";
        let p = RegoProgram::compile("t", rego, &[], Duration::from_secs(1)).unwrap();
        let v = p
            .evaluate(regorus::Value::from(serde_json::json!({"x": 2})), None)
            .unwrap();
        assert_eq!(v[0].msg, "x is 2");
        assert!(p
            .evaluate(regorus::Value::from(serde_json::json!({"x": 0})), None)
            .unwrap()
            .is_empty());
    }

    /// The fuzzer's hang (43 unclosed `[`) is refused before regorus parses
    /// it; strings and comments do not count, and the library's depth passes.
    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let hostile = format!(
            "package t\n\nviolat{}ion[{{\"msg\": m}}] {{ m := \"x\" }}\n",
            "[".repeat(43)
        );
        let e = RegoProgram::compile("t", &hostile, &[], Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(
            e.contains("line 3: brackets nested more than 24 deep"),
            "{e}"
        );
        let e = RegoProgram::compile(
            "t",
            "package t\nviolation[{\"msg\": \"m\"}] { true }",
            &[hostile],
            Duration::from_secs(1),
        )
        .err()
        .unwrap();
        assert!(e.starts_with("libs[0]: line 3"), "{e}");
        let quoted = format!(
            "package t\n# {}\nviolation[{{\"msg\": m}}] {{ m := \"{}\" }}\n",
            "[".repeat(40),
            "(".repeat(40)
        );
        assert!(check_nesting(&quoted).is_ok());
        assert!(check_nesting(&"[".repeat(24)).is_ok());
        assert!(check_nesting(&"[".repeat(25)).is_err());
    }

    #[test]
    fn bad_rego_and_missing_violation_are_errors() {
        assert!(RegoProgram::compile(
            "t",
            "package t\nviolation[{\"msg\": m}] { m := }",
            &[],
            Duration::from_secs(1)
        )
        .is_err());
        let e = RegoProgram::compile(
            "t",
            "package t\nallow { true }",
            &[],
            Duration::from_secs(1),
        )
        .err()
        .unwrap();
        assert!(e.contains("no `violation` rule"), "{e}");
    }

    #[test]
    fn long_evaluations_stop_at_the_limit() {
        let rego = "package t\nviolation[{\"msg\": \"slow\"}] { input.slow; count([1 | numbers.range(1, 3000)[_]; numbers.range(1, 3000)[_]]) > 0 }\n";
        let p = RegoProgram::compile("t", rego, &[], Duration::from_millis(50))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = p
            .evaluate(
                regorus::Value::from(serde_json::json!({"slow": true})),
                None,
            )
            .unwrap_err();
        assert!(
            err.to_lowercase().contains("time") || err.contains("limit"),
            "{err}"
        );
    }
}
