//! The global model after each round, as safetensors (the exact fixed-point
//! integers and their float values) plus a JSON metadata file.

use crate::CoordinatorError;
use candor_core::FixedFormat;
use candor_core::Model;
use safetensors::tensor::{serialize, Dtype, TensorView};
use std::collections::BTreeMap;
use std::path::Path;

/// Writes `round-N.safetensors` and `round-N.json` into `dir`.
pub fn export(
    dir: &Path,
    round: u64,
    model: &Model,
    format: FixedFormat,
    digest_hex: &str,
    metrics: &serde_json::Value,
) -> Result<(), CoordinatorError> {
    let io = |e: std::io::Error| CoordinatorError::Config(format!("export to {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let bytes = safetensors_bytes(round, model, format)?;
    std::fs::write(dir.join(format!("round-{round}.safetensors")), bytes).map_err(io)?;
    let mut info = BTreeMap::new();
    info.insert("round", serde_json::json!(round));
    info.insert("digest", serde_json::json!(digest_hex));
    info.insert("format", serde_json::json!(format.to_string()));
    info.insert("metrics", metrics.clone());
    std::fs::write(dir.join(format!("round-{round}.json")), serde_json::to_string_pretty(&info).expect("json")).map_err(io)?;
    Ok(())
}

/// `model` as safetensors: every tensor twice, `NAME_fixed` (the exact
/// integers, i64) and `NAME` (f32), with the round and format as metadata.
pub fn safetensors_bytes(round: u64, model: &Model, format: FixedFormat) -> Result<Vec<u8>, CoordinatorError> {
    let mut bytes = vec![];
    for (name, shape, values) in model.tensors() {
        let q: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let f: Vec<u8> = values.iter().flat_map(|&v| (format.to_f64(v) as f32).to_le_bytes()).collect();
        bytes.push((format!("{name}_fixed"), Dtype::I64, shape.clone(), q));
        bytes.push((name.to_string(), Dtype::F32, shape, f));
    }
    let bad = |e: safetensors::SafeTensorError| CoordinatorError::Config(format!("safetensors: {e}"));
    let tensors = bytes
        .iter()
        .map(|(name, dtype, shape, data)| Ok((name.clone(), TensorView::new(*dtype, shape.clone(), data).map_err(bad)?)))
        .collect::<Result<Vec<_>, CoordinatorError>>()?;
    let mut meta = std::collections::HashMap::new();
    meta.insert("round".to_string(), round.to_string());
    meta.insert("format".to_string(), format.to_string());
    serialize(tensors, Some(meta)).map_err(bad)
}
