use thiserror::Error;

/// Errors of the coordinator library.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CoordinatorError {
    /// A strategy was asked to aggregate no updates (or zero samples).
    #[error("nothing to aggregate")]
    NothingToAggregate,
    /// Updates of different shapes were aggregated.
    #[error("updates have different shapes")]
    ShapeMismatch,
    /// Invalid configuration; the message names the field.
    #[error("configuration: {0}")]
    Config(String),
    /// A config, study or registration file could not be read or parsed.
    #[error(transparent)]
    File(#[from] candor_core::file::FileError),
    /// A registration's commitment proof does not verify.
    #[error("commitment proof of {name}: {error}")]
    Commitment {
        /// The hospital's name.
        name: String,
        /// Why.
        error: candor_circuits::CircuitError,
    },
    /// Deriving or loading parameters failed.
    #[error(transparent)]
    Circuit(#[from] candor_circuits::CircuitError),
    /// Spec or model invalid.
    #[error(transparent)]
    Core(#[from] candor_core::CoreError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The database file exists but is empty or not a Candor database.
    #[error("{0}")]
    NotCandor(String),
    /// The database (or the listen address) is in use by another coordinator.
    #[error("{0}")]
    InUse(String),
    /// Stored bytes could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}
