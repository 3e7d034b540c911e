//! The only place curves are named: Pallas/Vesta with IPA commitments (no
//! trusted setup) and non-preprocessing Spartan for compression.

use crate::commit_circuit::CommitCircuit;
use crate::hash::Hasher;
use crate::step::SgdFoldCircuit;
use crate::verifier::Digest;
use crate::verifier::FieldDigest;
use crate::{field, CircuitError};
use candor_core::{Layout, ParamsPin};
use nova_snark::nova::{CompressedSNARK, ProverKey, PublicParams, VerifierKey};
use nova_snark::provider::{ipa_pc, PallasEngine, VestaEngine};
use nova_snark::spartan::snark::RelaxedR1CSSNARK;
use nova_snark::traits::{circuit::StepCircuit, snark::RelaxedR1CSSNARKTrait, Engine};
use std::path::Path;
use std::sync::Arc;

/// Primary engine (the step circuits run over its scalar field).
pub type E1 = PallasEngine;
/// Secondary engine of the cycle.
pub type E2 = VestaEngine;
/// The circuits' field.
pub type Scalar = <E1 as Engine>::Scalar;
type S1 = RelaxedR1CSSNARK<E1, ipa_pc::EvaluationEngine<E1>>;
type S2 = RelaxedR1CSSNARK<E2, ipa_pc::EvaluationEngine<E2>>;

/// The training step circuit over the concrete field.
pub type TrainCircuit = SgdFoldCircuit<Scalar>;
/// The commitment step circuit over the concrete field.
pub type DataCircuit = CommitCircuit<Scalar>;
/// A compressed (zero-knowledge) proof of a circuit's IVC run.
pub type Compressed<C> = CompressedSNARK<E1, E2, C, S1, S2>;
/// The random instances one compression folds in for zero knowledge.
pub type Blinding = nova_snark::nova::Blinding<E1, E2>;

/// Public parameters plus compression keys for one circuit shape.
pub struct Keys<C: StepCircuit<Scalar>> {
    /// Nova public parameters (commitment keys and R1CS shapes).
    pub pp: PublicParams<E1, E2, C>,
    /// Spartan prover key.
    pub pk: ProverKey<E1, E2, C, S1, S2>,
    /// Spartan verifier key; it embeds the parameter digest.
    pub vk: VerifierKey<E1, E2, C, S1, S2>,
    /// Layout the circuit was built for.
    pub layout: Arc<Layout>,
    /// Poseidon constants.
    pub hasher: Hasher<Scalar>,
}

/// Keys of the training circuit.
pub type TrainKeys = Keys<TrainCircuit>;
/// Keys of the data-commitment circuit.
pub type DataKeys = Keys<DataCircuit>;

/// Where keys come from. Public parameters are deterministic from the
/// circuit, so whoever can write a cache could otherwise swap in parameters
/// of another circuit (one that accepts anything): a cache file is read only
/// when a digest is pinned, and is used only if its parameters hash to the
/// pin. Freshly derived parameters must match the pin too.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeySource<'a> {
    /// Cache directory (read only under a pin; written after deriving).
    pub cache: Option<&'a Path>,
    /// Expected digest of the public parameters.
    pub pin: Option<Digest>,
}

impl<'a> KeySource<'a> {
    /// Derive every time, no cache (tests, benches).
    pub fn derive() -> Self {
        Self::default()
    }

    /// A cache directory and an optional pin.
    pub fn new(cache: Option<&'a Path>, pin: Option<Digest>) -> Self {
        Self { cache, pin }
    }

    /// The training circuit's source under a config's `[params]`.
    pub fn train(cache: Option<&'a Path>, pins: &ParamsPin) -> Result<Self, CircuitError> {
        Self::pinned(cache, pins.train.as_deref(), "train")
    }

    /// The commitment circuit's source under a config's `[params]`.
    pub fn data(cache: Option<&'a Path>, pins: &ParamsPin) -> Result<Self, CircuitError> {
        Self::pinned(cache, pins.data.as_deref(), "data")
    }

    /// A cache directory and a pin as written in `[params]` (hex); a
    /// malformed pin is an error naming the field.
    fn pinned(cache: Option<&'a Path>, pin: Option<&str>, field: &str) -> Result<Self, CircuitError> {
        let pin = pin
            .map(|hex| {
                Digest::from_hex(hex).ok_or_else(|| {
                    CircuitError::Params(format!(
                        "params.{field} must be 64 hex digits (as `candor-coordinator params` prints), not {hex:?}"
                    ))
                })
            })
            .transpose()?;
        Ok(Self { cache, pin })
    }
}

impl<C: StepCircuit<Scalar>> Keys<C> {
    /// Hex digest of the public parameters: it changes with any change of the
    /// circuit, including its constants (learning rate, batch size, format).
    pub fn digest_hex(&self) -> String {
        self.digest().to_string()
    }

    /// Digest of the public parameters.
    pub fn digest(&self) -> Digest {
        Digest::of(&self.pp.digest())
    }

    fn build(layout: Arc<Layout>, hasher: Hasher<Scalar>, placeholder: &C, name: &str, src: KeySource<'_>) -> Result<Self, CircuitError> {
        let nova = |e: nova_snark::errors::NovaError| CircuitError::Proving(e.to_string());
        // A cache file is named by its parameters' digest: a pin reads only
        // the file of that digest, so parameters of another circuit or
        // Candor version (after the step rules change, say) are never read
        // in its place; they stay beside it under their own name.
        let file = |digest: &Digest| src.cache.map(|dir| dir.join(format!("{name}-{}.pp", &digest.to_string()[..16])));
        let cached = match (src.pin.as_ref().and_then(file), src.pin) {
            (Some(path), Some(pin)) => load_cached::<C>(&path, pin)?,
            _ => None,
        };
        let pp = match cached {
            Some(pp) => pp,
            None => {
                let pp = PublicParams::setup(placeholder, &*S1::ck_floor(), &*S2::ck_floor()).map_err(nova)?;
                let derived = Digest::of(&pp.digest());
                match src.pin {
                    Some(pin) if pin != derived => {
                        return Err(CircuitError::Params(format!(
                            "{name}: this build derives parameters with digest {derived}, the study pins {pin}: \
                             the study was pinned for another circuit, spec or Candor version"
                        )))
                    }
                    Some(_) => {}
                    None => tracing::info!(
                        circuit = name,
                        digest = %derived,
                        "public parameters derived; pin this digest in the study's [params] to load them from a cache"
                    ),
                }
                if let Some(path) = file(&derived) {
                    store_cached(&path, &pp)?;
                }
                pp
            }
        };
        let (pk, vk) = CompressedSNARK::<_, _, _, S1, S2>::setup(&pp).map_err(nova)?;
        Ok(Self { pp, pk, vk, layout, hasher })
    }
}

impl TrainKeys {
    /// Sets up (or loads from a pinned cache) the training circuit's keys.
    pub fn for_training(layout: &Layout, src: KeySource<'_>) -> Result<Self, CircuitError> {
        let layout = Arc::new(layout.clone());
        let hasher = Hasher::default();
        let c = TrainCircuit::placeholder(layout.clone(), hasher.clone());
        Self::build(layout, hasher, &c, "train", src)
    }
}

impl DataKeys {
    /// Sets up (or loads from a pinned cache) the commitment circuit's keys.
    pub fn for_commitment(layout: &Layout, src: KeySource<'_>) -> Result<Self, CircuitError> {
        let layout = Arc::new(layout.clone());
        let hasher = Hasher::default();
        let c = DataCircuit::placeholder(layout.clone(), hasher.clone());
        Self::build(layout, hasher, &c, "data", src)
    }
}

/// Hex of a field element's canonical bytes.
pub fn hex_digest(x: &Scalar) -> String {
    hex::encode(field::to_bytes(x))
}

/// Cache file: the parameter digest (32 bytes) then the MessagePack of the
/// parameters. The digest is recomputed from the parameters (nova-snark
/// hashes their whole serialization: commitment keys, R1CS shapes, hash
/// constants) and must equal the pin; the header only catches truncation.
fn load_cached<C: StepCircuit<Scalar>>(path: &Path, pin: Digest) -> Result<Option<PublicParams<E1, E2, C>>, CircuitError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let bad = |reason: String| CircuitError::Malformed { what: "parameter cache", reason };
    if bytes.len() < 32 {
        return Err(bad(format!("{} is truncated", path.display())));
    }
    let pp: PublicParams<E1, E2, C> =
        rmp_serde::from_slice(&bytes[32..]).map_err(|e| bad(format!("{}: {e}; delete it to regenerate", path.display())))?;
    let found = Digest::of(&pp.digest());
    if found != pin {
        return Err(CircuitError::Params(format!(
            "{} holds parameters with digest {found}, the study pins {pin}: refusing them (delete the file to re-derive)",
            path.display()
        )));
    }
    if bytes[..32] != found.0 {
        return Err(bad(format!("{} does not match its recorded digest; delete it to regenerate", path.display())));
    }
    Ok(Some(pp))
}

/// Writes a uniquely named temporary file beside `path`, then renames it:
/// a crash never leaves a half-written file, and processes or threads
/// filling one cache at once never touch each other's temporary file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn store_cached<C: StepCircuit<Scalar>>(path: &Path, pp: &PublicParams<E1, E2, C>) -> Result<(), CircuitError> {
    let mut bytes = field::to_bytes(&pp.digest());
    bytes.extend(rmp_serde::to_vec(pp).map_err(|e| CircuitError::Proving(e.to_string()))?);
    write_atomically(path, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::write_atomically;

    #[test]
    fn concurrent_writers_of_one_cache_file_never_collide() {
        // the simulation's tests fill one parameter cache from parallel
        // threads; a temporary name shared by a process made renames fail
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.bin");
        std::thread::scope(|s| {
            for t in 0..8u8 {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..50 {
                        write_atomically(path, &[t; 4096]).unwrap();
                    }
                });
            }
        });
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() == 4096 && bytes.iter().all(|&b| b == bytes[0]), "a torn file");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "temporary files left behind");
    }
}
