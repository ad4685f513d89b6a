//! Reading a live cluster: discovery, then every kind the policy set
//! reads listed cluster-wide (paginated, bounded concurrency, a client-side
//! rate limit), the API server's version from `/version`. A kind that
//! cannot be listed (403 and the like) is reported, never skipped silently.

pub mod apply;
pub mod connect;
pub mod lease;
pub mod limit;
pub mod list;
mod observe;
pub mod secrets;
pub mod state;
pub mod watch;

pub use connect::{Connect, ConnectError};

use futures_util::stream::{self, StreamExt as _};
use http::StatusCode;
use kube::core::GroupVersion;
use kube::discovery::{oneshot, verbs, ApiCapabilities, ApiResource};
use kube::Client;
use limit::RateLimit;
use list::Lister;
use serde::Serialize;
use serde_json::Value;

/// How a live cluster is read.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the cluster is.
    pub connect: Connect,
    /// Objects per list page.
    pub page_size: u32,
    /// Kinds listed at once.
    pub concurrency: usize,
    /// Requests per second, all kinds together.
    pub qps: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect: Connect::default(),
            page_size: 500,
            concurrency: 4,
            qps: 50.0,
        }
    }
}

/// What the policy set wants of a kind: nothing, its metadata, or whole
/// objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Not listed.
    Nothing,
    /// `PartialObjectMetadata` only.
    Metadata,
    /// Whole objects.
    Whole,
}

/// One kind as listed.
#[derive(Debug, Clone, Serialize)]
pub struct KindRead {
    /// `apiVersion` of the objects.
    pub api_version: String,
    /// The kind.
    pub kind: String,
    /// Objects read.
    pub objects: usize,
    /// Whether only metadata was asked for.
    pub metadata_only: bool,
    /// Requests sent.
    pub requests: u32,
    /// Relists after an expired continue token.
    pub relists: u32,
    /// Throttled requests retried.
    pub throttled: u32,
}

/// Something the audit could not read, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotRead {
    /// What: a kind (with its API version) or the server version.
    pub what: String,
    /// Why.
    pub why: String,
}

/// What a live read gave.
#[derive(Debug, Default)]
pub struct LiveRead {
    /// The objects, with `apiVersion` and `kind` set.
    pub objects: Vec<Value>,
    /// The body of `/version`, when it could be read.
    pub version: Option<Value>,
    /// The kinds listed.
    pub kinds: Vec<KindRead>,
    /// What could not be read.
    pub not_read: Vec<NotRead>,
}

/// A kind that could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The API server answered with an error status.
    #[error("{status}{}: {message}", if .note.is_empty() { String::new() } else { format!(" ({})", .note) })]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The `message` of the Status the server sent (or its body).
        message: String,
        /// What the lister tried.
        note: String,
    },
    /// The request could not be sent or its answer read.
    #[error("request failed: {0}")]
    Request(String),
    /// The answer is not a list.
    #[error("cannot decode the list: {0}")]
    Decode(String),
}

impl ListError {
    fn status(status: StatusCode, body: &[u8], note: &str) -> ListError {
        let message = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
        ListError::Status {
            status,
            message,
            note: note.to_string(),
        }
    }
}

/// A cluster that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// No client.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// API discovery failed.
    #[error("API discovery failed: {0}")]
    Discovery(kube::Error),
}

/// Reads the cluster: every listable kind `want` asks for.
pub async fn read(
    opts: &Options,
    want: &(dyn Fn(&str) -> Want + Sync),
) -> Result<LiveRead, LiveError> {
    let client = opts.connect.client().await?;
    read_with(&client, opts, want).await
}

/// [`read`], telling `progress` of every page.
pub async fn read_with_progress(
    opts: &Options,
    want: &(dyn Fn(&str) -> Want + Sync),
    progress: &dyn list::Progress,
) -> Result<LiveRead, LiveError> {
    let client = opts.connect.client().await?;
    read_from(&client, opts, want, progress).await
}

/// [`read`] with a given client.
pub async fn read_with(
    client: &Client,
    opts: &Options,
    want: &(dyn Fn(&str) -> Want + Sync),
) -> Result<LiveRead, LiveError> {
    read_from(client, opts, want, &list::Quiet).await
}

async fn read_from(
    client: &Client,
    opts: &Options,
    want: &(dyn Fn(&str) -> Want + Sync),
    progress: &dyn list::Progress,
) -> Result<LiveRead, LiveError> {
    let mut out = LiveRead::default();
    let targets = targets(client, opts, want, verbs::LIST, &mut out.not_read).await?;
    let limit = RateLimit::new(opts.qps);
    let lister = Lister {
        client,
        limit: &limit,
        page_size: opts.page_size.max(1),
        progress,
    };
    match server_version(client, &limit).await {
        Ok(v) => out.version = Some(v),
        Err(why) => out.not_read.push(NotRead {
            what: "API server version".into(),
            why,
        }),
    }
    let results: Vec<_> = stream::iter(targets)
        .map(|(ar, meta)| {
            let lister = &lister;
            async move {
                let r = lister.list(&ar, meta).await;
                (ar, meta, r)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    for (ar, metadata_only, r) in results {
        match r {
            Ok(listed) => {
                out.kinds.push(KindRead {
                    api_version: ar.api_version.clone(),
                    kind: ar.kind.clone(),
                    objects: listed.items.len(),
                    metadata_only,
                    requests: listed.requests,
                    relists: listed.relists,
                    throttled: listed.throttled,
                });
                out.objects.extend(listed.items);
            }
            Err(e) => out.not_read.push(NotRead {
                what: format!("{} ({})", ar.kind, ar.api_version),
                why: format!("cannot list {}: {e}", list::collection_path(&ar)),
            }),
        }
    }
    out.kinds
        .sort_by(|a, b| (&a.kind, &a.api_version).cmp(&(&b.kind, &b.api_version)));
    out.not_read.sort_by(|a, b| a.what.cmp(&b.what));
    Ok(out)
}

/// The kinds `want` asks for that support `verb` (list or watch), each
/// with whether only its metadata is wanted.
pub async fn targets(
    client: &Client,
    opts: &Options,
    want: &(dyn Fn(&str) -> Want + Sync),
    verb: &str,
    not_read: &mut Vec<NotRead>,
) -> Result<Vec<(ApiResource, bool)>, LiveError> {
    let mut targets = Vec::new();
    for (ar, caps) in discover(client, opts.concurrency, not_read).await? {
        if !caps.supports_operation(verb) {
            continue;
        }
        match want(&ar.kind) {
            Want::Nothing => {}
            Want::Metadata => targets.push((ar, true)),
            Want::Whole => targets.push((ar, false)),
        }
    }
    Ok(targets)
}

/// The resources of the preferred version of every API group (the core
/// group's `v1` among them). A group whose discovery fails (an aggregated
/// API that is down, 403) is reported and the others are read; only the
/// group list itself failing stops the audit.
async fn discover(
    client: &Client,
    concurrency: usize,
    not_read: &mut Vec<NotRead>,
) -> Result<Vec<(ApiResource, ApiCapabilities)>, LiveError> {
    let groups = client
        .list_api_groups()
        .await
        .map_err(LiveError::Discovery)?;
    let mut gvs = vec![GroupVersion::gv("", "v1")];
    for g in groups.groups {
        let version = g
            .preferred_version
            .map(|p| p.version)
            .or_else(|| g.versions.first().map(|v| v.version.clone()));
        if let Some(v) = version {
            gvs.push(GroupVersion::gv(&g.name, &v));
        }
    }
    let found: Vec<_> = stream::iter(gvs)
        .map(|gv| async move {
            let r = oneshot::pinned_group(client, &gv).await;
            (gv, r)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut resources = Vec::new();
    for (gv, r) in found {
        match r {
            Ok(group) => resources.extend(group.recommended_resources()),
            Err(e) => not_read.push(NotRead {
                what: format!("API group {}", gv.api_version()),
                why: format!("discovery failed: {e}"),
            }),
        }
    }
    Ok(resources)
}

/// The body of `/version`.
pub async fn server_version(client: &Client, limit: &RateLimit) -> Result<Value, String> {
    limit.wait().await;
    let req = http::Request::get("/version")
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let v: Value = client
        .request(req)
        .await
        .map_err(|e| format!("GET /version: {e}"))?;
    match v.get("gitVersion") {
        Some(Value::String(_)) => Ok(v),
        _ => Err("GET /version: no gitVersion string in the answer".into()),
    }
}
