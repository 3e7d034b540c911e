//! Deliberate witness corruptions, for tests that a forged witness cannot
//! satisfy the circuit. Compiled only with the `forgery` feature, which only
//! this crate's own tests enable: no daemon links it.

use candor_core::model::Trace;
use candor_core::Layout;

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

impl Forgery {
    /// Applies the corruption to step `t`'s trace. Returns a softmax
    /// quotient `(row, class)` to claim one higher, the one corruption made
    /// during synthesis rather than in the trace.
    pub(crate) fn corrupt(self, t: usize, l: &Layout, trace: &mut Trace) -> Option<(usize, usize)> {
        let split = 1i128 << l.upd_shift;
        match (self, trace) {
            (Forgery::UpdateSplit { step, param }, Trace::Linear(tr)) if step == t => tr.upd[param] += split,
            (Forgery::UpdateSplit { step, param }, Trace::Mlp(tr)) if step == t => tr.upd[param] += split,
            (Forgery::UpdateSplit { step, param }, Trace::Softmax(tr)) if step == t => tr.upd[param] += split,
            (Forgery::PreActivation { step, row }, Trace::Linear(tr)) if step == t => tr.pre[row] += 1,
            (Forgery::PreActivation { step, row }, Trace::Softmax(tr)) if step == t => tr.pre[row * l.spec.model.outputs()] += 1,
            (Forgery::SoftmaxQuotient { step, row, class }, Trace::Softmax(_)) if step == t => return Some((row, class)),
            (Forgery::Mlp { step, forgery }, Trace::Mlp(tr)) if step == t => {
                let h = l.spec.model.hidden;
                match forgery {
                    MlpForgery::HiddenPre { row, unit } => tr.pre1[row * h + unit] += 1,
                    MlpForgery::ReluSign { row, unit } => {
                        let v = &mut tr.pre1[row * h + unit];
                        *v += if *v < 0 { 1 << (l.fwd_bits - 1) } else { -(1 << (l.fwd_bits - 1)) };
                    }
                    MlpForgery::SoftmaxQuotient { row, class } => return Some((row, class)),
                }
            }
            _ => {}
        }
        None
    }
}
