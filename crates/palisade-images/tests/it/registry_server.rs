//! A real registry for tests: Debian's `docker-registry` (distribution 2.8)
//! on 127.0.0.1 at a free port, plain HTTP or TLS with htpasswd basic auth,
//! storage in a temp dir; stopped when dropped.
// Each test binary that includes this file uses a part of it.
#![allow(dead_code)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry.
pub struct TestRegistry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The CA (self-signed server certificate) PEM, for TLS registries.
    pub ca_pem: Option<Vec<u8>>,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

impl TestRegistry {
    /// A plain-HTTP registry.
    pub fn plain() -> TestRegistry {
        Self::start(None)
    }

    /// A TLS registry requiring `user`/`password` (basic auth, htpasswd bcrypt).
    pub fn tls_with_auth(user: &str, password: &str) -> TestRegistry {
        Self::start(Some((user, password)))
    }

    fn start(auth: Option<(&str, &str)>) -> TestRegistry {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let storage = dir.path().join("storage");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            storage.display()
        );
        let mut ca_pem = None;
        if let Some((user, password)) = auth {
            let cert =
                rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
                    .expect("self-signed certificate");
            let cert_pem = cert.cert.pem();
            write(dir.path(), "cert.pem", cert_pem.as_bytes());
            write(
                dir.path(),
                "key.pem",
                cert.signing_key.serialize_pem().as_bytes(),
            );
            ca_pem = Some(cert_pem.into_bytes());
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (Debian apache2-utils; .ci/run installs it)");
            assert!(out.status.success(), "htpasswd failed");
            write(dir.path(), "htpasswd", &out.stdout);
            config.push_str(&format!(
                "  tls:\n    certificate: {0}/cert.pem\n    key: {0}/key.pem\nauth:\n  htpasswd:\n    realm: palisade-test\n    path: {0}/htpasswd\n",
                dir.path().display()
            ));
        }
        let config_path = write(dir.path(), "config.yml", config.as_bytes());
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (Debian package docker-registry; .ci/run installs it)");
        let reg = TestRegistry {
            child,
            host,
            ca_pem,
            _dir: dir,
        };
        reg.wait_ready();
        reg
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if TcpStream::connect(&self.host).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not listen on {} within 20 s",
            self.host
        );
    }

    /// Copies an OCI layout image (`dir:tag`) to `repo:tag` here with skopeo.
    pub fn push_layout(&self, layout: &Path, tag: &str, dest: &str, creds: Option<&str>) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if let Some(c) = creds {
            cmd.args(["--dest-creds", c]);
        }
        cmd.arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{dest}", self.host));
        let out = cmd
            .output()
            .expect("skopeo (Debian package skopeo; .ci/run installs it)");
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).expect("create file");
    f.write_all(data).expect("write file");
    p
}
