//! Candor's shared core: the one fixed-point format, the training spec every
//! participant agrees on, the layout that spec induces on data and circuits,
//! and the integer reference SGD that both the candle trainer and the step
//! circuit must reproduce bit for bit.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod activation;
pub mod check;
pub mod data;
pub mod dataset;
mod error;
pub mod eval;
pub mod file;
pub mod fixed;
pub mod layout;
pub mod model;
pub mod parquet_table;
pub mod spec;
pub mod statement;
pub mod summary;
pub mod table;

pub use error::CoreError;
pub use fixed::FixedFormat;
pub use layout::Layout;
pub use model::Model;
pub use spec::{MlpShape, ModelSpec, ParamsPin, Task, TrainSpec};
