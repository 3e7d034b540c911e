use thiserror::Error;

/// Errors of the participant library.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ParticipantError {
    /// Spec, model or data invalid, or a fixed-point overflow in training.
    #[error(transparent)]
    Core(#[from] candor_core::CoreError),
    /// Proving or verifying failed.
    #[error(transparent)]
    Circuit(#[from] candor_circuits::CircuitError),
    /// A tensor operation failed.
    #[error("tensor: {0}")]
    Tensor(#[from] candle_core::Error),
    /// A setting is invalid or missing; the message names it.
    #[error("{0}")]
    Config(String),
    /// A config, study or registration file could not be read or parsed.
    #[error(transparent)]
    File(#[from] candor_core::file::FileError),
    /// The data does not fit the study's spec, or no longer matches its
    /// registered commitment.
    #[error("{0}")]
    Data(String),
    /// The coordinator announced a round this participant cannot work on.
    #[error("{0}")]
    Round(String),
    /// Writing state, keys or proofs, or the network, failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ParticipantError {
    /// A setting's error.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config(message.into())
    }
}
