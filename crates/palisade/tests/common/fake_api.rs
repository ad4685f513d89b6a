//! A Kubernetes API server faked at the HTTP layer, as kube-rs tests its
//! client: a real axum server on 127.0.0.1:0 serving discovery, paginated
//! lists (`limit`/`continue`, metadata-only on request) of objects read
//! from snapshot files, `/version`, server-side apply and deletes of
//! reports, with faults on chosen resources: 403, one 429 with
//! `Retry-After`, one 410 Gone on a continue token. Every request is
//! recorded. Used by tests/live.rs and the `fake_apiserver` example (the
//! benchmark).
#![allow(dead_code)]

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
}

/// A running fake API server.
pub struct FakeApi {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
}

impl FakeApi {
    /// Serves `kinds` on 127.0.0.1 (an ephemeral port) from a background thread.
    pub fn start(kinds: Vec<Kind>, version: Option<Value>, faults: Faults) -> FakeApi {
        let state = Arc::new(Mutex::new(State {
            kinds,
            version,
            faults,
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
    state: &Mutex<State>,
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
    match (method.clone(), segs.as_slice()) {
        (Method::GET, ["version"]) => match &st.version {
            Some(v) => axum::Json(v.clone()).into_response(),
            None => status(StatusCode::NOT_FOUND, "NotFound", "no version"),
        },
        (Method::GET, ["api"]) => {
            axum::Json(json!({"kind": "APIVersions", "versions": ["v1"]})).into_response()
        }
        (Method::GET, ["apis"]) => axum::Json(group_list(&st.kinds)).into_response(),
        (Method::GET, ["api", v]) => axum::Json(resource_list(&st.kinds, "", v)).into_response(),
        (Method::GET, ["apis", g, _]) if st.faults.broken_groups.contains(*g) => status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        (Method::GET, ["apis", g, v]) => axum::Json(resource_list(&st.kinds, g, v)).into_response(),
        (Method::GET, ["api", v, plural]) => {
            list(&mut st, "", v, plural, &query, &header("accept"))
        }
        (Method::GET, ["apis", g, v, plural]) => {
            list(&mut st, g, v, plural, &query, &header("accept"))
        }
        (Method::GET, ["apis", g, v, "namespaces", _ns, plural]) => {
            list_applied(&st, &format!("/apis/{g}/{v}"), plural, &query)
        }
        (Method::PATCH, [.., "namespaces", _, _, _]) | (Method::PATCH, ["apis", _, _, _, _]) => {
            apply(&mut st, &path, &body)
        }
        (Method::DELETE, _) => delete(&mut st, &path, &body),
        _ => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("no route {path}"),
        ),
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
    plural: &str,
    query: &HashMap<String, String>,
    accept: &str,
) -> Response {
    let Some(at) = st
        .kinds
        .iter()
        .position(|k| k.group == group && k.version == version && k.plural == plural)
    else {
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
    let start: usize = token
        .strip_prefix("offset-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|&l| l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(kind.items.len());
    let metadata_only = accept.contains("as=PartialObjectMetadataList");
    let items: Vec<Value> = kind.items[start.min(end)..end]
        .iter()
        .map(|i| {
            let mut i = i.clone();
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
    let cont = if end < kind.items.len() {
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
        "metadata": {"resourceVersion": "1000", "continue": cont}, "items": items}))
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
    for kind in st.kinds.iter_mut().filter(|k| k.plural == plural) {
        let at = kind.items.iter().position(|i| {
            i["metadata"]["name"] == name && i["metadata"]["namespace"].as_str() == ns
        });
        if let Some(at) = at {
            if let Some(uid) = &want_uid {
                if kind.items[at]["metadata"]["uid"].as_str() != Some(uid) {
                    return status(StatusCode::CONFLICT, "Conflict", "Precondition failed: UID");
                }
            }
            kind.items.remove(at);
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
