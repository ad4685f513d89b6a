//! `palisade webhook-config`: the ValidatingWebhookConfiguration and
//! MutatingWebhookConfiguration that route admission requests to `palisade serve`.

use anyhow::Context as _;
use base64::Engine as _;
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
    /// Leave out the MutatingWebhookConfiguration.
    #[arg(long)]
    no_mutating: bool,
}

/// `failurePolicy`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum FailurePolicy {
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
    let mut out = yaml(&validating(args, &ca));
    if !args.no_mutating {
        out.push_str("---\n");
        out.push_str(&yaml(&mutating(args, &ca)));
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn rule(groups: &[&str], ops: &[&str], resources: &[&str]) -> Value {
    json!({"apiGroups": groups, "apiVersions": ["*"], "operations": ops, "resources": resources, "scope": "*"})
}

fn common(args: &WebhookConfigArgs, ca: &str, path: &str) -> Value {
    let mut excluded = vec![args.namespace.clone()];
    excluded.extend(args.exclude.iter().cloned());
    let policy = match args.failure_policy {
        FailurePolicy::Fail => "Fail",
        FailurePolicy::Ignore => "Ignore",
    };
    json!({
        "admissionReviewVersions": ["v1"],
        "sideEffects": "None",
        "timeoutSeconds": args.timeout_seconds,
        "failurePolicy": policy,
        "matchPolicy": "Equivalent",
        "clientConfig": {
            "service": {"name": args.service, "namespace": args.namespace, "path": path, "port": args.port},
            "caBundle": ca,
        },
        // Kubernetes sets kubernetes.io/metadata.name on every namespace.
        "namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": excluded}
        ]},
        "matchConditions": [{
            "name": "not-palisade-itself",
            "expression": format!(
                "request.userInfo.username != 'system:serviceaccount:{}:{}'",
                args.namespace, args.service
            ),
        }],
    })
}

fn validating(args: &WebhookConfigArgs, ca: &str) -> Value {
    let mut ops = vec!["CREATE", "UPDATE"];
    if args.with_delete {
        ops.push("DELETE");
    }
    let mut rules = vec![
        rule(
            &[""],
            &ops,
            &[
                "pods",
                "pods/ephemeralcontainers",
                "replicationcontrollers",
                "podtemplates",
                "namespaces",
                "serviceaccounts",
            ],
        ),
        rule(
            &["apps"],
            &ops,
            &["deployments", "replicasets", "statefulsets", "daemonsets"],
        ),
        rule(&["batch"], &ops, &["jobs", "cronjobs"]),
        rule(
            &["rbac.authorization.k8s.io"],
            &ops,
            &[
                "roles",
                "clusterroles",
                "rolebindings",
                "clusterrolebindings",
            ],
        ),
    ];
    if args.with_connect {
        rules.push(rule(&[""], &["CONNECT"], &["pods/exec", "pods/attach"]));
    }
    let mut hook = common(args, ca, "/validate");
    hook["name"] = json!("validate.palisade.io");
    hook["rules"] = json!(rules);
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": args.service, "labels": {"app.kubernetes.io/name": "palisade"}},
        "webhooks": [hook],
    })
}

fn mutating(args: &WebhookConfigArgs, ca: &str) -> Value {
    let mut hook = common(args, ca, "/mutate");
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

/// YAML for a JSON value: block style, strings double-quoted (JSON string
/// syntax is valid YAML), so no value is ever misread.
fn yaml(v: &Value) -> String {
    let mut out = String::new();
    emit(v, 0, &mut out);
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        other => other.to_string(),
    }
}

fn is_block(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                if is_block(val) {
                    out.push_str(&format!("{pad}{k}:\n"));
                    let inner = if val.is_array() { indent } else { indent + 2 };
                    emit(val, inner, out);
                } else {
                    out.push_str(&format!("{pad}{k}: {}\n", scalar(val)));
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                if is_block(item) {
                    let mut sub = String::new();
                    emit(item, indent + 2, &mut sub);
                    // The first line's indentation becomes "- ".
                    out.push_str(&format!("{pad}- {}", &sub[indent + 2..]));
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}
