//! `palisade install --print` through the real binary: the manifests pass
//! Palisade's own scan (default profile, and pss-restricted) and RBAC
//! report with zero findings, and hold the hardening the issue lists.

mod common;

use serde_json::{json, Value};
use std::path::Path;

/// A pinned image reference.
pub const IMAGE: &str = "registry.example/palisade:0.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn install(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["install", "--print", "--image", IMAGE];
    args.extend_from_slice(extra);
    let out = common::palisade(dir, &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

const FULL: &[&str] = &[
    "--with-audit",
    "--api-server-cidr",
    "10.0.0.1/32",
    "--registry-cidr",
    "192.0.2.0/24",
];

fn items(list: &Value) -> &Vec<Value> {
    assert_eq!(list["kind"], "List");
    list["items"].as_array().unwrap()
}

fn find<'a>(list: &'a Value, kind: &str, name: &str) -> &'a Value {
    items(list)
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// Scans `list` (written to a file) with `args` and returns the findings.
fn scan(dir: &Path, list: &Value, args: &[&str]) -> (i32, Vec<Value>) {
    let file = common::write(dir, "install.json", &list.to_string());
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--format", "json", file.to_str().unwrap()]);
    let out = common::palisade(dir, &all);
    let doc = out.json();
    assert_eq!(doc["errors"], json!([]), "{}", out.stdout);
    (out.code, doc["findings"].as_array().unwrap().clone())
}

#[test]
fn every_variant_scans_clean_with_the_default_profile_and_pss_restricted() {
    let dir = tempfile::tempdir().unwrap();
    let variants: [&[&str]; 4] = [
        &[],
        FULL,
        &["--cert-manager", "--replicas", "2"],
        &[
            "--with-audit",
            "--api-server-cidr",
            "fd00::1/128",
            "--cert-manager",
        ],
    ];
    for extra in variants {
        let list = install(dir.path(), extra);
        for profiles in [
            &["scan"][..],
            &[
                "scan",
                "--profile",
                "default",
                "--profile",
                "pss-restricted",
            ],
        ] {
            let (code, findings) = scan(dir.path(), &list, profiles);
            assert_eq!(
                (code, findings.len()),
                (0, 0),
                "{extra:?} {profiles:?}: {findings:#?}"
            );
        }
        let file = common::write(dir.path(), "install.json", &list.to_string());
        let out = common::palisade(
            dir.path(),
            &["rbac", "report", "--format", "json", file.to_str().unwrap()],
        );
        assert_eq!(out.code, 0, "{extra:?}: {}", out.stdout);
        assert_eq!(out.json()["findings"], json!([]), "{extra:?}");
    }
}

#[test]
fn the_scan_would_see_a_weakened_install() {
    // The zero above means something: the same objects with one hardening
    // removed give the finding (so the scan really reads them).
    let dir = tempfile::tempdir().unwrap();
    let mut list = install(dir.path(), FULL);
    let deploy = list["items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "palisade")
        .unwrap();
    let c = &mut deploy["spec"]["template"]["spec"]["containers"][0];
    c["securityContext"]["readOnlyRootFilesystem"] = json!(false);
    c["image"] = json!("registry.example/palisade:0.1.0");
    let (code, findings) = scan(dir.path(), &list, &["scan"]);
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(code, 1);
    assert!(rules.contains(&"writable-root-filesystem"), "{rules:?}");
    assert!(rules.contains(&"image-not-pinned"), "{rules:?}");
}

#[test]
fn the_webhook_deployment_is_hardened_and_spread() {
    let dir = tempfile::tempdir().unwrap();
    let list = install(dir.path(), &["--namespace", "guard"]);
    let ns = find(&list, "Namespace", "guard");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let d = find(&list, "Deployment", "palisade");
    assert_eq!(d["metadata"]["namespace"], "guard");
    assert_eq!(d["spec"]["replicas"], 3);
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["serviceAccountName"], "palisade");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(
        pod["topologySpreadConstraints"][0]["topologyKey"],
        "kubernetes.io/hostname"
    );
    let c = &pod["containers"][0];
    assert_eq!(c["image"], IMAGE);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    for k in ["requests", "limits"] {
        assert!(c["resources"][k]["cpu"].is_string() && c["resources"][k]["memory"].is_string());
    }
    let health = c["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "health")
        .unwrap();
    assert_eq!(health["containerPort"], 8080);
    assert_eq!(c["readinessProbe"]["httpGet"]["port"], "health");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    let pdb = find(&list, "PodDisruptionBudget", "palisade");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert_eq!(
        find(&list, "Service", "palisade")["spec"]["ports"][0]["targetPort"],
        "https"
    );
    // The webhook configurations route to this Service and skip the namespace.
    let v = find(&list, "ValidatingWebhookConfiguration", "palisade");
    assert_eq!(
        v["webhooks"][0]["clientConfig"]["service"]["namespace"],
        "guard"
    );
    assert_eq!(v["webhooks"][0]["failurePolicy"], "Fail");
    let sel = &v["webhooks"][0]["namespaceSelector"]["matchExpressions"][0]["values"];
    assert_eq!(sel, &json!(["guard", "kube-system"]));
    assert_eq!(
        find(&list, "MutatingWebhookConfiguration", "palisade")["webhooks"][0]["failurePolicy"],
        "Ignore"
    );
    // No auditor, no cluster role, no token without --with-audit.
    assert!(!items(&list)
        .iter()
        .any(|o| o["kind"] == "ClusterRole" || o["kind"] == "CronJob"));
}

#[test]
fn the_generated_certificate_serves_the_service_name_and_is_the_ca_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let list = install(dir.path(), &[]);
    let secret = find(&list, "Secret", "palisade-tls");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    let v = find(&list, "ValidatingWebhookConfiguration", "palisade");
    let bundle = v["webhooks"][0]["clientConfig"]["caBundle"]
        .as_str()
        .unwrap();
    assert_eq!(secret["data"]["ca.crt"], bundle);
    let pem = decode(secret["data"]["tls.crt"].as_str().unwrap());
    let text = String::from_utf8(pem).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = decode(&b64);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let san = cert.subject_alternative_name().unwrap().unwrap().value;
    let names: Vec<String> = san.general_names.iter().map(|n| n.to_string()).collect();
    assert!(
        names
            .iter()
            .any(|n| n.contains("palisade.palisade-system.svc")),
        "{names:?}"
    );
    // cert-manager: no Secret printed, the CA injected by annotation.
    let cm = install(dir.path(), &["--cert-manager"]);
    assert!(!items(&cm).iter().any(|o| o["kind"] == "Secret"));
    let v = find(&cm, "ValidatingWebhookConfiguration", "palisade");
    assert_eq!(
        v["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        "palisade-system/palisade"
    );
    assert!(v["webhooks"][0]["clientConfig"].get("caBundle").is_none());
    assert_eq!(
        find(&cm, "Certificate", "palisade")["spec"]["secretName"],
        "palisade-tls"
    );
}

fn decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn the_auditor_has_least_privilege_and_a_short_lived_token() {
    let dir = tempfile::tempdir().unwrap();
    let list = install(dir.path(), FULL);
    let role = find(&list, "ClusterRole", "palisade-auditor");
    for r in role["rules"].as_array().unwrap() {
        let resources = r["resources"].as_array().unwrap();
        assert!(!resources.contains(&json!("secrets")) && !resources.contains(&json!("*")));
        let reports = r["apiGroups"] == json!(["wgpolicyk8s.io"]);
        if !reports {
            assert_eq!(r["verbs"], json!(["get", "list", "watch"]), "{r}");
        }
    }
    let prune = find(&list, "ClusterRole", "palisade-prune-expired");
    assert_eq!(prune["rules"][0]["verbs"], json!(["get", "list", "delete"]));
    let d = find(&list, "Deployment", "palisade-auditor");
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    let token = &pod["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!(token["expirationSeconds"], 3600);
    let cj = find(&list, "CronJob", "palisade-prune-expired");
    let args = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(args, &json!(["rbac", "prune-expired", "--apply"]));
    let lease = find(&list, "Role", "palisade-auditor-lease");
    assert_eq!(lease["metadata"]["namespace"], "palisade-system");
}

#[test]
fn network_policies_deny_by_default_and_open_only_what_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let list = install(dir.path(), FULL);
    let deny = find(&list, "NetworkPolicy", "default-deny");
    assert_eq!(
        deny["spec"],
        json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    );
    let ingress = find(&list, "NetworkPolicy", "webhook-ingress");
    assert_eq!(
        ingress["spec"]["ingress"],
        json!([{"ports": [{"port": 8443, "protocol": "TCP"}]}])
    );
    let api = find(&list, "NetworkPolicy", "apiserver-egress");
    assert_eq!(
        api["spec"]["egress"][0]["to"],
        json!([{"ipBlock": {"cidr": "10.0.0.1/32"}}])
    );
    let reg = find(&list, "NetworkPolicy", "registry-egress");
    assert_eq!(
        reg["spec"]["egress"][0]["to"],
        json!([{"ipBlock": {"cidr": "192.0.2.0/24"}}])
    );
    // Without registries or auditor, neither egress exists.
    let plain = install(dir.path(), &[]);
    let names: Vec<&str> = items(&plain)
        .iter()
        .filter(|o| o["kind"] == "NetworkPolicy")
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default-deny", "webhook-ingress", "dns-egress"]);
}

#[test]
fn bad_arguments_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--image", "registry.example/palisade:0.1.0"],
            "not pinned by digest",
        ),
        (
            &["--image", IMAGE, "--with-audit"],
            "--with-audit needs --api-server-cidr",
        ),
        (
            &["--image", IMAGE, "--registry-cidr", "0.0.0.0/0"],
            "a /0 allows every address",
        ),
        (
            &["--image", IMAGE, "--registry-cidr", "example.com"],
            "expected ADDRESS/PREFIX",
        ),
    ];
    for (extra, why) in cases {
        let mut args = vec!["install", "--print"];
        args.extend_from_slice(extra);
        let out = common::palisade(dir.path(), &args);
        assert_eq!(out.code, 2, "{extra:?}");
        assert!(out.stderr.contains(why), "{extra:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}

/// The webhook Deployment's own arguments, with its mounted files (the
/// ConfigMap and the Secret of the same output) under a temporary directory
/// and loopback addresses, run by the real binary: it starts, and denies a
/// host-network pod over TLS with the generated certificate.
#[test]
fn the_printed_deployment_arguments_serve_with_the_printed_config_and_secret() {
    use base64::Engine as _;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use std::io::{BufRead, Read, Write};

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let list = install(d, &[]);
    let cm = find(&list, "ConfigMap", "palisade-config");
    common::write(
        d,
        "etc/palisade/config/palisade.yaml",
        cm["data"]["palisade.yaml"].as_str().unwrap(),
    );
    let secret = find(&list, "Secret", "palisade-tls");
    for k in ["tls.crt", "tls.key", "ca.crt"] {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(secret["data"][k].as_str().unwrap())
            .unwrap();
        common::write(
            d,
            &format!("etc/palisade/tls/{k}"),
            &String::from_utf8(bytes).unwrap(),
        );
    }
    let deploy = find(&list, "Deployment", "palisade");
    let root = d.to_str().unwrap();
    let args: Vec<String> = deploy["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let a = a
                .as_str()
                .unwrap()
                .replace("=/etc/palisade", &format!("={root}/etc/palisade"));
            a.replace("=0.0.0.0:8443", "=127.0.0.1:0")
                .replace("=0.0.0.0:8080", "=127.0.0.1:0")
        })
        .collect();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(&args)
        .env("POD_NAMESPACE", "palisade-system")
        .current_dir(d)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // stderr is read to its end on a thread: a server whose stderr is
    // closed fails at its next log line.
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut health = None;
        let mut log = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            log.push_str(&line);
            if let Some(h) = line.split("health probes on http://").nth(1) {
                health = h.split('/').next().map(str::to_string);
            }
            if let Some(a) = line.split("listening on https://").nth(1) {
                let _ = tx.send((
                    Some(a.trim_end_matches('"').to_string()),
                    health.clone(),
                    log.clone(),
                ));
            }
        }
        let _ = tx.send((None, None, log));
    });
    let (addr, health, log) = rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
    let Some(addr) = addr else {
        let _ = child.kill();
        panic!("did not start with {args:?}: {log}");
    };
    // The kubelet's probe: plain HTTP on the health port.
    let health = health.unwrap_or_else(|| panic!("no health port: {log}"));
    // Retried as the kubelet retries (readiness may lag the listening line).
    let probe = |path: &str| -> String {
        let mut h = std::net::TcpStream::connect(&health).unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        h.write_all(req.as_bytes()).unwrap();
        let mut text = String::new();
        let _ = h.read_to_string(&mut text);
        text
    };
    let start = std::time::Instant::now();
    let mut ready = probe("/readyz");
    while !ready.starts_with("HTTP/1.1 200") && start.elapsed().as_secs() < 15 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        ready = probe("/readyz");
    }
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready} {log}");
    assert!(probe("/healthz").starts_with("HTTP/1.1 200"));
    let pem = std::fs::read(d.join("etc/palisade/tls/ca.crt")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    // The name the API server uses for the Service.
    let name = ServerName::try_from("palisade.palisade-system.svc").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let mut s = rustls::StreamOwned::new(conn, std::net::TcpStream::connect(&addr).unwrap());
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u1", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE",
        "namespace": "team-a", "userInfo": {"username": "alice"},
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "team-a"},
            "spec": {"hostNetwork": true, "containers": [{"name": "app", "image": "nginx"}]}}}});
    let body = serde_json::to_vec(&review).unwrap();
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: palisade\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let _ = child.kill();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&raw);
    let json_start = text.find("\r\n\r\n").unwrap() + 4;
    let v: Value = serde_json::from_str(&text[json_start..]).unwrap();
    assert_eq!(v["response"]["uid"], "u1");
    assert_eq!(v["response"]["allowed"], false, "{v}");
    assert!(
        v["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("host-network"),
        "{v}"
    );
}

#[test]
fn cluster_mode_gives_the_webhook_a_token_read_rights_and_one_known_finding() {
    let dir = tempfile::tempdir().unwrap();
    let list = install(
        dir.path(),
        &["--cluster", "--api-server-cidr", "10.0.0.1/32"],
    );
    let d = find(&list, "Deployment", "palisade");
    let pod = &d["spec"]["template"]["spec"];
    assert!(pod["containers"][0]["args"]
        .as_array()
        .unwrap()
        .contains(&json!("--cluster")));
    assert_eq!(pod["automountServiceAccountToken"], false);
    let token = &pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "api-token")
        .expect("a projected token")["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!(token["expirationSeconds"], 3600);
    let role = find(&list, "ClusterRole", "palisade-webhook-cluster");
    for r in role["rules"].as_array().unwrap() {
        let resources = r["resources"].as_array().unwrap();
        let verbs = &r["verbs"];
        if resources.contains(&json!("secrets")) || resources.contains(&json!("serviceaccounts")) {
            assert_eq!(verbs, &json!(["get"]), "named objects only: {r}");
        } else {
            assert_eq!(verbs, &json!(["get", "list", "watch"]), "{r}");
        }
        assert!(!resources.contains(&json!("*")));
    }
    let binding = find(&list, "ClusterRoleBinding", "palisade-webhook-cluster");
    assert_eq!(binding["subjects"][0]["name"], "palisade");
    let api = find(&list, "NetworkPolicy", "apiserver-egress");
    assert_eq!(
        api["spec"]["podSelector"]["matchExpressions"][0]["values"],
        json!(["webhook"])
    );
    // Reading the pods' pull secrets is what --cluster costs: Palisade's own
    // rule reports it, and nothing else is reported.
    let (code, findings) = scan(dir.path(), &list, &["scan"]);
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["rbac-secrets-access"], "{findings:#?}");
    assert_eq!(code, 1);
    let out = common::palisade(
        dir.path(),
        &["install", "--print", "--image", IMAGE, "--cluster"],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--cluster needs --api-server-cidr"),
        "{}",
        out.stderr
    );
}
