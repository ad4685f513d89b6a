//! Image verification for Palisade: admit a container only when it carries
//! every signature and attestation its image policy requires.
//!
//! - [`registry`]: the OCI distribution API (oci-client), with CA,
//!   `insecure` and credentials per registry and a size cap on what is read.
//! - [`legacy`]: cosign's `.sig` and `.att` layout; [`dsse`]: envelopes and
//!   in-toto statements; [`keys`] and [`signer`]: keys (RustCrypto).
//! - [`policy`]: the `images:` section compiled; [`verify`]: the verifier
//!   with its caches and time budget; [`provider`]: the verdicts as engine
//!   context for the image rules.
//! - [`inspect`]: image content (shells, package managers, tools, user,
//!   age) read from the layers as streams; [`oci_layout`]: a reproducible
//!   OCI layout writer.
//! - [`bundle`]: Sigstore bundles verified offline against a trusted root.
//! - [`credentials`]: Docker `config.json` auths and per-request
//!   credentials (a pod's pull secrets).
//! - [`sign`]: `palisade image sign/attest` in the legacy layout.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bundle;
pub mod cache;
pub mod condition;
pub mod credentials;
pub mod dsse;
pub mod error;
pub mod inspect;
pub mod keys;
pub mod legacy;
pub mod oci_layout;
pub mod policy;
pub mod provider;
pub mod reference;
pub mod registry;
pub mod sign;
pub mod signer;
pub mod verify;

pub use error::{ImageError, KeyError, RegistryError};
pub use keys::PublicKey;
pub use policy::ImagePolicies;
pub use provider::{images_of, ImageProvider};
pub use reference::ImageRef;
pub use registry::{Registry, RegistryOptions};
pub use signer::SigningKey;
pub use verify::{Verifier, VerifierOptions};
