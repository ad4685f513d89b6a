//! Registry credentials: the `auths` of a Docker `config.json` (a file
//! given with `--registry-config`, or the `.dockerconfigjson` of a pod's
//! `imagePullSecrets`), and credentials given for the duration of one
//! request (the pod's own pull secrets at admission), which
//! [`Registry`](crate::Registry) prefers to its configured ones.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// Host (`host[:port]`) -> (user, password).
pub type Credentials = HashMap<String, (String, String)>;

/// Credentials looked up per registry host while one request is verified.
pub trait CredentialSource: Send + Sync {
    /// The user and password for `host` (`host[:port]`), if this source has them.
    fn credentials(&self, host: &str) -> Option<(String, String)>;
}

impl CredentialSource for Credentials {
    fn credentials(&self, host: &str) -> Option<(String, String)> {
        self.get(host).cloned()
    }
}

tokio::task_local! {
    static REQUEST: Arc<dyn CredentialSource>;
}

/// Runs `f` with `source` as the credentials of this request: the
/// registry calls made inside `f` (in this task) ask it first.
pub async fn with_credentials<F: Future>(source: Arc<dyn CredentialSource>, f: F) -> F::Output {
    REQUEST.scope(source, f).await
}

/// The credentials of the running request for `host`, if any.
pub(crate) fn request_credentials(host: &str) -> Option<(String, String)> {
    REQUEST.try_with(|s| s.credentials(host)).ok().flatten()
}

/// The `auths` of a Docker `config.json` (`auth` as base64 `user:password`,
/// or `username` and `password`); host keys lose their scheme and trailing
/// slash. Errors name the entry, never its value.
pub fn parse_docker_config(text: &str) -> Result<Credentials, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let mut out = Credentials::new();
    let Some(auths) = v.get("auths").and_then(|a| a.as_object()) else {
        return Ok(out);
    };
    for (host, entry) in auths {
        let s = |k: &str| entry.get(k).and_then(|x| x.as_str());
        let (user, pass) = match (s("username"), s("password"), s("auth")) {
            (Some(u), Some(p), _) => (u.to_string(), p.to_string()),
            (_, _, Some(a)) => {
                let raw = B64
                    .decode(a)
                    .map_err(|_| format!("auths.{host}.auth is not base64"))?;
                let text = String::from_utf8(raw)
                    .map_err(|_| format!("auths.{host}.auth is not UTF-8"))?;
                match text.split_once(':') {
                    Some((u, p)) => (u.to_string(), p.to_string()),
                    None => return Err(format!("auths.{host}.auth is not user:password")),
                }
            }
            _ => continue,
        };
        let host = host
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        out.insert(host.to_string(), (user, pass));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_auths() {
        let c = parse_docker_config(
            r#"{"auths": {"https://r.example/": {"auth": "dTpw"}, "q:5000": {"username": "a", "password": "b"}, "x": {}}}"#,
        )
        .unwrap();
        assert_eq!(c["r.example"], ("u".into(), "p".into()));
        assert_eq!(c["q:5000"], ("a".into(), "b".into()));
        assert!(!c.contains_key("x"));
        let e = parse_docker_config(r#"{"auths": {"h": {"auth": "c2VjcmV0"}}}"#).unwrap_err();
        assert!(e.contains("auths.h.auth") && !e.contains("secret"), "{e}");
    }

    #[test]
    fn request_credentials_are_scoped_to_the_request() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let src: Arc<dyn CredentialSource> = Arc::new(Credentials::from([(
            "h".to_string(),
            ("u".to_string(), "p".to_string()),
        )]));
        let inside = rt.block_on(with_credentials(src, async { request_credentials("h") }));
        assert_eq!(inside, Some(("u".into(), "p".into())));
        assert_eq!(request_credentials("h"), None);
    }
}
