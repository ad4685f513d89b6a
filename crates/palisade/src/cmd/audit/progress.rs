//! The live read's progress on a terminal: one line per kind with the
//! objects read and the rate. Only when stderr is a terminal, `CI` is not
//! set and the output is not JSON: never in pipes, CI logs or machine output.

use super::AuditFormat;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use kube::discovery::ApiResource;
use palisade_audit::live::list::Progress;
use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::Mutex;

/// Whether to draw: stderr a terminal, not CI, not JSON.
pub fn wanted(format: AuditFormat) -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
        && format != AuditFormat::Json
}

/// One bar per kind.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    /// Bars drawn on stderr.
    pub fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn bar(&self, kind: &ApiResource) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.entry(format!("{} {}", kind.api_version, kind.kind))
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} {prefix:<32} {pos:>9} objects {per_sec:>14} {elapsed:>4} {msg}",
                ) {
                    bar.set_style(style);
                }
                bar.set_prefix(format!("{} ({})", kind.kind, kind.api_version));
                bar
            })
            .clone()
    }
}

impl Progress for Bars {
    fn listed(&self, kind: &ApiResource, objects: usize) {
        let bar = self.bar(kind);
        bar.set_position(objects as u64);
        bar.tick();
    }

    fn finished(&self, kind: &ApiResource, ok: bool) {
        self.bar(kind)
            .finish_with_message(if ok { "done" } else { "not audited" });
    }
}
