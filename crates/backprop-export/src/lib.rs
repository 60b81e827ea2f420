//! # backprop-export
//!
//! Backpropagation happens before a network is deployed; afterwards it only runs forward:
//! zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ), layer after layer. This crate writes that forward pass out of a
//! model file for places where backprop itself does not run.
//!
//! - [`c::export_c`]: one dependency-free C99 header (weights as `static const float`, the
//!   stored scaling applied, no allocation, no mutable state), for microcontrollers and any
//!   program with a C compiler.
//!
//! ```
//! use backprop::model::{Model, ModelMetadata};
//! use backprop::{Cost, NetworkConfig, Task};
//! let network = NetworkConfig::new(&[2, 3, 1], Cost::BinaryCrossEntropy).with_seed(1).init().unwrap();
//! let metadata = ModelMetadata::describe(network.config(), Task::Classification);
//! let model = Model::new(network, metadata).unwrap();
//! let header = backprop_export::c::export_c(&model, &backprop_export::c::COptions::default()).unwrap();
//! assert!(header.contains("void backprop_predict(const float *features, float *outputs)"));
//! assert!(header.contains("#define BACKPROP_INPUTS 2"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod c;

/// Why a model cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The model holds something the target format cannot express.
    #[error("{0}")]
    Unsupported(String),
    /// An option is invalid.
    #[error("{0}")]
    Option(String),
}
