//! Resumable proving: the folding state, written to the prover's own disk
//! every few folds, so that a participant restarted after a crash continues
//! from its last checkpoint instead of proving the round again from zero.
//!
//! A checkpoint holds Nova's uncompressed `RecursiveSNARK`, which carries
//! the witness (patient data). It is written owner-only (0600), atomically
//! (a temporary file renamed over the last one), never leaves the machine,
//! and is deleted as soon as the round's proof is compressed.
//!
//! It is bound to what it proves: the parameter digest and the IVC start
//! value `z0`, which is the digest of the statement's whole start state
//! (spec, federation, round, participant, data commitment, global model).
//! A checkpoint of anything else is refused and deleted; one that is
//! corrupted, or whose folded instance does not satisfy the circuit, too.
//! Resuming replays the cheap native steps to the checkpoint and checks that
//! the folded state equals them, so the proof it then finishes is one the
//! uninterrupted run could have produced (folding is randomized: the bytes
//! differ, the statement, model and sample count do not).

use candor_circuits::engine::{Scalar, E1, E2};
use candor_circuits::verifier::Digest;
use candor_circuits::verifier::FieldDigest;
use candor_circuits::CircuitError;
use nova_snark::nova::{PublicParams, RecursiveSNARK};
use nova_snark::traits::circuit::StepCircuit;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"candorck";
const VERSION: u32 = 1;
/// Checkpoints are the prover's own files, but a corrupted length must not
/// make decoding reserve more than this.
const MAX_CHECKPOINT_BYTES: usize = 1 << 30;

/// Where and how often to checkpoint.
#[derive(Clone, Debug)]
pub struct Checkpoints {
    path: PathBuf,
    every: usize,
}

/// What the checkpoint file says of itself, checked before its folding
/// state is used.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Header {
    magic: [u8; 8],
    version: u32,
    params: [u8; 32],
    start: [u8; 32],
    round: u64,
    done: u64,
    folds: u64,
}

/// What a checkpoint is of: the proof being made.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Binding {
    pub params: Digest,
    pub start: Scalar,
    pub round: u64,
    pub folds: usize,
}

impl Binding {
    fn header(&self, done: usize) -> Header {
        Header {
            magic: MAGIC,
            version: VERSION,
            params: self.params.0,
            start: Digest::of(&self.start).0,
            round: self.round,
            done: done as u64,
            folds: self.folds as u64,
        }
    }
}

type Config =
    bincode::config::Configuration<bincode::config::LittleEndian, bincode::config::Varint, bincode::config::Limit<MAX_CHECKPOINT_BYTES>>;

fn config() -> Config {
    bincode::config::standard().with_limit::<MAX_CHECKPOINT_BYTES>()
}

impl Checkpoints {
    /// Checkpoints at `path`, written after every `every` folds (at least 1).
    pub fn new(path: impl Into<PathBuf>, every: usize) -> Self {
        Self { path: path.into(), every: every.max(1) }
    }

    /// The checkpoint file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a checkpoint file exists (of any proof).
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Deletes the checkpoint, and any half-written one, if there are.
    pub fn discard(&self) -> std::io::Result<()> {
        for p in [self.tmp(), self.path.clone()] {
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// The round of the checkpoint on disk, if one is there and readable:
    /// a daemon deletes one of a round that is over.
    pub fn round(&self) -> Option<u64> {
        use std::io::Read;
        let mut head = Vec::new();
        std::fs::File::open(&self.path).ok()?.take(256).read_to_end(&mut head).ok()?;
        let (h, _): (Header, usize) = bincode::serde::decode_from_slice(&head, config()).ok()?;
        (h.magic == MAGIC).then_some(h.round)
    }

    /// The file a checkpoint is written to before it replaces the last one
    /// (the path with `.tmp` appended: no other file of the daemon's).
    fn tmp(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".tmp");
        p.into()
    }

    /// Whether to write one after `done` of `folds` folds (not after the
    /// last: compression follows at once).
    pub(crate) fn due(&self, done: usize, folds: usize) -> bool {
        done < folds && done.is_multiple_of(self.every)
    }

    /// Writes the folding state after `done` folds, owner-only and
    /// atomically: a crash mid-write leaves the previous checkpoint.
    pub(crate) fn save<C: StepCircuit<Scalar>>(
        &self,
        binding: &Binding,
        done: usize,
        rs: &RecursiveSNARK<E1, E2, C>,
    ) -> Result<(), CircuitError> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut bytes = bincode::serde::encode_to_vec(binding.header(done), config()).map_err(|e| CircuitError::Proving(e.to_string()))?;
        bytes.extend(bincode::serde::encode_to_vec(rs, config()).map_err(|e| CircuitError::Proving(e.to_string()))?);
        let tmp = self.tmp();
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // a leftover temporary file (a crash mid-write) may have other
        // permissions; start afresh so the mode below applies
        let _ = std::fs::remove_file(&tmp);
        let written = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).and_then(|mut f| {
            f.write_all(&bytes)?;
            f.sync_all()
        });
        match written.and_then(|()| std::fs::rename(&tmp, &self.path)) {
            Ok(()) => Ok(()),
            Err(e) => {
                // a half-written witness must not stay behind (a full disk)
                let _ = std::fs::remove_file(&tmp);
                Err(e.into())
            }
        }
    }

    /// The folding state of the proof `binding` names and how many folds it
    /// holds, if a usable checkpoint of it exists. Anything else found at
    /// the path (another round's, corrupted, unsatisfied) is deleted and the
    /// reason returned, for the caller to log.
    pub(crate) fn load<C: StepCircuit<Scalar>>(&self, binding: &Binding, pp: &PublicParams<E1, E2, C>) -> Result<Loaded<C>, CircuitError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::None),
            Err(e) => return Err(e.into()),
        };
        match check(&bytes, binding, pp) {
            Ok((rs, done)) => Ok(Loaded::Resume(Box::new(rs), done)),
            Err(why) => {
                self.discard()?;
                Ok(Loaded::Refused(format!("{}: {why}", self.path.display())))
            }
        }
    }
}

/// What [`Checkpoints::load`] found.
pub(crate) enum Loaded<C: StepCircuit<Scalar>> {
    /// No checkpoint.
    None,
    /// One of another proof, or unusable (deleted): why.
    Refused(String),
    /// The folding state after this many folds.
    Resume(Box<RecursiveSNARK<E1, E2, C>>, usize),
}

fn check<C: StepCircuit<Scalar>>(
    bytes: &[u8],
    binding: &Binding,
    pp: &PublicParams<E1, E2, C>,
) -> Result<(RecursiveSNARK<E1, E2, C>, usize), String> {
    let (h, read): (Header, usize) = bincode::serde::decode_from_slice(bytes, config()).map_err(|e| format!("unreadable header: {e}"))?;
    if h.magic != MAGIC || h.version != VERSION {
        return Err("not a checkpoint of this version".into());
    }
    let want = binding.header(h.done as usize);
    if h.params != want.params {
        return Err("made under other public parameters".into());
    }
    if h.round != want.round || h.start != want.start || h.folds != want.folds {
        return Err(format!("of another proof (round {}, {} folds), not of round {} ({} folds)", h.round, h.folds, want.round, want.folds));
    }
    let done = h.done as usize;
    if done == 0 || done >= binding.folds {
        return Err(format!("claims {done} of {} folds", binding.folds));
    }
    let (rs, used): (RecursiveSNARK<E1, E2, C>, usize) =
        bincode::serde::decode_from_slice(&bytes[read..], config()).map_err(|e| format!("unreadable folding state: {e}"))?;
    if read + used != bytes.len() {
        return Err("trailing bytes".into());
    }
    // the folded instances satisfy the circuit, after `done` steps from
    // this very start value
    rs.verify(pp, done, &[binding.start]).map_err(|e| format!("folding state does not verify: {e}"))?;
    Ok((rs, done))
}
