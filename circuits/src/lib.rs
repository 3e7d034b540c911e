//! Candor's circuits: the data-commitment proof and the proof of local
//! training (fixed-point SGD, `steps_per_fold` steps per Nova fold), their
//! parameters and their verification. Proving (which handles patient data)
//! is in `candor-prover`, which the coordinator does not link.
//!
//! Everything here is generic over the field; only [`engine`] names curves.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod batch;
pub mod commit_circuit;
pub mod cost;
pub mod encoding;
pub mod engine;
mod error;
pub mod field;
pub mod gadgets;
pub mod hash;
pub mod packing;
pub mod padding;
pub mod profile;
pub mod state;
pub mod step;
pub mod verifier;

pub use error::CircuitError;

use ff::{PrimeField, PrimeFieldBits};
use serde::{de::DeserializeOwned, Serialize};

/// The fields our circuits run over: what nova-snark's Poseidon needs.
pub trait CircuitField: PrimeField + PrimeFieldBits + Serialize + DeserializeOwned {}
impl<T: PrimeField + PrimeFieldBits + Serialize + DeserializeOwned> CircuitField for T {}
