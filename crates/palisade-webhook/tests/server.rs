//! The real server on an ephemeral port, with certificates made here and
//! AdmissionReviews sent over TLS.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn bad_pod(ns: &str) -> Value {
    let mut p = good_pod(ns);
    p["spec"]["hostNetwork"] = json!(true);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_denied_warned_with_uid_echoed() {
    let srv = start(None, |_| {}).await;
    let c = srv.client();
    let r = c
        .post("/validate", &review("u-good", "CREATE", good_pod("team-a")))
        .await;
    let resp = r.response();
    assert_eq!(resp["uid"], "u-good");
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(
        resp.get("warnings").is_none(),
        "a compliant pod gets no warnings: {resp}"
    );

    let r = c
        .post("/validate", &review("u-bad", "CREATE", bad_pod("team-a")))
        .await
        .response();
    assert_eq!(r["uid"], "u-bad");
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 403);
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("[host-network]") && msg.contains("spec.hostNetwork"),
        "{msg}"
    );
    for line in msg.lines().skip(1) {
        assert!(line.contains("spec."), "every line names its field: {msg}");
    }
    assert!(
        !msg.contains("(at spec.hostNetwork)"),
        "a message that names its field is not followed by `(at FIELD)`: {msg}"
    );

    // Medium and low findings warn (enforceAt defaults to high).
    let mut latest = good_pod("team-a");
    latest["spec"]["containers"][0]["image"] = json!("nginx:latest");
    let r = c
        .post("/validate", &review("u-warn", "CREATE", latest))
        .await
        .response();
    assert_eq!(r["allowed"], true);
    let w = r["warnings"].to_string();
    assert!(
        w.contains("image-latest-tag") && w.contains("container `app`"),
        "{w}"
    );

    // dryRun decides the same.
    let mut dry = review("u-dry", "CREATE", bad_pod("team-a"));
    dry["request"]["dryRun"] = json!(true);
    assert_eq!(c.post("/validate", &dry).await.response()["allowed"], false);

    // UPDATE is checked against the new object.
    let mut upd = review("u-upd", "UPDATE", bad_pod("team-a"));
    upd["request"]["oldObject"] = good_pod("team-a");
    assert_eq!(c.post("/validate", &upd).await.response()["allowed"], false);
    // ...except a pod update that leaves the spec alone (a controller
    // adding a label to a pod admitted before the policy), as the built-in
    // Pod Security controller.
    let mut relabelled = bad_pod("team-a");
    relabelled["metadata"]["labels"] = json!({"adopted": "yes"});
    let mut upd = review("u-meta", "UPDATE", relabelled);
    upd["request"]["oldObject"] = bad_pod("team-a");
    assert_eq!(c.post("/validate", &upd).await.response()["allowed"], true);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workloads_and_rbac_are_checked() {
    let srv = start(None, |_| {}).await;
    let c = srv.client();
    let pod = bad_pod("team-a");
    let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "team-a"},
        "spec": {"template": {"metadata": {}, "spec": pod["spec"].clone()}}});
    let r = c
        .post("/validate", &review("d1", "CREATE", dep))
        .await
        .response();
    assert_eq!(r["allowed"], false);
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("spec.template.spec.hostNetwork"),
        "{r}"
    );
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "all"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]});
    let r = c
        .post("/validate", &review("r1", "CREATE", role))
        .await
        .response();
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"].as_str().unwrap().contains("rbac-"),
        "{r}"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_action_gives_audit_annotations() {
    let cfg = "rules:\n  image-not-pinned:\n    action: audit\n";
    let srv = start(Some(cfg), |_| {}).await;
    let mut p = good_pod("team-a");
    p["spec"]["containers"][0]["image"] = json!("registry.example/web:1.2");
    let r = srv
        .client()
        .post("/validate", &review("a1", "CREATE", p))
        .await
        .response();
    assert_eq!(r["allowed"], true);
    assert!(
        r["auditAnnotations"]["image-not-pinned"]
            .as_str()
            .unwrap()
            .contains("not pinned"),
        "{r}"
    );
    assert!(r.get("warnings").is_none(), "{r}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutation_patches_and_is_idempotent() {
    let srv = start(Some("webhook:\n  mutate: true\n"), |_| {}).await;
    let c = srv.client();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "team-a"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]}});
    let r = c
        .post("/mutate", &review("m1", "CREATE", pod.clone()))
        .await
        .response();
    assert_eq!(
        (r["uid"].as_str(), r["allowed"].as_bool()),
        (Some("m1"), Some(true))
    );
    assert_eq!(r["patchType"], "JSONPatch");
    let patch = decode_patch(r["patch"].as_str().unwrap());
    let mut mutated = pod.clone();
    json_patch::patch(&mut mutated, &patch).unwrap();
    let s = &mutated["spec"];
    assert_eq!(s["automountServiceAccountToken"], false);
    assert_eq!(
        s["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(
        s["containers"][0]["securityContext"]["capabilities"]["drop"],
        json!(["ALL"])
    );
    assert_eq!(
        s["containers"][0]["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    let again = c
        .post("/mutate", &review("m2", "CREATE", mutated))
        .await
        .response();
    assert!(
        again.get("patch").is_none(),
        "mutating a mutated object must give no patch: {again}"
    );
    // A Windows pod: the API server forbids capabilities and
    // allowPrivilegeEscalation there, so only the token is turned off.
    let win = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w", "namespace": "team-a"},
        "spec": {"os": {"name": "windows"}, "containers": [{"name": "app", "image": "iis"}]}});
    let r = c
        .post("/mutate", &review("m4", "CREATE", win.clone()))
        .await
        .response();
    let patch = decode_patch(r["patch"].as_str().unwrap());
    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!([{"op": "add", "path": "/spec/automountServiceAccountToken", "value": false}])
    );
    srv.shutdown().await;

    // Off by default.
    let srv = start(None, |_| {}).await;
    let r = srv
        .client()
        .post("/mutate", &review("m3", "CREATE", pod))
        .await
        .response();
    assert!(r.get("patch").is_none());
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_connect_and_ephemeral_containers() {
    let srv = start(None, |_| {}).await;
    let c = srv.client();
    // Deleting a bad pod removes the problem: admitted.
    let r = c
        .post("/validate", &review("del1", "DELETE", bad_pod("team-a")))
        .await;
    let body = r.json();
    assert!(body["request"].is_null());
    assert_eq!(r.response()["allowed"], true);
    // A policy that asks for DELETE still applies.
    let mut prot = good_pod("team-a");
    prot["metadata"]["labels"] = json!({"protected": "true"});
    let r = c
        .post("/validate", &review("del2", "DELETE", prot))
        .await
        .response();
    assert_eq!(r["allowed"], false);
    assert!(r["status"]["message"]
        .as_str()
        .unwrap()
        .contains("protected"));

    // kubectl debug: an ephemeral container is checked like any other.
    let mut dbg = good_pod("team-a");
    dbg["spec"]["ephemeralContainers"] = json!([{"name": "debugger", "image": format!("busybox@{DIGEST}"),
        "securityContext": {"privileged": true}}]);
    let mut rv = review("eph", "UPDATE", dbg);
    rv["request"]["subResource"] = json!("ephemeralcontainers");
    rv["request"]["oldObject"] = good_pod("team-a");
    let r = c.post("/validate", &rv).await.response();
    assert_eq!(r["allowed"], false);
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("spec.ephemeralContainers[0]") && msg.contains("debugger"),
        "{msg}"
    );

    // CONNECT pods/exec: checked when a policy asks; pods/attach is not.
    let opts = json!({"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh"], "container": "app"});
    for (sub, allowed) in [("exec", false), ("attach", true)] {
        let mut rv = review("c", "CONNECT", opts.clone());
        rv["request"]["subResource"] = json!(sub);
        rv["request"]["namespace"] = json!("team-a");
        rv["request"]["name"] = json!("web");
        let r = c.post("/validate", &rv).await.response();
        assert_eq!(r["allowed"], allowed, "{sub}: {r}");
    }
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_excluded_and_labelled() {
    let cfg = "webhook:\n  namespace: palisade-system\n  excludeNamespaces: [kube-system]\n  namespaceLabels:\n    legacy: {pod-security.kubernetes.io/enforce: privileged}\n";
    let srv = start(Some(cfg), |_| {}).await;
    let c = srv.client();
    for ns in ["palisade-system", "kube-system"] {
        let r = c
            .post("/validate", &review("x", "CREATE", bad_pod(ns)))
            .await
            .response();
        assert_eq!(r["allowed"], true, "{ns} is excluded");
    }
    // Only restricted-level problems: denied where restricted applies...
    let mut loose = good_pod("team-b");
    loose["spec"]["securityContext"] = json!({});
    loose["spec"]["containers"][0]["securityContext"] = json!({"readOnlyRootFilesystem": true});
    let r = c
        .post("/validate", &review("n1", "CREATE", loose.clone()))
        .await
        .response();
    assert_eq!(r["allowed"], false, "{r}");
    // ...still denied after a review of the namespace with
    // enforce=privileged (nothing a review says is learned),
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b",
        "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}});
    assert_eq!(
        c.post("/validate", &review("n2", "CREATE", ns))
            .await
            .response()["allowed"],
        true
    );
    let r = c
        .post("/validate", &review("n3", "CREATE", loose.clone()))
        .await
        .response();
    assert_eq!(r["allowed"], false, "{r}");
    // and admitted in a namespace labelled in the config.
    loose["metadata"]["namespace"] = json!("legacy");
    let r = c
        .post("/validate", &review("n4", "CREATE", loose))
        .await
        .response();
    assert_eq!(r["allowed"], true, "{r}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_clear_errors() {
    let srv = start(Some("webhook:\n  maxBodyBytes: 100000\n"), |_| {}).await;
    let c = srv.client();
    let r = c.request("POST", "/validate", b"{not json").await.unwrap();
    assert_eq!(r.status, 400);
    assert!(r.text().contains("not JSON"), "{}", r.text());
    let r = c
        .post("/validate", &json!({"apiVersion": "v1", "kind": "Pod"}))
        .await;
    assert_eq!(r.status, 400);
    assert!(r
        .text()
        .contains("not an admission.k8s.io/v1 AdmissionReview"));
    let r = c
        .post(
            "/validate",
            &json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}),
        )
        .await;
    assert_eq!(
        (r.status, r.text()),
        (400, "AdmissionReview has no request".to_string())
    );
    let mut nouid = review("", "CREATE", good_pod("a"));
    nouid["request"].as_object_mut().unwrap().remove("uid");
    let r = c.post("/validate", &nouid).await;
    assert_eq!(
        (r.status, r.text()),
        (400, "AdmissionReview request has no uid".to_string())
    );
    let big = vec![b' '; 200_000];
    let r = c.request("POST", "/validate", &big).await.unwrap();
    assert_eq!(r.status, 413);
    // An object of a kind no rule knows is admitted; one with no kind at all is explained.
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "a"}, "spec": {"hostNetwork": true}});
    assert_eq!(
        c.post("/validate", &review("w", "CREATE", widget))
            .await
            .response()["allowed"],
        true
    );
    let mut anon = review("k", "CREATE", json!({"metadata": {"name": "x"}}));
    anon["request"]["kind"] = json!({});
    let r = c.post("/validate", &anon).await.response();
    assert_eq!(
        (r["allowed"].as_bool(), r["status"]["code"].as_u64()),
        (Some(false), Some(400))
    );
    assert!(r["status"]["message"]
        .as_str()
        .unwrap()
        .contains("no apiVersion and kind"));
    assert_eq!(c.get("/validate").await.status, 405);
    assert_eq!(c.get("/nope").await.status, 404);
    // The server is still healthy after all that.
    assert_eq!(c.get("/healthz").await.text(), "ok");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_timed_out() {
    let srv = start(None, |_| {}).await;
    // TCP without a TLS handshake.
    let mut tcp = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut tcp, &mut buf),
    )
    .await;
    assert!(
        matches!(n, Ok(Ok(0)) | Ok(Err(_))),
        "connection must be closed: {n:?}"
    );
    // TLS, then half the request headers.
    let mut s = srv.client().connect().await.unwrap();
    s.write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_to_end(&mut s, &mut out),
    )
    .await;
    assert!(
        r.is_ok(),
        "server must close a connection whose headers never end"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics() {
    let srv = start(None, |_| {}).await;
    let c = srv.client();
    assert_eq!(c.get("/healthz").await.status, 200);
    assert_eq!(c.get("/readyz").await.text(), "ok");
    c.post("/validate", &review("m", "CREATE", bad_pod("team-a")))
        .await;
    c.post("/validate", &review("m", "CREATE", good_pod("team-a")))
        .await;
    let m = c.get("/metrics").await.text();
    assert!(m.contains(r#"palisade_admission_requests_total{endpoint="validate",operation="CREATE",kind="Pod",decision="denied"} 1"#), "{m}");
    assert!(m.contains(r#"decision="allowed"} 1"#), "{m}");
    assert!(
        m.contains(r#"palisade_rule_hits_total{rule="host-network",action="enforce"} 1"#),
        "{m}"
    );
    assert!(
        m.contains("palisade_admission_duration_seconds_count 2"),
        "{m}"
    );
    assert_eq!(
        c.get("/noop").await.status,
        404,
        "no-op route only with the benchmark flag"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_good_and_bad_config_without_failed_requests() {
    let srv = start(Some("enforceAt: high\n"), |_| {}).await;
    let c = srv.client();
    let cfg = srv.path("palisade.yaml");
    // Keep requests flowing during the reloads; none may fail.
    let load = {
        let c = c.clone();
        tokio::spawn(async move {
            let mut n = 0;
            for i in 0..150 {
                let r = c
                    .post(
                        "/validate",
                        &review(&format!("l{i}"), "CREATE", good_pod("team-a")),
                    )
                    .await;
                assert_eq!(r.response()["allowed"], true);
                n += 1;
            }
            n
        })
    };
    std::fs::write(
        &cfg,
        "rules:\n  host-network:\n    action: warn\n  pss-host-namespaces:\n    action: warn\n",
    )
    .unwrap();
    eventually("the new policy", || async {
        c.post("/validate", &review("r", "CREATE", bad_pod("team-a")))
            .await
            .response()["allowed"]
            == true
    })
    .await;
    std::fs::write(&cfg, "rules:\n  no-such-rule: {}\n").unwrap();
    eventually("the refused reload", || async {
        c.get("/metrics")
            .await
            .text()
            .contains(r#"palisade_reloads_total{what="policy",result="failure"} 1"#)
    })
    .await;
    // The old policy stays in force.
    let r = c
        .post("/validate", &review("r2", "CREATE", bad_pod("team-a")))
        .await
        .response();
    assert_eq!(r["allowed"], true);
    assert!(r["warnings"].to_string().contains("host-network"));
    let m = c.get("/metrics").await.text();
    assert!(
        m.contains(r#"palisade_reloads_total{what="policy",result="success"} 1"#),
        "{m}"
    );
    assert_eq!(load.await.unwrap(), 150);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_rotation_keeps_serving() {
    let srv = start(None, |_| {}).await;
    let dir = srv.dir.path().to_path_buf();
    let next =
        palisade_webhook::certs::generate("palisade-test", &["localhost".into()], 2).unwrap();
    let both = Client::new(srv.addr, &[srv.ca[0].clone(), next.ca_cert.clone()]);
    let load = {
        let c = both.clone();
        tokio::spawn(async move {
            for i in 0..100 {
                let r = c
                    .post(
                        "/validate",
                        &review(&format!("t{i}"), "CREATE", good_pod("a")),
                    )
                    .await;
                assert_eq!(r.response()["allowed"], true);
            }
        })
    };
    // A bad key is refused and the old certificate stays.
    std::fs::write(dir.join("tls.key"), "not a key").unwrap();
    eventually("refused tls reload", || async {
        both.get("/metrics")
            .await
            .text()
            .contains(r#"what="tls",result="failure""#)
    })
    .await;
    assert_eq!(srv.client().get("/healthz").await.status, 200);
    // Write key then cert (the pair only matches at the end).
    std::fs::write(dir.join("tls.key"), &next.key).unwrap();
    std::fs::write(dir.join("tls.crt"), &next.cert).unwrap();
    let new_only = Client::new(srv.addr, std::slice::from_ref(&next.ca_cert));
    eventually("the new certificate", || async {
        new_only.request("GET", "/healthz", b"").await.is_ok()
    })
    .await;
    assert!(
        srv.client().request("GET", "/healthz", b"").await.is_err(),
        "the old CA no longer verifies"
    );
    load.await.unwrap();
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_required_with_client_ca() {
    let dir = tempfile::tempdir().unwrap();
    let api =
        palisade_webhook::certs::generate("kube-apiserver", &["apiserver".into()], 2).unwrap();
    std::fs::write(dir.path().join("client-ca.crt"), &api.ca_cert).unwrap();
    let ca = dir.path().join("client-ca.crt");
    let srv = start(None, move |o| o.client_ca = Some(ca)).await;
    assert!(
        srv.client().request("GET", "/healthz", b"").await.is_err(),
        "no client certificate"
    );
    let with = Client::with_identity(srv.addr, &srv.ca, Some((&api.cert, &api.key)));
    assert_eq!(with.get("/healthz").await.status, 200);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let srv = start(None, |_| {}).await;
    let body = serde_json::to_vec(&review("g", "CREATE", good_pod("a"))).unwrap();
    let mut s = srv.client().connect().await.unwrap();
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..10]).await.unwrap();
    s.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = srv.addr;
    let state = srv.state.clone();
    let stopping = tokio::spawn(srv.shutdown());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections while draining"
    );
    s.write_all(&body[10..]).await.unwrap();
    let mut raw = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut s, &mut raw)
        .await
        .unwrap();
    let r = parse_reply(&raw).unwrap();
    assert_eq!(r.response()["uid"], "g");
    stopping.await.unwrap();
    drop(state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_and_tls12_clients_are_served() {
    use http_body_util::BodyExt;
    let srv = start(None, |_| {}).await;
    // HTTP/2, as the API server speaks when offered (ALPN h2), several
    // reviews on one connection.
    let mut roots = rustls::RootCertStore::empty();
    for c in pem_certs(&srv.ca[0]) {
        roots.add(c).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let client = Client {
        addr: srv.addr,
        config: std::sync::Arc::new(cfg),
    };
    let tls = client.connect().await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(b"h2".as_slice()));
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    for (uid, pod, allowed) in [("h1", good_pod("a"), true), ("h2", bad_pod("a"), false)] {
        let body = serde_json::to_vec(&review(uid, "CREATE", pod)).unwrap();
        let req = hyper::Request::post("https://localhost/validate")
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(axum::body::Bytes::from(body)))
            .unwrap();
        let res = send.send_request(req).await.unwrap();
        assert_eq!(res.status(), 200);
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            (
                v["response"]["uid"].as_str(),
                v["response"]["allowed"].as_bool()
            ),
            (Some(uid), Some(allowed))
        );
    }
    // TLS 1.2 only.
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let c12 = Client {
        addr: srv.addr,
        config: std::sync::Arc::new(cfg),
    };
    let s = c12.connect().await.unwrap();
    assert_eq!(
        s.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(c12.get("/healthz").await.text(), "ok");
    srv.shutdown().await;
}
