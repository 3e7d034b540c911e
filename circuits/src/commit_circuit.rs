//! The data commitment and its one-time proof.
//!
//! The commitment is a hash chain over one epoch of batches:
//! `h_{t+1} = H(h_t, blind_t, elements(batch_t))` from [`data_iv`], where the
//! elements are the packings of [`crate::packing`] and `blind_t` is a secret
//! random element that makes the commitment hiding. The proof (one Nova step
//! per batch, state `[chain, rows]`) shows that the committed elements are
//! packings of values that are in the format's range, with 0/1 masks and
//! valid labels, and counts the real rows. After it, SGD steps consume the
//! packed elements without checking their ranges again.

use crate::field::pow2;
use crate::gadgets::{alloc_bit, alloc_lin, enforce_eq, Bits, Lin};
use crate::hash::Hasher;
use crate::packing::{batch_elements, element_slots, Source};
use crate::state::data_iv;
use crate::CircuitField;
use candor_core::data::Batch;
use candor_core::{Layout, Task};
use nova_snark::frontend::{num::AllocatedNum, ConstraintSystem, SynthesisError};
use nova_snark::traits::circuit::StepCircuit;
use std::sync::Arc;

/// The commitment to one epoch of batches, computed natively.
pub fn commit_native<F: CircuitField>(hasher: &Hasher<F>, layout: &Layout, batches: &[Batch], blinds: &[F]) -> F {
    batches.iter().zip(blinds).fold(data_iv(), |h, (batch, blind)| {
        let mut pre = vec![h, *blind];
        pre.extend(batch_elements::<F>(layout, batch));
        hasher.hash(&pre)
    })
}

/// One batch of the commitment proof.
#[derive(Clone)]
pub struct CommitCircuit<F: CircuitField> {
    layout: Arc<Layout>,
    hasher: Hasher<F>,
    batch: Batch,
    blind: F,
}

impl<F: CircuitField> CommitCircuit<F> {
    /// The step for one batch.
    pub fn new(layout: Arc<Layout>, hasher: Hasher<F>, batch: Batch, blind: F) -> Self {
        Self { layout, hasher, batch, blind }
    }

    /// Zero witness of the right shape, for parameter setup.
    pub fn placeholder(layout: Arc<Layout>, hasher: Hasher<F>) -> Self {
        let (b, d) = (layout.batch(), layout.features());
        let batch = Batch { x: vec![0; b * d], y: vec![0; b], mask: vec![false; b] };
        Self { layout, hasher, batch, blind: F::ZERO }
    }
}

impl<F: CircuitField> StepCircuit<F> for CommitCircuit<F> {
    fn arity(&self) -> usize {
        2
    }

    fn synthesize<CS: ConstraintSystem<F>>(&self, cs: &mut CS, z: &[AllocatedNum<F>]) -> Result<Vec<AllocatedNum<F>>, SynthesisError> {
        let l = &*self.layout;
        let one = CS::one();
        let (bs, d) = (l.batch(), l.features());
        let batch = &self.batch;

        // Every value range-checked once, here.
        let mut x = Vec::with_capacity(bs * d);
        for b in 0..bs {
            for i in 0..d {
                let bits = Bits::alloc(cs.namespace(|| format!("x{b}_{i}")), batch.x(b, i) as i128, l.value_bits)?;
                x.push(bits.signed(one));
            }
        }
        let mut mask = Vec::with_capacity(bs);
        let mut label = Vec::with_capacity(bs);
        let mut class = Vec::with_capacity(bs);
        for b in 0..bs {
            mask.push(alloc_bit(cs.namespace(|| format!("mask{b}")), batch.mask[b])?);
            match l.spec.model.task {
                Task::Logistic => label.push(alloc_bit(cs.namespace(|| format!("label{b}")), batch.y[b] == 1)?),
                Task::Linear => label.push(Bits::alloc(cs.namespace(|| format!("y{b}")), batch.y[b] as i128, l.value_bits)?.signed(one)),
                Task::Softmax => {
                    // one-hot: bits that sum to one, so exactly one class
                    let bits = (0..l.spec.model.classes)
                        .map(|c| alloc_bit(cs.namespace(|| format!("class{b}_{c}")), batch.y[b] == c as i64))
                        .collect::<Result<Vec<_>, _>>()?;
                    let sum = bits.iter().fold(Lin::zero(), |acc, bit| acc.add(bit));
                    enforce_eq(cs.namespace(|| format!("one_hot{b}")), &sum, &Lin::constant(F::ONE, one));
                    class.push(bits);
                }
            }
        }

        // The same packings as `packing::batch_elements`, from checked values.
        let elems: Vec<Lin<F>> = element_slots(l)
            .iter()
            .map(|slots| {
                slots.iter().fold(Lin::zero(), |acc, &(src, off)| {
                    let v = match src {
                        Source::Mask(b) => &mask[b],
                        Source::Label(b) => &label[b],
                        Source::Class(b, c) => &class[b][c],
                        Source::X(b, i) => &x[b * d + i],
                    };
                    acc.add_scaled(pow2(off), v)
                })
            })
            .collect();

        let mut absorbed = vec![z[0].clone(), AllocatedNum::alloc(cs.namespace(|| "blind"), || Ok(self.blind))?];
        for (j, e) in elems.iter().enumerate() {
            absorbed.push(alloc_lin(cs.namespace(|| format!("elem{j}")), e)?);
        }
        let chain = self.hasher.hash_circuit(cs.namespace(|| "chain"), &absorbed)?;
        let rows = mask.iter().fold(Lin::num(&z[1]), |acc, m| acc.add(m));
        let rows = alloc_lin(cs.namespace(|| "rows"), &rows)?;
        Ok(vec![chain, rows])
    }
}
