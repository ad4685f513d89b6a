//! Kubernetes' URL library: `url()`, `isURL()` and the getters, with Go's
//! `net/url` semantics: `isURL` and `url` accept what `url.ParseRequestURI`
//! accepts (an absolute URL or an absolute path; spaces in the path or query
//! included), and the getters read what `url.Parse` gives.

use super::{cel_fn, fail, global, member, opaque, str_arg};
use cel::common::types::{DYN_TYPE, STRING_TYPE};
use cel::objects::{Key, Map, Opaque};
use cel::{DeclarationError, Env, ExecutionError, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A parsed URL, as Go's `url.URL` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Url {
    scheme: String,
    opaque: String,
    host: String,
    /// The path as written (escaped).
    raw_path: String,
    raw_query: String,
}

impl Opaque for Url {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.URL"
    }
}

/// Splits off a scheme as Go's `getScheme` does.
fn scheme(s: &str) -> Result<(&str, &str), String> {
    for (i, c) in s.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err("missing protocol scheme".into()),
            ':' => return Ok((&s[..i], &s[i + 1..])),
            _ => return Ok(("", s)),
        }
    }
    Ok(("", s))
}

fn valid_port(p: &str) -> bool {
    p.is_empty()
        || p.strip_prefix(':')
            .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
}

fn check_escapes(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok =
                b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
            if !ok {
                return Err(format!(
                    "invalid URL escape {:?}",
                    &s[i..(i + 3).min(s.len())]
                ));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn check_host(host: &str) -> Result<(), String> {
    if let Some(rest) = host.strip_prefix('[') {
        let (_, after) = rest.split_once(']').ok_or("missing ']' in host")?;
        if !valid_port(after) {
            return Err(format!("invalid port {after:?} after host"));
        }
    } else if let Some(i) = host.rfind(':') {
        if !valid_port(&host[i..]) {
            return Err(format!("invalid port {:?} after host", &host[i..]));
        }
    }
    check_escapes(host)?;
    let bad = host.chars().find(|c| {
        c.is_ascii() && !(c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:[]<>\"%".contains(*c))
    });
    match bad {
        Some(c) => Err(format!(
            "invalid character {:?} in host name",
            c.to_string()
        )),
        None => Ok(()),
    }
}

/// Parses as Go's `url.ParseRequestURI` (`request`) or `url.Parse`.
fn parse(s: &str, request: bool) -> Result<Url, String> {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    if s.is_empty() && request {
        return Err("empty url".into());
    }
    let mut u = Url::default();
    let s = if request {
        s
    } else {
        s.split_once('#').map_or(s, |(a, _)| a)
    };
    let (sch, rest) = scheme(s)?;
    u.scheme = sch.to_ascii_lowercase();
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, q),
        None => (rest, ""),
    };
    u.raw_query = query.to_string();
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            u.opaque = rest.to_string();
            return Ok(u);
        }
        if request {
            return Err("invalid URI for request".into());
        }
    }
    let mut path = rest;
    if (!u.scheme.is_empty() || !request && !rest.starts_with("///")) && rest.starts_with("//") {
        let auth_end = rest[2..].find('/').map_or(rest.len(), |i| i + 2);
        let authority = &rest[2..auth_end];
        path = &rest[auth_end..];
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        check_host(host)?;
        u.host = host.to_string();
    }
    check_escapes(path)?;
    u.raw_path = path.to_string();
    Ok(u)
}

fn parse_both(s: &str) -> Result<Url, String> {
    parse(s, true)?;
    parse(s, false)
}

/// Percent-decodes `s` (`+` as a space when `plus`).
fn unescape(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path escaped as Go's `URL.EscapedPath` gives it.
fn escaped_path(raw: &str) -> String {
    let valid = raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@!'()*[]%".contains(&b));
    if valid {
        return raw.to_string();
    }
    let decoded = unescape(raw, false);
    let mut out = String::with_capacity(decoded.len());
    for b in decoded.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
    let u = parse_both(text).map_err(|e| {
        fail(
            "url",
            format!("URL parse error during conversion from string: parse {text:?}: {e}"),
        )
    })?;
    Ok(Value::Opaque(Arc::new(u)))
});
cel_fn!(is_url, |a| Ok(Value::Bool(
    parse(str_arg("isURL", a, 0)?, true).is_ok()
)));
cel_fn!(get_scheme, |a| Ok(s(&arg("getScheme", a)?.scheme)));
cel_fn!(get_host, |a| Ok(s(&arg("getHost", a)?.host)));
cel_fn!(get_hostname, |a| Ok(s(arg("getHostname", a)?
    .split_host()
    .0)));
cel_fn!(get_port, |a| Ok(s(arg("getPort", a)?.split_host().1)));
cel_fn!(get_path, |a| Ok(s(&escaped_path(
    &arg("getEscapedPath", a)?.raw_path
))));
cel_fn!(get_query, |a| {
    let u = arg("getQuery", a)?;
    let mut m: HashMap<Key, Vec<Value>> = HashMap::new();
    for pair in u.raw_query.split('&').filter(|p| !p.is_empty()) {
        if pair.contains(';') {
            continue; // Go's ParseQuery rejects (and skips) `;`
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.entry(Key::String(Arc::new(unescape(k, true))))
            .or_default()
            .push(s(&unescape(v, true)));
    }
    let map = m
        .into_iter()
        .map(|(k, v)| (k, Value::List(Arc::new(v))))
        .collect();
    Ok(Value::Map(Map { map: Arc::new(map) }))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_go_net_url() {
        assert!(parse("https://a:b:c/", true).is_err());
        assert!(parse("https://example.com/with space/", true).is_ok());
        assert!(parse("https:://kubernetes.io/", true).is_ok());
        assert!(parse("example.com", true).is_err());
        assert!(parse("/absolute-path", true).is_ok());
        assert_eq!(escaped_path("/with space/"), "/with%20space/");
        assert_eq!(escaped_path("/a%2Fb"), "/a%2Fb");
        assert_eq!(unescape("key+with%20spaces", true), "key with spaces");
    }
}
