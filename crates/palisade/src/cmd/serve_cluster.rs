//! `palisade serve --cluster`: the webhook's namespace labels, RBAC objects
//! and pull secrets from the API server (palisade-audit's watches and
//! secret reader), plugged into the webhook's seams.

use futures_util::future::BoxFuture;
use palisade_audit::live::secrets::{SecretReader, DEFAULT_ENTRIES, DEFAULT_TTL};
use palisade_audit::live::state::ClusterState;
use palisade_audit::live::Connect;
use palisade_core::Resource;
use palisade_webhook::cluster::{ClusterStatus, ClusterView, KindState};
use palisade_webhook::images::PullSecrets;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the cluster is.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Read namespace labels and RBAC objects from the API server (watches:
    /// get/list/watch of namespaces, roles, clusterroles, rolebindings,
    /// clusterrolebindings) and the pods' imagePullSecrets (get of secrets
    /// and serviceaccounts), instead of the configuration alone. In a pod:
    /// its service account.
    #[arg(long)]
    pub cluster: bool,
    /// With --cluster: the kubeconfig file [default: KUBECONFIG,
    /// ~/.kube/config, then the in-cluster service account].
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// With --cluster: the kubeconfig context [default: its current context].
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,
}

/// The watches and the secret reader, as the webhook reads them.
pub struct Cluster {
    state: Arc<ClusterState>,
    secrets: SecretReader,
}

impl Cluster {
    /// Connects and starts the watches (inside the runtime).
    pub async fn start(args: &ClusterArgs) -> anyhow::Result<Arc<Cluster>> {
        let connect = Connect {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
        };
        let (state, client) = palisade_audit::live::state::start(&connect).await?;
        Ok(Arc::new(Cluster {
            state,
            secrets: SecretReader::new(client, DEFAULT_TTL, DEFAULT_ENTRIES),
        }))
    }
}

impl ClusterView for Cluster {
    fn namespace(&self, name: &str) -> Option<Arc<Resource>> {
        self.state.namespace(name)
    }

    fn rbac_objects(&self) -> Vec<Arc<Resource>> {
        self.state.rbac_objects()
    }

    fn status(&self) -> ClusterStatus {
        ClusterStatus {
            kinds: self
                .state
                .kinds()
                .into_iter()
                .map(|k| KindState {
                    kind: k.kind.to_string(),
                    synced: k.synced,
                    objects: k.objects,
                })
                .collect(),
            stale: self.state.stale(),
        }
    }
}

impl PullSecrets for Cluster {
    fn docker_config<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(self.secrets.docker_config(namespace, name))
    }

    fn service_account_secrets<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, String>> {
        Box::pin(self.secrets.service_account_secrets(namespace, name))
    }
}
