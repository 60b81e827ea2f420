//! # backprop
//!
//! Neural networks trained by explicit, layer-by-layer backpropagation.
//!
//! A network is a stack of dense layers, zˡ = wˡ aˡ⁻¹ + bˡ and aˡ = σ(zˡ), ending in a cost C.
//! Training runs the batch forward, then backprop computes every gradient with the four
//! equations (see [`guide`]), then an optimiser steps the weights downhill.
//!
//! ```
//! use backprop::{Activation, Cost, NetworkConfig};
//! use backprop_tensor::Matrix;
//! let net = NetworkConfig::new(&[2, 3, 1], Cost::Quadratic)
//!     .with_hidden_activation(Activation::Sigmoid)
//!     .with_seed(42)
//!     .init::<f32>()
//!     .unwrap();
//! let out = net.forward(&Matrix::from_rows(&[[0.0, 1.0]]).unwrap());
//! assert_eq!(out.shape(), (1, 1));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod activation;
pub mod conv;
pub mod cost;
pub mod dense;
pub mod dropout;
mod error;
pub mod estimator;
pub mod evaluation;
pub mod feature_layers;
pub mod gradient_check;
pub mod guide;
pub mod init;
pub mod layer;
#[cfg(feature = "linfa")]
pub mod linfa;
pub mod model;
pub mod network;
pub mod optim;
pub mod pool;
mod propagation;
pub mod regularization;
pub mod shard;
pub mod sklearn;
pub mod sparse_input;
pub mod trace;
pub mod train;

pub use activation::Activation;
pub use backprop_tensor::{Float, Matrix, SeededRng};
pub use cost::Cost;
pub use dense::Dense;
pub use dropout::Dropout;
pub use error::{Error, Result};
pub use gradient_check::{gradient_check, GradientCheckReport};
pub use init::Initialization;
pub use layer::{Layer, LayerOps, Mode};
pub use model::{Model, ModelError, ModelMetadata};
pub use network::{Gradients, Network, NetworkConfig};
pub use propagation::{RowsOutput, ROW_BLOCK};
pub use regularization::Regularization;
pub use trace::{LayerTrace, Trace};
pub use train::{evaluate, History, Task, Trainer, TrainingConfig, Validation};

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
