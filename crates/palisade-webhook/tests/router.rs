//! The Router without a socket (tower oneshot).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{factory, good_pod, review};
use http_body_util::BodyExt;
use palisade_core::Config;
use palisade_webhook::{router, AppState, Engine};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

fn app(config: &str) -> axum::Router {
    let cfg = Config::parse(config, "palisade.yaml").unwrap();
    let engine = Engine::new(cfg, &factory()).unwrap();
    router(Arc::new(AppState::new(engine)), true)
}

async fn call(app: axum::Router, method: &str, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::from(body))
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

#[tokio::test]
async fn validate_without_a_socket() {
    let mut pod = good_pod("a");
    pod["spec"]["hostPID"] = json!(true);
    let (status, body) = call(
        app(""),
        "POST",
        "/validate",
        serde_json::to_vec(&review("r1", "CREATE", pod)).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(v["response"]["uid"], "r1");
    assert_eq!(v["response"]["allowed"], false);
    assert!(v["response"]["status"]["message"]
        .as_str()
        .unwrap()
        .contains("host-pid"));
}

#[tokio::test]
async fn enforce_at_and_actions_come_from_the_config() {
    let mut pod = good_pod("a");
    pod["spec"]["hostPID"] = json!(true);
    let body = serde_json::to_vec(&review("r2", "CREATE", pod)).unwrap();
    let (_, out) = call(
        app("enforceAt: critical\nrules:\n  pss-host-namespaces: {action: warn}\n"),
        "POST",
        "/validate",
        body,
    )
    .await;
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["response"]["allowed"], true, "{v}");
    assert!(v["response"]["warnings"].to_string().contains("host-pid"));
}

/// The message is worded for admission: the request carries the pod, not
/// its ServiceAccount, and there is no scan to speak of (the scan's wording
/// is checked by the case file workload/service-account/automount-positive).
#[tokio::test]
async fn service_account_warning_is_worded_for_admission() {
    let mut pod = good_pod("a");
    pod["spec"]
        .as_object_mut()
        .unwrap()
        .remove("automountServiceAccountToken");
    let body = serde_json::to_vec(&review("r3", "CREATE", pod)).unwrap();
    let (_, out) = call(app(""), "POST", "/validate", body).await;
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["response"]["allowed"], true, "{v}");
    let warnings = v["response"]["warnings"].to_string();
    assert!(
        warnings.contains(
            "the token of service account `web` is mounted unless that ServiceAccount disables \
             automountServiceAccountToken (admission sees the pod, not its ServiceAccount)"
        ),
        "{warnings}"
    );
    assert!(!warnings.contains("scanned"), "{warnings}");
}

#[tokio::test]
async fn limits_health_and_noop() {
    let (status, _) = call(
        app("webhook:\n  maxBodyBytes: 10\n"),
        "POST",
        "/validate",
        vec![b'x'; 11],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = call(app(""), "GET", "/healthz", Vec::new()).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, b"ok".as_slice())
    );
    // The bare route reads the body only; the no-op admission handler
    // decodes the review (400 on what is not one) and echoes its uid.
    let (status, _) = call(app(""), "POST", "/noop-bare", b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(app(""), "POST", "/noop", b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut pod = good_pod("a");
    pod["spec"]["hostPID"] = json!(true);
    let body = serde_json::to_vec(&review("noop-uid-1", "CREATE", pod)).unwrap();
    let (status, out) = call(app(""), "POST", "/noop", body).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["response"]["uid"], "noop-uid-1", "{v}");
    assert_eq!(v["response"]["allowed"], true, "no policy evaluation: {v}");
    let (status, body) = call(app(""), "POST", "/mutate", b"[]".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("not an admission.k8s.io/v1 AdmissionReview"));
}

#[test]
fn invalid_config_is_refused_with_its_place() {
    let cfg = Config::parse("webhook:\n  mutate: yes-please\n", "p.yaml").unwrap();
    let err = Engine::new(cfg, &factory()).err().unwrap().to_string();
    assert!(
        err.starts_with("p.yaml:2:") && err.contains("webhook.mutate"),
        "{err}"
    );
}
