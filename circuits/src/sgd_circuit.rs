//! The step circuit: `steps_per_fold` fixed-point SGD steps per Nova fold.
//!
//! Per fold: open the state digest (range-checking the input weights, which
//! makes their packing injective), run the steps, close the digest. Per step:
//!
//! 1. extend the data chain with the batch's packed elements and a blinding
//!    element (the chain must hit the registered commitment at every epoch
//!    end, so the elements are exactly the committed ones);
//! 2. forward: `sum_i w_i X_i` puts every row's pre-activation in its slot;
//!    one decomposition per row proves the slots, floor-divides by `2^f` and
//!    feeds the hard sigmoid's saturation tests;
//! 3. error `e_b = mask_b (sigma_b - y_b)` (or `mask_b z_b` for regression);
//! 4. gradient: `sum_b e_b R_b` puts every feature's gradient in its slot;
//!    one decomposition per parameter proves `w D - lr G`, whose high bits are
//!    the new weight, range-checked to the format by construction;
//! 5. advance the epoch counter, resetting the chain after checking it
//!    against the commitment when the epoch ends.

use crate::field::{fe, pow2};
use crate::gadgets::{alloc_bit, alloc_lin, constant, enforce_eq, is_zero, mul, Bits, Lin};
use crate::hash::Hasher;
use crate::mlp_step::MlpForgery;
use crate::packing::{batch_elements, col_chunk_rows, element_slots, meta_elements, row_chunk_features, source_value, Source};
use crate::state::{data_iv, packed_params, params_per_element, TrainState, STATE_TAG};
use crate::CircuitField;
use candor_core::data::Batch;
use candor_core::model::Trace;
use candor_core::sgd::StepTrace;
use candor_core::{CoreError, Layout, Model, Task};
use nova_snark::frontend::{num::AllocatedNum, ConstraintSystem, SynthesisError, Variable};
use nova_snark::traits::circuit::StepCircuit;
use std::sync::Arc;

/// Runs one step natively: the new state and the step's trace.
pub fn advance<F: CircuitField>(
    hasher: &Hasher<F>,
    layout: &Layout,
    state: &TrainState<F>,
    batch: &Batch,
    blind: F,
) -> Result<(TrainState<F>, Trace), CoreError> {
    advance_checked(hasher, layout, state, batch, blind, true)
}

fn advance_checked<F: CircuitField>(
    hasher: &Hasher<F>,
    layout: &Layout,
    state: &TrainState<F>,
    batch: &Batch,
    blind: F,
    check_commitment: bool,
) -> Result<(TrainState<F>, Trace), CoreError> {
    let (model, trace) = state.model.step_traced(layout, batch)?;
    let mut pre = vec![state.chain, blind];
    pre.extend(batch_elements::<F>(layout, batch));
    let mut chain = hasher.hash(&pre);
    let mut counter = state.counter + 1;
    if counter == state.batches {
        if check_commitment && chain != state.commitment {
            return Err(CoreError::InvalidData("batches do not match the data commitment".into()));
        }
        chain = data_iv();
        counter = 0;
    }
    let next = TrainState { chain, counter, samples: state.samples + batch.samples(), model, ..state.clone() };
    Ok((next, trace))
}

/// Deliberate witness corruptions, for tests that a forged witness cannot
/// satisfy the circuit.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgery {
    /// Claim another quotient/remainder split of one parameter update
    /// (quotient one higher, remainder one lower).
    UpdateSplit { step: usize, param: usize },
    /// Claim a pre-activation one higher for a row.
    PreActivation { step: usize, row: usize },
    /// Train on batches that do not hash to the commitment, skipping the
    /// native check (the circuit's own epoch-end check must catch it).
    IgnoreCommitment,
    /// Corrupt an MLP step's witness.
    Mlp { step: usize, forgery: MlpForgery },
    /// Claim a softmax regression quotient one higher (remainder one
    /// divisor lower).
    SoftmaxQuotient { step: usize, row: usize, class: usize },
}

/// A batch's metadata bits, tied to its packed elements.
pub(crate) struct Meta<F: CircuitField> {
    /// Mask bit per row.
    pub mask: Vec<Lin<F>>,
    /// Label per row (binary classification).
    pub label: Vec<Lin<F>>,
    /// One-hot class bits per row (softmax).
    pub class: Vec<Vec<Lin<F>>>,
}

/// Allocates the metadata bits of a batch and ties them to its metadata
/// elements (which the data chain binds to the commitment).
fn metadata<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    batch: &Batch,
    elems: &[AllocatedNum<F>],
) -> Result<Meta<F>, SynthesisError> {
    let bs = l.batch();
    let classes = l.spec.model.classes;
    let mut meta = Meta { mask: vec![Lin::zero(); bs], label: vec![Lin::zero(); bs], class: vec![vec![Lin::zero(); classes]; bs] };
    for (m, slots) in element_slots(l).iter().take(meta_elements(l)).enumerate() {
        let mut packed = Lin::zero();
        for &(src, off) in slots {
            let bit = alloc_bit(cs.namespace(|| format!("meta{m}_{off}")), source_value(batch, src) == 1)?;
            packed = packed.add_scaled(pow2(off), &bit);
            match src {
                Source::Mask(b) => meta.mask[b] = bit,
                Source::Label(b) => meta.label[b] = bit,
                Source::Class(b, c) => meta.class[b][c] = bit,
                Source::X(..) => debug_assert!(false, "metadata elements hold masks and labels only"),
            }
        }
        enforce_eq(cs.namespace(|| format!("meta{m}")), &packed, &Lin::num(&elems[m]));
    }
    Ok(meta)
}

/// `steps_per_fold` SGD steps as one Nova step circuit.
#[derive(Clone)]
pub struct SgdFoldCircuit<F: CircuitField> {
    layout: Arc<Layout>,
    hasher: Hasher<F>,
    input: TrainState<F>,
    batches: Vec<Batch>,
    blinds: Vec<F>,
    forgery: Option<Forgery>,
}

impl<F: CircuitField> SgdFoldCircuit<F> {
    /// A fold over `batches` (exactly `steps_per_fold`) starting from `input`.
    pub fn new(
        layout: Arc<Layout>,
        hasher: Hasher<F>,
        input: TrainState<F>,
        batches: Vec<Batch>,
        blinds: Vec<F>,
    ) -> Result<Self, CoreError> {
        if batches.len() != layout.spec.steps_per_fold || blinds.len() != batches.len() {
            return Err(CoreError::InvalidData("a fold needs exactly steps_per_fold batches".into()));
        }
        Ok(Self { layout, hasher, input, batches, blinds, forgery: None })
    }

    /// A circuit of the right shape with zero witnesses, for parameter setup.
    pub fn placeholder(layout: Arc<Layout>, hasher: Hasher<F>) -> Self {
        let (b, d, spf) = (layout.batch(), layout.features(), layout.spec.steps_per_fold);
        let batches = vec![Batch { x: vec![0; b * d], y: vec![0; b], mask: vec![false; b] }; spf];
        let blinds = vec![F::ZERO; spf];
        // an honest one-epoch run over zero data, so synthesis succeeds
        let c = crate::commit_circuit::commit_native(&hasher, &layout, &batches, &blinds);
        let initial = Model::initial(&layout.spec);
        let zeros = initial.with_params(&vec![0; initial.params().len()]).unwrap_or(initial);
        let input = TrainState::start(F::ZERO, c, spf as u64, zeros);
        Self { layout, hasher, input, batches, blinds, forgery: None }
    }

    /// Same circuit with a corrupted witness.
    #[doc(hidden)]
    pub fn forged(mut self, forgery: Forgery) -> Self {
        self.forgery = Some(forgery);
        self
    }

    /// The fold's batches.
    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// The fold's blinding elements.
    pub fn blinds(&self) -> &[F] {
        &self.blinds
    }

    /// The state after this fold, computed natively.
    pub fn output(&self) -> Result<TrainState<F>, CoreError> {
        let mut st = self.input.clone();
        for (batch, blind) in self.batches.iter().zip(&self.blinds) {
            st = advance(&self.hasher, &self.layout, &st, batch, *blind)?.0;
        }
        Ok(st)
    }

    fn alloc<CS: ConstraintSystem<F>>(cs: &mut CS, name: &str, v: F) -> Result<AllocatedNum<F>, SynthesisError> {
        AllocatedNum::alloc(cs.namespace(|| name.to_string()), || Ok(v))
    }

    /// One SGD step over allocated parameters; returns the new parameters.
    #[allow(clippy::too_many_arguments)]
    fn step<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        t: usize,
        params: &[Lin<F>],
        elems: &[AllocatedNum<F>],
        trace: Trace,
        one: Variable,
    ) -> Result<(Vec<Lin<F>>, Lin<F>), SynthesisError> {
        let l = &*self.layout;
        let meta = metadata(cs, l, &self.batches[t], elems)?;
        let samples = meta.mask.iter().fold(Lin::zero(), |acc, m| acc.add(m));
        let next = match trace {
            Trace::Linear(mut trace) => {
                match self.forgery {
                    Some(Forgery::UpdateSplit { step, param }) if step == t => trace.upd[param] += 1 << l.upd_shift,
                    Some(Forgery::PreActivation { step, row }) if step == t => trace.pre[row] += 1,
                    _ => {}
                }
                self.linear_step(cs, params, elems, &meta, trace, one)?
            }
            Trace::Mlp(mut trace) => {
                let forgery = match self.forgery {
                    Some(Forgery::Mlp { step, forgery }) if step == t => Some(forgery),
                    Some(Forgery::UpdateSplit { step, param }) if step == t => {
                        trace.upd[param] += 1 << l.upd_shift;
                        None
                    }
                    _ => None,
                };
                crate::mlp_step::synthesize_step(cs, l, params, elems, &meta, trace, forgery, one)?
            }
            Trace::Softmax(mut trace) => {
                let k = l.spec.model.outputs();
                let mut quotient = None;
                match self.forgery {
                    Some(Forgery::UpdateSplit { step, param }) if step == t => trace.upd[param] += 1 << l.upd_shift,
                    Some(Forgery::PreActivation { step, row }) if step == t => trace.pre[row * k] += 1,
                    Some(Forgery::SoftmaxQuotient { step, row, class }) if step == t => quotient = Some((row, class)),
                    _ => {}
                }
                crate::softmax_step::synthesize_step(cs, l, params, elems, &meta, &trace, quotient, one)?
            }
        };
        Ok((next, samples))
    }

    /// One logistic or linear regression step.
    fn linear_step<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        params: &[Lin<F>],
        elems: &[AllocatedNum<F>],
        meta: &Meta<F>,
        trace: StepTrace,
        one: Variable,
    ) -> Result<Vec<Lin<F>>, SynthesisError> {
        let l = &*self.layout;
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

        // Gradient and update: w D - lr G in row-packed slots.
        let row0 = col0 + l.fwd_columns() * l.fwd_chunks();
        let (lr, dd) = (fe::<F>(l.lr_q as i128), pow2::<F>(l.upd_shift));
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
                expect = expect.add_scaled(slot * dd, &params[i]);
                let bits = Bits::alloc(cs.namespace(|| format!("upd{i}")), trace.upd[i], l.upd_bits)?;
                claimed = claimed.add_scaled(slot, &bits.signed(one));
                upd.push(bits);
            }
            enforce_eq(cs.namespace(|| format!("bwd{c}")), &claimed, &expect);
        }
        let err_sum = err.iter().fold(Lin::zero(), |acc, e| acc.add(e));
        let expect = params[d].clone().scale(dd).add_scaled(-lr * pow2::<F>(f), &err_sum);
        let bits = Bits::alloc(cs.namespace(|| "upd_bias"), trace.upd[d], l.upd_bits)?;
        enforce_eq(cs.namespace(|| "bwd_bias"), &bits.signed(one), &expect);
        upd.push(bits);

        upd.iter()
            .enumerate()
            .map(|(i, u)| Ok(Lin::num(&alloc_lin(cs.namespace(|| format!("w{i}")), &u.floor_shift(l.upd_shift, one))?)))
            .collect()
    }
}

/// `clamp(1/2 + floor(z/4), 0, 1)` from the bits of a pre-activation
/// `u = pre + 2^(K-1)`, `z = floor(pre / 2^f)`; seven constraints.
///
/// `z >= 0` iff the top bit is set. Above zero, `z >= 2` iff any bit of `z`
/// from `f+1` up is set; below zero, `z >= -2` iff all those bits are set.
/// The value inside `(-2, 2)` is a bit field of `z`, free.
pub(crate) fn hard_sigmoid<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    pre: &Bits<F>,
    f: u32,
    one: Variable,
) -> Result<Lin<F>, SynthesisError> {
    let k = pre.width();
    let sign = pre.bit(k - 1).clone();
    let high = pre.count(2 * f + 1, k - 1);
    let all = (k - 2 * f - 2) as i128;
    let inside = pre.floor_shift(f + 2, one).add(&constant(1 << (f - 1), one));
    let none_high = is_zero(cs.namespace(|| "none_high"), &high)?;
    let all_high = is_zero(cs.namespace(|| "all_high"), &high.clone().add(&constant(-all, one)))?;
    // pos = sign * (1 - none_high), neg = (1 - sign) * (1 - all_high)
    let not = |x: &Lin<F>| Lin::constant(F::ONE, one).add_scaled(-F::ONE, x);
    let pos = mul(cs.namespace(|| "pos"), &sign, &not(&none_high))?;
    let neg = mul(cs.namespace(|| "neg"), &not(&sign), &not(&all_high))?;
    // (pos + neg) * inside = inside + pos * 2^f - s
    let sat = Lin::num(&pos).add(&Lin::num(&neg));
    let s_val = inside.val + Lin::num(&pos).val * pow2::<F>(f) - sat.val * inside.val;
    let s = AllocatedNum::alloc(cs.namespace(|| "sigma"), || Ok(s_val))?;
    let rhs = inside.clone().add_scaled(pow2(f), &Lin::num(&pos)).add_scaled(-F::ONE, &Lin::num(&s));
    cs.enforce(|| "select", |_| sat.lc.clone(), |_| inside.lc.clone(), |_| rhs.lc.clone());
    Ok(Lin::num(&s))
}

impl<F: CircuitField> StepCircuit<F> for SgdFoldCircuit<F> {
    fn arity(&self) -> usize {
        1
    }

    fn synthesize<CS: ConstraintSystem<F>>(&self, cs: &mut CS, z: &[AllocatedNum<F>]) -> Result<Vec<AllocatedNum<F>>, SynthesisError> {
        let l = &*self.layout;
        let one = CS::one();
        let st = &self.input;
        let unsat = |e: CoreError| SynthesisError::Unsatisfiable(e.to_string());

        // Open the input digest; range-check the input parameters.
        let ctx = Self::alloc(cs, "ctx", st.ctx)?;
        let commitment = Self::alloc(cs, "commitment", st.commitment)?;
        let batches = Self::alloc(cs, "batches", F::from(st.batches))?;
        let mut counter = Lin::num(&Self::alloc(cs, "counter", F::from(st.counter))?);
        let mut chain = Self::alloc(cs, "chain", st.chain)?;
        let mut samples = Lin::num(&Self::alloc(cs, "samples", F::from(st.samples))?);
        let mut params = Vec::new();
        for (i, p) in st.model.params().into_iter().enumerate() {
            let bits = Bits::alloc(cs.namespace(|| format!("param{i}")), p as i128, l.value_bits)?;
            params.push(bits.signed(one));
        }
        let digest_in = self.digest(cs, "in", [&ctx, &commitment, &batches], &counter, &chain, &samples, &params)?;
        enforce_eq(cs.namespace(|| "open_digest"), &Lin::num(&digest_in), &Lin::num(&z[0]));

        let mut state = st.clone();
        for t in 0..self.batches.len() {
            let mut cs = cs.namespace(|| format!("step{t}"));
            let check = self.forgery != Some(Forgery::IgnoreCommitment);
            let (next, trace) = advance_checked(&self.hasher, l, &state, &self.batches[t], self.blinds[t], check).map_err(unsat)?;

            // Extend the data chain.
            let mut absorbed = vec![chain.clone(), Self::alloc(&mut cs, "blind", self.blinds[t])?];
            let elems = batch_elements::<F>(l, &self.batches[t])
                .into_iter()
                .enumerate()
                .map(|(j, e)| Self::alloc(&mut cs, &format!("elem{j}"), e))
                .collect::<Result<Vec<_>, _>>()?;
            absorbed.extend(elems.iter().cloned());
            let extended = self.hasher.hash_circuit(cs.namespace(|| "chain"), &absorbed)?;

            let (new_params, step_samples) = self.step(&mut cs, t, &params, &elems, trace, one)?;
            params = new_params;
            samples = samples.add(&step_samples);

            // Epoch end: the chain must equal the commitment, then restarts.
            let next_counter = counter.clone().add(&Lin::constant(F::ONE, one));
            let last = is_zero(cs.namespace(|| "last"), &next_counter.clone().add_scaled(-F::ONE, &Lin::num(&batches)))?;
            let ext = Lin::num(&extended);
            cs.enforce(|| "epoch end hits commitment", |_| last.lc.clone(), |_| ext.lc.clone() - commitment.get_variable(), |lc| lc);
            let new_chain = Self::alloc(&mut cs, "new_chain", next.chain)?;
            let iv = Lin::constant(data_iv::<F>(), one);
            cs.enforce(
                || "chain reset",
                |_| last.lc.clone(),
                |_| iv.lc.clone() - &ext.lc,
                |_| Lin::num(&new_chain).add_scaled(-F::ONE, &ext).lc,
            );
            let new_counter = mul(cs.namespace(|| "counter"), &next_counter, &Lin::constant(F::ONE, one).add_scaled(-F::ONE, &last))?;
            chain = new_chain;
            counter = Lin::num(&new_counter);
            state = next;
        }

        let digest_out = self.digest(cs, "out", [&ctx, &commitment, &batches], &counter, &chain, &samples, &params)?;
        Ok(vec![digest_out])
    }
}

impl<F: CircuitField> SgdFoldCircuit<F> {
    #[allow(clippy::too_many_arguments)]
    fn digest<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        name: &str,
        fixed: [&AllocatedNum<F>; 3],
        counter: &Lin<F>,
        chain: &AllocatedNum<F>,
        samples: &Lin<F>,
        params: &[Lin<F>],
    ) -> Result<AllocatedNum<F>, SynthesisError> {
        let l = &*self.layout;
        let mut cs = cs.namespace(|| format!("digest_{name}"));
        // the domain tag is a constant, allocated because absorb takes
        // allocated numbers
        let tag = alloc_lin(cs.namespace(|| "tag"), &Lin::constant(F::from(STATE_TAG), CS::one()))?;
        let mut pre: Vec<AllocatedNum<F>> = vec![tag];
        pre.extend(fixed.iter().map(|n| (*n).clone()));
        pre.push(alloc_lin(cs.namespace(|| "counter"), counter)?);
        pre.push(chain.clone());
        pre.push(alloc_lin(cs.namespace(|| "samples"), samples)?);
        for (k, group) in params.chunks(params_per_element(l)).enumerate() {
            let packed = group.iter().enumerate().fold(Lin::zero(), |acc, (j, p)| acc.add_scaled(pow2(l.value_bits * j as u32), p));
            pre.push(alloc_lin(cs.namespace(|| format!("packed{k}")), &packed)?);
        }
        debug_assert_eq!(pre.len(), 7 + packed_params::<F>(l, &self.input.model.params()).len());
        self.hasher.hash_circuit(cs.namespace(|| "hash"), &pre)
    }
}
