//! Signed images at admission, with real parts: Debian's docker-registry
//! on 127.0.0.1, images signed and attested in cosign's legacy layout by
//! Palisade's own signing code, `palisade serve` started for real, and
//! AdmissionReviews posted over TLS. The four-attestor scenario of the
//! talk, `/mutate` pinning the verified digest and `/validate` deciding the
//! pinned reference with the registry stopped, and hostile registries and
//! signatures (each a denial with the reason, never an admission). And
//! Palisade's own image, signed and SBOM-attested by the CLI, through its
//! own webhook.

mod common;
#[path = "../../palisade-images/tests/it/registry_server.rs"]
mod registry_server;
#[path = "../../palisade-images/tests/it/test_images.rs"]
mod test_images;

use base64::Engine as _;
use palisade_images::sign::{attest_legacy, sign_legacy};
use palisade_images::{ImageRef, Registry, RegistryOptions, SigningKey};
use registry_server::TestRegistry;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAMES: [&str; 4] = [
    "build",
    "vulnerability-scan",
    "dependency-review",
    "integration-test",
];

fn layout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/supply/synth-two-attestors/image-oci-layout")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn client(host: &str) -> Registry {
    Registry::new(RegistryOptions {
        insecure: vec![host.to_string()],
        ..Default::default()
    })
}

/// The pipeline's keys, public halves written to `dir/NAME.pub`.
fn keys(dir: &Path) -> Vec<SigningKey> {
    NAMES
        .iter()
        .map(|n| {
            let k = SigningKey::generate();
            std::fs::write(dir.join(format!("{n}.pub")), k.public_key_pem().unwrap()).unwrap();
            k
        })
        .collect()
}

fn ptype(n: &str) -> String {
    format!("https://example.com/{n}/v1")
}

/// Signs (attestor 0) or attests (the others, as attestor `i`) `image` with `key`.
fn vouch_with(reg: &Registry, image: &str, key: &SigningKey, i: usize) {
    let r = ImageRef::parse(image).unwrap();
    rt().block_on(async {
        if i == 0 {
            sign_legacy(reg, &r, key).await.unwrap();
        } else {
            let pred = if i == 1 {
                json!({"scanner": {"result": {"criticalCount": 0}}})
            } else {
                json!({"result": "pass"})
            };
            attest_legacy(reg, &r, key, &ptype(NAMES[i]), pred)
                .await
                .unwrap();
        }
    });
}

/// Attestor `i` vouches for `image` with its own key.
fn vouch(reg: &Registry, image: &str, keys: &[SigningKey], i: usize) {
    vouch_with(reg, image, &keys[i], i)
}

/// Only the image rules enforce: the rest of the default profile audits.
const RULES: &str = "profiles:\n- {name: default, action: audit}\nrules:\n  image-signature-missing: {action: enforce}\n  image-attestation-missing: {action: enforce}\n  image-verification-failed: {action: enforce}\n";

fn config(hosts: &[&str], require: &str, webhook: &str) -> String {
    let mut y = format!("{RULES}webhook:\n{webhook}images:\n- name: shop\n  match: [\"127.0.0.1:*/demo/*\"]\n  require: {require}\n  mutateDigest: true\n  attestors:\n");
    for n in NAMES {
        y.push_str(&format!("  - name: {n}\n    key: {n}.pub\n"));
        if n != "build" {
            y.push_str(&format!(
                "    attestation:\n      predicateType: {}\n",
                ptype(n)
            ));
        }
        if n == "vulnerability-scan" {
            y.push_str("      condition: \"predicate.scanner.result.criticalCount == 0\"\n");
        }
    }
    y.push_str("- name: lenient\n  match: [\"127.0.0.1:*/lenient/*\"]\n  onRegistryError: allow\n  attestors:\n  - {name: build, key: build.pub}\n");
    y.push_str("registries:\n");
    for h in hosts {
        y.push_str(&format!("  \"{h}\": {{insecure: true}}\n"));
    }
    y
}

/// A running `palisade serve` in its own directory, killed on drop.
struct Served {
    child: Child,
    addr: String,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `palisade serve` with `palisade.yaml` = `yaml` and the keys of `keys_dir`.
fn serve(keys_dir: &Path, yaml: &str) -> Served {
    serve_with(keys_dir, yaml, &[], &[])
}

/// [`serve`] with more files in its directory and more arguments.
fn serve_with(keys_dir: &Path, yaml: &str, files: &[(&str, &[u8])], args: &[&str]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, data) in files {
        std::fs::write(d.join(name), data).unwrap();
    }
    for n in NAMES {
        let f = format!("{n}.pub");
        std::fs::copy(keys_dir.join(&f), d.join(&f)).unwrap();
    }
    std::fs::write(d.join("palisade.yaml"), yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "certs",
            "--service",
            "palisade",
            "--namespace",
            "palisade-system",
        ])
        .args(["--san", "localhost", "--out-dir"])
        .arg(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["serve", "--tls-cert", "tls.crt", "--tls-key", "tls.key"])
        .args(["--addr", "127.0.0.1:0", "--health-addr", "off"])
        .args(args)
        .current_dir(d)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            match line.strip_prefix("palisade: listening on https://") {
                Some(a) => {
                    let _ = tx.send(Ok(a.to_string()));
                }
                None => {
                    let _ = tx.send(Err(line));
                }
            }
        }
    });
    let mut log = String::new();
    let addr = loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(a)) => break a,
            Ok(Err(line)) => log.push_str(&line),
            Err(_) => panic!("server did not start: {log}"),
        }
    };
    Served {
        child,
        addr,
        ca: d.join("ca.crt"),
        _dir: dir,
    }
}

impl Served {
    /// Posts `review` to `path` over TLS; the AdmissionReview's response.
    fn post(&self, path: &str, review: &Value) -> Value {
        common::https::review(&self.ca, &self.addr, path, review)
    }
}

fn review(object: Value) -> Value {
    let api = object["apiVersion"].as_str().unwrap();
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u-1", "kind": {"group": group, "version": version, "kind": object["kind"]},
        "operation": "CREATE", "namespace": "shop", "userInfo": {"username": "ci"},
        "object": object}})
}

fn pod(image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"initContainers": [{"name": "init", "image": image}],
                 "containers": [{"name": "app", "image": image}]}})
}

fn deployment(image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "app", "image": image}]}}}})
}

fn message(r: &Value) -> String {
    r["status"]["message"].as_str().unwrap_or("").to_string()
}

fn patch(r: &Value) -> Vec<Value> {
    let b64 = r["patch"].as_str().unwrap_or("");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    serde_json::from_slice(&raw).unwrap_or_default()
}

#[test]
fn four_attestors_admit_three_deny_naming_the_missing_one_and_pinned_digests_need_no_registry() {
    let reg = TestRegistry::plain();
    reg.push_layout(&layout(), "v1", "demo/shop:v1", None);
    reg.push_layout(&layout(), "v1", "demo/shop:v2", None);
    let keydir = tempfile::tempdir().unwrap();
    let keys = keys(keydir.path());
    let c = client(&reg.host);
    let image = format!("{}/demo/shop:v1", reg.host);
    let digest = rt()
        .block_on(c.resolve(&ImageRef::parse(&image).unwrap()))
        .unwrap();
    for i in 0..3 {
        vouch(&c, &image, &keys, i);
    }
    let hosts = [reg.host.as_str()];

    // Three of four: denied, naming the image, the policy, the missing attestor and why.
    let all = serve(keydir.path(), &config(&hosts, "all", "  mutate: false\n"));
    let r = all.post("/validate", &review(pod(&image)));
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    for want in [
        image.as_str(),
        "image policy `shop`",
        "integration-test",
        "integration-test (none of the 2 attestations found is signed by this attestor's key)",
        "[image-attestation-missing]",
    ] {
        assert!(m.contains(want), "{want:?} not in {m}");
    }
    for passed in ["build (", "vulnerability-scan (", "dependency-review ("] {
        assert!(!m.contains(passed), "{passed} passed: {m}");
    }
    // The pod template of a workload kind is checked the same way.
    let r = all.post("/validate", &review(deployment(&image)));
    assert_eq!(r["allowed"], false, "{r}");
    assert!(message(&r).contains("integration-test"), "{r}");
    // /mutate never pins what did not pass.
    let r = all.post("/mutate", &review(pod(&image)));
    assert_eq!(r["allowed"], true);
    assert!(r["patch"].is_null(), "{r}");

    // count: 3 admits it.
    let three = serve(
        keydir.path(),
        &config(&hosts, "{count: 3}", "  mutate: false\n"),
    );
    let r = three.post("/validate", &review(pod(&image)));
    assert_eq!(r["allowed"], true, "{r}");

    // All four: admitted; /mutate pins the verified digest in every container list.
    vouch(&c, &image, &keys, 3);
    let s = serve(keydir.path(), &config(&hosts, "all", "  mutate: false\n"));
    let r = s.post("/validate", &review(deployment(&image)));
    assert_eq!(r["allowed"], true, "{r}");
    let r = s.post("/mutate", &review(pod(&image)));
    assert_eq!(r["patchType"], "JSONPatch", "{r}");
    let pinned = format!("{image}@{digest}");
    assert_eq!(
        patch(&r),
        [
            json!({"op": "replace", "path": "/spec/containers/0/image", "value": pinned}),
            json!({"op": "replace", "path": "/spec/initContainers/0/image", "value": pinned}),
        ]
    );
    // The registry goes away: the pinned reference is decided from the cache...
    drop(reg);
    let r = s.post("/validate", &review(pod(&pinned)));
    assert_eq!(r["allowed"], true, "no second registry round trip: {r}");
    // ...while a reference never verified is a registry error, denied.
    let other = image.replace(":v1", ":v2");
    let start = Instant::now();
    let r = s.post("/validate", &review(pod(&other)));
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        message(&r).contains("[image-verification-failed]") && message(&r).contains("shop"),
        "{r}"
    );
    assert!(start.elapsed() < Duration::from_secs(6));
}

/// A registry that misbehaves on every request.
#[derive(Clone, Copy)]
enum Misbehave {
    ServerError,
    Hang,
    SlowBody,
}

fn fake_registry(mode: Misbehave) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                read_head(&mut s);
                match mode {
                    Misbehave::ServerError => {
                        let _ = s.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                        // close after the client has read the answer (no reset)
                        let _ = s.shutdown(std::net::Shutdown::Write);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                        let _ = s.read_to_end(&mut Vec::new());
                    }
                    Misbehave::Hang => std::thread::sleep(Duration::from_secs(60)),
                    Misbehave::SlowBody => {
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ndocker-content-digest: sha256:93a1533f6a5cfd5bb71caf2fb0b12fd403950fe334d83dcdcd4d20754b9aaed9\r\ncontent-length: 100000\r\n\r\n");
                        for _ in 0..600 {
                            if s.write_all(b" ").is_err() {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                }
            });
        }
    });
    host
}

/// Reads a request's head (up to the blank line).
fn read_head(s: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

/// Copies the manifest at `from`'s attached tag to `to`'s (same repository).
fn copy_attached(c: &Registry, repo: &str, from: &str, to: &str, suffix: &str) {
    let tag = |d: &str| format!("{repo}:{}.{suffix}", d.replacen(':', "-", 1));
    rt().block_on(async {
        let src = ImageRef::parse(&tag(from)).unwrap();
        let (body, _) = c.manifest(src.oci()).await.unwrap().unwrap();
        let dst = ImageRef::parse(&tag(to)).unwrap();
        c.push_manifest(
            dst.oci(),
            body,
            "application/vnd.oci.image.manifest.v1+json",
        )
        .await
        .unwrap();
    });
}

#[test]
fn hostile_registries_and_signatures_are_denials_with_the_reason() {
    let reg = TestRegistry::plain();
    let keydir = tempfile::tempdir().unwrap();
    let keys = keys(keydir.path());
    let c = client(&reg.host);
    let repo = |r: &str| format!("{}/demo/{r}", reg.host);
    let other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let mut digest = String::new();
    for r in ["garbage", "wrongdigest", "wrongsubject", "wrongkey"] {
        reg.push_layout(&layout(), "v1", &format!("demo/{r}:v1"), None);
        let image = format!("{}:v1", repo(r));
        digest = rt()
            .block_on(c.resolve(&ImageRef::parse(&image).unwrap()))
            .unwrap();
        // the hostile piece first (a copied manifest replaces the tag),
        // then everything else valid
        let at_other = format!("{}@{other}", repo(r));
        match r {
            "wrongkey" => vouch_with(&c, &image, &keys[1], 0), // the scanner's key signs
            "wrongsubject" => {
                vouch(&c, &at_other, &keys, 1);
                copy_attached(&c, &repo(r), other, &digest, "att");
            }
            _ => {
                // a valid signature of another digest, moved to this one's tag
                vouch(&c, &at_other, &keys, 0);
                copy_attached(&c, &repo(r), other, &digest, "sig");
            }
        }
        for i in 0..4 {
            let hostile = match r {
                "wrongsubject" => i == 1,
                _ => i == 0,
            };
            if !hostile {
                vouch(&c, &image, &keys, i);
            }
        }
    }
    // garbage: the moved signature's annotation replaced by garbage
    rt().block_on(async {
        let tag = format!("{}:{}.sig", repo("garbage"), digest.replacen(':', "-", 1));
        let t = ImageRef::parse(&tag).unwrap();
        let (body, _) = c.manifest(t.oci()).await.unwrap().unwrap();
        let mut m: Value = serde_json::from_slice(&body).unwrap();
        m["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"] = json!("Z2FyYmFnZQ==");
        c.push_manifest(
            t.oci(),
            serde_json::to_vec(&m).unwrap(),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .await
        .unwrap();
    });
    let fakes = [
        (fake_registry(Misbehave::ServerError), "500"),
        (fake_registry(Misbehave::Hang), "2000 ms"),
        (fake_registry(Misbehave::SlowBody), "2000 ms"),
    ];
    let mut hosts: Vec<&str> = fakes.iter().map(|(h, _)| h.as_str()).collect();
    hosts.push(&reg.host);
    let budget = "  imageVerificationTimeoutMs: 2000\n";
    let s = serve(keydir.path(), &config(&hosts, "all", budget));

    for (host, why) in &fakes {
        let image = format!("{host}/demo/app:v1");
        let start = Instant::now();
        let r = s.post("/validate", &review(pod(&image)));
        let took = start.elapsed();
        assert_eq!(r["allowed"], false, "{host}: {r}");
        let m = message(&r);
        // (on a starved machine even the 500 may outlast the budget: then
        // the budget is the reason given)
        assert!(
            m.contains("[image-verification-failed]")
                && m.contains(&image)
                && (m.contains(why) || m.contains("2000 ms admission budget")),
            "{why:?}: {m}"
        );
        assert!(
            took < Duration::from_millis(3500),
            "{why}: {took:?}, budget 2 s"
        );
        // onRegistryError: allow admits the same failure.
        let lenient = format!("{host}/lenient/app:v1");
        let r = s.post("/validate", &review(pod(&lenient)));
        assert_eq!(r["allowed"], true, "{r}");
    }
    for (r, attestor, why) in [
        ("garbage", "build", "signed by this attestor's key"),
        ("wrongdigest", "build", "not the image digest"),
        ("wrongsubject", "vulnerability-scan", "another subject"),
        ("wrongkey", "build", "signed by this attestor's key"),
    ] {
        let image = format!("{}:v1", repo(r));
        let resp = s.post("/validate", &review(pod(&image)));
        assert_eq!(resp["allowed"], false, "{r}: {resp}");
        let m = message(&resp);
        assert!(
            m.contains(&format!("{attestor} (")) && m.contains(why),
            "{r}: {attestor} / {why:?} not in {m}"
        );
        let resp = s.post("/mutate", &review(pod(&image)));
        assert!(resp["patch"].is_null(), "{r}: not pinned: {resp}");
    }
    // A custom resource's pod template (Argo Rollout) is checked too.
    let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "r", "namespace": "shop"}, "spec": {"template": {"spec": {
        "containers": [{"name": "a", "image": format!("{}:v1", repo("wrongkey"))}]}}}});
    let r = s.post("/validate", &review(rollout));
    assert_eq!(r["allowed"], false, "{r}");
}

#[test]
fn registry_credentials_from_a_docker_config_json() {
    let reg = TestRegistry::tls_with_auth("ci", "s3cret");
    reg.push_layout(&layout(), "v1", "demo/shop:v1", Some("ci:s3cret"));
    let ca = reg.ca_pem.clone().unwrap();
    let c = Registry::new(RegistryOptions {
        ca_pems: vec![ca.clone()],
        credentials: [(reg.host.clone(), ("ci".into(), "s3cret".into()))].into(),
        ..Default::default()
    });
    let keydir = tempfile::tempdir().unwrap();
    let keys = keys(keydir.path());
    let image = format!("{}/demo/shop:v1", reg.host);
    for i in 0..4 {
        vouch(&c, &image, &keys, i);
    }
    let yaml =
        config(&[], "all", "  mutate: false\n") + &format!("  \"{}\": {{ca: ca.pem}}\n", reg.host);
    let auth = base64::engine::general_purpose::STANDARD.encode("ci:s3cret");
    let docker = format!(
        r#"{{"auths": {{"https://{}": {{"auth": "{auth}"}}}}}}"#,
        reg.host
    );
    let files: [(&str, &[u8]); 2] = [("ca.pem", &ca), ("config.json", docker.as_bytes())];
    let with = serve_with(
        keydir.path(),
        &yaml,
        &files,
        &["--registry-config", "config.json"],
    );
    let r = with.post("/validate", &review(pod(&image)));
    assert_eq!(r["allowed"], true, "{r}");
    let without = serve_with(keydir.path(), &yaml, &files, &[]);
    let r = without.post("/validate", &review(pod(&image)));
    assert_eq!(r["allowed"], false, "{r}");
    assert!(message(&r).contains("[image-verification-failed]"), "{r}");
    assert!(!message(&r).contains("s3cret"), "no secret in answers: {r}");
}

#[test]
fn a_verdict_cached_for_one_tag_is_not_reused_for_a_tag_a_stricter_policy_matches() {
    let reg = TestRegistry::plain();
    reg.push_layout(&layout(), "v1", "demo/shop:v1", None);
    reg.push_layout(&layout(), "v1", "demo/shop:prod", None);
    let dir = tempfile::tempdir().unwrap();
    let keys = keys(dir.path());
    let c = client(&reg.host);
    let dev = format!("{}/demo/shop:v1", reg.host);
    vouch(&c, &dev, &keys, 0);
    let yaml = format!(
        "images:\n- name: prod\n  match: [\"127.0.0.1:*/demo/shop:prod\"]\n  attestors:\n  - {{name: build, key: build.pub}}\n  - name: integration-test\n    key: integration-test.pub\n    attestation: {{predicateType: \"{}\"}}\n- name: any\n  match: [\"127.0.0.1:*/demo/*\"]\n  attestors:\n  - {{name: build, key: build.pub}}\nregistries:\n  \"{}\": {{insecure: true}}\n",
        ptype("integration-test"),
        reg.host
    );
    let file = dir.path().join("palisade.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let config = palisade_core::Config::parse(&yaml, &file.to_string_lossy()).unwrap();
    let policies = palisade_images::ImagePolicies::from_config(&config).unwrap();
    let registry = Registry::new(policies.registry.clone());
    let v = palisade_images::Verifier::new(Arc::new(policies), registry, Default::default());
    let rt = rt();
    assert!(
        rt.block_on(v.verify(&dev)).passed(),
        "only `any` matches the dev tag"
    );
    let prod = rt.block_on(v.verify(&dev.replace(":v1", ":prod")));
    assert!(
        !prod.passed(),
        "same digest, but `prod` matches too: {prod:?}"
    );
    assert!(prod.policies.iter().any(|p| p.name == "prod" && !p.passed));
}

/// Image content at admission: the first admission of an uninspected
/// digest is denied (no image policy matches: `imageInspectionPending`'s
/// default) naming the inspection it started; once it finished, busybox is
/// denied by `image-not-minimal` naming the paths, a distroless-like image
/// running as 65532 is admitted, and the same image running as root in a
/// pod that sets no non-root user is denied by `image-runs-as-root`.
#[test]
fn image_content_rules_at_admission_after_a_background_inspection() {
    let reg = TestRegistry::plain();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let layout = test_images::layout(&d.join("oci"));
    test_images::busybox(&layout, "busybox");
    test_images::distroless(&layout, "app", None);
    test_images::distroless_as(&layout, "root", None, "");
    for (tag, dest) in [
        ("busybox", "c/busybox:1"),
        ("app", "c/app:1"),
        ("root", "c/root:1"),
    ] {
        reg.push_layout(&d.join("oci"), tag, dest, None);
    }
    let keys_dir = tempfile::tempdir().unwrap();
    keys(keys_dir.path());
    let yaml = format!(
        "profiles:\n- {{name: default, action: audit}}\nrules:\n  image-not-minimal: {{action: enforce}}\n  image-runs-as-root: {{action: enforce}}\nimageContent:\n  inspectAtAdmission: true\nregistries:\n  \"{}\": {{insecure: true}}\n",
        reg.host
    );
    let s = serve(keys_dir.path(), &yaml);
    let judged = |image: &str| -> Value {
        let object = pod(image);
        let first = s.post("/validate", &review(object.clone()));
        assert_eq!(first["allowed"], false, "{first}");
        let m = message(&first);
        assert!(
            m.contains("not inspected yet: inspection started") && m.contains(image),
            "{m}"
        );
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let r = s.post("/validate", &review(object.clone()));
            if !message(&r).contains("not inspected yet") {
                return r;
            }
            assert!(Instant::now() < until, "inspection never finished: {r}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let bb = judged(&format!("{}/c/busybox:1", reg.host));
    assert_eq!(bb["allowed"], false, "{bb}");
    let m = message(&bb);
    assert!(
        m.contains("image-not-minimal") && m.contains("/bin/busybox") && m.contains("/bin/sh"),
        "{m}"
    );
    let app = judged(&format!("{}/c/app:1", reg.host));
    assert_eq!(app["allowed"], true, "{app}");
    let root = judged(&format!("{}/c/root:1", reg.host));
    assert_eq!(root["allowed"], false, "{root}");
    let m = message(&root);
    assert!(
        m.contains("image-runs-as-root") && !m.contains("image-not-minimal"),
        "{m}"
    );
    let mut nonroot = pod(&format!("{}/c/root:1", reg.host));
    nonroot["spec"]["securityContext"] = json!({"runAsUser": 1000});
    let r = s.post("/validate", &review(nonroot));
    assert_eq!(r["allowed"], true, "a pod running as 1000: {r}");
}

/// Runs `palisade ARGS` in `dir` (signing keys sealed with a test password).
fn cli(dir: &Path, args: &[&str]) -> common::Out {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("PALISADE_PASSWORD", "release-secret")
        .current_dir(dir)
        .output()
        .unwrap();
    common::Out::lossy(out)
}

/// Posts `object` for `namespace` until its image inspection has finished;
/// the last response.
fn judged_in(s: &Served, namespace: &str, object: &Value) -> Value {
    let mut r = review(object.clone());
    r["request"]["namespace"] = json!(namespace);
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let resp = s.post("/validate", &r);
        if !message(&resp).contains("not inspected yet") {
            return resp;
        }
        assert!(Instant::now() < until, "inspection never finished: {resp}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Palisade ships as what it demands: its own image, packed as
/// `packaging/build-image.sh` packs it (`packaging/oci_layout.py`, with
/// `packaging/sbom.py`'s CycloneDX SBOM beside it) and pushed with skopeo to
/// docker-registry on 127.0.0.1, is signed with `palisade image sign` and
/// attested with that SBOM by `palisade image attest --type
/// https://cyclonedx.org/bom` (Sigstore bundle referrers, cosign 3's
/// default). `palisade image inspect` reports it minimal and non-root. A
/// `palisade serve` whose policy requires both attestors and enforces the
/// image content rules denies the webhook Deployment of `palisade install
/// --print --image REF` while the SBOM attestation is missing, naming the
/// attestor, and admits it once it is there.
///
/// The binary packed is the `palisade` this test runs (a debug build,
/// dynamically linked), stripped as the release build is, not the static
/// release build of build-image.sh: that build takes far longer than a CI run
/// allows on two cores, and nothing here runs the image; what is checked
/// (layout, digest, signatures, SBOM, content rules, admission) is the same
/// for either binary. build-image.sh itself refuses a dynamically linked
/// binary, so it is not called; its two packing steps are.
///
/// The serving instance's own namespace is `palisade-gate`: a webhook never
/// judges its own namespace, so this is the instance guarding the cluster
/// into which `palisade-system` is installed.
#[test]
fn palisade_own_image_signed_and_sbom_attested_is_admitted_by_its_own_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let binary = d.join("palisade");
    std::fs::copy(env!("CARGO_BIN_EXE_palisade"), &binary).unwrap();
    let o = Command::new("strip").arg(&binary).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let ca = Path::new("/etc/ssl/certs/ca-certificates.crt");
    let digest = common::oci::pack(&binary, ca, &d.join("oci"), &epoch);
    std::fs::write(d.join("oci.sbom.cdx.json"), common::oci::sbom(&epoch)).unwrap();
    let reg = TestRegistry::plain();
    reg.push_layout(&d.join("oci"), "0.1.0", "palisade/palisade:0.1.0", None);
    let image = format!("{}/palisade/palisade:0.1.0@{digest}", reg.host);
    let insecure = ["--insecure-registry", reg.host.as_str()];

    // What `palisade image inspect` finds in it.
    let o = cli(
        d,
        &[&["image", "inspect", &image, "-f", "json"][..], &insecure].concat(),
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let found = &o.json()["images"][0];
    assert_eq!(found["digest"], json!(digest), "{found}");
    assert_eq!(found["minimal"], true, "{found}");
    assert_eq!(found["runsAsRoot"], false, "{found}");
    assert_eq!(found["user"], "65532", "{found}");
    for k in ["shells", "packageManagers", "setuid"] {
        assert_eq!(found[k], json!([]), "{k}: {found}");
    }

    // Signed by the release key; the SBOM attestor has not vouched yet.
    for n in ["release", "sbom"] {
        let o = cli(d, &["image", "keygen", "--output-key-prefix", n]);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    let sign = cli(
        d,
        &[
            &["image", "sign", &image, "--key", "release.key"][..],
            &insecure,
        ]
        .concat(),
    );
    assert_eq!(sign.code, 0, "{}", sign.stderr);

    let install = cli(d, &["install", "--print", "--image", &image]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    let deployment = install.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "Deployment" && i["metadata"]["name"] == "palisade")
        .cloned()
        .unwrap();
    let ns = deployment["metadata"]["namespace"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(ns, "palisade-system");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        json!(image)
    );

    let yaml = format!(
        "webhook:\n  namespace: palisade-gate\n  mutate: false\n\
         rules:\n  image-signature-missing: {{action: enforce}}\n  image-attestation-missing: {{action: enforce}}\n  \
         image-verification-failed: {{action: enforce}}\n  image-not-minimal: {{action: enforce}}\n  \
         image-runs-as-root: {{action: enforce}}\n\
         imageContent:\n  inspectAtAdmission: true\n\
         images:\n- name: palisade\n  match: [\"{host}/palisade/*\"]\n  require: all\n  attestors:\n  \
         - name: release\n    key: release.pub\n  - name: sbom\n    key: sbom.pub\n    attestation:\n      \
         predicateType: https://cyclonedx.org/bom\n\
         registries:\n  \"{host}\": {{insecure: true}}\n",
        host = reg.host
    );
    let keys_dir = tempfile::tempdir().unwrap();
    keys(keys_dir.path());
    let pubs = [
        std::fs::read(d.join("release.pub")).unwrap(),
        std::fs::read(d.join("sbom.pub")).unwrap(),
    ];
    let files: [(&str, &[u8]); 2] = [("release.pub", &pubs[0]), ("sbom.pub", &pubs[1])];

    let s = serve_with(keys_dir.path(), &yaml, &files, &[]);
    let r = judged_in(&s, &ns, &deployment);
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    for want in [
        image.as_str(),
        "image policy `palisade`",
        "sbom (",
        "[image-attestation-missing]",
    ] {
        assert!(m.contains(want), "{want:?} not in {m}");
    }
    assert!(!m.contains("release ("), "the signature passed: {m}");
    assert!(
        !m.contains("image-not-minimal") && !m.contains("image-runs-as-root"),
        "{m}"
    );
    drop(s);

    let attest = cli(
        d,
        &[
            &[
                "image",
                "attest",
                &image,
                "--key",
                "sbom.key",
                "--predicate",
                "oci.sbom.cdx.json",
                "--type",
                "https://cyclonedx.org/bom",
            ][..],
            &insecure,
        ]
        .concat(),
    );
    assert_eq!(attest.code, 0, "{}", attest.stderr);
    let s = serve_with(keys_dir.path(), &yaml, &files, &[]);
    let r = judged_in(&s, &ns, &deployment);
    assert_eq!(r["allowed"], true, "{r}");
}
