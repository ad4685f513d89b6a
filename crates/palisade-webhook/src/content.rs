//! Image content at admission (`imageContent.inspectAtAdmission: true`):
//! the images of the object are looked up by digest in a cache of
//! inspection results, which `image-not-minimal`, `image-runs-as-root` and
//! `image-stale` then read from the context.
//!
//! An inspection reads every layer of an image, far more than an admission
//! may wait for, so it never runs within a request: the first admission of
//! an uninspected digest takes the matching image policy's
//! `onRegistryError` (else `webhook.imageInspectionPending`, default deny)
//! with a message saying the inspection started, and starts it in the
//! background (a few at once, one per digest), so the next admission is
//! judged by the content. The tag-to-digest resolution is the image
//! verification's when the image was verified, else one manifest `HEAD`
//! within the request's budget (kept for `imageTagTtlSeconds`). Results and
//! resolutions live in a [`ContentState`] kept across reloads.

use crate::images::ImageAt;
use crate::settings::WebhookSettings;
use palisade_core::image_content::{ImageContent, ImageContentSettings, ImageContents};
use palisade_core::images::{ImageVerdicts, OnRegistryError};
use palisade_core::{Config, ConfigError};
use palisade_images::cache::TtlCache;
use palisade_images::inspect::{inspect, ImageSource, InspectOptions};
use palisade_images::{ImagePolicies, ImageRef, Registry};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Default of `imageContent.maxConcurrentInspections`.
pub const DEFAULT_CONCURRENT_INSPECTIONS: usize = 2;
/// Default of `imageContent.cacheTtlSeconds`: a day.
pub const DEFAULT_CONTENT_TTL_SECS: u64 = 24 * 3600;
/// How long a failed inspection's reason is kept (then it is retried).
const FAILURE_TTL: Duration = Duration::from_secs(30);

/// The caches and running inspections, shared by the engines of one
/// process (a reload keeps them while their sizes stay the same).
#[derive(Default)]
pub struct ContentState {
    shared: Mutex<Option<(Sizes, Arc<Shared>)>>,
}

impl std::fmt::Debug for ContentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentState")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Sizes {
    ttl: Duration,
    tag_ttl: Duration,
    entries: usize,
    running: usize,
}

/// Results by digest, tags by their digest, the inspections under way.
struct Shared {
    results: TtlCache<ImageContent>,
    failures: TtlCache<String>,
    tags: TtlCache<String>,
    inflight: Mutex<HashSet<String>>,
    permits: Arc<Semaphore>,
}

impl ContentState {
    fn get(&self, sizes: Sizes) -> Arc<Shared> {
        let mut slot = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some((s, shared)) if *s == sizes => shared.clone(),
            _ => {
                let shared = Arc::new(Shared {
                    results: TtlCache::new(sizes.ttl, sizes.entries),
                    failures: TtlCache::new(FAILURE_TTL, sizes.entries),
                    tags: TtlCache::new(sizes.tag_ttl, sizes.entries),
                    inflight: Mutex::new(HashSet::new()),
                    permits: Arc::new(Semaphore::new(sizes.running)),
                });
                *slot = Some((sizes, shared.clone()));
                shared
            }
        }
    }
}

/// The image content inspection of one engine.
pub struct AdmissionContent {
    registry: Arc<Registry>,
    policies: ImagePolicies,
    opts: InspectOptions,
    shared: Arc<Shared>,
    budget: Duration,
    pending: OnRegistryError,
}

/// An image whose content is not known yet at admission.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Admit it anyway (`onRegistryError: allow`).
    pub allow: bool,
    /// What to say.
    pub message: String,
}

/// What the content lookup of one request found.
#[derive(Debug, Default)]
pub struct ContentChecked {
    /// The results the rules read.
    pub contents: ImageContents,
    /// Images not inspected yet, with the answer their policy chose.
    pub pending: Vec<Pending>,
}

impl AdmissionContent {
    /// The inspection for `config`, or `None` unless
    /// `imageContent.inspectAtAdmission` is true.
    pub fn from_config(
        config: &Config,
        settings: &WebhookSettings,
        extras: &crate::images::RegistryExtras,
    ) -> Result<Option<AdmissionContent>, ConfigError> {
        let spec: ImageContentSettings = config.section("imageContent")?.unwrap_or_default();
        if !spec.inspect_at_admission {
            return Ok(None);
        }
        let mut policies = ImagePolicies::from_config(config)?;
        let reg = &mut policies.registry;
        reg.insecure.extend(extras.options.insecure.iter().cloned());
        reg.ca_pems.extend(extras.options.ca_pems.iter().cloned());
        reg.credentials.extend(extras.options.credentials.clone());
        let registry = Arc::new(Registry::new(policies.registry.clone()));
        let v = settings.verifier_options();
        let sizes = Sizes {
            ttl: Duration::from_secs(spec.cache_ttl_seconds.unwrap_or(DEFAULT_CONTENT_TTL_SECS)),
            tag_ttl: v.tag_ttl,
            entries: v.max_entries,
            running: spec
                .max_concurrent_inspections
                .unwrap_or(DEFAULT_CONCURRENT_INSPECTIONS)
                .max(1),
        };
        Ok(Some(AdmissionContent {
            registry,
            policies,
            opts: InspectOptions::default(),
            shared: extras.content.get(sizes),
            budget: settings.image_budget(),
            pending: settings.image_inspection_pending,
        }))
    }

    /// Looks up the content of each image (distinct references once),
    /// resolving tags within the request's budget and starting the
    /// inspections that are missing.
    pub async fn check(
        &self,
        images: &[ImageAt],
        verdicts: Option<&ImageVerdicts>,
    ) -> ContentChecked {
        let mut unique: Vec<&str> = images.iter().map(|i| i.image.as_str()).collect();
        unique.sort_unstable();
        unique.dedup();
        let deadline = tokio::time::Instant::now() + self.budget;
        let mut out = ContentChecked::default();
        for image in unique {
            let r = match ImageRef::parse(image) {
                Ok(r) => r,
                Err(e) => {
                    out.contents.images.insert(image.into(), Err(e.to_string()));
                    continue;
                }
            };
            let known = verdicts
                .and_then(|v| v.images.get(image))
                .and_then(|v| v.digest.clone());
            let digest = match known {
                Some(d) => Ok(d),
                None => self.resolve(&r, image, deadline).await,
            };
            let result = match digest {
                Ok(d) => self.lookup(&r, image, &d),
                Err(why) => Err(format!("cannot resolve its digest: {why}")),
            };
            match result {
                Ok(c) => {
                    out.contents.images.insert(image.into(), Ok(c));
                }
                Err(why) => {
                    out.pending.push(self.pending(&r, image, &why));
                    out.contents.images.insert(image.into(), Err(why));
                }
            }
        }
        out
    }

    /// The digest of `image`, from the cache or the registry within the budget.
    async fn resolve(
        &self,
        r: &ImageRef,
        image: &str,
        deadline: tokio::time::Instant,
    ) -> Result<String, String> {
        if let Some(d) = r.digest() {
            return Ok(d.to_string());
        }
        if let Some(d) = self.shared.tags.get(image) {
            return Ok(d);
        }
        match tokio::time::timeout_at(deadline, self.registry.resolve(r)).await {
            Ok(Ok(d)) => {
                self.shared.tags.put(image.to_string(), d.clone());
                Ok(d)
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "registry not answering within the {} ms admission budget",
                self.budget.as_millis()
            )),
        }
    }

    /// The cached result for `digest`, or why there is none (and the
    /// inspection started).
    fn lookup(&self, r: &ImageRef, image: &str, digest: &str) -> Result<ImageContent, String> {
        if let Some(mut c) = self.shared.results.get(digest) {
            c.image = image.to_string();
            return Ok(c);
        }
        let failed = self.shared.failures.get(digest);
        if let Some(why) = failed {
            return Err(format!("its inspection ({digest}) failed: {why}"));
        }
        let started = self.start(r, image, digest);
        Err(format!(
            "its content ({digest}) is not inspected yet: inspection {}; the next admission after it finishes is judged by the content",
            if started { "started" } else { "under way" }
        ))
    }

    /// Starts the inspection of `digest` in the background unless one is
    /// under way; whether this call started it.
    fn start(&self, r: &ImageRef, image: &str, digest: &str) -> bool {
        let shared = self.shared.clone();
        if !shared
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(digest.to_string())
        {
            return false;
        }
        let pinned = match r.digest() {
            Some(_) => ImageRef::parse(image),
            None => ImageRef::parse(&format!("{image}@{digest}")),
        };
        let (registry, opts) = (self.registry.clone(), self.opts.clone());
        let (image, digest) = (image.to_string(), digest.to_string());
        tokio::spawn(async move {
            let result = match pinned {
                Ok(p) => {
                    let _permit = shared.permits.clone().acquire_owned().await;
                    let src = ImageSource::Registry(p);
                    inspect(&src, &image, &registry, &opts, None)
                        .await
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(c) => shared.results.put(digest.clone(), c),
                Err(e) => {
                    tracing::warn!(image = %image, digest = %digest, error = %e, "image inspection failed");
                    shared.failures.put(digest.clone(), e);
                }
            }
            shared
                .inflight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&digest);
        });
        true
    }

    /// The answer for an image not inspected yet: its policies'
    /// `onRegistryError` (all must allow), else the webhook's setting.
    fn pending(&self, r: &ImageRef, image: &str, why: &str) -> Pending {
        let choices: Vec<OnRegistryError> = self
            .policies
            .matching(r)
            .map(|p| p.on_registry_error)
            .collect();
        let allow = if choices.is_empty() {
            self.pending == OnRegistryError::Allow
        } else {
            choices.iter().all(|c| *c == OnRegistryError::Allow)
        };
        Pending {
            allow,
            message: format!("image {image:?}: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::RegistryExtras;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn content(yaml: &str, extras: &RegistryExtras) -> Result<Option<AdmissionContent>, String> {
        let config = Config::parse(yaml, "palisade.yaml").map_err(|e| e.to_string())?;
        let settings = WebhookSettings::from_config(&config).map_err(|e| e.to_string())?;
        AdmissionContent::from_config(&config, &settings, extras).map_err(|e| e.to_string())
    }

    fn at(image: &str) -> Vec<ImageAt> {
        vec![ImageAt {
            pointer: "/spec/containers/0/image".into(),
            image: image.into(),
        }]
    }

    #[test]
    fn settings_are_validated_with_file_and_line() {
        let extras = RegistryExtras::default();
        assert!(content("rules: {}\n", &extras).unwrap().is_none());
        let e = content("imageContent:\n  inspectAtAdmision: true\n", &extras).err();
        let e = e.unwrap_or_default();
        assert!(
            e.contains("palisade.yaml") && e.contains("inspectAtAdmision"),
            "{e}"
        );
        let e = content("imageContent:\n  inspectAtAdmission: 3\n", &extras).err();
        assert!(e.unwrap_or_default().contains("palisade.yaml:2"));
        let e = content("webhook:\n  imageInspectionPending: maybe\n", &extras).err();
        assert!(e.unwrap_or_default().contains("imageInspectionPending"));
    }

    #[test]
    fn pending_answers_follow_policy_then_webhook_setting_and_inspections_are_deduplicated() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let extras = RegistryExtras::default();
            // nothing listens on port 1: the inspection fails at once
            let yaml = "imageContent: {inspectAtAdmission: true}\nwebhook: {imageInspectionPending: allow}\nimages:\n- name: strict\n  match: [\"127.0.0.1:1/strict/*\"]\n  attestors: [{name: a, key: a.pub}]\nregistries:\n  \"127.0.0.1:1\": {insecure: true}\n";
            let dir = tempfile::tempdir().unwrap();
            let k = ed25519_pub();
            std::fs::write(dir.path().join("a.pub"), k).unwrap();
            let config = Config::parse(yaml, &dir.path().join("palisade.yaml").display().to_string());
            let config = config.unwrap();
            let settings = WebhookSettings::from_config(&config).unwrap();
            let c = AdmissionContent::from_config(&config, &settings, &extras)
                .unwrap()
                .unwrap();
            let free = format!("127.0.0.1:1/free/x@{DIGEST}");
            let got = c.check(&at(&free), None).await;
            assert!(got.pending[0].allow, "no policy: the webhook setting");
            assert!(got.pending[0].message.contains("inspection started"));
            let again = c.check(&at(&free), None).await;
            // (the runtime has not run the started inspection yet)
            assert!(
                again.pending[0].message.contains("inspection under way"),
                "one inspection per digest: {:?}",
                again.pending
            );
            let strict = format!("127.0.0.1:1/strict/x@{DIGEST}");
            let got = c.check(&at(&strict), None).await;
            assert!(!got.pending[0].allow, "the policy's onRegistryError: deny");
            let until = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let got = c.check(&at(&free), None).await;
                let m = &got.pending[0].message;
                if m.contains("failed") {
                    assert!(got.contents.images[&free].is_err());
                    break;
                }
                assert!(std::time::Instant::now() < until, "{m}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }

    fn ed25519_pub() -> String {
        palisade_images::SigningKey::generate()
            .public_key_pem()
            .unwrap()
    }
}
