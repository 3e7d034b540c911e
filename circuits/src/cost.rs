//! What proving costs, predicted before anything is proven.
//!
//! Constraints are counted exactly: the fold circuit is synthesized into a
//! counting constraint system ([`Profile`]) at one and at two steps per
//! fold, which splits it into a part per SGD step and a part per fold (the
//! state digest, opened and closed); every step synthesizes the same
//! constraints, so a fold of `s` steps is `fixed + s * step`. Nova's own
//! part of a fold is a constant ([`NOVA_PRIMARY`], pinned against derived
//! keys in `tests/padding.rs`).
//!
//! Seconds and memory come from a [`Machine`] model whose coefficients were
//! fitted on the reference machine (BENCHMARKS.md, "Cost model"; refit with
//! `cargo bench -p candor-participant --bench scale -- calibrate`). A fold
//! costs a fixed part (the secondary circuit, the commitments' fixed work)
//! plus a rate per constraint that depends on the witness: hash states and
//! other full field elements make Nova's commitments about twice as slow as
//! bits and small integers, so constraints are priced by category.

use crate::engine::Scalar;
use crate::hash::Hasher;
use crate::padding::Size;
use crate::profile::{Category, Profile};
use crate::step::SgdFoldCircuit;
use crate::{commit_circuit::CommitCircuit, CircuitError};
use candor_core::{Layout, TrainSpec};
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::ConstraintSystem;
use nova_snark::traits::circuit::StepCircuit;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Nova's augmented circuit in every primary fold, beside the step circuit.
pub const NOVA_PRIMARY: Size = Size { constraints: 9818, variables: 9809 };

/// Nova's secondary circuit (the same for every step circuit).
pub const NOVA_SECONDARY: Size = Size { constraints: 10349, variables: 10331 };

/// Constraints by category, and the variables they use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Constraints per category.
    pub counts: BTreeMap<Category, usize>,
    /// Witness variables.
    pub variables: usize,
    /// Non-zero entries of the R1CS matrices.
    pub nonzeros: usize,
}

impl Tally {
    fn of<C: StepCircuit<Scalar>>(circuit: &C) -> Result<Self, CircuitError> {
        let mut cs = Profile::<Scalar>::default();
        let synth = |e: nova_snark::frontend::SynthesisError| CircuitError::Proving(format!("sizing a circuit: {e}"));
        let z = (0..circuit.arity())
            .map(|i| AllocatedNum::alloc(cs.namespace(|| format!("z{i}")), || Ok(Scalar::from(0u64))))
            .collect::<Result<Vec<_>, _>>()
            .map_err(synth)?;
        circuit.synthesize(&mut cs, &z).map_err(synth)?;
        // the inputs count, as in `padding::step_size`, which NOVA_PRIMARY
        // is measured against
        let variables = cs.variables();
        Ok(Self { counts: cs.counts, variables, nonzeros: cs.nonzeros })
    }

    /// All constraints.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// Constraints of one category.
    pub fn get(&self, c: Category) -> usize {
        self.counts.get(&c).copied().unwrap_or(0)
    }

    /// Constraints whose witnesses are mostly full field elements (hash
    /// states: data binding and the state digest).
    pub fn field_heavy(&self) -> usize {
        self.get(Category::DataBinding) + self.get(Category::State)
    }

    fn minus(&self, other: &Tally) -> Tally {
        let counts = self.counts.iter().map(|(c, n)| (*c, n.saturating_sub(other.get(*c)))).collect();
        Tally { counts, variables: self.variables.saturating_sub(other.variables), nonzeros: self.nonzeros.saturating_sub(other.nonzeros) }
    }

    fn size(&self) -> Size {
        Size { constraints: self.total(), variables: self.variables }
    }
}

/// A spec's circuits, counted.
#[derive(Clone, Debug)]
pub struct CircuitCost {
    /// The spec counted (its `steps_per_fold` is not used).
    pub spec: TrainSpec,
    /// One SGD step.
    pub step: Tally,
    /// Per fold, whatever the steps per fold: the state digest opened (with
    /// the input parameters' range checks) and closed.
    pub fold_fixed: Tally,
    /// One batch of the data-commitment proof (its step circuit).
    pub commit_step: Tally,
}

impl CircuitCost {
    /// Counts the circuits of `spec` (milliseconds to seconds: nothing is
    /// stored but the counts).
    pub fn of(spec: &TrainSpec) -> Result<Self, CircuitError> {
        let fold = |spf: usize| -> Result<Tally, CircuitError> {
            let layout = Arc::new(Layout::new(&TrainSpec { steps_per_fold: spf, ..spec.clone() })?);
            Tally::of(&SgdFoldCircuit::<Scalar>::placeholder(layout, Hasher::default()))
        };
        let (one, two) = (fold(1)?, fold(2)?);
        let step = two.minus(&one);
        let fold_fixed = one.minus(&step);
        let layout = Arc::new(Layout::new(&TrainSpec { steps_per_fold: 1, ..spec.clone() })?);
        let commit_step = Tally::of(&CommitCircuit::<Scalar>::placeholder(layout, Hasher::default()))?;
        Ok(Self { spec: spec.clone(), step, fold_fixed, commit_step })
    }

    /// The primary R1CS of a fold of `spf` steps, Nova's part included.
    pub fn fold(&self, spf: usize) -> Size {
        let s = self.fold_fixed.size();
        let t = self.step.size();
        Size {
            constraints: NOVA_PRIMARY.constraints + s.constraints + spf * t.constraints,
            variables: NOVA_PRIMARY.variables + s.variables + spf * t.variables,
        }
    }

    /// Non-zero matrix entries of the step circuit of a fold of `spf` steps
    /// (Nova's part, a constant, is not counted).
    pub fn fold_nonzeros(&self, spf: usize) -> usize {
        self.fold_fixed.nonzeros + spf * self.step.nonzeros
    }

    /// The primary R1CS of one commitment-proof fold.
    pub fn commit_fold(&self) -> Size {
        let c = self.commit_step.size();
        Size { constraints: NOVA_PRIMARY.constraints + c.constraints, variables: NOVA_PRIMARY.variables + c.variables }
    }

    /// Data values one step consumes (batch x features).
    pub fn values_per_step(&self) -> usize {
        self.spec.batch_size * self.spec.model.features
    }
}

/// Cost coefficients of one kind of machine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Machine {
    /// What it is.
    pub name: &'static str,
    /// Seconds per fold whatever its size (the secondary circuit and fixed work).
    pub fold_s: f64,
    /// Seconds per constraint with full-field witnesses (hashes, Nova's circuit).
    pub field_constraint_s: f64,
    /// Seconds per constraint with small witnesses (bits, products of small values).
    pub small_constraint_s: f64,
    /// Compression: fixed seconds, and seconds per padded primary row.
    pub compress: (f64, f64),
    /// Verification of one proof: fixed seconds, and seconds per padded row.
    pub verify: (f64, f64),
    /// Peak resident memory of proving: fixed MB (Nova's own circuits
    /// included), KB per non-zero matrix entry of the step circuit (Nova
    /// keeps the matrices, and copies prepared for multiplying) and KB per
    /// padded row (commitment keys, the compression's vectors).
    pub rss: (f64, f64, f64),
}

/// The reference machine: a 2-core x86 VM with 24 GiB (the CI kind), release
/// build. BENCHMARKS.md ("Scale", "The cost model") has the runs these were
/// fitted on: times on a `calibrate` run, memory on rounds and commitments
/// proven each in a process of its own.
pub const REFERENCE: Machine = Machine {
    name: "the 2-core reference VM",
    fold_s: 0.063,
    field_constraint_s: 7.19e-6,
    small_constraint_s: 4.53e-7,
    compress: (0.64, 2.64e-5),
    verify: (0.104, 2.64e-6),
    rss: (101.0, 0.214, 1.19),
};

impl Machine {
    /// Peak MB proving a circuit of `nonzeros` matrix entries padded to `padded` rows.
    pub fn rss_mb(&self, nonzeros: usize, padded: f64) -> f64 {
        self.rss.0 + (self.rss.1 * nonzeros as f64 + self.rss.2 * padded) / 1024.0
    }

    /// Seconds to prove one fold: fixed, plus each constraint at its rate.
    pub fn fold_secs(&self, field_heavy: usize, small: usize) -> f64 {
        self.fold_s + self.field_constraint_s * field_heavy as f64 + self.small_constraint_s * small as f64
    }
}

/// A round's predicted cost at one choice of steps per fold.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundCost {
    /// Steps per fold.
    pub steps_per_fold: usize,
    /// Batches per epoch (padded to whole folds).
    pub batches: usize,
    /// Steps that train on no row (padding to whole folds).
    pub empty_steps: usize,
    /// Folds per round.
    pub folds: usize,
    /// The fold's primary R1CS.
    pub fold: Size,
    /// Seconds per fold.
    pub fold_secs: f64,
    /// Seconds folding a round.
    pub folding_secs: f64,
    /// Seconds compressing the proof.
    pub compression_secs: f64,
    /// Seconds verifying it.
    pub verification_secs: f64,
    /// Seconds proving the data commitment (once per hospital and spec).
    pub commitment_secs: f64,
    /// Peak resident memory, MB, of proving a round (the daemon).
    pub peak_rss_mb: f64,
    /// Peak resident memory, MB, of proving the commitment (`commit`).
    pub commit_rss_mb: f64,
}

impl RoundCost {
    /// Proving a round: folding and compression.
    pub fn round_secs(&self) -> f64 {
        self.folding_secs + self.compression_secs
    }
}

impl fmt::Display for RoundCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "steps_per_fold = {}: {} folds of {} ({:.2} s each), {:.1} s folding + {:.1} s compression per round, {} empty steps; \
             verification {:.2} s; peak RSS {:.0} MB; the commitment proof {:.0} s and {:.0} MB",
            self.steps_per_fold,
            self.folds,
            self.fold,
            self.fold_secs,
            self.folding_secs,
            self.compression_secs,
            self.empty_steps,
            self.verification_secs,
            self.peak_rss_mb,
            self.commitment_secs,
            self.commit_rss_mb
        )
    }
}

/// Predicts a round over `rows` rows at `spf` steps per fold.
pub fn predict(cost: &CircuitCost, m: &Machine, rows: usize, spf: usize) -> Result<RoundCost, CircuitError> {
    let layout = Layout::new(&TrainSpec { steps_per_fold: spf, ..cost.spec.clone() })?;
    let batches = layout.batches_per_epoch(rows);
    let epochs = cost.spec.epochs as usize;
    let folds = batches / spf * epochs;
    let empty_steps = (batches - rows.div_ceil(layout.batch())) * epochs;
    let fold = cost.fold(spf);
    // Nova's own circuit is field-heavy too
    let secs = |step_field: usize, size: Size| {
        let field = NOVA_PRIMARY.constraints + step_field;
        m.fold_secs(field, size.constraints - field)
    };
    let fold_secs = secs(cost.fold_fixed.field_heavy() + spf * cost.step.field_heavy(), fold);
    let padded = |s: Size| (1u64 << s.pads_to()) as f64;
    let commit = cost.commit_fold();
    let commit_fold_secs = secs(cost.commit_step.field_heavy(), commit);
    let compression = |s: Size| m.compress.0 + m.compress.1 * padded(s);
    Ok(RoundCost {
        steps_per_fold: spf,
        batches,
        empty_steps,
        folds,
        fold,
        fold_secs,
        folding_secs: fold_secs * folds as f64,
        compression_secs: compression(fold),
        verification_secs: m.verify.0 + m.verify.1 * padded(fold),
        commitment_secs: commit_fold_secs * batches as f64 + compression(commit),
        peak_rss_mb: m.rss_mb(cost.fold_nonzeros(spf), padded(fold)),
        commit_rss_mb: m.rss_mb(cost.commit_step.nonzeros, padded(commit)),
    })
}

/// The padding advice: the most steps per fold (up to 64) whose fold pads
/// to the same power of two as a fold of one step, and that power.
/// Simulations and local runs take it when their config gives no
/// `steps_per_fold`.
pub fn padding_steps_per_fold(spec: &TrainSpec) -> Result<(usize, u32), CircuitError> {
    let cost = CircuitCost::of(&TrainSpec { steps_per_fold: 1, ..spec.clone() })?;
    let floor = cost.fold(1).pads_to();
    let best = (1..=64).take_while(|&s| cost.fold(s).pads_to() == floor).last().unwrap_or(1);
    Ok((best, floor))
}

/// Sets a spec's missing (0) `steps_per_fold` to the padding advice and
/// says what it chose; `None` when the spec gives one.
pub fn fill_steps_per_fold(spec: &mut TrainSpec) -> Result<Option<String>, CircuitError> {
    if spec.steps_per_fold != 0 {
        return Ok(None);
    }
    let (best, pads) = padding_steps_per_fold(spec)?;
    spec.steps_per_fold = best;
    Ok(Some(format!(
        "steps_per_fold is not set: using {best}, the most SGD steps per fold whose fold pads to 2^{pads} like a fold of one step (set it in [spec] to choose)"
    )))
}

/// The steps per fold that prove a round over `rows` rows soonest within
/// `max_rss_mb` of memory (or the least memory, if none fits), among the
/// layouts' allowed 1..=64.
pub fn best_steps_per_fold(cost: &CircuitCost, m: &Machine, rows: usize, max_rss_mb: f64) -> Result<RoundCost, CircuitError> {
    let mut all = (1..=64).map(|s| predict(cost, m, rows, s)).collect::<Result<Vec<_>, _>>()?;
    let fits = all.iter().any(|r| r.peak_rss_mb <= max_rss_mb);
    all.retain(|r| !fits || r.peak_rss_mb <= max_rss_mb);
    let key = |r: &RoundCost| if fits { r.round_secs() } else { r.peak_rss_mb };
    Ok(all.into_iter().min_by(|a, b| key(a).total_cmp(&key(b))).expect("64 candidates"))
}
