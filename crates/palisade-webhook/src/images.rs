//! Signed images at admission: every image of every container list of the
//! object (pods, workload templates, the pod templates of custom resources)
//! is verified against the config's `images:` policies before the
//! evaluation, several images of one object in parallel, all the registry
//! work of one request within `imageVerificationTimeoutMs`.
//!
//! The registry work runs on the async threads (non-blocking I/O, no
//! evaluation slot held); the verdicts then go into the context the image
//! rules read (`image-signature-missing`, `image-attestation-missing`,
//! `image-verification-failed`). Verdicts are cached by digest and tags by
//! their digest ([`palisade_images::Verifier`]), so a reference `/mutate`
//! pinned to its verified digest is decided by `/validate` without asking
//! the registry again.

use crate::decide::{metadata_only_pod_update, Endpoint};
use crate::engine::Engine;
use crate::metrics::{ImageMetrics, Metrics};
use crate::review::Review;
use crate::settings::WebhookSettings;
use futures_util::future::BoxFuture;
use palisade_core::images::{ImageVerdict, ImageVerdicts, OnRegistryError, PolicyVerdict};
use palisade_core::workload::PodSpec;
use palisade_core::{Config, ConfigError, Field, Operation, PodTemplates, Resource, ResourceId};
use palisade_images::credentials::{parse_docker_config, with_credentials, Credentials};
use palisade_images::{ImagePolicies, ImageRef, Registry, RegistryOptions, Verifier};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// What the server gives every engine beyond the configuration file, kept
/// across reloads: registry credentials from a Docker `config.json`
/// (`serve --registry-config`), where the pods' `imagePullSecrets` are read,
/// and the cluster's state (`serve --cluster`).
#[derive(Clone, Default)]
pub struct RegistryExtras {
    /// Added to the config's `registries:`.
    pub options: RegistryOptions,
    /// The pods' pull secrets (from the cluster); `None`: not read.
    pub pull_secrets: Option<Arc<dyn PullSecrets>>,
    /// Image content results and inspections, kept across reloads.
    pub content: Arc<crate::content::ContentState>,
    /// The cluster's Namespaces and RBAC objects (`serve --cluster`).
    pub cluster: Option<Arc<dyn crate::cluster::ClusterView>>,
}

impl std::fmt::Debug for RegistryExtras {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryExtras")
            .field("insecure", &self.options.insecure)
            .field("credentials_for", &self.options.credentials.keys())
            .field("pull_secrets", &self.pull_secrets.is_some())
            .field("cluster", &self.cluster.is_some())
            .finish()
    }
}

/// Where the pods' `imagePullSecrets` are read at admission: the cluster
/// (the API server's Secrets and ServiceAccounts, each read by name with
/// `get`: no list or watch of Secrets). Only the pod's own namespace is
/// asked, as the kubelet reads them. Reasons name the secret and what is
/// wrong with it, never its content.
pub trait PullSecrets: Send + Sync {
    /// The Docker config (`{"auths": {...}}` JSON) of Secret `name` in
    /// `namespace`, or why it cannot be used: missing, forbidden, of
    /// another type than `kubernetes.io/dockerconfigjson` or
    /// `kubernetes.io/dockercfg`, without its key.
    fn docker_config<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<String, String>>;

    /// The `imagePullSecrets` names of ServiceAccount `name` in
    /// `namespace` (none when it has none), or why they cannot be read.
    fn service_account_secrets<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, String>>;
}

/// Credentials of a pod's pull secrets, and what went wrong reading them.
#[derive(Default)]
struct PullCredentials {
    credentials: Credentials,
    /// One line per unusable secret (`pull secret shop/x: not found`).
    problems: Vec<String>,
}

/// The credentials of the pod's pull secrets, then of its service
/// account's (the first secret naming a host wins, as the kubelet tries
/// them in order). A secret that is missing or does not parse is a
/// problem naming it, never its content.
async fn pull_credentials(
    source: &dyn PullSecrets,
    namespace: &str,
    pods: &[(Vec<String>, String)],
) -> PullCredentials {
    let mut out = PullCredentials::default();
    let mut names: Vec<String> = Vec::new();
    let mut accounts: Vec<&str> = Vec::new();
    for (secrets, account) in pods {
        for n in secrets {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        if !accounts.contains(&account.as_str()) {
            accounts.push(account);
        }
    }
    let listed = futures_util::future::join_all(
        accounts
            .iter()
            .map(|a| source.service_account_secrets(namespace, a)),
    )
    .await;
    for (account, r) in accounts.iter().zip(listed) {
        match r {
            Ok(list) => {
                for n in list {
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
            }
            Err(why) => out
                .problems
                .push(format!("service account {namespace}/{account}: {why}")),
        }
    }
    let fetched =
        futures_util::future::join_all(names.iter().map(|n| source.docker_config(namespace, n)))
            .await;
    for (name, r) in names.iter().zip(fetched) {
        let parsed = r.and_then(|text| parse_docker_config(&text));
        match parsed {
            Ok(c) => {
                for (host, up) in c {
                    out.credentials.entry(host).or_insert(up);
                }
            }
            Err(why) => {
                tracing::warn!(namespace, secret = %name, reason = %why, "unusable pull secret");
                out.problems
                    .push(format!("pull secret {namespace}/{name}: {why}"));
            }
        }
    }
    out
}

/// The `imagePullSecrets` names and the service account of each pod spec
/// of `res`.
fn pull_secret_sources(res: &Resource, templates: &PodTemplates) -> Vec<(Vec<String>, String)> {
    let pods = match PodSpec::of(res) {
        Some(p) => vec![p],
        None => templates.pods_of(res),
    };
    let mut out = Vec::new();
    for pod in &pods {
        let mut names = Vec::new();
        if let Some(Value::Array(list)) = pod.spec.field("imagePullSecrets") {
            for n in list
                .iter()
                .filter_map(|s| s.field("name").and_then(Value::as_str))
            {
                if !names.iter().any(|x| x == n) {
                    names.push(n.to_string());
                }
            }
        }
        let account = ["serviceAccountName", "serviceAccount"]
            .iter()
            .find_map(|k| pod.spec.field(k).and_then(Value::as_str))
            .filter(|a| !a.is_empty())
            .unwrap_or("default");
        out.push((names, account.to_string()));
    }
    out
}

/// Adds the pull secret problems to the verdicts the registry could not
/// give (an authentication failure is explained by a missing secret).
fn explain(verdicts: &mut ImageVerdicts, problems: &[String]) {
    if problems.is_empty() {
        return;
    }
    let note = format!(" (pull secrets: {})", problems.join("; "));
    for v in verdicts.images.values_mut() {
        if let Some(e) = &mut v.error {
            e.push_str(&note);
        }
        for p in &mut v.policies {
            if let Some(e) = &mut p.registry_error {
                e.push_str(&note);
            }
        }
    }
}

/// The result label of a verdict in metrics.
fn result_label(v: &ImageVerdict) -> &'static str {
    if v.policies.iter().any(|p| p.registry_error.is_some()) {
        "registry_error"
    } else if v.error.is_some() {
        "invalid"
    } else if v.unmatched_denied {
        "unmatched_denied"
    } else if v.policies.is_empty() {
        "unmatched"
    } else if v.passed() {
        "passed"
    } else {
        "failed"
    }
}

/// One container image of the object: where it is and what it says.
#[derive(Debug, Clone)]
pub struct ImageAt {
    /// JSON pointer to the `image` field.
    pub pointer: String,
    /// The reference as written.
    pub image: String,
}

/// The verifier of one engine (rebuilt with it on reload).
pub struct AdmissionImages {
    verifier: Verifier,
    budget: Duration,
    pull_secrets: Option<Arc<dyn PullSecrets>>,
}

impl AdmissionImages {
    /// A verifier for the config's image policies, or `None` when it has
    /// none and `imagesUnmatched` is `allow` (nothing to check).
    pub fn from_config(
        config: &Config,
        settings: &WebhookSettings,
        extras: &RegistryExtras,
    ) -> Result<Option<AdmissionImages>, ConfigError> {
        let mut policies = ImagePolicies::from_config(config)?;
        if policies.policies.is_empty()
            && policies.unmatched == palisade_core::images::Unmatched::Allow
        {
            return Ok(None);
        }
        let budget = settings.image_budget();
        let extra = &extras.options;
        let reg = &mut policies.registry;
        reg.insecure.extend(extra.insecure.iter().cloned());
        reg.ca_pems.extend(extra.ca_pems.iter().cloned());
        reg.credentials.extend(extra.credentials.clone());
        reg.io_timeout = Some(reg.io_timeout.unwrap_or(budget).min(budget));
        let registry = Registry::new(policies.registry.clone());
        let verifier = Verifier::new(Arc::new(policies), registry, settings.verifier_options());
        Ok(Some(AdmissionImages {
            verifier,
            budget,
            pull_secrets: extras.pull_secrets.clone(),
        }))
    }

    /// Whether some policy pins verified digests (`mutateDigest: true`).
    pub fn pins_any(&self) -> bool {
        self.policies().policies.iter().any(|p| p.mutate_digest)
    }

    /// The request budget.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The policies.
    pub fn policies(&self) -> &ImagePolicies {
        self.verifier.policies()
    }

    /// Verifies `images` in parallel, each bounded by what is left of the
    /// request's budget: an image not decided in time fails with a
    /// registry error, which its policies' `onRegistryError` decides.
    pub async fn verify(&self, images: &[ImageAt], metrics: &ImageMetrics) -> ImageVerdicts {
        let mut unique: Vec<&str> = images.iter().map(|i| i.image.as_str()).collect();
        unique.sort_unstable();
        unique.dedup();
        let deadline = tokio::time::Instant::now() + self.budget;
        let each = unique.iter().map(|image| async move {
            let start = std::time::Instant::now();
            let (v, cached) =
                match tokio::time::timeout_at(deadline, self.verifier.verify_traced(image)).await {
                    Ok(v) => v,
                    Err(_) => (self.out_of_time(image), None),
                };
            metrics.verification(result_label(&v), cached, start.elapsed().as_secs_f64());
            v
        });
        let verdicts = futures_util::future::join_all(each).await;
        ImageVerdicts {
            images: verdicts
                .into_iter()
                .map(|v| (v.image.clone(), v))
                .collect::<HashMap<_, _>>(),
        }
    }

    /// The verdict on an image whose verification ran out of the budget.
    fn out_of_time(&self, image: &str) -> ImageVerdict {
        let why = format!(
            "registry work not finished within the {} ms admission budget",
            self.budget.as_millis()
        );
        let mut v = ImageVerdict {
            image: image.to_string(),
            digest: None,
            policies: Vec::new(),
            error: None,
            unmatched_denied: false,
        };
        match ImageRef::parse(image) {
            Err(e) => v.error = Some(e.to_string()),
            Ok(r) => {
                v.policies = self
                    .policies()
                    .matching(&r)
                    .map(|p| PolicyVerdict {
                        name: p.name.clone(),
                        passed: p.on_registry_error == OnRegistryError::Allow,
                        require: p.require.to_string(),
                        registry_error: Some(why.clone()),
                        attestors: Vec::new(),
                    })
                    .collect();
            }
        }
        v
    }

    /// The JSON patch operations pinning each verified image to its digest
    /// (`repo:tag` becomes `repo:tag@sha256:...`): only images that passed,
    /// matched by a policy with `mutateDigest: true`, and not pinned yet.
    pub fn pins(&self, images: &[ImageAt], verdicts: &ImageVerdicts) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for at in images {
            let Some(v) = verdicts.images.get(&at.image) else {
                continue;
            };
            let (Some(digest), true) = (&v.digest, v.passed()) else {
                continue;
            };
            let Ok(r) = ImageRef::parse(&at.image) else {
                continue;
            };
            if r.digest().is_some() || !self.policies().matching(&r).any(|p| p.mutate_digest) {
                continue;
            }
            out.push((at.pointer.clone(), format!("{}@{digest}", at.image)));
        }
        out
    }
}

/// The images of one request and their verdicts.
pub struct Checked {
    /// Where each image is.
    pub images: Vec<ImageAt>,
    /// The verdict of each distinct reference (when the engine verifies).
    pub verdicts: Option<ImageVerdicts>,
    /// Their content (`imageContent.inspectAtAdmission`).
    pub content: Option<crate::content::ContentChecked>,
}

/// Verifies the images of the request's object, when the engine has image
/// policies and the request can add an image: not in an excluded
/// namespace, not a DELETE or CONNECT, not a pod update leaving its spec
/// alone (the evaluation keeps no finding of those), and on `/mutate` only
/// when some policy pins digests.
pub async fn check_review(
    engine: &Engine,
    review: &mut Review,
    endpoint: Endpoint,
    metrics: &Metrics,
) -> Option<Checked> {
    let verify = engine.images.as_ref();
    let content = engine
        .content
        .as_ref()
        .filter(|_| endpoint == Endpoint::Validate);
    if endpoint == Endpoint::Mutate && !verify.is_some_and(AdmissionImages::pins_any) {
        return None;
    }
    if (verify.is_none() && content.is_none())
        || !matches!(review.info.operation, Operation::Create | Operation::Update)
        || (!review.namespace.is_empty()
            && engine
                .settings
                .excluded(&engine.own_namespace, &review.namespace))
    {
        return None;
    }
    let id = ResourceId::of(review.subject.as_ref()?)?;
    let res = Resource {
        id,
        value: review.subject.take()?,
        source: None,
        positions: None,
    };
    let templates = engine.policies.pod_templates();
    let images = if metadata_only_pod_update(review, &res) {
        Vec::new()
    } else {
        images_at(&res, templates)
    };
    let sources = match verify.and_then(|v| v.pull_secrets.as_ref()) {
        Some(src) if !images.is_empty() => {
            Some((src.clone(), pull_secret_sources(&res, templates)))
        }
        _ => None,
    };
    // the namespace the API server names, not the object's claim
    let ns = match review.namespace.as_str() {
        "" => res.id.namespace.clone().unwrap_or_default(),
        n => n.to_string(),
    };
    review.subject = Some(res.value);
    if images.is_empty() {
        return None;
    }
    let pulled = match sources {
        Some((src, pods)) => pull_credentials(src.as_ref(), &ns, &pods).await,
        None => PullCredentials::default(),
    };
    let m = metrics.images();
    let verdicts = match verify {
        None => None,
        Some(imgs) if pulled.credentials.is_empty() => Some(imgs.verify(&images, m).await),
        Some(imgs) => {
            Some(with_credentials(Arc::new(pulled.credentials), imgs.verify(&images, m)).await)
        }
    };
    let verdicts = verdicts.map(|mut v| {
        explain(&mut v, &pulled.problems);
        v
    });
    let content = match content {
        Some(c) => Some(c.check(&images, verdicts.as_ref()).await),
        None => None,
    };
    Some(Checked {
        images,
        verdicts,
        content,
    })
}

/// Every container image of `res` (every container list of its pod spec,
/// or of each pod template of a custom resource `templates` knows).
pub fn images_at(res: &Resource, templates: &PodTemplates) -> Vec<ImageAt> {
    let pods = match PodSpec::of(res) {
        Some(p) => vec![p],
        None => templates.pods_of(res),
    };
    let mut out = Vec::new();
    for pod in &pods {
        for c in pod.containers() {
            if let Some(Value::String(s)) = c.value.field("image") {
                if !s.trim().is_empty() {
                    out.push(ImageAt {
                        pointer: pointer(&c.path.key("image")),
                        image: s.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The JSON pointer (RFC 6901) of a field path.
fn pointer(path: &palisade_core::FieldPath) -> String {
    let mut s = String::new();
    for seg in path.segments() {
        s.push('/');
        match seg {
            palisade_core::Seg::Key(k) => s.push_str(&k.replace('~', "~0").replace('/', "~1")),
            palisade_core::Seg::Index(i) => s.push_str(&i.to_string()),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_container_list_of_pods_templates_and_custom_resources() {
        let templates = PodTemplates::from_config(&Config::default()).unwrap();
        let pod = Resource::from_value(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p"}, "spec": {
            "initContainers": [{"name": "i", "image": "r/i:1"}],
            "containers": [{"name": "a", "image": "r/a:1"}, {"name": "b", "image": " "}],
            "ephemeralContainers": [{"name": "e", "image": "r/e:1"}]}}))
        .unwrap();
        let got: Vec<(String, String)> = images_at(&pod, &templates)
            .into_iter()
            .map(|i| (i.pointer, i.image))
            .collect();
        assert_eq!(
            got,
            [
                ("/spec/containers/0/image".into(), "r/a:1".into()),
                ("/spec/initContainers/0/image".into(), "r/i:1".into()),
                ("/spec/ephemeralContainers/0/image".into(), "r/e:1".into()),
            ]
        );
        let cron = Resource::from_value(json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "a", "image": "r/c:1"}]}}}}}}))
        .unwrap();
        let got = images_at(&cron, &templates);
        assert_eq!(
            got[0].pointer,
            "/spec/jobTemplate/spec/template/spec/containers/0/image"
        );
        let rollout = Resource::from_value(json!({"apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout", "metadata": {"name": "r"}, "spec": {"template": {"spec": {
            "containers": [{"name": "a", "image": "r/r:1"}]}}}}))
        .unwrap();
        let got = images_at(&rollout, &templates);
        assert_eq!(got.len(), 1, "a custom resource's pod template");
        assert_eq!(got[0].pointer, "/spec/template/spec/containers/0/image");
    }
}
