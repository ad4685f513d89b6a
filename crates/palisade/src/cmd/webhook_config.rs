//! `palisade webhook-config`: the ValidatingWebhookConfiguration (and, when
//! asked, the MutatingWebhookConfiguration) that route admission requests to
//! `palisade serve`, printed as JSON, which is YAML that no YAML 1.1 or 1.2
//! reader misreads (serde_json: every string quoted), for `kubectl apply -f`.

use super::webhook_rules::{extra_rule, policy_rules, rule, BUILTIN};
use anyhow::Context as _;
use base64::Engine as _;
use palisade_core::pod_templates::PodTemplates;
use palisade_core::Keep;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `palisade webhook-config`.
#[derive(clap::Args, Debug)]
pub struct WebhookConfigArgs {
    /// The webhook's Service name.
    #[arg(long)]
    service: String,
    /// The webhook's namespace (excluded from admission).
    #[arg(long)]
    namespace: String,
    /// The webhook's ServiceAccount: its own requests are never sent to it.
    #[arg(long, default_value = "palisade", value_name = "NAME")]
    service_account: String,
    /// Leave kube-system out (default): an outage of the webhook then
    /// cannot block the cluster's own system pods; `palisade audit` and
    /// scans of the manifests still cover kube-system.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    exclude_kube_system: bool,
    /// The CA that signed the serving certificate (PEM), e.g. ca.crt of `palisade certs`.
    #[arg(long, value_name = "FILE")]
    ca_bundle: PathBuf,
    /// Further namespaces to exclude; repeat for several.
    #[arg(long = "exclude-namespace", value_name = "NS")]
    exclude: Vec<String>,
    /// The Service port.
    #[arg(long, default_value = "443")]
    port: u16,
    /// Seconds the API server waits for an answer (1-30).
    #[arg(long, default_value = "5", value_parser = clap::value_parser!(u8).range(1..=30))]
    timeout_seconds: u8,
    /// What the API server does when the webhook cannot be reached.
    #[arg(long, value_enum, default_value = "fail")]
    failure_policy: FailurePolicy,
    /// Also send DELETE requests (for user policies that check deletions).
    #[arg(long)]
    with_delete: bool,
    /// Also send CONNECT requests for pods/exec and pods/attach (for user
    /// policies that check them).
    #[arg(long)]
    with_connect: bool,
    /// Also print the MutatingWebhookConfiguration (mutation is opt-in:
    /// `webhook.mutate: true`); its failurePolicy is always Ignore, since
    /// validation still enforces when mutation is unavailable.
    #[arg(long)]
    mutating: bool,
    /// User policies (files or directories, as for `scan --policy`): the
    /// resources they match are routed to the webhook too.
    #[arg(long = "policy", value_name = "FILE|DIR")]
    policies: Vec<PathBuf>,
    /// A further resource to route, `GROUP/RESOURCE` or `RESOURCE` for the
    /// core group (e.g. `example.com/widgets`); repeat for several.
    #[arg(long = "resource", value_name = "GROUP/RESOURCE")]
    resources: Vec<String>,
    /// The configuration (default: ./palisade.yaml if present): the custom
    /// resource kinds with pod templates, built in and from `podTemplates`,
    /// are routed to the webhook beside the built-in kinds.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl WebhookConfigArgs {
    /// The arguments `palisade install` prints the configurations with:
    /// service and service account `palisade`, kube-system and `exclude`
    /// left out, port 443, 5 s timeout, both configurations.
    pub(crate) fn for_install(
        namespace: &str,
        exclude: Vec<String>,
        policy: FailurePolicy,
    ) -> Self {
        WebhookConfigArgs {
            service: "palisade".into(),
            namespace: namespace.into(),
            service_account: "palisade".into(),
            exclude_kube_system: true,
            ca_bundle: PathBuf::new(),
            exclude,
            port: 443,
            timeout_seconds: 5,
            failure_policy: policy,
            with_delete: false,
            with_connect: false,
            mutating: true,
            policies: Vec::new(),
            resources: Vec::new(),
            config: None,
        }
    }
}

/// The Validating- and MutatingWebhookConfiguration for `args`, with
/// `ca` (base64 PEM) as caBundle, or none when cert-manager injects it.
pub(crate) fn objects(args: &WebhookConfigArgs, ca: Option<&str>) -> anyhow::Result<Vec<Value>> {
    let templates = PodTemplates::from_config(&palisade_core::Config::default())?;
    Ok(vec![
        validating(args, ca, &templates, Vec::new()),
        mutating(args, ca),
    ])
}

/// `failurePolicy`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Reject requests when the webhook is unreachable.
    Fail,
    /// Admit requests when the webhook is unreachable.
    Ignore,
}

/// Prints both configurations as one YAML stream.
pub fn run(args: &WebhookConfigArgs) -> anyhow::Result<ExitCode> {
    let pem = std::fs::read_to_string(&args.ca_bundle)
        .with_context(|| format!("cannot read --ca-bundle {}", args.ca_bundle.display()))?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        anyhow::bail!(
            "--ca-bundle {}: no PEM CERTIFICATE in the file",
            args.ca_bundle.display()
        );
    }
    let ca = base64::engine::general_purpose::STANDARD.encode(pem.as_bytes());
    let config = crate::engine::load_config(args.config.as_deref())?;
    let templates = PodTemplates::from_config(&config)?;
    let mut extra = Vec::new();
    for r in &args.resources {
        extra.push(extra_rule(r)?);
    }
    let mut code = ExitCode::SUCCESS;
    if !args.policies.is_empty() {
        let loaded = crate::input::discover_and_load(
            &args.policies,
            crate::input::read_stdin,
            &|_| Keep::Whole,
            &|| {},
            &|| {},
        );
        for e in &loaded.errors {
            eprintln!("error: {e}");
            code = ExitCode::from(2);
        }
        let (rules, notes) = policy_rules(&loaded.resources);
        for n in notes {
            eprintln!("note: {n}");
        }
        extra.extend(rules);
    }
    let mut out = serde_json::to_string_pretty(&validating(args, Some(&ca), &templates, extra))?;
    if args.mutating {
        out.push_str("\n---\n");
        out.push_str(&serde_json::to_string_pretty(&mutating(args, Some(&ca)))?);
    }
    println!("{out}");
    Ok(code)
}

/// One rule per group and version of the custom resource kinds with pod
/// templates (Argo Rollouts, JobSet, Kubeflow, ... and `podTemplates`).
fn template_rules(templates: &PodTemplates, ops: &[&str]) -> Vec<Value> {
    let mut by_group: std::collections::BTreeMap<(String, String), Vec<String>> =
        std::collections::BTreeMap::new();
    for k in templates.kinds() {
        let version = k.version.clone().unwrap_or_else(|| "*".into());
        let resources = by_group.entry((k.group.clone(), version)).or_default();
        if !resources.contains(&k.resource) {
            resources.push(k.resource.clone());
        }
    }
    by_group
        .into_iter()
        .map(|((group, version), resources)| {
            json!({"apiGroups": [group], "apiVersions": [version], "operations": ops, "resources": resources, "scope": "*"})
        })
        .collect()
}

fn common(args: &WebhookConfigArgs, ca: Option<&str>, path: &str, policy: &str) -> Value {
    let mut excluded = vec![args.namespace.clone()];
    if args.exclude_kube_system {
        excluded.push("kube-system".into());
    }
    excluded.extend(args.exclude.iter().cloned());
    excluded.dedup();
    let mut client = json!({
        "service": {"name": args.service, "namespace": args.namespace, "path": path, "port": args.port},
    });
    if let Some(ca) = ca {
        client["caBundle"] = json!(ca);
    }
    json!({
        "admissionReviewVersions": ["v1"],
        "sideEffects": "None",
        "timeoutSeconds": args.timeout_seconds,
        "failurePolicy": policy,
        "matchPolicy": "Equivalent",
        "clientConfig": client,
        // Kubernetes sets kubernetes.io/metadata.name on every namespace.
        "namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": excluded}
        ]},
        "matchConditions": [{
            "name": "not-palisade-itself",
            "expression": format!(
                "request.userInfo.username != 'system:serviceaccount:{}:{}'",
                args.namespace, args.service_account
            ),
        }],
    })
}

fn validating(
    args: &WebhookConfigArgs,
    ca: Option<&str>,
    templates: &PodTemplates,
    extra: Vec<Value>,
) -> Value {
    let mut ops = vec!["CREATE", "UPDATE"];
    if args.with_delete {
        ops.push("DELETE");
    }
    let mut rules: Vec<Value> = BUILTIN
        .iter()
        .map(|(group, resources)| rule(&[group], &ops, resources))
        .collect();
    if args.with_connect {
        rules.push(rule(&[""], &["CONNECT"], &["pods/exec", "pods/attach"]));
    }
    rules.extend(template_rules(templates, &ops));
    rules.extend(extra);
    let policy = match args.failure_policy {
        FailurePolicy::Fail => "Fail",
        FailurePolicy::Ignore => "Ignore",
    };
    let mut hook = common(args, ca, "/validate", policy);
    hook["name"] = json!("validate.palisade.io");
    hook["rules"] = json!(rules);
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": args.service, "labels": {"app.kubernetes.io/name": "palisade"}},
        "webhooks": [hook],
    })
}

/// The mutating configuration: the built-in pod kinds only (the mutation
/// patches their pod specs; custom resources are validated, not mutated).
fn mutating(args: &WebhookConfigArgs, ca: Option<&str>) -> Value {
    let mut hook = common(args, ca, "/mutate", "Ignore");
    hook["name"] = json!("mutate.palisade.io");
    hook["reinvocationPolicy"] = json!("IfNeeded");
    hook["rules"] = json!([
        rule(&[""], &["CREATE"], &["pods"]),
        rule(&[""], &["UPDATE"], &["pods/ephemeralcontainers"]),
        rule(
            &[""],
            &["CREATE", "UPDATE"],
            &["replicationcontrollers", "podtemplates"]
        ),
        rule(
            &["apps"],
            &["CREATE", "UPDATE"],
            &["deployments", "replicasets", "statefulsets", "daemonsets"]
        ),
        rule(&["batch"], &["CREATE", "UPDATE"], &["jobs", "cronjobs"]),
    ]);
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": args.service, "labels": {"app.kubernetes.io/name": "palisade"}},
        "webhooks": [hook],
    })
}
