//! The overloads of the functions the Kubernetes CEL environment declares
//! (standard library, cel-go's strings, lists, sets and two-variable
//! comprehension extensions, and Kubernetes' libraries), as cel-go declares
//! them, for the load-time checker. Member functions are written
//! `RECEIVER . name(ARGS) -> RESULT`, global ones `name(ARGS) -> RESULT`;
//! a capital letter is a type parameter.

use super::types::{Pat, Ty};
use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = r#"
size(string) -> int
size(bytes) -> int
size(list<A>) -> int
size(map<A,B>) -> int
string . size() -> int
bytes . size() -> int
list<A> . size() -> int
map<A,B> . size() -> int
string . contains(string) -> bool
string . startsWith(string) -> bool
string . endsWith(string) -> bool
string . matches(string) -> bool
matches(string, string) -> bool
string(string) -> string
string(int) -> string
string(uint) -> string
string(double) -> string
string(bool) -> string
string(bytes) -> string
string(timestamp) -> string
string(duration) -> string
string(net.IP) -> string
string(net.CIDR) -> string
int(int) -> int
int(uint) -> int
int(double) -> int
int(string) -> int
int(timestamp) -> int
int(duration) -> int
uint(uint) -> uint
uint(int) -> uint
uint(double) -> uint
uint(string) -> uint
double(double) -> double
double(int) -> double
double(uint) -> double
double(string) -> double
bool(bool) -> bool
bool(string) -> bool
bytes(bytes) -> bytes
bytes(string) -> bytes
duration(duration) -> duration
duration(string) -> duration
timestamp(timestamp) -> timestamp
timestamp(string) -> timestamp
timestamp(int) -> timestamp
dyn(A) -> dyn
type(A) -> type
timestamp . getDate() -> int
timestamp . getDate(string) -> int
timestamp . getDayOfMonth() -> int
timestamp . getDayOfMonth(string) -> int
timestamp . getDayOfWeek() -> int
timestamp . getDayOfWeek(string) -> int
timestamp . getDayOfYear() -> int
timestamp . getDayOfYear(string) -> int
timestamp . getFullYear() -> int
timestamp . getFullYear(string) -> int
timestamp . getMonth() -> int
timestamp . getMonth(string) -> int
timestamp . getHours() -> int
timestamp . getHours(string) -> int
timestamp . getMinutes() -> int
timestamp . getMinutes(string) -> int
timestamp . getSeconds() -> int
timestamp . getSeconds(string) -> int
timestamp . getMilliseconds() -> int
timestamp . getMilliseconds(string) -> int
duration . getHours() -> int
duration . getMinutes() -> int
duration . getSeconds() -> int
duration . getMilliseconds() -> int
string . charAt(int) -> string
string . indexOf(string) -> int
string . indexOf(string, int) -> int
string . lastIndexOf(string) -> int
string . lastIndexOf(string, int) -> int
list<string> . join() -> string
list<string> . join(string) -> string
string . lowerAscii() -> string
string . upperAscii() -> string
string . replace(string, string) -> string
string . replace(string, string, int) -> string
string . split(string) -> list<string>
string . split(string, int) -> list<string>
string . substring(int) -> string
string . substring(int, int) -> string
string . trim() -> string
string . format(list<dyn>) -> string
strings.quote(string) -> string
list<A> . slice(int, int) -> list<A>
list<list<A>> . flatten() -> list<A>
list<A> . flatten(int) -> list<dyn>
list<A> . distinct() -> list<A>
lists.range(int) -> list<int>
list<A> . reverse() -> list<A>
list<A> . sort() -> list<A>
list<A> . @sortByAssociatedKeys(list<B>) -> list<A>
sets.contains(list<A>, list<A>) -> bool
sets.equivalent(list<A>, list<A>) -> bool
sets.intersects(list<A>, list<A>) -> bool
list<int> . isSorted() -> bool
list<uint> . isSorted() -> bool
list<double> . isSorted() -> bool
list<bool> . isSorted() -> bool
list<duration> . isSorted() -> bool
list<timestamp> . isSorted() -> bool
list<string> . isSorted() -> bool
list<bytes> . isSorted() -> bool
list<int> . sum() -> int
list<uint> . sum() -> uint
list<double> . sum() -> double
list<duration> . sum() -> duration
list<int> . min() -> int
list<uint> . min() -> uint
list<double> . min() -> double
list<bool> . min() -> bool
list<duration> . min() -> duration
list<timestamp> . min() -> timestamp
list<string> . min() -> string
list<bytes> . min() -> bytes
list<int> . max() -> int
list<uint> . max() -> uint
list<double> . max() -> double
list<bool> . max() -> bool
list<duration> . max() -> duration
list<timestamp> . max() -> timestamp
list<string> . max() -> string
list<bytes> . max() -> bytes
list<A> . indexOf(A) -> int
list<A> . lastIndexOf(A) -> int
list<A> . includes(A) -> bool
string . find(string) -> string
string . findAll(string) -> list<string>
string . findAll(string, int) -> list<string>
url(string) -> kubernetes.URL
isURL(string) -> bool
kubernetes.URL . getScheme() -> string
kubernetes.URL . getHost() -> string
kubernetes.URL . getHostname() -> string
kubernetes.URL . getPort() -> string
kubernetes.URL . getEscapedPath() -> string
kubernetes.URL . getQuery() -> map<string,list<string>>
ip(string) -> net.IP
isIP(string) -> bool
ip.isCanonical(string) -> bool
net.IP . family() -> int
net.IP . isUnspecified() -> bool
net.IP . isLoopback() -> bool
net.IP . isLinkLocalMulticast() -> bool
net.IP . isLinkLocalUnicast() -> bool
net.IP . isGlobalUnicast() -> bool
cidr(string) -> net.CIDR
isCIDR(string) -> bool
net.CIDR . containsIP(string) -> bool
net.CIDR . containsIP(net.IP) -> bool
net.CIDR . containsCIDR(string) -> bool
net.CIDR . containsCIDR(net.CIDR) -> bool
net.CIDR . ip() -> net.IP
net.CIDR . masked() -> net.CIDR
net.CIDR . prefixLength() -> int
quantity(string) -> kubernetes.Quantity
isQuantity(string) -> bool
kubernetes.Quantity . sign() -> int
kubernetes.Quantity . isInteger() -> bool
kubernetes.Quantity . asInteger() -> int
kubernetes.Quantity . asApproximateFloat() -> double
kubernetes.Quantity . add(kubernetes.Quantity) -> kubernetes.Quantity
kubernetes.Quantity . add(int) -> kubernetes.Quantity
kubernetes.Quantity . sub(kubernetes.Quantity) -> kubernetes.Quantity
kubernetes.Quantity . sub(int) -> kubernetes.Quantity
kubernetes.Quantity . compareTo(kubernetes.Quantity) -> int
kubernetes.Quantity . isGreaterThan(kubernetes.Quantity) -> bool
kubernetes.Quantity . isLessThan(kubernetes.Quantity) -> bool
semver(string) -> kubernetes.Semver
semver(string, bool) -> kubernetes.Semver
isSemver(string) -> bool
isSemver(string, bool) -> bool
kubernetes.Semver . major() -> int
kubernetes.Semver . minor() -> int
kubernetes.Semver . patch() -> int
kubernetes.Semver . compareTo(kubernetes.Semver) -> int
kubernetes.Semver . isGreaterThan(kubernetes.Semver) -> bool
kubernetes.Semver . isLessThan(kubernetes.Semver) -> bool
format.named(string) -> optional<kubernetes.NamedFormat>
format.dns1123Label() -> kubernetes.NamedFormat
format.dns1123Subdomain() -> kubernetes.NamedFormat
format.dns1035Label() -> kubernetes.NamedFormat
format.qualifiedName() -> kubernetes.NamedFormat
format.dns1123LabelPrefix() -> kubernetes.NamedFormat
format.dns1123SubdomainPrefix() -> kubernetes.NamedFormat
format.dns1035LabelPrefix() -> kubernetes.NamedFormat
format.labelValue() -> kubernetes.NamedFormat
format.uri() -> kubernetes.NamedFormat
format.uuid() -> kubernetes.NamedFormat
format.byte() -> kubernetes.NamedFormat
format.date() -> kubernetes.NamedFormat
format.datetime() -> kubernetes.NamedFormat
kubernetes.NamedFormat . validate(string) -> optional<list<string>>
optional.of(A) -> optional<A>
optional.ofNonZeroValue(A) -> optional<A>
optional.none() -> optional<dyn>
optional<A> . hasValue() -> bool
optional<A> . value() -> A
optional<A> . or(optional<A>) -> optional<A>
optional<A> . orValue(A) -> A
"#;

/// One overload.
#[derive(Debug)]
pub struct Overload {
    /// The receiver of a member function.
    pub receiver: Option<Pat>,
    /// The arguments.
    pub args: Vec<Pat>,
    /// The result.
    pub result: Pat,
}

type Table = HashMap<String, Vec<Overload>>;

fn parse_line(line: &str) -> Option<(String, Overload)> {
    let (call, result) = line.split_once("->")?;
    let (receiver, call) = match call.split_once(" . ") {
        Some((r, c)) => (Some(Pat::parse(r)?), c),
        None => (None, call),
    };
    let (name, args) = call.trim().strip_suffix(')')?.split_once('(')?;
    let args = split_args(args)
        .into_iter()
        .map(Pat::parse)
        .collect::<Option<Vec<_>>>()?;
    Some((
        name.to_string(),
        Overload {
            receiver,
            args,
            result: Pat::parse(result)?,
        },
    ))
}

fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(&s[start..]);
    }
    out
}

/// The table, parsed once. Lines that do not parse are left out (the unit
/// test below checks that none is).
pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut t: Table = HashMap::new();
        for (name, o) in TABLE.lines().filter_map(parse_line) {
            t.entry(name).or_default().push(o);
        }
        t
    })
}

fn bind(p: &Pat, t: &Ty, env: &mut HashMap<char, Ty>) -> bool {
    match (p, t) {
        (Pat::Param(c), t) => match env.get(c) {
            Some(b) => match b.unify(t) {
                Some(u) => {
                    env.insert(*c, u);
                    true
                }
                None => false,
            },
            None => {
                env.insert(*c, t.clone());
                true
            }
        },
        (_, Ty::Dyn) => true,
        (Pat::Ty(Ty::Dyn), _) => true,
        (Pat::Ty(w), t) => w == t,
        (Pat::List(p), Ty::List(e)) => bind(p, e, env),
        (Pat::Optional(p), Ty::Optional(e)) => bind(p, e, env),
        (Pat::Map(pk, pv), Ty::Map(k, v)) => bind(pk, k, env) && bind(pv, v, env),
        _ => false,
    }
}

fn subst(p: &Pat, env: &HashMap<char, Ty>) -> Ty {
    match p {
        Pat::Ty(t) => t.clone(),
        Pat::Param(c) => env.get(c).cloned().unwrap_or(Ty::Dyn),
        Pat::List(e) => Ty::list(subst(e, env)),
        Pat::Optional(e) => Ty::optional(subst(e, env)),
        Pat::Map(k, v) => Ty::map(subst(k, env), subst(v, env)),
    }
}

/// How a call resolves.
pub enum Resolved {
    /// Not a declared function name.
    Undeclared,
    /// Declared, but no overload takes these types.
    NoOverload,
    /// The result type (`dyn` when several overloads with different
    /// results fit).
    Ty(Ty),
}

/// Resolves `name` called on `receiver` with `args`.
pub fn resolve(name: &str, receiver: Option<&Ty>, args: &[Ty]) -> Resolved {
    let Some(overloads) = table().get(name) else {
        return Resolved::Undeclared;
    };
    let mut result: Option<Ty> = None;
    for o in overloads {
        if o.args.len() != args.len() || o.receiver.is_some() != receiver.is_some() {
            continue;
        }
        let mut env = HashMap::new();
        let recv_ok = match (&o.receiver, receiver) {
            (Some(p), Some(t)) => bind(p, t, &mut env),
            _ => true,
        };
        if recv_ok && o.args.iter().zip(args).all(|(p, t)| bind(p, t, &mut env)) {
            let r = subst(&o.result, &env);
            result = Some(match result {
                None => r,
                Some(prev) if prev == r => prev,
                Some(_) => Ty::Dyn,
            });
        }
    }
    match result {
        Some(t) => Resolved::Ty(t),
        None if overloads
            .iter()
            .any(|o| o.receiver.is_some() == receiver.is_some()) =>
        {
            Resolved::NoOverload
        }
        None => Resolved::Undeclared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_parses() {
        let lines = TABLE.lines().filter(|l| !l.trim().is_empty()).count();
        let parsed: usize = table().values().map(Vec::len).sum();
        assert_eq!(lines, parsed);
    }

    #[test]
    fn resolves_type_parameters_and_dyn() {
        let l = Ty::list(Ty::Int);
        assert!(matches!(
            resolve("min", Some(&l), &[]),
            Resolved::Ty(Ty::Int)
        ));
        let ll = Ty::list(Ty::list(Ty::Int));
        assert!(matches!(
            resolve("min", Some(&ll), &[]),
            Resolved::NoOverload
        ));
        assert!(matches!(
            resolve("min", Some(&Ty::Dyn), &[]),
            Resolved::Ty(Ty::Dyn)
        ));
        assert!(matches!(
            resolve("isQuantity", None, &[Ty::list(Ty::Int)]),
            Resolved::NoOverload
        ));
        assert!(matches!(
            resolve("reverse", Some(&Ty::String), &[]),
            Resolved::NoOverload
        ));
    }
}
