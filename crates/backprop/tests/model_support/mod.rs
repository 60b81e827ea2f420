//! Shared helpers for the model-file tests: small trained models with scalers, and a way to
//! write safetensors files by hand (to build damaged or foreign files).

#![allow(dead_code)]

use backprop::model::{AffineScaler, DataProvenance, EpochSummary, Model, ModelMetadata};
use backprop::optim::{AdamConfig, OptimizerConfig};
use backprop::train::Silent;
use backprop::{Activation, Cost, Matrix, NetworkConfig, SeededRng, Task, Trainer, TrainingConfig};
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use std::collections::HashMap;

/// Per-column mean and population σ.
fn mean_std(x: &Matrix<f32>) -> (Vec<f64>, Vec<f64>) {
    let (rows, cols) = x.shape();
    let mut mean = vec![0.0; cols];
    let mut std = vec![0.0; cols];
    for i in 0..rows {
        for j in 0..cols {
            mean[j] += f64::from(x[(i, j)]) / rows as f64;
        }
    }
    for i in 0..rows {
        for j in 0..cols {
            std[j] += (f64::from(x[(i, j)]) - mean[j]).powi(2) / rows as f64;
        }
    }
    (mean, std.into_iter().map(f64::sqrt).collect())
}

fn adam_config(epochs: usize) -> TrainingConfig {
    TrainingConfig {
        epochs,
        batch_size: 16,
        optimizer: OptimizerConfig::Adam(AdamConfig::new().with_learning_rate(0.01)),
        seed: 3,
        ..TrainingConfig::default()
    }
}

/// Raw inputs around (5, −3, 100) with spreads (2, 0.5, 30): a scaler matters.
pub fn raw_inputs(rows: usize, seed: u64) -> Matrix<f32> {
    let mut rng = SeededRng::new(seed);
    let centers = [5.0, -3.0, 100.0];
    let spreads = [2.0, 0.5, 30.0];
    Matrix::from_fn(rows, 3, |_, j| {
        (centers[j] + spreads[j] * rng.normal()) as f32
    })
}

/// A 3-8-6-5-3 tanh/relu/gelu/softmax classifier trained a few epochs on standardised inputs,
/// with class names, history, hyper-parameters and data provenance.
pub fn classifier() -> Model {
    let raw = raw_inputs(120, 1);
    let (mean, std) = mean_std(&raw);
    let scaler = AffineScaler::standard(mean, std);
    let x = scaler.transform(&raw);
    let y = Matrix::from_fn(120, 3, |i, j| {
        let score = x[(i, 0)] + 0.5 * x[(i, 1)] - x[(i, 2)];
        let class = if score < -0.5 {
            0
        } else if score < 0.5 {
            1
        } else {
            2
        };
        if class == j {
            1.0
        } else {
            0.0
        }
    });
    let config = NetworkConfig::new(&[3, 8, 6, 5, 3], Cost::SoftmaxCrossEntropy)
        .with_activations(vec![
            Activation::Tanh,
            Activation::Relu,
            Activation::Gelu,
            Activation::Softmax,
        ])
        .with_seed(11);
    let mut network = config.init::<f32>().unwrap();
    let history = Trainer::new(adam_config(4))
        .unwrap()
        .fit(&mut network, &x, &y, None, &mut Silent)
        .unwrap();
    let mut metadata = ModelMetadata::describe(&config, Task::Classification);
    metadata.preprocessing.feature_names = vec!["length".into(), "depth".into(), "mass".into()];
    metadata.preprocessing.class_names =
        Some(vec!["small".into(), "medium".into(), "large".into()]);
    metadata.preprocessing.input_scaler = Some(scaler);
    metadata.history = EpochSummary::from_history(&history);
    metadata.hyperparameters = serde_json::json!({
        "optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 4,
        "schedule": "constant"
    })
    .as_object()
    .unwrap()
    .clone();
    metadata.data = DataProvenance::from_bytes("generated", b"three blobs", 120);
    Model::new(network, metadata).unwrap()
}

/// A 3-7-2 leaky-relu:0.2 regressor with input and target scalers (targets around 50 and −20).
pub fn regressor() -> Model {
    let raw = raw_inputs(100, 2);
    let (mean, std) = mean_std(&raw);
    let input_scaler = AffineScaler::min_max(
        mean.iter().zip(&std).map(|(m, s)| m - 3.0 * s).collect(),
        std.iter().map(|s| 6.0 * s).collect(),
    );
    let x = input_scaler.transform(&raw);
    let target_scaler = AffineScaler::standard(vec![50.0, -20.0], vec![8.0, 3.0]);
    let y = Matrix::from_fn(100, 2, |i, j| {
        if j == 0 {
            x[(i, 0)] - x[(i, 1)]
        } else {
            x[(i, 2)] * x[(i, 0)]
        }
    });
    let config = NetworkConfig::new(&[3, 7, 2], Cost::MeanSquaredError)
        .with_hidden_activation(Activation::LeakyRelu {
            negative_slope: 0.2,
        })
        .with_seed(5);
    let mut network = config.init::<f32>().unwrap();
    let history = Trainer::new(adam_config(3))
        .unwrap()
        .fit(&mut network, &x, &y, None, &mut Silent)
        .unwrap();
    let mut metadata = ModelMetadata::describe(&config, Task::Regression);
    metadata.preprocessing.input_scaler = Some(input_scaler);
    metadata.preprocessing.target_scaler = Some(target_scaler);
    metadata.history = EpochSummary::from_history(&history);
    Model::new(network, metadata).unwrap()
}

/// A tensor to write by hand: name, dtype, shape and raw little-endian bytes.
#[derive(Clone, Debug)]
pub struct RawTensor {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

impl RawTensor {
    pub fn f32(name: &str, shape: &[usize], values: &[f32]) -> Self {
        Self {
            name: name.into(),
            dtype: Dtype::F32,
            shape: shape.to_vec(),
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    pub fn f64(name: &str, shape: &[usize], values: &[f64]) -> Self {
        Self {
            name: name.into(),
            dtype: Dtype::F64,
            shape: shape.to_vec(),
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

/// A model's parameters as raw tensors, in PyTorch's layout.
pub fn tensors_of(model: &Model) -> Vec<RawTensor> {
    model
        .network
        .parameters()
        .into_iter()
        .map(|(name, m)| {
            let shape = if name.ends_with("bias") {
                vec![m.cols()]
            } else {
                vec![m.rows(), m.cols()]
            };
            RawTensor::f32(&name, &shape, m.as_slice())
        })
        .collect()
}

/// The model's metadata as a JSON value.
pub fn metadata_json(model: &Model) -> serde_json::Value {
    serde_json::to_value(&model.metadata).unwrap()
}

/// A safetensors file from raw tensors and an optional `__metadata__` map.
pub fn assemble(tensors: &[RawTensor], metadata: Option<HashMap<String, String>>) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                TensorView::new(t.dtype, t.shape.clone(), &t.bytes).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, metadata).unwrap()
}

/// A safetensors file with the given tensors and `backprop` metadata.
pub fn assemble_model(tensors: &[RawTensor], metadata: &serde_json::Value) -> Vec<u8> {
    let map = HashMap::from([("backprop".to_string(), metadata.to_string())]);
    assemble(tensors, Some(map))
}
