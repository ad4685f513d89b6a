//! `secrets-not-encrypted-at-rest`: from a kube-apiserver pod without
//! `--encryption-provider-config`, or from an `EncryptionConfiguration`
//! (`apiserver.config.k8s.io/v1`) whose first provider for Secrets is
//! `identity` (the first provider is the one that writes) or that has no
//! entry for Secrets.

use super::flags::ApiServerFlags;
use super::{ClusterRule, Texts};
use palisade_core::{Context, Emitter, Field, FieldPath, Resource, Rule, Scope, Severity};
use serde_json::Value;
use std::sync::Arc;

/// The kind of the API server's encryption configuration file.
pub const ENCRYPTION_KIND: &str = "EncryptionConfiguration";

/// The rules of this module.
pub fn rules() -> Vec<Arc<dyn Rule>> {
    vec![ClusterRule::shared(
        Texts {
            id: "secrets-not-encrypted-at-rest",
            severity: Severity::High,
            title: "Secrets are stored unencrypted in etcd",
            description: "Without an encryption provider, Secrets are written to etcd in plain \
                text: an etcd backup, a disk snapshot or read access to etcd gives every \
                credential in the cluster. CIS Kubernetes Benchmark 1.2.27 (the \
                --encryption-provider-config argument is set) and 1.2.28 (encryption providers \
                are appropriately configured: aescbc, kms v2 or secretbox first, not identity).",
            remediation: "Give the API server an EncryptionConfiguration whose first provider \
                for `secrets` is `kms` (v2) or `aescbc`/`secretbox`, set \
                `--encryption-provider-config`, then rewrite existing Secrets (`kubectl get \
                secrets -A -o json | kubectl replace -f -`).",
        },
        Scope::kinds(&["Pod", ENCRYPTION_KIND]),
        Scope::none(),
        Box::new(check),
    )]
}

fn check(res: &Resource, _: &Context<'_>, out: &mut Emitter<'_>) {
    if res.id.kind == ENCRYPTION_KIND {
        return configuration(res, out);
    }
    let Some(flags) = ApiServerFlags::of(res) else {
        return;
    };
    if flags.get("encryption-provider-config").is_none() {
        let path = flags.list_path.clone();
        out.emit(
            &path,
            format!("kube-apiserver has no --encryption-provider-config: Secrets are stored in plain text ({path})"),
        );
    }
}

/// Whether a `resources` list names Secrets.
fn covers_secrets(list: &Value) -> bool {
    match list {
        Value::Array(names) => names
            .iter()
            .any(|n| matches!(n.as_str(), Some("secrets" | "*.*" | "*."))),
        _ => false,
    }
}

fn configuration(res: &Resource, out: &mut Emitter<'_>) {
    let base = FieldPath::root().key("resources");
    let entries = match res.value.field("resources") {
        Some(Value::Array(e)) => e.as_slice(),
        _ => &[],
    };
    let found = entries
        .iter()
        .enumerate()
        .find(|(_, e)| e.field("resources").is_some_and(covers_secrets));
    let Some((i, entry)) = found else {
        out.emit(
            &base,
            "EncryptionConfiguration has no entry for secrets: they are stored in plain text (resources)",
        );
        return;
    };
    let first = entry
        .field("providers")
        .and_then(Value::as_array)
        .and_then(|p| p.first());
    let name = first
        .and_then(Value::as_object)
        .and_then(|m| m.keys().next())
        .map(String::as_str);
    let path = base.index(i).key("providers").index(0);
    match name {
        Some("identity") => {
            out.emit(&path, format!("the first provider for secrets is identity: they are written in plain text ({path})"));
        }
        None => {
            out.emit(
                &path,
                format!("the entry for secrets has no provider ({path})"),
            );
        }
        Some(_) => {}
    }
}
