//! Layouts Kubernetes accepts that strict YAML rejects.
//!
//! kubectl and the API server read YAML with go-yaml, which (like libyaml)
//! does not check the indentation of lines inside a flow collection or a
//! quoted scalar. Real manifests rely on it:
//!
//! ```yaml
//! args: [
//!     "-socket", "/run/x",
//! ]                      # closing bracket at the key's column
//! description: "a long text
//! continued at the key's column"
//! ```
//!
//! saphyr-parser follows the spec and reports "invalid indentation". Inside a
//! flow collection or a quoted scalar, the leading blanks of a line carry no
//! meaning (they are folded away), so indenting such a line further changes
//! no value. [`relax`] does exactly that for the line the error names, and
//! only when the error says the line is inside a quoted scalar or a flow
//! collection; the caller parses again. Any other error stays an error.

/// The scanner's message for a quoted scalar's continuation line indented
/// too little (reported at the scalar's opening quote).
const QUOTED: &str = "invalid indentation in quoted scalar";
/// A plain scalar inside a flow collection indented too little.
const FLOW_PLAIN: &str = "invalid indentation in flow construct";
/// Any token indented too little (a closing `]` or `}` among them).
const ANY: &str = "invalid indentation";

/// The text with the line(s) the error at `line`:`column` (from 1, column in
/// characters) complains about indented further, when the error is one
/// Kubernetes would not have raised; `None` otherwise.
pub fn relax(text: &str, line: usize, column: usize, message: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let index = line.checked_sub(1)?;
    let at = lines.get(index)?;
    let pads: Vec<(usize, usize)> = match message {
        QUOTED => quoted_continuations(&lines, index, column.checked_sub(1)?)?,
        FLOW_PLAIN => vec![(index, pad_for(&lines, index))],
        ANY if first_char(at).is_some_and(|c| c == ']' || c == '}') => {
            vec![(index, pad_for(&lines, index))]
        }
        _ => return None,
    };
    if pads.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 64);
    for (i, l) in lines.iter().enumerate() {
        if let Some((_, n)) = pads.iter().find(|(j, _)| *j == i) {
            out.extend(std::iter::repeat_n(' ', *n));
        }
        out.push_str(l);
    }
    Some(out)
}

fn first_char(line: &str) -> Option<char> {
    line.trim_start_matches([' ', '\t']).chars().next()
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// How far to indent line `index`: to the previous non-blank line's
/// indentation when that is deeper, else one column (the caller retries).
fn pad_for(lines: &[&str], index: usize) -> usize {
    let own = indentation(lines[index]);
    let previous = lines[..index]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or(0, |l| indentation(l));
    previous.saturating_sub(own).max(1)
}

/// The continuation lines of the quoted scalar whose opening quote is at
/// `line_index`:`col` (0-based, characters) that start left of the quote,
/// with how far to indent each to bring it under the quote.
fn quoted_continuations(
    lines: &[&str],
    line_index: usize,
    col: usize,
) -> Option<Vec<(usize, usize)>> {
    let first = lines[line_index];
    let mut chars = first.chars().skip(col);
    let quote = chars.next().filter(|c| *c == '"' || *c == '\'')?;
    let mut pads = Vec::new();
    let mut rest: String = chars.collect();
    let mut i = line_index;
    loop {
        if closes(&rest, quote) {
            return Some(pads);
        }
        i += 1;
        let next = lines.get(i)?;
        if next.starts_with("---") || next.starts_with("...") {
            return None; // a document marker ends the scalar for every reader
        }
        let own = next.chars().take_while(|c| *c == ' ' || *c == '\t').count();
        if own <= col && !next.trim().is_empty() {
            pads.push((i, col + 1 - own));
        }
        rest = next.to_string();
    }
}

/// Whether the quoted scalar closes on this (rest of a) line.
fn closes(rest: &str, quote: char) -> bool {
    let mut it = rest.chars().peekable();
    while let Some(c) = it.next() {
        match (quote, c) {
            ('"', '\\') => {
                it.next();
            }
            ('\'', '\'') if it.peek() == Some(&'\'') => {
                it.next();
            }
            (q, c) if c == q => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_bracket_at_the_key_column_is_indented() {
        let text = "a:\n  args: [\n      \"x\",\n  ]\n";
        let fixed = relax(text, 4, 3, ANY).expect("relaxed");
        assert_eq!(fixed, "a:\n  args: [\n      \"x\",\n      ]\n");
    }

    #[test]
    fn quoted_continuation_lines_move_under_the_quote() {
        let text = "d: \"one\n two \\\" three\n\n  four\"\nnext: 1\n";
        let fixed = relax(text, 1, 4, QUOTED).expect("relaxed");
        assert_eq!(
            fixed,
            "d: \"one\n    two \\\" three\n\n    four\"\nnext: 1\n"
        );
        let single = "d: 'it''s\nend'\n";
        assert_eq!(
            relax(single, 1, 4, QUOTED).as_deref(),
            Some("d: 'it''s\n    end'\n")
        );
    }

    #[test]
    fn other_errors_stay_errors() {
        // a block line indented too little is a real error
        assert_eq!(relax("a:\n  b: 1\n c: 2\n", 3, 2, ANY), None);
        assert_eq!(
            relax("a: [1,\n", 1, 1, "did not find expected ',' or ']'"),
            None
        );
        // an unterminated quoted scalar
        assert_eq!(relax("d: \"one\ntwo\n", 1, 4, QUOTED), None);
        // out of range
        assert_eq!(relax("a: 1\n", 9, 1, ANY), None);
    }
}
