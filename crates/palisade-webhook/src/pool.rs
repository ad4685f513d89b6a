//! Bounded evaluation: decisions run on tokio's blocking threads, at most
//! `maxConcurrentEvaluations` at once, with at most `maxQueuedEvaluations`
//! requests waiting `queueTimeoutMs` for a slot. Beyond that the webhook
//! answers at once by `overloadPolicy` instead of queueing past the API
//! server's timeout, and the async threads stay free to accept, read and
//! answer (health probes, metrics, overload answers) whatever policies cost.
//!
//! When the client goes away (the API server gave up on the request), the
//! handler's future is dropped; a guard then sets the evaluation's cancel
//! flag and the policy set stops between rules, freeing the slot.

use crate::app::{op_name, AppState};
use crate::decide::{decide_with, Decision, Endpoint};
use crate::engine::Engine;
use crate::images::check_review;
use crate::review::{Response, Review};
use crate::settings::OverloadPolicy;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Sets the flag when dropped, i.e. when the request's future is dropped
/// before the evaluation finished.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Decides `review` on the blocking pool within the engine's limits.
pub async fn evaluate(
    s: &Arc<AppState>,
    engine: Arc<Engine>,
    mut review: Review,
    endpoint: Endpoint,
    start: Instant,
) -> (Decision, Review) {
    if let Some(why) = engine.unavailable() {
        return (unavailable(&engine, &review.uid, endpoint, &why), review);
    }
    let Ok(queued) = engine.admitted.clone().try_acquire_owned() else {
        return (
            overloaded(&engine, &review.uid, endpoint, "queue full"),
            review,
        );
    };
    // Registry work first, on the async threads, holding a place in the
    // queue but no evaluation slot (bounded by the image budget).
    let images = check_review(&engine, &mut review, endpoint, &s.metrics).await;
    let wait = engine.settings.queue_timeout();
    let running = match tokio::time::timeout(wait, engine.running.clone().acquire_owned()).await {
        Ok(Ok(p)) => p,
        _ => {
            let why = format!("no evaluation slot within {} ms", wait.as_millis());
            return (overloaded(&engine, &review.uid, endpoint, &why), review);
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancel.clone());
    let uid = review.uid.clone();
    let state = s.clone();
    let task = tokio::task::spawn_blocking(move || {
        let _permits = (queued, running);
        let mut review = review;
        let d = decide_with(&engine, &mut review, endpoint, Some(&cancel), images);
        if d.label == "cancelled" {
            let name = endpoint_name(endpoint);
            let secs = start.elapsed().as_secs_f64();
            state
                .metrics
                .request(name, op_name(&review), &review.kind, "cancelled", secs);
            tracing::info!(uid = %review.uid, "client went away: evaluation cancelled");
        }
        (d, review)
    });
    match task.await {
        Ok(out) => out,
        Err(e) => {
            tracing::error!(error = %e, "evaluation failed");
            let d = Decision {
                response: Response::deny(
                    &uid,
                    500,
                    "InternalError",
                    "palisade: evaluation failed".into(),
                ),
                label: "invalid",
                findings: Vec::new(),
            };
            (d, Review::placeholder(uid))
        }
    }
}

/// The endpoint's name in metrics.
pub(crate) fn endpoint_name(e: Endpoint) -> &'static str {
    match e {
        Endpoint::Validate => "validate",
        Endpoint::Mutate => "mutate",
    }
}

/// The answer of an overloaded webhook: by `overloadPolicy` on `/validate`
/// (deny by default), always admit without a patch on `/mutate` (mutation
/// never denies).
/// The answer to a request not evaluated for lack of capacity (`why`).
pub(crate) fn overloaded(engine: &Engine, uid: &str, endpoint: Endpoint, why: &str) -> Decision {
    tracing::warn!(uid = %uid, why, "overloaded");
    not_evaluated(
        engine,
        uid,
        endpoint,
        &format!("the webhook is overloaded ({why})"),
        "overloaded",
    )
}

/// The answer to a request that cannot be judged because the cluster
/// state is not synced or too stale (`why`): by `overloadPolicy` too, as
/// the API server's `failurePolicy` answers while the webhook is not ready.
pub(crate) fn unavailable(engine: &Engine, uid: &str, endpoint: Endpoint, why: &str) -> Decision {
    tracing::warn!(uid = %uid, why, "cluster state unavailable");
    not_evaluated(
        engine,
        uid,
        endpoint,
        &format!("the webhook cannot judge requests: {why}"),
        "unavailable",
    )
}

fn not_evaluated(
    engine: &Engine,
    uid: &str,
    endpoint: Endpoint,
    what: &str,
    label: &'static str,
) -> Decision {
    let policy = engine.settings.overload_policy;
    let response = match (endpoint, policy) {
        (Endpoint::Validate, OverloadPolicy::Fail) => Response::deny(
            uid,
            503,
            "ServiceUnavailable",
            format!("palisade: {what}; request not evaluated and denied (overloadPolicy: Fail), retry later"),
        ),
        (Endpoint::Validate, OverloadPolicy::Ignore) => {
            let mut r = Response::allow(uid);
            r.warnings.push(format!(
                "palisade: {what}; request admitted without evaluation (overloadPolicy: Ignore)"
            ));
            r
        }
        (Endpoint::Mutate, _) => Response::allow(uid),
    };
    Decision {
        response,
        label,
        findings: Vec::new(),
    }
}
