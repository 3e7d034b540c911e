//! `audit`: re-checks a federation's whole history from its database alone.
//!
//! First every registered participant's commitment proof is re-verified:
//! a training proof means nothing over a commitment whose ranges were never
//! proven. Then round by round: the round started from the previous round's
//! result (the initial model for the first); every stored update's proof
//! verifies against its statement (federation, round, participant, verified
//! commitment, the round's global model) and attests its stored model and
//! sample count; and the round's result is exactly the strategy applied to
//! the updates marked aggregated (or the unchanged global model when there
//! were none).

use crate::store::Store;
use crate::strategy::Weighted;
use crate::CoordinatorError;
use candor_circuits::batch::{verify_training_batch, Submitted};
use candor_circuits::engine::{DataKeys, TrainKeys};
use candor_circuits::verifier::{verify_commitment, Statement};
use serde::Serialize;
use std::collections::BTreeMap;

/// What an audit found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AuditReport {
    /// Commitment proofs re-verified.
    pub commitments: u64,
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

/// Audits a store with the training and commitment circuits' keys for its
/// spec.
pub fn audit(store: &Store, keys: &TrainKeys, dkeys: &DataKeys) -> Result<AuditReport, CoordinatorError> {
    let (spec, strategy, initial) = store.federation()?;
    if spec != keys.layout.spec || spec != dkeys.layout.spec {
        return Err(CoordinatorError::Config("keys were built for another spec than the database's".into()));
    }
    let strategy = strategy.build()?;
    let federation = store.federation_id()?;
    let mut report = AuditReport::default();
    let mut participants = BTreeMap::new();
    for (peer, (p, proof)) in store.participants()? {
        report.commitments += 1;
        match verify_commitment(dkeys, &p.commitment, &proof) {
            Ok(c) => {
                participants.insert(peer, (p.name, c));
            }
            Err(e) => report.problems.push(format!("participant {}: commitment proof: {e}", p.name)),
        }
    }
    let mut expected = initial;
    for round in store.rounds()? {
        report.rounds += 1;
        if round.global != expected {
            report.problems.push(format!("round {}: global model is not the previous round's result", round.id));
        }
        let subs = store.submissions(round.id)?;
        // a round's updates are verified together, each bad one still named
        let mut checked = vec![];
        for s in &subs {
            report.proofs += 1;
            let Some((name, commitment)) = participants.get(&s.peer) else {
                report.problems.push(format!("round {}: update from a participant without a verified commitment", round.id));
                continue;
            };
            let st = Statement {
                federation: federation.clone(),
                round: round.id,
                participant: s.peer.clone(),
                data: *commitment,
                global: round.global.clone(),
            };
            checked.push((name, s, st));
        }
        let submitted: Vec<Submitted<'_>> =
            checked.iter().map(|(_, s, st)| Submitted { statement: st, model: &s.model, samples: s.samples, proof: &s.proof }).collect();
        for ((name, _, _), result) in checked.iter().zip(verify_training_batch(keys, &submitted)) {
            if let Err(e) = result {
                report.problems.push(format!("round {}: update of {name}: {e}", round.id));
            }
        }
        let Some(result) = round.result else {
            continue; // the open round: nothing aggregated yet
        };
        let agg: Vec<Weighted> = subs.iter().filter(|s| s.aggregated).map(|s| Weighted { samples: s.samples, model: &s.model }).collect();
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
