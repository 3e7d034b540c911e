//! The fold driver: `steps_per_fold` fixed-point SGD steps per Nova fold.
//!
//! Per fold: open the state digest (range-checking the input weights, which
//! makes their packing injective), run the steps, close the digest. Per step:
//!
//! 1. extend the data chain with the batch's packed elements and a blinding
//!    element (the chain must hit the registered commitment at every epoch
//!    end, so the elements are exactly the committed ones);
//! 2. tie the batch's metadata bits to its elements ([`super::meta`]);
//! 3. run the model's step ([`super::linear`], [`super::mlp`],
//!    [`super::softmax`]) on the allocated parameters;
//! 4. advance the epoch counter, resetting the chain after checking it
//!    against the commitment when the epoch ends.

#[cfg(feature = "forgery")]
use super::forgery::Forgery;
use super::meta::metadata;
use crate::field::pow2;
use crate::gadgets::{alloc_lin, enforce_eq, is_zero, mul, Bits, Lin};
use crate::hash::Hasher;
use crate::packing::batch_elements;
use crate::state::{data_iv, packed_params, params_per_element, TrainState, STATE_TAG};
use crate::CircuitField;
use candor_core::data::Batch;
use candor_core::model::Trace;
use candor_core::{CoreError, Layout, Model};
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

/// `steps_per_fold` SGD steps as one Nova step circuit.
#[derive(Clone)]
pub struct SgdFoldCircuit<F: CircuitField> {
    layout: Arc<Layout>,
    hasher: Hasher<F>,
    input: TrainState<F>,
    batches: Vec<Batch>,
    blinds: Vec<F>,
    #[cfg(feature = "forgery")]
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
        Ok(Self {
            layout,
            hasher,
            input,
            batches,
            blinds,
            #[cfg(feature = "forgery")]
            forgery: None,
        })
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
        Self::new(layout, hasher, input, batches, blinds).expect("steps_per_fold batches and blinds")
    }

    /// Same circuit with a corrupted witness (tests only).
    #[cfg(feature = "forgery")]
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

    /// One SGD step over allocated parameters; returns the new parameters
    /// and the step's real-row count.
    fn step<CS: ConstraintSystem<F>>(
        &self,
        cs: &mut CS,
        t: usize,
        (params, elems): (&[Lin<F>], &[AllocatedNum<F>]),
        #[allow(unused_mut)] mut trace: Trace,
        one: Variable,
    ) -> Result<(Vec<Lin<F>>, Lin<F>), SynthesisError> {
        let l = &*self.layout;
        let meta = metadata(cs, l, &self.batches[t], elems)?;
        let samples = meta.mask.iter().fold(Lin::zero(), |acc, m| acc.add(m));
        #[cfg(feature = "forgery")]
        let quotient = self.forgery.and_then(|f| f.corrupt(t, l, &mut trace));
        #[cfg(not(feature = "forgery"))]
        let quotient = None;
        let next = match &trace {
            Trace::Linear(trace) => super::linear::synthesize_step(cs, l, params, elems, &meta, trace, one)?,
            Trace::Mlp(trace) => super::mlp::synthesize_step(cs, l, params, elems, &meta, trace, quotient, one)?,
            Trace::Softmax(trace) => super::softmax::synthesize_step(cs, l, params, elems, &meta, trace, quotient, one)?,
        };
        Ok((next, samples))
    }
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
            #[cfg(feature = "forgery")]
            let check = self.forgery != Some(Forgery::IgnoreCommitment);
            #[cfg(not(feature = "forgery"))]
            let check = true;
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

            let (new_params, step_samples) = self.step(&mut cs, t, (&params, &elems), trace, one)?;
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
