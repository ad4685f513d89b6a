//! The per-evaluation time limit of CEL. CEL has no loops or recursion, but
//! nested comprehensions over large lists can still run for a long time:
//! every comprehension's range is wrapped at compile time in a call that
//! checks this thread's deadline, so an evaluation stops with an error soon
//! after its limit (within one innermost comprehension).

use cel::common::ast::{EntryExpr, Expr};
use cel::common::types::DYN_TYPE;
use cel::common::value::CowVal;
use cel::parser::Expression;
use cel::{DeclarationError, Env, ExecutionError};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// The name of the checking function (not callable from CEL source: `@`).
const TICK: &str = "@palisade_deadline";

thread_local! {
    static DEADLINE: Cell<Option<(Instant, Duration)>> = const { Cell::new(None) };
}

/// Registers the checking function.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(TICK, "palisade_deadline_dyn", vec![DYN_TYPE], tick)
}

fn tick<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    if let Some((deadline, limit)) = DEADLINE.with(Cell::get) {
        if Instant::now() > deadline {
            return Err(ExecutionError::function_error(
                "evaluation",
                format!(
                    "exceeded the per-evaluation limit of {} ms",
                    limit.as_millis()
                ),
            ));
        }
    }
    args.pop()
        .ok_or_else(|| ExecutionError::invalid_argument_count(1, 0))
}

/// Sets this thread's deadline for the evaluation that `f` runs.
pub fn with_deadline<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let previous = DEADLINE.with(|d| d.replace(Some((Instant::now() + limit, limit))));
    let out = f();
    DEADLINE.with(|d| d.set(previous));
    out
}

/// Wraps every comprehension range of `e` in the deadline check.
pub fn instrument(e: &mut Expression) {
    match &mut e.expr {
        Expr::Comprehension(c) => {
            instrument(&mut c.iter_range);
            instrument(&mut c.accu_init);
            instrument(&mut c.loop_cond);
            instrument(&mut c.loop_step);
            instrument(&mut c.result);
            let range = std::mem::take(&mut c.iter_range);
            c.iter_range = Expression {
                id: range.id,
                expr: Expr::Call(cel::common::ast::CallExpr {
                    func_name: TICK.to_string(),
                    target: None,
                    args: vec![range],
                }),
            };
        }
        Expr::Call(call) => {
            if let Some(t) = call.target.as_mut() {
                instrument(t);
            }
            call.args.iter_mut().for_each(instrument);
        }
        Expr::List(l) => l.elements.iter_mut().for_each(instrument),
        Expr::Map(m) => {
            for entry in &mut m.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(me) => {
                        instrument(&mut me.key);
                        instrument(&mut me.value);
                    }
                    EntryExpr::StructField(f) => instrument(&mut f.value),
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &mut s.entries {
                if let EntryExpr::StructField(f) = &mut entry.expr {
                    instrument(&mut f.value);
                }
            }
        }
        Expr::Select(s) => instrument(&mut s.operand),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}
