//! Kubernetes' semver library: `semver()`, `isSemver()`, `major`, `minor`,
//! `patch` (comparisons are in the parent module).

use super::{cel_fn, fail, global, member, opaque, str_arg};
use cel::common::types::{DYN_TYPE, STRING_TYPE};
use cel::objects::Opaque;
use cel::{DeclarationError, Env, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// A semantic version (build metadata ignored in comparisons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Semver {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<String>,
}

impl Opaque for Semver {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Semver"
    }
}

fn num(s: &str) -> Option<u64> {
    let ok =
        !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

/// Parses `MAJOR.MINOR.PATCH[-pre][+build]` strictly.
pub fn parse(s: &str) -> Option<Semver> {
    let s = s.split_once('+').map_or(s, |(v, _)| v);
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, p.split('.').map(str::to_string).collect::<Vec<_>>()),
        None => (s, Vec::new()),
    };
    if pre
        .iter()
        .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return None;
    }
    let mut it = core.split('.');
    let v = Semver {
        major: num(it.next()?)?,
        minor: num(it.next()?)?,
        patch: num(it.next()?)?,
        pre,
    };
    it.next().is_none().then_some(v)
}

impl Ord for Semver {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&o.pre) {
                        let c = match (a.parse::<u64>(), b.parse::<u64>()) {
                            (Ok(x), Ok(y)) => x.cmp(&y),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            _ => a.cmp(b),
                        };
                        if c != Ordering::Equal {
                            return c;
                        }
                    }
                    self.pre.len().cmp(&o.pre.len())
                }
            })
    }
}

impl PartialOrd for Semver {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Registers the semver functions.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    global(env, "semver", vec![STRING_TYPE], semver)?;
    global(env, "isSemver", vec![STRING_TYPE], is_semver)?;
    member(env, "major", DYN_TYPE, vec![], major)?;
    member(env, "minor", DYN_TYPE, vec![], minor)?;
    member(env, "patch", DYN_TYPE, vec![], patch)?;
    Ok(())
}

cel_fn!(semver, |a| {
    let s = str_arg("semver", a, 0)?;
    let v = parse(s).ok_or_else(|| fail("semver", format!("invalid semver {s:?}")))?;
    Ok(Value::Opaque(Arc::new(v)))
});
cel_fn!(is_semver, |a| Ok(Value::Bool(
    parse(str_arg("isSemver", a, 0)?).is_some()
)));
cel_fn!(major, |a| Ok(Value::Int(
    opaque::<Semver>("major", a, 0)?.major as i64
)));
cel_fn!(minor, |a| Ok(Value::Int(
    opaque::<Semver>("minor", a, 0)?.minor as i64
)));
cel_fn!(patch, |a| Ok(Value::Int(
    opaque::<Semver>("patch", a, 0)?.patch as i64
)));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_versions() {
        assert!(parse("1.2.3").unwrap() < parse("1.10.0").unwrap());
        assert!(parse("1.0.0-alpha").unwrap() < parse("1.0.0").unwrap());
        assert!(parse("1.0.0-alpha.1").unwrap() < parse("1.0.0-alpha.beta").unwrap());
        assert!(parse("1.2").is_none() && parse("01.2.3").is_none());
    }
}
