//! The attacks of the webhook security review, replayed against a real
//! server: self-granted exemptions, poisoned namespace state, faked review
//! kinds, overload, abandoned requests, hostile connections.

mod common;

use common::*;
use palisade_webhook::Engine;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The pod of the review: host network, PID, a privileged container and
/// `/` mounted from the host.
fn owning_pod(ns: &str, annotations: Value) -> Value {
    let mut p = good_pod(ns);
    p["metadata"]["annotations"] = annotations;
    p["spec"]["hostNetwork"] = json!(true);
    p["spec"]["hostPID"] = json!(true);
    p["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    p["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "root", "mountPath": "/host"}]);
    p["spec"]["volumes"] = json!([{"name": "root", "hostPath": {"path": "/"}}]);
    p
}

fn config_error(cfg: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("palisade.yaml");
    std::fs::write(&p, cfg).unwrap();
    match Engine::load(Some(&p), &factory()) {
        Ok(_) => panic!("config accepted:\n{cfg}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ignore_annotation_never_exempts_at_admission() {
    let srv = start(None, |_| {}).await;
    let c = srv.client();
    let pod = owning_pod(
        "team-a",
        json!({"palisade.io/ignore": "*", "palisade.io/ignore-reason": "trust me"}),
    );
    let r = c
        .post("/validate", &review("a1", "CREATE", pod))
        .await
        .response();
    assert_eq!(r["allowed"], false, "{r}");
    let msg = r["status"]["message"].as_str().unwrap();
    for rule in [
        "host-network",
        "host-pid",
        "privileged-container",
        "host-path-volume",
    ] {
        assert!(msg.contains(rule), "{rule} not in {msg}");
    }
    assert!(
        r["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("palisade.io/ignore is honoured at admission for no rule")),
        "{r}"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_grantable_exemption_is_refused_at_load() {
    let by_label = "exemptions:\n- rules: ['*']\n  reason: platform pods\n  selector:\n    matchLabels: {exempt: \"yes\"}\n";
    let e = config_error(by_label);
    assert!(
        e.contains("palisade.yaml:4:") && e.contains("exemptions[0].selector"),
        "{e}"
    );
    assert!(
        e.contains("refused at admission") && e.contains("label selector"),
        "{e}"
    );
    let by_name = "exemptions:\n- rules: [host-network]\n  kinds: [Pod]\n  names: ['calico-*']\n  reason: CNI\n";
    let e = config_error(by_name);
    assert!(
        e.contains("palisade.yaml:4:") && e.contains("exemptions[0].names"),
        "{e}"
    );
    // scan builds the same configuration without complaint.
    let cfg = palisade_core::Config::parse(by_label, "palisade.yaml").unwrap();
    assert!(factory()(&cfg).is_ok());
    // Anchored to a namespace or a requester, both are accepted.
    let anchored = "exemptions:\n- rules: ['*']\n  namespaces: [infra]\n  names: ['calico-*']\n  reason: CNI\n- rules: ['*']\n  users: [alice]\n  selector: {matchLabels: {exempt: \"yes\"}}\n  reason: break-glass\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.yaml"), anchored).unwrap();
    assert!(Engine::load(Some(&dir.path().join("ok.yaml")), &factory()).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exemptions_from_the_config_apply_with_their_reason_audited() {
    let cfg = "exemptions:\n- rules: ['*']\n  namespaces: [infra]\n  reason: node agents need the host\n- rules: ['*']\n  serviceAccounts: [ci/deployer]\n  selector: {matchLabels: {exempt: \"yes\"}}\n  reason: deployer break-glass\n";
    let srv = start(Some(cfg), |_| {}).await;
    let c = srv.client();
    let r = c
        .post(
            "/validate",
            &review("e1", "CREATE", owning_pod("infra", json!({}))),
        )
        .await
        .response();
    assert_eq!(r["allowed"], true, "{r}");
    let audit = r["auditAnnotations"]["exempted"].as_str().unwrap_or("");
    assert!(
        audit.contains("host-network by exemptions[0]: node agents need the host"),
        "{r}"
    );
    // The same pod elsewhere is denied.
    let r = c
        .post(
            "/validate",
            &review("e2", "CREATE", owning_pod("team-a", json!({}))),
        )
        .await
        .response();
    assert_eq!(r["allowed"], false, "{r}");
    // A label exemption applies to its service account only.
    let mut pod = owning_pod("team-a", json!({}));
    pod["metadata"]["labels"] = json!({"exempt": "yes"});
    let mut rv = review("e3", "CREATE", pod);
    let r = c.post("/validate", &rv).await.response();
    assert_eq!(r["allowed"], false, "alice labelled her own pod: {r}");
    rv["request"]["userInfo"] = json!({"username": "system:serviceaccount:ci:deployer", "groups": ["system:serviceaccounts"]});
    let r = c.post("/validate", &rv).await.response();
    assert_eq!(r["allowed"], true, "{r}");
    assert!(
        r["auditAnnotations"]["exempted"]
            .as_str()
            .unwrap()
            .contains("deployer break-glass"),
        "{r}"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_annotation_hides_only_opted_in_rules_of_medium_or_lower() {
    let e = config_error(
        "webhook:\n  ignoreAnnotationRules: [default-service-account, host-network]\n",
    );
    assert!(
        e.contains("palisade.yaml:2:")
            && e.contains("webhook.ignoreAnnotationRules[1]")
            && e.contains("`host-network` is high"),
        "{e}"
    );
    let e = config_error("webhook:\n  ignoreAnnotationRules: ['*']\n");
    assert!(e.contains("`*` is not allowed"), "{e}");
    let srv = start(
        Some("webhook:\n  ignoreAnnotationRules: [default-service-account]\n"),
        |_| {},
    )
    .await;
    let c = srv.client();
    let mut pod = good_pod("team-a");
    pod["spec"]["serviceAccountName"] = json!("default");
    pod["spec"]["hostNetwork"] = json!(true);
    let warned = |r: &Value, rule: &str| {
        r["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w.as_str().unwrap().contains(rule)))
    };
    let r = c
        .post("/validate", &review("o1", "CREATE", pod.clone()))
        .await
        .response();
    assert!(warned(&r, "[default-service-account]"), "{r}");
    pod["metadata"]["annotations"] =
        json!({"palisade.io/ignore": "default-service-account,host-network"});
    let r = c
        .post("/validate", &review("o2", "CREATE", pod))
        .await
        .response();
    assert!(!warned(&r, "[default-service-account]"), "{r}");
    assert_eq!(r["allowed"], false, "host-network is not hidden: {r}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_review_never_changes_later_decisions() {
    let srv = start(None, |_| {}).await;
    let c = srv.client();
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "owned",
        "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}});
    let r = c
        .post("/validate", &review("n1", "CREATE", ns))
        .await
        .response();
    assert_eq!(r["allowed"], true, "{r}");
    let r = c
        .post(
            "/validate",
            &review("n2", "CREATE", owning_pod("owned", json!({}))),
        )
        .await
        .response();
    assert_eq!(r["allowed"], false, "{r}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_unlike_request_kind_is_denied() {
    let srv = start(None, |_| {}).await;
    let c = srv.client();
    let mut rv = review("k1", "CREATE", owning_pod("a", json!({})));
    rv["request"]["kind"] = json!({"group": "", "version": "v1", "kind": "ConfigMap"});
    let r = c.post("/validate", &rv).await.response();
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["status"]["code"], 400);
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("the object is v1 Pod but request.kind is v1 ConfigMap"),
        "{msg}"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_list_a_bounded_number_of_findings_with_the_exact_count() {
    let srv = start(Some("webhook:\n  maxFindingsListed: 3\n"), |_| {}).await;
    let mut pod = good_pod("a");
    let c0 = pod["spec"]["containers"][0].clone();
    let containers: Vec<Value> = (0..50)
        .map(|i| {
            let mut c = c0.clone();
            c["name"] = json!(format!("c{i}"));
            c["securityContext"]["privileged"] = json!(true);
            c
        })
        .collect();
    pod["spec"]["containers"] = json!(containers);
    let r = srv
        .client()
        .post("/validate", &review("m1", "CREATE", pod))
        .await
        .response();
    let msg = r["status"]["message"].as_str().unwrap();
    let n: usize = msg
        .strip_prefix("denied by palisade: ")
        .and_then(|m| m.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{msg}"));
    assert!(n >= 50, "{msg}");
    assert_eq!(msg.matches("\n- [").count(), 3, "{msg}");
    assert!(
        msg.ends_with(&format!("\n- ... and {} more", n - 3)),
        "{msg}"
    );
    srv.shutdown().await;
}

fn slow_pod(name: &str, ms: u64) -> Value {
    let mut p = good_pod("a");
    p["metadata"]["name"] = json!(name);
    p["metadata"]["annotations"] = json!({"test.palisade.io/sleep-ms": ms.to_string()});
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_answers_at_once_by_the_overload_policy() {
    for (policy, allowed) in [("Fail", false), ("Ignore", true)] {
        let cfg = format!("webhook:\n  maxConcurrentEvaluations: 1\n  maxQueuedEvaluations: 0\n  overloadPolicy: {policy}\n");
        let srv = start(Some(&cfg), |_| {}).await;
        let c = srv.client();
        let slow = c.clone();
        let name = format!("hog-{policy}");
        let busy = tokio::spawn(async move {
            slow.post("/validate", &review("s1", "CREATE", slow_pod(&name, 100)))
                .await
        });
        let hog = format!("hog-{policy}");
        eventually("the slow evaluation to start", || {
            let hog = hog.clone();
            async move { slow_calls(&hog) > 0 }
        })
        .await;
        let t = std::time::Instant::now();
        let r = c
            .post("/validate", &review("s2", "CREATE", good_pod("a")))
            .await
            .response();
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(r["allowed"], allowed, "{policy}: {r}");
        let text = r.to_string();
        assert!(text.contains("the webhook is overloaded"), "{text}");
        // Health and metrics are served meanwhile (not on the pool).
        assert_eq!(c.get("/healthz").await.status, 200);
        let done = busy.await.unwrap().response();
        assert_eq!(done["allowed"], true, "{done}");
        let m = c.get("/metrics").await.text();
        assert!(m.contains("decision=\"overloaded\""), "{m}");
        srv.shutdown().await;
    }
}

/// The byte budget bounds what waits decoded: past it a review is answered
/// at once, by its uid, without decoding the object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_byte_budget_reviews_are_answered_undecoded() {
    let cfg = "webhook:\n  maxQueuedBytes: 2048\n  overloadPolicy: Fail\n";
    let srv = start(Some(cfg), |_| {}).await;
    let c = srv.client();
    let slow = c.clone();
    let mut hog = slow_pod("hog-bytes", 300);
    hog["metadata"]["annotations"]["pad"] = json!("x".repeat(3000));
    let busy =
        tokio::spawn(async move { slow.post("/validate", &review("b1", "CREATE", hog)).await });
    eventually("the large slow evaluation to start", || async {
        slow_calls("hog-bytes") > 0
    })
    .await;
    let r = c
        .post("/validate", &review("b2", "CREATE", good_pod("a")))
        .await
        .response();
    assert_eq!(r["uid"], "b2", "{r}");
    assert_eq!(r["allowed"], false, "{r}");
    assert!(r.to_string().contains("request byte budget spent"), "{r}");
    let done = busy.await.unwrap().response();
    assert_eq!(done["allowed"], true, "{done}");
    // the budget is back once the large review is decided
    let r = c
        .post("/validate", &review("b3", "CREATE", good_pod("a")))
        .await
        .response();
    assert_eq!(r["allowed"], true, "{r}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluation_stops_when_the_client_goes_away() {
    let srv = start(None, |_| {}).await;
    let c = srv.client();
    let body = serde_json::to_vec(&review("c1", "CREATE", slow_pod("gone", 150))).unwrap();
    let mut s = c.connect().await.unwrap();
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body).await.unwrap();
    s.flush().await.unwrap();
    eventually("the slow evaluation to start", || async {
        slow_calls("gone") > 0
    })
    .await;
    s.shutdown().await.unwrap();
    drop(s);
    // Ten slow rules of 150 ms: 1.5 s uncancelled.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let calls = slow_calls("gone");
    assert!(calls < SLOW_RULES, "{calls} of {SLOW_RULES} slow rules ran");
    let m = c.get("/metrics").await.text();
    assert!(m.contains("decision=\"cancelled\""), "{m}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_probes_on_a_plain_port_with_client_certificates_required() {
    let dir = tempfile::tempdir().unwrap();
    let other = palisade_webhook::certs::generate("someone", &["x".into()], 2).unwrap();
    std::fs::write(dir.path().join("client-ca.crt"), &other.ca_cert).unwrap();
    let ca = dir.path().join("client-ca.crt");
    let ca2 = ca.clone();
    let srv = start(None, move |o| {
        o.client_ca = Some(ca);
        o.client_cn = vec!["kube-apiserver".into()];
        o.health_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let health = srv.health.expect("health port");
    for (path, status) in [("/healthz", 200), ("/readyz", 200), ("/validate", 404)] {
        let mut s = tokio::net::TcpStream::connect(health).await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.unwrap();
        assert_eq!(parse_reply(&raw).unwrap().status, status, "{path}");
    }
    // A certificate of the CA with another subject is refused.
    let someone = Client::with_identity(srv.addr, &srv.ca, Some((&other.cert, &other.key)));
    assert!(someone.request("GET", "/healthz", b"").await.is_err());
    srv.shutdown().await;
    let srv = start(None, move |o| {
        o.client_ca = Some(ca2);
        o.client_cn = vec!["someone".into()];
    })
    .await;
    let someone = Client::with_identity(srv.addr, &srv.ca, Some((&other.cert, &other.key)));
    assert_eq!(someone.get("/healthz").await.status, 200);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_capped() {
    let srv = start(None, |o| {
        o.idle_timeout = Duration::from_millis(300);
        o.header_timeout = Duration::from_secs(30);
        o.max_connections = 2;
    })
    .await;
    let c = srv.client();
    // Keep-alive connection, one request, then idle: closed by the server.
    let mut s = c.connect().await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let t = std::time::Instant::now();
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("closed within 5 s")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    // Two connections held open (requests in flight): a third waits.
    let slow = |name: &'static str| {
        let c = c.clone();
        tokio::spawn(async move {
            c.post("/validate", &review(name, "CREATE", slow_pod(name, 60)))
                .await
        })
    };
    let (a, b) = (slow("cap-a"), slow("cap-b"));
    eventually("both slow requests to run", || async {
        slow_calls("cap-a") > 0 && slow_calls("cap-b") > 0
    })
    .await;
    let third = tokio::time::timeout(Duration::from_millis(200), c.connect()).await;
    assert!(third.is_err(), "a third connection was served");
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(c.get("/healthz").await.status, 200);
    srv.shutdown().await;
}
