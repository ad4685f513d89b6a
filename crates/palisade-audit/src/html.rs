//! The audit as one self-contained HTML page: counts by severity, bar
//! charts (inline SVG) by severity, namespace and rule, what was not
//! audited, and a filterable table of findings with their messages and
//! remediations. No external fetch: styles and the filter script are
//! inline and a Content-Security-Policy forbids loading anything.

use palisade_core::{Finding, Severity};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Rows of the findings table at most (the most severe first); the counts
/// and charts always cover every finding.
pub const MAX_ROWS: usize = 5000;

/// Bars per chart at most (the largest).
const MAX_BARS: usize = 15;

/// What the page shows.
pub struct Page<'a> {
    /// The heading.
    pub title: &'a str,
    /// When the audit ran.
    pub generated: jiff::Timestamp,
    /// Lines under the heading (objects audited, release data age, ...).
    pub facts: Vec<String>,
    /// The findings.
    pub findings: &'a [Finding],
    /// What was not audited, and why.
    pub not_audited: Vec<String>,
}

const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24}\
h1{margin:0 0 4px}h2{margin:24px 0 8px;font-size:16px}.facts{color:#555;margin:0}\
.cards{display:flex;gap:12px;margin-top:16px}.card{border-radius:6px;padding:8px 14px;color:#fff;min-width:80px}\
.card .n{display:block;font-size:24px;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:24px}\
.critical{background:#8b0000}.high{background:#d1242f}.medium{background:#bc4c00}.low{background:#9a6700}\
.info{background:#57606a}.total{background:#24292f}table{border-collapse:collapse;width:100%;margin-top:8px}\
th,td{border-bottom:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}\
td.sev{color:#fff;font-weight:600}tr.hidden{display:none}code{font-size:12px}\
.rem{color:#555;font-size:12px}#filter{width:320px;padding:4px}";

const SCRIPT: &str =
    "(function(){var f=document.getElementById('filter'),s=document.getElementById('sev'),\
n=document.getElementById('shown'),rows=document.querySelectorAll('#findings tbody tr');\
function apply(){var q=f.value.toLowerCase(),v=s.value,c=0;rows.forEach(function(r){\
var ok=(!v||r.dataset.severity===v)&&(!q||r.textContent.toLowerCase().indexOf(q)>=0);\
r.classList.toggle('hidden',!ok);if(ok)c++;});n.textContent=c;}\
f.addEventListener('input',apply);s.addEventListener('change',apply);apply();})();";

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page as HTML.
pub fn render(page: &Page<'_>) -> String {
    let mut by_sev = BTreeMap::new();
    let mut by_ns: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for f in page.findings {
        *by_sev.entry(f.severity).or_insert(0usize) += 1;
        let ns = f
            .resource
            .namespace
            .clone()
            .unwrap_or_else(|| "(cluster)".into());
        *by_ns.entry(ns).or_default() += 1;
        *by_rule.entry(f.rule.to_string()).or_default() += 1;
    }
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">");
    let _ = write!(
        h,
        "<title>{}</title><style>{STYLE}</style></head><body>",
        escape(page.title)
    );
    let _ = write!(h, "<h1>{}</h1>", escape(page.title));
    let _ = write!(
        h,
        "<p class=\"facts\">Generated {}</p>",
        page.generated.strftime("%Y-%m-%d %H:%M:%S UTC")
    );
    for fact in &page.facts {
        let _ = write!(h, "<p class=\"facts\">{}</p>", escape(fact));
    }
    cards(&mut h, &by_sev, page.findings.len());
    h.push_str("<div class=\"charts\">");
    let sev_bars: Vec<(String, usize)> = SEVERITIES
        .iter()
        .map(|s| (s.to_string(), by_sev.get(s).copied().unwrap_or(0)))
        .collect();
    chart(&mut h, "chart-severity", "Findings by severity", &sev_bars);
    chart(
        &mut h,
        "chart-namespace",
        "Findings by namespace",
        &top(by_ns),
    );
    chart(&mut h, "chart-rule", "Findings by rule", &top(by_rule));
    h.push_str("</div>");
    if !page.not_audited.is_empty() {
        h.push_str("<h2>Not audited</h2><ul id=\"not-audited\">");
        for n in &page.not_audited {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul>");
    }
    table(&mut h, page.findings);
    let _ = writeln!(h, "<script>{SCRIPT}</script></body></html>");
    h
}

fn cards(h: &mut String, by_sev: &BTreeMap<Severity, usize>, total: usize) {
    h.push_str("<div class=\"cards\">");
    let _ = write!(h, "<div class=\"card total\"><span class=\"n\" id=\"count-total\">{total}</span>findings</div>");
    for s in SEVERITIES {
        let n = by_sev.get(&s).copied().unwrap_or(0);
        let _ = write!(
            h,
            "<div class=\"card {s}\"><span class=\"n\" id=\"count-{s}\">{n}</span>{s}</div>"
        );
    }
    h.push_str("</div>");
}

/// The largest [`MAX_BARS`] entries, largest first, with the rest summed.
fn top(counts: BTreeMap<String, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if v.len() > MAX_BARS {
        let rest: usize = v[MAX_BARS..].iter().map(|(_, n)| n).sum();
        let others = v.len() - MAX_BARS;
        v.truncate(MAX_BARS);
        v.push((format!("{others} others"), rest));
    }
    v
}

/// A horizontal bar chart as inline SVG.
fn chart(h: &mut String, id: &str, title: &str, bars: &[(String, usize)]) {
    const ROW: usize = 22;
    const LABEL: usize = 220;
    const WIDTH: usize = 460;
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = ROW * bars.len().max(1) + 4;
    let _ = write!(
        h,
        "<figure id=\"{id}\"><figcaption><h2>{}</h2></figcaption>",
        escape(title)
    );
    let _ = write!(h, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">", escape(title));
    for (i, (label, n)) in bars.iter().enumerate() {
        let y = i * ROW;
        let w = (WIDTH - LABEL - 50) * n / max;
        let class = if SEVERITIES.iter().any(|s| s.to_string() == *label) {
            label.as_str()
        } else {
            "total"
        };
        let short: String = label.chars().take(32).collect();
        let _ = write!(
            h,
            "<g class=\"bar\" data-label=\"{l}\" data-count=\"{n}\"><text x=\"0\" y=\"{ty}\" font-size=\"12\">{s}</text>\
             <rect x=\"{LABEL}\" y=\"{y1}\" width=\"{w}\" height=\"16\" class=\"{class}\" fill=\"{fill}\"></rect>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"12\">{n}</text></g>",
            l = escape(label),
            s = escape(&short),
            ty = y + 15,
            y1 = y + 3,
            tx = LABEL + w + 6,
            fill = fill(class),
        );
    }
    h.push_str("</svg></figure>");
}

fn fill(class: &str) -> &'static str {
    match class {
        "critical" => "#8b0000",
        "high" => "#d1242f",
        "medium" => "#bc4c00",
        "low" => "#9a6700",
        "info" => "#57606a",
        _ => "#0969da",
    }
}

fn table(h: &mut String, findings: &[Finding]) {
    let mut order: Vec<&Finding> = findings.iter().collect();
    order.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let shown = order.len().min(MAX_ROWS);
    h.push_str("<h2>Findings</h2><p><input id=\"filter\" type=\"search\" placeholder=\"Filter by rule, namespace, object or message\"> ");
    h.push_str("<select id=\"sev\"><option value=\"\">every severity</option>");
    for s in SEVERITIES {
        let _ = write!(h, "<option value=\"{s}\">{s}</option>");
    }
    let _ = write!(h, "</select> <span id=\"shown\">{shown}</span> shown");
    if shown < order.len() {
        let _ = write!(
            h,
            " (the table holds the {shown} most severe of {} findings)",
            order.len()
        );
    }
    h.push_str("</p><table id=\"findings\"><thead><tr><th>Severity</th><th>Rule</th><th>Namespace</th><th>Object</th><th>Finding</th></tr></thead><tbody>");
    for f in order.into_iter().take(MAX_ROWS) {
        let r = &f.resource;
        let _ = write!(
            h,
            "<tr data-severity=\"{s}\"><td class=\"sev {s}\">{s}</td><td><code>{rule}</code></td><td>{ns}</td><td>{kind}/{name}</td>\
             <td>{msg}<div class=\"rem\">{rem}</div></td></tr>",
            s = f.severity,
            rule = escape(&f.rule),
            ns = escape(r.namespace.as_deref().unwrap_or("")),
            kind = escape(&r.kind),
            name = escape(&r.name),
            msg = escape(&f.message),
            rem = escape(&f.remediation),
        );
    }
    h.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }

    #[test]
    fn top_sums_the_rest() {
        let counts: BTreeMap<String, usize> =
            (0..20).map(|i| (format!("ns{i:02}"), i + 1)).collect();
        let t = top(counts);
        assert_eq!(t.len(), MAX_BARS + 1);
        assert_eq!(t[0], ("ns19".to_string(), 20));
        assert_eq!(t[MAX_BARS], ("5 others".to_string(), 15));
    }
}
