//! Kubernetes' format library (1.31+): `format.named(name)`, `format.<name>()`
//! and `<format>.validate(s)`, which gives `optional.none()` for a valid
//! string and `optional.of([messages])` for an invalid one, with the
//! messages of k8s.io/apimachinery's validation.

use super::{cel_fn, global, member, opaque, str_arg};
use cel::common::types::{DYN_TYPE, STRING_TYPE};
use cel::objects::{Opaque, OptionalValue};
use cel::{DeclarationError, Env, Value};
use std::sync::{Arc, OnceLock};

/// A named format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedFormat(&'static str);

impl Opaque for NamedFormat {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.NamedFormat"
    }
}

/// The formats, as `format.named` knows them.
pub const NAMES: &[&str] = &[
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "qualifiedName",
    "dns1123LabelPrefix",
    "dns1123SubdomainPrefix",
    "dns1035LabelPrefix",
    "labelValue",
    "uri",
    "uuid",
    "byte",
    "date",
    "datetime",
];

const LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const SUBDOMAIN: &str = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1035: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const QUALIFIED: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

fn full(re: &str, s: &str) -> bool {
    static CACHE: OnceLock<std::sync::Mutex<std::collections::HashMap<String, regex::Regex>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let Ok(mut c) = cache.lock() else {
        return false;
    };
    if !c.contains_key(re) {
        match regex::Regex::new(&format!("^(?:{re})$")) {
            Ok(r) => {
                c.insert(re.to_string(), r);
            }
            Err(_) => return false,
        }
    }
    c.get(re).is_some_and(|r| r.is_match(s))
}

fn regex_error(msg: &str, re: &str, examples: &[&str]) -> String {
    let ex: Vec<String> = examples.iter().map(|e| format!("'{e}'")).collect();
    format!(
        "{msg} (e.g. {}, regex used for validation is '{re}')",
        ex.join(",  or ")
    )
}

fn max_len(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn dns1123_label(s: &str) -> Vec<String> {
    let mut e = Vec::new();
    if s.len() > 63 {
        e.push(max_len(63));
    }
    if !full(LABEL, s) {
        e.push(regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", LABEL, &["my-name", "123-abc"]));
    }
    e
}

fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut e = Vec::new();
    if s.len() > 253 {
        e.push(max_len(253));
    }
    if !full(SUBDOMAIN, s) {
        e.push(regex_error("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", SUBDOMAIN, &["example.com"]));
    }
    e
}

fn dns1035_label(s: &str) -> Vec<String> {
    let mut e = Vec::new();
    if s.len() > 63 {
        e.push(max_len(63));
    }
    if !full(DNS1035, s) {
        e.push(regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", DNS1035, &["my-name", "abc-123"]));
    }
    e
}

fn qualified_name(s: &str) -> Vec<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let (prefix, name) = match parts.as_slice() {
        [n] => (None, *n),
        [p, n] => (Some(*p), *n),
        _ => {
            return vec![format!(
                "{} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QUALIFIED, &["MyName", "my.name", "123-abc"])
            )]
        }
    };
    let mut e = Vec::new();
    if let Some(p) = prefix {
        if p.is_empty() {
            e.push("prefix part must be non-empty".to_string());
        } else {
            e.extend(
                dns1123_subdomain(p)
                    .into_iter()
                    .map(|m| format!("prefix part {m}")),
            );
        }
    }
    if name.is_empty() {
        e.push("name part must be non-empty".into());
    } else if name.len() > 63 {
        e.push(format!("name part {}", max_len(63)));
    }
    if !full(QUALIFIED, name) {
        e.push(format!("name part {}", regex_error("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QUALIFIED, &["MyName", "my.name", "123-abc"])));
    }
    e
}

fn label_value(s: &str) -> Vec<String> {
    let mut e = Vec::new();
    if s.len() > 63 {
        e.push(max_len(63));
    }
    if !full(LABEL_VALUE, s) {
        e.push(regex_error("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LABEL_VALUE, &["MyValue", "my_value", "12345"]));
    }
    e
}

/// A trailing `-` replaced, as apimachinery's name validation does for
/// prefixes (`generateName`).
fn prefix(s: &str) -> String {
    match s.strip_suffix('-') {
        Some(r) => format!("{r}a"),
        None => s.to_string(),
    }
}

fn uri(s: &str) -> Vec<String> {
    let err = |m: &str| vec![format!("parse {s:?}: {m}")];
    if s.is_empty() {
        return err("empty url");
    }
    if s.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f) {
        return err("net/url: invalid control character in URL");
    }
    if s.starts_with('/') {
        return Vec::new();
    }
    let scheme_ok = s.split_once(':').is_some_and(|(sch, _)| {
        sch.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && sch
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if scheme_ok {
        Vec::new()
    } else {
        err("invalid URI for request")
    }
}

fn base64(s: &str) -> bool {
    let b = s.as_bytes();
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    b.len().is_multiple_of(4)
        && pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

fn check(name: &str, s: &str) -> Vec<String> {
    let one = |ok: bool, m: &str| if ok { Vec::new() } else { vec![m.to_string()] };
    match name {
        "dns1123Label" => dns1123_label(s),
        "dns1123Subdomain" => dns1123_subdomain(s),
        "dns1035Label" => dns1035_label(s),
        "qualifiedName" => qualified_name(s),
        "dns1123LabelPrefix" => dns1123_label(&prefix(s)),
        "dns1123SubdomainPrefix" => dns1123_subdomain(&prefix(s)),
        "dns1035LabelPrefix" => dns1035_label(&prefix(s)),
        "labelValue" => label_value(s),
        "uri" => uri(s),
        "uuid" => one(
            full(
                "(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}",
                s,
            ),
            "does not match the UUID format",
        ),
        "byte" => one(base64(s), "invalid base64"),
        "date" => one(
            s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok(),
            "invalid date",
        ),
        "datetime" => one(
            crate::cel::literals::parse_timestamp(s).is_some(),
            "invalid datetime",
        ),
        _ => Vec::new(),
    }
}

/// Registers `format.named`, `format.<name>()` and `validate`.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    global(env, "format.named", vec![STRING_TYPE], named)?;
    for (i, n) in NAMES.iter().enumerate() {
        global(env, &format!("format.{n}"), vec![], CONSTANTS[i])?;
    }
    member(env, "validate", DYN_TYPE, vec![STRING_TYPE], validate)
}

fn format_val(name: &'static str) -> Value {
    Value::Opaque(Arc::new(NamedFormat(name)))
}

cel_fn!(named, |a| {
    let n = str_arg("format.named", a, 0)?;
    let found = NAMES.iter().find(|x| **x == n).copied();
    Ok(Value::Opaque(Arc::new(match found {
        Some(n) => OptionalValue::of(format_val(n)),
        None => OptionalValue::none(),
    })))
});

cel_fn!(validate, |a| {
    let f = opaque::<NamedFormat>("validate", a, 0)?;
    let s = str_arg("validate", a, 1)?;
    let errors = check(f.0, s);
    if errors.is_empty() {
        return Ok(Value::Opaque(Arc::new(OptionalValue::none())));
    }
    let list = errors
        .into_iter()
        .map(|e| Value::String(Arc::new(e)))
        .collect();
    Ok(Value::Opaque(Arc::new(OptionalValue::of(Value::List(
        Arc::new(list),
    )))))
});

macro_rules! constants {
    ($($f:ident = $i:expr),*) => {
        $(cel_fn!($f, |_a| Ok(format_val(NAMES[$i])));)*
        const CONSTANTS: &[super::F] = &[$($f),*];
    };
}

constants!(
    c0 = 0,
    c1 = 1,
    c2 = 2,
    c3 = 3,
    c4 = 4,
    c5 = 5,
    c6 = 6,
    c7 = 7,
    c8 = 8,
    c9 = 9,
    c10 = 10,
    c11 = 11,
    c12 = 12
);
