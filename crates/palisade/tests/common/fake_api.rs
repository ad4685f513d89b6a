//! A Kubernetes API server faked at the HTTP layer, as kube-rs tests its
//! client: a real axum server on 127.0.0.1:0 serving discovery, paginated
//! lists (`limit`/`continue`, metadata-only on request) of objects read
//! from snapshot files, `/version`, server-side apply and deletes of
//! reports, with faults on chosen resources: 403, one 429 with
//! `Retry-After`, one 410 Gone on a continue token. Every request is
//! recorded. Used by tests/live.rs and the `fake_apiserver` example (the
//! benchmark).
//!
//! Watches, as kube-rs' watcher uses them: `?watch=true` (or `1`) with
//! `resourceVersion`, `allowWatchBookmarks`, `timeoutSeconds` (and
//! `sendInitialEvents`) is answered with a chunked stream of JSON lines
//! (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, and an `ERROR` event
//! carrying a 410 Gone Status when the resource version is older than the
//! kind's compaction point, which [`FakeApi::expire_watches`] moves, or
//! once per kind with [`Faults::gone_watch_once`]). Every change has a
//! resource version from one counter; lists carry the current one; a
//! watch from version N replays the changes after N, then streams new ones.
//! Tests change objects with [`FakeApi::upsert`] and [`FakeApi::remove`]:
//! watchers get the event and later lists reflect it.
//!
//! Single objects of the served kinds can be read (GET), created (POST)
//! and replaced (PUT, with a `metadata.resourceVersion` precondition: 409
//! Conflict when stale), which is how leader election uses its
//! `coordination.k8s.io/v1` Lease; the Lease kind is always served.
#![allow(dead_code)]

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// One kind the fake serves.
#[derive(Debug, Clone)]
pub struct Kind {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub items: Vec<Value>,
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub accept: String,
    pub authorization: String,
    pub body: String,
}

/// Faults, by resource (plural) name.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer 403 to every list.
    pub forbidden: HashSet<String>,
    /// Answer the first list request 429 with `Retry-After: 1`.
    pub throttle_once: HashSet<String>,
    /// Answer the first request with a continue token 410 Gone.
    pub gone_once: HashSet<String>,
    /// Answer the discovery of these API groups 503 (an aggregated API down).
    pub broken_groups: HashSet<String>,
    /// Answer the first watch of these resources with an ERROR event
    /// carrying a 410 Gone Status (the client must relist).
    pub gone_watch_once: HashSet<String>,
}

/// One change of a served object, as watchers see it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The resource version the change got.
    pub rv: u64,
    /// `ADDED`, `MODIFIED`, `DELETED` or `ERROR`.
    pub kind: &'static str,
    /// Group, version and resource (plural) of the collection.
    pub group: String,
    pub version: String,
    pub plural: String,
    /// The object (with apiVersion and kind), or the Status of an ERROR.
    pub object: Value,
}

/// What the fake holds.
#[derive(Default)]
pub struct State {
    pub kinds: Vec<Kind>,
    pub version: Option<Value>,
    pub faults: Faults,
    /// Faults already served (resource, fault).
    pub served: HashSet<(String, &'static str)>,
    pub log: Vec<Logged>,
    /// Objects written by server-side apply or present beforehand, by
    /// (path of the collection, name).
    pub applied: BTreeMap<(String, String), Value>,
    /// The last resource version given out.
    pub rv: u64,
    /// Every change so far, for watches that start from an older version.
    pub changes: Vec<Change>,
    /// Per resource (plural): watches from an older version get 410 Gone.
    pub compacted: HashMap<String, u64>,
    /// Where running watches hear of changes.
    pub notify: Option<broadcast::Sender<Arc<Change>>>,
    /// How often a watch that allows them gets a BOOKMARK.
    pub bookmark_every: Duration,
    /// The longest a watch stays open, whatever `timeoutSeconds` asks.
    pub max_watch: Duration,
}

impl State {
    /// The next resource version.
    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Records `change` and tells the running watches.
    fn publish(&mut self, change: Change) {
        let change = Arc::new(change);
        if let Some(tx) = &self.notify {
            let _ = tx.send(change.clone());
        }
        self.changes.push((*change).clone());
    }

    /// Adds or replaces `obj` (by apiVersion, kind, namespace and name) in
    /// its kind, gives it a new resource version and publishes the change;
    /// `None` when the fake serves no such kind.
    pub fn upsert(&mut self, mut obj: Value) -> Option<u64> {
        let at = self.kind_of(&obj)?;
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let kind = &mut self.kinds[at];
        let existing = kind.items.iter().position(|i| same_object(i, &obj));
        let change = match existing {
            Some(i) => {
                kind.items[i] = obj.clone();
                "MODIFIED"
            }
            None => {
                kind.items.push(obj.clone());
                "ADDED"
            }
        };
        let (group, version, plural) = (
            kind.group.clone(),
            kind.version.clone(),
            kind.plural.clone(),
        );
        self.publish(Change {
            rv,
            kind: change,
            group,
            version,
            plural,
            object: obj,
        });
        Some(rv)
    }

    /// Removes the object of `kind` at `index` and publishes its deletion.
    fn remove_at(&mut self, kind: usize, index: usize) -> Value {
        let rv = self.next_rv();
        let mut obj = self.kinds[kind].items.remove(index);
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let k = &self.kinds[kind];
        let change = Change {
            rv,
            kind: "DELETED",
            group: k.group.clone(),
            version: k.version.clone(),
            plural: k.plural.clone(),
            object: obj.clone(),
        };
        self.publish(change);
        obj
    }

    /// The index of the kind `obj` belongs to.
    fn kind_of(&self, obj: &Value) -> Option<usize> {
        let av = obj["apiVersion"].as_str()?;
        let kind = obj["kind"].as_str()?;
        let (group, version) = av.split_once('/').unwrap_or(("", av));
        self.kinds
            .iter()
            .position(|k| k.group == group && k.version == version && k.kind == kind)
    }

    /// The index of the kind served at `group/version/plural`.
    fn kind_at(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.kinds
            .iter()
            .position(|k| k.group == group && k.version == version && k.plural == plural)
    }
}

/// Whether `a` and `b` are the same object (namespace and name).
fn same_object(a: &Value, b: &Value) -> bool {
    a["metadata"]["name"] == b["metadata"]["name"]
        && a["metadata"]["namespace"] == b["metadata"]["namespace"]
}

/// A running fake API server.
pub struct FakeApi {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
}

impl FakeApi {
    /// Serves `kinds` on 127.0.0.1 (an ephemeral port) from a background thread.
    pub fn start(mut kinds: Vec<Kind>, version: Option<Value>, faults: Faults) -> FakeApi {
        if !kinds
            .iter()
            .any(|k| k.group == "coordination.k8s.io" && k.plural == "leases")
        {
            kinds.push(Kind {
                group: "coordination.k8s.io".into(),
                version: "v1".into(),
                kind: "Lease".into(),
                plural: "leases".into(),
                namespaced: true,
                items: Vec::new(),
            });
        }
        let (notify, _) = broadcast::channel(4096);
        let state = Arc::new(Mutex::new(State {
            kinds,
            version,
            faults,
            rv: 1000,
            notify: Some(notify),
            bookmark_every: Duration::from_secs(2),
            max_watch: Duration::from_secs(1800),
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(
                    move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                        let state = shared.clone();
                        async move { handle(&state, method, uri, headers, body) }
                    },
                );
                axum::serve(listener, app).await.unwrap();
            });
        });
        FakeApi { addr, state }
    }

    /// A kubeconfig whose context `fake` points at this server (bearer
    /// token `fake-token`); its current context `elsewhere` points at a
    /// closed port, so tests must choose `--context fake` or `current`.
    pub fn kubeconfig(&self, dir: &Path, current: &str) -> PathBuf {
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n\
             - name: fake\n  cluster:\n    server: http://{}\n\
             - name: elsewhere\n  cluster:\n    server: http://127.0.0.1:9\n\
             users:\n- name: auditor\n  user:\n    token: fake-token\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: auditor\n\
             - name: elsewhere\n  context:\n    cluster: elsewhere\n    user: auditor\n",
            self.addr
        );
        let path = dir.join("kubeconfig");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The requests received so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// Adds `obj` to its kind, or replaces the object of that namespace and
    /// name: watchers get ADDED or MODIFIED, later lists show it. Returns
    /// the resource version it got. Panics when the kind is not served.
    pub fn upsert(&self, obj: Value) -> u64 {
        let what = format!("{} {}", obj["apiVersion"], obj["kind"]);
        self.state
            .lock()
            .unwrap()
            .upsert(obj)
            .unwrap_or_else(|| panic!("the fake serves no {what}"))
    }

    /// Removes an object: watchers get DELETED. `false` when there was none.
    pub fn remove(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let mut st = self.state.lock().unwrap();
        let probe = json!({"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "namespace": namespace}});
        let Some(k) = st.kind_of(&probe) else {
            return false;
        };
        let found = st.kinds[k].items.iter().position(|i| {
            i["metadata"]["name"] == name && i["metadata"]["namespace"].as_str() == namespace
        });
        match found {
            Some(i) => {
                st.remove_at(k, i);
                true
            }
            None => false,
        }
    }

    /// The served object of that kind, namespace and name.
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let st = self.state.lock().unwrap();
        let probe = json!({"apiVersion": api_version, "kind": kind});
        let k = st.kind_of(&probe)?;
        st.kinds[k]
            .items
            .iter()
            .find(|i| {
                i["metadata"]["name"] == name && i["metadata"]["namespace"].as_str() == namespace
            })
            .cloned()
    }

    /// Compacts the history of `plural` (watches from an older version get
    /// 410 Gone) and ends the running watches of it with an ERROR event
    /// carrying that Status: their clients must relist.
    pub fn expire_watches(&self, plural: &str) {
        let mut st = self.state.lock().unwrap();
        // every version a client has seen is now too old; later lists
        // give this one, which is not
        let rv = st.next_rv();
        st.compacted.insert(plural.to_string(), rv);
        let Some(k) = st.kinds.iter().position(|k| k.plural == plural) else {
            return;
        };
        let k = &st.kinds[k];
        let change = Change {
            rv,
            kind: "ERROR",
            group: k.group.clone(),
            version: k.version.clone(),
            plural: k.plural.clone(),
            object: gone_status(rv),
        };
        if let Some(tx) = &st.notify {
            let _ = tx.send(Arc::new(change));
        }
    }

    /// How many watch requests of `plural` were received.
    pub fn watches(&self, plural: &str) -> usize {
        self.log()
            .iter()
            .filter(|r| {
                r.method == "GET"
                    && r.path.ends_with(&format!("/{plural}"))
                    && is_watch(&url_pairs(&r.query))
            })
            .count()
    }
}

/// The kinds of the JSON snapshot files under `paths` (Lists, bare arrays
/// or single objects), grouped by apiVersion and kind.
pub fn kinds_from(paths: &[PathBuf]) -> (Vec<Kind>, Option<Value>) {
    let mut by: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let mut version = None;
    let mut files = Vec::new();
    for p in paths {
        collect_files(p, &mut files);
    }
    files.sort();
    for f in files {
        let Ok(v) = serde_json::from_slice::<Value>(&std::fs::read(&f).unwrap()) else {
            continue;
        };
        if let Some(sv) = v.get("serverVersion") {
            version = Some(sv.clone());
            continue;
        }
        let items = match v {
            Value::Array(a) => a,
            Value::Object(ref m) if m.get("items").is_some_and(Value::is_array) => {
                m["items"].as_array().unwrap().clone()
            }
            Value::Object(_) => vec![v],
            _ => continue,
        };
        for item in items {
            let (Some(av), Some(k)) = (item["apiVersion"].as_str(), item["kind"].as_str()) else {
                continue;
            };
            by.entry((av.to_string(), k.to_string()))
                .or_default()
                .push(item);
        }
    }
    let kinds = by
        .into_iter()
        .map(|((av, kind), items)| {
            let (group, version) = match av.split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), av.clone()),
            };
            let namespaced = items.iter().any(|i| i["metadata"]["namespace"].is_string());
            Kind {
                group,
                version,
                plural: plural(&kind),
                kind,
                namespaced,
                items,
            }
        })
        .collect();
    (kinds, version)
}

fn collect_files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            collect_files(&e.unwrap().path(), out);
        }
    } else if p.extension().is_some_and(|e| e == "json") {
        out.push(p.to_path_buf());
    }
}

/// The resource name of a kind, as the API server names the built-in ones.
pub fn plural(kind: &str) -> String {
    let k = kind.to_lowercase();
    if k == "endpoints" {
        k
    } else if k.ends_with('y') && !k.ends_with("ey") {
        format!("{}ies", &k[..k.len() - 1])
    } else if k.ends_with('s') {
        format!("{k}es")
    } else {
        format!("{k}s")
    }
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16()});
    (code, axum::Json(body)).into_response()
}

fn handle(
    state: &Arc<Mutex<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut st = state.lock().unwrap();
    st.log.push(Logged {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        content_type: header("content-type"),
        accept: header("accept"),
        authorization: header("authorization"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let query: HashMap<String, String> = uri.query().map(url_pairs).unwrap_or_default();
    let path = uri.path().trim_end_matches('/').to_string();
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let accept = header("accept");
    // (group, version, namespace, plural, name) of a resource path
    let target: Option<Target<'_>> = match segs.as_slice() {
        ["api", v, "namespaces", ns, p] => Some(("", v, Some(ns), p, None)),
        ["api", v, "namespaces", ns, p, n] => Some(("", v, Some(ns), p, Some(n))),
        ["api", v, p] => Some(("", v, None, p, None)),
        ["api", v, p, n] => Some(("", v, None, p, Some(n))),
        ["apis", g, v, "namespaces", ns, p] => Some((g, v, Some(ns), p, None)),
        ["apis", g, v, "namespaces", ns, p, n] => Some((g, v, Some(ns), p, Some(n))),
        ["apis", g, v, p] => Some((g, v, None, p, None)),
        ["apis", g, v, p, n] => Some((g, v, None, p, Some(n))),
        _ => None,
    };
    match (method.clone(), segs.as_slice()) {
        (Method::GET, ["version"]) => {
            return match &st.version {
                Some(v) => axum::Json(v.clone()).into_response(),
                None => status(StatusCode::NOT_FOUND, "NotFound", "no version"),
            }
        }
        (Method::GET, ["api"]) => {
            return axum::Json(json!({"kind": "APIVersions", "versions": ["v1"]})).into_response()
        }
        (Method::GET, ["apis"]) => return axum::Json(group_list(&st.kinds)).into_response(),
        (Method::GET, ["api", v]) => {
            return axum::Json(resource_list(&st.kinds, "", v)).into_response()
        }
        (Method::GET, ["apis", g, _]) if st.faults.broken_groups.contains(*g) => {
            return status(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
            )
        }
        (Method::GET, ["apis", g, v]) => {
            return axum::Json(resource_list(&st.kinds, g, v)).into_response()
        }
        _ => {}
    }
    let Some((g, v, ns, plural, name)) = target else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("no route {path}"),
        );
    };
    let served = st.kind_at(g, v, plural);
    match (method, served, name) {
        (Method::GET, Some(_), None) if is_watch(&query) => {
            watch(&mut st, g, v, ns, plural, &query, &accept)
        }
        (Method::GET, Some(_), None) => list(&mut st, g, v, ns, plural, &query, &accept),
        (Method::GET, None, None) => list_applied(&st, &format!("/apis/{g}/{v}"), plural, &query),
        (Method::GET, Some(k), Some(n)) => match find(&st.kinds[k], ns, n) {
            Some(i) => axum::Json(st.kinds[k].items[i].clone()).into_response(),
            None => not_found(plural, n),
        },
        (Method::POST, Some(k), None) => create(&mut st, k, ns, &body),
        (Method::PUT, Some(k), Some(n)) => replace(&mut st, k, ns, n, &body),
        (Method::PATCH, _, Some(_)) => apply(&mut st, &path, &body),
        (Method::DELETE, _, Some(_)) => delete(&mut st, &path, &body),
        _ => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("no route {path}"),
        ),
    }
}

/// Group, version, namespace, resource (plural) and name of a resource path.
type Target<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, Option<&'a str>);

fn not_found(plural: &str, name: &str) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{plural} \"{name}\" not found"),
    )
}

/// The index of the object `name` (in `ns`) among the items of `kind`.
fn find(kind: &Kind, ns: Option<&str>, name: &str) -> Option<usize> {
    kind.items
        .iter()
        .position(|i| i["metadata"]["name"] == name && i["metadata"]["namespace"].as_str() == ns)
}

/// The object of a POST or PUT body, checked against the path.
fn body_object(kind: &Kind, ns: Option<&str>, body: &[u8]) -> Result<Value, Box<Response>> {
    let Ok(mut obj) = serde_json::from_slice::<Value>(body) else {
        return Err(Box::new(status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "body is not JSON",
        )));
    };
    if !obj["metadata"]["name"].is_string() {
        return Err(Box::new(status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "metadata.name: Required value",
        )));
    }
    let api_version = if kind.group.is_empty() {
        kind.version.clone()
    } else {
        format!("{}/{}", kind.group, kind.version)
    };
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind.kind);
    if let Some(ns) = ns {
        obj["metadata"]["namespace"] = json!(ns);
    }
    Ok(obj)
}

/// POST: creates an object (409 AlreadyExists when its name is taken).
fn create(st: &mut State, k: usize, ns: Option<&str>, body: &[u8]) -> Response {
    let obj = match body_object(&st.kinds[k], ns, body) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if find(&st.kinds[k], ns, &name).is_some() {
        let msg = format!("{} \"{name}\" already exists", st.kinds[k].plural);
        return status(StatusCode::CONFLICT, "AlreadyExists", &msg);
    }
    let mut obj = obj;
    obj["metadata"]["uid"] = json!(format!("fake-uid-{}", st.rv + 1));
    st.upsert(obj);
    let stored = st.kinds[k].items.last().cloned().unwrap_or_default();
    (StatusCode::CREATED, axum::Json(stored)).into_response()
}

/// PUT: replaces an object; a `metadata.resourceVersion` in the body must
/// be the stored one (409 Conflict otherwise), as the API server's
/// optimistic concurrency has it.
fn replace(st: &mut State, k: usize, ns: Option<&str>, name: &str, body: &[u8]) -> Response {
    let mut obj = match body_object(&st.kinds[k], ns, body) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    if obj["metadata"]["name"] != name {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the name of the object does not match the name on the URL",
        );
    }
    let Some(i) = find(&st.kinds[k], ns, name) else {
        return not_found(&st.kinds[k].plural, name);
    };
    let stored = &st.kinds[k].items[i];
    if let Some(want) = obj["metadata"]["resourceVersion"].as_str() {
        if stored["metadata"]["resourceVersion"].as_str() != Some(want) {
            let msg = format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                st.kinds[k].plural
            );
            return status(StatusCode::CONFLICT, "Conflict", &msg);
        }
    }
    obj["metadata"]["uid"] = stored["metadata"]["uid"].clone();
    st.upsert(obj);
    axum::Json(st.kinds[k].items[i].clone()).into_response()
}

/// Whether the query asks for a watch.
fn is_watch(query: &HashMap<String, String>) -> bool {
    matches!(query.get("watch").map(String::as_str), Some("true" | "1"))
}

/// The Status of a 410 Gone watch.
fn gone_status(rv: u64) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("too old resource version: {rv}"), "reason": "Expired", "code": 410})
}

/// One watch event as a line of JSON.
fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap();
    line.push(b'\n');
    Bytes::from(line)
}

/// What one running watch sends.
struct Watcher {
    group: String,
    version: String,
    plural: String,
    namespace: Option<String>,
    /// apiVersion and kind of the watched objects.
    types: (String, String),
    metadata_only: bool,
    bookmarks: bool,
}

impl Watcher {
    fn wants(&self, c: &Change) -> bool {
        c.group == self.group
            && c.version == self.version
            && c.plural == self.plural
            && (c.kind == "ERROR"
                || self.namespace.is_none()
                || c.object["metadata"]["namespace"].as_str() == self.namespace.as_deref())
    }

    fn line(&self, kind: &str, object: &Value) -> Bytes {
        if self.metadata_only && kind != "ERROR" {
            event_line(kind, &metadata_object(object))
        } else {
            event_line(kind, object)
        }
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let (api_version, kind) = if self.metadata_only {
            (
                "meta.k8s.io/v1".to_string(),
                "PartialObjectMetadata".to_string(),
            )
        } else {
            self.types.clone()
        };
        event_line(
            "BOOKMARK",
            &json!({"apiVersion": api_version, "kind": kind, "metadata": metadata}),
        )
    }
}

/// An object as `PartialObjectMetadata`.
fn metadata_object(obj: &Value) -> Value {
    json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": obj["metadata"]})
}

/// `?watch=true`: a chunked stream of JSON lines. From `resourceVersion`
/// N the changes after N are replayed, then new ones streamed; without one
/// (or `0`, or with `sendInitialEvents`) every current object comes first
/// as ADDED. A version older than the kind's compaction point gets one
/// ERROR event with a 410 Gone Status. The stream ends after
/// `timeoutSeconds` (capped by [`State::max_watch`]).
fn watch(
    st: &mut State,
    group: &str,
    version: &str,
    ns: Option<&str>,
    plural: &str,
    query: &HashMap<String, String>,
    accept: &str,
) -> Response {
    if st.faults.forbidden.contains(plural) {
        let msg = format!("{plural} is forbidden: User \"auditor\" cannot watch resource \"{plural}\" in API group \"{group}\" at the cluster scope");
        return status(StatusCode::FORBIDDEN, "Forbidden", &msg);
    }
    let k = st.kind_at(group, version, plural).unwrap_or_default();
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let w = Watcher {
        types: (api_version, st.kinds[k].kind.clone()),
        group: group.to_string(),
        version: version.to_string(),
        plural: plural.to_string(),
        namespace: ns.map(str::to_string),
        metadata_only: accept.contains("as=PartialObjectMetadata"),
        bookmarks: query
            .get("allowWatchBookmarks")
            .is_some_and(|b| b == "true"),
    };
    let from = query
        .get("resourceVersion")
        .map(String::as_str)
        .unwrap_or("");
    let initial = query.get("sendInitialEvents").is_some_and(|b| b == "true");
    let mut first: Vec<Bytes> = Vec::new();
    let mut done = false;
    let gone_once = st.faults.gone_watch_once.contains(plural)
        && st.served.insert((plural.to_string(), "watch410"));
    let compacted = st.compacted.get(plural).copied().unwrap_or(0);
    match from.parse::<u64>() {
        _ if gone_once => done = true,
        Ok(n) if n != 0 && n < compacted => done = true,
        Ok(n) if n != 0 && !initial => {
            for c in st.changes.iter().filter(|c| c.rv > n && w.wants(c)) {
                first.push(w.line(c.kind, &c.object));
            }
        }
        _ => {
            for item in &st.kinds[k].items {
                if ns.is_none() || item["metadata"]["namespace"].as_str() == ns {
                    first.push(w.line("ADDED", item));
                }
            }
            if initial && w.bookmarks {
                first.push(w.bookmark(st.rv, true));
            }
        }
    }
    if done {
        first = vec![event_line("ERROR", &gone_status(compacted.max(1)))];
    }
    let asked = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(st.max_watch);
    let timeout = asked.min(st.max_watch);
    let events = st.notify.as_ref().map(broadcast::Sender::subscribe);
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let start_rv = st.rv;
    let every = st.bookmark_every;
    tokio::spawn(async move {
        for line in first {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        if let (false, Some(events)) = (done, events) {
            pump(w, events, tx, start_rv, timeout, every).await;
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<Bytes, std::convert::Infallible>(b), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from_stream(body))
        .unwrap()
}

/// Streams the changes `w` wants, bookmarks when allowed, until the
/// timeout, an ERROR or the client leaving.
async fn pump(
    w: Watcher,
    mut events: broadcast::Receiver<Arc<Change>>,
    tx: mpsc::Sender<Bytes>,
    mut seen: u64,
    timeout: Duration,
    every: Duration,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        let (line, last) = tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return,
            _ = tick.tick(), if w.bookmarks => (w.bookmark(seen, false), false),
            ev = events.recv() => match ev {
                Ok(c) => {
                    seen = seen.max(c.rv);
                    if !w.wants(&c) {
                        continue;
                    }
                    (w.line(c.kind, &c.object), c.kind == "ERROR")
                }
                Err(broadcast::error::RecvError::Lagged(_)) => (event_line("ERROR", &gone_status(seen)), true),
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        if tx.send(line).await.is_err() || last {
            return;
        }
    }
}

fn url_pairs(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn group_list(kinds: &[Kind]) -> Value {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for k in kinds.iter().filter(|k| !k.group.is_empty()) {
        let vs = groups.entry(&k.group).or_default();
        if !vs.contains(&k.version.as_str()) {
            vs.push(&k.version);
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(g, vs)| {
            let versions: Vec<Value> = vs
                .iter()
                .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                .collect();
            json!({"name": g, "versions": versions, "preferredVersion": versions[0].clone()})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(kinds: &[Kind], group: &str, version: &str) -> Value {
    let resources: Vec<Value> = kinds
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .map(|k| {
            json!({"name": k.plural, "singularName": k.kind.to_lowercase(), "namespaced": k.namespaced,
                "kind": k.kind, "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
        })
        .collect();
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

fn list(
    st: &mut State,
    group: &str,
    version: &str,
    ns: Option<&str>,
    plural: &str,
    query: &HashMap<String, String>,
    accept: &str,
) -> Response {
    let Some(at) = st.kind_at(group, version, plural) else {
        return list_applied(st, &format!("/apis/{group}/{version}"), plural, query);
    };
    let name = plural.to_string();
    if st.faults.forbidden.contains(&name) {
        let msg = format!("{plural} is forbidden: User \"auditor\" cannot list resource \"{plural}\" in API group \"{group}\" at the cluster scope");
        return status(StatusCode::FORBIDDEN, "Forbidden", &msg);
    }
    if st.faults.throttle_once.contains(&name) && st.served.insert((name.clone(), "429")) {
        let mut r = status(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "too many requests, please try again later",
        );
        r.headers_mut().insert("retry-after", "1".parse().unwrap());
        return r;
    }
    let token = query.get("continue").cloned().unwrap_or_default();
    if !token.is_empty()
        && st.faults.gone_once.contains(&name)
        && st.served.insert((name.clone(), "410"))
    {
        return status(
            StatusCode::GONE,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result.",
        );
    }
    let kind = &st.kinds[at];
    let in_ns: Vec<&Value> = kind
        .items
        .iter()
        .filter(|i| ns.is_none() || i["metadata"]["namespace"].as_str() == ns)
        .collect();
    let start: usize = token
        .strip_prefix("offset-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|&l| l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(in_ns.len());
    let metadata_only = accept.contains("as=PartialObjectMetadataList");
    let items: Vec<Value> = in_ns[start.min(end)..end]
        .iter()
        .map(|i| {
            let mut i = (*i).clone();
            if let Some(m) = i.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind"); // as the API server lists them
                if metadata_only {
                    m.retain(|k, _| k == "metadata");
                }
            }
            i
        })
        .collect();
    let cont = if end < in_ns.len() {
        format!("offset-{end}")
    } else {
        String::new()
    };
    let list_kind = if metadata_only {
        "PartialObjectMetadataList".to_string()
    } else {
        format!("{}List", kind.kind)
    };
    axum::Json(json!({"kind": list_kind, "apiVersion": if metadata_only { "meta.k8s.io/v1".to_string() } else if group.is_empty() { version.to_string() } else { format!("{group}/{version}") },
        "metadata": {"resourceVersion": st.rv.to_string(), "continue": cont}, "items": items}))
    .into_response()
}

/// Lists the objects applied under `/apis/G/V/.../PLURAL`, filtered by a
/// `labelSelector` of `key=value` terms.
fn list_applied(
    st: &State,
    prefix: &str,
    plural: &str,
    query: &HashMap<String, String>,
) -> Response {
    let selector: Vec<(String, String)> = query
        .get("labelSelector")
        .map(|s| {
            s.split(',')
                .filter_map(|t| t.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let items: Vec<Value> = st
        .applied
        .iter()
        .filter(|((coll, _), _)| coll.starts_with(prefix) && coll.ends_with(&format!("/{plural}")))
        .map(|(_, v)| v.clone())
        .filter(|v| {
            selector
                .iter()
                .all(|(k, val)| v["metadata"]["labels"][k] == Value::String(val.clone()))
        })
        .collect();
    axum::Json(json!({"kind": "List", "apiVersion": "v1", "metadata": {}, "items": items}))
        .into_response()
}

fn apply(st: &mut State, path: &str, body: &[u8]) -> Response {
    let Ok(obj) = serde_json::from_slice::<Value>(body) else {
        return status(StatusCode::BAD_REQUEST, "BadRequest", "body is not JSON");
    };
    let (coll, name) = path.rsplit_once('/').unwrap();
    st.applied
        .insert((coll.to_string(), name.to_string()), obj.clone());
    axum::Json(obj).into_response()
}

/// Deletes an applied object or a listed one (whose path is
/// `.../[namespaces/NS/]PLURAL/NAME`), honouring a UID precondition.
fn delete(st: &mut State, path: &str, body: &[u8]) -> Response {
    let ok = || {
        axum::Json(json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}))
            .into_response()
    };
    let (coll, name) = path.rsplit_once('/').unwrap();
    if st
        .applied
        .remove(&(coll.to_string(), name.to_string()))
        .is_some()
    {
        return ok();
    }
    let want_uid = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|o| o["preconditions"]["uid"].as_str().map(str::to_string));
    let segs: Vec<&str> = coll.split('/').collect();
    let plural = *segs.last().unwrap();
    let ns = segs
        .iter()
        .position(|s| *s == "namespaces")
        .map(|i| segs[i + 1]);
    for k in 0..st.kinds.len() {
        if st.kinds[k].plural != plural {
            continue;
        }
        if let Some(at) = find(&st.kinds[k], ns, name) {
            if let Some(uid) = &want_uid {
                if st.kinds[k].items[at]["metadata"]["uid"].as_str() != Some(uid) {
                    return status(StatusCode::CONFLICT, "Conflict", "Precondition failed: UID");
                }
            }
            st.remove_at(k, at);
            return ok();
        }
    }
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{name} not found"),
    )
}

/// Adds an object the fake holds beforehand (an old report, a binding).
pub fn preload(st: &Mutex<State>, collection: &str, obj: Value) {
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    st.lock()
        .unwrap()
        .applied
        .insert((collection.to_string(), name), obj);
}
