//! A hospital's daemon, a real `candor-participant` process, is killed with
//! SIGKILL while proving a round; restarted, it resumes the proof from its
//! checkpoint, the round's update is accepted once, and the checkpoint (it
//! holds patient data) is gone. The coordinator runs in this process.

use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_coordinator::audit::audit;
use candor_coordinator::config::CoordinatorConfig;
use candor_coordinator::node::Coordinator;
use candor_coordinator::store::Store;
use candor_core::Layout;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};

/// A hang guard, never what the test asserts.
// (a loaded 2-core CI box once took more than 60 s for one command)
const PATIENCE: Duration = Duration::from_secs(180);

/// 64 rows of 5 features in batches of 2, one step per fold: 32 folds.
fn write_study(dir: &Path) {
    let mut csv = String::from("f0,f1,f2,f3,f4,y\n");
    for i in 0..64u32 {
        let x: Vec<String> = (0..5u32).map(|j| format!("{:.3}", f64::from((i * 7 + j * 3) % 17) / 8.0 - 1.0)).collect();
        csv += &format!("{},{}\n", x.join(","), (i * 5 % 3 == 0) as u8);
    }
    std::fs::write(dir.join("data.csv"), csv).unwrap();
    std::fs::write(
        dir.join("study.toml"),
        r#"label = "y"
[spec]
learning_rate = 0.5
batch_size = 2
epochs = 1
steps_per_fold = 1
[spec.model]
features = 5
task = "logistic"
[spec.format]
frac_bits = 9
int_bits = 3
[normalization]
mean = [0.0, 0.0, 0.0, 0.0, 0.0]
std = [1.0, 1.0, 1.0, 1.0, 1.0]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("coordinator.toml"),
        r#"study = "study.toml"
listen = "/ip4/127.0.0.1/tcp/0"
key = "unused.key"
db = "coordinator.db"
rounds = 1
quorum = 1
round_secs = 600
registrations = ["hospital.registration.toml"]
[strategy]
name = "fed_avg"
"#,
    )
    .unwrap();
}

fn write_hospital(dir: &Path, coordinator: &str) -> PathBuf {
    let path = dir.join("hospital.toml");
    std::fs::write(
        &path,
        format!(
            r#"study = "study.toml"
name = "hospital-a"
data = "data.csv"
key = "hospital.key"
secret = "hospital.secret"
state = "hospital.state"
checkpoint_every = 1
registration = "hospital.registration.toml"
{coordinator}
"#
        ),
    )
    .unwrap();
    path
}

fn participant(args: &[&str], log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_candor-participant"))
        .args(args)
        .arg("--json-logs")
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn succeeds(args: &[&str], log: &Path) {
    let status = tokio::time::timeout(PATIENCE, participant(args, log).wait()).await;
    let output = || std::fs::read_to_string(log).unwrap_or_default();
    assert!(status.as_ref().is_ok_and(|s| s.as_ref().is_ok_and(|s| s.success())), "{args:?}: {status:?}\n{}", output());
}

/// The `fields` of each JSON log line whose message is `message`.
fn logged(log: &Path, message: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == message)
        .map(|v| v["fields"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_mid_proof_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_study(d);
    let key = Keypair::ed25519_from_bytes([42; 32]).unwrap();
    let peer = key.public().to_peer_id();
    // the port is known once the coordinator listens; `commit` needs none
    let config = write_hospital(d, &format!("coordinator_addr = \"/ip4/127.0.0.1/tcp/1\"\ncoordinator_peer_id = \"{peer}\""));
    let config = config.to_str().unwrap();
    succeeds(&["keygen", "--config", config], &d.join("keygen.log")).await;
    succeeds(&["commit", "--config", config], &d.join("commit.log")).await;

    let cfg = CoordinatorConfig::load(&d.join("coordinator.toml")).unwrap();
    let study = cfg.study().unwrap();
    let layout = Layout::new(&study.spec).unwrap();
    let (fed, node) = cfg.federation(&study, cfg.participants(&layout, KeySource::derive()).unwrap()).unwrap();
    let keys = Arc::new(TrainKeys::for_training(&layout, KeySource::derive()).unwrap());
    let mut c = Coordinator::new(key, fed, keys.clone(), node, None).unwrap().exit_when_finished();
    let port = c.listening().await.iter().find_map(|p| if let Protocol::Tcp(p) = p { Some(p) } else { None }).unwrap();
    let coordinator = tokio::spawn(c.run(std::future::pending()));
    write_hospital(d, &format!("coordinator_addr = \"/ip4/127.0.0.1/tcp/{port}\"\ncoordinator_peer_id = \"{peer}\""));

    // killed as soon as the first checkpoint is on disk
    let checkpoint = d.join("hospital.checkpoint");
    let (first, second) = (d.join("first.log"), d.join("second.log"));
    let run = ["run", "--config", config, "--until-round", "1"];
    let mut daemon = participant(&run, &first);
    tokio::time::timeout(PATIENCE, async {
        while !checkpoint.exists() {
            assert!(daemon.try_wait().unwrap().is_none(), "the daemon exited before checkpointing");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("a checkpoint in time");
    // mid-proof, the daemon is healthy to a container's health check
    let health = Command::new(env!("CARGO_BIN_EXE_candor-participant")).args(["health", "--config", config]).output().await.unwrap();
    let said = String::from_utf8_lossy(&health.stdout);
    assert!(health.status.success() && said.starts_with("healthy: proving a round"), "{said}");
    daemon.kill().await.unwrap();
    assert!(logged(&first, "proof compressed").is_empty(), "killed mid-proof");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&checkpoint).unwrap().permissions().mode() & 0o777, 0o600);

    succeeds(&run, &second).await;
    let done = logged(&second, "proof compressed");
    assert_eq!(done.len(), 1, "{done:?}");
    let resumed = done[0]["resumed_from"].as_u64().unwrap();
    assert!((1..32).contains(&resumed), "resumed from fold {resumed} of 32");
    assert!(!checkpoint.exists(), "the checkpoint is deleted once the proof is made");
    assert!(!d.join("hospital.checkpoint.tmp").exists());

    tokio::time::timeout(PATIENCE, coordinator).await.expect("the round closed").unwrap().unwrap();
    let store = Store::open(&d.join("coordinator.db")).unwrap();
    let subs = store.submissions(1).unwrap();
    assert_eq!(subs.len(), 1);
    assert!(subs[0].aggregated);
    let dkeys = DataKeys::for_commitment(&layout, KeySource::derive()).unwrap();
    let report = audit(&store, &keys, &dkeys).unwrap();
    assert!(report.passed(), "{:?}", report.problems);
}

#[tokio::test]
async fn a_missing_key_or_secret_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_study(d);
    let peer = Keypair::ed25519_from_bytes([42; 32]).unwrap().public().to_peer_id();
    let config = write_hospital(d, &format!("coordinator_addr = \"/ip4/127.0.0.1/tcp/1\"\ncoordinator_peer_id = \"{peer}\""));
    for (args, names) in [(["run", "--config"], "hospital.key"), (["commit", "--config"], "hospital.key")] {
        let out = Command::new(env!("CARGO_BIN_EXE_candor-participant")).args(args).arg(&config).output().await.unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(names) && !err.contains("panicked"), "{args:?}: {err}");
    }
    succeeds(&["keygen", "--config", config.to_str().unwrap()], &d.join("keygen.log")).await;
    let out = Command::new(env!("CARGO_BIN_EXE_candor-participant")).args(["run", "--config"]).arg(&config).output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("hospital.secret") && err.contains("run `commit` first"), "{err}");
}
