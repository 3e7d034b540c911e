//! Candor's prover: the proving pipeline for data commitments and local
//! training ([`prove_commitment`], [`prove_training`]), its resumable
//! checkpoints ([`checkpoint`]) and test fixtures ([`fixtures`]). It is the
//! only crate that handles a hospital's rows in a witness; the coordinator
//! links `candor-circuits` (parameters and verification) and not this one,
//! which CI checks with `cargo tree`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint;
#[doc(hidden)]
pub mod fixtures;
mod prove;

pub use prove::*;
