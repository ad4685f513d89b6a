//! Watching the kinds the policy set reads (kube-rs runtime watchers):
//! one watcher per kind, whole objects or metadata only as the list path
//! reads them, each turned into [`Update`]s on one channel. A watcher
//! lists first (paginated), then watches from the list's resource version;
//! a 410 Gone (or any watch error) makes it back off and list again. A
//! watcher never ends on an error: it reports the error and retries.

use futures_util::StreamExt as _;
use kube::api::{Api, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::discovery::ApiResource;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt as _;
use kube::Client;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One kind watched.
#[derive(Debug, Clone)]
pub struct Target {
    /// The kind and its resource.
    pub ar: ApiResource,
    /// Whether only `PartialObjectMetadata` is asked for.
    pub metadata_only: bool,
}

/// What a watcher saw, for the kind at `kind` (an index into the targets).
#[derive(Debug)]
pub enum Update {
    /// A full list (the first, or after a 410 Gone or an error): these are
    /// now all the objects of the kind.
    Listed {
        /// The target's index.
        kind: usize,
        /// The objects, with `apiVersion` and `kind` set.
        objects: Vec<Value>,
    },
    /// An object was added or changed.
    Applied {
        /// The target's index.
        kind: usize,
        /// The object, with `apiVersion` and `kind` set.
        object: Value,
    },
    /// An object was deleted.
    Deleted {
        /// The target's index.
        kind: usize,
        /// Its last state.
        object: Value,
    },
    /// The watcher failed; it backs off and lists again.
    Failed {
        /// The target's index.
        kind: usize,
        /// Why.
        error: String,
        /// The HTTP status of the failure, when the API server answered one.
        status: Option<u16>,
    },
}

/// How the watchers list and watch.
#[derive(Debug, Clone, Copy)]
pub struct WatchOptions {
    /// Objects per page of a (re)list.
    pub page_size: u32,
    /// How long the API server keeps one watch request open (seconds).
    pub timeout: u32,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            page_size: 500,
            timeout: 290,
        }
    }
}

/// Starts one watcher per target; their updates arrive on `tx` until the
/// receiver is dropped or the tasks are aborted.
pub fn spawn(
    client: &Client,
    targets: &[Target],
    opts: WatchOptions,
    tx: mpsc::Sender<Update>,
) -> Vec<JoinHandle<()>> {
    targets
        .iter()
        .enumerate()
        .map(|(kind, t)| {
            let ar = t.ar.clone();
            let tx = tx.clone();
            let config = watcher::Config::default()
                .page_size(opts.page_size.max(1))
                .timeout(opts.timeout.max(1));
            if t.metadata_only {
                // `Api<PartialObjectMeta<_>>` asks for metadata only
                let api: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(client.clone(), &ar);
                tokio::spawn(async move {
                    let stream = watcher::watcher(api, config).default_backoff();
                    pump(stream, kind, &tx, |m| {
                        json!({"apiVersion": ar.api_version, "kind": ar.kind,
                            "metadata": serde_json::to_value(m.metadata).unwrap_or(Value::Null)})
                    })
                    .await;
                })
            } else {
                let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
                tokio::spawn(async move {
                    let stream = watcher::watcher(api, config).default_backoff();
                    pump(stream, kind, &tx, |o| whole(o, &ar)).await;
                })
            }
        })
        .collect()
}

/// A watched object as JSON, with the kind's `apiVersion` and `kind`.
fn whole(o: DynamicObject, ar: &ApiResource) -> Value {
    let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), json!(ar.api_version));
        m.insert("kind".into(), json!(ar.kind));
    }
    v
}

/// Forwards one watcher's events as updates (a relist buffered until it is
/// complete) until the channel closes.
async fn pump<K, S>(
    stream: S,
    kind: usize,
    tx: &mpsc::Sender<Update>,
    to_value: impl Fn(K) -> Value,
) where
    S: futures_util::Stream<Item = Result<Event<K>, watcher::Error>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut buffer: Vec<Value> = Vec::new();
    while let Some(ev) = stream.next().await {
        let update = match ev {
            Ok(Event::Init) => {
                buffer.clear();
                continue;
            }
            Ok(Event::InitApply(o)) => {
                buffer.push(to_value(o));
                continue;
            }
            Ok(Event::InitDone) => Update::Listed {
                kind,
                objects: std::mem::take(&mut buffer),
            },
            Ok(Event::Apply(o)) => Update::Applied {
                kind,
                object: to_value(o),
            },
            Ok(Event::Delete(o)) => Update::Deleted {
                kind,
                object: to_value(o),
            },
            Err(e) => Update::Failed {
                kind,
                status: status_of(&e),
                error: e.to_string(),
            },
        };
        if tx.send(update).await.is_err() {
            return;
        }
    }
}

/// The HTTP status behind a watcher error, when there is one.
fn status_of(e: &watcher::Error) -> Option<u16> {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.code),
        watcher::Error::WatchError(s) => Some(s.code),
        _ => None,
    }
}
