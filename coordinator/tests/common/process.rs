//! The coordinator as a real process (`candor-coordinator`) over config
//! files written for fixture hospitals: for the kill tests and the load
//! benchmark.

use super::{spec, Hospital, PATIENCE};
use candor_protocols::Registration;
use libp2p::Multiaddr;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A study of [`spec`], one registration file per hospital, and a
/// coordinator config for one round closing at `quorum`.
pub fn write_config(dir: &Path, hs: &[Hospital], quorum: usize) {
    let mut study = toml::toml! {
        label = "y"
        [normalization]
        mean = [0.0, 0.0, 0.0, 0.0, 0.0]
        std = [1.0, 1.0, 1.0, 1.0, 1.0]
    };
    study.insert("spec".into(), toml::Value::try_from(spec()).unwrap());
    write_config_for(dir, hs, quorum, &toml::to_string(&study).unwrap());
}

/// [`write_config`] for the study `study` (a study file's text).
pub fn write_config_for(dir: &Path, hs: &[Hospital], quorum: usize, study: &str) {
    std::fs::write(dir.join("study.toml"), study).unwrap();
    let mut regs = vec![];
    for (i, h) in hs.iter().enumerate() {
        let c = h.admitted.commitment.commitment();
        let reg = Registration {
            name: h.admitted.name.clone(),
            peer_id: h.key.public().to_peer_id().to_string(),
            root: c.root.to_string(),
            rows: c.rows,
            batches: c.batches,
            proof: format!("h{i}.proof").into(),
        };
        std::fs::write(dir.join(format!("h{i}.proof")), &h.admitted.proof).unwrap();
        std::fs::write(dir.join(format!("h{i}.toml")), toml::to_string(&reg).unwrap()).unwrap();
        regs.push(format!("\"h{i}.toml\""));
    }
    let coordinator = format!(
        "study = \"study.toml\"\nlisten = \"/ip4/127.0.0.1/tcp/0\"\nkey = \"coordinator.key\"\ndb = \"coordinator.db\"\n\
         rounds = 1\nquorum = {quorum}\nround_secs = 600\nregistrations = [{}]\n[strategy]\nname = \"fed_avg\"\n",
        regs.join(", ")
    );
    std::fs::write(dir.join("coordinator.toml"), coordinator).unwrap();
}

/// `candor-coordinator ARGS --config DIR/coordinator.toml`, output piped.
pub fn coordinator(args: &[&str], dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_candor-coordinator"))
        .args(args)
        .arg("--config")
        .arg(dir.join("coordinator.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Starts `candor-coordinator run` and returns it with its address.
pub async fn start(dir: &Path) -> (Child, Multiaddr) {
    let mut c = coordinator(&["run"], dir);
    let mut lines = BufReader::new(c.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(a) = line.strip_prefix("coordinator listening on ") {
                return a.parse().unwrap();
            }
        }
        panic!("the coordinator exited before listening");
    })
    .await
    .expect("listening in time");
    // keep draining its output, so that it never blocks on a full pipe
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let mut errors = BufReader::new(c.stderr.take().unwrap()).lines();
    tokio::spawn(async move { while let Ok(Some(_)) = errors.next_line().await {} });
    (c, addr)
}
