//! The webhook's serving certificate: a Secret generated now (the code of
//! `palisade certs`), or cert-manager objects that issue and rotate it.

use super::{meta, Plan};
use base64::Engine as _;
use serde_json::{json, Value};

/// The `palisade-tls` Secret (kubernetes.io/tls, plus ca.crt) and the CA
/// as base64 PEM for the webhook configurations' caBundle. The CA key is
/// not kept: rotation is a new install (see README, "Operations").
pub fn generated(plan: &Plan<'_>, days: i64) -> anyhow::Result<(Value, String)> {
    let names = palisade_webhook::certs::service_names("palisade", plan.ns);
    let g = palisade_webhook::certs::generate("palisade", &names, days)?;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta(plan, "palisade-tls", "webhook"),
        "type": "kubernetes.io/tls",
        "data": {"ca.crt": b64(&g.ca_cert), "tls.crt": b64(&g.cert), "tls.key": b64(&g.key)},
    });
    Ok((secret, b64(&g.ca_cert)))
}

/// A self-signed Issuer, the CA Certificate it signs, a CA Issuer and the
/// serving Certificate (renewed by cert-manager a third before expiry,
/// written to `palisade-tls`, which the webhook re-reads when it changes).
pub fn cert_manager(plan: &Plan<'_>) -> Vec<Value> {
    let names = palisade_webhook::certs::service_names("palisade", plan.ns);
    vec![
        issuer(plan, "palisade-selfsigned", json!({"selfSigned": {}})),
        certificate(
            plan,
            "palisade-ca",
            json!({
                "isCA": true,
                "commonName": "palisade CA",
                "secretName": "palisade-ca",
                "duration": "8760h",
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "issuerRef": {"name": "palisade-selfsigned", "kind": "Issuer"},
            }),
        ),
        issuer(
            plan,
            "palisade-ca",
            json!({"ca": {"secretName": "palisade-ca"}}),
        ),
        certificate(
            plan,
            "palisade",
            json!({
                "commonName": "palisade",
                "dnsNames": names,
                "secretName": "palisade-tls",
                "duration": "2160h",
                "renewBefore": "720h",
                "usages": ["server auth", "digital signature", "key encipherment"],
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "issuerRef": {"name": "palisade-ca", "kind": "Issuer"},
            }),
        ),
    ]
}

fn issuer(plan: &Plan<'_>, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": meta(plan, name, "webhook"),
        "spec": spec,
    })
}

fn certificate(plan: &Plan<'_>, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": meta(plan, name, "webhook"),
        "spec": spec,
    })
}
