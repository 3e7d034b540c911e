//! The training state behind the one-element IVC state.
//!
//! Nova hashes its whole state at every fold (about 134 constraints per
//! element), so the state is a single Poseidon digest of everything a fold
//! needs: the statement context (round, participant, spec, row count), the
//! data commitment, the epoch position and data-chain value, the proven
//! sample count, and the packed model. The fold re-opens the digest from a
//! witness preimage and closes it over the new values.

use crate::field::pack;
use crate::hash::{bytes_to_fields, Hasher};
use crate::CircuitField;
use candor_core::layout::FIELD_PACK_BITS;
use candor_core::Model;
use candor_core::{CoreError, Layout};

/// Start value of the data hash chain, and its value between epochs.
pub fn data_iv<F: CircuitField>() -> F {
    F::from(0x6361_6e64_6f72_0001) // "candor" + chain tag
}

const CONTEXT_TAG: u64 = 0x6361_6e64_6f72_0002;

/// First element of every state digest's preimage, so that no other hash
/// Candor computes (context, model digest, data chain) can be taken for one.
pub const STATE_TAG: u64 = 0x6361_6e64_6f72_0004;

/// Hash of everything about a proof that no step changes: the spec, the
/// federation, the round, the participant and its committed row count.
/// Identifiers are length-prefixed ([`bytes_to_fields`]), so no two
/// (federation, participant) pairs share a preimage.
pub fn context<F: CircuitField>(
    hasher: &Hasher<F>,
    layout: &Layout,
    federation: &[u8],
    round: u64,
    participant: &[u8],
    rows: u64,
) -> Result<F, CoreError> {
    let mut pre = vec![F::from(CONTEXT_TAG)];
    pre.extend(layout.spec.to_words()?.into_iter().map(F::from));
    pre.push(F::from(round));
    pre.push(F::from(rows));
    pre.extend(bytes_to_fields::<F>(participant));
    pre.extend(bytes_to_fields::<F>(federation));
    Ok(hasher.hash(&pre))
}

/// Parameters per packed element.
pub fn params_per_element(layout: &Layout) -> usize {
    (FIELD_PACK_BITS / layout.value_bits) as usize
}

/// Model parameters packed for hashing (each fits `value_bits`).
pub fn packed_params<F: CircuitField>(layout: &Layout, params: &[i64]) -> Vec<F> {
    params.chunks(params_per_element(layout)).map(|c| pack(c.iter().map(|&p| p as i128), layout.value_bits)).collect()
}

/// The state a fold consumes and produces.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainState<F: CircuitField> {
    /// [`context`] of the statement.
    pub ctx: F,
    /// Data commitment (hash-chain value after one epoch).
    pub commitment: F,
    /// Batches per epoch.
    pub batches: u64,
    /// Batches consumed in the current epoch.
    pub counter: u64,
    /// Data-chain value so far in the current epoch.
    pub chain: F,
    /// Real rows consumed so far.
    pub samples: u64,
    /// Current model.
    pub model: Model,
}

impl<F: CircuitField> TrainState<F> {
    /// The state before the first step of a round.
    pub fn start(ctx: F, commitment: F, batches: u64, model: Model) -> Self {
        Self { ctx, commitment, batches, counter: 0, chain: data_iv(), samples: 0, model }
    }

    /// Preimage of the digest, in the order the circuit absorbs it.
    pub fn preimage(&self, layout: &Layout) -> Vec<F> {
        let mut pre = vec![
            F::from(STATE_TAG),
            self.ctx,
            self.commitment,
            F::from(self.batches),
            F::from(self.counter),
            self.chain,
            F::from(self.samples),
        ];
        pre.extend(packed_params::<F>(layout, &self.model.params()));
        pre
    }

    /// The digest that is the IVC state.
    pub fn digest(&self, hasher: &Hasher<F>, layout: &Layout) -> F {
        hasher.hash(&self.preimage(layout))
    }
}
