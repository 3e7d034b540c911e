use thiserror::Error;

/// Errors of the shared core.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CoreError {
    /// A real number cannot be represented in the fixed-point format
    /// (out of range or not finite).
    #[error("value {value} does not fit fixed-point format {format}")]
    OutOfRange {
        /// The offending value, printed.
        value: String,
        /// The format, printed.
        format: String,
    },
    /// A training step produced a value outside the range its circuit
    /// constrains, so no proof of it could exist; training stops instead.
    #[error("fixed-point overflow in {what}: {value} is outside [{min}, {max}]")]
    Overflow {
        /// Which quantity overflowed.
        what: &'static str,
        /// Its value.
        value: i128,
        /// Smallest allowed value.
        min: i128,
        /// Largest allowed value.
        max: i128,
    },
    /// The training spec is not usable; the message names the field.
    #[error("invalid training spec: {0}")]
    InvalidSpec(String),
    /// A CSV file could not be read; the message names file, row and column.
    #[error("{0}")]
    Csv(String),
    /// A data set or batch does not match the spec.
    #[error("invalid data: {0}")]
    InvalidData(String),
}
