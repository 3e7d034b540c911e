//! Candor's participant: loads a hospital's CSV, trains with candle and
//! proves every SGD step.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod check;
pub mod client;
pub mod commands;
pub mod config;
pub mod daemon;
mod error;
pub mod local;
pub mod round;
pub mod train;

pub use error::ParticipantError;
