//! One SGD step of logistic or linear regression in-circuit: the arithmetic
//! of `candor_core::model::linear`, bit for bit.
//!
//! 1. forward: `sum_i w_i X_i` puts every row's pre-activation in its slot;
//!    one decomposition per row proves the slots, floor-divides by `2^f` and
//!    feeds the hard sigmoid's saturation tests;
//! 2. error `e_b = mask_b (sigma_b - y_b)` (or `mask_b z_b` for regression);
//! 3. gradient: `sum_b e_b R_b` puts every feature's gradient in its slot;
//!    one decomposition per parameter proves `w D - lr G + D/2`, whose high bits are
//!    the new weight, range-checked to the format by construction.

use super::meta::Meta;
use super::packed::rounding;
use crate::field::{fe, pow2};
use crate::gadgets::{alloc_lin, enforce_eq, hard_sigmoid, mul, Bits, Lin};
use crate::packing::{col_chunk_rows, meta_elements, row_chunk_features};
use crate::CircuitField;
use candor_core::model::linear::StepTrace;
use candor_core::{Layout, Task};
use nova_snark::frontend::{num::AllocatedNum, ConstraintSystem, SynthesisError, Variable};

/// One logistic or linear regression step.
pub(crate) fn synthesize_step<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    params: &[Lin<F>],
    elems: &[AllocatedNum<F>],
    meta: &Meta<F>,
    trace: &StepTrace,
    one: Variable,
) -> Result<Vec<Lin<F>>, SynthesisError> {
    let (bs, d, f) = (l.batch(), l.features(), l.spec.format.frac_bits);
    let (mask, label) = (&meta.mask, &meta.label);

    // Forward: pre-activations in column-packed slots.
    let col0 = meta_elements(l);
    let mut pre = Vec::with_capacity(bs);
    for c in 0..l.fwd_chunks() {
        let rows = col_chunk_rows(l, c);
        let mut sum = Lin::zero();
        for (i, w) in params.iter().take(d).enumerate() {
            let x = Lin::num(&elems[col0 + i * l.fwd_chunks() + c]);
            sum = sum.add(&Lin::num(&mul(cs.namespace(|| format!("wx{c}_{i}")), w, &x)?));
        }
        let slots: F = rows.clone().map(|s| pow2::<F>(l.fwd_bits * (s - rows.start) as u32)).sum();
        sum = sum.add_scaled(slots * pow2::<F>(f), &params[d]);
        if l.spec.model.task == Task::Linear {
            sum = sum.add_scaled(-pow2::<F>(f), &Lin::num(&elems[col0 + d * l.fwd_chunks() + c]));
        }
        let mut claimed = Lin::zero();
        for b in rows.clone() {
            let bits = Bits::alloc(cs.namespace(|| format!("pre{b}")), trace.pre[b], l.fwd_bits)?;
            claimed = claimed.add_scaled(pow2(l.fwd_bits * (b - rows.start) as u32), &bits.signed(one));
            pre.push(bits);
        }
        enforce_eq(cs.namespace(|| format!("fwd{c}")), &claimed, &sum);
    }

    // Output error per row.
    let mut err = Vec::with_capacity(bs);
    for b in 0..bs {
        let mut cs = cs.namespace(|| format!("err{b}"));
        let target = match l.spec.model.task {
            Task::Logistic => hard_sigmoid(&mut cs, &pre[b], f, one)?.add_scaled(-pow2::<F>(f), &label[b]),
            Task::Linear => pre[b].floor_shift(f, one),
            Task::Softmax => return Err(SynthesisError::Unsatisfiable("softmax has its own step".into())),
        };
        err.push(Lin::num(&mul(cs.namespace(|| "mask"), &mask[b], &target)?));
    }

    // Gradient and update: w D - lr G + D/2 in row-packed slots.
    let row0 = col0 + l.fwd_columns() * l.fwd_chunks();
    let (lr, dd, half) = (fe::<F>(l.lr_q as i128), pow2::<F>(l.upd_shift), rounding(l, one));
    let mut upd = Vec::with_capacity(d + 1);
    for c in 0..l.bwd_chunks() {
        let feats = row_chunk_features(l, c);
        let mut grad = Lin::zero();
        for (b, e) in err.iter().enumerate() {
            let r = Lin::num(&elems[row0 + b * l.bwd_chunks() + c]);
            grad = grad.add(&Lin::num(&mul(cs.namespace(|| format!("er{c}_{b}")), e, &r)?));
        }
        let mut expect = grad.scale(-lr);
        let mut claimed = Lin::zero();
        for i in feats.clone() {
            let slot = pow2::<F>(l.bwd_bits * (i - feats.start) as u32);
            expect = expect.add_scaled(slot * dd, &params[i]).add_scaled(slot, &half);
            let bits = Bits::alloc(cs.namespace(|| format!("upd{i}")), trace.upd[i], l.upd_bits)?;
            claimed = claimed.add_scaled(slot, &bits.signed(one));
            upd.push(bits);
        }
        enforce_eq(cs.namespace(|| format!("bwd{c}")), &claimed, &expect);
    }
    let err_sum = err.iter().fold(Lin::zero(), |acc, e| acc.add(e));
    let expect = params[d].clone().scale(dd).add_scaled(-lr * pow2::<F>(f), &err_sum).add(&half);
    let bits = Bits::alloc(cs.namespace(|| "upd_bias"), trace.upd[d], l.upd_bits)?;
    enforce_eq(cs.namespace(|| "bwd_bias"), &bits.signed(one), &expect);
    upd.push(bits);

    upd.iter()
        .enumerate()
        .map(|(i, u)| Ok(Lin::num(&alloc_lin(cs.namespace(|| format!("w{i}")), &u.floor_shift(l.upd_shift, one))?)))
        .collect()
}
