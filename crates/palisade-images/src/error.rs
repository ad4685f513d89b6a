//! The errors of image verification and signing.

/// A key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is not PEM.
    #[error("not a PEM key (expected -----BEGIN PUBLIC KEY-----)")]
    NotPem,
    /// A well-formed key of an algorithm Palisade does not verify.
    #[error("unsupported key type {0} (supported: ECDSA P-256/P-384, RSA, Ed25519)")]
    Unsupported(String),
    /// A malformed key.
    #[error("invalid key: {0}")]
    Invalid(String),
    /// An encrypted key whose password does not open it.
    #[error("cannot decrypt the private key (wrong password in PALISADE_PASSWORD?)")]
    Decrypt,
}

/// Asking a registry failed: the cause, as denials show it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    /// The registry took longer than the budget.
    #[error("registry timeout after {0} ms")]
    Timeout(u64),
    /// The registry refused the credentials (or asked for some).
    #[error("registry authentication failed: {0}")]
    Auth(String),
    /// The image (manifest) does not exist.
    #[error("image not found: {0}")]
    NotFound(String),
    /// A manifest or blob exceeds the size cap.
    #[error("{what} is larger than the {cap}-byte cap")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The cap in bytes.
        cap: usize,
    },
    /// Any other failure (connection, server error, malformed answer).
    #[error("registry error: {0}")]
    Other(String),
}

/// A bad reference, or a failure while signing and pushing.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The image reference does not parse.
    #[error("invalid image reference {reference:?}: {message}")]
    Reference {
        /// The reference as given.
        reference: String,
        /// Why it is invalid.
        message: String,
    },
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A key problem.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Anything else (I/O, JSON).
    #[error("{0}")]
    Other(String),
}
