//! Kubernetes' URL library: `url()`, `isURL()` and the getters.

use super::{cel_fn, fail, global, member, opaque, str_arg};
use cel::common::types::{DYN_TYPE, STRING_TYPE};
use cel::objects::{Key, Map, Opaque};
use cel::{DeclarationError, Env, ExecutionError, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A parsed absolute URL (or absolute path).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Url {
    scheme: String,
    host: String,
    path: String,
    query: String,
}

impl Opaque for Url {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.URL"
    }
}

fn parse(s: &str) -> Option<Url> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let s = s.split_once('#').map_or(s, |(a, _)| a);
    let (rest, query) = s.split_once('?').unwrap_or((s, ""));
    if rest.starts_with('/') {
        return Some(Url {
            path: rest.into(),
            query: query.into(),
            ..Url::default()
        });
    }
    let (scheme, rest) = rest.split_once("://")?;
    let ok_scheme = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !ok_scheme {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(Url {
        scheme: scheme.into(),
        host: host.into(),
        path: path.into(),
        query: query.into(),
    })
}

impl Url {
    fn split_host(&self) -> (&str, &str) {
        if let Some(rest) = self.host.strip_prefix('[') {
            let (h, after) = rest.split_once(']').unwrap_or((rest, ""));
            return (h, after.strip_prefix(':').unwrap_or(""));
        }
        self.host.rsplit_once(':').unwrap_or((&self.host, ""))
    }
}

/// Registers the URL functions.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    global(env, "url", vec![STRING_TYPE], url)?;
    global(env, "isURL", vec![STRING_TYPE], is_url)?;
    member(env, "getScheme", DYN_TYPE, vec![], get_scheme)?;
    member(env, "getHost", DYN_TYPE, vec![], get_host)?;
    member(env, "getHostname", DYN_TYPE, vec![], get_hostname)?;
    member(env, "getPort", DYN_TYPE, vec![], get_port)?;
    member(env, "getEscapedPath", DYN_TYPE, vec![], get_path)?;
    member(env, "getQuery", DYN_TYPE, vec![], get_query)?;
    Ok(())
}

fn s(v: &str) -> Value {
    Value::String(Arc::new(v.to_string()))
}

fn arg<'a>(f: &str, a: &'a [Value]) -> Result<&'a Url, ExecutionError> {
    opaque::<Url>(f, a, 0)
}

cel_fn!(url, |a| {
    let text = str_arg("url", a, 0)?;
    let u = parse(text).ok_or_else(|| {
        fail(
            "url",
            format!("URL {text:?} is not an absolute URI or path"),
        )
    })?;
    Ok(Value::Opaque(Arc::new(u)))
});
cel_fn!(is_url, |a| Ok(Value::Bool(
    parse(str_arg("isURL", a, 0)?).is_some()
)));
cel_fn!(get_scheme, |a| Ok(s(&arg("getScheme", a)?.scheme)));
cel_fn!(get_host, |a| Ok(s(&arg("getHost", a)?.host)));
cel_fn!(get_hostname, |a| Ok(s(arg("getHostname", a)?
    .split_host()
    .0)));
cel_fn!(get_port, |a| Ok(s(arg("getPort", a)?.split_host().1)));
cel_fn!(get_path, |a| Ok(s(&arg("getEscapedPath", a)?.path)));
cel_fn!(get_query, |a| {
    let u = arg("getQuery", a)?;
    let mut m: HashMap<Key, Vec<Value>> = HashMap::new();
    for pair in u.query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.entry(Key::String(Arc::new(k.to_string())))
            .or_default()
            .push(s(v));
    }
    let map = m
        .into_iter()
        .map(|(k, v)| (k, Value::List(Arc::new(v))))
        .collect();
    Ok(Value::Map(Map { map: Arc::new(map) }))
});
