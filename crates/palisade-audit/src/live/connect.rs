//! The client of a live cluster: kubeconfig (a file, `KUBECONFIG` or
//! `~/.kube/config`, with a chosen context) or the in-cluster service
//! account, as kubectl and client-go find them.

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::PathBuf;

/// Where the cluster's address and credentials come from.
#[derive(Debug, Clone, Default)]
pub struct Connect {
    /// A kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`,
    /// then the in-cluster service account).
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    pub context: Option<String>,
}

/// A cluster that cannot be reached or configured.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The kubeconfig file cannot be read or parsed.
    #[error("kubeconfig {file}: {source}")]
    Kubeconfig {
        /// The file.
        file: String,
        /// Why.
        source: kube::config::KubeconfigError,
    },
    /// No kubeconfig and no in-cluster configuration.
    #[error("no cluster configuration (kubeconfig, KUBECONFIG or in-cluster): {0}")]
    Infer(#[from] kube::config::InferConfigError),
    /// The configuration does not give a working client (TLS, auth).
    #[error("cannot build the cluster client: {0}")]
    Client(#[from] kube::Error),
}

impl Connect {
    /// The client configuration. Client-side retries are off: the lister
    /// retries throttled requests itself, honouring `Retry-After`.
    pub async fn config(&self) -> Result<Config, ConnectError> {
        let opts = KubeConfigOptions {
            context: self.context.clone(),
            ..Default::default()
        };
        let kubeconfig_error = |file: String| {
            move |source| ConnectError::Kubeconfig {
                file: file.clone(),
                source,
            }
        };
        let mut config = match (&self.kubeconfig, &self.context) {
            (Some(path), _) => {
                let file = path.display().to_string();
                let kc = Kubeconfig::read_from(path).map_err(kubeconfig_error(file.clone()))?;
                Config::from_custom_kubeconfig(kc, &opts)
                    .await
                    .map_err(kubeconfig_error(file))?
            }
            (None, Some(_)) => Config::from_kubeconfig(&opts)
                .await
                .map_err(kubeconfig_error("(KUBECONFIG or ~/.kube/config)".into()))?,
            (None, None) => Config::infer().await?,
        };
        config.default_retry = false;
        Ok(config)
    }

    /// A client of the cluster.
    pub async fn client(&self) -> Result<Client, ConnectError> {
        Ok(Client::try_from(self.config().await?)?)
    }
}
