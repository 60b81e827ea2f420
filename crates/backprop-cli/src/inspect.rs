//! `backprop inspect MODEL` (or `--model MODEL`): what a model or checkpoint file holds.
//!
//! The architecture (sizes, activations, cost, task), the parameter count and per-layer
//! weight norms, the preprocessing, the provenance (data source, SHA-256, rows, seed,
//! `created_by`, format version), the hyper-parameters and a compact history table (the first
//! epoch, every k-th, the best and the last). A checkpoint (a file with `optimizer.*` tensors)
//! is named as such, with its optimiser tensors and training state. The report goes to stderr;
//! `--json` prints the metadata, the parameter count, the norms and the optimiser tensors as
//! one JSON object on stdout.

use crate::exit::CliError;
use crate::inspect_history::history_lines;
use crate::model_file::{LoadedModel, ModelLocation};
use crate::output_file::print_stdout_line;
use crate::report::{format_architecture, say};
use backprop::feature_layers::FeatureLayer;
use backprop::model::{ModelMetadata, NamedTensor};
use backprop::train::checkpoint::TRAINING_STATE_KEY;
use backprop::train::TrainingState;
use clap::Args;
use serde_json::{json, Value};

/// Optimiser tensors listed by name before the rest are counted.
const LISTED_TENSORS: usize = 12;

/// Flags of `backprop inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The model file.
    #[command(flatten)]
    pub model: ModelLocation,
    /// Print one JSON object (metadata, parameter count, norms, optimiser tensors) on stdout.
    #[arg(long)]
    pub json: bool,
}

/// One dense layer's figures.
struct LayerFigures {
    name: String,
    /// The weight tensor's shape, `out×in` or `F×C×k×k`.
    shape: String,
    activation: String,
    weight_norm: f64,
    bias_norm: f64,
}

/// Runs `backprop inspect`.
pub fn run(arguments: &InspectArgs) -> Result<(), CliError> {
    let path = arguments.model.path("inspect")?;
    let (loaded, extras) = LoadedModel::load_with_extras(path)?;
    let network = &loaded.model.network;
    let metadata = &loaded.model.metadata;
    let parameters = network.parameters();
    let shapes = network.parameter_shapes();
    // Image layers with weights (convolutions) first, then one activation per dense layer.
    let activations: Vec<String> = network
        .config()
        .features
        .iter()
        .filter_map(|feature| match feature {
            FeatureLayer::Conv { activation, .. } => Some(activation.to_string()),
            _ => None,
        })
        .chain(metadata.architecture.activations.iter().cloned())
        .collect();
    let layers: Vec<LayerFigures> = parameters
        .chunks(2)
        .zip(shapes.chunks(2))
        .enumerate()
        .map(|(index, (pair, shape))| LayerFigures {
            name: pair.first().map_or(String::new(), |(name, _)| {
                name.trim_end_matches(".weight").to_string()
            }),
            shape: shape.first().map_or(String::new(), |(_, dims)| {
                dims.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join("×")
            }),
            activation: activations.get(index).cloned().unwrap_or_default(),
            weight_norm: pair.first().map_or(0.0, |(_, weight)| weight.norm()),
            bias_norm: pair.get(1).map_or(0.0, |(_, bias)| bias.norm()),
        })
        .collect();
    let count = network.parameter_count();
    if arguments.json {
        let norms: Vec<Value> = layers
            .iter()
            .map(|layer| json!({ "layer": layer.name, "weight_norm": layer.weight_norm, "bias_norm": layer.bias_norm }))
            .collect();
        let tensors: Vec<Value> = extras
            .iter()
            .map(|tensor| json!({ "name": tensor.name, "shape": tensor.shape }))
            .collect();
        let object = json!({
            "command": "inspect",
            "file": loaded.name(),
            "checkpoint": is_checkpoint(metadata, &extras),
            "parameter_count": count,
            "layer_norms": norms,
            "optimizer_tensors": tensors,
            "metadata": metadata,
        });
        print_stdout_line(object)?;
    }
    for line in describe(&loaded, &layers, count, &extras) {
        say(line);
    }
    Ok(())
}

/// A checkpoint holds a training state, and optimiser tensors unless its optimiser keeps none
/// (plain SGD): either one makes the file a checkpoint.
fn is_checkpoint(metadata: &ModelMetadata, extras: &[NamedTensor]) -> bool {
    !extras.is_empty() || metadata.extra.contains_key(TRAINING_STATE_KEY)
}

/// The report's lines.
fn describe(
    loaded: &LoadedModel,
    layers: &[LayerFigures],
    count: usize,
    extras: &[NamedTensor],
) -> Vec<String> {
    let metadata = &loaded.model.metadata;
    let architecture = &metadata.architecture;
    let kind = if !is_checkpoint(metadata, extras) {
        "model"
    } else if extras.is_empty() {
        "checkpoint (a model with training state; its optimiser keeps no buffers)"
    } else {
        "checkpoint (a model with optimiser and training state)"
    };
    let mut lines = vec![format!(
        "{}: backprop {kind}, format version {}",
        loaded.name(),
        metadata.format_version
    )];
    let mut task = format!("task {}, cost {}", metadata.task, metadata.cost);
    if !loaded.classes.is_empty() {
        task.push_str(&format!(
            ", {} classes: {}",
            loaded.classes.len(),
            loaded.classes.join(", ")
        ));
    }
    lines.push(task);
    lines.push(format!(
        "architecture {} ({} activations), dropout {}, initialisation {}",
        format_architecture(loaded.model.network.config()),
        architecture.activations.join(", "),
        architecture.dropout,
        architecture.initialization
    ));
    let regularization = &architecture.regularization;
    if regularization.l2_nielsen > 0.0 || regularization.l1 > 0.0 {
        lines.push(format!(
            "regularisation: L2 (Nielsen) λ {} over n = {}, L1 λ {}",
            regularization.l2_nielsen, regularization.training_set_size, regularization.l1
        ));
    }
    lines.push(format!("parameters {count}"));
    lines.push(format!(
        "  {:<10} {:>11}  {:<14} {:>10} {:>10}",
        "layer", "weight", "activation", "‖weight‖", "‖bias‖"
    ));
    for layer in layers {
        lines.push(format!(
            "  {:<10} {:>11}  {:<14} {:>10.4} {:>10.4}",
            layer.name,
            layer.shape.clone(),
            layer.activation,
            layer.weight_norm,
            layer.bias_norm
        ));
    }
    lines.extend(preprocessing_lines(metadata));
    let data = &metadata.data;
    let source = if data.source.is_empty() {
        "unknown"
    } else {
        data.source.as_str()
    };
    let sha = if data.sha256.is_empty() {
        "unknown"
    } else {
        data.sha256.as_str()
    };
    lines.push(format!(
        "provenance: data {source}, {} rows, sha256 {sha}, seed {}, created by {}",
        data.rows, metadata.seed, metadata.created_by
    ));
    if !metadata.hyperparameters.is_empty() {
        let settings: Vec<String> = metadata
            .hyperparameters
            .iter()
            .map(|(key, value)| format!("{key} {}", compact(value)))
            .collect();
        lines.push(format!("hyper-parameters: {}", settings.join(", ")));
    }
    lines.extend(history_lines(&metadata.history));
    if !extras.is_empty() {
        lines.push(format!("optimiser tensors ({}):", extras.len()));
        for tensor in extras.iter().take(LISTED_TENSORS) {
            lines.push(format!("  {} {:?}", tensor.name, tensor.shape));
        }
        if extras.len() > LISTED_TENSORS {
            lines.push(format!("  … and {} more", extras.len() - LISTED_TENSORS));
        }
    }
    if let Some(state) = metadata.extra.get(TRAINING_STATE_KEY) {
        lines.push(
            match serde_json::from_value::<TrainingState>(state.clone()) {
                Ok(state) => format!("training state: {}", state.describe()),
                Err(error) => format!("training state: unreadable ({error})"),
            },
        );
    }
    if !metadata.extra.is_empty() {
        let fields: Vec<String> = metadata
            .extra
            .iter()
            .map(|(key, value)| format!("{key} {}", compact(value)))
            .collect();
        lines.push(format!(
            "training state and other fields: {}",
            fields.join(", ")
        ));
    }
    lines
}

/// A JSON value in one short line (strings without quotes, long values cut).
fn compact(value: &Value) -> String {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(79).collect::<String>())
    } else {
        text
    }
}

/// Input kind, features, categorical columns, scalers.
fn preprocessing_lines(metadata: &ModelMetadata) -> Vec<String> {
    let preprocessing = &metadata.preprocessing;
    let names = &preprocessing.feature_names;
    let mut shown = names.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > 8 {
        shown.push_str(&format!(", … ({} more)", names.len() - 8));
    }
    let mut lines = vec![format!(
        "inputs: {} ({} features: {shown})",
        preprocessing.input_kind,
        names.len()
    )];
    for encoding in &preprocessing.categorical {
        lines.push(format!(
            "  categorical column {:?}: {} categories",
            encoding.column,
            encoding.categories.len()
        ));
    }
    let scaler = |scaler: &Option<backprop::model::AffineScaler>| {
        scaler
            .as_ref()
            .map_or("none".to_string(), |s| s.kind.clone())
    };
    lines.push(format!(
        "scaling: inputs {}, targets {}",
        scaler(&preprocessing.input_scaler),
        scaler(&preprocessing.target_scaler)
    ));
    lines
}
