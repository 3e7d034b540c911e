use std::path::PathBuf;
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
    /// A file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not valid TOML of its kind.
    #[error("parsing {}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and why.
        source: Box<toml::de::Error>,
    },
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

/// Reads a TOML file of type `T`, naming the file in any error.
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T, ParticipantError> {
    let text = std::fs::read_to_string(path).map_err(|source| ParticipantError::Read { path: path.to_path_buf(), source })?;
    toml::from_str(&text).map_err(|source| ParticipantError::Parse { path: path.to_path_buf(), source: Box::new(source) })
}
