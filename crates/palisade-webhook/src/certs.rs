//! A CA and a serving certificate for tests and small installs.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A generated CA and serving certificate, PEM encoded.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The CA certificate (the webhook configuration's `caBundle`).
    pub ca_cert: String,
    /// The CA key (to sign a later serving certificate).
    pub ca_key: String,
    /// The serving certificate.
    pub cert: String,
    /// The serving key.
    pub key: String,
}

/// A certificate generation error.
#[derive(Debug, thiserror::Error)]
#[error("certificate generation failed: {0}")]
pub struct CertError(#[from] rcgen::Error);

/// The DNS names the API server uses to reach service `service` in `namespace`.
pub fn service_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        service.to_string(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}

/// Creates a CA named after the service and a serving certificate for
/// `names` (DNS names or IP addresses) valid for `days`.
pub fn generate(common_name: &str, names: &[String], days: i64) -> Result<Generated, CertError> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, format!("{common_name} CA"));
    // Path length 0: the CA signs serving certificates, never another CA.
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = {
        let (y, m, d) = day(-1);
        rcgen::date_time_ymd(y, m, d)
    };
    ca.not_after = {
        let (y, m, d) = day(days.max(1));
        rcgen::date_time_ymd(y, m, d)
    };
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(names.to_vec())?;
    leaf.distinguished_name
        .push(DnType::CommonName, common_name);
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    leaf.not_before = {
        let (y, m, d) = day(-1);
        rcgen::date_time_ymd(y, m, d)
    };
    leaf.not_after = {
        let (y, m, d) = day(days.max(1));
        rcgen::date_time_ymd(y, m, d)
    };
    let cert = leaf.signed_by(&key, &issuer)?;
    Ok(Generated {
        ca_cert: ca_cert.pem(),
        ca_key: ca_key.serialize_pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// A calendar day `offset` days from today (UTC), as rcgen wants it.
fn day(offset: i64) -> (i32, u8, u8) {
    let d = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(offset))
        .unwrap_or(jiff::civil::date(2099, 12, 31));
    (i32::from(d.year()), d.month() as u8, d.day() as u8)
}
