//! The load-time check of CEL expressions, refusing what the API server's
//! type-checker refuses: undeclared variables and functions (per the
//! Kubernetes version the environment is declared for), functions and
//! operators given arguments of types they do not take, mixed-type list and
//! map literals, invalid regex, duration and timestamp literals, constant
//! conversions that fail. Object fields are `dyn`, as they are for
//! Kubernetes without a schema; everything else is typed.

use super::literals;
use super::signatures::{resolve, Resolved};
use super::types::Ty;
use super::version::KubeVersion;
use cel::common::ast::{ComprehensionExpr, EntryExpr, Expr, LiteralValue};
use cel::parser::Expression;
use std::collections::HashMap;

/// What an expression may refer to.
pub struct Scope<'a> {
    /// Top-level variables (`object`, `request`, ...), all `dyn`.
    pub vars: &'a [&'a str],
    /// Declared `variables.<name>` with their types.
    pub variables: &'a HashMap<String, Ty>,
    /// The Kubernetes version whose environment is declared.
    pub version: KubeVersion,
}

/// Checks `expr`; returns its type or the first error.
pub fn check(expr: &Expression, scope: &Scope<'_>) -> Result<Ty, String> {
    check_and_plan(expr, scope).map(|(t, _)| t)
}

/// A call whose meaning depends on a static type the `cel` crate's runtime
/// does not know, rewritten to Palisade's function of that name.
pub type Rewrite = (u64, &'static str);

/// Checks `expr`; returns its type and the calls to rewrite (see
/// [`super::lib::typed`]).
pub fn check_and_plan(expr: &Expression, scope: &Scope<'_>) -> Result<(Ty, Vec<Rewrite>), String> {
    let mut c = Checker {
        scope,
        locals: Vec::new(),
        rewrites: Vec::new(),
    };
    let t = c.infer(expr)?;
    Ok((t, c.rewrites))
}

struct Checker<'a> {
    scope: &'a Scope<'a>,
    locals: Vec<(String, Ty)>,
    rewrites: Vec<Rewrite>,
}

/// Type names an expression may use as values (`type(x) == int`).
const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
    "optional_type",
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "net.IP",
    "net.CIDR",
];

fn lit(l: &LiteralValue) -> Ty {
    match l {
        LiteralValue::Boolean(_) => Ty::Bool,
        LiteralValue::Bytes(_) => Ty::Bytes,
        LiteralValue::Double(_) => Ty::Double,
        LiteralValue::Int(_) => Ty::Int,
        LiteralValue::Null => Ty::Null,
        LiteralValue::String(_) => Ty::String,
        LiteralValue::UInt(_) => Ty::Uint,
    }
}

/// `a.b.c` as a dotted name, if `e` is only identifiers and selections.
pub fn qualified(e: &Expression) -> Option<String> {
    match &e.expr {
        Expr::Ident(n) => Some(n.clone()),
        Expr::Select(s) if !s.test => Some(format!("{}.{}", qualified(&s.operand)?, s.field)),
        _ => None,
    }
}

fn no_overload(name: &str, recv: Option<&Ty>, args: &[Ty]) -> String {
    let list: Vec<String> = args.iter().map(Ty::to_string).collect();
    match recv {
        Some(r) => format!(
            "found no matching overload for '{name}' applied to '{r}.({})'",
            list.join(", ")
        ),
        None => format!(
            "found no matching overload for '{name}' applied to '({})'",
            list.join(", ")
        ),
    }
}

impl Checker<'_> {
    fn local(&self, name: &str) -> Option<&Ty> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
    }

    fn infer(&mut self, e: &Expression) -> Result<Ty, String> {
        match &e.expr {
            Expr::Literal(l) => Ok(lit(l)),
            Expr::Ident(name) => self.ident(name),
            Expr::Select(s) => {
                if let Some(q) = qualified(e) {
                    if self.local(q.split('.').next().unwrap_or("")).is_none() {
                        if let Some(t) = self.qualified_name(&q)? {
                            return Ok(t);
                        }
                    }
                }
                let t = self.infer(&s.operand)?;
                // selecting on an optional chains: the result is optional
                let (t, chained) = match t {
                    Ty::Optional(inner) => (*inner, true),
                    other => (other, false),
                };
                if s.test {
                    return match t {
                        Ty::Dyn | Ty::Map(..) => Ok(Ty::Bool),
                        other => Err(format!("invalid has() on a {other}")),
                    };
                }
                let field = self.select(&t, &s.field)?;
                Ok(if chained { Ty::optional(field) } else { field })
            }
            Expr::List(l) => self.list(l),
            Expr::Map(m) => self.map(m),
            Expr::Comprehension(c) => self.comprehension(c),
            Expr::Call(call) => {
                self.call(e.id, &call.func_name, call.target.as_deref(), &call.args)
            }
            Expr::Struct(s) => Err(format!("undeclared reference to type '{}'", s.type_name)),
            Expr::Unspecified => Ok(Ty::Dyn),
        }
    }

    /// Records the rewrite a call needs, given its receiver and argument
    /// types.
    fn plan(&mut self, id: u64, f: &str, recv: Option<&Ty>, args: &[Ty]) {
        let name = match (f, recv, args) {
            ("sum", Some(Ty::List(e)), []) if **e == Ty::Duration => {
                super::lib::typed::SUM_DURATION
            }
            ("string", None, [Ty::Timestamp]) => super::lib::typed::STRING_TIMESTAMP,
            _ => return,
        };
        self.rewrites.push((id, name));
    }

    fn ident(&self, name: &str) -> Result<Ty, String> {
        if let Some(t) = self.local(name) {
            return Ok(t.clone());
        }
        if name == "authorizer" {
            return Err(
                "`authorizer` cannot be offered offline: Palisade has no API server to ask".into(),
            );
        }
        if self.scope.vars.contains(&name) {
            return Ok(Ty::Dyn);
        }
        if name == "variables" {
            return Ok(Ty::map(Ty::String, Ty::Dyn));
        }
        if TYPE_NAMES.contains(&name) {
            return Ok(Ty::Type);
        }
        Err(format!("undeclared reference to '{name}'"))
    }

    /// A dotted name the environment declares (`variables.x`, `net.IP`).
    fn qualified_name(&self, q: &str) -> Result<Option<Ty>, String> {
        if let Some(v) = q.strip_prefix("variables.") {
            if !v.contains('.') {
                return match self.scope.variables.get(v) {
                    Some(t) => Ok(Some(t.clone())),
                    None => Err(format!("undefined variable `variables.{v}`")),
                };
            }
        }
        Ok(TYPE_NAMES.contains(&q).then_some(Ty::Type))
    }

    fn select(&self, t: &Ty, field: &str) -> Result<Ty, String> {
        match t {
            Ty::Dyn => Ok(Ty::Dyn),
            Ty::Map(k, v) if k.fits(&Ty::String) => Ok((**v).clone()),
            other => Err(format!(
                "type '{other}' does not support field selection (field '{field}')"
            )),
        }
    }

    fn list(&mut self, l: &cel::common::ast::ListExpr) -> Result<Ty, String> {
        let mut elem = Ty::Dyn;
        let mut first: Option<Ty> = None;
        for (i, e) in l.elements.iter().enumerate() {
            let mut t = self.infer(e)?;
            if l.optional_indices.contains(&i) {
                t = match t {
                    Ty::Optional(inner) => *inner,
                    Ty::Dyn => Ty::Dyn,
                    other => return Err(format!("optional list element is a {other}")),
                };
            }
            match first.as_ref().and_then(|f| f.join(&t)) {
                Some(u) => elem = u,
                None if first.is_none() => {
                    elem = t.clone();
                    first = Some(t);
                }
                None => {
                    return Err(format!(
                        "expected type '{}' but found '{t}' (a list literal's elements must have one type)",
                        first.unwrap_or(Ty::Dyn)
                    ))
                }
            }
        }
        Ok(Ty::list(elem))
    }

    fn map(&mut self, m: &cel::common::ast::MapExpr) -> Result<Ty, String> {
        let (mut kt, mut vt): (Option<Ty>, Option<Ty>) = (None, None);
        for entry in &m.entries {
            let EntryExpr::MapEntry(me) = &entry.expr else {
                continue;
            };
            let k = self.infer(&me.key)?;
            if !matches!(k, Ty::Int | Ty::Uint | Ty::Bool | Ty::String | Ty::Dyn) {
                return Err(format!("unsupported map key type: {k}"));
            }
            let mut v = self.infer(&me.value)?;
            if me.optional {
                v = match v {
                    Ty::Optional(inner) => *inner,
                    other => other,
                };
            }
            kt = Some(unify_lit(kt, k, "key")?);
            vt = Some(unify_lit(vt, v, "value")?);
        }
        Ok(Ty::map(kt.unwrap_or(Ty::Dyn), vt.unwrap_or(Ty::Dyn)))
    }

    fn comprehension(&mut self, c: &ComprehensionExpr) -> Result<Ty, String> {
        let range = self.infer(&c.iter_range)?;
        let init = self.infer(&c.accu_init)?;
        let depth = self.locals.len();
        let (v1, v2) = match (&range, &c.iter_var2) {
            (Ty::List(e), Some(_)) => (Ty::Int, (**e).clone()),
            (Ty::Map(k, v), Some(_)) => ((**k).clone(), (**v).clone()),
            (t, _) => (
                t.iter_elem()
                    .ok_or_else(|| format!("expression of type '{t}' cannot be the range of a comprehension (must be list, map, or dynamic)"))?,
                Ty::Dyn,
            ),
        };
        self.locals.push((c.iter_var.clone(), v1));
        if let Some(n) = &c.iter_var2 {
            self.locals.push((n.clone(), v2));
        }
        self.locals.push((c.accu_var.clone(), init.clone()));
        let r = (|| {
            let cond = self.infer(&c.loop_cond)?;
            if !cond.fits(&Ty::Bool) {
                return Err(format!("comprehension condition is a {cond}, not a bool"));
            }
            let step = self.infer(&c.loop_step)?;
            let accu = init.unify(&step).unwrap_or(Ty::Dyn);
            if let Some(slot) = self.locals.last_mut() {
                slot.1 = accu;
            }
            self.infer(&c.result)
        })();
        self.locals.truncate(depth);
        r
    }

    fn call(
        &mut self,
        id: u64,
        f: &str,
        target: Option<&Expression>,
        args: &[Expression],
    ) -> Result<Ty, String> {
        // A namespaced global function (`sets.contains`, `format.named`).
        if let Some(ns) = target.and_then(qualified) {
            let full = format!("{ns}.{f}");
            if self.local(&ns).is_none()
                && !self.scope.vars.contains(&ns.as_str())
                && super::version::declared_since(&full).is_some()
            {
                return self.call(id, &full, None, args);
            }
            let root = ns.split('.').next().unwrap_or_default();
            let bound = self.local(root).is_some()
                || self.scope.vars.contains(&root)
                || root == "variables"
                || root == "authorizer"
                || TYPE_NAMES.contains(&root);
            if !bound {
                return Err(format!("undeclared reference to '{full}'"));
            }
        }
        let recv = match target {
            Some(t) => Some(self.infer(t)?),
            None => None,
        };
        let mut ts = Vec::with_capacity(args.len());
        for a in args {
            ts.push(match &a.expr {
                // cel-go exempts format's argument list from homogeneity
                Expr::List(l) if f == "format" => {
                    for e in &l.elements {
                        self.infer(e)?;
                    }
                    Ty::list(Ty::Dyn)
                }
                _ => self.infer(a)?,
            });
        }
        if let Some(t) = super::operators::operator(f, &ts)? {
            return Ok(t);
        }
        match super::version::declared_since(f) {
            Some(v) if v <= self.scope.version => {}
            Some(v) => {
                return Err(format!(
                    "undeclared reference to '{f}' (Kubernetes {} declares it from {v})",
                    self.scope.version
                ))
            }
            None if f.starts_with('@') => return Ok(Ty::Dyn),
            None => return Err(format!("undeclared reference to '{f}'")),
        }
        if f.starts_with('@') {
            return Ok(Ty::Dyn);
        }
        let out = match resolve(f, recv.as_ref(), &ts) {
            Resolved::Ty(t) => t,
            Resolved::Undeclared => return Err(format!("undeclared reference to '{f}'")),
            Resolved::NoOverload => return Err(no_overload(f, recv.as_ref(), &ts)),
        };
        literals::validate(f, target, args)?;
        self.plan(id, f, recv.as_ref(), &ts);
        Ok(out)
    }
}

fn unify_lit(prev: Option<Ty>, t: Ty, what: &str) -> Result<Ty, String> {
    match prev {
        None => Ok(t),
        Some(p) => p.join(&t).ok_or_else(|| {
            format!(
                "expected type '{p}' but found '{t}' (a map literal's {what}s must have one type)"
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Result<Ty, String> {
        let env = cel::Env::stdlib();
        let p = env.compile(src).map_err(|e| e.to_string())?;
        let vars = HashMap::new();
        check(
            p.expression(),
            &Scope {
                vars: &["object"],
                variables: &vars,
                version: KubeVersion::LATEST,
            },
        )
    }

    #[test]
    fn refuses_what_kubernetes_refuses() {
        for src in [
            "isQuantity([1, 2, 3])",
            "[[1], [2]].min()",
            "['a', 'b'].sum()",
            "[1, 'a']",
            "1 + 'a'",
            "'abc'.reverse()",
            "math.abs(1)",
            "'x'.matches('x++')",
            "duration('1x')",
            "timestamp('yesterday')",
            "int(1e99)",
            "nope",
        ] {
            assert!(ty(src).is_err(), "{src} should be refused");
        }
    }

    #[test]
    fn types_what_it_accepts() {
        assert_eq!(ty("[1, 2].sum()"), Ok(Ty::Int));
        assert_eq!(ty("object.spec.x.size() > 1"), Ok(Ty::Bool));
        assert_eq!(ty("[1, 2].map(x, string(x))"), Ok(Ty::list(Ty::String)));
        assert_eq!(ty("type(1) == int"), Ok(Ty::Bool));
        assert_eq!(ty("1 < 2.0"), Ok(Ty::Bool));
    }
}
