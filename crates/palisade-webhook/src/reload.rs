//! Re-reading the configuration and TLS files when they change (polled
//! modification times and sizes) and on SIGHUP. A new policy set or
//! certificate is swapped in only when it is valid; otherwise the old one
//! stays, and the failure is logged and counted.

use crate::app::AppState;
use crate::engine::{Engine, PolicyFactory};
use crate::tls::{load_certified_key, CertStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

type Stamp = Option<(SystemTime, u64)>;

/// Modification times and sizes of the watched files, taken before they
/// are loaded so a change made while loading is not missed.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamps {
    config: Option<Stamp>,
    tls: (Stamp, Stamp),
}

impl Stamps {
    /// The stamps of the files now.
    pub fn now(config: Option<&Path>, cert: &Path, key: &Path) -> Stamps {
        Stamps {
            config: config.map(stamp),
            tls: (stamp(cert), stamp(key)),
        }
    }
}

fn stamp(p: &Path) -> Stamp {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// What is watched and where the results go.
pub struct Reloader {
    /// The config file, if any.
    pub config: Option<PathBuf>,
    /// The serving certificate chain.
    pub cert: PathBuf,
    /// Its key.
    pub key: PathBuf,
    /// Builds a policy set.
    pub factory: PolicyFactory,
    /// Registry access beyond the config's.
    pub registry: crate::images::RegistryExtras,
    /// The state whose engine is swapped.
    pub state: Arc<AppState>,
    /// The certificates served.
    pub certs: Arc<CertStore>,
}

impl Reloader {
    /// Reloads the policy configuration now.
    pub fn reload_policy(&self) -> bool {
        match Engine::load_with(self.config.as_deref(), &self.factory, &self.registry) {
            Ok(engine) => {
                let rules = engine.policies.active_rules().count();
                self.state.swap(engine);
                self.state.metrics.reload("policy", "success");
                tracing::info!(rules, "policy configuration reloaded");
                true
            }
            Err(e) => {
                self.state.metrics.reload("policy", "failure");
                tracing::error!(error = %e, "new policy configuration refused; the previous one stays in force");
                false
            }
        }
    }

    /// Reloads the serving certificate now.
    pub fn reload_tls(&self) -> bool {
        match load_certified_key(&self.cert, &self.key) {
            Ok(ck) => {
                self.certs.swap(ck);
                self.state.metrics.reload("tls", "success");
                tracing::info!(cert = %self.cert.display(), "serving certificate reloaded");
                true
            }
            Err(e) => {
                self.state.metrics.reload("tls", "failure");
                tracing::error!(error = %e, "new serving certificate refused; the previous one stays in use");
                false
            }
        }
    }

    /// Polls every `interval` and reloads on each SIGHUP `hup` receives (see
    /// [`hangup`]), until the task is dropped; `loaded` are the stamps of the
    /// files as they were loaded. A changed file is reloaded once its stamp
    /// has held for a whole interval, so a file caught half-written (an
    /// editor or a tool that truncates, then writes) is never loaded: an
    /// empty palisade.yaml is a valid configuration, the defaults, and would
    /// otherwise be in force for a moment. SIGHUP reloads at once.
    pub async fn watch(self, interval: Duration, loaded: Stamps, mut hup: Hangup) {
        let mut config = Settle::new(loaded.config);
        let mut tls = Settle::new(loaded.tls);
        loop {
            let forced = tokio::select! {
                _ = tokio::time::sleep(interval) => false,
                _ = next_hangup(&mut hup) => true,
            };
            if forced {
                tracing::info!("SIGHUP: reloading configuration and TLS files");
            }
            let now = self.config.as_deref().map(stamp);
            if config.changed(now, forced) && (self.config.is_some() || forced) {
                self.reload_policy();
            }
            if tls.changed((stamp(&self.cert), stamp(&self.key)), forced) {
                self.reload_tls();
            }
        }
    }
}

/// The stamp of what was loaded, and of a change seen but not yet settled.
struct Settle<T> {
    loaded: T,
    seen: Option<T>,
}

impl<T: PartialEq + Clone> Settle<T> {
    fn new(loaded: T) -> Settle<T> {
        Settle { loaded, seen: None }
    }

    /// Whether to reload now: forced, or the files differ from what was
    /// loaded and are as they were at the previous poll.
    fn changed(&mut self, now: T, forced: bool) -> bool {
        if forced || (now != self.loaded && self.seen.as_ref() == Some(&now)) {
            self.loaded = now;
            self.seen = None;
            return true;
        }
        self.seen = (now != self.loaded).then_some(now);
        false
    }
}

/// SIGHUP as received by this process (`None` where it cannot be caught).
#[cfg(unix)]
pub type Hangup = Option<tokio::signal::unix::Signal>;
/// SIGHUP as received by this process (`None` where it cannot be caught).
#[cfg(not(unix))]
pub type Hangup = Option<()>;

/// Catches SIGHUP from now on (inside the runtime). Installed before the
/// server accepts anything, so a SIGHUP sent once it is up never meets the
/// default action, which would end the process.
#[cfg(unix)]
pub fn hangup() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

/// Catches SIGHUP from now on (nothing to catch here).
#[cfg(not(unix))]
pub fn hangup() -> Hangup {
    None
}

#[cfg(unix)]
async fn next_hangup(h: &mut Hangup) {
    match h {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) {
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::Settle;

    #[test]
    fn a_change_is_loaded_once_it_holds_for_a_poll() {
        let mut s = Settle::new(1);
        assert!(!s.changed(1, false), "nothing changed");
        assert!(!s.changed(0, false), "truncated: seen once, not loaded");
        assert!(!s.changed(2, false), "written: changed again, not loaded");
        assert!(s.changed(2, false), "held for a poll: loaded");
        assert!(!s.changed(2, false), "loaded once");
    }

    #[test]
    fn a_change_undone_before_it_settles_is_not_loaded() {
        let mut s = Settle::new(1);
        assert!(!s.changed(0, false));
        assert!(!s.changed(1, false), "back to what is loaded");
        assert!(!s.changed(1, false));
    }

    #[test]
    fn sighup_reloads_at_once() {
        let mut s = Settle::new(1);
        assert!(s.changed(1, true));
        assert!(s.changed(0, true));
        assert!(
            !s.changed(0, false),
            "what SIGHUP loaded is the new reference"
        );
    }
}
