//! The status page, its JSON API and the metrics of a coordinator that ran
//! real rounds over loopback: an accepted and a refused update must show,
//! with the refusal's reason; the page must render in a real browser
//! (Debian's Chromium, headless); a token must be asked for; and hammering
//! the server must not hold a round past its deadline.

mod common;

use candor_coordinator::audit::audit;
use candor_coordinator::node::Federation;
use candor_coordinator::node::{Coordinator, StatusConfig};
use candor_coordinator::status::view::StatusView;
use candor_coordinator::store::Store;
use candor_core::model::linear::LinearModel;
use candor_participant::daemon::Outcome;
use candor_protocols::{Limits, RejectCode, Request, Submission};
use candor_prover::fixtures;
use common::{ask, code, dkeys, federation_with, hospitals, keys, node_config, participate, start_on};
use libp2p::identity::Keypair;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TOKEN: &str = "status-token-0123456789abcdef";

/// The tests here run one at a time: each proves, one runs a browser, one
/// hammers the server and times a round, and CI has two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn coordinator(fed: Federation, db: &Path, token: Option<&str>) -> Coordinator {
    let mut cfg = node_config(db, "/ip4/127.0.0.1/tcp/0");
    cfg.status = Some(StatusConfig { listen: "127.0.0.1:0".parse().unwrap(), token: token.map(Into::into), study: "status-test".into() });
    let eval = fixtures::dataset(&common::spec(), 32, 77);
    Coordinator::new(Keypair::ed25519_from_bytes([99; 32]).unwrap(), fed, keys(), cfg, Some(eval.into())).unwrap()
}

/// `(status, body, WWW-Authenticate values)` of a GET, off the runtime.
async fn get(addr: SocketAddr, path: &str, auth: Option<String>) -> (u16, Vec<u8>, Vec<String>) {
    let url = format!("http://{addr}{path}");
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut req = agent.get(&url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let challenges = resp.headers().get_all("www-authenticate").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_vec().unwrap();
        (status, body, challenges)
    })
    .await
    .unwrap()
}

async fn get_text(addr: SocketAddr, path: &str) -> String {
    let (status, body, _) = get(addr, path, None).await;
    assert_eq!(status, 200, "GET {path}: {}", String::from_utf8_lossy(&body));
    String::from_utf8(body).unwrap()
}

async fn status_of(addr: SocketAddr) -> StatusView {
    serde_json::from_str(&get_text(addr, "/api/status").await).unwrap()
}

/// The value of an unlabelled sample (or one with exactly these labels).
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// `$CHROMIUM`, or `chromium` or `chromium-browser` on the PATH (as
/// `.ci/run` looks for it before installing it).
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return p.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).flat_map(|d| [d.join("chromium"), d.join("chromium-browser")]).find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("the browser test needs Chromium: apt-get install chromium (`.ci/run` installs it), or set CHROMIUM"))
}

/// Chromium, headless, on `url`: `extra` is `--dump-dom` (the DOM after the
/// page's script ran, on stdout) or `--screenshot=FILE`. Killed after a
/// minute (a hang guard).
async fn browse(url: &str, extra: &str, profile: &Path) -> String {
    let run = tokio::process::Command::new(chromium())
        .kill_on_drop(true)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1280,1700",
            "--virtual-time-budget=3000",
            &format!("--user-data-dir={}", profile.display()),
            extra,
            url,
        ])
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run).await.expect("chromium finished within a minute").expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_api_metrics_and_page_show_accepted_and_refused_updates() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fed.db");
    let hs = hospitals(2);
    let mut fed = federation_with(&hs, 1, 600_000);
    fed.policy.rounds = 2;
    let c = coordinator(fed.clone(), &db, None);
    let http = c.status_addr().expect("serving status");
    let c = start_on(c).await;

    // round 1: a forged proof from hospital-2 is refused, then hospital-1's
    // honest update is accepted and closes the round (quorum 1)
    let forged = Request::Submit(Submission { round: 1, model: LinearModel::zeros(5).into(), samples: 11, proof: vec![7; 100] });
    let r = ask(hs[1].key.clone(), Limits::default(), &c.addr, vec![forged]).await;
    assert_eq!(code(&r[0]), Some(RejectCode::InvalidProof), "{:?}", r[0]);
    let state = dir.path().join("h1.state");
    assert_eq!(participate(&hs[0], &c.addr, &state).await, vec![Outcome::Accepted(1)]);
    // (a daemon that stops after one round; a fresh one takes round 2)
    assert_eq!(participate(&hs[0], &c.addr, &dir.path().join("h1-2.state")).await, vec![Outcome::Accepted(2)]);
    // the board publishes on the next tick
    let deadline = Instant::now() + Duration::from_secs(10);
    let view = loop {
        let v = status_of(http).await;
        if v.finished || Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // the last audit appears once one is recorded (as `audit` does)
    let store = Store::open(&db).unwrap();
    let report = audit(&store, &keys(), dkeys()).unwrap();
    assert!(report.passed(), "{:?}", report.problems);
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    store.record_audit(now_ms, &serde_json::to_string(&report).unwrap()).unwrap();

    // JSON
    assert!(view.finished && view.current.is_none(), "{view:?}");
    assert_eq!(view.completed_rounds, 2);
    assert_eq!(view.federation.study, "status-test");
    assert_eq!(view.federation.params_digest, keys().digest_hex());
    assert_eq!(view.rounds.len(), 2);
    let r1 = &view.rounds[0];
    assert!(r1.closed);
    assert_eq!(r1.accepted.len(), 1);
    assert_eq!((r1.accepted[0].participant.as_str(), r1.accepted[0].samples), ("hospital-1", 11));
    assert!(r1.accepted[0].aggregated && r1.accepted[0].verify_secs.is_some_and(|s| s > 0.0), "{:?}", r1.accepted[0]);
    assert_eq!(r1.refused_total, 1);
    assert_eq!((r1.refused[0].participant.as_str(), r1.refused[0].code.as_str()), ("hospital-2", "InvalidProof"));
    assert!(!r1.refused[0].reason.is_empty());
    assert!(r1.test.is_some_and(|t| t.accuracy.is_some()), "held-out metrics: {:?}", r1.test);
    let digest = r1.model_digest.clone().expect("closed round has a model digest");
    let p = view.participants.iter().find(|p| p.name == "hospital-1").unwrap();
    assert!(p.last_seen_ms.is_some() && p.rows == 11, "{p:?}");
    let with_audit = status_of(http).await;
    let a = with_audit.audit.as_ref().expect("the recorded audit");
    assert!(a.passed && a.rounds == 2 && a.proofs == 2, "{a:?}");

    // one round, its model, unknown rounds and paths
    let one: serde_json::Value = serde_json::from_str(&get_text(http, "/api/rounds/1").await).unwrap();
    assert_eq!(one["refused"][0]["code"], "InvalidProof");
    let (s, bytes, _) = get(http, "/api/rounds/1/model.safetensors", None).await;
    assert_eq!(s, 200);
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert!(tensors.names().iter().any(|n| n.ends_with("_fixed")), "{:?}", tensors.names());
    assert_eq!(get(http, "/api/rounds/9", None).await.0, 404);
    assert_eq!(get(http, "/api/rounds/9/model.safetensors", None).await.0, 404);
    assert_eq!(get(http, "/no/such/page", None).await.0, 404);

    // Prometheus
    let m = get_text(http, "/metrics").await;
    assert_eq!(sample(&m, "candor_updates_accepted_total"), Some(2.0), "{m}");
    assert_eq!(sample(&m, "candor_updates_refused_total{reason=\"InvalidProof\"}"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "candor_rounds_closed_total"), Some(2.0), "{m}");
    assert_eq!(sample(&m, "candor_proofs_verified_total"), Some(3.0), "{m}");
    assert!(sample(&m, "candor_verification_seconds_count").is_some_and(|n| n >= 1.0), "{m}");
    assert_eq!(sample(&m, "candor_open_round"), Some(0.0), "{m}");

    // the page, rendered by a real browser
    let profile = tempfile::tempdir().unwrap();
    let dom = browse(&format!("http://{http}/"), "--dump-dom", profile.path()).await;
    assert!(dom.contains("<table id=\"rounds\""), "{dom}");
    assert!(dom.contains("<tr data-round=\"1\">") && dom.contains("<tr data-round=\"2\">"), "{dom}");
    let refusal = dom.split("<tr class=\"refusal\">").nth(1).expect("a refusal row").split("</tr>").next().unwrap();
    assert!(refusal.contains("hospital-2") && refusal.contains("InvalidProof") && refusal.contains(&html_escape(&r1.refused[0].reason)));
    let chart = dom.split("<svg id=\"chart\"").nth(1).expect("the chart").split("</svg>").next().unwrap();
    assert_eq!(chart.matches("class=\"point loss\"").count(), 2, "one loss point per closed round: {chart}");
    assert_eq!(chart.matches("class=\"point accuracy\"").count(), 2, "{chart}");
    assert!(dom.contains(&digest[..12]));
    let audit = dom.split("<div id=\"audit\">").nth(1).expect("the audit section").split("</div>").next().unwrap();
    assert!(audit.contains("badge ok\">passed") && audit.contains("2 rounds and 2 proofs"), "{audit}");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    browse(&format!("http://{http}/"), &format!("--screenshot={}", shot.display()), profile.path()).await;
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} bytes", png.len());
    println!("screenshot: {}", shot.display());
    c.stop().await.unwrap();

    // a restarted coordinator shows the same history, from its database
    let again = coordinator(fed, &db, None);
    let http = again.status_addr().unwrap();
    let again = start_on(again).await;
    let reloaded = status_of(http).await;
    let strip = |v: &StatusView| {
        let rounds: Vec<_> = v
            .rounds
            .iter()
            .map(|r| serde_json::json!([r.round, r.closed, r.accepted, r.refused, r.refused_total, r.test, r.model_digest]))
            .collect();
        serde_json::to_string(&rounds).unwrap()
    };
    assert_eq!(strip(&reloaded), strip(&with_audit), "the board reloaded from the store");
    assert!(reloaded.finished && reloaded.completed_rounds == 2 && reloaded.participants.iter().all(|p| !p.submitted));
    again.stop().await.unwrap();
}

/// Text as a browser serializes it in a DOM dump.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_token_answers_401_without_it() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let hs = hospitals(1);
    let c = coordinator(federation_with(&hs, 1, 600_000), &dir.path().join("fed.db"), Some(TOKEN));
    let http = c.status_addr().unwrap();
    let c = start_on(c).await;
    for path in ["/", "/api/status", "/metrics", "/no/such/page"] {
        let (s, _, challenges) = get(http, path, None).await;
        assert_eq!(s, 401, "{path}");
        assert!(challenges.iter().any(|c| c.starts_with("Basic")), "a browser is asked: {challenges:?}");
        assert_eq!(get(http, path, Some(format!("Bearer {TOKEN}x"))).await.0, 401, "{path}");
    }
    assert_eq!(get(http, "/api/status", Some(format!("Bearer {TOKEN}"))).await.0, 200);
    assert_eq!(get(http, "/metrics", Some(format!("Bearer {TOKEN}"))).await.0, 200);
    assert_eq!(get(http, "/no/such/page", Some(format!("Bearer {TOKEN}"))).await.0, 404);
    c.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hammering_the_status_server_does_not_hold_a_round_past_its_deadline() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let hs = hospitals(2);
    // quorum 2 with one hospital coming: the round closes at its deadline
    let c = coordinator(federation_with(&hs, 2, 12_000), &dir.path().join("fed.db"), None);
    let http = c.status_addr().unwrap();
    let c = start_on(c).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hammers: Vec<_> = (0..8)
        .map(|i| {
            let (stop, served) = (stop.clone(), served.clone());
            let path = ["/", "/api/status", "/metrics", "/api/rounds"][i % 4];
            tokio::task::spawn_blocking(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if let Ok(mut r) = agent.get(&format!("http://{http}{path}")).call() {
                        let _ = r.body_mut().read_to_vec();
                        served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let state = dir.path().join("h1.state");
    let deadline_ms = loop {
        if let Some(c) = status_of(http).await.current {
            break c.deadline_ms;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(participate(&hs[0], &c.addr, &state).await, vec![Outcome::Accepted(1)]);
    // when the coordinator closed the round, as it recorded it
    let give_up = Instant::now() + Duration::from_secs(90);
    let closed_ms = loop {
        if let Some(at) = status_of(http).await.rounds.first().and_then(|r| r.closed_ms) {
            break at;
        }
        assert!(Instant::now() < give_up, "the round never closed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in hammers {
        h.await.unwrap();
    }
    let served = served.load(std::sync::atomic::Ordering::Relaxed);
    assert!(served > 50, "the hammers were served ({served})");
    // the machine closes a round on the first tick (every 100 ms) past its
    // deadline; two seconds is far more than a loop that is not held needs
    let late = closed_ms as i64 - deadline_ms as i64;
    assert!((0..2_000).contains(&late), "closed {late} ms after its deadline");
    c.stop().await.unwrap();
}
