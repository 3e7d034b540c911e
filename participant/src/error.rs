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
}
