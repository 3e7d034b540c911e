//! What the `candor-participant` subcommands do.

use crate::config::{registered_commitment, HospitalConfig, Registration};
use crate::daemon::{self, DaemonConfig, Outcome};
use crate::ParticipantError;
use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_core::dataset::{shuffled, Study};
use candor_core::file::read_toml;
use candor_core::Layout;
use candor_protocols::net::{load_key, NetConfig};
use candor_prover::{prove_commitment, PrivateData};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn secret(cfg: &HospitalConfig, create: bool) -> Result<[u8; 32], ParticipantError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if create && !cfg.secret.exists() {
        let s: [u8; 32] = rand::random();
        if let Some(d) = cfg.secret.parent() {
            std::fs::create_dir_all(d)?;
        }
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&cfg.secret)?;
        f.write_all(&s)?;
        f.sync_all()?;
    }
    let b = std::fs::read(&cfg.secret)
        .map_err(|e| ParticipantError::config(format!("reading {} (run `commit` first): {e}", cfg.secret.display())))?;
    b.try_into().map_err(|_| ParticipantError::config(format!("{} must hold 32 bytes", cfg.secret.display())))
}

/// The hospital's committed data: its CSV under the study, in the order the
/// secret seed fixes.
pub fn private_data(cfg: &HospitalConfig, create_secret: bool) -> Result<(Study, Layout, PrivateData), ParticipantError> {
    let study = cfg.study()?;
    let layout = Layout::new(&study.spec)?;
    let data = study.load_csv(&cfg.data)?;
    let s = secret(cfg, create_secret)?;
    let data = shuffled(&data, cfg.commit_order(&s));
    let private = PrivateData::new(&layout, &data, s)?;
    Ok((study, layout, private))
}

/// Commits the hospital's data, proves the commitment, and writes the
/// registration for the coordinator's operator.
pub fn commit(cfg: &HospitalConfig, cache: &Path) -> Result<Registration, ParticipantError> {
    let key = load_key(&cfg.key)?;
    let (study, layout, data) = private_data(cfg, true)?;
    // data that would fail its first round, in the very order committed, is
    // refused before the commitment is proven
    let findings = crate::check::check(cfg, Some(cfg.commit_order(&secret(cfg, false)?)))?;
    for w in &findings.warnings {
        tracing::warn!("{w}");
    }
    if !findings.errors.is_empty() {
        return Err(ParticipantError::Data(format!("the data and the study's spec do not fit:\n{findings}")));
    }
    tracing::info!(batches = data.batches().len(), "proving the data commitment");
    let keys = DataKeys::for_commitment(&layout, KeySource::data(Some(cache), &study.params)?)?;
    let (c, proof) = prove_commitment(&keys, &data)?;
    let proof_file = cfg.registration.with_extension("proof");
    if let Some(d) = proof_file.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(&proof_file, proof)?;
    let reg = Registration {
        name: cfg.name.clone(),
        peer_id: key.public().to_peer_id().to_string(),
        root: c.root.to_string(),
        rows: c.rows,
        batches: c.batches,
        proof: proof_file.file_name().expect("a file").into(),
    };
    std::fs::write(&cfg.registration, toml::to_string(&reg).map_err(|e| ParticipantError::config(format!("registration: {e}")))?)?;
    Ok(reg)
}

/// Runs the daemon until Ctrl-C or SIGTERM, or until round `stop_after` is done.
pub async fn run(cfg: &HospitalConfig, cache: &Path, stop_after: Option<u64>) -> Result<(), ParticipantError> {
    let key = load_key(&cfg.key)?;
    let (study, layout, data) = private_data(cfg, false)?;
    let reg: Registration = read_toml(&cfg.registration)?;
    let keys = Arc::new(TrainKeys::for_training(&layout, KeySource::train(Some(cache), &study.params)?)?);
    let commitment = data.commitment(&keys);
    if commitment != registered_commitment(&reg)? {
        return Err(ParticipantError::Data(
            "the data no longer matches the registered commitment (the data file, the secret or commit_order_seed changed since `commit`)"
                .into(),
        ));
    }
    let dcfg = DaemonConfig {
        coordinator: cfg.coordinator()?,
        key,
        data: Arc::new(data),
        commitment,
        state_file: Some(cfg.state.clone()),
        checkpoints: cfg.checkpoints(),
        // a prover may hold much of the machine's memory while proving;
        // refusing to redial then would only lose its update
        net: NetConfig { max_memory_fraction: 1.0, ..NetConfig::default() },
        min_backoff: Duration::from_millis(500),
        max_backoff: Duration::from_secs(30),
        stop_after,
    };
    let shutdown = candor_cli::stop_requested();
    daemon::run(dcfg, keys, shutdown, |o| match o {
        Outcome::Accepted(r) => println!("round {r}: update accepted"),
        Outcome::Rejected(r, code, why) => println!("round {r}: rejected ({code:?}): {why}"),
        Outcome::Failed(r, why) => println!("round {r}: training or proving failed here, nothing submitted: {why}"),
    })
    .await
}
