//! The training step circuit: the fold driver and one file per model
//! architecture's SGD step.

mod fold;
#[cfg(feature = "forgery")]
mod forgery;
mod linear;
mod meta;
mod mlp;
mod packed;
mod softmax;

pub use fold::{advance, SgdFoldCircuit};
#[cfg(feature = "forgery")]
pub use forgery::{Forgery, MlpForgery};
