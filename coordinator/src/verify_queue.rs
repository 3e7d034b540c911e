//! The coordinator's verifier: one task that takes every submission waiting
//! for verification and checks them together
//! (`candor_circuits::batch::verify_training_batch`: about one proof's
//! multi-scalar multiplication per batch, and each bad proof still named).
//! Submissions that arrive while a batch is being verified form the next
//! batch, so a round whose hospitals submit at once is verified at once.
//! The round machine bounds how many wait (`max_verifying`); so does the
//! queue.

use crate::round::{PeerKey, ReqId};
use crate::status::metrics::Metrics;
use candor_circuits::batch::{verify_training_batch_where, Submitted};
use candor_circuits::engine::TrainKeys;
use candor_circuits::verifier::{TrainingStatement, VerifiedUpdate};
use candor_protocols::Submission;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// A submission to verify; its statement is `Err` when none could be made
/// (the reason is reported as the result).
pub(crate) struct Job {
    pub peer: PeerKey,
    pub id: ReqId,
    pub statement: Result<TrainingStatement, String>,
    pub submission: Submission,
}

/// A verification's outcome, reported for every job.
pub(crate) struct Done {
    pub peer: PeerKey,
    pub id: ReqId,
    pub submission: Submission,
    pub result: Result<VerifiedUpdate, String>,
    /// Seconds its verification batch took (`None`: never verified).
    pub secs: Option<f64>,
}

/// Takes jobs from `jobs` until it closes; reports each one's result on
/// `done`. A batch whose verification panics or is cancelled reports each
/// of its jobs as refused, so that no slot of `max_verifying` is lost.
pub(crate) async fn run(keys: Arc<TrainKeys>, mut jobs: mpsc::Receiver<Job>, done: mpsc::Sender<Done>, metrics: Arc<Metrics>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while let Ok(job) = jobs.try_recv() {
            batch.push(job);
        }
        // what is reported stays here; the blocking task gets copies
        let work: Vec<(Result<TrainingStatement, String>, Submission)> =
            batch.iter().map(|j| (j.statement.clone(), j.submission.clone())).collect();
        let keys = keys.clone();
        let started = Instant::now();
        let mut crashed = false;
        let results = tokio::task::spawn_blocking(move || verify(&keys, &work)).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "a verification batch crashed");
            crashed = true;
            vec![Err(format!("verification crashed: {e}")); batch.len()]
        });
        let secs = started.elapsed().as_secs_f64();
        if !crashed {
            // jobs without a statement were refused, not verified
            metrics.verification_seconds.observe(secs);
            metrics.proofs_verified.inc_by(batch.iter().filter(|j| j.statement.is_ok()).count() as u64);
        }
        for (j, result) in batch.into_iter().zip(results) {
            if done.send(Done { peer: j.peer, id: j.id, submission: j.submission, result, secs: Some(secs) }).await.is_err() {
                return; // the coordinator has stopped
            }
        }
    }
}

/// One result per job, in order.
fn verify(keys: &TrainKeys, work: &[(Result<TrainingStatement, String>, Submission)]) -> Vec<Result<VerifiedUpdate, String>> {
    tracing::debug!(proofs = work.len(), "verifying a batch");
    let submitted = work
        .iter()
        .map(|(st, s)| {
            let st = st.as_ref().map_err(Clone::clone)?;
            Ok(Submitted { statement: st, model: &s.model, samples: s.samples, proof: &s.proof })
        })
        .collect();
    verify_training_batch_where(keys, submitted, |e| e.to_string())
}
