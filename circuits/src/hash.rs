//! Poseidon, natively and in-circuit, through nova-snark's own sponge (width
//! 25, rate 24) so that both sides share one set of constants.
//!
//! A hash is one sponge call: absorb the inputs, squeeze one full field
//! element. The sponge's IO pattern includes the input length, which
//! separates hashes of different arities.

use crate::CircuitField;
use nova_snark::frontend::{num::AllocatedNum, ConstraintSystem, SynthesisError};
use nova_snark::provider::poseidon::{PoseidonConstantsCircuit, PoseidonRO, PoseidonROCircuit};
use nova_snark::traits::{ROCircuitTrait, ROTrait};
use std::sync::Arc;

/// Shared Poseidon constants (generating them takes milliseconds).
#[derive(Clone)]
pub struct Hasher<F: CircuitField> {
    constants: Arc<PoseidonConstantsCircuit<F>>,
}

impl<F: CircuitField> Default for Hasher<F> {
    fn default() -> Self {
        Self { constants: Arc::new(PoseidonConstantsCircuit::default()) }
    }
}

impl<F: CircuitField> Hasher<F> {
    /// Native hash of `inputs`.
    pub fn hash(&self, inputs: &[F]) -> F {
        let mut ro = PoseidonRO::<F>::new((*self.constants).clone());
        for x in inputs {
            ro.absorb(*x);
        }
        // all bits: the squeezed element is returned unreduced
        ro.squeeze(F::NUM_BITS as usize, false)
    }

    /// In-circuit hash of allocated `inputs`.
    pub fn hash_circuit<CS: ConstraintSystem<F>>(&self, mut cs: CS, inputs: &[AllocatedNum<F>]) -> Result<AllocatedNum<F>, SynthesisError> {
        let mut ro = PoseidonROCircuit::<F>::new((*self.constants).clone());
        for x in inputs {
            ro.absorb(x);
        }
        ro.squeeze_scalar(cs.namespace(|| "squeeze"))
    }
}

/// Packs bytes (an identifier) into field elements of 31 bytes each.
pub fn bytes_to_fields<F: CircuitField>(bytes: &[u8]) -> Vec<F> {
    let mut out = vec![F::from(bytes.len() as u64)];
    for chunk in bytes.chunks(31) {
        let mut acc = F::ZERO;
        for &b in chunk.iter().rev() {
            acc = acc * F::from(256u64) + F::from(u64::from(b));
        }
        out.push(acc);
    }
    out
}
