//! One SGD step of multinomial logistic regression in-circuit: the arithmetic
//! of `candor_core::model::softmax`, bit for bit.
//!
//! It is the linear step once per class, with the MLP's softmax head:
//!
//! - logits: `sum_i W_ik X_i` over the committed column packing puts every
//!   row's `pre_bk` in its slot (`d` products per class and chunk), proven by
//!   one decomposition per row and class whose bits also feed `exp2`;
//! - `softmax2` per row (`crate::gadgets::softmax2`: a quotient and a
//!   remainder proven below the denominator), error `mask (q - onehot 2^f)`;
//! - gradient: `sum_b e_bk R_b` over the committed row packing (`B` products
//!   per class and feature chunk); one decomposition per parameter proves
//!   `w D - lr G + D/2`, whose high bits are the new weight (rounded to nearest).

use super::meta::Meta;
use super::packed::{pre_from_columns, rounding, update_from_rows};
use crate::field::{fe, pow2};
use crate::gadgets::{alloc_lin, claim_one, mul, softmax2, Bits, Lin};
use crate::packing::{col_chunk_rows, meta_elements};
use crate::CircuitField;
use candor_core::model::softmax::SoftmaxTrace;
use candor_core::Layout;
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::{ConstraintSystem, SynthesisError, Variable};

/// The step over allocated parameters (canonical order: weights
/// `features x classes` row-major, then biases) and the batch's elements;
/// returns the new parameters. `forged` (tests only) claims one softmax
/// quotient one higher: `(row, class)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn synthesize_step<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    params: &[Lin<F>],
    elems: &[AllocatedNum<F>],
    meta: &Meta<F>,
    t: &SoftmaxTrace,
    forged: Option<(usize, usize)>,
    one: Variable,
) -> Result<Vec<Lin<F>>, SynthesisError> {
    let sum_bits = l.softmax_sum_bits.ok_or_else(|| SynthesisError::Unsatisfiable("not a softmax regression layout".into()))?;
    let (bs, d, k, f) = (l.batch(), l.features(), l.spec.model.outputs(), l.spec.format.frac_bits);
    let (w, bias) = (|i: usize, c: usize| i * k + c, |c: usize| d * k + c);

    // Logits: pre-activations in the column-packed slots, per class.
    let col0 = meta_elements(l);
    let mut pre: Vec<Option<Bits<F>>> = (0..bs * k).map(|_| None).collect();
    for ch in 0..l.fwd_chunks() {
        let rows = col_chunk_rows(l, ch);
        for c in 0..k {
            let mut cs = cs.namespace(|| format!("logit{ch}_{c}"));
            let vals: Vec<i128> = rows.clone().map(|b| t.pre[b * k + c]).collect();
            let bits = pre_from_columns(&mut cs, l, (&elems[col0..], ch), (params, |i| w(i, c), bias(c)), &vals, one)?;
            for (b, bit) in rows.clone().zip(bits) {
                pre[b * k + c] = Some(bit);
            }
        }
    }
    let pre: Vec<Bits<F>> = pre.into_iter().map(|b| b.expect("every slot claimed")).collect();

    // Output errors, masked.
    let mut err = Vec::with_capacity(bs * k);
    for b in 0..bs {
        let mut cs = cs.namespace(|| format!("err{b}"));
        let forged = forged.and_then(|(row, class)| (row == b).then_some(class));
        let q = softmax2(&mut cs, l, sum_bits, &pre[b * k..(b + 1) * k], &t.pre[b * k..(b + 1) * k], forged, one)?;
        for (c, q) in q.into_iter().enumerate() {
            let target = q.add_scaled(-pow2::<F>(f), &meta.class[b][c]);
            err.push(Lin::num(&mul(cs.namespace(|| format!("mask{c}")), &meta.mask[b], &target)?));
        }
    }

    // Updates: w D - lr G + D/2 in row-packed slots, per class.
    let (lr, dd, half) = (fe::<F>(l.lr_q as i128), pow2::<F>(l.upd_shift), rounding(l, one));
    let row0 = col0 + l.fwd_columns() * l.fwd_chunks();
    let mut upd: Vec<Option<Bits<F>>> = (0..params.len()).map(|_| None).collect();
    for c in 0..k {
        let errs: Vec<Lin<F>> = (0..bs).map(|b| err[b * k + c].clone()).collect();
        update_from_rows(&mut cs.namespace(|| format!("grad{c}")), l, &elems[row0..], &errs, (params, &t.upd, &mut upd), |i| w(i, c), one)?;
        let esum = (0..bs).fold(Lin::zero(), |acc, b| acc.add(&err[b * k + c]));
        let expect = params[bias(c)].clone().scale(dd).add_scaled(-lr * pow2::<F>(f), &esum).add(&half);
        upd[bias(c)] = Some(claim_one(cs, &format!("bias{c}"), t.upd[bias(c)], l.upd_bits, &expect, one)?);
    }

    upd.into_iter()
        .enumerate()
        .map(|(i, u)| {
            let u = u.expect("every parameter updated");
            Ok(Lin::num(&alloc_lin(cs.namespace(|| format!("w{i}")), &u.floor_shift(l.upd_shift, one))?))
        })
        .collect()
}
