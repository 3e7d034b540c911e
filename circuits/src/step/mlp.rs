//! One SGD step of a one-hidden-layer MLP in-circuit: the arithmetic of
//! `candor_core::model::mlp`, bit for bit.
//!
//! As for the linear model, products are taken on packed values and every
//! packed slot is extracted by the range-checked decomposition that its floor
//! rescaling needs anyway:
//!
//! - hidden layer: `sum_i W1_ij X_i` over the committed column packing puts
//!   every row's `pre1_bj` in its slot (`d` products per unit and chunk);
//!   its decomposition gives `z1 = floor(pre1 / 2^f)`, the clipped ReLU's
//!   sign (top bit) and saturation (high bits): no second decomposition;
//! - output layer: the activations of a chunk of rows are packed for free
//!   (a linear combination), so `sum_j W2_jk A_j` costs `h` products per
//!   class and chunk;
//! - softmax2: `exp2_approx` from bit fields of the logit's decomposition and
//!   a product over the bits of its integer part; the division by the sum is a
//!   quotient with a remainder proven in `[0, S)` by two decompositions;
//! - hidden error `floor(sum_k e_k W2_jk / 2^f)`: errors packed over rows,
//!   `k` products per unit and chunk, one decomposition per row and unit;
//! - gradients: `W1` from the committed row packing (`B` products per unit and
//!   feature chunk), `W2` from errors packed over classes (`B` products per
//!   unit and class chunk); one decomposition per parameter proves
//!   `w D - lr G + D/2`, whose high bits are the new weight (rounded to nearest).

use super::meta::Meta;
use super::packed::{pre_from_columns, rounding, update_from_rows};
use crate::field::{fe, pow2};
use crate::gadgets::{alloc_lin, claim_one, claim_slots, enforce_eq, hard_sigmoid, mul, pack_lin, relu, softmax2, Bits, Lin};
use crate::packing::{col_chunk_rows, meta_elements};
use crate::CircuitField;
use candor_core::layout::slots_per_element;
use candor_core::model::mlp::MlpTrace;
use candor_core::Layout;
use nova_snark::frontend::{num::AllocatedNum, ConstraintSystem, SynthesisError, Variable};

/// Indices of the parameters in canonical order.
struct Params {
    d: usize,
    h: usize,
    k: usize,
}

impl Params {
    fn w1(&self, i: usize, j: usize) -> usize {
        i * self.h + j
    }
    fn b1(&self, j: usize) -> usize {
        self.d * self.h + j
    }
    fn w2(&self, j: usize, c: usize) -> usize {
        self.d * self.h + self.h + j * self.k + c
    }
    fn b2(&self, c: usize) -> usize {
        self.d * self.h + self.h + self.h * self.k + c
    }
}

/// The MLP step over allocated parameters (canonical order) and the batch's
/// elements; returns the new parameters. `soft_forgery` (tests only) claims
/// one softmax quotient one higher: `(row, class)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn synthesize_step<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    params: &[Lin<F>],
    elems: &[AllocatedNum<F>],
    meta: &Meta<F>,
    t: &MlpTrace,
    soft_forgery: Option<(usize, usize)>,
    one: Variable,
) -> Result<Vec<Lin<F>>, SynthesisError> {
    let not_mlp = || SynthesisError::Unsatisfiable("not an MLP layout".into());
    let (m, shape) = (l.mlp.ok_or_else(not_mlp)?, l.mlp_shape().ok_or_else(not_mlp)?);
    let fmt = l.spec.format;
    let (bs, d, h, k, f) = (l.batch(), l.features(), shape.hidden, shape.outputs, fmt.frac_bits);
    let p = Params { d, h, k };

    // Hidden layer: pre-activations in the column-packed slots, ReLU.
    let col0 = meta_elements(l);
    let (mut act, mut pass) = (vec![Lin::zero(); bs * h], vec![Lin::zero(); bs * h]);
    for c in 0..l.fwd_chunks() {
        let rows = col_chunk_rows(l, c);
        for j in 0..h {
            let mut cs = cs.namespace(|| format!("hidden{c}_{j}"));
            let vals: Vec<i128> = rows.clone().map(|b| t.pre1[b * h + j]).collect();
            let bits = pre_from_columns(&mut cs, l, (&elems[col0..], c), (params, |i| p.w1(i, j), p.b1(j)), &vals, one)?;
            for (s, b) in rows.clone().enumerate() {
                let (a, ps) = relu(&mut cs.namespace(|| format!("relu{s}")), &bits[s], l)?;
                act[b * h + j] = a;
                pass[b * h + j] = ps;
            }
        }
    }

    // Output layer: activations packed over rows for free.
    let r2 = slots_per_element(m.pre2_bits, bs);
    let mut pre2: Vec<Option<Bits<F>>> = (0..bs * k).map(|_| None).collect();
    for c0 in (0..bs).step_by(r2) {
        let rows = c0..(c0 + r2).min(bs);
        let slots: F = rows.clone().map(|s| pow2::<F>(m.pre2_bits * (s - c0) as u32)).sum();
        let packed: Vec<Lin<F>> = (0..h).map(|j| pack_lin(rows.clone().map(|b| (b - c0, act[b * h + j].clone())), m.pre2_bits)).collect();
        for c in 0..k {
            let mut cs = cs.namespace(|| format!("output{c0}_{c}"));
            let mut sum = Lin::zero();
            for (j, a) in packed.iter().enumerate() {
                sum = sum.add(&Lin::num(&mul(cs.namespace(|| format!("wa{j}")), &params[p.w2(j, c)], a)?));
            }
            sum = sum.add_scaled(slots * pow2::<F>(f), &params[p.b2(c)]);
            let vals: Vec<i128> = rows.clone().map(|b| t.pre2[b * k + c]).collect();
            let (bits, claimed) = claim_slots(&mut cs, "pre", &vals, (m.pre2_bits, m.pre2_bits), one)?;
            enforce_eq(cs.namespace(|| "slots"), &claimed, &sum);
            for (s, b) in bits.into_iter().zip(rows.clone()) {
                pre2[b * k + c] = Some(s);
            }
        }
    }
    let pre2: Vec<Bits<F>> = pre2.into_iter().map(|b| b.expect("every slot claimed")).collect();

    // Output errors, masked.
    let mut err = Vec::with_capacity(bs * k);
    for b in 0..bs {
        let mut cs = cs.namespace(|| format!("err{b}"));
        let targets: Vec<Lin<F>> = if k == 1 {
            let sig = hard_sigmoid(&mut cs, &pre2[b], f, one)?;
            vec![sig.add_scaled(-pow2::<F>(f), &meta.label[b])]
        } else {
            let forged = soft_forgery.and_then(|(row, class)| (row == b).then_some(class));
            softmax2(&mut cs, l, m.sum_bits, &pre2[b * k..(b + 1) * k], &t.pre2[b * k..(b + 1) * k], forged, one)?
                .into_iter()
                .enumerate()
                .map(|(c, q)| q.add_scaled(-pow2::<F>(f), &meta.class[b][c]))
                .collect()
        };
        for (c, target) in targets.iter().enumerate() {
            err.push(Lin::num(&mul(cs.namespace(|| format!("mask{c}")), &meta.mask[b], target)?));
        }
    }

    // Hidden errors: errors packed over rows, one decomposition per row/unit.
    let rb = slots_per_element(m.back_bits, bs);
    let mut delta = vec![Lin::zero(); bs * h];
    for c0 in (0..bs).step_by(rb) {
        let rows = c0..(c0 + rb).min(bs);
        let packed: Vec<Lin<F>> = (0..k).map(|c| pack_lin(rows.clone().map(|b| (b - c0, err[b * k + c].clone())), m.back_bits)).collect();
        for j in 0..h {
            let mut cs = cs.namespace(|| format!("back{c0}_{j}"));
            let mut sum = Lin::zero();
            for (c, e) in packed.iter().enumerate() {
                sum = sum.add(&Lin::num(&mul(cs.namespace(|| format!("we{c}")), &params[p.w2(j, c)], e)?));
            }
            let vals: Vec<i128> = rows.clone().map(|b| t.back[b * h + j]).collect();
            let (bits, claimed) = claim_slots(&mut cs, "back", &vals, (m.back_bits, m.back_bits), one)?;
            enforce_eq(cs.namespace(|| "slots"), &claimed, &sum);
            for (s, b) in rows.clone().enumerate() {
                let g = bits[s].floor_shift(f, one);
                delta[b * h + j] = Lin::num(&mul(cs.namespace(|| format!("delta{s}")), &pass[b * h + j], &g)?);
            }
        }
    }

    // Updates: w D - lr G + D/2 decomposed per parameter.
    let (lr, dd, half) = (fe::<F>(l.lr_q as i128), pow2::<F>(l.upd_shift), rounding(l, one));
    let lr_one = lr * pow2::<F>(f);
    let mut upd: Vec<Option<Bits<F>>> = (0..params.len()).map(|_| None).collect();
    let row0 = col0 + l.fwd_columns() * l.fwd_chunks();
    for j in 0..h {
        // W1 column j from the committed row packing.
        let deltas: Vec<Lin<F>> = (0..bs).map(|b| delta[b * h + j].clone()).collect();
        update_from_rows(
            &mut cs.namespace(|| format!("g1_{j}")),
            l,
            &elems[row0..],
            &deltas,
            (params, &t.upd, &mut upd),
            |i| p.w1(i, j),
            one,
        )?;
        let dsum = (0..bs).fold(Lin::zero(), |acc, b| acc.add(&delta[b * h + j]));
        let expect = params[p.b1(j)].clone().scale(dd).add_scaled(-lr_one, &dsum).add(&half);
        upd[p.b1(j)] = Some(claim_one(cs, &format!("b1_{j}"), t.upd[p.b1(j)], l.upd_bits, &expect, one)?);

        // W2 row j from errors packed over classes.
        let per = slots_per_element(m.g2_bits, k);
        for c0 in (0..k).step_by(per) {
            let mut cs = cs.namespace(|| format!("g2_{j}_{c0}"));
            let classes = c0..(c0 + per).min(k);
            let mut grad = Lin::zero();
            for b in 0..bs {
                let e = pack_lin(classes.clone().map(|c| (c - c0, err[b * k + c].clone())), m.g2_bits);
                grad = grad.add(&Lin::num(&mul(cs.namespace(|| format!("ae{b}")), &act[b * h + j], &e)?));
            }
            let mut expect = grad.scale(-lr);
            for c in classes.clone() {
                let slot = pow2::<F>(m.g2_bits * (c - c0) as u32);
                expect = expect.add_scaled(slot * dd, &params[p.w2(j, c)]).add_scaled(slot, &half);
            }
            let vals: Vec<i128> = classes.clone().map(|c| t.upd[p.w2(j, c)]).collect();
            let (bits, claimed) = claim_slots(&mut cs, "upd", &vals, (m.g2_bits, l.upd_bits), one)?;
            enforce_eq(cs.namespace(|| "slots"), &claimed, &expect);
            for (bit, c) in bits.into_iter().zip(classes) {
                upd[p.w2(j, c)] = Some(bit);
            }
        }
    }
    for c in 0..k {
        let esum = (0..bs).fold(Lin::zero(), |acc, b| acc.add(&err[b * k + c]));
        let expect = params[p.b2(c)].clone().scale(dd).add_scaled(-lr_one, &esum).add(&half);
        upd[p.b2(c)] = Some(claim_one(cs, &format!("b2_{c}"), t.upd[p.b2(c)], l.upd_bits, &expect, one)?);
    }

    upd.into_iter()
        .enumerate()
        .map(|(i, u)| {
            let u = u.expect("every parameter updated");
            Ok(Lin::num(&alloc_lin(cs.namespace(|| format!("w{i}")), &u.floor_shift(l.upd_shift, one))?))
        })
        .collect()
}
