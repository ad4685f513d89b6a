//! `palisade install --print`: every object Palisade runs as, hardened as
//! Palisade demands of others (zero findings from `palisade scan` with the
//! default profile), printed as one JSON `v1 List` (YAML that no YAML 1.1
//! or 1.2 reader misreads, through serde_json) for `kubectl apply -f -`,
//! which creates the items in order.
//!
//! The same objects are the Helm chart under `charts/palisade` (a test
//! renders both and compares them).

mod audit;
mod network;
mod pod;
mod tls;
mod webhook;

use super::webhook_config::{self, FailurePolicy, WebhookConfigArgs};
use serde_json::{json, Value};
use std::process::ExitCode;

/// Arguments of `palisade install`.
#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Print the manifests on stdout (the only mode: nothing is sent to a cluster).
    #[arg(long, required = true)]
    print: bool,
    /// The namespace Palisade runs in (created by the manifests).
    #[arg(long, default_value = "palisade-system")]
    namespace: String,
    /// Replicas of the webhook (at least 2 keeps admission up during a
    /// node drain; the PodDisruptionBudget lets one go at a time).
    #[arg(long, default_value = "3", value_parser = clap::value_parser!(u16).range(1..))]
    replicas: u16,
    /// The image, pinned by digest (`REPO[:TAG]@sha256:HEX`, as
    /// `packaging/build-image.sh` prints it): an unpinned image is refused,
    /// as the image-not-pinned rule would flag it.
    #[arg(long, value_name = "REF", required = true)]
    image: String,
    /// Also install the auditor (`palisade audit --watch`, leader election,
    /// a read-only ClusterRole plus report writes) and the CronJob pruning
    /// expired bindings (`rbac prune-expired --apply`); needs --api-server-cidr.
    #[arg(long)]
    with_audit: bool,
    /// Run the webhook with `serve --cluster`: namespace labels and RBAC
    /// objects from watches of the API server, the pods' imagePullSecrets by
    /// GET. Gives the webhook a short-lived token and a ClusterRole of
    /// get/list/watch on namespaces and the four RBAC kinds and get on
    /// serviceaccounts and secrets; needs --api-server-cidr.
    #[arg(long)]
    cluster: bool,
    /// Addresses of the API server's endpoints (`kubectl get endpoints
    /// kubernetes -n default`), the only egress the auditor and the pruning
    /// job get besides DNS; repeat for several.
    #[arg(long = "api-server-cidr", value_name = "CIDR")]
    api_server_cidrs: Vec<String>,
    /// Addresses of the container registries the webhook may reach (image
    /// verification), port 443; repeat for several. None: no registry egress.
    #[arg(long = "registry-cidr", value_name = "CIDR")]
    registry_cidrs: Vec<String>,
    /// Serving certificate from cert-manager (a self-signed Issuer, a CA
    /// Certificate, a CA Issuer and the serving Certificate; the caBundle is
    /// injected by cert-manager's cainjector) instead of a generated Secret.
    #[arg(long)]
    cert_manager: bool,
    /// Validity in days of the generated certificates (without --cert-manager).
    #[arg(long, default_value = "365", value_parser = clap::value_parser!(i64).range(1..=3650))]
    cert_days: i64,
    /// What the API server does when the webhook cannot be reached.
    #[arg(long, value_enum, default_value = "fail")]
    failure_policy: FailurePolicy,
    /// Further namespaces admission leaves out (kube-system and Palisade's
    /// own namespace always are); repeat for several.
    #[arg(long = "exclude-namespace", value_name = "NS")]
    exclude: Vec<String>,
}

/// What the object builders share.
pub(crate) struct Plan<'a> {
    /// The namespace.
    pub ns: &'a str,
    /// The pinned image.
    pub image: &'a str,
    /// Webhook replicas.
    pub replicas: u16,
    /// The version label value.
    pub version: &'static str,
    /// Namespaces admission leaves out besides kube-system and `ns`, sorted.
    pub exclude: Vec<String>,
    /// `serve --cluster`.
    pub cluster: bool,
}

/// Prints the manifests.
pub fn run(args: &InstallArgs) -> anyhow::Result<ExitCode> {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objects(args)?});
    println!("{}", serde_json::to_string_pretty(&list)?);
    Ok(ExitCode::SUCCESS)
}

/// Every object, in the order `kubectl apply` should create them.
pub fn objects(args: &InstallArgs) -> anyhow::Result<Vec<Value>> {
    check_args(args)?;
    let mut exclude = args.exclude.clone();
    exclude.retain(|n| n != "kube-system" && n != &args.namespace);
    exclude.sort();
    exclude.dedup();
    let plan = Plan {
        ns: &args.namespace,
        image: &args.image,
        replicas: args.replicas,
        version: env!("CARGO_PKG_VERSION"),
        exclude,
        cluster: args.cluster,
    };
    let mut docs = vec![namespace(&plan)];
    docs.extend(webhook::objects(&plan));
    let ca = if args.cert_manager {
        docs.extend(tls::cert_manager(&plan));
        None
    } else {
        let (secret, ca) = tls::generated(&plan, args.cert_days)?;
        docs.push(secret);
        Some(ca)
    };
    if args.with_audit {
        docs.extend(audit::objects(&plan));
    }
    let mut api_clients = Vec::new();
    if args.with_audit {
        api_clients.extend(["auditor", "prune-expired"]);
    }
    if args.cluster {
        api_clients.push("webhook");
    }
    docs.extend(network::objects(
        &plan,
        &api_clients,
        &args.api_server_cidrs,
        &args.registry_cidrs,
    ));
    let wh = WebhookConfigArgs::for_install(plan.ns, plan.exclude.clone(), args.failure_policy);
    for mut cfg in webhook_config::objects(&wh, ca.as_deref())? {
        cfg["metadata"]["labels"] = labels(&plan, "webhook");
        if args.cert_manager {
            cfg["metadata"]["annotations"] =
                json!({"cert-manager.io/inject-ca-from": format!("{}/palisade", plan.ns)});
        }
        docs.push(cfg);
    }
    Ok(docs)
}

fn check_args(args: &InstallArgs) -> anyhow::Result<()> {
    let pinned = args
        .image
        .split_once("@sha256:")
        .is_some_and(|(repo, hex)| {
            !repo.is_empty() && hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
    if !pinned {
        anyhow::bail!(
            "--image `{}`: not pinned by digest; give REPO[:TAG]@sha256:<64 hex> (build-image.sh prints it; \
             `skopeo inspect docker://REF` shows a pushed image's digest)",
            args.image
        );
    }
    if args.cluster && args.api_server_cidrs.is_empty() {
        anyhow::bail!(
            "--cluster needs --api-server-cidr: the webhook then reads the API server, and its egress \
             is open only to the addresses given (`kubectl get endpoints kubernetes -n default`)"
        );
    }
    if args.with_audit && args.api_server_cidrs.is_empty() {
        anyhow::bail!(
            "--with-audit needs --api-server-cidr: the auditor's only egress besides DNS is the API server \
             (its endpoint addresses: `kubectl get endpoints kubernetes -n default`)"
        );
    }
    for c in args.api_server_cidrs.iter().chain(&args.registry_cidrs) {
        network::check_cidr(c)?;
    }
    Ok(())
}

/// The recommended labels of every object; `component` names the part.
pub(crate) fn labels(plan: &Plan<'_>, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "palisade",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/version": plan.version,
        "app.kubernetes.io/managed-by": "palisade-install",
    })
}

/// The labels pods are selected by.
pub(crate) fn selector(component: &str) -> Value {
    json!({"app.kubernetes.io/name": "palisade", "app.kubernetes.io/component": component})
}

/// Object metadata in Palisade's namespace.
pub(crate) fn meta(plan: &Plan<'_>, name: &str, component: &str) -> Value {
    json!({"name": name, "namespace": plan.ns, "labels": labels(plan, component)})
}

/// The namespace, at the restricted Pod Security level.
fn namespace(plan: &Plan<'_>) -> Value {
    let mut labels = labels(plan, "namespace");
    for mode in ["enforce", "audit", "warn"] {
        labels[format!("pod-security.kubernetes.io/{mode}")] = json!("restricted");
    }
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": plan.ns, "labels": labels},
    })
}
