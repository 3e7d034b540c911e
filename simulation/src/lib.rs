//! Candor's researcher simulation: a coordinator and many participants in
//! one process. The coordinator is the daemons' round state machine and
//! strategies; every message goes through the daemons' wire codec over an
//! in-memory transport; participants train on candle and, with proofs on,
//! prove every step and are verified before aggregation.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod adversary;
pub mod baseline;
pub mod config;
mod error;
pub mod hub;
pub mod member;
pub mod partition;
pub mod report;
pub mod sim;
pub mod transport;

pub use error::SimError;
