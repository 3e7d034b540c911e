//! Running a simulation: data, partition, registration, then every round
//! over the protocol: poll, train (and prove), submit, verify, aggregate,
//! evaluate.

use crate::adversary::Tamper;
use crate::baseline::{converged, same_schedule};
use crate::config::SimConfig;
use crate::hub::{Hub, Verifier};
use crate::member::{Ctx, Effort, Member};
use crate::partition::{class_counts, partition};
use crate::report::{Accepted, MemberInfo, Refused, Report, RoundRecord, Totals};
use crate::transport::Wire;
use crate::SimError;
use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_circuits::verifier::{model_digest_with, verify_commitment};
use candor_coordinator::round::{DigestFn, Participant, PeerKey, Policy, RoundMachine, Setup};
use candor_coordinator::strategy::Weighted;
use candor_core::data::Dataset;
use candor_core::dataset::{select_rows, shuffled};
use candor_core::eval::evaluate;
use candor_core::statement::DataCommitment;
use candor_core::Layout;
use candor_core::Model;
use candor_participant::client::{Action as ClientAction, ClientMachine, ClientSetup, Event as ClientEvent};
use candor_participant::local::{load_data, load_given};
use candor_protocols::{Codec, Limits, Request, Response, Submission};
use candor_prover::{prove_commitment, PrivateData};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A virtual round lasts an hour: rounds close at quorum (every participant
/// accepted) or, when some were refused, when the driver lets this pass.
const ROUND_MS: u64 = 3_600_000;

/// The federation every simulated proof names (the daemons use the
/// coordinator's PeerId).
pub const SIM_FEDERATION: &[u8] = b"candor-simulation";

/// Runs `cfg`. `cache` holds public parameters; `bars` shows progress;
/// `on_round` sees each round's record as it closes.
pub fn run(
    cfg: &SimConfig,
    cache: Option<&Path>,
    bars: &MultiProgress,
    mut on_round: impl FnMut(&RoundRecord),
) -> Result<Report, SimError> {
    cfg.validate()?;
    let started = Instant::now();
    let fed = &cfg.federation;
    let layout = Layout::new(&cfg.spec)?;
    // `pooled`: the training rows in one seeded order, for the centralized
    // reference (a given split's `train` is in file order)
    let (train, test, shares, pooled, norm) = match &cfg.split {
        Some(split) => {
            // the given files, one after another; each participant's share
            // is its file's rows
            let (files, test, norm) = load_given(&cfg.data, &split.hospitals, &split.test, &cfg.spec)?;
            let mut shares = vec![];
            let mut train = Dataset { features: cfg.spec.model.features, x: vec![], y: vec![] };
            for f in files {
                shares.push((train.rows()..train.rows() + f.rows()).collect());
                train.x.extend(f.x);
                train.y.extend(f.y);
            }
            let pooled = shuffled(&train, cfg.data.seed ^ 0x5eed);
            (train, test, shares, pooled, norm)
        }
        None => {
            let (train, test, norm) = load_data(&cfg.data, &cfg.spec)?;
            let shares = partition(&train, fed.participants, cfg.partition, cfg.data.seed)?;
            let pooled = train.clone();
            (train, test, shares, pooled, norm)
        }
    };
    // regression targets are standardized: errors are reported in their units
    let target = norm.target.as_ref();
    // each member's seed and its rows in commit order
    let mut rng = ChaCha20Rng::seed_from_u64(cfg.data.seed ^ 0x6d65_6d62_6572);
    let committed: Vec<([u8; 32], Dataset)> = shares
        .iter()
        .map(|share| {
            let mut seed = [0u8; 32];
            rng.fill(&mut seed);
            (seed, shuffled(&select_rows(&train, share), u64::from_le_bytes(seed[..8].try_into().expect("8 bytes"))))
        })
        .collect();
    // a spec whose first round would overflow at a member (its rows, in its
    // order, from the initial model) fails now, with advice, not after the
    // setup and the commitments
    for (i, (_, rows)) in committed.iter().enumerate() {
        if let Err((step, e)) = candor_core::check::dry_run(&layout, rows) {
            let advice = candor_core::check::passing_learning_rate(&cfg.spec, rows)
                .map_or_else(|| "no smaller learning rate passes; try more int_bits".into(), |lr| format!("learning_rate = {lr} passes"));
            return Err(SimError::Config(format!("participant {}'s first round fails at SGD step {step}: {e}; {advice}", i + 1)));
        }
    }
    // class counts only mean something for classification
    let counts = match cfg.spec.model.task {
        candor_core::Task::Logistic | candor_core::Task::Softmax => class_counts(&train, &shares),
        candor_core::Task::Linear => vec![Default::default(); shares.len()],
    };

    let t = Instant::now();
    let (train_src, data_src) = (KeySource::train(cache, &cfg.params)?, KeySource::data(cache, &cfg.params)?);
    let keys = if fed.proofs { Some(Arc::new(TrainKeys::for_training(&layout, train_src)?)) } else { None };
    let dkeys = if fed.proofs { Some(DataKeys::for_commitment(&layout, data_src)?) } else { None };
    let setup_secs = t.elapsed().as_secs_f64();
    let params_digest = keys.as_ref().map(|k| k.digest_hex());
    let ctx = Ctx { layout: layout.clone(), hasher: Default::default(), keys: keys.clone() };

    // members commit their data; the coordinator admits each after checking
    // its commitment proof
    let t = Instant::now();
    let honest = fed.participants - fed.malicious;
    let bar = bar(bars, fed.participants, "committing data");
    let mut members = Vec::with_capacity(fed.participants);
    let mut admitted = BTreeMap::new();
    let mut verified = BTreeMap::new();
    for (i, (seed, rows)) in committed.into_iter().enumerate() {
        let data = PrivateData::new(&layout, &rows, seed)?;
        let peer = peer_id(seed)?;
        let name = format!("hospital-{:0w$}", i + 1, w = digits(fed.participants));
        let commitment = match &dkeys {
            Some(dk) => {
                let (c, proof) = prove_commitment(dk, &data)?;
                verified.insert(peer.clone(), verify_commitment(dk, &c, &proof)?);
                c
            }
            None => data.commitment_with(&ctx.hasher, &layout),
        };
        admitted.insert(peer.clone(), Participant { name: name.clone(), commitment });
        let malicious = (i >= honest).then(|| i - honest);
        let client = client_machine(&ctx, peer.clone(), commitment);
        members.push(Member { name, peer, rows, data, seed, commitment, malicious, last_honest: None, client });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let commit_secs = t.elapsed().as_secs_f64();

    let initial = Model::initial(&layout.spec);
    let (h, l) = (ctx.hasher.clone(), layout.clone());
    let digest: DigestFn = Arc::new(move |m: &Model| model_digest_with(&h, &l, m).0);
    let policy = Policy {
        rounds: fed.rounds,
        quorum: fed.participants as u32,
        round_ms: ROUND_MS,
        poll_timeout_ms: ROUND_MS,
        max_pending_polls: fed.participants,
        max_verifying: fed.participants,
    };
    let setup = Setup { spec: cfg.spec.clone(), policy, participants: admitted, strategy: fed.strategy.build()?, digest };
    let machine = RoundMachine::new(setup, initial.clone()).with_federation(SIM_FEDERATION.to_vec());
    let verifier = keys.map(|keys| Verifier { keys, commitments: verified });
    let mut hub = Hub::new(machine, verifier, layout.clone(), Wire::new(Codec::new(Limits::default())));
    hub.tick(0);

    let mut rounds = vec![];
    let mut global = initial.clone();
    for round in 1..=fed.rounds {
        let mut record = run_round(&ctx, &cfg.federation.strategy, &mut hub, &mut members, round, &global, &test, bars)?;
        record.0.test = record.0.test.in_units(target);
        if let Some(m) = &record.1 {
            global = m.clone();
        }
        on_round(&record.0);
        rounds.push(record.0);
    }

    let reference = same_schedule(&layout, &pooled, &test, fed.rounds, target)?;
    // a baseline that diverged everywhere is left out, not the run
    let baseline = converged(&layout, &pooled, &test, target).inspect_err(|e| tracing::warn!("no centralized baseline: {e}")).ok();
    let info = members
        .iter()
        .zip(&counts)
        .map(|(m, c)| MemberInfo {
            name: m.name.clone(),
            rows: m.rows.rows(),
            classes: c.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            malicious: m.malicious.is_some(),
        })
        .collect();
    let totals = Totals::of(&rounds, started.elapsed().as_secs_f64(), setup_secs, commit_secs);
    let mut report = Report::new(cfg.clone(), info, evaluate(&layout, &initial, &test).in_units(target), rounds, totals, reference);
    report.centralized_baseline = baseline;
    report.params_digest = params_digest;
    Ok(report)
}

/// One round over the protocol; returns its record and the new global model.
#[allow(clippy::too_many_arguments)]
fn run_round(
    ctx: &Ctx,
    strategy: &candor_coordinator::strategy::StrategyConfig,
    hub: &mut Hub,
    members: &mut [Member],
    round: u64,
    global: &Model,
    test: &Dataset,
    bars: &MultiProgress,
) -> Result<(RoundRecord, Option<Model>), SimError> {
    let proving = ctx.keys.is_some();
    let overall =
        bar(bars, members.len(), &format!("round {round}: {}", if proving { "training and proving" } else { "training (unverified)" }));
    let mut effort = Effort::default();
    let mut honest: Vec<Submission> = vec![];
    let mut submissions = Vec::with_capacity(members.len());
    let mut tampers: BTreeMap<PeerKey, Option<Tamper>> = BTreeMap::new();
    // honest members first, so that a thief has something to copy
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by_key(|&i| members[i].malicious.is_some());
    for i in order {
        // the member's client machine asks for the round and checks it, as
        // a daemon's does
        let (name, peer, client) = (members[i].name.clone(), members[i].peer.clone(), &mut members[i].client);
        let poll = match &client.handle(Instant::now(), ClientEvent::Tick)[..] {
            [ClientAction::Send(req @ Request::Poll { .. })] => req.clone(),
            other => return Err(SimError::Protocol(format!("{name} wanted {other:?} instead of a poll"))),
        };
        let statement = match hub.request(&peer, poll)?.0 {
            Response::Round(a) if a.round == round => match &client.handle(Instant::now(), ClientEvent::Response(Response::Round(a)))[..] {
                [ClientAction::Prove(statement)] => statement.clone(),
                [ClientAction::Fatal(e)] => return Err(SimError::Protocol(format!("{name}: {e}"))),
                other => return Err(SimError::Protocol(format!("{name} answered round {round} with {other:?}"))),
            },
            other => return Err(SimError::Protocol(format!("{name} polled for round {round}, got {other:?}"))),
        };
        let m = &members[i];
        let fold_bar = (proving && members.len() <= 16)
            .then(|| bars.add(ProgressBar::new(0)).with_style(style()).with_message(format!("{}: proving folds", m.name)));
        let made = m.submission(ctx, &statement, &honest, |done, total| {
            if let Some(b) = &fold_bar {
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        })?;
        if let Some(b) = fold_bar {
            b.finish_and_clear();
        }
        effort.train_secs += made.effort.train_secs;
        effort.prove_secs += made.effort.prove_secs;
        effort.compress_secs += made.effort.compress_secs;
        if made.tamper.is_none() {
            honest.push(made.submission.clone());
        }
        if let Some(h) = made.honest {
            members[i].last_honest = Some(h);
        }
        tampers.insert(members[i].peer.clone(), made.tamper);
        let client = &mut members[i].client;
        client.handle(Instant::now(), ClientEvent::Proved(Ok(made.submission)));
        let submission = match client.handle(Instant::now(), ClientEvent::Tick).pop() {
            Some(ClientAction::Send(Request::Submit(s))) => s,
            other => return Err(SimError::Protocol(format!("{} did not submit: {other:?}", members[i].name))),
        };
        submissions.push((i, submission));
        overall.inc(1);
    }
    overall.finish_and_clear();

    let mut accepted: Vec<usize> = vec![];
    let mut accepted_updates = vec![];
    let claimed: Vec<u64> = submissions.iter().map(|(_, sub)| sub.samples).collect();
    let proof_bytes: Vec<usize> = submissions.iter().map(|(_, sub)| sub.proof.len()).collect();
    let order: Vec<usize> = submissions.iter().map(|(i, _)| *i).collect();
    let answers = hub.submit_all(submissions.into_iter().map(|(i, sub)| (members[i].peer.clone(), sub)).collect())?;
    for ((i, answer), samples) in order.into_iter().zip(answers).zip(claimed) {
        // the member's machine takes the answer (its outcome and state are
        // the daemon's; a simulation persists nothing)
        members[i].client.handle(Instant::now(), ClientEvent::Response(answer.clone()));
        match answer {
            Response::Accepted { .. } => {
                accepted.push(i);
                accepted_updates.push(Accepted { participant: members[i].name.clone(), samples });
            }
            Response::Rejected { .. } => {} // logged by the hub with its reason
            other => return Err(SimError::Protocol(format!("submit answered with {other:?}"))),
        }
    }
    // refused submissions keep the quorum from closing the round: its
    // deadline does
    hub.pass_deadline(round);
    let (refusals, closed, verify_secs) = hub.take_log();
    let closed = closed.into_iter().find(|c| c.round == round).ok_or_else(|| SimError::Protocol(format!("round {round} did not close")))?;
    let new_global = closed.model.clone().unwrap_or_else(|| global.clone());
    if hub.machine().global() != &new_global {
        return Err(SimError::Protocol("the machine's global model is not the closed round's".into()));
    }

    // is the model exactly what the honest members' updates alone give?
    // (an aggregation error leaves that open, as the coordinator keeps the
    // global model then)
    let weighted: Vec<Weighted> = honest.iter().map(|s| Weighted { samples: s.samples, model: &s.model }).collect();
    let honest_only = if weighted.is_empty() { Some(global.clone()) } else { strategy.build()?.aggregate(&weighted).ok() };
    let by_peer: BTreeMap<&PeerKey, &Member> = members.iter().map(|m| (&m.peer, m)).collect();
    let refused = refusals
        .iter()
        .map(|r| {
            let m = by_peer.get(&r.peer);
            Refused {
                participant: m.map_or_else(|| "unknown".into(), |m| m.name.clone()),
                tamper: tampers.get(&r.peer).copied().flatten(),
                code: r.code,
                reason: r.reason.clone(),
            }
        })
        .collect::<Vec<_>>();
    let record = RoundRecord {
        round,
        test: evaluate(&ctx.layout, &new_global, test),
        accepted: accepted.len(),
        rejected: refused.len(),
        accepted_updates,
        tampered_accepted: accepted.iter().filter_map(|&i| tampers.get(&members[i].peer).copied().flatten()).collect(),
        refused,
        honest_only: honest_only.map(|m| m == new_global),
        train_secs: effort.train_secs,
        prove_secs: effort.prove_secs,
        compress_secs: effort.compress_secs,
        verify_secs,
        proof_bytes: proof_bytes.iter().copied().max().unwrap_or(0),
        global_digest: model_digest_with(&ctx.hasher, &ctx.layout, &new_global).to_string(),
    };
    Ok((record, closed.model))
}

/// A participant's identity from its seed: a real ed25519 PeerId.
fn peer_id(seed: [u8; 32]) -> Result<PeerKey, SimError> {
    let mut s = seed;
    let key = libp2p::identity::Keypair::ed25519_from_bytes(&mut s).map_err(|e| SimError::Config(e.to_string()))?;
    Ok(key.public().to_peer_id().to_bytes())
}

fn digits(n: usize) -> usize {
    n.to_string().len().max(2)
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template("{msg:40} [{bar:30}] {pos}/{len} {elapsed}").expect("a valid template").progress_chars("=> ")
}

fn bar(bars: &MultiProgress, len: usize, msg: &str) -> ProgressBar {
    bars.add(ProgressBar::new(len as u64)).with_style(style()).with_message(msg.to_string())
}

/// A member's client machine, connected to the in-process hub.
fn client_machine(ctx: &Ctx, peer: PeerKey, commitment: DataCommitment) -> ClientMachine {
    let (h, l) = (ctx.hasher.clone(), ctx.layout.clone());
    let setup = ClientSetup {
        federation: SIM_FEDERATION.to_vec(),
        participant: peer,
        commitment,
        spec: ctx.layout.spec.clone(),
        digest: Arc::new(move |m: &Model| model_digest_with(&h, &l, m)),
        stop_after: None,
        min_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
    };
    let mut client = ClientMachine::new(setup, None, Instant::now());
    client.handle(Instant::now(), ClientEvent::Connected);
    client
}
