//! Kubernetes' semver library: `semver()`, `isSemver()` (with the optional
//! normalization of 1.33), `major`, `minor`, `patch` (comparisons are in the
//! parent module). Parsing is the `semver` crate's, as strict as the
//! blang/semver Kubernetes uses; build metadata is ignored in comparisons.

use super::{cel_fn, fail, global, member, opaque, str_arg};
use cel::common::types::{BOOL_TYPE, DYN_TYPE, STRING_TYPE};
use cel::objects::Opaque;
use cel::{DeclarationError, Env, ExecutionError, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// A semantic version.
#[derive(Debug, Clone)]
pub struct Semver(pub semver::Version);

impl PartialEq for Semver {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Semver {}

impl Ord for Semver {
    fn cmp(&self, o: &Self) -> Ordering {
        let (a, b) = (&self.0, &o.0);
        (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
    }
}

impl PartialOrd for Semver {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Opaque for Semver {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Semver"
    }
}

/// Parses `MAJOR.MINOR.PATCH[-pre][+build]` strictly.
pub fn parse(s: &str) -> Result<Semver, String> {
    semver::Version::parse(s)
        .map(Semver)
        .map_err(|e| e.to_string())
}

/// Parses after Kubernetes' normalization: a leading `v` dropped, leading
/// zeros removed, missing minor and patch filled with zeros.
pub fn parse_normalized(s: &str) -> Result<Semver, String> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let mut parts: Vec<String> = s.splitn(3, '.').map(str::to_string).collect();
    for p in &mut parts {
        if p.len() > 1 {
            let t = p.trim_start_matches('0');
            *p = if t.is_empty() || !t.starts_with(|c: char| c.is_ascii_digit()) {
                format!("0{t}")
            } else {
                t.to_string()
            };
        }
    }
    if parts.len() < 3 {
        if parts.last().is_some_and(|p| p.contains(['+', '-'])) {
            return Err("short version cannot contain PreRelease/Build meta data".into());
        }
        parts.resize(3, "0".to_string());
    }
    parse(&parts.join("."))
}

/// Registers the semver functions.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    global(env, "semver", vec![STRING_TYPE], semver)?;
    global(env, "semver", vec![STRING_TYPE, BOOL_TYPE], semver_norm)?;
    global(env, "isSemver", vec![STRING_TYPE], is_semver)?;
    global(
        env,
        "isSemver",
        vec![STRING_TYPE, BOOL_TYPE],
        is_semver_norm,
    )?;
    member(env, "major", DYN_TYPE, vec![], major)?;
    member(env, "minor", DYN_TYPE, vec![], minor)?;
    member(env, "patch", DYN_TYPE, vec![], patch)?;
    Ok(())
}

fn normalize(a: &[Value]) -> bool {
    matches!(a.get(1), Some(Value::Bool(true)))
}

fn make(a: &[Value]) -> Result<Semver, ExecutionError> {
    let s = str_arg("semver", a, 0)?;
    let r = if normalize(a) {
        parse_normalized(s)
    } else {
        parse(s)
    };
    r.map_err(|e| fail("semver", format!("invalid semver {s:?}: {e}")))
}

cel_fn!(semver, |a| Ok(Value::Opaque(Arc::new(make(a)?))));
cel_fn!(semver_norm, |a| Ok(Value::Opaque(Arc::new(make(a)?))));
cel_fn!(is_semver, |a| Ok(Value::Bool(
    parse(str_arg("isSemver", a, 0)?).is_ok()
)));
cel_fn!(is_semver_norm, |a| {
    let s = str_arg("isSemver", a, 0)?;
    Ok(Value::Bool(if normalize(a) {
        parse_normalized(s).is_ok()
    } else {
        parse(s).is_ok()
    }))
});

fn part(f: &str, a: &[Value], get: fn(&semver::Version) -> u64) -> Result<Value, ExecutionError> {
    let v = get(&opaque::<Semver>(f, a, 0)?.0);
    i64::try_from(v)
        .map(Value::Int)
        .map_err(|_| fail(f, "version number overflows int"))
}

cel_fn!(major, |a| part("major", a, |v| v.major));
cel_fn!(minor, |a| part("minor", a, |v| v.minor));
cel_fn!(patch, |a| part("patch", a, |v| v.patch));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_versions_ignoring_build() {
        let p = |s| parse(s).unwrap();
        assert!(p("1.2.3") < p("1.10.0"));
        assert!(p("1.0.0-alpha") < p("1.0.0"));
        assert!(p("1.0.0-alpha.1") < p("1.0.0-alpha.beta"));
        assert_eq!(p("1.0.0+a"), p("1.0.0+b"));
        assert!(parse("1.2").is_err() && parse("01.2.3").is_err());
        assert_eq!(parse_normalized("v01.2").unwrap(), p("1.2.0"));
        assert!(parse_normalized("1.2-rc").is_err());
    }
}
