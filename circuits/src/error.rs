use thiserror::Error;

/// Errors of proving and verification.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CircuitError {
    /// The spec, data or model is invalid, or training overflowed.
    #[error(transparent)]
    Core(#[from] candor_core::CoreError),
    /// nova-snark failed while setting up or proving.
    #[error("proving failed: {0}")]
    Proving(String),
    /// A proof did not verify against the statement; the reason says which
    /// check failed.
    #[error("proof rejected: {0}")]
    Rejected(String),
    /// Bytes could not be decoded (a truncated or corrupted proof or cache).
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// Public parameters differ from the pinned digest, or a pin is
    /// malformed.
    #[error("public parameters: {0}")]
    Params(String),
    /// Reading or writing the parameter cache failed.
    #[error("parameter cache: {0}")]
    Io(#[from] std::io::Error),
}
