//! The registry client: the OCI distribution API through `oci-client`
//! (anonymous, basic and bearer-token auth), with per-registry CA and
//! `insecure` settings, credentials from a Docker `config.json`, and a size
//! cap on every manifest and blob read.

use crate::error::{ImageError, RegistryError};
use crate::reference::ImageRef;
use futures_util::StreamExt;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::Duration;

/// Media types a manifest request accepts.
pub const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Default cap on a manifest or blob: 4 MiB.
pub const DEFAULT_MAX_BYTES: usize = 4 << 20;

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Hosts (`host[:port]`) spoken to over plain HTTP.
    pub insecure: Vec<String>,
    /// Extra CA certificates (PEM) to trust.
    pub ca_pems: Vec<Vec<u8>>,
    /// Credentials per host: (user, password).
    pub credentials: HashMap<String, (String, String)>,
    /// Cap on each manifest and blob (0: [`DEFAULT_MAX_BYTES`]).
    pub max_bytes: usize,
    /// Timeout of one HTTP read and of connecting.
    pub io_timeout: Option<Duration>,
}

/// A registry client shared by every verification.
pub struct Registry {
    client: oci_client::Client,
    credentials: HashMap<String, (String, String)>,
    max_bytes: usize,
}

/// Installs ring as the process's rustls provider (once; a provider
/// already installed stays). The registry client's TLS has none of its own.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Registry {
    /// A client with `opts`.
    pub fn new(opts: RegistryOptions) -> Registry {
        install_crypto_provider();
        let config = ClientConfig {
            protocol: if opts.insecure.is_empty() {
                ClientProtocol::Https
            } else {
                ClientProtocol::HttpsExcept(opts.insecure.clone())
            },
            extra_root_certificates: opts
                .ca_pems
                .iter()
                .map(|pem| Certificate {
                    encoding: CertificateEncoding::Pem,
                    data: pem.clone(),
                })
                .collect(),
            read_timeout: opts.io_timeout,
            connect_timeout: opts.io_timeout,
            platform_resolver: None,
            ..Default::default()
        };
        Registry {
            client: oci_client::Client::new(config),
            credentials: opts.credentials,
            max_bytes: if opts.max_bytes == 0 {
                DEFAULT_MAX_BYTES
            } else {
                opts.max_bytes
            },
        }
    }

    fn auth(&self, r: &Reference) -> RegistryAuth {
        let host = r.resolve_registry();
        // the request's own credentials (a pod's pull secrets) first
        if let Some((u, p)) = crate::credentials::request_credentials(host) {
            return RegistryAuth::Basic(u, p);
        }
        match self.credentials.get(host) {
            Some((u, p)) => RegistryAuth::Basic(u.clone(), p.clone()),
            None => RegistryAuth::Anonymous,
        }
    }

    /// With credentials of the running request for `r`'s registry (a pod's
    /// pull secrets, see [`crate::credentials::with_credentials`]):
    /// authenticates with them now, so that the call that follows uses
    /// their token (the client otherwise keeps the first credentials it
    /// was given per registry).
    async fn request_auth(&self, r: &Reference) {
        if let Some((u, p)) = crate::credentials::request_credentials(r.resolve_registry()) {
            let auth = RegistryAuth::Basic(u, p);
            let op = oci_client::RegistryOperation::Pull;
            if let Err(e) = self.client.auth(r, &auth, op).await {
                tracing::debug!(registry = r.resolve_registry(), error = %e, "request credentials refused");
            }
        }
    }

    /// The digest `image` resolves to (its own digest when it has one).
    pub async fn resolve(&self, image: &ImageRef) -> Result<String, RegistryError> {
        if let Some(d) = image.digest() {
            return Ok(d.to_string());
        }
        let r = image.oci();
        self.request_auth(r).await;
        self.client
            .fetch_manifest_digest(r, &self.auth(r))
            .await
            .map_err(|e| map_err(e, &image.to_string()))
    }

    /// The manifest at `r` and its digest; `None` when there is none.
    pub async fn manifest(
        &self,
        r: &Reference,
    ) -> Result<Option<(Vec<u8>, String)>, RegistryError> {
        self.request_auth(r).await;
        match self
            .client
            .pull_manifest_raw(r, &self.auth(r), MANIFEST_TYPES)
            .await
        {
            Ok((body, digest)) => {
                if body.len() > self.max_bytes {
                    return Err(RegistryError::TooLarge {
                        what: format!("manifest {}", r.whole()),
                        cap: self.max_bytes,
                    });
                }
                Ok(Some((body.to_vec(), digest)))
            }
            Err(e) => match map_err(e, &r.whole()) {
                RegistryError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    /// The blob `digest` of repository `r`, read up to the cap and checked
    /// against its digest.
    pub async fn blob(
        &self,
        r: &Reference,
        digest: &str,
        size: i64,
    ) -> Result<Vec<u8>, RegistryError> {
        let too_large = || RegistryError::TooLarge {
            what: format!("blob {digest}"),
            cap: self.max_bytes,
        };
        if usize::try_from(size).is_ok_and(|s| s > self.max_bytes) {
            return Err(too_large());
        }
        self.request_auth(r).await;
        let desc = oci_client::manifest::OciDescriptor {
            digest: digest.to_string(),
            size,
            ..Default::default()
        };
        let mut stream = self
            .client
            .pull_blob_stream(r, &desc)
            .await
            .map_err(|e| map_err(e, digest))?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| RegistryError::Other(e.to_string()))?;
            if out.len() + chunk.len() > self.max_bytes {
                return Err(too_large());
            }
            out.extend_from_slice(&chunk);
        }
        if sha256_digest(&out) != digest {
            return Err(RegistryError::Other(format!(
                "blob {digest}: content does not match its digest"
            )));
        }
        Ok(out)
    }

    /// The referrers of the manifest `r` (a digest reference): the OCI 1.1
    /// referrers API, or the fallback tag `sha256-<hex>` on registries
    /// without it (oci-client falls back on the API's 404).
    pub async fn referrers(
        &self,
        r: &Reference,
    ) -> Result<Vec<oci_client::manifest::ImageIndexEntry>, RegistryError> {
        self.client
            .store_auth_if_needed(r.resolve_registry(), &self.auth(r))
            .await;
        self.client
            .pull_referrers(r, None)
            .await
            .map(|index| index.manifests)
            .map_err(|e| map_err(e, &r.whole()))
    }

    /// Pushes `data` as a blob of `r`'s repository; returns its digest.
    pub async fn push_blob(&self, r: &Reference, data: Vec<u8>) -> Result<String, ImageError> {
        let digest = sha256_digest(&data);
        self.client
            .store_auth_if_needed(r.resolve_registry(), &self.auth(r))
            .await;
        self.client
            .push_blob(r, data, &digest)
            .await
            .map_err(|e| ImageError::Registry(map_err(e, &r.whole())))?;
        Ok(digest)
    }

    /// Pushes a manifest to `r` (a tag or digest reference).
    pub async fn push_manifest(
        &self,
        r: &Reference,
        body: Vec<u8>,
        media_type: &str,
    ) -> Result<String, ImageError> {
        let ct = media_type
            .parse()
            .map_err(|_| ImageError::Other(format!("bad media type {media_type}")))?;
        self.client
            .store_auth_if_needed(r.resolve_registry(), &self.auth(r))
            .await;
        self.client
            .push_manifest_raw(r, body, ct)
            .await
            .map_err(|e| ImageError::Registry(map_err(e, &r.whole())))
    }
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in Sha256::digest(data) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The registry error for an oci-client error about `what`.
fn map_err(e: OciDistributionError, what: &str) -> RegistryError {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => RegistryError::NotFound(what.into()),
        OciDistributionError::RegistryError { envelope, .. } => {
            let unknown = envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                        | OciErrorCode::BlobUnknown
                )
            });
            let denied = envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied));
            if unknown {
                RegistryError::NotFound(what.into())
            } else if denied {
                RegistryError::Auth(envelope.to_string())
            } else {
                RegistryError::Other(envelope.to_string())
            }
        }
        OciDistributionError::ServerError { code: 404, .. } => RegistryError::NotFound(what.into()),
        OciDistributionError::ServerError { code, message, .. } => {
            let message: String = message.chars().take(200).collect();
            RegistryError::Other(format!("HTTP {code} for {what}: {message}"))
        }
        OciDistributionError::UnauthorizedError { url } => {
            RegistryError::Auth(format!("unauthorized for {url}"))
        }
        OciDistributionError::AuthenticationFailure(m) => RegistryError::Auth(m),
        OciDistributionError::RequestError(e) if e.is_timeout() => {
            RegistryError::Other(format!("timeout reading {what}"))
        }
        other => RegistryError::Other(other.to_string()),
    }
}

impl Registry {
    /// The blob `digest` of `r`'s repository as a stream of chunks, for
    /// image inspection: no cap here (the reader counts the bytes and
    /// checks them against the descriptor's size and digest).
    pub async fn blob_stream(
        &self,
        r: &Reference,
        digest: &str,
        size: i64,
    ) -> Result<
        impl futures_util::Stream<Item = std::io::Result<impl AsRef<[u8]> + Send + 'static>>
            + Send
            + Unpin
            + 'static,
        RegistryError,
    > {
        let desc = oci_client::manifest::OciDescriptor {
            digest: digest.to_string(),
            size,
            ..Default::default()
        };
        let sized = self
            .client
            .pull_blob_stream(r, &desc)
            .await
            .map_err(|e| map_err(e, digest))?;
        Ok(sized.stream)
    }
}
