//! The coordinator, a real `candor-coordinator` process, killed with SIGKILL
//! between acceptances and again right after the acceptance that completes
//! the round's quorum (while it closes, or just after): each restart
//! re-verifies what it had stored and resumes, and in the end the round is
//! closed once with all three updates aggregated exactly once, and the
//! audit passes. The participants run in this process. And a missing key
//! file or a damaged database stops it with an error that says so, never
//! a panic.

mod common;

use candor_coordinator::audit::audit;
use candor_coordinator::store::Store;
use candor_participant::daemon::Outcome;
use common::process::{coordinator, start, write_config};
use common::{dkeys, hospitals, keys, participate, PATIENCE};
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_killed_mid_round_and_at_quorum_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hs = hospitals(3);
    write_config(d, &hs, 3);
    let keygen = coordinator(&["keygen"], d).wait_with_output().await.unwrap();
    assert!(keygen.status.success());
    let state: Vec<_> = (0..3).map(|i| d.join(format!("h{i}.state"))).collect();

    // two of three accepted, then killed before the round can close
    let (mut c, addr) = start(d).await;
    let (a, b) = tokio::join!(participate(&hs[0], &addr, &state[0]), participate(&hs[1], &addr, &state[1]));
    assert_eq!((a, b), (vec![Outcome::Accepted(1)], vec![Outcome::Accepted(1)]));
    c.kill().await.unwrap();

    // restarted, it re-verifies both and accepts the third; killed the
    // moment the third hospital hears so: closing or just closed
    let (mut c, addr) = start(d).await;
    assert_eq!(participate(&hs[2], &addr, &state[2]).await, vec![Outcome::Accepted(1)]);
    c.kill().await.unwrap();

    // restarted, it finishes the round (if it had not) and exits: every
    // round has run
    let (mut c, _) = start(d).await;
    let status = tokio::time::timeout(PATIENCE, c.wait()).await.expect("the coordinator finished").unwrap();
    assert!(status.success());

    let store = Store::open(&d.join("coordinator.db")).unwrap();
    let subs = store.submissions(1).unwrap();
    assert_eq!(subs.len(), 3, "nothing lost, nothing doubled");
    assert!(subs.iter().all(|s| s.aggregated));
    let rounds = store.rounds().unwrap();
    assert_eq!(rounds.len(), 1);
    assert!(rounds[0].result.is_some(), "the round closed");
    let report = audit(&store, &keys(), dkeys()).unwrap();
    assert!(report.passed(), "{:?}", report.problems);
    let audited = coordinator(&["audit"], d).wait_with_output().await.unwrap();
    assert!(audited.status.success(), "{}", String::from_utf8_lossy(&audited.stdout));
}

/// `candor-coordinator run` that fails at start-up: its error message.
async fn refused(dir: &Path) -> String {
    let out = tokio::time::timeout(PATIENCE, coordinator(&["run"], dir).wait_with_output()).await.expect("in time").unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "started: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_or_a_damaged_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hs = hospitals(3);
    write_config(d, &hs, 3);
    let e = refused(d).await;
    assert!(e.contains("coordinator.key") && e.contains("No such file"), "{e}");

    assert!(coordinator(&["keygen"], d).wait().await.unwrap().success());
    let (mut c, addr) = start(d).await;
    assert_eq!(participate(&hs[0], &addr, &d.join("h0.state")).await, vec![Outcome::Accepted(1)]);
    c.kill().await.unwrap();
    let db = d.join("coordinator.db");
    // closing the last connection moves the write-ahead log into the file
    drop(Store::open(&db).unwrap());
    assert!(!db.with_extension("db-wal").exists());
    let good = std::fs::read(&db).unwrap();
    assert!(good.len() > 8192, "{} bytes", good.len());
    let mut garbled = good.clone();
    for b in &mut garbled[4096..] {
        *b = 0xa5;
    }
    for (what, bytes) in [("truncated", &good[..good.len() / 2]), ("garbled", &garbled[..])] {
        std::fs::write(&db, bytes).unwrap();
        let e = refused(d).await;
        assert!(e.contains("coordinator.db is damaged") || e.contains("coordinator.db is not a Candor"), "{what}: {e}");
    }
}

/// `candor-coordinator health ARGS`: (succeeded, stdout and stderr).
async fn health(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = coordinator(&[&["health"], args].concat(), dir).wait_with_output().await.unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

// Issue 26: what a container runtime or Kubernetes does to a daemon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_a_running_coordinator_and_sigterm_stops_it_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_config(d, &hospitals(3), 3);
    assert!(coordinator(&["keygen"], d).wait().await.unwrap().success());
    let (before, why) = health(d, &[]).await;
    assert!(!before && why.contains("no heartbeat"), "{why}");

    let (mut c, _) = start(d).await;
    // the first beat comes with the event loop's first tick
    let healthy = tokio::time::timeout(PATIENCE, async {
        loop {
            match health(d, &[]).await {
                (true, status) => return status,
                _ => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            }
        }
    })
    .await
    .expect("healthy in time");
    assert!(healthy.contains("healthy: round 1 open, 0 of 1 rounds done"), "{healthy}");

    // SIGTERM, as `podman stop` and the kubelet send it: a clean exit
    let pid = c.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::time::timeout(PATIENCE, c.wait()).await.expect("stopped in time").unwrap();
    assert!(status.success(), "{status:?}");

    // and with no event loop left, the heartbeat goes stale
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (after, why) = health(d, &["--max-age-secs", "1"]).await;
    assert!(!after && why.contains("stalled"), "{why}");
}
