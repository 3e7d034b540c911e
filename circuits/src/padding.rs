//! Which power of two a training circuit pads to, and which steps per fold
//! fill it.
//!
//! Spartan pads each curve's R1CS to the next power of two of
//! max(constraints, variables); compressing and verifying cost in proportion
//! to that padded size. A fold is Nova's verifier circuit (a fixed part)
//! plus `steps_per_fold` SGD steps, so more steps per fold amortize the
//! fixed part until the fold crosses a power of two, where compression and
//! verification double. The shipped configs use the largest steps per fold
//! that pads no further than one step does.

use crate::engine::{Keys, Scalar, TrainKeys, E1};
use crate::hash::Hasher;
use crate::step::SgdFoldCircuit;
use crate::CircuitError;
use candor_core::{Layout, TrainSpec};
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::shape_cs::ShapeCS;
use nova_snark::frontend::ConstraintSystem;
use nova_snark::traits::circuit::StepCircuit;
use std::fmt;
use std::sync::Arc;

/// Constraints and variables of an R1CS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Constraints.
    pub constraints: usize,
    /// Variables (witness).
    pub variables: usize,
}

impl Size {
    /// The power of two Spartan pads this R1CS to (its exponent).
    pub fn pads_to(&self) -> u32 {
        self.constraints.max(self.variables).next_power_of_two().trailing_zeros()
    }

    fn plus(self, other: Size) -> Size {
        Size { constraints: self.constraints + other.constraints, variables: self.variables + other.variables }
    }

    fn minus(self, other: Size) -> Size {
        Size { constraints: self.constraints.saturating_sub(other.constraints), variables: self.variables.saturating_sub(other.variables) }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} constraints, {} variables: 2^{}", self.constraints, self.variables, self.pads_to())
    }
}

impl<C: StepCircuit<Scalar>> Keys<C> {
    /// The primary and secondary R1CS of a fold.
    pub fn sizes(&self) -> (Size, Size) {
        let (c1, c2) = self.pp.num_constraints();
        let (v1, v2) = self.pp.num_variables();
        (Size { constraints: c1, variables: v1 }, Size { constraints: c2, variables: v2 })
    }
}

/// The SGD steps of one fold, without Nova's verifier circuit.
pub fn step_size(spec: &TrainSpec) -> Result<Size, CircuitError> {
    let layout = Arc::new(Layout::new(spec)?);
    let mut cs = ShapeCS::<E1>::new();
    let synth = |e: nova_snark::frontend::SynthesisError| CircuitError::Proving(format!("sizing the step circuit: {e}"));
    let z = AllocatedNum::alloc(cs.namespace(|| "z"), || Ok(Scalar::from(0u64))).map_err(synth)?;
    SgdFoldCircuit::<Scalar>::placeholder(layout, Hasher::default()).synthesize(&mut cs, &[z]).map_err(synth)?;
    Ok(Size { constraints: cs.num_constraints(), variables: cs.num_aux() })
}

/// What steps per fold cost a spec's training circuit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advice {
    /// The spec's steps per fold.
    pub steps_per_fold: usize,
    /// Its primary R1CS.
    pub size: Size,
    /// The most steps per fold whose fold pads no further than one step's.
    pub best: usize,
    /// The power of two one step per fold pads to.
    pub best_pads_to: u32,
}

impl Advice {
    /// Whether the spec pads further than it needs to, or leaves room for
    /// more steps in the same padded size.
    pub fn is_off(&self) -> bool {
        self.steps_per_fold != self.best
    }
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "steps_per_fold = {} makes a fold of {}", self.steps_per_fold, self.size)?;
        if self.is_off() {
            write!(f, "; {} steps per fold fill 2^{}, the smallest a fold pads to", self.best, self.best_pads_to)?;
        }
        Ok(())
    }
}

/// The padded sizes of `keys`' spec at other steps per fold: Nova's part of
/// a fold is the keys' size less their step circuit's, and the same at any
/// steps per fold.
pub fn advice(keys: &TrainKeys) -> Result<Advice, CircuitError> {
    let spec = &keys.layout.spec;
    let (size, _) = keys.sizes();
    let nova = size.minus(step_size(spec)?);
    let at = |s: usize| -> Result<Size, CircuitError> { Ok(nova.plus(step_size(&TrainSpec { steps_per_fold: s, ..spec.clone() })?)) };
    let floor = at(1)?.pads_to();
    let mut best = 1;
    // layouts accept at most 64 steps per fold
    while best < 64 && at(best + 1)?.pads_to() == floor {
        best += 1;
    }
    Ok(Advice { steps_per_fold: spec.steps_per_fold, size, best, best_pads_to: floor })
}
