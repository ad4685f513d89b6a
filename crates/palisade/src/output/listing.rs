//! Aligned plain-text columns for listings (`palisade rules`, `palisade
//! policy list`), as `kubectl get` prints them: a header line, then one row
//! per line, each column as wide as its widest cell and two spaces apart;
//! the last column is not padded, so no line ends in spaces.

use std::io::Write;

/// Prints `text` to stdout; a closed pipe (`| head`) is not an error.
pub fn print(text: &str) -> std::io::Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `header` and `rows` as aligned lines, each ending with a newline.
pub fn columns<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; N]| {
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    line(header);
    for row in rows {
        line(std::array::from_fn(|i| row[i].as_str()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::columns;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let rows = [
            ["a-very-long-rule-id".to_string(), "high".into(), "x".into()],
            ["short".to_string(), "critical".into(), "last column".into()],
        ];
        assert_eq!(
            columns(["RULE", "SEVERITY", "TITLE"], &rows),
            "RULE                 SEVERITY  TITLE\n\
             a-very-long-rule-id  high      x\n\
             short                critical  last column\n"
        );
    }
}
