//! JSON texts, read by a JSON reader that feeds the same builder as YAML.
//!
//! kubectl reads a text starting with `{` as JSON (a stream of JSON
//! values). A YAML parser can read it too, but YAML lets a flow collection
//! be a mapping key, so saphyr keeps every token of an open `[` or `{` until
//! it closes: a `kubectl get -A -o json` List is held whole, as tokens,
//! before its first item is built. This reader gives the builder the same
//! calls (strings as double-quoted scalars, numbers and `true`, `false`,
//! `null` as plain ones) with the same positions, one token at a time.

use super::build::Builder;
use super::{LoadError, Out};
use crate::position::Pos;
use saphyr_parser::ScalarStyle;
use std::borrow::Cow;

/// Whether `text` is JSON as kubectl decides it (it starts with `{`) and
/// is a valid stream of JSON values; a YAML flow mapping (`{a: b}`) is not.
pub(super) fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && serde_json::Deserializer::from_str(text)
            .into_iter::<serde::de::IgnoredAny>()
            .all(|v| v.is_ok())
}

/// Reads every JSON value of `text` as one document.
pub(super) fn run(text: &str, b: &mut Builder<'_>, out: &mut Out<'_>) {
    let mut lx = Lexer {
        text,
        i: 0,
        line: 1,
        column: 1,
    };
    loop {
        lx.blanks();
        if lx.i >= text.len() {
            return;
        }
        b.reset();
        if let Err(e) = value(&mut lx, b, out) {
            out.items(b);
            out.error(e);
            return;
        }
        out.document_end(b, false);
    }
}

/// A position in the text.
struct Lexer<'t> {
    text: &'t str,
    i: usize,
    line: u32,
    /// In characters, from 1.
    column: u32,
}

impl<'t> Lexer<'t> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.i).copied()
    }

    fn blanks(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b'\n' => {
                    self.line += 1;
                    self.column = 1;
                }
                b' ' | b'\t' | b'\r' => self.column += 1,
                _ => return,
            }
            self.i += 1;
        }
    }

    /// Moves past `n` bytes of one line, counting characters.
    fn advance(&mut self, n: usize) {
        let end = (self.i + n).min(self.text.len());
        let bytes = self.text.as_bytes().get(self.i..end).unwrap_or_default();
        let chars = bytes.iter().filter(|&&c| c & 0xC0 != 0x80).count();
        self.column += u32::try_from(chars).unwrap_or(u32::MAX);
        self.i = end;
    }

    fn error(&self, message: impl Into<String>) -> LoadError {
        LoadError::at(self.pos(), message)
    }

    /// A string at `"`: its text, borrowed when it has no escape.
    fn string(&mut self) -> Result<Cow<'t, str>, LoadError> {
        let start = self.i + 1;
        let bytes = self.text.as_bytes();
        let mut j = start;
        let mut escaped = false;
        loop {
            match bytes.get(j) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    j += 2;
                }
                Some(_) => j += 1,
            }
        }
        let raw = self.text.get(start..j).unwrap_or_default();
        let s = if escaped {
            Cow::Owned(unescape(raw).ok_or_else(|| self.error("invalid escape in string"))?)
        } else {
            Cow::Borrowed(raw)
        };
        self.advance(j + 1 - self.i);
        Ok(s)
    }

    /// A number, `true`, `false` or `null`.
    fn literal(&mut self) -> Result<&'t str, LoadError> {
        let bytes = self.text.as_bytes();
        let mut j = self.i;
        while bytes
            .get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        {
            j += 1;
        }
        if j == self.i {
            return Err(self.error("expected a JSON value"));
        }
        let s = self.text.get(self.i..j).unwrap_or_default();
        self.advance(j - self.i);
        Ok(s)
    }
}

/// The text of a JSON string body with its escapes resolved.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = hex4(&mut chars)?;
                if (0xD800..0xDC00).contains(&hi) {
                    if chars.next()? != '\\' || chars.next()? != 'u' {
                        return None;
                    }
                    let lo = hex4(&mut chars)?;
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo.checked_sub(0xDC00)?))?
                } else {
                    char::from_u32(hi)?
                }
            }
            _ => return None,
        });
    }
    Some(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let s: String = chars.take(4).collect();
    if s.len() != 4 {
        return None;
    }
    u32::from_str_radix(&s, 16).ok()
}

/// One JSON value, giving the builder its nodes; the open collections are
/// kept on a stack (no recursion).
fn value(lx: &mut Lexer<'_>, b: &mut Builder<'_>, out: &mut Out<'_>) -> Result<(), LoadError> {
    let mut open: Vec<bool> = Vec::new(); // true: an object
    'value: loop {
        lx.blanks();
        let pos = lx.pos();
        match lx.peek() {
            Some(c @ (b'{' | b'[')) => {
                let map = c == b'{';
                lx.advance(1);
                b.start(map, 0, pos)?;
                open.push(map);
                lx.blanks();
                let close = if map { b'}' } else { b']' };
                if lx.peek() == Some(close) {
                    let at = lx.pos();
                    lx.advance(1);
                    open.pop();
                    b.end(at)?;
                    out.items(b);
                } else {
                    if map {
                        key(lx, b)?;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => {
                let s = lx.string()?;
                b.scalar(s, ScalarStyle::DoubleQuoted, 0, None, pos)?;
            }
            _ => {
                let s = lx.literal()?;
                b.scalar(Cow::Borrowed(s), ScalarStyle::Plain, 0, None, pos)?;
            }
        }
        // A value is complete: close what ends here, or go to the next one.
        loop {
            let Some(&map) = open.last() else {
                return Ok(());
            };
            lx.blanks();
            let at = lx.pos();
            match lx.peek() {
                Some(b',') => {
                    lx.advance(1);
                    if map {
                        key(lx, b)?;
                    }
                    continue 'value;
                }
                Some(b'}') if map => {}
                Some(b']') if !map => {}
                _ => return Err(lx.error("expected `,` or the end of the collection")),
            }
            lx.advance(1);
            open.pop();
            b.end(at)?;
            out.items(b);
        }
    }
}

/// A key and its `:`.
fn key(lx: &mut Lexer<'_>, b: &mut Builder<'_>) -> Result<(), LoadError> {
    lx.blanks();
    let pos = lx.pos();
    if lx.peek() != Some(b'"') {
        return Err(lx.error("expected a string key"));
    }
    let k = lx.string()?;
    b.scalar(k, ScalarStyle::DoubleQuoted, 0, None, pos)?;
    lx.blanks();
    if lx.peek() != Some(b':') {
        return Err(lx.error("expected `:`"));
    }
    lx.advance(1);
    Ok(())
}
