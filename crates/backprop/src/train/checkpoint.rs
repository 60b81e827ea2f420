//! Checkpoint files: a model file that can also go on training.
//!
//! A checkpoint is a model file ([`crate::model`]) whose weights are the ones training goes on
//! from, plus:
//! - tensors `optimizer.{parameter}.{buffer}` with the optimiser's state
//!   ([`Optimizer::state_tensors`]);
//! - under early stopping, tensors `training.best.{parameter}` with the best weights so far;
//! - in the metadata JSON, the key `training_state`: a [`TrainingState`] (epoch, step, shuffle
//!   and dropout generators, the epoch in progress, early-stopping counter and best loss,
//!   learning rate, history, the optimiser's step counts).
//!
//! The metadata's own `data` field says where the data came from and its SHA-256. Any model
//! reader (`inspect`, `predict`, Python's `safetensors`) reads a checkpoint as a model.
//! Files are written atomically ([`Model::save_with`]): a crash, even in the middle of a
//! write, leaves the previous checkpoint whole.

use super::state::TrainingState;
use super::{Trainer, TrainingConfig};
use crate::model::{Model, ModelMetadata, NamedTensor, TRAINING_PREFIX};
use crate::network::Network;
use crate::optim::Optimizer;
use crate::{Error, Result};
use std::path::Path;

/// The metadata key of the training state.
pub const TRAINING_STATE_KEY: &str = "training_state";

/// The prefix of the best weights' tensors: `training.best.layers.0.weight`, ….
pub const BEST_PREFIX: &str = "training.best.";

/// A checkpoint read back: the model, the training state and the extra tensors.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// The weights to go on from, with the model metadata (the training state included in
    /// its `extra` map).
    pub model: Model,
    /// Where training stood.
    pub state: TrainingState,
    /// The optimiser's state tensors, `optimizer.*`.
    pub optimizer_tensors: Vec<(String, Vec<f32>)>,
    /// The best weights under early stopping, by parameter name (`layers.0.weight`, …).
    pub best_weights: Vec<(String, Vec<f32>)>,
}

/// Writes a checkpoint of `trainer` training `network` to `path` (atomically). `metadata`
/// describes the model (preprocessing, data provenance, hyper-parameters); the training state
/// is added to it here, and its history is set to the trainer's.
pub fn save_checkpoint(
    path: &Path,
    metadata: ModelMetadata,
    network: &Network<f32>,
    trainer: &Trainer<f32>,
) -> Result<()> {
    let (model, tensors) = checkpoint_parts(metadata, network, trainer)?;
    model.save_with(path, &tensors)
}

/// The model and extra tensors of a checkpoint, as [`save_checkpoint`] writes them.
pub fn checkpoint_parts(
    mut metadata: ModelMetadata,
    network: &Network<f32>,
    trainer: &Trainer<f32>,
) -> Result<(Model, Vec<NamedTensor>)> {
    let state = trainer.state(network);
    metadata.history = crate::model::EpochSummary::from_history(&state.history);
    let value = serde_json::to_value(&state)
        .map_err(|error| Error::Checkpoint(format!("the training state to JSON: {error}")))?;
    metadata.extra.insert(TRAINING_STATE_KEY.to_string(), value);
    // Each buffer takes its parameter's shape, as `optimizer.state` holds them in PyTorch: a
    // weight's (out, in), a bias's (out).
    let shapes: Vec<(String, Vec<usize>)> = network
        .parameters()
        .into_iter()
        .map(|(name, matrix)| {
            let shape = tensor_shape(&name, matrix.rows(), matrix.cols());
            (name, shape)
        })
        .collect();
    let shape_of = |tensor: &str, len: usize| {
        shapes
            .iter()
            .find(|(parameter, _)| {
                tensor
                    .strip_prefix(parameter.as_str())
                    .is_some_and(|rest| rest.starts_with('.') && !rest[1..].contains('.'))
            })
            .map(|(_, shape)| shape.clone())
            .filter(|shape| shape.iter().product::<usize>() == len)
            .unwrap_or_else(|| vec![len])
    };
    let mut tensors: Vec<NamedTensor> = trainer
        .optimizer()
        .state_tensors()
        .into_iter()
        .map(|(name, values)| NamedTensor {
            shape: shape_of(
                name.strip_prefix("optimizer.").unwrap_or(&name),
                values.len(),
            ),
            name,
            values,
        })
        .collect();
    if let Some(best) = trainer.best_weights() {
        for (name, matrix) in best.parameters() {
            tensors.push(NamedTensor {
                shape: tensor_shape(&name, matrix.rows(), matrix.cols()),
                name: format!("{BEST_PREFIX}{name}"),
                values: matrix.as_slice().to_vec(),
            });
        }
    }
    let model = Model::new(trainer.weights_to_continue(network).clone(), metadata)?;
    Ok((model, tensors))
}

/// A parameter's tensor shape in model files: (out, in) for a weight, (out) for a bias.
fn tensor_shape(name: &str, rows: usize, cols: usize) -> Vec<usize> {
    if name.ends_with(".bias") {
        vec![cols]
    } else {
        vec![rows, cols]
    }
}

/// Reads a checkpoint; a model file without a training state is refused as "not a checkpoint".
pub fn load_checkpoint(path: &Path) -> Result<Checkpoint> {
    let (model, extras) = Model::load_with_extras(path)?;
    checkpoint_from(model, extras, &path.display().to_string())
}

/// A checkpoint from a model and its extra tensors; `source` names them in messages.
pub fn checkpoint_from(model: Model, extras: Vec<NamedTensor>, source: &str) -> Result<Checkpoint> {
    let Some(value) = model.metadata.extra.get(TRAINING_STATE_KEY) else {
        return Err(Error::Checkpoint(format!(
            "{source} is a model file, not a checkpoint: it has no training state \
             (write checkpoints with --checkpoint-every or --checkpoint)"
        )));
    };
    let state: TrainingState = serde_json::from_value(value.clone())
        .map_err(|error| Error::Checkpoint(format!("{source}: the training state: {error}")))?;
    let mut optimizer_tensors = Vec::new();
    let mut best_weights = Vec::new();
    for tensor in extras {
        if let Some(parameter) = tensor.name.strip_prefix(BEST_PREFIX) {
            best_weights.push((parameter.to_string(), tensor.values));
        } else if tensor.name.starts_with(TRAINING_PREFIX) {
            return Err(Error::Checkpoint(format!(
                "{source}: unknown training tensor '{}'",
                tensor.name
            )));
        } else {
            optimizer_tensors.push((tensor.name, tensor.values));
        }
    }
    Ok(Checkpoint {
        model,
        state,
        optimizer_tensors,
        best_weights,
    })
}

impl Checkpoint {
    /// The network (holding the checkpoint's weights) and a trainer that goes on bit for bit,
    /// for `config` (which must be the configuration the checkpoint was trained with, with any
    /// number of epochs).
    pub fn into_trainer(self, config: TrainingConfig) -> Result<(Network<f32>, Trainer<f32>)> {
        let mut network = self.model.network;
        let optimizer = Optimizer::restore(
            config.optimizer.clone(),
            self.optimizer_tensors,
            self.state.optimizer_steps.clone(),
        )?;
        let lengths: Vec<(String, usize)> = network
            .parameters()
            .into_iter()
            .map(|(name, matrix)| (name, matrix.len()))
            .collect();
        optimizer.check_state_lengths(lengths.iter().map(|(n, l)| (n.as_str(), *l)))?;
        let best = if self.best_weights.is_empty() {
            None
        } else {
            Some(best_network(&network, self.best_weights)?)
        };
        let trainer = Trainer::resume(config, self.state, optimizer, &mut network, best)?;
        Ok((network, trainer))
    }
}

/// A copy of `network` holding the saved best weights; every parameter must be there, with its
/// length, and finite.
fn best_network(network: &Network<f32>, saved: Vec<(String, Vec<f32>)>) -> Result<Network<f32>> {
    let mut best = network.clone();
    let mut saved: std::collections::BTreeMap<String, Vec<f32>> = saved.into_iter().collect();
    for (name, slot) in best.parameter_slots() {
        let values = saved.remove(&name).ok_or_else(|| {
            Error::Checkpoint(format!("the best weights lack {BEST_PREFIX}{name}"))
        })?;
        let target = slot.value.as_mut_slice();
        if values.len() != target.len() || values.iter().any(|v| !v.is_finite()) {
            return Err(Error::Checkpoint(format!(
                "{BEST_PREFIX}{name} has {} values (finite?) where the network has {}",
                values.len(),
                target.len()
            )));
        }
        target.copy_from_slice(&values);
    }
    if let Some(name) = saved.into_keys().next() {
        return Err(Error::Checkpoint(format!(
            "{BEST_PREFIX}{name} is not a parameter of the network"
        )));
    }
    Ok(best)
}
