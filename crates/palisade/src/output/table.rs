//! The table format: findings in input order (file, then line), each with
//! its severity, rule, object, `file:line:column` and message; then input
//! errors, suppressed findings and a summary line.

use super::Style;
use crate::report::Report;
use comfy_table::{
    Attribute, Cell, Color, ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle,
    Width,
};
use palisade_core::{Finding, ResourceId, Severity};
use std::io::Write;

/// Only a line under the header: rows stay compact and easy to grep.
const STYLE: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('─').junction(' '));

fn severity_cell(s: Severity) -> Cell {
    let cell = Cell::new(s.as_str());
    match s {
        Severity::Critical => cell.fg(Color::Magenta).add_attribute(Attribute::Bold),
        Severity::High => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Severity::Medium => cell.fg(Color::Yellow),
        Severity::Low => cell.fg(Color::Cyan),
        Severity::Info => cell.fg(Color::Grey),
    }
}

fn object(id: &ResourceId) -> String {
    match &id.namespace {
        Some(ns) => format!("{} {ns}/{}", id.kind, id.name),
        None => format!("{} {}", id.kind, id.name),
    }
}

fn location(f: &Finding) -> String {
    match &f.location {
        Some(l) => format!("{}:{}:{}", l.file, l.line, l.column),
        None => "-".into(),
    }
}

/// The rule, with the other rules of a merged finding beside it:
/// `pss-host-ports (also host-port)`.
fn rule_cell(f: &Finding) -> String {
    if f.also.is_empty() {
        return f.rule.to_string();
    }
    let also: Vec<&str> = f.also.iter().map(|a| &**a).collect();
    format!("{} (also {})", f.rule, also.join(", "))
}

fn new_table(style: &Style, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(STYLE);
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    // On a terminal, wrap to its width; elsewhere (CI logs, files, pipes)
    // keep one finding per line so the output greps well.
    if let Some(width) = style.width {
        t.set_width(width);
        t.set_content_arrangement(ContentArrangement::Dynamic);
    }
    t.set_header(
        header
            .iter()
            .map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
    );
    // The first two columns (severity and rule, or an error's place) never
    // wrap; the last one (message or reason) keeps at least 40% of the width.
    let last = header.len().saturating_sub(1);
    for i in 0..last.min(2) {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    if let Some(c) = t.column_mut(last) {
        c.set_constraint(ColumnConstraint::LowerBoundary(Width::Percentage(40)));
    }
    t
}

/// The table as text. Off a terminal (no width to wrap to) the line under
/// the header stops where the header does, at the last column's title,
/// instead of running on to the end of the longest message.
fn render(t: &Table, style: &Style) -> String {
    let text = t.trim_fmt();
    if style.width.is_some() {
        return text;
    }
    let mut lines = text.split('\n');
    let (Some(header), Some(rule)) = (lines.next(), lines.next()) else {
        return text;
    };
    let rule: String = rule.chars().take(visible_width(header)).collect();
    let mut out = format!("{header}\n{rule}");
    for line in lines {
        out.push('\n');
        out.push_str(line);
    }
    out
}

/// The number of characters of `line` a terminal shows (ANSI colour
/// sequences, `ESC [ ... m`, take no room).
fn visible_width(line: &str) -> usize {
    let mut width = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            width += 1;
        }
    }
    width
}

/// Writes the table.
pub fn write(report: &Report, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    if !report.findings.is_empty() {
        let mut t = new_table(
            style,
            &["SEVERITY", "RULE", "OBJECT", "LOCATION", "MESSAGE"],
        );
        for f in &report.findings {
            t.add_row(vec![
                severity_cell(f.severity),
                Cell::new(rule_cell(f)),
                Cell::new(object(&f.resource)),
                Cell::new(location(f)),
                Cell::new(&f.message),
            ]);
        }
        writeln!(out, "{}\n", render(&t, style))?;
    }
    if !report.errors.is_empty() {
        let mut t = new_table(style, &["INPUT ERROR", "MESSAGE"]);
        for e in &report.errors {
            let place = match (e.line, e.column) {
                (Some(l), Some(c)) => format!("{}:{l}:{c}", e.file),
                (Some(l), None) => format!("{}:{l}", e.file),
                _ => e.file.to_string(),
            };
            let cell = Cell::new(place);
            let cell = if style.color {
                cell.fg(Color::Red)
            } else {
                cell
            };
            t.add_row(vec![cell, Cell::new(&e.message)]);
        }
        writeln!(out, "{}\n", render(&t, style))?;
    }
    if !report.suppressed.is_empty() {
        let mut t = new_table(style, &["SUPPRESSED", "OBJECT", "LOCATION", "BY", "REASON"]);
        for s in &report.suppressed {
            t.add_row(vec![
                Cell::new(rule_cell(&s.finding)),
                Cell::new(object(&s.finding.resource)),
                Cell::new(location(&s.finding)),
                Cell::new(&s.by),
                Cell::new(&s.reason),
            ]);
        }
        writeln!(out, "{}\n", render(&t, style))?;
    }
    if !report.ignore_annotations.is_empty() {
        let mut t = new_table(
            style,
            &[
                "OBJECT WITH palisade.io/ignore",
                "LOCATION",
                "RULES",
                "REASON",
            ],
        );
        for a in &report.ignore_annotations {
            let place = match (&a.object.file, a.object.line) {
                (Some(f), Some(l)) => format!("{f}:{l}"),
                (Some(f), None) => f.to_string(),
                _ => String::new(),
            };
            t.add_row(vec![
                Cell::new(object(&a.object.id)),
                Cell::new(place),
                Cell::new(a.annotation.rules.join(",")),
                Cell::new(&a.annotation.reason),
            ]);
        }
        writeln!(out, "{}\n", t.trim_fmt())?;
    }
    writeln!(out, "{}", summary_line(report))
}

/// The closing line, e.g. `12 objects in 3 files: 4 findings (1 high, 3 low),
/// 1 suppressed, 0 input errors. FAIL (fail-on: low)`.
pub fn summary_line(report: &Report) -> String {
    let s = report.summary();
    let b = s.by_severity;
    let counts: Vec<String> = [
        (b.critical, "critical"),
        (b.high, "high"),
        (b.medium, "medium"),
        (b.low, "low"),
        (b.info, "info"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, name)| format!("{n} {name}"))
    .collect();
    let findings = if counts.is_empty() {
        "no findings".to_string()
    } else {
        format!(
            "{} finding{} ({})",
            s.findings,
            plural(s.findings),
            counts.join(", ")
        )
    };
    let mut extra = String::new();
    if s.skipped > 0 {
        extra.push_str(&format!(
            ", {} non-object document{} skipped",
            s.skipped,
            plural(s.skipped)
        ));
    }
    if s.empty > 0 {
        extra.push_str(&format!(", {} empty document{}", s.empty, plural(s.empty)));
    }
    let verdict = match s.exit_code {
        0 => "PASS",
        1 => "FAIL",
        _ => "ERROR",
    };
    format!(
        "{} object{} in {} file{}{extra}: {findings}, {} suppressed, {} input error{}. {verdict} (fail-on: {})",
        s.resources,
        plural(s.resources),
        s.files,
        plural(s.files),
        s.suppressed,
        s.errors,
        plural(s.errors),
        s.fail_on
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::visible_width;

    #[test]
    fn colour_sequences_take_no_room() {
        assert_eq!(visible_width("\u{1b}[1mRULE\u{1b}[0m  MESSAGE"), 13);
        assert_eq!(visible_width("SEVERITY"), 8);
    }
}
