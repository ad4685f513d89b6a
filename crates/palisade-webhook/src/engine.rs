//! The compiled state a request is decided with: the policy set and the
//! webhook settings, built together from one configuration and swapped as a
//! unit on reload.

use crate::content::AdmissionContent;
use crate::images::{AdmissionImages, RegistryExtras};
use crate::namespaces::Namespaces;
use crate::settings::WebhookSettings;
use palisade_core::{Config, FieldPath, PolicySet};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Builds the policy set for a configuration. The binary passes one that
/// knows the built-in rule families and user policies, so this crate only
/// depends on the core.
pub type PolicyFactory = Arc<
    dyn Fn(&Config) -> Result<PolicySet, Box<dyn std::error::Error + Send + Sync>> + Send + Sync,
>;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read config file {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file or its `webhook` section is invalid.
    #[error("{0}")]
    Config(#[from] palisade_core::ConfigError),
    /// The policy set could not be built (unknown rule, bad policy, ...).
    #[error("{0}")]
    Policy(String),
}

/// One compiled configuration.
pub struct Engine {
    /// The rules and their actions.
    pub policies: PolicySet,
    /// The `webhook` section.
    pub settings: WebhookSettings,
    /// The webhook's own namespace.
    pub own_namespace: String,
    /// The namespaces of `webhook.namespaceLabels`.
    pub namespaces: Namespaces,
    /// The cluster's state (`serve --cluster`).
    pub cluster: Option<Arc<dyn crate::cluster::ClusterView>>,
    /// The image verifier, when the config has `images:` policies (or
    /// `imagesUnmatched: deny`).
    pub images: Option<AdmissionImages>,
    /// The image content lookup (`imageContent.inspectAtAdmission`).
    pub content: Option<AdmissionContent>,
    /// Evaluation slots (`maxConcurrentEvaluations`).
    pub(crate) running: Arc<Semaphore>,
    /// Slots plus places in the queue (`+ maxQueuedEvaluations`).
    pub(crate) admitted: Arc<Semaphore>,
    /// KiB of request bodies admitted to evaluation (`maxQueuedBytes`).
    bytes: Arc<Semaphore>,
    /// Rules that read the admission operation themselves (user policies):
    /// the only ones evaluated on DELETE.
    operation_aware: HashSet<String>,
}

impl Engine {
    /// Builds an engine from `config`: the policy set as admission trusts
    /// it (see [`PolicySet::for_admission`]: self-grantable exemptions and
    /// annotation rules above medium are refused with file and line).
    pub fn new(config: Config, factory: &PolicyFactory) -> Result<Engine, LoadError> {
        Engine::new_with(config, factory, &RegistryExtras::default())
    }

    /// [`Engine::new`] with registry access beyond the config's
    /// `registries:` (credentials of `serve --registry-config`).
    pub fn new_with(
        config: Config,
        factory: &PolicyFactory,
        extras: &RegistryExtras,
    ) -> Result<Engine, LoadError> {
        let settings = WebhookSettings::from_config(&config)?;
        let images = AdmissionImages::from_config(&config, &settings, extras)?;
        let content = AdmissionContent::from_config(&config, &settings, extras)?;
        let policies = factory(&config).map_err(|e| LoadError::Policy(e.to_string()))?;
        let at = FieldPath::root()
            .key("webhook")
            .key("ignoreAnnotationRules");
        let policies = policies.for_admission(&settings.ignore_annotation_rules, &at)?;
        let running = settings.max_concurrent();
        let operation_aware = policies
            .active_rules()
            .filter(|(info, _, _)| info.family == "policy")
            .map(|(info, _, _)| info.id.clone())
            .collect();
        Ok(Engine {
            own_namespace: settings.own_namespace(),
            namespaces: Namespaces::from_config(&settings.namespace_labels),
            cluster: extras.cluster.clone(),
            running: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(Semaphore::new(running + settings.max_queued())),
            bytes: Arc::new(Semaphore::new(settings.max_queued_kib())),
            policies,
            settings,
            images,
            content,
            operation_aware,
        })
    }

    /// Admits a request body of `len` bytes to decoding and evaluation
    /// within the byte budget (`maxQueuedBytes`), or `None` when the budget
    /// is spent: the caller answers "overloaded" without decoding it. A body
    /// larger than the whole budget takes all of it (admitted when nothing
    /// else is).
    pub(crate) fn enter(&self, len: usize) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let kib = len.div_ceil(1024).clamp(1, self.settings.max_queued_kib());
        let kib = u32::try_from(kib).unwrap_or(u32::MAX);
        self.bytes.clone().try_acquire_many_owned(kib).ok()
    }

    /// Reads `path` (or the defaults when `None`) and builds an engine.
    pub fn load(path: Option<&Path>, factory: &PolicyFactory) -> Result<Engine, LoadError> {
        Engine::load_with(path, factory, &RegistryExtras::default())
    }

    /// [`Engine::load`] with registry access beyond the config's.
    pub fn load_with(
        path: Option<&Path>,
        factory: &PolicyFactory,
        extras: &RegistryExtras,
    ) -> Result<Engine, LoadError> {
        let config = match path {
            None => Config::default(),
            Some(p) => {
                let file = p.display().to_string();
                let text = std::fs::read_to_string(p).map_err(|source| LoadError::Read {
                    file: file.clone(),
                    source,
                })?;
                Config::parse(&text, &file)?
            }
        };
        Engine::new_with(config, factory, extras)
    }

    /// The Namespace object `name` is judged with: the cluster's, with the
    /// configured labels laid over it ([`crate::cluster::merged_namespace`]),
    /// or the configured one alone.
    pub fn namespace(&self, name: &str) -> Option<Arc<palisade_core::Resource>> {
        let live = self.cluster.as_ref().and_then(|c| c.namespace(name));
        crate::cluster::merged_namespace(live, self.namespaces.get(name))
    }

    /// Why reviews cannot be judged now (cluster state not synced or too
    /// stale), or `None`.
    pub fn unavailable(&self) -> Option<String> {
        let c = self.cluster.as_ref()?;
        c.status().unavailable(self.settings.cluster_max_stale())
    }

    /// Whether some loaded policy reads the whole admission request
    /// (`RequestInfo::raw`): CEL and Rego policies do, built-in rules do
    /// not, so without user policies the request is not rebuilt as JSON.
    pub fn needs_request_raw(&self) -> bool {
        !self.operation_aware.is_empty()
    }

    /// Whether `rule` decides on its own which operations it applies to.
    pub fn is_operation_aware(&self, rule: &str) -> bool {
        self.operation_aware.contains(rule)
    }
}
