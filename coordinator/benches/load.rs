//! Load figures for the coordinator (figures, not pass/fail): a real
//! `candor-coordinator` process, and participant daemons in this process,
//! on loopback, on the tiny fixture study (5 features, 11 to 10 + N rows
//! per hospital) so that proving stays short. Proofs are always on.
//!
//!   cargo bench -p candor-coordinator --bench load -- hospitals 100
//!   cargo bench -p candor-coordinator --bench load -- flood 1000
//!
//! `hospitals N`: N daemons join one round (quorum N). Prints the
//! coordinator's start-up (deriving keys, verifying N commitment proofs),
//! the round (first poll to close), its peak resident memory and CPU time,
//! and the time to verify the N stored submissions in one batch and one by
//! one.
//!
//! `flood M`: M unknown dialers open TCP connections to the coordinator and
//! redial as fast as each is closed, while 3 admitted hospitals complete a
//! round; prints the round's time with and without the flood.

#[path = "../tests/common/mod.rs"]
mod common;

use candor_circuits::batch::{verify_training_batch, Submitted};
use candor_circuits::verifier::{verify_training, Statement};
use candor_coordinator::store::Store;
use candor_participant::daemon::Outcome;
use common::process::{coordinator, start, write_config};
use common::{hospitals, keys, participate, Hospital};
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

async fn round(hs: &[Hospital], addr: &Multiaddr, dir: &Path) -> Duration {
    let t = Instant::now();
    let runs = hs.iter().enumerate().map(|(i, h)| {
        let state = dir.join(format!("p{i}.state"));
        async move { participate(h, addr, &state).await }
    });
    let outcomes = futures::future::join_all(runs).await;
    assert!(outcomes.iter().all(|o| o == &[Outcome::Accepted(1)]), "{outcomes:?}");
    t.elapsed()
}

async fn hospitals_bench(n: usize) {
    let t = Instant::now();
    let hs = hospitals(n as u8);
    println!("{n} hospitals' commitments proven in {:.1} s (not the coordinator's time)", t.elapsed().as_secs_f64());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_config(d, &hs, n);
    assert!(coordinator(&["keygen"], d).wait().await.unwrap().success());
    let t = Instant::now();
    let (mut c, addr) = start(d).await;
    let startup = t.elapsed();
    let took = round(&hs, &addr, d).await;
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
    let k = keys();
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

/// Dials `port` again and again, holding each connection until the
/// coordinator closes it; counts connections made.
async fn dialer(port: u16, stop: Arc<AtomicBool>, made: Arc<AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    while !stop.load(Ordering::Relaxed) {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(mut s) => {
                made.fetch_add(1, Ordering::Relaxed);
                // say nothing; wait until closed (or stopped)
                let mut buf = [0u8; 64];
                let _ = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn flood_bench(m: usize) {
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
        let dialers: Vec<_> = (0..flood).map(|_| tokio::spawn(dialer(port, stop.clone(), made.clone()))).collect();
        tokio::time::sleep(Duration::from_secs(if flood > 0 { 3 } else { 0 })).await;
        let took = round(&hs, &addr, d).await;
        let usage = wait_measured(&mut c).await;
        stop.store(true, Ordering::Relaxed);
        dialers.iter().for_each(|t| t.abort());
        println!(
            "3 hospitals' round with {flood} unknown dialers: {:.1} s; {} connections dialled; coordinator peak RSS {:.0} MiB, CPU {:.1} s",
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
        ["flood", m] => rt.block_on(flood_bench(m.parse().expect("a count"))),
        [] => {
            rt.block_on(hospitals_bench(20));
            rt.block_on(flood_bench(1000));
        }
        _ => panic!("usage: load [hospitals N | flood M]"),
    }
}
