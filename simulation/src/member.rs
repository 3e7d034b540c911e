//! A simulated participant: trains on candle exactly as a hospital's daemon
//! does, proves the training when proofs are on, and, when malicious,
//! tampers with what it submits.

use crate::adversary::{flipped, flips_some_label, scaled, Tamper};
use crate::SimError;
use candor_circuits::engine::TrainKeys;
use candor_circuits::hash::Hasher;
use candor_circuits::verifier::{ClaimedStatement, DataCommitment};
use candor_coordinator::round::PeerKey;
use candor_core::data::Dataset;
use candor_core::Layout;
use candor_participant::client::ClientMachine;
use candor_participant::round::train_round;
use candor_protocols::Submission;
use candor_prover::PrivateData;
use std::sync::Arc;

/// What every member shares: the spec's layout, the hash, and the training
/// keys when proofs are on.
pub struct Ctx {
    /// Layout of the spec.
    pub layout: Layout,
    /// Poseidon (model digests, commitments).
    pub hasher: Hasher<candor_circuits::engine::Scalar>,
    /// Proving keys; `None` runs without proofs.
    pub keys: Option<Arc<TrainKeys>>,
}

/// Seconds a member spent on one round.
#[derive(Clone, Copy, Debug, Default)]
pub struct Effort {
    /// Native candle training.
    pub train_secs: f64,
    /// Proving, compression included.
    pub prove_secs: f64,
    /// Of `prove_secs`, compression.
    pub compress_secs: f64,
}

/// One participant.
pub struct Member {
    /// Display name.
    pub name: String,
    /// Identity (PeerId bytes).
    pub peer: PeerKey,
    /// Its rows, in committed order.
    pub rows: Dataset,
    /// Its committed data.
    pub data: PrivateData,
    /// Secret seed of its commitment's blinding.
    pub seed: [u8; 32],
    /// Its registered commitment.
    pub commitment: DataCommitment,
    /// Index among the malicious participants, if malicious.
    pub malicious: Option<usize>,
    /// Its last honestly trained update of an earlier round, with its real
    /// sample count (what a replay resends).
    pub last_honest: Option<Submission>,
    /// Its round logic, the daemon's.
    pub client: ClientMachine,
}

/// A round's submission and what went into it.
pub struct Made {
    /// What is submitted.
    pub submission: Submission,
    /// Seconds spent.
    pub effort: Effort,
    /// The tampering actually done (a thief with nothing to steal, or a
    /// replayer with nothing to replay, boosts instead).
    pub tamper: Option<Tamper>,
    /// The honest update trained this round, if one was.
    pub honest: Option<Submission>,
}

impl Member {
    /// Honest work for a round: train on candle; with proofs, prove the same
    /// steps and check that the proof attests exactly candle's model.
    pub fn train(
        &self,
        ctx: &Ctx,
        statement: &ClaimedStatement,
        data: &PrivateData,
        progress: impl FnMut(usize, usize),
    ) -> Result<(Submission, Effort), SimError> {
        let t = train_round(&ctx.layout, ctx.keys.as_deref(), statement, data, progress)?;
        let sub = Submission { round: statement.round, model: t.model, samples: t.samples, proof: t.proof.unwrap_or_default() };
        Ok((sub, Effort { train_secs: t.train_secs, prove_secs: t.prove_secs, compress_secs: t.compress_secs }))
    }

    /// This round's submission: honest, or tampered as its rotation says.
    /// `others` are this round's honest submissions (what a thief copies).
    pub fn submission(
        &self,
        ctx: &Ctx,
        statement: &ClaimedStatement,
        others: &[Submission],
        progress: impl FnMut(usize, usize),
    ) -> Result<Made, SimError> {
        let round = statement.round;
        let honest = |progress| self.train(ctx, statement, &self.data, progress);
        let fmt = ctx.layout.spec.format;
        let mut tamper = self.malicious.map(|m| Tamper::for_round(m, round));
        let mut trained = None;
        let (mut submission, effort) = match tamper {
            None => {
                let (submission, effort) = honest(progress)?;
                return Ok(Made { honest: Some(submission.clone()), submission, effort, tamper });
            }
            Some(Tamper::StolenUpdate) if !others.is_empty() => (others[0].clone(), Effort::default()),
            Some(Tamper::Replay) if self.last_honest.is_some() => {
                let old = self.last_honest.clone().expect("checked");
                (Submission { round, ..old }, Effort::default())
            }
            Some(Tamper::InflatedCount) => {
                let (s, e) = honest(progress)?;
                trained = Some(s.clone());
                (Submission { samples: s.samples * 10, ..s }, e)
            }
            // a real proof, but of training on other data than committed
            Some(Tamper::LabelFlip) if flips_some_label(&self.rows, &ctx.layout.spec.model, fmt) => {
                let poisoned = PrivateData::new(&ctx.layout, &flipped(&self.rows, &ctx.layout.spec.model, fmt), self.seed)?;
                let claim = ClaimedStatement { data: poisoned.commitment_with(&ctx.hasher, &ctx.layout), ..statement.clone() };
                self.train(ctx, &claim, &poisoned, progress)?
            }
            // nothing to steal, replay or flip: boost instead
            Some(Tamper::ScaledUpdate | Tamper::StolenUpdate | Tamper::Replay | Tamper::LabelFlip) => {
                tamper = Some(Tamper::ScaledUpdate);
                let (s, e) = honest(progress)?;
                trained = Some(s.clone());
                let mut model = scaled(&statement.global, &s.model, fmt);
                if model == s.model {
                    // training did not move the model (e.g. every row already
                    // classified with margin): still submit something false
                    let mut p = model.params();
                    if let Some(last) = p.last_mut() {
                        *last = if *last < fmt.max() { *last + 1 } else { *last - 1 };
                    }
                    model = model.with_params(&p)?;
                }
                (Submission { model, ..s }, e)
            }
        };
        submission.round = round;
        Ok(Made { submission, effort, tamper, honest: trained })
    }
}
