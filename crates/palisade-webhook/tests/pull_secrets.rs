//! The pods' `imagePullSecrets` at admission, through the [`PullSecrets`]
//! seam the cluster reader plugs into: a TLS registry with basic auth
//! (Debian's docker-registry on 127.0.0.1), an image signed there, and the
//! webhook's router deciding pods that name a pull secret or none.

mod common;
#[path = "../../palisade-images/tests/it/registry_server.rs"]
mod registry_server;

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use common::factory;
use futures_util::future::BoxFuture;
use http_body_util::BodyExt;
use palisade_core::Config;
use palisade_images::sign::sign_legacy;
use palisade_images::{ImageRef, Registry, RegistryOptions, SigningKey};
use palisade_webhook::images::{PullSecrets, RegistryExtras};
use palisade_webhook::{router, AppState, Engine};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// Secrets and service accounts of one namespace, recording what was asked.
struct FakeCluster {
    namespace: String,
    secrets: Vec<(String, String)>,
    /// (service account, its imagePullSecrets)
    accounts: Vec<(String, Vec<String>)>,
    asked: Mutex<Vec<String>>,
}

impl PullSecrets for FakeCluster {
    fn docker_config<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        self.asked
            .lock()
            .unwrap()
            .push(format!("{namespace}/{name}"));
        let found = self
            .secrets
            .iter()
            .find(|(n, _)| n == name && namespace == self.namespace)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| "Secret not found".to_string());
        Box::pin(async move { found })
    }

    fn service_account_secrets<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, String>> {
        self.asked
            .lock()
            .unwrap()
            .push(format!("sa {namespace}/{name}"));
        let found = self
            .accounts
            .iter()
            .find(|(n, _)| n == name && namespace == self.namespace)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Box::pin(async move { Ok(found) })
    }
}

fn pod(image: &str, secrets: &[&str], account: &str) -> Value {
    let pull: Vec<Value> = secrets.iter().map(|s| json!({"name": s})).collect();
    let object = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "elsewhere"},
        "spec": {"imagePullSecrets": pull, "serviceAccountName": account,
            "containers": [{"name": "app", "image": image}]}});
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE",
        "namespace": "shop", "userInfo": {"username": "alice"}, "object": object}})
}

async fn validate(app: &axum::Router, body: &Value) -> Value {
    let req = Request::builder()
        .method("POST")
        .uri("/validate")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice::<Value>(&bytes).unwrap()["response"].clone()
}

#[test]
fn the_pods_pull_secrets_authenticate_its_verification() {
    let reg = registry_server::TestRegistry::tls_with_auth("puller", "pw-123");
    let layout = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/supply/synth-two-attestors/image-oci-layout");
    reg.push_layout(&layout, "v1", "demo/app:v1", Some("puller:pw-123"));
    let ca = reg.ca_pem.clone().unwrap();
    let image = format!("{}/demo/app:v1", reg.host);
    let key = SigningKey::generate();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let signer = Registry::new(RegistryOptions {
        ca_pems: vec![ca.clone()],
        credentials: [(reg.host.clone(), ("puller".into(), "pw-123".into()))].into(),
        ..Default::default()
    });
    rt.block_on(sign_legacy(
        &signer,
        &ImageRef::parse(&image).unwrap(),
        &key,
    ))
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca).unwrap();
    std::fs::write(dir.path().join("build.pub"), key.public_key_pem().unwrap()).unwrap();
    let yaml = format!(
        "profiles:\n- {{name: default, action: audit}}\nrules:\n  image-signature-missing: {{action: enforce}}\n  image-verification-failed: {{action: enforce}}\nimages:\n- name: app\n  match: [\"127.0.0.1:*/demo/*\"]\n  attestors:\n  - {{name: build, key: build.pub}}\nregistries:\n  \"{}\": {{ca: ca.pem}}\n",
        reg.host
    );
    let file = dir.path().join("palisade.yaml");
    let config = Config::parse(&yaml, &file.to_string_lossy()).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("puller:pw-123");
    let cluster = Arc::new(FakeCluster {
        namespace: "shop".into(),
        secrets: vec![
            ("broken".into(), "{not json".into()),
            (
                "regcred".into(),
                format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, reg.host),
            ),
        ],
        accounts: vec![("builder".into(), vec!["regcred".into()])],
        asked: Mutex::new(Vec::new()),
    });
    let extras = RegistryExtras {
        pull_secrets: Some(cluster.clone()),
        ..Default::default()
    };
    let engine = Engine::new_with(config, &factory(), &extras).unwrap();
    let app = router(Arc::new(AppState::new(engine)), false);

    rt.block_on(async {
        // (the test factory's default profile also enforces Pod Security:
        // only the image rules are looked at)
        let r = validate(&app, &pod(&image, &[], "default")).await;
        let m = r["status"]["message"].as_str().unwrap_or("").to_string();
        assert!(
            m.contains("[image-verification-failed]") && m.contains("authentication"),
            "no pull secret: {r}"
        );
        let r = validate(&app, &pod(&image, &["broken", "missing"], "default")).await;
        let m = r["status"]["message"].as_str().unwrap_or("").to_string();
        assert!(
            m.contains("pull secret shop/missing: Secret not found")
                && m.contains("pull secret shop/broken: not JSON"),
            "the unusable secrets are the reason: {r}"
        );
        let r = validate(&app, &pod(&image, &["broken", "regcred"], "default")).await;
        let m = r["status"]["message"].as_str().unwrap_or("").to_string();
        assert!(m.contains("[pss-"), "still decided: {r}");
        assert!(!m.contains("[image-"), "the pod's pull secret: {r}");
        assert!(!r.to_string().contains("pw-123"));
    });
    // Secrets are read in the namespace the API server names, not the
    // one the object claims.
    let asked = cluster.asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        [
            "sa shop/default",
            "sa shop/default",
            "shop/broken",
            "shop/missing",
            "sa shop/default",
            "shop/broken",
            "shop/regcred"
        ]
    );
    // The service account's pull secrets are used too.
    let engine = Engine::new_with(
        Config::parse(&yaml, &file.to_string_lossy()).unwrap(),
        &factory(),
        &RegistryExtras {
            pull_secrets: Some(cluster.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let app = router(Arc::new(AppState::new(engine)), false);
    rt.block_on(async {
        let r = validate(&app, &pod(&image, &[], "builder")).await;
        let m = r["status"]["message"].as_str().unwrap_or("").to_string();
        assert!(!m.contains("[image-"), "the account's pull secret: {r}");
    });
}
