//! Load figures for the coordinator (figures, not pass/fail): a real
//! `candor-coordinator` process, and participant daemons in this process,
//! on loopback, on the tiny fixture study (5 features, 11 to 10 + N rows
//! per hospital) so that proving stays short. Proofs are always on.
//!
//!   cargo bench -p candor-coordinator --bench load -- hospitals 100
//!   cargo bench -p candor-coordinator --bench load -- bundled 20
//!   cargo bench -p candor-coordinator --bench load -- flood 1000
//!   cargo bench -p candor-coordinator --bench load -- flood 1000 16
//!
//! `hospitals N`: N daemons join one round (quorum N); `bundled N`: the same
//! on the bundled breast-cancer rows split N ways, under the shipped study
//! (logistic regression over 30 features, 3 steps per fold). Prints the
//! coordinator's start-up (deriving keys, verifying N commitment proofs),
//! the round (first poll to close), its peak resident memory and CPU time,
//! and the time to verify the N stored submissions in one batch and one by
//! one.
//!
//! `flood M [HOSTS]`: M dialers on HOSTS loopback addresses (default 1)
//! open TCP connections to the coordinator, say nothing, and redial 5 ms
//! after each is closed, while 3 admitted hospitals complete a round;
//! prints the round's time with and without the flood.

#[path = "../tests/common/mod.rs"]
mod common;

use candor_circuits::batch::{verify_training_batch, Submitted};
use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_circuits::verifier::{verify_commitment, verify_training, Statement};
use candor_coordinator::round::Admitted;
use candor_coordinator::store::Store;
use candor_core::dataset::{select_rows, Study};
use candor_core::Layout;
use candor_participant::daemon::Outcome;
use candor_prover::{prove_commitment, PrivateData};
use common::process::{coordinator, start, write_config, write_config_for};
use common::{hospitals, keys, participate_with, Hospital};
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::Child;

/// Peak resident memory (KiB) and CPU seconds of a running process, read
/// from /proc until it exits.
#[derive(Default, Debug, Clone, Copy)]
struct Usage {
    peak_kib: u64,
    cpu_s: f64,
}

fn read_usage(pid: u32) -> Option<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let peak_kib = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // fields after the command name (which may hold spaces): utime is the
    // 14th field, stime the 15th, in clock ticks (100 a second on Linux)
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Usage { peak_kib, cpu_s: ticks as f64 / 100.0 })
}

/// Waits for `child` to exit, sampling its usage every 50 ms; the last
/// sample before exit.
async fn wait_measured(child: &mut Child) -> Usage {
    let pid = child.id().expect("running");
    let mut last = Usage::default();
    loop {
        if let Some(u) = read_usage(pid) {
            last = u;
        }
        tokio::select! {
            s = child.wait() => { assert!(s.unwrap().success(), "coordinator failed"); return last; }
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

async fn round(hs: &[Hospital], addr: &Multiaddr, dir: &Path, keys: &Arc<TrainKeys>) -> Duration {
    let t = Instant::now();
    let runs = hs.iter().enumerate().map(|(i, h)| {
        let state = dir.join(format!("p{i}.state"));
        async move { participate_with(h, addr, &state, keys.clone()).await }
    });
    let outcomes = futures::future::join_all(runs).await;
    assert!(outcomes.iter().all(|o| o == &[Outcome::Accepted(1)]), "{outcomes:?}");
    t.elapsed()
}

async fn hospitals_bench(n: usize) {
    let t = Instant::now();
    let hs = hospitals(n as u8);
    println!("{n} hospitals' commitments proven in {:.1} s (not the coordinator's time)", t.elapsed().as_secs_f64());
    federation_bench(&hs, None, keys()).await;
}

/// `n` hospitals sharing the bundled breast-cancer rows (round-robin) under
/// the shipped study (logistic regression, 30 features).
async fn bundled_bench(n: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("configs/study-breast-cancer.toml")).unwrap();
    let study: Study = toml::from_str(&text).unwrap();
    let layout = Layout::new(&study.spec).unwrap();
    let data = study.load_csv(&root.join("examples/data/breast_cancer.csv")).unwrap();
    let t = Instant::now();
    let keys = Arc::new(TrainKeys::for_training(&layout, KeySource::derive()).unwrap());
    let dkeys = DataKeys::for_commitment(&layout, KeySource::derive()).unwrap();
    let hs: Vec<Hospital> = (0..n)
        .map(|i| {
            let rows: Vec<usize> = (i..data.rows()).step_by(n).collect();
            let private = PrivateData::new(&layout, &select_rows(&data, &rows), [i as u8 + 1; 32]).unwrap();
            let (c, proof) = prove_commitment(&dkeys, &private).unwrap();
            let commitment = verify_commitment(&dkeys, &c, &proof).unwrap();
            let admitted = Admitted { name: format!("hospital-{i}"), commitment, proof };
            Hospital { key: Keypair::ed25519_from_bytes([i as u8 + 1; 32]).unwrap(), data: Arc::new(private), admitted }
        })
        .collect();
    println!(
        "{n} hospitals on the bundled breast-cancer rows: keys and commitments in {:.1} s (not the coordinator's time)",
        t.elapsed().as_secs_f64()
    );
    federation_bench(&hs, Some(&text), keys).await;
}

/// One round of `hs` (quorum: all) under `study` (default: the fixture
/// study) against a coordinator process.
async fn federation_bench(hs: &[Hospital], study: Option<&str>, keys: Arc<TrainKeys>) {
    let n = hs.len();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    match study {
        Some(text) => write_config_for(d, hs, n, text),
        None => write_config(d, hs, n),
    }
    assert!(coordinator(&["keygen"], d).wait().await.unwrap().success());
    let t = Instant::now();
    let (mut c, addr) = start(d).await;
    let startup = t.elapsed();
    let took = round(hs, &addr, d, &keys).await;
    let usage = wait_measured(&mut c).await;
    let closed = t.elapsed() - startup;
    println!(
        "coordinator with {n} hospitals: start-up {:.2} s (keys, {n} commitment proofs verified); round {:.1} s \
         (all {n} accepted in {:.1} s); peak RSS {:.0} MiB; CPU {:.1} s",
        startup.as_secs_f64(),
        closed.as_secs_f64(),
        took.as_secs_f64(),
        usage.peak_kib as f64 / 1024.0,
        usage.cpu_s
    );

    // verifying what was stored, as a resume or an audit does
    let store = Store::open(&d.join("coordinator.db")).unwrap();
    let rounds = store.rounds().unwrap();
    let subs = store.submissions(1).unwrap();
    let key = std::fs::read_to_string(d.join("coordinator.peer")).unwrap();
    let federation = key.trim().parse::<libp2p::PeerId>().unwrap().to_bytes();
    let statements: Vec<_> = subs
        .iter()
        .map(|s| {
            let h = hs.iter().find(|h| h.key.public().to_peer_id().to_bytes() == s.peer).unwrap();
            Statement {
                federation: federation.clone(),
                round: 1,
                participant: s.peer.clone(),
                data: h.admitted.commitment,
                global: rounds[0].global.clone(),
            }
        })
        .collect();
    let batch: Vec<_> = subs
        .iter()
        .zip(&statements)
        .map(|(s, st)| Submitted { statement: st, model: &s.model, samples: s.samples, proof: &s.proof })
        .collect();
    let k = keys;
    let t = Instant::now();
    assert!(verify_training_batch(&k, &batch).iter().all(Result::is_ok));
    let batched = t.elapsed();
    let t = Instant::now();
    for (s, st) in subs.iter().zip(&statements) {
        verify_training(&k, st, &s.model, s.samples, &s.proof).unwrap();
    }
    let single = t.elapsed();
    println!(
        "verifying the {} stored submissions: {:.2} s in one batch, {:.2} s one by one",
        subs.len(),
        batched.as_secs_f64(),
        single.as_secs_f64()
    );
}

/// Opens TCP connections to `port` from `source` and says nothing, holding
/// each until the coordinator closes it, then redials after 5 ms; counts
/// connections made.
async fn dialer(port: u16, source: std::net::Ipv4Addr, stop: Arc<AtomicBool>, made: Arc<AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    while !stop.load(Ordering::Relaxed) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind((source, 0).into()).unwrap();
        if let Ok(mut s) = socket.connect(([127, 0, 0, 1], port).into()).await {
            made.fetch_add(1, Ordering::Relaxed);
            let _ = tokio::time::timeout(Duration::from_secs(30), s.read(&mut [0u8; 64])).await;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn flood_bench(m: usize, hosts: u8) {
    let hs = hospitals(3);
    for flood in [0, m] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_config(d, &hs, 3);
        assert!(coordinator(&["keygen"], d).wait().await.unwrap().success());
        let (mut c, addr) = start(d).await;
        let port = addr.iter().find_map(|p| if let Protocol::Tcp(p) = p { Some(p) } else { None }).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let made = Arc::new(AtomicUsize::new(0));
        let dialers: Vec<_> = (0..flood)
            .map(|i| {
                // from 127.0.0.2 on: hospitals dial from 127.0.0.1
                let source = std::net::Ipv4Addr::new(127, 0, 0, 2 + (i % hosts as usize) as u8);
                tokio::spawn(dialer(port, source, stop.clone(), made.clone()))
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(if flood > 0 { 3 } else { 0 })).await;
        let took = round(&hs, &addr, d, &keys()).await;
        let usage = wait_measured(&mut c).await;
        stop.store(true, Ordering::Relaxed);
        dialers.iter().for_each(|t| t.abort());
        println!(
            "3 hospitals' round with {flood} silent dialers from {hosts} address(es): {:.1} s; {} connections dialled; \
             coordinator peak RSS {:.0} MiB, CPU {:.1} s",
            took.as_secs_f64(),
            made.load(Ordering::Relaxed),
            usage.peak_kib as f64 / 1024.0,
            usage.cpu_s
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["hospitals", n] => rt.block_on(hospitals_bench(n.parse().expect("a count"))),
        ["bundled", n] => rt.block_on(bundled_bench(n.parse().expect("a count"))),
        ["flood", m] => rt.block_on(flood_bench(m.parse().expect("a count"), 1)),
        ["flood", m, hosts] => rt.block_on(flood_bench(m.parse().expect("a count"), hosts.parse().expect("1 to 250 addresses"))),
        [] => {
            rt.block_on(hospitals_bench(20));
            rt.block_on(bundled_bench(20));
            rt.block_on(flood_bench(1000, 1));
        }
        _ => panic!("usage: load [hospitals N | bundled N | flood M [HOSTS]]"),
    }
}
