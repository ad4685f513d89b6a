//! Kubernetes' list library (`isSorted`, `sum`, `min`, `max`, `indexOf`,
//! `lastIndexOf`) and cel-go's sets library (`sets.contains`,
//! `sets.equivalent`, `sets.intersects`).

use super::{cel_fn, fail, global, member};
use cel::common::types::{DYN_TYPE, LIST_TYPE};
use cel::{DeclarationError, Env, ExecutionError, Value};
use std::cmp::Ordering;

/// Registers the list and set functions.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    member(env, "isSorted", LIST_TYPE, vec![], is_sorted)?;
    member(env, "sum", LIST_TYPE, vec![], sum)?;
    member(env, "min", LIST_TYPE, vec![], min)?;
    member(env, "max", LIST_TYPE, vec![], max)?;
    member(env, "indexOf", LIST_TYPE, vec![DYN_TYPE], index_of)?;
    member(env, "lastIndexOf", LIST_TYPE, vec![DYN_TYPE], last_index_of)?;
    global(
        env,
        "sets.contains",
        vec![LIST_TYPE, LIST_TYPE],
        sets_contains,
    )?;
    global(
        env,
        "sets.equivalent",
        vec![LIST_TYPE, LIST_TYPE],
        sets_equivalent,
    )?;
    global(
        env,
        "sets.intersects",
        vec![LIST_TYPE, LIST_TYPE],
        sets_intersects,
    )?;
    Ok(())
}

fn list<'a>(f: &str, args: &'a [Value], i: usize) -> Result<&'a [Value], ExecutionError> {
    match args.get(i) {
        Some(Value::List(l)) => Ok(l.as_slice()),
        _ => Err(fail(f, "expected a list")),
    }
}

fn compare(f: &str, a: &Value, b: &Value) -> Result<Ordering, ExecutionError> {
    a.partial_cmp(b).ok_or_else(|| {
        fail(
            f,
            format!("cannot compare {} and {}", a.type_of(), b.type_of()),
        )
    })
}

cel_fn!(is_sorted, |a| {
    let l = list("isSorted", a, 0)?;
    for w in l.windows(2) {
        if compare("isSorted", &w[0], &w[1])? == Ordering::Greater {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
});

cel_fn!(sum, |a| {
    let l = list("sum", a, 0)?;
    let mut acc = match l.first() {
        None => return Ok(Value::Int(0)),
        Some(v) => v.clone(),
    };
    for v in &l[1..] {
        acc = (acc + v.clone())?;
    }
    Ok(acc)
});

fn extreme(f: &str, a: &[Value], want: Ordering) -> Result<Value, ExecutionError> {
    let l = list(f, a, 0)?;
    let mut best = l.first().ok_or_else(|| fail(f, "empty list"))?;
    for v in &l[1..] {
        if compare(f, v, best)? == want {
            best = v;
        }
    }
    Ok(best.clone())
}

cel_fn!(min, |a| extreme("min", a, Ordering::Less));
cel_fn!(max, |a| extreme("max", a, Ordering::Greater));

cel_fn!(index_of, |a| {
    let l = list("indexOf", a, 0)?;
    Ok(Value::Int(
        l.iter()
            .position(|v| Some(v) == a.get(1))
            .map_or(-1, |i| i as i64),
    ))
});

cel_fn!(last_index_of, |a| {
    let l = list("lastIndexOf", a, 0)?;
    Ok(Value::Int(
        l.iter()
            .rposition(|v| Some(v) == a.get(1))
            .map_or(-1, |i| i as i64),
    ))
});

cel_fn!(sets_contains, |a| {
    let (x, y) = (list("sets.contains", a, 0)?, list("sets.contains", a, 1)?);
    Ok(Value::Bool(y.iter().all(|v| x.contains(v))))
});

cel_fn!(sets_equivalent, |a| {
    let (x, y) = (
        list("sets.equivalent", a, 0)?,
        list("sets.equivalent", a, 1)?,
    );
    Ok(Value::Bool(
        y.iter().all(|v| x.contains(v)) && x.iter().all(|v| y.contains(v)),
    ))
});

cel_fn!(sets_intersects, |a| {
    let (x, y) = (
        list("sets.intersects", a, 0)?,
        list("sets.intersects", a, 1)?,
    );
    Ok(Value::Bool(y.iter().any(|v| x.contains(v))))
});
