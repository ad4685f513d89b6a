//! Test harness: certificates made in the test, a real server on an
//! ephemeral port, a small HTTPS client, AdmissionReview builders.
#![allow(dead_code)]

use palisade_core::{
    Config, Context, Emitter, Operation, PolicySet, Resource, Rule, RuleInfo, Severity,
};
use palisade_webhook::certs::{generate, Generated};
use palisade_webhook::{AppState, PolicyFactory, ServeOptions, Server};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A user-policy-like rule (family `policy`) that reads the operation:
/// denies `kubectl exec` and deleting objects labelled `protected: "true"`.
pub struct OperationPolicy(RuleInfo);

impl Rule for OperationPolicy {
    fn info(&self) -> &RuleInfo {
        &self.0
    }
    fn check(&self, res: &Resource, ctx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(req) = ctx.request else { return };
        let root = palisade_core::FieldPath::root();
        match (req.operation, req.sub_resource.as_deref()) {
            (Operation::Connect, Some("exec")) => {
                out.emit(&root, "exec into pods is not allowed");
            }
            (Operation::Delete, _)
                if res.value.pointer("/metadata/labels/protected") == Some(&json!("true")) =>
            {
                out.emit(
                    &root.key("metadata").key("labels").key("protected"),
                    "object is protected",
                );
            }
            _ => {}
        }
    }
}

/// How many [`SlowRule`]s the test factory adds.
pub const SLOW_RULES: usize = 10;

/// Calls of the slow rules, by object name.
pub static SLOW_CALLS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Calls of the slow rules on the object named `name` so far.
pub fn slow_calls(name: &str) -> usize {
    SLOW_CALLS
        .lock()
        .unwrap()
        .iter()
        .filter(|n| *n == name)
        .count()
}

/// A rule that sleeps `test.palisade.io/sleep-ms` milliseconds on objects
/// carrying that annotation (a policy as slow as the webhook allows), and
/// records the call.
pub struct SlowRule(RuleInfo);

impl Rule for SlowRule {
    fn info(&self) -> &RuleInfo {
        &self.0
    }
    fn check(&self, res: &Resource, _ctx: &Context<'_>, _out: &mut Emitter<'_>) {
        let Some(ms) = res
            .annotation("test.palisade.io/sleep-ms")
            .and_then(|v| v.parse::<u64>().ok())
        else {
            return;
        };
        SLOW_CALLS.lock().unwrap().push(res.id.name.clone());
        std::thread::sleep(Duration::from_millis(ms));
    }
}

fn slow_rules() -> Vec<Arc<dyn Rule>> {
    (0..SLOW_RULES)
        .map(|i| {
            Arc::new(SlowRule(RuleInfo {
                id: format!("test-slow-{i}"),
                severity: Severity::Info,
                family: "test".into(),
                title: "test".into(),
                description: "test".into(),
                remediation: "none".into(),
            })) as Arc<dyn Rule>
        })
        .collect()
}

/// The policy factory of the binary: the default profile with the
/// providers, plus [`OperationPolicy`] and the [`SlowRule`]s.
pub fn factory() -> PolicyFactory {
    Arc::new(|c: &Config| {
        let rules = palisade_rules::profile("default", &Default::default())?;
        let known: Vec<String> = palisade_rules::catalog()
            .iter()
            .map(|r| r.info().id.clone())
            .collect();
        let op: Arc<dyn Rule> = Arc::new(OperationPolicy(RuleInfo {
            id: "test-operation-policy".into(),
            severity: Severity::High,
            family: "policy".into(),
            title: "test".into(),
            description: "test".into(),
            remediation: "none".into(),
        }));
        let mut b = PolicySet::builder(c.clone())
            .rules(rules)
            .rule(op)
            .rules(slow_rules())
            .known_ids(known);
        for p in palisade_rules::registry::providers_for(c)? {
            b = b.provider(p);
        }
        Ok(b.build()?)
    })
}

/// Writes a fresh CA + serving certificate for localhost into `dir`.
pub fn write_certs(dir: &Path, prefix: &str) -> Generated {
    let g = generate(
        "palisade-test",
        &["localhost".into(), "127.0.0.1".into()],
        2,
    )
    .unwrap();
    std::fs::write(dir.join(format!("{prefix}tls.crt")), &g.cert).unwrap();
    std::fs::write(dir.join(format!("{prefix}tls.key")), &g.key).unwrap();
    g
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub health: Option<SocketAddr>,
    pub dir: tempfile::TempDir,
    pub ca: Vec<String>,
    pub state: Arc<AppState>,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub done: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub fn client(&self) -> Client {
        Client::new(self.addr, &self.ca)
    }
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.done).await;
    }
}

/// Starts a server with `config` (YAML, or none) and `tweak`ed options.
pub async fn start(config: Option<&str>, tweak: impl FnOnce(&mut ServeOptions)) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let g = write_certs(dir.path(), "");
    let mut opts = ServeOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.path().join("tls.crt"),
        dir.path().join("tls.key"),
    );
    if let Some(c) = config {
        let p = dir.path().join("palisade.yaml");
        std::fs::write(&p, c).unwrap();
        opts.config = Some(p);
    }
    opts.reload_interval = Duration::from_millis(50);
    opts.header_timeout = Duration::from_millis(500);
    tweak(&mut opts);
    let server = Server::bind(opts, factory()).await.unwrap();
    let addr = server.local_addr().unwrap();
    let health = server.health_addr();
    let state = server.state();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let done = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Running {
        addr,
        health,
        dir,
        ca: vec![g.ca_cert],
        state,
        stop: Some(tx),
        done,
    }
}

/// An HTTPS client trusting some CAs.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub config: Arc<rustls::ClientConfig>,
}

/// A response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// `response` of the AdmissionReview.
    pub fn response(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.text());
        self.json()["response"].clone()
    }
}

pub fn pem_certs(pem: &str) -> Vec<CertificateDer<'static>> {
    rustls_pemfile::certs(&mut pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap()
}

impl Client {
    pub fn new(addr: SocketAddr, cas: &[String]) -> Client {
        Client::with_identity(addr, cas, None)
    }

    pub fn with_identity(addr: SocketAddr, cas: &[String], ident: Option<(&str, &str)>) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        for ca in cas {
            for c in pem_certs(ca) {
                roots.add(c).unwrap();
            }
        }
        let b = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
        let config = match ident {
            None => b.with_no_client_auth(),
            Some((cert, key)) => {
                let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key.as_bytes())
                    .unwrap()
                    .unwrap();
                b.with_client_auth_cert(pem_certs(cert), key).unwrap()
            }
        };
        Client {
            addr,
            config: Arc::new(config),
        }
    }

    pub async fn connect(
        &self,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect(self.addr).await?;
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
    }

    /// Sends one request on a new connection (`Connection: close`).
    pub async fn request(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<Reply> {
        let mut s = self.connect().await?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await?;
        // The server may answer (413) and close before the body is sent.
        let sent = s.write_all(body).await.and(s.flush().await);
        let mut raw = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut raw)).await;
        match parse_reply(&raw) {
            Err(e) => Err(sent.err().unwrap_or(e)),
            ok => ok,
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path, &serde_json::to_vec(body).unwrap())
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, b"").await.unwrap()
    }
}

pub fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    Ok(Reply {
        status,
        body: raw[end + 4..].to_vec(),
    })
}

/// An AdmissionReview of `object` (`oldObject` for DELETE).
pub fn review(uid: &str, op: &str, object: Value) -> Value {
    let kind = object["kind"].as_str().unwrap_or("").to_string();
    let api = object["apiVersion"].as_str().unwrap_or("v1").to_string();
    let (group, version) = api
        .rsplit_once('/')
        .map(|(g, v)| (g.to_string(), v.to_string()))
        .unwrap_or((String::new(), api.clone()));
    let ns = object
        .pointer("/metadata/namespace")
        .cloned()
        .unwrap_or(json!(""));
    let name = object
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(json!(""));
    let (obj, old) = if op == "DELETE" {
        (Value::Null, object)
    } else {
        (object, Value::Null)
    };
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid, "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
        "namespace": ns, "name": name, "operation": op,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": obj, "oldObject": old, "dryRun": false}})
}

pub const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A pod that passes every rule of the default profile.
pub fn good_pod(ns: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": ns},
        "spec": {"serviceAccountName": "web", "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "image": format!("registry.example/web:1.2@{DIGEST}"),
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                    "capabilities": {"drop": ["ALL"]}}}]}})
}

pub fn decode_patch(b64: &str) -> json_patch::Patch {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Waits until `f` holds (polling), panicking after 10 s.
pub async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}
