use thiserror::Error;

/// Errors of the simulation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The simulation config is unusable.
    #[error("config: {0}")]
    Config(String),
    /// Spec, data or model invalid.
    #[error(transparent)]
    Core(#[from] candor_core::CoreError),
    /// Proving, or checking an own proof, failed.
    #[error(transparent)]
    Circuit(#[from] candor_circuits::CircuitError),
    /// Training failed.
    #[error(transparent)]
    Participant(#[from] candor_participant::ParticipantError),
    /// The coordinator side failed (strategy, state).
    #[error(transparent)]
    Coordinator(#[from] candor_coordinator::CoordinatorError),
    /// A message could not be encoded or decoded.
    #[error("wire: {0}")]
    Wire(String),
    /// The protocol was not followed (a bug of the simulation, not of a participant).
    #[error("protocol: {0}")]
    Protocol(String),
    /// Writing the report failed.
    #[error("report: {0}")]
    Report(String),
}
