//! The cluster state the webhook judges with (`serve --cluster`): watches
//! (kube-rs runtime watchers, with backoff and resync) of the Namespaces,
//! metadata only, and of the four RBAC kinds, kept in stores of
//! [`Resource`]s.
//!
//! Each kind is synced once its first list has completed. A watch that
//! breaks is retried with kube's default backoff (exponential, up to
//! about 30 s, jittered); an expired resource version (410 Gone) relists.
//! How stale the state is: nothing while every watch is healthy; from the
//! first error of a watch until a later request of that kind to the API
//! server succeeds (a relist or a re-established watch, seen by a layer of
//! the client, since a resumed watch on a quiet cluster yields no event).

use super::observe::{Observe, Seen};
use futures_util::StreamExt as _;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt as _;
use kube::{Api, Client};
use palisade_core::Resource;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The kinds watched, in the order they are reported.
pub const KINDS: [&str; 5] = [
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
];

/// (namespace, name) of an object.
type Key = (Option<String>, String);

/// One watched kind.
struct Store {
    kind: &'static str,
    /// The collection path its lists and watches use.
    path: &'static str,
    objects: RwLock<HashMap<Key, Arc<Resource>>>,
    /// Objects of a relist in progress (`Init` .. `InitDone`).
    buffer: Mutex<Option<HashMap<Key, Arc<Resource>>>>,
    synced: std::sync::atomic::AtomicBool,
    /// When a watch error was first seen and not yet recovered from.
    broken_since: Mutex<Option<Instant>>,
}

/// One kind's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct KindFigures {
    /// The kind.
    pub kind: &'static str,
    /// Whether its first list has completed.
    pub synced: bool,
    /// Objects held.
    pub objects: usize,
}

/// The Namespaces and RBAC objects of a cluster, kept current.
pub struct ClusterState {
    stores: Vec<Store>,
    seen: Arc<Seen>,
    started: Instant,
}

impl ClusterState {
    fn new(seen: Arc<Seen>) -> ClusterState {
        let paths = [
            "/api/v1/namespaces",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            "/apis/rbac.authorization.k8s.io/v1/roles",
            "/apis/rbac.authorization.k8s.io/v1/rolebindings",
        ];
        let stores = KINDS
            .iter()
            .zip(paths)
            .map(|(kind, path)| Store {
                kind,
                path,
                objects: RwLock::default(),
                buffer: Mutex::default(),
                synced: Default::default(),
                broken_since: Mutex::default(),
            })
            .collect();
        ClusterState {
            stores,
            seen,
            started: Instant::now(),
        }
    }

    fn store(&self, kind: &str) -> Option<&Store> {
        self.stores.iter().find(|s| s.kind == kind)
    }

    /// The Namespace `name` (metadata only), when the cluster has it.
    pub fn namespace(&self, name: &str) -> Option<Arc<Resource>> {
        let s = self.store("Namespace")?;
        let objects = s.objects.read().ok()?;
        objects.get(&(None, name.to_string())).cloned()
    }

    /// Every Role, ClusterRole, RoleBinding and ClusterRoleBinding.
    pub fn rbac_objects(&self) -> Vec<Arc<Resource>> {
        let mut out = Vec::new();
        for s in self.stores.iter().filter(|s| s.kind != "Namespace") {
            if let Ok(objects) = s.objects.read() {
                out.extend(objects.values().cloned());
            }
        }
        out
    }

    /// Sync and size of every kind.
    pub fn kinds(&self) -> Vec<KindFigures> {
        self.stores
            .iter()
            .map(|s| KindFigures {
                kind: s.kind,
                synced: s.synced.load(std::sync::atomic::Ordering::SeqCst),
                objects: s.objects.read().map(|o| o.len()).unwrap_or(0),
            })
            .collect()
    }

    /// How long the state may have missed changes: since the start until
    /// every kind has synced, else since the oldest unrecovered watch error.
    pub fn stale(&self) -> Duration {
        let now = Instant::now();
        let mut worst = Duration::ZERO;
        for s in &self.stores {
            let since = if s.synced.load(std::sync::atomic::Ordering::SeqCst) {
                self.broken_since(s)
            } else {
                Some(self.started)
            };
            if let Some(t) = since {
                worst = worst.max(now.saturating_duration_since(t));
            }
        }
        worst
    }

    /// When the kind's watch broke, unless a request for it has
    /// succeeded since.
    fn broken_since(&self, s: &Store) -> Option<Instant> {
        let mut b = s.broken_since.lock().ok()?;
        let since = (*b)?;
        if self.seen.last_ok(s.path).is_some_and(|ok| ok > since) {
            *b = None;
            return None;
        }
        Some(since)
    }

    fn apply(&self, kind: &str, event: Event<Arc<Resource>>) {
        let Some(s) = self.store(kind) else { return };
        let key = |r: &Resource| (r.id.namespace.clone(), r.id.name.clone());
        let healthy = || {
            if let Ok(mut b) = s.broken_since.lock() {
                *b = None;
            }
        };
        match event {
            Event::Init => {
                if let Ok(mut b) = s.buffer.lock() {
                    *b = Some(HashMap::new());
                }
            }
            Event::InitApply(r) => {
                if let Ok(mut b) = s.buffer.lock() {
                    b.get_or_insert_with(HashMap::new).insert(key(&r), r);
                }
            }
            Event::InitDone => {
                let fresh = s.buffer.lock().ok().and_then(|mut b| b.take());
                if let (Some(fresh), Ok(mut objects)) = (fresh, s.objects.write()) {
                    *objects = fresh;
                }
                s.synced.store(true, std::sync::atomic::Ordering::SeqCst);
                healthy();
                tracing::info!(kind, "cluster state synced");
            }
            Event::Apply(r) => {
                if let Ok(mut objects) = s.objects.write() {
                    objects.insert(key(&r), r);
                }
                healthy();
            }
            Event::Delete(r) => {
                if let Ok(mut objects) = s.objects.write() {
                    objects.remove(&key(&r));
                }
                healthy();
            }
        }
    }

    fn broken(&self, kind: &str, error: &watcher::Error) {
        tracing::warn!(kind, error = %error, "watch of the API server failed; retrying with backoff");
        if let Some(s) = self.store(kind) {
            if let Ok(mut b) = s.broken_since.lock() {
                b.get_or_insert_with(Instant::now);
            }
        }
    }
}

/// Starts the watches on the current tokio runtime with a client from
/// `connect` (its requests observed for the staleness figure); they run
/// until the runtime stops. Also gives the client, for the pull secrets.
pub async fn start(
    connect: &super::Connect,
) -> Result<(Arc<ClusterState>, Client), super::ConnectError> {
    let config = connect.config().await?;
    let seen = Arc::new(Seen::default());
    let client = kube::client::ClientBuilder::try_from(config)?
        .with_layer(&Observe::layer(seen.clone()))
        .build();
    let state = Arc::new(ClusterState::new(seen));
    spawn_watches(&client, &state);
    Ok((state, client))
}

fn spawn_watches(client: &Client, state: &Arc<ClusterState>) {
    let ns: Api<PartialObjectMeta<Namespace>> = Api::all(client.clone());
    spawn(ns, state, "Namespace", namespace_resource);
    spawn(
        Api::<ClusterRole>::all(client.clone()),
        state,
        "ClusterRole",
        typed_resource,
    );
    spawn(
        Api::<ClusterRoleBinding>::all(client.clone()),
        state,
        "ClusterRoleBinding",
        typed_resource,
    );
    spawn(
        Api::<Role>::all(client.clone()),
        state,
        "Role",
        typed_resource,
    );
    spawn(
        Api::<RoleBinding>::all(client.clone()),
        state,
        "RoleBinding",
        typed_resource,
    );
}

fn spawn<K>(
    api: Api<K>,
    state: &Arc<ClusterState>,
    kind: &'static str,
    convert: fn(&K) -> Option<Resource>,
) where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let state = state.clone();
    tokio::spawn(async move {
        let mut events = watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        while let Some(e) = events.next().await {
            match e {
                Ok(ev) => {
                    if let Some(ev) = map_event(ev, convert, kind) {
                        state.apply(kind, ev);
                    }
                }
                Err(err) => state.broken(kind, &err),
            }
        }
    });
}

/// The event with its object converted; an object that does not convert
/// (no name) is logged and left out.
fn map_event<K>(
    ev: Event<K>,
    convert: fn(&K) -> Option<Resource>,
    kind: &str,
) -> Option<Event<Arc<Resource>>> {
    let conv = |o: &K| match convert(o) {
        Some(r) => Some(Arc::new(r)),
        None => {
            tracing::warn!(kind, "object without a name from the watch: ignored");
            None
        }
    };
    Some(match ev {
        Event::Init => Event::Init,
        Event::InitDone => Event::InitDone,
        Event::InitApply(o) => Event::InitApply(conv(&o)?),
        Event::Apply(o) => Event::Apply(conv(&o)?),
        Event::Delete(o) => Event::Delete(conv(&o)?),
    })
}

/// A Namespace as the rules read it: name, labels and annotations.
fn namespace_resource(ns: &PartialObjectMeta<Namespace>) -> Option<Resource> {
    let m = &ns.metadata;
    let mut meta = json!({"name": m.name.clone()?});
    if let Some(l) = &m.labels {
        meta["labels"] = json!(l);
    }
    if let Some(a) = &m.annotations {
        meta["annotations"] = json!(a);
    }
    Resource::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta}))
}

/// A typed object as JSON (with its `apiVersion` and `kind`), without
/// `managedFields`.
fn typed_resource<K: serde::Serialize + kube::Resource<DynamicType = ()>>(
    o: &K,
) -> Option<Resource> {
    let mut v = serde_json::to_value(o).ok()?;
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    if let Some(obj) = v.as_object_mut() {
        obj.insert("apiVersion".into(), json!(K::api_version(&())));
        obj.insert("kind".into(), json!(K::kind(&())));
    }
    Resource::from_value(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(name: &str) -> Arc<Resource> {
        Arc::new(
            Resource::from_value(json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name}}))
            .unwrap(),
        )
    }

    #[test]
    fn a_relist_replaces_the_store_and_staleness_follows_the_watch() {
        let seen = Arc::new(Seen::default());
        let state = ClusterState::new(seen.clone());
        let synced = |s: &ClusterState| s.kinds().iter().filter(|k| k.synced).count();
        assert_eq!(synced(&state), 0);
        state.apply("Namespace", Event::Init);
        state.apply("Namespace", Event::InitApply(ns("a")));
        assert!(state.namespace("a").is_none(), "not before InitDone");
        state.apply("Namespace", Event::InitDone);
        assert!(state.namespace("a").is_some());
        for k in &KINDS[1..] {
            state.apply(k, Event::Init);
            state.apply(k, Event::InitDone);
        }
        assert_eq!(synced(&state), KINDS.len());
        assert_eq!(state.stale(), Duration::ZERO);
        // a relist without `a` drops it
        state.apply("Namespace", Event::Init);
        state.apply("Namespace", Event::InitApply(ns("b")));
        state.apply("Namespace", Event::InitDone);
        assert!(state.namespace("a").is_none() && state.namespace("b").is_some());
        // a broken watch is stale until a later request of its path succeeds
        let err = watcher::Error::NoResourceVersion;
        state.broken("Role", &err);
        std::thread::sleep(Duration::from_millis(20));
        assert!(state.stale() >= Duration::from_millis(20));
        seen.ok("/apis/rbac.authorization.k8s.io/v1/roles");
        assert_eq!(state.stale(), Duration::ZERO);
        // or an event arrives
        state.broken("Namespace", &err);
        state.apply("Namespace", Event::Delete(ns("b")));
        assert_eq!(state.stale(), Duration::ZERO);
        assert!(state.namespace("b").is_none());
    }
}
