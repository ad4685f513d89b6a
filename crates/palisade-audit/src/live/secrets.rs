//! The pods' pull secrets, read from the API server for the webhook's image
//! verification (`serve --cluster`): each Secret and ServiceAccount by name
//! with `get` (least privilege: no list or watch of Secrets), answers kept
//! for a short time in a bounded cache, missing and unusable ones
//! included, so a burst of pods does not become a burst of requests.
//!
//! Reasons name what is wrong (missing, forbidden, type, key), never a
//! value: errors of the client are reduced to their status, since a
//! decoding error can quote the body.

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::{Api, Client};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Default time an answer is kept.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
/// Default bound on the answers kept (of each kind).
pub const DEFAULT_ENTRIES: usize = 1024;

type Answers<T> = Mutex<HashMap<(String, String), (Instant, Result<T, String>)>>;

/// Reads Secrets and ServiceAccounts by name, with a short-lived cache.
pub struct SecretReader {
    client: Client,
    ttl: Duration,
    max: usize,
    secrets: Answers<String>,
    accounts: Answers<Vec<String>>,
}

impl SecretReader {
    /// A reader through `client`, keeping answers `ttl`, at most `max` of each kind.
    pub fn new(client: Client, ttl: Duration, max: usize) -> SecretReader {
        SecretReader {
            client,
            ttl,
            max: max.max(1),
            secrets: Mutex::default(),
            accounts: Mutex::default(),
        }
    }

    /// The Docker config JSON (`{"auths": ...}`) of Secret `name` in
    /// `namespace`, or why it cannot be used.
    pub async fn docker_config(&self, namespace: &str, name: &str) -> Result<String, String> {
        let key = (namespace.to_string(), name.to_string());
        if let Some(v) = self.cached(&self.secrets, &key) {
            return v;
        }
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let r = match api.get_opt(name).await {
            Ok(Some(s)) => docker_config_of(&s),
            Ok(None) => Err("Secret not found".to_string()),
            Err(e) => Err(reason(&e, "Secret")),
        };
        self.keep(&self.secrets, key, r.clone());
        r
    }

    /// The `imagePullSecrets` names of ServiceAccount `name` in `namespace`.
    pub async fn service_account_secrets(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<String>, String> {
        let key = (namespace.to_string(), name.to_string());
        if let Some(v) = self.cached(&self.accounts, &key) {
            return v;
        }
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        let r = match api.get_opt(name).await {
            Ok(Some(sa)) => Ok(sa
                .image_pull_secrets
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.name)
                .filter(|n| !n.is_empty())
                .collect()),
            // a pod of an account that does not exist yet: no secrets of it
            Ok(None) => Ok(Vec::new()),
            Err(e) => Err(reason(&e, "ServiceAccount")),
        };
        self.keep(&self.accounts, key, r.clone());
        r
    }

    fn cached<T: Clone>(
        &self,
        answers: &Answers<T>,
        key: &(String, String),
    ) -> Option<Result<T, String>> {
        let m = answers.lock().ok()?;
        let (at, v) = m.get(key)?;
        (at.elapsed() < self.ttl).then(|| v.clone())
    }

    fn keep<T>(&self, answers: &Answers<T>, key: (String, String), value: Result<T, String>) {
        let Ok(mut m) = answers.lock() else { return };
        if m.len() >= self.max && !m.contains_key(&key) {
            let ttl = self.ttl;
            m.retain(|_, (at, _)| at.elapsed() < ttl);
            if m.len() >= self.max {
                let oldest = m
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    m.remove(&k);
                }
            }
        }
        m.insert(key, (Instant::now(), value));
    }
}

/// Why a request failed, from its status alone.
fn reason(e: &kube::Error, what: &str) -> String {
    match e {
        kube::Error::Api(s) if s.code == 403 => {
            format!("the webhook may not get this {what} (403 Forbidden: RBAC)")
        }
        kube::Error::Api(s) => format!("the API server answered {} {}", s.code, s.reason),
        _ => format!("cannot read the {what} from the API server"),
    }
}

/// The Docker config of a pull secret, by its type.
fn docker_config_of(s: &Secret) -> Result<String, String> {
    let kind = s.type_.as_deref().unwrap_or("Opaque");
    let (key, legacy) = match kind {
        "kubernetes.io/dockerconfigjson" => (".dockerconfigjson", false),
        "kubernetes.io/dockercfg" => (".dockercfg", true),
        other => {
            return Err(format!(
                "Secret is of type {other}, not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg"
            ))
        }
    };
    let bytes = s
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
        .ok_or_else(|| format!("Secret of type {kind} has no {key} key"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{key} is not UTF-8"))?;
    if !legacy {
        return Ok(text);
    }
    // `.dockercfg` is the `auths` map alone
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| format!("{key} is not JSON"))?;
    Ok(serde_json::json!({ "auths": v }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    fn secret(kind: &str, key: &str, value: &str) -> Secret {
        Secret {
            type_: Some(kind.into()),
            data: Some([(key.to_string(), ByteString(value.as_bytes().to_vec()))].into()),
            ..Default::default()
        }
    }

    #[test]
    fn both_pull_secret_types_and_clear_reasons() {
        let j = r#"{"auths":{"r.example":{"auth":"dTpw"}}}"#;
        let s = secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson", j);
        assert_eq!(docker_config_of(&s).unwrap(), j);
        let s = secret(
            "kubernetes.io/dockercfg",
            ".dockercfg",
            r#"{"r.example":{"auth":"dTpw"}}"#,
        );
        let v: serde_json::Value = serde_json::from_str(&docker_config_of(&s).unwrap()).unwrap();
        assert_eq!(v["auths"]["r.example"]["auth"], "dTpw");
        let s = secret("Opaque", "password", "hunter2");
        let e = docker_config_of(&s).unwrap_err();
        assert!(e.contains("type Opaque") && !e.contains("hunter2"), "{e}");
        let s = secret("kubernetes.io/dockercfg", ".dockercfg", "{hunter2");
        let e = docker_config_of(&s).unwrap_err();
        assert!(e.contains("not JSON") && !e.contains("hunter2"), "{e}");
        let s = secret("kubernetes.io/dockerconfigjson", "other", "x");
        assert!(docker_config_of(&s)
            .unwrap_err()
            .contains("no .dockerconfigjson key"));
    }
}
