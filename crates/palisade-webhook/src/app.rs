//! The HTTP routes: `/validate`, `/mutate`, `/healthz`, `/readyz`,
//! `/metrics` and, for benchmarks only, `/noop` and `/noop-bare`.

use crate::decide::{Decision, Endpoint};
use crate::engine::Engine;
use crate::metrics::Metrics;
use crate::pool::{evaluate, overloaded};
use crate::review::Review;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a client may take to send its body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// What every request reads: the current engine (swapped on reload), the
/// metrics and readiness. Nothing a request says is kept for later ones.
pub struct AppState {
    engine: RwLock<Arc<Engine>>,
    /// Counters and histograms.
    pub metrics: Metrics,
    ready: AtomicBool,
}

impl AppState {
    /// A state serving `engine`, ready.
    pub fn new(engine: Engine) -> AppState {
        AppState {
            engine: RwLock::new(Arc::new(engine)),
            metrics: Metrics::new(),
            ready: AtomicBool::new(true),
        }
    }

    /// The engine in force.
    pub fn engine(&self) -> Arc<Engine> {
        match self.engine.read() {
            Ok(e) => e.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `engine` in force for every later request; requests in flight
    /// finish with the engine they started with.
    pub fn swap(&self, engine: Engine) {
        let new = Arc::new(engine);
        match self.engine.write() {
            Ok(mut e) => *e = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }

    /// Marks the server ready or not (`/readyz`).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
}

/// The probe routes alone, for the plain-HTTP health port: `/healthz`
/// (the process answers) and `/readyz` (not shutting down).
pub fn health_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// The routes over `state`; `noop` adds the benchmark's reference routes:
/// `/noop`, the no-op admission handler (the webhook with an empty policy:
/// the same body reading, AdmissionReview decoding and response encoding as
/// `/validate`, no policy evaluation, answering allowed with the request's
/// uid), and `/noop-bare`, which reads the body and answers a fixed review
/// without decoding it (the cost of TLS and HTTP alone).
pub fn router(state: Arc<AppState>, noop: bool) -> Router {
    let mut r = Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    if noop {
        r = r
            .route("/noop", post(noop_handler))
            .route("/noop-bare", post(noop_bare_handler));
    }
    r.with_state(state)
}

/// Ready when not shutting down and, with `serve --cluster`, once every
/// watched kind has synced and while the state is fresh enough.
async fn readyz(State(s): State<Arc<AppState>>) -> Response {
    if !s.ready.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match s.engine().unavailable() {
        None => "ok".into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
    }
}

async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    if let Some(c) = &s.engine().cluster {
        s.metrics.cluster(&c.status());
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

async fn validate(State(s): State<Arc<AppState>>, req: Request) -> Response {
    handle(s, req, Endpoint::Validate).await
}

async fn mutate(State(s): State<Arc<AppState>>, req: Request) -> Response {
    handle(s, req, Endpoint::Mutate).await
}

/// The no-op admission handler: [`handle`] without the decision.
async fn noop_handler(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let engine = s.engine();
    let body = match read_body(req, engine.settings.max_body()).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match Review::parse_with(&body, engine.needs_request_raw()) {
        Ok(review) => encode(&crate::review::Response::allow(&review.uid)),
        Err(e) => plain(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn noop_bare_handler(State(s): State<Arc<AppState>>, req: Request) -> Response {
    match read_body(req, s.engine().settings.max_body()).await {
        Ok(_) => json(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"","allowed":true}}"#.to_vec()),
        Err(r) => r,
    }
}

fn plain(code: StatusCode, msg: String) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        msg,
    )
        .into_response()
}

fn json(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// Reads at most `limit` bytes within [`BODY_TIMEOUT`]: 413 beyond the
/// limit, 408 when the client is too slow.
async fn read_body(req: Request, limit: usize) -> Result<Bytes, Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {limit} bytes"),
        )
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), limit);
    match tokio::time::timeout(BODY_TIMEOUT, body.collect()).await {
        Err(_) => Err(plain(
            StatusCode::REQUEST_TIMEOUT,
            "request body not received in time".into(),
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(e)) => Err(plain(
            StatusCode::BAD_REQUEST,
            format!("cannot read request body: {e}"),
        )),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

async fn handle(s: Arc<AppState>, req: Request, endpoint: Endpoint) -> Response {
    let start = Instant::now();
    let engine = s.engine();
    let name = match endpoint {
        Endpoint::Validate => "validate",
        Endpoint::Mutate => "mutate",
    };
    let body = match read_body(req, engine.settings.max_body()).await {
        Ok(b) => b,
        Err(r) => {
            s.metrics
                .request(name, "", "", "invalid", start.elapsed().as_secs_f64());
            return r;
        }
    };
    // Decoding holds the object (several times the body's size) until the
    // decision: past the byte budget, answer at once from the uid alone.
    let Some(_ticket) = engine.enter(body.len()) else {
        return match crate::review::uid_of(&body) {
            Some(uid) => {
                let d = overloaded(&engine, &uid, endpoint, "request byte budget spent");
                s.metrics
                    .request(name, "", "", d.label, start.elapsed().as_secs_f64());
                encode(&d.response)
            }
            None => plain(
                StatusCode::BAD_REQUEST,
                "not an AdmissionReview with a request uid".into(),
            ),
        };
    };
    let review = match Review::parse_with(&body, engine.needs_request_raw()) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(endpoint = name, error = %e, "rejected malformed admission request");
            s.metrics
                .request(name, "", "", "invalid", start.elapsed().as_secs_f64());
            return plain(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    drop(body);
    let (d, review): (Decision, Review) = evaluate(&s, engine, review, endpoint, start).await;
    let op = op_name(&review);
    for f in &d.findings {
        s.metrics.rule_hit(&f.rule, f.action);
    }
    let elapsed = start.elapsed();
    s.metrics
        .request(name, op, &review.kind, d.label, elapsed.as_secs_f64());
    if tracing::enabled!(tracing::Level::DEBUG) {
        let rules: Vec<&str> = d.findings.iter().map(|f| &*f.rule).collect();
        tracing::debug!(
            endpoint = name,
            uid = %review.uid,
            operation = op,
            kind = %review.kind,
            namespace = %review.namespace,
            name = %review.name,
            sub_resource = review.info.sub_resource.as_deref().unwrap_or(""),
            dry_run = review.info.dry_run,
            user = %review.info.username,
            decision = d.label,
            rules = ?rules,
            micros = elapsed.as_micros() as u64,
            "admission decision"
        );
    }
    encode(&d.response)
}

/// The AdmissionReview around `response` as the HTTP response.
fn encode(response: &crate::review::Response) -> Response {
    match response.to_json() {
        Ok(bytes) => json(bytes),
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode response: {e}"),
        ),
    }
}

/// The operation's name for metrics and logs.
pub(crate) fn op_name(r: &Review) -> &'static str {
    match r.info.operation {
        palisade_core::Operation::Create => "CREATE",
        palisade_core::Operation::Update => "UPDATE",
        palisade_core::Operation::Delete => "DELETE",
        palisade_core::Operation::Connect => "CONNECT",
    }
}
