//! Typing of CEL's operators as cel-go's checker types them, with
//! Kubernetes' cross-type numeric comparisons (`1 < 2.0`).

use super::types::Ty;

fn mismatch(op: &str, ts: &[Ty]) -> String {
    let list: Vec<String> = ts.iter().map(Ty::to_string).collect();
    format!(
        "found no matching overload for '{op}' applied to '({})'",
        list.join(", ")
    )
}

fn arith(op: &str, a: &Ty, b: &Ty) -> Option<Ty> {
    use Ty::*;
    match (op, a, b) {
        (_, Dyn, Dyn) => Some(Dyn),
        ("_+_", Timestamp, Duration) | ("_+_", Duration, Timestamp) => Some(Timestamp),
        ("_-_", Timestamp, Timestamp) => Some(Duration),
        ("_-_", Timestamp, Duration) => Some(Timestamp),
        ("_+_" | "_-_", Duration, Duration) => Some(Duration),
        ("_+_", List(_), List(_)) => a.unify(b),
        ("_+_", String, String) | ("_+_", Bytes, Bytes) => Some(a.clone()),
        ("_%_", Int, Int) | ("_%_", Uint, Uint) => Some(a.clone()),
        // one side unknown: the other side's type when it takes the operator
        (_, Dyn, t) | (_, t, Dyn) => {
            let ok = match op {
                "_+_" => !matches!(t, Bool | Null | Type | Map(..) | Optional(_) | Opaque(_)),
                "_-_" => matches!(t, Int | Uint | Double | Timestamp | Duration),
                "_%_" => matches!(t, Int | Uint),
                _ => t.numeric(),
            };
            ok.then_some(if matches!(t, Timestamp | Duration) {
                Dyn
            } else {
                t.clone()
            })
        }
        ("_%_", _, _) => None,
        (_, Int, Int) | (_, Uint, Uint) | (_, Double, Double) => Some(a.clone()),
        _ => None,
    }
}

fn comparable(a: &Ty, b: &Ty) -> bool {
    use Ty::*;
    match (a, b) {
        (Dyn, _) | (_, Dyn) => true,
        (x, y) if x.numeric() && y.numeric() => true,
        (x, y) => x == y && matches!(x, Bool | String | Bytes | Timestamp | Duration),
    }
}

/// The type of operator `f` applied to `ts`; `Ok(None)` when `f` is not an
/// operator.
pub fn operator(f: &str, ts: &[Ty]) -> Result<Option<Ty>, String> {
    let bad = || Err(mismatch(f, ts));
    let t = match (f, ts) {
        ("_+_" | "_-_" | "_*_" | "_/_" | "_%_", [a, b]) => match arith(f, a, b) {
            Some(t) => t,
            None => return bad(),
        },
        ("_<_" | "_<=_" | "_>_" | "_>=_", [a, b]) => {
            if !comparable(a, b) {
                return bad();
            }
            Ty::Bool
        }
        ("_==_" | "_!=_", [a, b]) => {
            if a.unify(b).is_none() && !(a == &Ty::Null || b == &Ty::Null) {
                return bad();
            }
            Ty::Bool
        }
        ("_&&_" | "_||_", _) | ("!_", _) | ("@not_strictly_false", _) => {
            if ts.iter().any(|t| !t.fits(&Ty::Bool)) {
                return bad();
            }
            Ty::Bool
        }
        ("-_", [a]) => match a {
            Ty::Int | Ty::Double | Ty::Dyn | Ty::Duration => a.clone(),
            _ => return bad(),
        },
        ("_?_:_", [c, a, b]) => {
            if !c.fits(&Ty::Bool) {
                return bad();
            }
            match a.join(b) {
                Some(t) => t,
                None => return bad(),
            }
        }
        ("@in", [e, c]) => {
            let ok = match c {
                Ty::List(t) => e.fits(t),
                Ty::Map(k, _) => e.fits(k),
                Ty::Dyn => true,
                _ => false,
            };
            if !ok {
                return bad();
            }
            Ty::Bool
        }
        ("_[_]", [c, i]) => match c {
            Ty::List(e) if i.fits(&Ty::Int) || i == &Ty::Uint => (**e).clone(),
            Ty::Map(k, v) if i.fits(k) || k.numeric() && i.numeric() => (**v).clone(),
            Ty::Optional(inner) => match &**inner {
                Ty::List(e) => Ty::optional((**e).clone()),
                Ty::Map(_, v) => Ty::optional((**v).clone()),
                _ => Ty::optional(Ty::Dyn),
            },
            Ty::Dyn => Ty::Dyn,
            _ => return bad(),
        },
        ("_[?_]", [c, i]) => match c {
            Ty::List(e) if i.fits(&Ty::Int) => Ty::optional((**e).clone()),
            Ty::Map(k, v) if i.fits(k) => Ty::optional((**v).clone()),
            Ty::Optional(inner) => match &**inner {
                Ty::List(e) => Ty::optional((**e).clone()),
                Ty::Map(_, v) => Ty::optional((**v).clone()),
                _ => Ty::optional(Ty::Dyn),
            },
            Ty::Dyn => Ty::optional(Ty::Dyn),
            _ => return bad(),
        },
        ("_?._", [c, _]) => match c {
            Ty::Map(_, v) => Ty::optional((**v).clone()),
            Ty::Optional(inner) => match &**inner {
                Ty::Map(_, v) => Ty::optional((**v).clone()),
                _ => Ty::optional(Ty::Dyn),
            },
            Ty::Dyn => Ty::optional(Ty::Dyn),
            _ => return bad(),
        },
        _ => return Ok(None),
    };
    Ok(Some(t))
}
