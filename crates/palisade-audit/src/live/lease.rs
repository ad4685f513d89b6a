//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's
//! leaderelection does it (kube-rs has none): the holder renews the Lease
//! every few seconds; another replica takes it over when it is free (no
//! holder) or when its record has not changed for a whole lease duration
//! by this replica's own clock (so clock skew between nodes does not
//! matter); every write carries the `resourceVersion` read, so of two
//! replicas racing for it one gets 409 Conflict and stays a follower. The
//! holder gives the Lease up on shutdown.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use kube::Client;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Which Lease, who this replica is, and how long a lease lasts.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    /// The Lease's namespace.
    pub namespace: String,
    /// The Lease's name.
    pub name: String,
    /// This replica's identity (its pod name or host name).
    pub identity: String,
    /// How long a holder that stops renewing keeps the Lease.
    pub duration: Duration,
    /// How often the holder renews and followers look.
    pub retry: Duration,
}

/// One replica's view of the Lease.
pub struct Elector {
    api: Api<Lease>,
    cfg: LeaseConfig,
    /// The holder and renew time last seen, and when this replica saw them change.
    observed: Option<(String, Instant)>,
    /// When this replica last renewed successfully, while it leads.
    renewed: Option<Instant>,
}

/// What a round of the election did, for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Round {
    /// This replica holds the Lease (acquired or renewed).
    Leading,
    /// Another replica holds it.
    Following(String),
    /// The API server could not be asked or refused; the reason.
    Failed(String),
}

impl Elector {
    /// An elector for `cfg` through `client`.
    pub fn new(client: Client, cfg: LeaseConfig) -> Elector {
        Elector {
            api: Api::namespaced(client, &cfg.namespace),
            cfg,
            observed: None,
            renewed: None,
        }
    }

    /// Whether this replica leads: it renewed within the lease duration.
    pub fn leading(&self) -> bool {
        self.renewed
            .is_some_and(|t| t.elapsed() < self.cfg.duration)
    }

    /// One round: create the Lease when absent, renew it when held, take
    /// it over when free or expired.
    pub async fn step(&mut self) -> Round {
        // counted from before the request: a follower cannot have seen the
        // record this round writes any earlier
        let started = Instant::now();
        let round = match self.api.get_opt(&self.cfg.name).await {
            Ok(None) => self.create().await,
            Ok(Some(lease)) => self.contend(lease).await,
            Err(e) => Round::Failed(format!("get lease: {e}")),
        };
        if round == Round::Leading {
            self.renewed = Some(started);
        } else if !matches!(round, Round::Failed(_)) {
            self.renewed = None;
        }
        round
    }

    async fn create(&mut self) -> Round {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.cfg.name.clone()),
                namespace: Some(self.cfg.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(self.record(None, 0)),
        };
        match self.api.create(&PostParams::default(), &lease).await {
            Ok(_) => Round::Leading,
            Err(e) if is_conflict(&e) => Round::Following(String::new()),
            Err(e) => Round::Failed(format!("create lease: {e}")),
        }
    }

    async fn contend(&mut self, mut lease: Lease) -> Round {
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let key = format!(
            "{holder}@{:?}",
            spec.renew_time.as_ref().map(|t| t.0.as_nanosecond())
        );
        let now = Instant::now();
        let seen_at = match &self.observed {
            Some((k, at)) if *k == key => *at,
            _ => {
                self.observed = Some((key, now));
                now
            }
        };
        let duration = spec
            .lease_duration_seconds
            .filter(|s| *s > 0)
            .map_or(self.cfg.duration, |s| Duration::from_secs(s as u64));
        let mine = holder == self.cfg.identity;
        if !mine && !holder.is_empty() && now.duration_since(seen_at) < duration {
            return Round::Following(holder);
        }
        let transitions = spec.lease_transitions.unwrap_or(0);
        let (acquired, transitions) = if mine {
            (spec.acquire_time.clone(), transitions)
        } else {
            (None, transitions + 1)
        };
        lease.spec = Some(self.record(acquired, transitions));
        match self
            .api
            .replace(&self.cfg.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Round::Leading,
            Err(e) if is_conflict(&e) => Round::Following(holder),
            Err(e) => Round::Failed(format!("update lease: {e}")),
        }
    }

    /// This replica's record: held by it, renewed now.
    fn record(&self, acquired: Option<MicroTime>, transitions: i32) -> LeaseSpec {
        let now = MicroTime(jiff::Timestamp::now());
        LeaseSpec {
            holder_identity: Some(self.cfg.identity.clone()),
            lease_duration_seconds: Some(self.cfg.duration.as_secs().max(1) as i32),
            acquire_time: Some(acquired.unwrap_or_else(|| now.clone())),
            renew_time: Some(now),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// Gives the Lease up when this replica holds it: no holder, so another
    /// replica takes it over at once instead of after a lease duration.
    pub async fn release(&mut self) -> Result<(), kube::Error> {
        self.renewed = None;
        let Some(mut lease) = self.api.get_opt(&self.cfg.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(&self.cfg.identity) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(jiff::Timestamp::now()));
        self.api
            .replace(&self.cfg.name, &PostParams::default(), &lease)
            .await
            .map(drop)
    }
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// Runs the election until `stop` turns true, publishing whether this
/// replica leads on `leading` (and each round's outcome through `log`);
/// then gives the Lease up.
pub async fn run(
    mut elector: Elector,
    leading: watch::Sender<bool>,
    mut stop: watch::Receiver<bool>,
    log: impl Fn(&Round),
) {
    let mut last: Option<Round> = None;
    loop {
        let round = elector.step().await;
        if last.as_ref() != Some(&round) {
            log(&round);
        }
        leading.send_replace(elector.leading());
        last = Some(round);
        tokio::select! {
            _ = tokio::time::sleep(elector.cfg.retry) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    let was = elector.leading();
    leading.send_replace(false);
    if was {
        if let Err(e) = elector.release().await {
            log(&Round::Failed(format!("release lease: {e}")));
        }
    }
}
