//! `audit`: re-checks a federation's whole history from its database alone.
//!
//! Round by round: the round started from the previous round's result (the
//! initial model for the first); every stored update's proof verifies against
//! its statement (round, participant, registered commitment, the round's
//! global model) and attests its stored model and sample count; and the
//! round's result is exactly the strategy applied to the updates marked
//! aggregated (or the unchanged global model when there were none).

use crate::store::Store;
use crate::strategy::Weighted;
use crate::CoordinatorError;
use candor_circuits::engine::TrainKeys;
use candor_circuits::verifier::{verify_training, TrainingStatement};
use serde::Serialize;

/// What an audit found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AuditReport {
    /// Rounds checked.
    pub rounds: u64,
    /// Proofs re-verified.
    pub proofs: u64,
    /// Every discrepancy, described; empty when the history is sound.
    pub problems: Vec<String>,
}

impl AuditReport {
    /// Whether the history checked out.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Audits a store with the training circuit's keys for its spec.
pub fn audit(store: &Store, keys: &TrainKeys) -> Result<AuditReport, CoordinatorError> {
    let (spec, strategy, initial) = store.federation()?;
    if spec != keys.layout.spec {
        return Err(CoordinatorError::Config("keys were built for another spec than the database's".into()));
    }
    let strategy = strategy.build()?;
    let participants = store.participants()?;
    let mut report = AuditReport::default();
    let mut expected = initial;
    for round in store.rounds()? {
        report.rounds += 1;
        if round.global != expected {
            report.problems.push(format!("round {}: global model is not the previous round's result", round.id));
        }
        let subs = store.submissions(round.id)?;
        for s in &subs {
            report.proofs += 1;
            let Some(p) = participants.get(&s.peer) else {
                report.problems.push(format!("round {}: update from an unregistered participant", round.id));
                continue;
            };
            let st = TrainingStatement {
                round: round.id,
                participant: s.peer.clone(),
                data: p.commitment,
                global: round.global.clone(),
            };
            if let Err(e) = verify_training(keys, &st, &s.model, s.samples, &s.proof) {
                report.problems.push(format!("round {}: update of {}: {e}", round.id, p.name));
            }
        }
        let Some(result) = round.result else {
            continue; // the open round: nothing aggregated yet
        };
        let agg: Vec<Weighted> =
            subs.iter().filter(|s| s.aggregated).map(|s| Weighted { samples: s.samples, model: &s.model }).collect();
        let recomputed = if agg.is_empty() { Ok(round.global.clone()) } else { strategy.aggregate(&agg) };
        match recomputed {
            Ok(m) if m == result => {}
            Ok(_) => report.problems.push(format!("round {}: stored result differs from {} of its updates", round.id, strategy.name())),
            Err(e) => report.problems.push(format!("round {}: cannot recompute the aggregate: {e}", round.id)),
        }
        expected = result;
    }
    Ok(report)
}
