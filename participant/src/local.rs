//! A local, single-machine run: commit a CSV, train with proof, write the
//! proof, verify it. What a hospital's IT team runs to see the engine work
//! before joining a federation.

use crate::round::train_round;
use crate::train::ReferenceTrainer;
use crate::ParticipantError;
use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_circuits::verifier::{verify_commitment, verify_training, ClaimedStatement, VerifiedUpdate};
use candor_circuits::verifier::{Claim, ProvenStatement};
use candor_core::dataset::{quantize, shuffled, Normalization};
use candor_core::eval::{evaluate, Metrics};
use candor_core::table::Table;
use candor_core::{Layout, Task, TrainSpec};
use candor_prover::{prove_commitment, PrivateData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the data comes from and how it is split.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Data file with a header row (not read by a simulation with a given
    /// `[split]`).
    #[serde(default)]
    pub path: PathBuf,
    /// Label column.
    pub label: String,
    /// Feature columns; all other columns when absent.
    pub features: Option<Vec<String>>,
    /// Fraction of rows held out for testing.
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Seed of the split, the commit order and the blinding elements.
    #[serde(default)]
    pub seed: u64,
    /// How fields are separated (`","`, `";"`, `"|"`, `"tab"`,
    /// `"whitespace"`); sniffed from the header line when absent.
    #[serde(default)]
    pub delimiter: Option<String>,
}

fn default_test_fraction() -> f64 {
    0.2
}

impl DataConfig {
    /// Resolves a relative data path against the directory of `config`, the
    /// file it was read from.
    pub fn resolve_against(&mut self, config: &Path) {
        if !self.path.as_os_str().is_empty() {
            candor_core::file::resolve_beside(config, [&mut self.path]);
        }
    }
}

/// A local run: data plus the training spec.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// Data source.
    pub data: DataConfig,
    /// Training spec.
    pub spec: TrainSpec,
    /// Pinned parameter digests (`candor-coordinator params` prints them).
    #[serde(default)]
    pub params: candor_core::ParamsPin,
    /// What loading chose for the user (a default it filled in), to print.
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl LocalConfig {
    /// Reads a TOML file. A relative data path is resolved against the
    /// file's directory, as in every daemon config; a missing
    /// `steps_per_fold` takes the padding advice (noted in `notes`).
    pub fn load(path: &Path) -> Result<Self, ParticipantError> {
        let c: Self = candor_core::file::read_toml(path)?;
        c.read_from(path)
    }

    /// What loading does after parsing, for a config read from `path`
    /// (also `check`'s, which takes a simulation's tables): resolves the
    /// data path, fills in a missing `steps_per_fold`.
    pub fn read_from(mut self, path: &Path) -> Result<Self, ParticipantError> {
        self.data.resolve_against(path);
        self.notes.extend(candor_circuits::cost::fill_steps_per_fold(&mut self.spec)?);
        Ok(self)
    }
}

/// What `local` writes: the claimed statement, the commitment proof that
/// makes its data commitment verifiable, the model and count it claims, and
/// the compressed training proof. `verify` checks the commitment proof
/// first: the training proof means nothing over an unproven commitment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UpdateFile {
    /// Statement the proof is for (its commitment not yet verified).
    pub statement: ClaimedStatement,
    /// Compressed proof of the data commitment (ranges, labels, row count).
    #[serde(with = "serde_bytes")]
    pub commitment_proof: Vec<u8>,
    /// Claimed updated model.
    pub model: candor_core::Model,
    /// Claimed sample count.
    pub samples: u64,
    /// Compressed proof.
    #[serde(with = "serde_bytes")]
    pub proof: Vec<u8>,
}

/// Figures of a local run.
#[derive(Clone, Debug, Serialize)]
pub struct LocalReport {
    /// Training rows committed.
    pub rows: u64,
    /// SGD steps proven.
    pub steps: usize,
    /// Seconds of key setup (or cache load) for the commitment proof.
    pub commit_setup_secs: f64,
    /// Seconds for the commitment proof (prove, compress, check).
    pub commit_secs: f64,
    /// Seconds of key setup (or cache load) for training.
    pub setup_secs: f64,
    /// Seconds training natively with candle.
    pub native_secs: f64,
    /// Seconds proving all folds and compressing.
    pub prove_secs: f64,
    /// Of `prove_secs`, seconds compressing (after the last fold).
    pub compress_secs: f64,
    /// Seconds verifying the training proof.
    pub verify_secs: f64,
    /// Bytes of the compressed training proof.
    pub proof_bytes: usize,
    /// Parameter digest of the training circuit.
    pub params_digest: String,
    /// Test metrics of the proven model.
    pub test: Metrics,
    /// Test accuracy (or MSE) of the float32 reference trained the same way.
    pub float_reference: f64,
}

/// Loads, splits and quantizes the data: (train in commit order, test, the
/// normalization fitted on the training rows: features, and for regression
/// the target, whose scale metrics are reported back in).
pub fn load_data(
    cfg: &DataConfig,
    spec: &TrainSpec,
) -> Result<(candor_core::data::Dataset, candor_core::data::Dataset, Normalization), ParticipantError> {
    let d = load(cfg, spec)?;
    Ok((d.train, d.test, d.norm))
}

/// What [`load`] read and derived: the table, its selected features and
/// labels (all rows, file order), and [`load_data`]'s split.
pub struct Loaded {
    /// The file as read.
    pub table: Table,
    /// Feature values of every row.
    pub x: Vec<Vec<f64>>,
    /// Label of every row.
    pub y: Vec<f64>,
    /// Training rows, quantized, in commit order.
    pub train: candor_core::data::Dataset,
    /// Held-out rows, quantized.
    pub test: candor_core::data::Dataset,
    /// Normalization fitted on the training rows.
    pub norm: Normalization,
}

/// [`load_data`], keeping what it read (for `check`, which reads the file once).
pub fn load(cfg: &DataConfig, spec: &TrainSpec) -> Result<Loaded, ParticipantError> {
    if cfg.path.as_os_str().is_empty() {
        return Err(candor_core::CoreError::InvalidSpec("[data] needs a path: the data file".into()).into());
    }
    let table = Table::read_configured(&cfg.path, cfg.delimiter.as_deref())?;
    // classification labels are checked before anything is fitted;
    // regression targets once their standardization is known
    if spec.model.task != Task::Linear {
        table.check_labels(&cfg.label, spec, None)?;
    }
    let (x, y) = table.select_for(cfg.features.as_deref(), &cfg.label, spec)?;
    let mut idx: Vec<usize> = (0..x.len()).collect();
    rand::seq::SliceRandom::shuffle(&mut idx[..], &mut ChaCha20Rng::seed_from_u64(cfg.seed));
    let n_test = ((x.len() as f64) * cfg.test_fraction).round() as usize;
    let (test_idx, train_idx) = idx.split_at(n_test);
    let pick = |ids: &[usize]| (ids.iter().map(|&i| x[i].clone()).collect::<Vec<_>>(), ids.iter().map(|&i| y[i]).collect::<Vec<_>>());
    let (xtr, ytr) = pick(train_idx);
    let (xte, yte) = pick(test_idx);
    let norm = Normalization::fit_for(&xtr, &ytr, spec);
    table.check_labels(&cfg.label, spec, norm.target.as_ref())?;
    let train = shuffled(&quantize(&xtr, &ytr, &norm, spec)?, cfg.seed ^ 0x5eed);
    let test = quantize(&xte, &yte, &norm, spec)?;
    Ok(Loaded { table, x, y, train, test, norm })
}

/// A split given as files: each hospital's rows and the held-out rows, read
/// under `cfg` (label, features, delimiter) and standardized with the
/// statistics of all hospitals' rows (targets too, for regression). Returns
/// the hospitals' data sets in file order, the test set and the
/// normalization.
pub fn load_given(
    cfg: &DataConfig,
    hospitals: &[PathBuf],
    test: &Path,
    spec: &TrainSpec,
) -> Result<(Vec<candor_core::data::Dataset>, candor_core::data::Dataset, Normalization), ParticipantError> {
    // the features by name, as the first file has them (all its columns but
    // the label unless named): every file is read by those names, so that
    // files whose columns come in another order still line up
    let mut names: Option<Vec<String>> = cfg.features.clone();
    let mut tables = vec![];
    let mut read = |path: &Path| -> Result<(Vec<Vec<f64>>, Vec<f64>), ParticipantError> {
        let table = Table::read_configured(path, cfg.delimiter.as_deref())?;
        if spec.model.task != Task::Linear {
            table.check_labels(&cfg.label, spec, None)?;
        }
        let features = names.get_or_insert_with(|| table.columns.iter().filter(|c| **c != cfg.label.trim()).cloned().collect());
        let rows = table.select_for(Some(features), &cfg.label, spec)?;
        tables.push(table);
        Ok(rows)
    };
    let shares = hospitals.iter().map(|p| read(p)).collect::<Result<Vec<_>, _>>()?;
    let (xte, yte) = read(test)?;
    let pooled: Vec<Vec<f64>> = shares.iter().flat_map(|(x, _)| x.iter().cloned()).collect();
    let pooled_y: Vec<f64> = shares.iter().flat_map(|(_, y)| y.iter().copied()).collect();
    let norm = Normalization::fit_for(&pooled, &pooled_y, spec);
    for t in &tables {
        t.check_labels(&cfg.label, spec, norm.target.as_ref())?;
    }
    let shares = shares.iter().map(|(x, y)| quantize(x, y, &norm, spec)).collect::<Result<Vec<_>, _>>()?;
    let test = quantize(&xte, &yte, &norm, spec)?;
    Ok((shares, test, norm))
}

/// Runs commit, train, prove, write, verify.
pub fn run_local(cfg: &LocalConfig, out: &Path, cache: Option<&Path>) -> Result<(LocalReport, VerifiedUpdate), ParticipantError> {
    let layout = Layout::new(&cfg.spec)?;
    let (train, test, norm) = load_data(&cfg.data, &cfg.spec)?;
    let mut seed = [0u8; 32];
    ChaCha20Rng::seed_from_u64(cfg.data.seed).fill(&mut seed);
    let data = PrivateData::new(&layout, &train, seed)?;

    tracing::info!(rows = train.rows(), batches = data.batches().len(), "committing data");
    let t = Instant::now();
    let dkeys = DataKeys::for_commitment(&layout, KeySource::data(cache, &cfg.params)?)?;
    let commit_setup_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (commitment, cproof) = prove_commitment(&dkeys, &data)?;
    let verified_commitment = verify_commitment(&dkeys, &commitment, &cproof)?;
    // the commitment's keys are done with: training need not hold both
    drop(dkeys);
    let commit_secs = t.elapsed().as_secs_f64();
    tracing::info!(root = %commitment.root, rows = commitment.rows, secs = commit_secs, "data commitment proven and verified");

    let t = Instant::now();
    let keys = TrainKeys::for_training(&layout, KeySource::train(cache, &cfg.params)?)?;
    let setup_secs = t.elapsed().as_secs_f64();
    let statement = ClaimedStatement {
        federation: b"local".to_vec(),
        round: 1,
        participant: b"local".to_vec(),
        data: commitment,
        global: candor_core::Model::initial(&layout.spec),
    };

    let steps = statement.folds(&layout)? * layout.spec.steps_per_fold;
    let bar = indicatif::ProgressBar::new(statement.folds(&layout)? as u64).with_message("proving folds");
    let trained = train_round(&layout, Some(&keys), &statement, &data, |done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let (native_secs, prove_secs, compress_secs) = (trained.train_secs, trained.prove_secs, trained.compress_secs);
    let proof = trained.proof.ok_or_else(|| ParticipantError::config("no proof produced"))?;

    std::fs::create_dir_all(out)?;
    let file = UpdateFile {
        statement: statement.clone(),
        commitment_proof: cproof.clone(),
        model: trained.model,
        samples: trained.samples,
        proof,
    };
    std::fs::write(out.join("update.msgpack"), rmp_serde::to_vec_named(&file).map_err(std::io::Error::other)?)?;

    let t = Instant::now();
    let statement = statement.verified(&verified_commitment)?;
    let verified = verify_training(&keys, &statement, &file.model, file.samples, &file.proof)?;
    let verify_secs = t.elapsed().as_secs_f64();

    let mut float = ReferenceTrainer::new(&layout, &statement.global)?;
    float.train_batches(data.batches(), layout.spec.epochs)?;
    let report = LocalReport {
        rows: commitment.rows,
        steps,
        commit_setup_secs,
        commit_secs,
        setup_secs,
        native_secs,
        prove_secs,
        compress_secs,
        verify_secs,
        proof_bytes: file.proof.len(),
        params_digest: keys.digest_hex(),
        test: evaluate(&layout, verified.model(), &test).in_units(norm.target.as_ref()),
        float_reference: Metrics::metric_in_units(float.evaluate_dataset(&test)?, &layout, norm.target.as_ref()),
    };
    std::fs::write(out.join("commitment.msgpack"), rmp_serde::to_vec_named(&(commitment, cproof)).map_err(std::io::Error::other)?)?;
    std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?)?;
    Ok((report, verified))
}

/// Verifies a written update file under a config's spec: first the
/// commitment proof it carries (without it the file is refused), then the
/// training proof over that verified commitment.
pub fn verify_file(cfg: &LocalConfig, path: &Path, cache: Option<&Path>) -> Result<VerifiedUpdate, ParticipantError> {
    let layout = Layout::new(&cfg.spec)?;
    let bytes = std::fs::read(path).map_err(|error| candor_core::file::FileError::Read { path: path.to_path_buf(), error })?;
    let file: UpdateFile = rmp_serde::from_slice(&bytes).map_err(|e| {
        ParticipantError::Data(format!("{}: not an update file with its commitment proof (as `local` writes): {e}", path.display()))
    })?;
    let dkeys = DataKeys::for_commitment(&layout, KeySource::data(cache, &cfg.params)?)?;
    let commitment = verify_commitment(&dkeys, &file.statement.data, &file.commitment_proof)
        .map_err(|e| ParticipantError::Data(format!("{}: the data commitment's proof does not verify: {e}", path.display())))?;
    let keys = TrainKeys::for_training(&layout, KeySource::train(cache, &cfg.params)?)?;
    let statement = file.statement.verified(&commitment)?;
    Ok(verify_training(&keys, &statement, &file.model, file.samples, &file.proof)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_circuits::verifier::{DataCommitment, Digest};
    use candor_core::{Model, Task};
    use candor_prover::fixtures;

    fn config() -> LocalConfig {
        LocalConfig {
            data: DataConfig { path: "unused.csv".into(), label: "y".into(), features: None, test_fraction: 0.2, seed: 0, delimiter: None },
            spec: fixtures::spec(Task::Logistic, 3, 4, 1),
            params: Default::default(),
            notes: Vec::new(),
        }
    }

    fn claim() -> ClaimedStatement {
        ClaimedStatement {
            federation: b"local".to_vec(),
            round: 1,
            participant: b"local".to_vec(),
            data: DataCommitment { root: Digest([0; 32]), rows: 4, batches: 1 },
            global: Model::initial(&config().spec),
        }
    }

    #[test]
    fn an_update_file_without_its_commitment_proof_is_refused() {
        // what `local` wrote before commitment proofs were required
        #[derive(Serialize)]
        struct WithoutCommitmentProof {
            statement: ClaimedStatement,
            model: Model,
            samples: u64,
            #[serde(with = "serde_bytes")]
            proof: Vec<u8>,
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("update.msgpack");
        let old = WithoutCommitmentProof { statement: claim(), model: claim().global, samples: 4, proof: vec![1, 2, 3] };
        std::fs::write(&path, rmp_serde::to_vec_named(&old).unwrap()).unwrap();
        let err = verify_file(&config(), &path, None).unwrap_err().to_string();
        assert!(err.contains("not an update file with its commitment proof"), "{err}");
    }

    #[test]
    fn an_update_file_whose_commitment_proof_fails_is_refused_before_its_training_proof() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("update.msgpack");
        let file = UpdateFile { statement: claim(), commitment_proof: vec![0x90], model: claim().global, samples: 4, proof: vec![] };
        std::fs::write(&path, rmp_serde::to_vec_named(&file).unwrap()).unwrap();
        let err = verify_file(&config(), &path, None).unwrap_err().to_string();
        assert!(err.contains("the data commitment's proof does not verify"), "{err}");
    }
}
