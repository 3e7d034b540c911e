//! Candor's coordinator: the round state machine, aggregation strategies and
//! the durable, auditable record of every round.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod config;
mod error;
pub mod export;
pub mod node;
pub mod round;
pub mod status;
pub mod store;
pub mod strategy;
mod verify_queue;

pub use error::CoordinatorError;
