//! The durable store and `audit` on a real history: two participants prove
//! a round, the coordinator stores and aggregates it; audit passes on the
//! honest database and fails on copies with one thing altered.

use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_circuits::verifier::{verify_commitment, verify_training, Statement};
use candor_coordinator::audit::audit;
use candor_coordinator::round::{Admitted, PeerKey};
use candor_coordinator::store::{RefusalRecord, Store, MAX_KEPT_REFUSALS};
use candor_coordinator::strategy::{StrategyConfig, Weighted};
use candor_core::model::linear::LinearModel;
use candor_core::{Layout, Task};
use candor_prover::fixtures;
use candor_prover::{prove_commitment, prove_training, PrivateData};
use std::collections::BTreeMap;
use std::path::Path;

fn spec() -> candor_core::TrainSpec {
    fixtures::spec(Task::Logistic, 5, 4, 2)
}

const FEDERATION: &[u8] = b"coordinator-peer-id";

/// Writes an honest one-round history into `path`; returns the keys.
fn honest_history(path: &Path) -> (TrainKeys, DataKeys) {
    let layout = Layout::new(&spec()).unwrap();
    let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
    let dkeys = DataKeys::for_commitment(&layout, KeySource::derive()).unwrap();
    let global: candor_core::Model = LinearModel::zeros(5).into();
    let mut participants = BTreeMap::new();
    let mut proven = vec![];
    for (i, seed) in [(1u8, 11u64), (2, 12)] {
        let peer: PeerKey = vec![i; 8];
        let data = PrivateData::new(&layout, &fixtures::dataset(&spec(), 9 + i as usize, seed), [i; 32]).unwrap();
        let (c, proof) = prove_commitment(&dkeys, &data).unwrap();
        let commitment = verify_commitment(&dkeys, &c, &proof).unwrap();
        participants.insert(peer.clone(), Admitted { name: format!("h{i}"), commitment, proof });
        let st =
            Statement { federation: FEDERATION.to_vec(), round: 1, participant: peer.clone(), data: commitment, global: global.clone() };
        let p = prove_training(&keys, &st, &data, |_, _| {}).unwrap();
        verify_training(&keys, &st, &p.model, p.samples, &p.proof).unwrap();
        proven.push((peer, p));
    }
    let mut store = Store::open(path).unwrap();
    store.init(&spec(), StrategyConfig::FedAvg, &global, &participants, FEDERATION).unwrap();
    store.opened(1, &global, 1000).unwrap();
    for (peer, p) in &proven {
        store.accepted(1, peer, p.samples, &p.model, &p.proof).unwrap();
    }
    let agg: Vec<Weighted> = proven.iter().map(|(_, p)| Weighted { samples: p.samples, model: &p.model }).collect();
    let model = StrategyConfig::FedAvg.build().unwrap().aggregate(&agg).unwrap();
    let peers: Vec<PeerKey> = proven.iter().map(|(k, _)| k.clone()).collect();
    store.closed(1, &peers, Some(&model), "{}").unwrap();
    store.opened(2, &model, 2000).unwrap();
    (keys, dkeys)
}

fn copy(src: &Path, dir: &Path, name: &str) -> std::path::PathBuf {
    // checkpoint the WAL so that the copy holds everything
    Store::open(src).unwrap().connection().execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    let dst = dir.join(name);
    std::fs::copy(src, &dst).unwrap();
    dst
}

#[test]
fn audit_passes_on_honest_history_and_fails_on_altered_copies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("federation.db");
    let (keys, dkeys) = honest_history(&db);
    let keys = (&keys, &dkeys);
    let audit = |s: &Store, (k, d): (&TrainKeys, &DataKeys)| audit(s, k, d);

    let report = audit(&Store::open(&db).unwrap(), keys).unwrap();
    assert!(report.passed(), "{:?}", report.problems);
    assert_eq!((report.commitments, report.rounds, report.proofs), (2, 2, 2));

    // one altered aggregate
    let altered = copy(&db, dir.path(), "altered-result.db");
    {
        let s = Store::open(&altered).unwrap();
        let rounds = s.rounds().unwrap();
        let r = rounds[0].result.clone().unwrap();
        let mut p = r.params();
        p[0] += 1;
        let m = r.with_params(&p).unwrap();
        s.connection().execute("UPDATE rounds SET result = ?1 WHERE id = 1", [rmp_serde::to_vec(&m).unwrap()]).unwrap();
    }
    let r = audit(&Store::open(&altered).unwrap(), keys).unwrap();
    assert!(!r.passed());
    assert!(r.problems.iter().any(|p| p.contains("round 1: stored result differs")), "{:?}", r.problems);

    // one altered update (its proof no longer attests it)
    let altered = copy(&db, dir.path(), "altered-update.db");
    {
        let s = Store::open(&altered).unwrap();
        let sub = &s.submissions(1).unwrap()[0];
        let mut p = sub.model.params();
        *p.last_mut().unwrap() -= 1;
        let m = sub.model.with_params(&p).unwrap();
        s.connection()
            .execute("UPDATE submissions SET model = ?1 WHERE round = 1 AND peer = ?2", (rmp_serde::to_vec(&m).unwrap(), &sub.peer))
            .unwrap();
    }
    let r = audit(&Store::open(&altered).unwrap(), keys).unwrap();
    assert!(r.problems.iter().any(|p| p.contains("update of h1")), "{:?}", r.problems);

    // a stored commitment proof replaced by another participant's: the
    // commitment is no longer proven, so neither are that participant's updates
    let altered = copy(&db, dir.path(), "replaced-commitment-proof.db");
    {
        let s = Store::open(&altered).unwrap();
        let c = s.connection();
        let other: Vec<u8> = c.query_row("SELECT proof FROM participants WHERE name = 'h2'", [], |r| r.get(0)).unwrap();
        c.execute("UPDATE participants SET proof = ?1 WHERE name = 'h1'", [other]).unwrap();
    }
    let r = audit(&Store::open(&altered).unwrap(), keys).unwrap();
    assert!(r.problems.iter().any(|p| p.contains("participant h1: commitment proof")), "{:?}", r.problems);
    assert!(r.problems.iter().any(|p| p.contains("without a verified commitment")), "{:?}", r.problems);

    // a corrupted one: a byte changed
    let altered = copy(&db, dir.path(), "corrupted-commitment-proof.db");
    {
        let s = Store::open(&altered).unwrap();
        let c = s.connection();
        let mut proof: Vec<u8> = c.query_row("SELECT proof FROM participants WHERE name = 'h2'", [], |r| r.get(0)).unwrap();
        let mid = proof.len() / 2;
        proof[mid] ^= 0x21;
        c.execute("UPDATE participants SET proof = ?1 WHERE name = 'h2'", [proof]).unwrap();
    }
    let r = audit(&Store::open(&altered).unwrap(), keys).unwrap();
    assert!(r.problems.iter().any(|p| p.contains("participant h2: commitment proof")), "{:?}", r.problems);

    // another federation's identifier: every proof names the real one
    let altered = copy(&db, dir.path(), "other-federation.db");
    Store::open(&altered)
        .unwrap()
        .connection()
        .execute("UPDATE meta SET value = ?1 WHERE key = 'federation'", [hex::encode(b"another-coordinator")])
        .unwrap();
    let r = audit(&Store::open(&altered).unwrap(), keys).unwrap();
    assert_eq!(r.problems.iter().filter(|p| p.contains("round 1: update of")).count(), 2, "{:?}", r.problems);

    // a database of the storage format before bincode proofs is refused on
    // opening, with the reason, rather than audited as corrupt
    let old = copy(&db, dir.path(), "format-0.db");
    Store::open(&old).unwrap().connection().pragma_update(None, "user_version", 0).unwrap();
    let err = Store::open(&old).err().expect("an old format is refused").to_string();
    assert!(err.contains("storage format 0") && err.contains("MessagePack"), "{err}");
}

#[test]
fn nothing_is_accepted_or_closed_twice_and_state_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    let model: candor_core::Model = LinearModel::zeros(5).into();
    let participants: BTreeMap<PeerKey, Admitted> = BTreeMap::new();
    {
        let mut s = Store::open(&db).unwrap();
        s.init(&spec(), StrategyConfig::FedMedian, &model, &participants, FEDERATION).unwrap();
        s.opened(1, &model, 10).unwrap();
        s.accepted(1, b"p", 7, &model, b"proof").unwrap();
        assert!(s.accepted(1, b"p", 7, &model, b"proof").is_err(), "accepted twice");
        assert_eq!(s.rejected(Some(1), b"q", "InvalidProof", "bad").unwrap(), RefusalRecord::Kept);
        // a participant's refusals past the cap are counted, per round and
        // outside rounds, and another participant's are not affected
        for (round, peer) in [(Some(1), b"r"), (None, b"r")] {
            let got: Vec<_> = (0..MAX_KEPT_REFUSALS + 3).map(|_| s.rejected(round, peer, "Busy", "x").unwrap()).collect();
            assert!(got[..MAX_KEPT_REFUSALS as usize].iter().all(|g| *g == RefusalRecord::Kept), "{got:?}");
            assert_eq!(got[MAX_KEPT_REFUSALS as usize..], [RefusalRecord::FirstCounted, RefusalRecord::Counted, RefusalRecord::Counted]);
        }
        assert_eq!(s.rejections_over_cap().unwrap(), vec![(0, b"r".to_vec(), 3), (1, b"r".to_vec(), 3)]);
        assert_eq!(s.recent_rejections(1).unwrap().1, vec![(1, MAX_KEPT_REFUSALS + 4)]);
        assert_eq!(s.rejected(Some(1), b"q", "InvalidProof", "bad").unwrap(), RefusalRecord::Kept);
        // "crash": the store is dropped with the round open
    }
    let mut s = Store::open(&db).unwrap();
    assert_eq!(s.federation().unwrap().1, StrategyConfig::FedMedian);
    let rounds = s.rounds().unwrap();
    assert_eq!((rounds.len(), rounds[0].result.clone()), (1, None));
    assert_eq!(s.submissions(1).unwrap()[0].samples, 7);
    assert_eq!(s.rejections().unwrap().len(), 2 + 2 * MAX_KEPT_REFUSALS as usize);
    s.closed(1, &[b"p".to_vec()], None, "{}").unwrap();
    assert!(s.closed(1, &[], None, "{}").is_err(), "closed twice");
    assert!(s.submissions(1).unwrap()[0].aggregated);
    // another federation's config is refused
    let mut other = spec();
    other.learning_rate = 0.25;
    assert!(s.init(&other, StrategyConfig::FedMedian, &model, &participants, FEDERATION).is_err());
    // and so is another coordinator's identity
    assert!(s.init(&spec(), StrategyConfig::FedMedian, &model, &participants, b"other").is_err());
}
