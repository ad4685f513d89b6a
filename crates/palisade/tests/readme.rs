//! The README's examples are real output. Every fenced block that follows a
//! `<!-- output of: palisade ARGS -->` comment is compared with what the
//! real binary prints for `palisade ARGS`, run in the repository's root:
//!
//! - a `json` block must match the output's JSON: objects with the same
//!   keys, equal values, except that a string ending in `...` only has to
//!   begin the real string, and an array ending in the string `"..."` lists
//!   some of the real items (in their order) where one without it lists
//!   them all;
//! - any other block lists lines of the real output, in order (a line `...`
//!   stands for any lines).

mod common;

use serde_json::Value;
use std::path::Path;

const MARKER: &str = "<!-- output of: palisade ";

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A checked example: the arguments, the block's language and its text.
struct Example {
    line: usize,
    args: Vec<String>,
    lang: String,
    text: String,
}

fn examples(readme: &str) -> Vec<Example> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = l.trim().strip_prefix(MARKER) else {
            continue;
        };
        let args = rest.trim_end_matches("-->").split_whitespace();
        let fence = lines[i + 1].trim();
        assert!(
            fence.starts_with("```"),
            "README.md:{}: the marker must be followed by a fenced block",
            i + 1
        );
        let end = (i + 2..lines.len())
            .find(|&j| lines[j].trim() == "```")
            .unwrap_or_else(|| panic!("README.md:{}: unclosed block", i + 2));
        out.push(Example {
            line: i + 1,
            args: args.map(str::to_string).collect(),
            lang: fence.trim_start_matches('`').to_string(),
            text: lines[i + 2..end].join("\n"),
        });
    }
    out
}

/// Why `shown` (from the README) does not match `real`, if it does not.
fn mismatch(shown: &Value, real: &Value, at: &str) -> Option<String> {
    match (shown, real) {
        (Value::String(s), Value::String(r)) if s.ends_with("...") => {
            let prefix = s.trim_end_matches("...").trim_end();
            (!r.starts_with(prefix)).then(|| format!("{at}: {r:?} does not begin with {prefix:?}"))
        }
        (Value::Object(s), Value::Object(r)) => {
            let (sk, rk): (Vec<_>, Vec<_>) = (s.keys().collect(), r.keys().collect());
            if sk != rk {
                return Some(format!("{at}: keys {sk:?}, real output has {rk:?}"));
            }
            s.iter()
                .find_map(|(k, v)| mismatch(v, &r[k], &format!("{at}.{k}")))
        }
        (Value::Array(s), Value::Array(r)) => {
            let elided = s.last() == Some(&Value::String("...".into()));
            let items = &s[..s.len() - usize::from(elided)];
            if !elided && items.len() != r.len() {
                return Some(format!(
                    "{at}: {} items, real output has {}",
                    items.len(),
                    r.len()
                ));
            }
            let mut rest = r.iter().enumerate();
            for (n, item) in items.iter().enumerate() {
                let found = rest.by_ref().find(|(_, v)| mismatch(item, v, "").is_none());
                if found.is_none() {
                    let closest = r.get(n).map(|v| mismatch(item, v, &format!("{at}[{n}]")));
                    return Some(format!(
                        "{at}[{n}] is not among the real items that follow the previous one ({})",
                        closest.flatten().unwrap_or_default()
                    ));
                }
            }
            None
        }
        _ => (shown != real).then(|| format!("{at}: README shows {shown}, real output is {real}")),
    }
}

fn lines_mismatch(shown: &str, real: &str) -> Option<String> {
    let mut rest = real.lines();
    let mut gap = false;
    for line in shown.lines() {
        if line.trim() == "..." {
            gap = true;
            continue;
        }
        let found = if gap {
            rest.by_ref().any(|r| r.trim_end() == line.trim_end())
        } else {
            rest.next().is_some_and(|r| r.trim_end() == line.trim_end())
        };
        if !found {
            return Some(format!("line {line:?} is not in the real output"));
        }
        gap = false;
    }
    None
}

#[test]
fn readme_examples_are_real_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(
        examples.iter().any(|e| e.lang == "json"),
        "the JSON example is checked"
    );
    let mut failures = Vec::new();
    for ex in &examples {
        let args: Vec<&str> = ex.args.iter().map(String::as_str).collect();
        let out = common::palisade(root(), &args);
        let problem = if ex.lang == "json" {
            let shown: Value = serde_json::from_str(&ex.text)
                .unwrap_or_else(|e| panic!("README.md:{}: not JSON: {e}", ex.line));
            mismatch(&shown, &out.json(), "")
        } else {
            lines_mismatch(&ex.text, &out.stdout)
        };
        if let Some(p) = problem {
            failures.push(format!(
                "README.md:{} (palisade {}): {p}\n--- real output:\n{}",
                ex.line,
                ex.args.join(" "),
                out.stdout
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_comparison_catches_differences() {
    let real = serde_json::json!({"a": [1, 2, 3], "s": "hello world", "n": 9});
    let ok = serde_json::json!({"a": [1, 3, "..."], "s": "hello ...", "n": 9});
    assert_eq!(mismatch(&ok, &real, ""), None);
    for bad in [
        serde_json::json!({"a": [1, 3], "s": "hello ...", "n": 9}),
        serde_json::json!({"a": [3, 1, "..."], "s": "hello ...", "n": 9}),
        serde_json::json!({"a": [1, "..."], "s": "help ...", "n": 9}),
        serde_json::json!({"a": [1, "..."], "s": "hello ...", "n": 8}),
        serde_json::json!({"a": [1, "..."], "s": "hello ..."}),
    ] {
        assert!(mismatch(&bad, &real, "").is_some(), "{bad}");
    }
    assert_eq!(lines_mismatch("a\n...\nd", "a\nb\nc\nd\n"), None);
    assert!(lines_mismatch("a\nc", "a\nb\nc\n").is_some());
    assert!(lines_mismatch("a\n...\nx", "a\nb\n").is_some());
}
