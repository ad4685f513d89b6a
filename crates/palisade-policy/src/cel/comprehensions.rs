//! cel-go's two-variable comprehensions (Kubernetes 1.32+): `all`,
//! `exists` and `existsOne` with an index (or key) and a value, and
//! `transformList`, `transformMap`, `transformMapEntry`.
//!
//! The `cel` crate's interpreter binds one iteration variable, so each macro
//! iterates over `@pairs(range)` (`[index or key, value]` pairs) and binds
//! the two variables from the pair with one-step comprehensions, the shape
//! `cel.bind` expands to. Maps are built with `@mapInsert`.

use super::lib::{cel_fn, fail};
use cel::common::ast::{CallExpr, ComprehensionExpr, Expr, ListExpr, LiteralValue, MapExpr};
use cel::common::types::DYN_TYPE;
use cel::objects::{Key, Map};
use cel::parser::{Expression, Macro, MacroExprHelper, ParseError};
use cel::{DeclarationError, Env, ExecutionError, Value};
use std::collections::HashMap;
use std::sync::Arc;

const PAIR: &str = "@pair";
const RESULT: &str = "@result";

/// Registers the macros and their helper functions.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload("@pairs", "palisade_pairs", vec![DYN_TYPE], pairs)?;
    env.add_overload(
        "@mapInsert",
        "palisade_map_insert_3",
        vec![DYN_TYPE, DYN_TYPE, DYN_TYPE],
        map_insert,
    )?;
    env.add_overload(
        "@mapInsert",
        "palisade_map_insert_2",
        vec![DYN_TYPE, DYN_TYPE],
        map_merge,
    )?;
    for kind in [Kind::All, Kind::Exists, Kind::ExistsOne] {
        env.add_macro(Macro::receiver(kind.name(), 3, move |h, t, a| {
            expand(h, t, a, kind)
        }))?;
    }
    for (name, n, kind) in [
        ("transformList", 3, Kind::List),
        ("transformList", 4, Kind::List),
        ("transformMap", 3, Kind::Map),
        ("transformMap", 4, Kind::Map),
        ("transformMapEntry", 3, Kind::Entry),
        ("transformMapEntry", 4, Kind::Entry),
    ] {
        env.add_macro(Macro::receiver(name, n, move |h, t, a| {
            expand(h, t, a, kind)
        }))?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    All,
    Exists,
    ExistsOne,
    List,
    Map,
    Entry,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::All => "all",
            Kind::Exists => "exists",
            Kind::ExistsOne => "existsOne",
            Kind::List => "transformList",
            Kind::Map => "transformMap",
            Kind::Entry => "transformMapEntry",
        }
    }
}

fn ident(h: &MacroExprHelper<'_>, e: Expression) -> Result<String, ParseError> {
    match e.expr {
        Expr::Ident(n) => Ok(n),
        _ => Err(h.new_error(e.id, "argument must be a simple name")),
    }
}

fn call(h: &mut MacroExprHelper<'_>, f: &str, args: Vec<Expression>) -> Expression {
    h.next_expr(Expr::Call(CallExpr {
        func_name: f.to_string(),
        target: None,
        args,
    }))
}

fn id(h: &mut MacroExprHelper<'_>, n: &str) -> Expression {
    h.next_expr(Expr::Ident(n.to_string()))
}

fn int(h: &mut MacroExprHelper<'_>, i: i64) -> Expression {
    h.next_expr(Expr::Literal(LiteralValue::Int(i.into())))
}

/// `body` with `name` bound to `value` (a one-step comprehension).
fn bind(
    h: &mut MacroExprHelper<'_>,
    name: &str,
    value: Expression,
    body: Expression,
) -> Expression {
    let empty = h.next_expr(Expr::List(ListExpr::default()));
    let cond = h.next_expr(Expr::Literal(LiteralValue::Boolean(false.into())));
    let step = id(h, name);
    h.next_expr(Expr::Comprehension(Box::new(ComprehensionExpr {
        iter_range: empty,
        iter_var: "#unused".into(),
        iter_var2: None,
        accu_var: name.to_string(),
        accu_init: value,
        loop_cond: cond,
        loop_step: step,
        result: body,
    })))
}

/// `body` with the two variables bound from the current pair.
fn bind_pair(h: &mut MacroExprHelper<'_>, k: &str, v: &str, body: Expression) -> Expression {
    let (p0, p1) = (id(h, PAIR), id(h, PAIR));
    let (i0, i1) = (int(h, 0), int(h, 1));
    let first = call(h, "_[_]", vec![p0, i0]);
    let second = call(h, "_[_]", vec![p1, i1]);
    let inner = bind(h, v, second, body);
    bind(h, k, first, inner)
}

fn expand(
    h: &mut MacroExprHelper<'_>,
    target: &mut Option<Expression>,
    args: &mut Vec<Expression>,
    kind: Kind,
) -> Result<Option<Expression>, ParseError> {
    let Some(range) = target.take() else {
        return Ok(None);
    };
    let k = ident(h, args.remove(0))?;
    let v = ident(h, args.remove(0))?;
    if k == v {
        return Err(h.new_error(range.id, "duplicate variable name"));
    }
    let body = args
        .pop()
        .ok_or_else(|| h.new_error(range.id, "missing expression"))?;
    let filter = args.pop();
    let body = bind_pair(h, &k, &v, body);
    let filter = filter.map(|f| bind_pair(h, &k, &v, f));
    let range = call(h, "@pairs", vec![range]);
    let (init, cond, step, result) = match kind {
        Kind::All | Kind::Exists => {
            let all = matches!(kind, Kind::All);
            let init = h.next_expr(Expr::Literal(LiteralValue::Boolean(all.into())));
            let acc = id(h, RESULT);
            let cond_arg = if all { acc } else { call(h, "!_", vec![acc]) };
            let cond = call(h, "@not_strictly_false", vec![cond_arg]);
            let acc = id(h, RESULT);
            let op = if all { "_&&_" } else { "_||_" };
            let step = call(h, op, vec![acc, body]);
            (init, cond, step, id(h, RESULT))
        }
        Kind::ExistsOne => {
            let init = int(h, 0);
            let cond = h.next_expr(Expr::Literal(LiteralValue::Boolean(true.into())));
            let (acc, acc2, one) = (id(h, RESULT), id(h, RESULT), int(h, 1));
            let plus = call(h, "_+_", vec![acc, one]);
            let step = call(h, "_?_:_", vec![body, plus, acc2]);
            let (acc, one) = (id(h, RESULT), int(h, 1));
            (init, cond, step, call(h, "_==_", vec![acc, one]))
        }
        Kind::List | Kind::Map | Kind::Entry => {
            let init = match kind {
                Kind::List => h.next_expr(Expr::List(ListExpr::default())),
                _ => h.next_expr(Expr::Map(MapExpr::default())),
            };
            let acc = id(h, RESULT);
            let add = match kind {
                Kind::List => {
                    let one = h.next_expr(Expr::List(ListExpr {
                        elements: vec![body],
                        optional_indices: Vec::new(),
                    }));
                    call(h, "_+_", vec![acc, one])
                }
                Kind::Map => {
                    let (p, i0) = (id(h, PAIR), int(h, 0));
                    let key = call(h, "_[_]", vec![p, i0]);
                    call(h, "@mapInsert", vec![acc, key, body])
                }
                _ => call(h, "@mapInsert", vec![acc, body]),
            };
            let step = match filter {
                Some(f) => {
                    let acc = id(h, RESULT);
                    call(h, "_?_:_", vec![f, add, acc])
                }
                None => add,
            };
            let cond = h.next_expr(Expr::Literal(LiteralValue::Boolean(true.into())));
            (init, cond, step, id(h, RESULT))
        }
    };
    Ok(Some(h.next_expr(Expr::Comprehension(Box::new(
        ComprehensionExpr {
            iter_range: range,
            iter_var: PAIR.into(),
            iter_var2: None,
            accu_var: RESULT.into(),
            accu_init: init,
            loop_cond: cond,
            loop_step: step,
            result,
        },
    )))))
}

fn pair(a: Value, b: Value) -> Value {
    Value::List(Arc::new(vec![a, b]))
}

cel_fn!(pairs, |a| match a.first() {
    Some(Value::List(l)) => Ok(Value::List(Arc::new(
        l.iter()
            .enumerate()
            .map(|(i, v)| pair(Value::Int(i as i64), v.clone()))
            .collect(),
    ))),
    Some(Value::Map(m)) => {
        let mut entries: Vec<(&Key, &Value)> = m.map.iter().collect();
        entries.sort_by(|x, y| x.0.cmp(y.0));
        Ok(Value::List(Arc::new(
            entries
                .into_iter()
                .map(|(k, v)| pair(Value::from(k.clone()), v.clone()))
                .collect(),
        )))
    }
    Some(other) => Err(fail(
        "comprehension",
        format!("cannot iterate over a {}", other.type_of()),
    )),
    None => Err(ExecutionError::invalid_argument_count(1, 0)),
});

fn key(v: &Value) -> Result<Key, ExecutionError> {
    TryInto::<Key>::try_into(v.clone())
        .map_err(|_| fail("transformMap", "unsupported map key type"))
}

fn insert(m: &Map, k: Key, v: Value) -> Result<Value, ExecutionError> {
    if m.map.contains_key(&k) {
        return Err(fail(
            "transformMapEntry",
            format!("insert failed: key {k:?} already exists"),
        ));
    }
    let mut out: HashMap<Key, Value> = (*m.map).clone();
    out.insert(k, v);
    Ok(Value::Map(Map { map: Arc::new(out) }))
}

cel_fn!(map_insert, |a| match (a.first(), a.get(1), a.get(2)) {
    (Some(Value::Map(m)), Some(k), Some(v)) => insert(m, key(k)?, v.clone()),
    _ => Err(fail("transformMap", "expected a map")),
});

cel_fn!(map_merge, |a| match (a.first(), a.get(1)) {
    (Some(Value::Map(m)), Some(Value::Map(e))) => {
        let mut acc = Value::Map(m.clone());
        for (k, v) in e.map.iter() {
            acc = match &acc {
                Value::Map(m) => insert(m, k.clone(), v.clone())?,
                _ => acc,
            };
        }
        Ok(acc)
    }
    _ => Err(fail(
        "transformMapEntry",
        "the expression must give a map of one entry",
    )),
});
