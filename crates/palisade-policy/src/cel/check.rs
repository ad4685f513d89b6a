//! A load-time check of CEL expressions: undeclared variables and
//! functions, and operators applied to types they do not take (where the
//! types are known statically: literals, arithmetic, comparisons and the
//! results of well-known functions). Object fields are dynamically typed,
//! as they are for Kubernetes without a schema.

use cel::common::ast::{Expr, LiteralValue};
use cel::parser::Expression;

/// A statically known CEL type, or `Dyn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// bool
    Bool,
    /// int
    Int,
    /// uint
    Uint,
    /// double
    Double,
    /// string
    String,
    /// bytes
    Bytes,
    /// null_type
    Null,
    /// list
    List,
    /// map
    Map,
    /// not known before evaluation
    Dyn,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Uint => "uint",
            Ty::Double => "double",
            Ty::String => "string",
            Ty::Bytes => "bytes",
            Ty::Null => "null_type",
            Ty::List => "list",
            Ty::Map => "map",
            Ty::Dyn => "dyn",
        }
    }
    fn numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Uint | Ty::Double)
    }
}

/// Functions and methods the environment declares (standard library, the
/// strings, lists and math extensions, and Kubernetes' libraries).
const FUNCTIONS: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "string",
    "int",
    "uint",
    "double",
    "bool",
    "bytes",
    "duration",
    "timestamp",
    "dyn",
    "type",
    "has",
    "all",
    "exists",
    "exists_one",
    "existsOne",
    "map",
    "filter",
    "transformList",
    "transformMap",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getFullYear",
    "getHours",
    "getMilliseconds",
    "getMinutes",
    "getMonth",
    "getSeconds",
    "charAt",
    "indexOf",
    "lastIndexOf",
    "join",
    "lowerAscii",
    "upperAscii",
    "trim",
    "replace",
    "split",
    "substring",
    "format",
    "strings.quote",
    "reverse",
    "slice",
    "flatten",
    "distinct",
    "sort",
    "sortBy",
    "lists.range",
    "optional.of",
    "optional.none",
    "optional.ofNonZeroValue",
    "hasValue",
    "value",
    "or",
    "orValue",
    "cel.bind",
    "base64.encode",
    "base64.decode",
    "math.greatest",
    "math.least",
    "math.abs",
    "math.ceil",
    "math.floor",
    "math.round",
    "math.trunc",
    "math.sign",
    "math.sqrt",
    "math.isNaN",
    "math.isInf",
    "math.isFinite",
    "math.bitAnd",
    "math.bitOr",
    "math.bitXor",
    "math.bitNot",
    "math.bitShiftLeft",
    "math.bitShiftRight",
    "isSorted",
    "sum",
    "min",
    "max",
    "sets.contains",
    "sets.equivalent",
    "sets.intersects",
    "find",
    "findAll",
    "url",
    "isURL",
    "getScheme",
    "getHost",
    "getHostname",
    "getPort",
    "getEscapedPath",
    "getQuery",
    "ip",
    "isIP",
    "cidr",
    "isCIDR",
    "family",
    "isUnspecified",
    "isLoopback",
    "isLinkLocalMulticast",
    "isLinkLocalUnicast",
    "isGlobalUnicast",
    "containsIP",
    "containsCIDR",
    "masked",
    "prefixLength",
    "quantity",
    "isQuantity",
    "asInteger",
    "asApproximateFloat",
    "isInteger",
    "sign",
    "add",
    "sub",
    "isGreaterThan",
    "isLessThan",
    "compareTo",
    "semver",
    "isSemver",
    "major",
    "minor",
    "patch",
];

const NAMESPACES: &[&str] = &[
    "sets", "strings", "math", "lists", "optional", "base64", "cel",
];

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
];

/// Checks `expr` with `vars` as the declared top-level variables; returns
/// the inferred type or the first error.
pub fn check(expr: &Expression, vars: &[&str], variables: &[String]) -> Result<Ty, String> {
    let mut c = Checker {
        vars,
        variables,
        scope: Vec::new(),
    };
    c.infer(expr)
}

struct Checker<'a> {
    vars: &'a [&'a str],
    variables: &'a [String],
    scope: Vec<String>,
}

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

fn mismatch(op: &str, a: Ty, b: Ty) -> String {
    format!(
        "found no matching overload for '{op}' applied to '({}, {})'",
        a.name(),
        b.name()
    )
}

impl Checker<'_> {
    fn infer(&mut self, e: &Expression) -> Result<Ty, String> {
        match &e.expr {
            Expr::Literal(l) => Ok(lit(l)),
            Expr::Ident(name) => {
                if name == "authorizer" {
                    return Err(
                        "`authorizer` cannot be offered offline: Palisade has no API server to ask"
                            .into(),
                    );
                }
                let known = self.vars.contains(&name.as_str())
                    || self.scope.iter().any(|s| s == name)
                    || TYPE_NAMES.contains(&name.as_str())
                    || name.starts_with('@');
                if known {
                    Ok(Ty::Dyn)
                } else {
                    Err(format!("undeclared reference to '{name}'"))
                }
            }
            Expr::Select(s) => {
                if let Expr::Ident(root) = &s.operand.expr {
                    if root == "variables" && !self.variables.contains(&s.field) {
                        return Err(format!("undefined variable `variables.{}`", s.field));
                    }
                    if NAMESPACES.contains(&root.as_str()) && !self.vars.contains(&root.as_str()) {
                        return Ok(Ty::Dyn);
                    }
                }
                self.infer(&s.operand)?;
                Ok(if s.test { Ty::Bool } else { Ty::Dyn })
            }
            Expr::List(l) => {
                for i in &l.elements {
                    self.infer(i)?;
                }
                Ok(Ty::List)
            }
            Expr::Map(m) => {
                for entry in &m.entries {
                    if let cel::common::ast::EntryExpr::MapEntry(me) = &entry.expr {
                        self.infer(&me.key)?;
                        self.infer(&me.value)?;
                    }
                }
                Ok(Ty::Map)
            }
            Expr::Comprehension(c) => {
                self.infer(&c.iter_range)?;
                self.infer(&c.accu_init)?;
                let depth = self.scope.len();
                self.scope.push(c.iter_var.clone());
                if let Some(v2) = &c.iter_var2 {
                    self.scope.push(v2.clone());
                }
                self.scope.push(c.accu_var.clone());
                let r = (|| {
                    self.infer(&c.loop_cond)?;
                    self.infer(&c.loop_step)?;
                    self.infer(&c.result)
                })();
                self.scope.truncate(depth);
                r.map(|t| if t == Ty::Bool { Ty::Bool } else { Ty::Dyn })
            }
            Expr::Call(call) => self.call(&call.func_name, call.target.as_deref(), &call.args),
            Expr::Struct(_) | Expr::Unspecified => Ok(Ty::Dyn),
        }
    }

    fn call(
        &mut self,
        f: &str,
        target: Option<&Expression>,
        args: &[Expression],
    ) -> Result<Ty, String> {
        let mut name = f.to_string();
        let mut tt = None;
        if let Some(t) = target {
            match &t.expr {
                Expr::Ident(ns)
                    if NAMESPACES.contains(&ns.as_str()) && !self.vars.contains(&ns.as_str()) =>
                {
                    name = format!("{ns}.{f}");
                }
                _ => tt = Some(self.infer(t)?),
            }
        }
        let mut ts = Vec::with_capacity(args.len());
        for a in args {
            ts.push(self.infer(a)?);
        }
        let is_op = name.starts_with(['_', '!', '-', '@']);
        if !is_op && !FUNCTIONS.contains(&name.as_str()) {
            return Err(format!("undeclared reference to function '{name}'"));
        }
        let known = |t: Ty| t != Ty::Dyn;
        match name.as_str() {
            "_+_" | "_-_" | "_*_" | "_/_" | "_%_" if ts.len() == 2 => {
                let (a, b) = (ts[0], ts[1]);
                if known(a) && known(b) {
                    let ok = a == b
                        && match name.as_str() {
                            "_+_" => a.numeric() || matches!(a, Ty::String | Ty::Bytes | Ty::List),
                            "_%_" => matches!(a, Ty::Int | Ty::Uint),
                            _ => a.numeric(),
                        };
                    if !ok {
                        return Err(mismatch(&name, a, b));
                    }
                    return Ok(a);
                }
                Ok(Ty::Dyn)
            }
            "_<_" | "_<=_" | "_>_" | "_>=_" if ts.len() == 2 => {
                let (a, b) = (ts[0], ts[1]);
                let comparable =
                    |t: Ty| t.numeric() || matches!(t, Ty::String | Ty::Bool | Ty::Bytes);
                if known(a) && known(b) && !(a == b && comparable(a) || a.numeric() && b.numeric())
                {
                    return Err(mismatch(&name, a, b));
                }
                Ok(Ty::Bool)
            }
            "_&&_" | "_||_" | "!_" => {
                if let Some(t) = ts.iter().find(|t| known(**t) && **t != Ty::Bool) {
                    return Err(format!(
                        "found no matching overload for '{name}' applied to a {}",
                        t.name()
                    ));
                }
                Ok(Ty::Bool)
            }
            "_?_:_" if ts.len() == 3 => {
                if known(ts[0]) && ts[0] != Ty::Bool {
                    return Err(format!(
                        "condition of '?:' must be bool, got {}",
                        ts[0].name()
                    ));
                }
                Ok(if ts[1] == ts[2] { ts[1] } else { Ty::Dyn })
            }
            "_==_" | "_!=_" | "@in" | "@not_strictly_false" => Ok(Ty::Bool),
            "startsWith" | "endsWith" | "matches" | "contains"
                if tt.is_some_and(known) && tt != Some(Ty::String) =>
            {
                Err(format!(
                    "found no matching overload for '{name}' applied to a {}",
                    tt.map_or("?", |t| t.name())
                ))
            }
            "size" | "indexOf" | "lastIndexOf" | "int" | "sign" | "compareTo" | "major"
            | "minor" | "patch" | "prefixLength" | "family" | "asInteger" => Ok(Ty::Int),
            "string" | "lowerAscii" | "upperAscii" | "trim" | "replace" | "substring"
            | "charAt" | "join" | "format" | "find" | "getScheme" | "getHost" | "getHostname"
            | "getPort" | "getEscapedPath" => Ok(Ty::String),
            "startsWith" | "endsWith" | "matches" | "contains" | "isSorted" | "isIP" | "isCIDR"
            | "isURL" | "isQuantity" | "isSemver" | "isGreaterThan" | "isLessThan"
            | "containsIP" | "containsCIDR" | "isInteger" | "has" | "hasValue"
            | "sets.contains" | "sets.equivalent" | "sets.intersects" => Ok(Ty::Bool),
            "split" | "findAll" | "slice" | "flatten" | "distinct" | "sort" | "lists.range" => {
                Ok(Ty::List)
            }
            "double" | "asApproximateFloat" => Ok(Ty::Double),
            "uint" => Ok(Ty::Uint),
            "bool" => Ok(Ty::Bool),
            _ => Ok(Ty::Dyn),
        }
    }
}
