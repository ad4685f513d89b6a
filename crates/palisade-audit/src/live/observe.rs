//! A layer of the cluster client that notes when each collection path was
//! last answered with success (a list page, or a watch the API server
//! accepted): the only sign that a watch resumed on a quiet cluster, where
//! kube's watcher yields no event.

use http::{Request, Response};
use kube::client::Body;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

/// When each path was last answered with a 2xx status.
#[derive(Debug, Default)]
pub struct Seen {
    last_ok: Mutex<HashMap<String, Instant>>,
}

impl Seen {
    /// When `path` was last answered with success.
    pub fn last_ok(&self, path: &str) -> Option<Instant> {
        self.last_ok.lock().ok()?.get(path).copied()
    }

    pub(crate) fn ok(&self, path: &str) {
        if let Ok(mut m) = self.last_ok.lock() {
            // bounded: the client asks a handful of collection paths, and
            // per-object paths (Secrets) are not kept
            if m.contains_key(path) || m.len() < 64 {
                m.insert(path.to_string(), Instant::now());
            }
        }
    }
}

/// The service noting successes in [`Seen`].
pub struct Observe<S> {
    inner: S,
    seen: Arc<Seen>,
}

impl Observe<()> {
    /// The layer.
    pub fn layer(seen: Arc<Seen>) -> ObserveLayer {
        ObserveLayer { seen }
    }
}

/// Wraps a service in [`Observe`].
pub struct ObserveLayer {
    seen: Arc<Seen>,
}

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;
    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            seen: self.seen.clone(),
        }
    }
}

impl<S, B> tower::Service<Request<Body>> for Observe<S>
where
    S: tower::Service<Request<Body>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    B: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let collection = req.uri().query().is_some_and(|q| q.contains("watch=true"))
            || req.uri().query().is_some_and(|q| q.contains("limit="));
        let path = req.uri().path().to_string();
        let seen = self.seen.clone();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let r = fut.await;
            if let Ok(resp) = &r {
                if collection && resp.status().is_success() {
                    seen.ok(&path);
                }
            }
            r
        })
    }
}
