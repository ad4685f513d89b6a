//! Regular expressions as Go's RE2 (`regexp`) reads them, on the `regex`
//! crate: the patterns Go refuses are refused (nested repetition such as
//! `x++`, repeat counts above 1000, flags Go lacks), and the Perl classes
//! `\d`, `\w`, `\s` and `\b` are ASCII as in Go (the crate makes them
//! Unicode). Compiled patterns are cached: CEL's `matches`, `find` and
//! `findAll` compile each pattern once per process, not per call.

use regex::Regex;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Patterns kept at most (the cache is emptied when it is full).
const CACHE_SIZE: usize = 512;

/// Go's limit on `{n,m}`.
const MAX_REPEAT: u32 = 1000;

/// Translates `pattern` to the crate's syntax, or says why Go refuses it.
pub fn translate(pattern: &str) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let chars: Vec<char> = pattern.chars().collect();
    let (mut i, mut in_class) = (0, false);
    // what the previous token was: 0 an atom, 1 a repetition, 2 a lazy repetition
    let mut prev_rep = 0u8;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let n = *chars
                .get(i + 1)
                .ok_or("trailing backslash at end of expression")?;
            match (in_class, n) {
                (false, 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'b' | 'B') => {
                    out.push_str(&format!("(?-u:\\{n})"))
                }
                (true, 'd') => out.push_str("0-9"),
                (true, 'w') => out.push_str("0-9A-Za-z_"),
                (true, 's') => out.push_str("\\t\\n\\x0C\\r "),
                (_, 'Z') => return Err("invalid escape sequence: `\\Z`".into()),
                _ => {
                    out.push('\\');
                    out.push(n);
                }
            }
            i += 2;
            prev_rep = 0;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
                i += 1;
                // a leading `]` or `^]` is a literal
                for lit in ['^', ']'] {
                    if chars.get(i) == Some(&lit) {
                        out.push(lit);
                        i += 1;
                    }
                }
                prev_rep = 0;
                continue;
            }
            '*' | '+' | '?' => {
                if c == '?' && prev_rep == 1 {
                    prev_rep = 2;
                } else if prev_rep != 0 {
                    return Err(format!("invalid nested repetition operator: `{c}`"));
                } else {
                    prev_rep = 1;
                }
            }
            '{' => {
                if let Some((len, counts)) = repeat(&chars[i..]) {
                    if prev_rep != 0 {
                        return Err("invalid nested repetition operator".into());
                    }
                    if counts.iter().any(|n| *n > MAX_REPEAT) {
                        return Err(format!(
                            "invalid repeat count: `{}`",
                            chars[i..i + len].iter().collect::<String>()
                        ));
                    }
                    out.extend(&chars[i..i + len]);
                    i += len;
                    prev_rep = 1;
                    continue;
                }
                // not a repetition: a literal brace, as in Go
                out.push_str("\\{");
                i += 1;
                prev_rep = 0;
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let flags: String = chars[i + 2..]
                    .iter()
                    .take_while(|c| **c != ')' && **c != ':')
                    .collect();
                let named = flags.starts_with('P') || flags.starts_with('<');
                if !named && !flags.chars().all(|f| "imsU-".contains(f)) {
                    return Err(format!("invalid or unsupported Perl syntax: `(?{flags}`"));
                }
                prev_rep = 0;
            }
            _ => prev_rep = 0,
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// A counted repetition at the start of `s`: its length and counts.
fn repeat(s: &[char]) -> Option<(usize, Vec<u32>)> {
    let end = s.iter().position(|c| *c == '}')?;
    let body: String = s[1..end].iter().collect();
    let counts: Option<Vec<u32>> = body
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().ok())
        .collect();
    let counts = counts?;
    let ok = !counts.is_empty() && body.split(',').count() <= 2 && !body.starts_with(',');
    ok.then_some((end + 1, counts))
}

/// Compiles `pattern` as Go would, or says why not.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    Regex::new(&translated).map_err(|e| {
        let msg = e.to_string();
        msg.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(&msg)
            .trim()
            .to_string()
    })
}

/// `pattern` compiled, from the cache when it was compiled before.
pub fn cached(pattern: &str) -> Result<Arc<Regex>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(re) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(re);
    }
    let re = Arc::new(compile(pattern)?);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(pattern.to_string(), re.clone());
    }
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_go_refuses() {
        for p in [
            "x++", "x**", "a+*", "a*??", "a{1001}", "a{2}*", "(?x)a", "\\Z",
        ] {
            assert!(compile(p).is_err(), "{p} must be refused");
        }
        for p in [
            "x+?",
            "a{2,1000}",
            "(?i)abc",
            "(?P<n>a)",
            "[a-z]+",
            "\\d{3}",
            "a{,2}",
        ] {
            assert!(compile(p).is_ok(), "{p} must compile");
        }
    }

    #[test]
    fn perl_classes_are_ascii_as_in_go() {
        let re = compile("^\\d+$").unwrap();
        assert!(re.is_match("123") && !re.is_match("١٢٣"));
        let re = compile("^[\\w]+$").unwrap();
        assert!(re.is_match("a_1") && !re.is_match("é"));
    }

    #[test]
    fn cache_returns_the_same_program() {
        let a = cached("ab+c").unwrap();
        let b = cached("ab+c").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }
}
