//! The cost budget of CEL evaluation, as the API server sets it: each
//! expression may cost at most [`PER_CALL_LIMIT`] (cel-go's `CostLimit`)
//! and one evaluation of a policy binding at most [`RUNTIME_BUDGET`]
//! (`RuntimeCELCostBudget`); a wall-clock deadline bounds it besides.
//!
//! Cost is counted as cel-go counts it, to within a constant: one unit per
//! function call, operator and field selection evaluated, literals free.
//! Each expression is instrumented at load: its root and every
//! comprehension's loop condition (evaluated once per iteration) are wrapped
//! in a call that adds the static cost of what runs with it and stops the
//! evaluation once a limit is passed. [`estimate`] gives the cost an
//! expression has on the smallest object, so that one that could never run
//! within its limit is refused at load.

use cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue};
use cel::common::types::DYN_TYPE;
use cel::common::value::CowVal;
use cel::parser::Expression;
use cel::{DeclarationError, Env, ExecutionError};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// The cost limit of one expression (cel-go `CostLimit`, Kubernetes
/// `PerCallLimit`).
pub const PER_CALL_LIMIT: u64 = 1_000_000;

/// The cost budget of one evaluation of a policy under one binding
/// (Kubernetes `RuntimeCELCostBudget`).
pub const RUNTIME_BUDGET: u64 = 10_000_000;

/// The name of the counting function (not callable from CEL source: `@`).
const TICK: &str = "@palisade_cost";

#[derive(Clone, Copy)]
struct Meter {
    deadline: Instant,
    limit: Duration,
    /// Cost of the current expression.
    expr: u64,
    /// Cost of the whole evaluation.
    total: u64,
    per_call: u64,
    budget: u64,
}

thread_local! {
    static METER: Cell<Option<Meter>> = const { Cell::new(None) };
}

/// Registers the counting function.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(TICK, "palisade_cost_2", vec![DYN_TYPE, DYN_TYPE], tick)
}

fn over(what: &str) -> ExecutionError {
    ExecutionError::function_error("evaluation", format!("operation cancelled: {what}"))
}

fn tick<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let value = args
        .pop()
        .ok_or_else(|| ExecutionError::invalid_argument_count(2, 0))?;
    let cost = args
        .first()
        .and_then(|c| c.downcast_ref::<cel::common::types::CelInt>())
        .map_or(1, |c| (*c.inner()).max(0) as u64);
    if let Some(mut m) = METER.with(Cell::get) {
        m.expr += cost;
        m.total += cost;
        METER.with(|c| c.set(Some(m)));
        if m.expr > m.per_call {
            return Err(over(&format!(
                "actual cost limit exceeded (more than {} for one expression)",
                m.per_call
            )));
        }
        if m.total > m.budget {
            return Err(over(&format!(
                "validation failed due to running out of cost budget, no further validation rules will be run (budget {})",
                m.budget
            )));
        }
        if Instant::now() > m.deadline {
            return Err(over(&format!(
                "exceeded the per-evaluation time limit of {} ms",
                m.limit.as_millis()
            )));
        }
    }
    Ok(value)
}

/// The limits of one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock limit of the whole evaluation.
    pub time: Duration,
    /// Cost limit of one expression.
    pub per_call: u64,
    /// Cost budget of the whole evaluation.
    pub budget: u64,
}

/// Runs the evaluation `f` with this thread's meter set to `limits`.
pub fn metered<T>(limits: Limits, f: impl FnOnce() -> T) -> T {
    let meter = Meter {
        deadline: Instant::now() + limits.time,
        limit: limits.time,
        expr: 0,
        total: 0,
        per_call: limits.per_call,
        budget: limits.budget,
    };
    let previous = METER.with(|m| m.replace(Some(meter)));
    let out = f();
    METER.with(|m| m.set(previous));
    out
}

/// Starts counting the cost of a new expression (within the evaluation).
pub fn next_expression() {
    METER.with(|c| {
        if let Some(mut m) = c.get() {
            m.expr = 0;
            c.set(Some(m));
        }
    });
}

/// The cost counted so far in this evaluation.
pub fn spent() -> u64 {
    METER.with(|c| c.get().map_or(0, |m| m.total))
}

fn wrap(cost: u64, e: Expression) -> Expression {
    let id = e.id;
    Expression {
        id,
        expr: Expr::Call(CallExpr {
            func_name: TICK.to_string(),
            target: None,
            args: vec![
                Expression {
                    id,
                    expr: Expr::Literal(LiteralValue::Int(
                        (cost.min(i64::MAX as u64) as i64).into(),
                    )),
                },
                e,
            ],
        }),
    }
}

/// The static cost of `e` outside its comprehensions' loops.
fn flat_cost(e: &Expression) -> u64 {
    let mut n = 0;
    visit(e, &mut |x| {
        if matches!(x.expr, Expr::Call(_) | Expr::Select(_)) {
            n += 1;
        }
    });
    n
}

/// Calls `f` on `e` and its subexpressions, not entering loop bodies.
fn visit(e: &Expression, f: &mut dyn FnMut(&Expression)) {
    f(e);
    match &e.expr {
        Expr::Comprehension(c) => {
            visit(&c.iter_range, f);
            visit(&c.accu_init, f);
            visit(&c.result, f);
        }
        Expr::Call(call) => {
            if let Some(t) = &call.target {
                visit(t, f);
            }
            call.args.iter().for_each(|a| visit(a, f));
        }
        Expr::List(l) => l.elements.iter().for_each(|x| visit(x, f)),
        Expr::Map(m) => m.entries.iter().for_each(|en| match &en.expr {
            EntryExpr::MapEntry(me) => {
                visit(&me.key, f);
                visit(&me.value, f);
            }
            EntryExpr::StructField(sf) => visit(&sf.value, f),
        }),
        Expr::Select(s) => visit(&s.operand, f),
        _ => {}
    }
}

/// Instruments `e` for cost counting (see the module documentation).
pub fn instrument(e: &mut Expression) {
    instrument_loops(e);
    let cost = flat_cost(e).max(1);
    let root = std::mem::take(e);
    *e = wrap(cost, root);
}

fn instrument_loops(e: &mut Expression) {
    match &mut e.expr {
        Expr::Comprehension(c) => {
            for part in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                instrument_loops(part);
            }
            let per_iteration = 1 + flat_cost(&c.loop_cond) + flat_cost(&c.loop_step);
            let cond = std::mem::take(&mut c.loop_cond);
            c.loop_cond = wrap(per_iteration, cond);
        }
        Expr::Call(call) => {
            if let Some(t) = call.target.as_mut() {
                instrument_loops(t);
            }
            call.args.iter_mut().for_each(instrument_loops);
        }
        Expr::List(l) => l.elements.iter_mut().for_each(instrument_loops),
        Expr::Map(m) => {
            for entry in &mut m.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(me) => {
                        instrument_loops(&mut me.key);
                        instrument_loops(&mut me.value);
                    }
                    EntryExpr::StructField(f) => instrument_loops(&mut f.value),
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &mut s.entries {
                if let EntryExpr::StructField(f) = &mut entry.expr {
                    instrument_loops(&mut f.value);
                }
            }
        }
        Expr::Select(s) => instrument_loops(&mut s.operand),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The number of elements `e` has when that is known before evaluation
/// (list literals, `lists.range(n)` of a constant, comprehensions over
/// those); values from the object count as empty, their smallest size.
fn known_size(e: &Expression) -> u64 {
    match &e.expr {
        Expr::List(l) => l.elements.len() as u64,
        Expr::Map(m) => m.entries.len() as u64,
        Expr::Call(c) if is_range(c) => match c.args.first().map(|a| &a.expr) {
            Some(Expr::Literal(LiteralValue::Int(n))) => (*n.inner()).max(0) as u64,
            _ => 0,
        },
        Expr::Call(c) if c.func_name == "@pairs" => c.args.first().map_or(0, known_size),
        Expr::Comprehension(c) => known_size(&c.iter_range),
        _ => 0,
    }
}

/// `lists.range(n)`, as parsed (`range` on the namespace) or qualified.
fn is_range(c: &CallExpr) -> bool {
    c.func_name == "lists.range"
        || c.func_name == "range"
            && matches!(c.target.as_deref().map(|t| &t.expr), Some(Expr::Ident(n)) if n == "lists")
}

/// The estimated cost of `e` on the smallest object: what evaluating it
/// costs whatever the object holds.
pub fn estimate(e: &Expression) -> u64 {
    let mut total = flat_cost(e);
    let mut loops = Vec::new();
    visit(e, &mut |x| {
        if let Expr::Comprehension(c) = &x.expr {
            loops.push(c.clone());
        }
    });
    for c in loops {
        let body = 1 + estimate(&c.loop_cond) + estimate(&c.loop_step);
        total = total.saturating_add(known_size(&c.iter_range).saturating_mul(body));
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(src: &str) -> Expression {
        cel::Env::stdlib()
            .compile(src)
            .unwrap()
            .expression()
            .clone()
    }

    #[test]
    fn estimates_nested_loops_over_constants() {
        let small = estimate(&expr("[1, 2, 3].all(x, x > 0)"));
        assert!((3..100).contains(&small), "{small}");
        let e = estimate(&expr("[1, 2, 3].all(x, [1, 2].exists(y, y == x))"));
        assert!(e > small);
        // object data counts as empty
        assert!(estimate(&expr("object.spec.containers.all(c, c.name != '')")) < 10);
        let mut env = cel::Env::stdlib();
        env.add_extension(cel::extensions::lists).unwrap();
        let big = env
            .compile("lists.range(4000).all(x, lists.range(4000).all(y, x + y >= 0))")
            .unwrap();
        assert!(estimate(big.expression()) > PER_CALL_LIMIT);
    }
}
