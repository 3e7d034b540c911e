//! One SGD step of a one-hidden-layer MLP in-circuit: the arithmetic of
//! `candor_core::mlp`, bit for bit.
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
//!   `w D - lr G`, whose high bits are the new weight.

use crate::field::{fe, pow2};
use crate::gadgets::{alloc_lin, alloc_unsigned, constant, enforce_eq, is_zero, mul, Bits, Lin};
use crate::packing::{col_chunk_rows, meta_elements, row_chunk_features};
use crate::sgd_circuit::{hard_sigmoid, Meta};
use crate::CircuitField;
use candor_core::fixed::floor_shift;
use candor_core::layout::slots_per_element;
use candor_core::mlp::{exp2_approx, MlpTrace};
use candor_core::Layout;
use nova_snark::frontend::{ConstraintSystem, SynthesisError, Variable};

/// Deliberate corruptions of an MLP step's witness, for tests.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MlpForgery {
    /// Claim a hidden pre-activation one higher.
    HiddenPre { row: usize, unit: usize },
    /// Flip the sign bit of a hidden pre-activation's decomposition (what a
    /// prover would need to switch a ReLU on or off).
    ReluSign { row: usize, unit: usize },
    /// Claim a softmax quotient one higher (remainder one divisor lower).
    SoftmaxQuotient { row: usize, class: usize },
}

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

/// `sum_{b in rows} 2^(width (b - start)) v_b`: free packing of values.
pub(crate) fn pack_lin<F: CircuitField>(values: impl Iterator<Item = (usize, Lin<F>)>, width: u32) -> Lin<F> {
    values.fold(Lin::zero(), |acc, (slot, v)| acc.add_scaled(pow2(width * slot as u32), &v))
}

/// Allocates one decomposition of `width` bits per slot value and returns
/// them with their sum packed in slots of `slot_bits`, to be equated with the
/// product sum. (Update values are decomposed narrower than their slots: the
/// decomposition's high bits are the new weight, range-checked to the format.)
pub(crate) fn claim_slots<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    name: &str,
    values: &[i128],
    (slot_bits, width): (u32, u32),
    one: Variable,
) -> Result<(Vec<Bits<F>>, Lin<F>), SynthesisError> {
    let mut claimed = Lin::zero();
    let mut bits = Vec::with_capacity(values.len());
    for (s, &v) in values.iter().enumerate() {
        let b = Bits::alloc(cs.namespace(|| format!("{name}{s}")), v, width)?;
        claimed = claimed.add_scaled(pow2(slot_bits * s as u32), &b.signed(one));
        bits.push(b);
    }
    Ok((bits, claimed))
}

/// The MLP step over allocated parameters (canonical order) and the batch's
/// elements; returns the new parameters and the step's real-row count.
#[allow(clippy::too_many_arguments)]
pub(crate) fn synthesize_step<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    params: &[Lin<F>],
    elems: &[nova_snark::frontend::num::AllocatedNum<F>],
    meta: &Meta<F>,
    mut t: MlpTrace,
    forgery: Option<MlpForgery>,
    one: Variable,
) -> Result<Vec<Lin<F>>, SynthesisError> {
    let not_mlp = || SynthesisError::Unsatisfiable("not an MLP layout".into());
    let (m, shape) = (l.mlp.ok_or_else(not_mlp)?, l.mlp_shape().ok_or_else(not_mlp)?);
    let fmt = l.spec.format;
    let (bs, d, h, k, f) = (l.batch(), l.features(), shape.hidden, shape.outputs, fmt.frac_bits);
    let p = Params { d, h, k };
    let mut soft_forgery = None;
    match forgery {
        Some(MlpForgery::HiddenPre { row, unit }) => t.pre1[row * h + unit] += 1,
        Some(MlpForgery::ReluSign { row, unit }) => {
            let v = &mut t.pre1[row * h + unit];
            *v += if *v < 0 { 1 << (l.fwd_bits - 1) } else { -(1 << (l.fwd_bits - 1)) };
        }
        Some(MlpForgery::SoftmaxQuotient { row, class }) => soft_forgery = Some((row, class)),
        None => {}
    }

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

    // Updates: w D - lr G decomposed per parameter.
    let (lr, dd) = (fe::<F>(l.lr_q as i128), pow2::<F>(l.upd_shift));
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
        let expect = params[p.b1(j)].clone().scale(dd).add_scaled(-lr_one, &dsum);
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
                expect = expect.add_scaled(pow2::<F>(m.g2_bits * (c - c0) as u32) * dd, &params[p.w2(j, c)]);
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
        let expect = params[p.b2(c)].clone().scale(dd).add_scaled(-lr_one, &esum);
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
    (cols, c): (&[nova_snark::frontend::num::AllocatedNum<F>], usize),
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

/// The parameters, their update values `w D - lr G` (the witness) and the
/// decompositions proven so far, by parameter index.
pub(crate) type Updates<'a, F> = (&'a [Lin<F>], &'a [i128], &'a mut [Option<Bits<F>>]);

/// One parameter per feature (`index(i)` is feature `i`'s) updated from the
/// committed row packing `rows` (`R_b` per row and feature chunk): per chunk,
/// `sum_b e_b R_b` puts every feature's gradient in its slot, and one
/// decomposition per parameter proves `w D - lr G` (its high bits are the
/// new weight). `errs` holds one error per row; the decompositions go into
/// `upd`. Shared by the MLP's hidden layer and softmax regression.
pub(crate) fn update_from_rows<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    rows: &[nova_snark::frontend::num::AllocatedNum<F>],
    errs: &[Lin<F>],
    (params, values, upd): Updates<'_, F>,
    index: impl Fn(usize) -> usize,
    one: Variable,
) -> Result<(), SynthesisError> {
    let (lr, dd) = (fe::<F>(l.lr_q as i128), pow2::<F>(l.upd_shift));
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
            expect = expect.add_scaled(pow2::<F>(l.bwd_bits * (i - feats.start) as u32) * dd, &params[index(i)]);
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

pub(crate) fn claim_one<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    name: &str,
    value: i128,
    width: u32,
    expect: &Lin<F>,
    one: Variable,
) -> Result<Bits<F>, SynthesisError> {
    let bits = Bits::alloc(cs.namespace(|| name.to_string()), value, width)?;
    enforce_eq(cs.namespace(|| format!("{name}_eq")), &bits.signed(one), expect);
    Ok(bits)
}

/// Clipped ReLU `clamp(z, 0, MAX)` of `z = floor(pre / 2^f)` and the flag
/// `0 <= z <= MAX` (where the hidden error passes), from the bits of `pre`:
/// the top bit is the sign, and `z <= MAX` iff the bits from `f + K - 1` up
/// are clear; four constraints.
fn relu<F: CircuitField, CS: ConstraintSystem<F>>(cs: &mut CS, pre: &Bits<F>, l: &Layout) -> Result<(Lin<F>, Lin<F>), SynthesisError> {
    let (f, kb) = (l.spec.format.frac_bits, l.value_bits);
    let n = pre.width();
    let sign = pre.bit(n - 1).clone();
    let top = (f + kb - 1).min(n - 1);
    let none_high = is_zero(cs.namespace(|| "none_high"), &pre.count(top, n - 1))?;
    let pass = Lin::num(&mul(cs.namespace(|| "pass"), &sign, &none_high)?);
    let low = pre.field(f, top);
    let max = fe::<F>(i128::from(l.spec.format.max()));
    // a = pass z + (sign - pass) MAX
    let a = Lin::num(&mul(cs.namespace(|| "a"), &pass, &low)?).add_scaled(max, &sign).add_scaled(-max, &pass);
    Ok((a, pass))
}

/// `[pre >= 2^t]` and `[pre < -2^t]` from the bits of `pre` (`t < n - 1`):
/// above zero, some bit from `t` up is set; below, not all of them are.
fn saturation<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    pre: &Bits<F>,
    t: u32,
    one: Variable,
) -> Result<(Lin<F>, Lin<F>), SynthesisError> {
    let n = pre.width();
    let sign = pre.bit(n - 1).clone();
    let high = pre.count(t, n - 1);
    let none_high = is_zero(cs.namespace(|| "none_high"), &high)?;
    let all_high = is_zero(cs.namespace(|| "all_high"), &high.clone().add(&constant(-i128::from(n - 1 - t), one)))?;
    let not = |x: &Lin<F>| Lin::constant(F::ONE, one).add_scaled(-F::ONE, x);
    let pos = mul(cs.namespace(|| "pos"), &sign, &not(&none_high))?;
    let neg = mul(cs.namespace(|| "neg"), &not(&sign), &not(&all_high))?;
    Ok((Lin::num(&pos), Lin::num(&neg)))
}

/// `exp2_approx(z)` of `z = floor(pre / 2^f)`: with `u = clamp(z) - MIN =
/// n 2^f + r`, `(2^f + r) 2^n`. In range, `r` is bits `f..2f` of the
/// decomposition and `n` bits `2f..f+K-1` plus the sign bit on top; out of
/// range the saturated constants are selected. Eleven constraints at Q3.9.
fn exp2<F: CircuitField, CS: ConstraintSystem<F>>(cs: &mut CS, pre: &Bits<F>, l: &Layout, one: Variable) -> Result<Lin<F>, SynthesisError> {
    let fmt = l.spec.format;
    let (f, kb) = (fmt.frac_bits, l.value_bits);
    let n = pre.width();
    let (pos, neg) = saturation(cs, pre, f + kb - 1, one)?;
    let r = pre.field(f, 2 * f);
    let mut nbits: Vec<Lin<F>> = (2 * f..f + kb - 1).map(|j| pre.bit(j).clone()).collect();
    nbits.push(pre.bit(n - 1).clone());
    let factor = |q: usize, b: &Lin<F>| Lin::constant(F::ONE, one).add_scaled(fe::<F>((1i128 << (1u32 << q)) - 1), b);
    let mut power = factor(0, &nbits[0]);
    for (q, b) in nbits.iter().enumerate().skip(1) {
        power = Lin::num(&mul(cs.namespace(|| format!("pow{q}")), &power, &factor(q, b))?);
    }
    let raw = Lin::num(&mul(cs.namespace(|| "raw"), &r.add(&constant(1 << f, one)), &power)?);
    let saturated = pos.clone().add(&neg);
    let sel = Lin::num(&mul(cs.namespace(|| "sel"), &saturated, &raw)?);
    let (e_max, e_min) = (exp2_approx(i128::from(fmt.max()), fmt), exp2_approx(i128::from(fmt.min()), fmt));
    Ok(raw.add_scaled(-F::ONE, &sel).add_scaled(fe(e_max), &pos).add_scaled(fe(e_min), &neg))
}

/// `softmax2` of one row's logits: `q_k = floor(e_k 2^f / S)`, `S = sum e`,
/// proven by `q_k S + rem_k = e_k 2^f` with `0 <= rem_k < S` (two unsigned
/// decompositions) and `q_k` range-checked so that nothing wraps.
pub(crate) fn softmax2<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    sum_bits: u32,
    pre2: &[Bits<F>],
    pre2_native: &[i128],
    forged: Option<usize>,
    one: Variable,
) -> Result<Vec<Lin<F>>, SynthesisError> {
    let fmt = l.spec.format;
    let f = fmt.frac_bits;
    let mut exps = Vec::with_capacity(pre2.len());
    let mut native = Vec::with_capacity(pre2.len());
    for (c, bits) in pre2.iter().enumerate() {
        let e = exp2(&mut cs.namespace(|| format!("exp{c}")), bits, l, one)?;
        native.push(exp2_approx(floor_shift(pre2_native[c], f), fmt));
        exps.push(Lin::num(&alloc_lin(cs.namespace(|| format!("e{c}")), &e)?));
    }
    let s = exps.iter().fold(Lin::zero(), |acc, e| acc.add(e));
    let s_int: i128 = native.iter().sum();
    let mut out = Vec::with_capacity(exps.len());
    for (c, e) in exps.iter().enumerate() {
        let mut cs = cs.namespace(|| format!("div{c}"));
        let (mut q, mut rem) = ((native[c] << f).div_euclid(s_int), (native[c] << f).rem_euclid(s_int));
        if forged == Some(c) {
            (q, rem) = (q + 1, rem - s_int);
        }
        let q = Bits::alloc(cs.namespace(|| "q"), q, f + 2)?.signed(one);
        let rem = alloc_unsigned(cs.namespace(|| "rem"), rem, sum_bits)?;
        let gap = alloc_unsigned(cs.namespace(|| "gap"), s_int - 1 - rem.value, sum_bits)?;
        // gap = S - 1 - rem: with both non-negative, rem < S
        let expect = s.clone().add(&constant(-1, one)).add_scaled(-F::ONE, &rem.lin);
        enforce_eq(cs.namespace(|| "gap_eq"), &gap.lin, &expect);
        let rhs = e.clone().scale(pow2(f)).add_scaled(-F::ONE, &rem.lin);
        cs.enforce(|| "q*S", |_| q.lc.clone(), |_| s.lc.clone(), |_| rhs.lc.clone());
        out.push(q);
    }
    Ok(out)
}
