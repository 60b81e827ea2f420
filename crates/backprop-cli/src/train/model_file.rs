//! Writing the trained model (`--out`, default `model.safetensors`) and reading the one
//! `--init-from` names.
//!
//! The metadata records the architecture, cost and task; the preprocessing (feature and class
//! names, categorical encodings, the input scaler, the target scaler for regression, the input
//! kind); the seed; the hyper-parameters; the per-epoch history; and where the data came from
//! with the SHA-256 of the training part ([`backprop_data::Dataset::sha256`], before scaling).
//! The library writes the file atomically, so a failed run leaves no model behind.

use crate::config::TrainPlan;
use crate::data::PreparedData;
use crate::exit::CliError;
use backprop::model::{DataProvenance, EpochSummary, Model, ModelMetadata};
use backprop::optim::OptimizerConfig;
use backprop::train::History;
use backprop::Network;
use serde_json::{json, Map, Value};
use std::path::Path;

/// Checks before training that the model can be written where `--out` says: a file name in a
/// folder that exists.
pub fn check_output_path(path: &Path) -> Result<(), CliError> {
    if path.as_os_str().is_empty() {
        return Err(CliError::usage("--out needs a file name"));
    }
    if path.is_dir() {
        return Err(CliError::usage(format!(
            "--out {} is a folder; give a file name, such as {}",
            path.display(),
            path.join("model.safetensors").display()
        )));
    }
    let folder = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.is_dir() {
        let what = if folder.exists() {
            "is not a folder"
        } else {
            "does not exist"
        };
        return Err(CliError::usage(format!(
            "cannot save the model as {}: {} {what}",
            path.display(),
            folder.display()
        )));
    }
    // Find an unwritable folder (permissions, a read-only or special file system) now, not
    // after hours of training. The probe is a temporary file, removed when dropped.
    tempfile::Builder::new()
        .prefix(".backprop-write-check.")
        .tempfile_in(folder)
        .map_err(|error| {
            CliError::Runtime(format!(
                "cannot save the model as {}: the folder {} cannot be written: {error}",
                path.display(),
                folder.display()
            ))
        })?;
    Ok(())
}

/// Reads the model `--init-from` names.
pub fn load_model(path: &Path) -> Result<Model, CliError> {
    Model::load(path).map_err(|error| CliError::usage(format!("--init-from: {error}")))
}

/// Saves the network with its metadata; a failure is a runtime error (exit 1).
pub fn save_model(
    path: &Path,
    network: Network<f32>,
    metadata: ModelMetadata,
) -> Result<(), CliError> {
    let model = Model::new(network, metadata)
        .map_err(|error| CliError::Runtime(format!("cannot make the model file: {error}")))?;
    model
        .save(path)
        .map_err(|error| CliError::Runtime(format!("cannot save the model: {error}")))
}

/// Everything the model file says besides the weights.
pub fn metadata(
    plan: &TrainPlan,
    data: &PreparedData,
    network: &Network<f32>,
    history: &History,
    batch_size: usize,
) -> ModelMetadata {
    let mut metadata = ModelMetadata::describe(network.config(), data.task);
    metadata.preprocessing = data.preprocessing.clone();
    metadata.hyperparameters = hyperparameters(plan, data, history, batch_size);
    metadata.history = EpochSummary::from_history(history);
    metadata.data = DataProvenance {
        source: plan.spec.clone(),
        sha256: data.train_sha256.clone(),
        rows: data.train.rows(),
    };
    metadata
}

/// The training settings, by the long flag names with underscores.
fn hyperparameters(
    plan: &TrainPlan,
    data: &PreparedData,
    history: &History,
    batch_size: usize,
) -> Map<String, Value> {
    let mut map = Map::new();
    let mut put = |key: &str, value: Value| {
        map.insert(key.to_string(), value);
    };
    put("preset", json!(plan.preset.name));
    if let Some(lbfgs) = &plan.lbfgs {
        put("optimizer", json!("lbfgs"));
        put("lbfgs_history", json!(lbfgs.history));
        put("max_fun", json!(lbfgs.max_evaluations));
        put("tol", json!(lbfgs.gradient_tolerance));
    } else {
        put("optimizer", json!(plan.optimizer.name()));
        put("learning_rate", json!(plan.optimizer.learning_rate()));
        for (key, value) in optimizer_settings(&plan.optimizer) {
            put(key, value);
        }
    }
    put("shuffle", json!(plan.shuffle));
    put(
        "augment",
        json!(if plan.augment_shift { "shift" } else { "none" }),
    );
    put("batch_size", json!(batch_size));
    put("epochs", json!(plan.epochs));
    put("epochs_run", json!(history.epochs.len()));
    put("schedule", json!(plan.schedule.to_string()));
    put("warmup", json!(plan.warmup));
    put("clip", json!(plan.clip));
    put("dropout", json!(plan.dropout));
    put("l1", json!(plan.l1));
    put("l2_nielsen", json!(plan.l2_nielsen));
    put("early_stopping", json!(plan.early_stopping));
    put("best_epoch", json!(history.best_epoch));
    put("test_split", json!(plan.test_split));
    put("validation", json!(plan.validation));
    put(
        "scale",
        json!(match &plan.init_from {
            Some(_) => "from the initial model".to_string(),
            None => plan.scale.name().to_string(),
        }),
    );
    if data.task == backprop::train::Task::Regression {
        put(
            "target_scale",
            json!(match &plan.init_from {
                Some(_) => "from the initial model",
                None if data.preprocessing.target_scaler.is_some() => "standard",
                None => "none",
            }),
        );
    }
    put(
        "init_from",
        json!(plan
            .init_from
            .as_ref()
            .map(|path| path.display().to_string())),
    );
    put(
        "validation_rows",
        json!(data.validation.as_ref().map_or(0, |part| part.rows())),
    );
    put("test_rows", json!(data.test.rows()));
    if let Some(target) = &data.target_name {
        put("target", json!(target));
    }
    if let crate::data::DataSource::BuiltIn { builtin, generate } = &plan.source {
        if builtin.is_generated() {
            put("samples", json!(generate.samples));
            put("noise", json!(generate.noise));
        }
    }
    map
}

/// Every hyper-parameter of the optimiser but its learning rate, by PyTorch's names (`betas`,
/// `eps`, `alpha`, …); `momentum` is null for the Adam family, which has none.
fn optimizer_settings(config: &OptimizerConfig) -> Vec<(&'static str, Value)> {
    match config {
        OptimizerConfig::Sgd(sgd) => vec![
            ("momentum", json!(sgd.momentum)),
            ("dampening", json!(sgd.dampening)),
            ("nesterov", json!(sgd.nesterov)),
            ("weight_decay", json!(sgd.weight_decay)),
        ],
        OptimizerConfig::Adam(adam) => vec![
            ("momentum", Value::Null),
            ("betas", json!([adam.beta1, adam.beta2])),
            ("eps", json!(adam.epsilon)),
            ("weight_decay", json!(adam.weight_decay)),
        ],
        OptimizerConfig::AdamW(adamw) => vec![
            ("momentum", Value::Null),
            ("betas", json!([adamw.beta1, adamw.beta2])),
            ("eps", json!(adamw.epsilon)),
            ("weight_decay", json!(adamw.weight_decay)),
        ],
        OptimizerConfig::RmsProp(rmsprop) => vec![
            ("momentum", json!(rmsprop.momentum)),
            ("alpha", json!(rmsprop.alpha)),
            ("eps", json!(rmsprop.epsilon)),
            ("centered", json!(rmsprop.centered)),
            ("weight_decay", json!(rmsprop.weight_decay)),
        ],
    }
}
