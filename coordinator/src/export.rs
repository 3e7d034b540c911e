//! The global model after each round, as safetensors (the exact fixed-point
//! integers and their float values) plus a JSON metadata file.

use crate::CoordinatorError;
use candor_core::sgd::LinearModel;
use candor_core::FixedFormat;
use safetensors::tensor::{serialize, Dtype, TensorView};
use std::collections::BTreeMap;
use std::path::Path;

/// Writes `round-N.safetensors` and `round-N.json` into `dir`.
pub fn export(
    dir: &Path,
    round: u64,
    model: &LinearModel,
    format: FixedFormat,
    digest_hex: &str,
    metrics: &serde_json::Value,
) -> Result<(), CoordinatorError> {
    let io = |e: std::io::Error| CoordinatorError::Config(format!("export to {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let wq: Vec<u8> = model.weights.iter().flat_map(|v| v.to_le_bytes()).collect();
    let bq: Vec<u8> = model.bias.to_le_bytes().to_vec();
    let wf: Vec<u8> = model.weights.iter().flat_map(|&v| (format.to_f64(v) as f32).to_le_bytes()).collect();
    let bf: Vec<u8> = (format.to_f64(model.bias) as f32).to_le_bytes().to_vec();
    let d = model.weights.len();
    let bad = |e: safetensors::SafeTensorError| CoordinatorError::Config(format!("safetensors: {e}"));
    let tensors = [
        ("weight_fixed", TensorView::new(Dtype::I64, vec![d], &wq).map_err(bad)?),
        ("bias_fixed", TensorView::new(Dtype::I64, vec![1], &bq).map_err(bad)?),
        ("weight", TensorView::new(Dtype::F32, vec![d], &wf).map_err(bad)?),
        ("bias", TensorView::new(Dtype::F32, vec![1], &bf).map_err(bad)?),
    ];
    let mut meta = std::collections::HashMap::new();
    meta.insert("round".to_string(), round.to_string());
    meta.insert("format".to_string(), format.to_string());
    let bytes = serialize(tensors, Some(meta)).map_err(bad)?;
    std::fs::write(dir.join(format!("round-{round}.safetensors")), bytes).map_err(io)?;
    let mut info = BTreeMap::new();
    info.insert("round", serde_json::json!(round));
    info.insert("digest", serde_json::json!(digest_hex));
    info.insert("format", serde_json::json!(format.to_string()));
    info.insert("metrics", metrics.clone());
    std::fs::write(dir.join(format!("round-{round}.json")), serde_json::to_string_pretty(&info).expect("json")).map_err(io)?;
    Ok(())
}
