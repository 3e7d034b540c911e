//! Products over the committed packings, shared by the MLP's hidden layer and
//! softmax regression: pre-activations from the column packing, updates from
//! the row packing.

use crate::field::{fe, pow2};
use crate::gadgets::{claim_slots, constant, enforce_eq, mul, Bits, Lin};
use crate::packing::{col_chunk_rows, row_chunk_features};
use crate::CircuitField;
use candor_core::Layout;
use nova_snark::frontend::{num::AllocatedNum, ConstraintSystem, SynthesisError, Variable};

/// One unit's pre-activations `sum_i W_i X_i + b 2^f` for the rows of column
/// chunk `c`, from the committed column packing `cols` (`X_i` per feature and
/// chunk): `d` products, and one decomposition per row that proves its slot
/// (and holds its floor by `2^f`). `weight(i)` indexes feature `i`'s weight
/// in `params`, `bias` the unit's bias; `values` are the rows' witnessed
/// pre-activations. Shared by the MLP's hidden layer and softmax
/// regression's logits.
pub(crate) fn pre_from_columns<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    (cols, c): (&[AllocatedNum<F>], usize),
    (params, weight, bias): (&[Lin<F>], impl Fn(usize) -> usize, usize),
    values: &[i128],
    one: Variable,
) -> Result<Vec<Bits<F>>, SynthesisError> {
    let rows = col_chunk_rows(l, c);
    let slots: F = rows.clone().map(|s| pow2::<F>(l.fwd_bits * (s - rows.start) as u32)).sum();
    let mut sum = Lin::zero();
    for i in 0..l.features() {
        let x = Lin::num(&cols[i * l.fwd_chunks() + c]);
        sum = sum.add(&Lin::num(&mul(cs.namespace(|| format!("wx{i}")), &params[weight(i)], &x)?));
    }
    sum = sum.add_scaled(slots * pow2::<F>(l.spec.format.frac_bits), &params[bias]);
    let (bits, claimed) = claim_slots(cs, "pre", values, (l.fwd_bits, l.fwd_bits), one)?;
    enforce_eq(cs.namespace(|| "slots"), &claimed, &sum);
    Ok(bits)
}

/// `D/2`, the constant each update value carries so that its high bits are
/// the new weight rounded to nearest ([`Layout::update`]): one more term in
/// a linear combination, no constraint.
pub(crate) fn rounding<F: CircuitField>(l: &Layout, one: Variable) -> Lin<F> {
    constant(1i128 << (l.upd_shift - 1), one)
}

/// The parameters, their update values `w D - lr G + D/2` (the witness) and the
/// decompositions proven so far, by parameter index.
pub(crate) type Updates<'a, F> = (&'a [Lin<F>], &'a [i128], &'a mut [Option<Bits<F>>]);

/// One parameter per feature (`index(i)` is feature `i`'s) updated from the
/// committed row packing `rows` (`R_b` per row and feature chunk): per chunk,
/// `sum_b e_b R_b` puts every feature's gradient in its slot, and one
/// decomposition per parameter proves `w D - lr G + D/2` (its high bits
/// are the new weight). `errs` holds one error per row; the decompositions
/// go into `upd`. Shared by the MLP's hidden layer and softmax regression.
pub(crate) fn update_from_rows<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    rows: &[AllocatedNum<F>],
    errs: &[Lin<F>],
    (params, values, upd): Updates<'_, F>,
    index: impl Fn(usize) -> usize,
    one: Variable,
) -> Result<(), SynthesisError> {
    let (lr, dd, half) = (fe::<F>(l.lr_q as i128), pow2::<F>(l.upd_shift), rounding(l, one));
    for c in 0..l.bwd_chunks() {
        let mut cs = cs.namespace(|| format!("chunk{c}"));
        let feats = row_chunk_features(l, c);
        let mut grad = Lin::zero();
        for (b, e) in errs.iter().enumerate() {
            let r = Lin::num(&rows[b * l.bwd_chunks() + c]);
            grad = grad.add(&Lin::num(&mul(cs.namespace(|| format!("er{b}")), e, &r)?));
        }
        let mut expect = grad.scale(-lr);
        for i in feats.clone() {
            let slot = pow2::<F>(l.bwd_bits * (i - feats.start) as u32);
            expect = expect.add_scaled(slot * dd, &params[index(i)]).add_scaled(slot, &half);
        }
        let vals: Vec<i128> = feats.clone().map(|i| values[index(i)]).collect();
        let (bits, claimed) = claim_slots(&mut cs, "upd", &vals, (l.bwd_bits, l.upd_bits), one)?;
        enforce_eq(cs.namespace(|| "slots"), &claimed, &expect);
        for (bit, i) in bits.into_iter().zip(feats) {
            upd[index(i)] = Some(bit);
        }
    }
    Ok(())
}
