//! Reading a model file for the commands that use one (`evaluate`, `predict`, `inspect`,
//! `gradcheck`), and what they need to know about it: its task, its class names, its input
//! columns, and how its outputs become class probabilities.
//!
//! Every problem with the file itself (not safetensors, not a backprop model, truncated,
//! inconsistent) is bad input, exit 2; a missing file is bad usage, exit 2; any other failure
//! to read it is a failure while running, exit 1.

use crate::exit::CliError;
use backprop::model::{Model, ModelError, ModelMetadata, NamedTensor};
use backprop::train::Task;
use backprop::Matrix;
use backprop_data::csv_file::FeatureSpec;
use backprop_data::tabular::{ModelColumns, ModelOutputs};
use backprop_data::CategoricalColumn;
use clap::Args;
use std::path::{Path, PathBuf};

/// The model file, given either as the first positional argument or with `--model`.
#[derive(Debug, Args)]
pub struct ModelLocation {
    /// The model (or checkpoint) file, .safetensors.
    #[arg(value_name = "MODEL")]
    pub positional: Option<PathBuf>,
    /// The model (or checkpoint) file, .safetensors (the same as the positional MODEL).
    #[arg(long = "model", value_name = "FILE", conflicts_with = "positional")]
    pub flag: Option<PathBuf>,
}

impl ModelLocation {
    /// The model file named, or an error saying how to name it.
    pub fn path(&self, command: &str) -> Result<&Path, CliError> {
        self.flag
            .as_deref()
            .or(self.positional.as_deref())
            .ok_or_else(|| {
                CliError::usage(format!(
                    "{command} needs a model file: backprop {command} MODEL.safetensors \
                     (or --model MODEL.safetensors)"
                ))
            })
    }
}

/// Maps a library error from reading a model file to the command line's exit codes: a file
/// that cannot be read (other than a missing one) is a failure while running; everything else,
/// a missing file included, is bad input.
pub fn model_error(error: backprop::Error) -> CliError {
    let runtime = matches!(
        &error,
        backprop::Error::Model(ModelError::Io { source, .. })
            if source.kind() != std::io::ErrorKind::NotFound
    );
    if runtime {
        CliError::Runtime(error.to_string())
    } else {
        CliError::usage(error.to_string())
    }
}

/// A model read from a file, with what the commands derive from its metadata.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// The model.
    pub model: Model,
    /// The file it came from, as given.
    pub path: PathBuf,
    /// Classification or regression.
    pub task: Task,
    /// Class names in output order (`"0"`, `"1"`, … when the model stores none); empty for
    /// regression.
    pub classes: Vec<String>,
}

impl LoadedModel {
    /// Refuses a model with convolution or pooling layers for `command`, which shows dense
    /// networks only: its pictures and explanations would leave the image layers out.
    pub fn require_dense_only(&self, command: &str) -> Result<(), CliError> {
        if self.model.network.feature_count() == 0 {
            return self.require_plain_numbering(command);
        }
        Err(CliError::usage(format!(
            "{}: {command} shows dense networks only, and this model starts with convolution \
             or pooling layers ({}); inspect, evaluate, predict, gradcheck and export read it",
            self.path.display(),
            crate::report::format_architecture(self.model.network.config())
        )))
    }

    /// Refuses a model with `dropout:P` entries between its dense widths for `command`, whose
    /// views name dense layer l as `layers.{l − 1}`: those entries shift the names.
    pub fn require_plain_numbering(&self, command: &str) -> Result<(), CliError> {
        if self.model.network.config().hidden_dropout.is_empty() {
            return Ok(());
        }
        Err(CliError::usage(format!(
            "{}: {command} names the dense layers layers.0, layers.1, …, and this model has \
             dropout entries between them in --layers ({}), which shift those names; a model \
             trained with --dropout instead shows here, and inspect, evaluate, predict, \
             gradcheck and export read this one",
            self.path.display(),
            crate::report::format_architecture(self.model.network.config())
        )))
    }

    /// Reads and checks a model file (optimiser tensors of a checkpoint are skipped).
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let model = Model::load(path).map_err(|error| with_file(model_error(error), path))?;
        Self::from_model(model, path)
    }

    /// Reads a model file together with its `optimizer.*` tensors, if it is a checkpoint.
    pub fn load_with_extras(path: &Path) -> Result<(Self, Vec<NamedTensor>), CliError> {
        let (model, extras) =
            Model::load_with_extras(path).map_err(|error| with_file(model_error(error), path))?;
        Ok((Self::from_model(model, path)?, extras))
    }

    fn from_model(model: Model, path: &Path) -> Result<Self, CliError> {
        let task = model.metadata.task().map_err(|reason| {
            CliError::usage(format!(
                "{}: invalid backprop metadata: {reason}",
                path.display()
            ))
        })?;
        let classes = match model_outputs(&model.metadata, task, model.network.output_width()) {
            ModelOutputs::Classes(names) => names,
            ModelOutputs::Values(_) => Vec::new(),
        };
        Ok(Self {
            model,
            path: path.to_path_buf(),
            task,
            classes,
        })
    }

    /// The file name for messages.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The network's input width.
    pub fn input_width(&self) -> usize {
        self.model.network.input_width()
    }

    /// The network's output width.
    pub fn output_width(&self) -> usize {
        self.model.network.output_width()
    }

    /// True when one sigmoid unit gives the probability of the second of two classes.
    pub fn single_unit_binary(&self) -> bool {
        self.task == Task::Classification && self.output_width() == 1 && self.classes.len() == 2
    }

    /// The model's input columns and outputs, in the data's terms.
    pub fn columns(&self) -> ModelColumns {
        model_columns(&self.model.metadata, self.task, self.output_width())
    }

    /// The model's input columns, as the CSV reader matches them by name.
    pub fn feature_specs(&self) -> Result<Vec<FeatureSpec>, CliError> {
        self.columns().feature_specs().map_err(|error| {
            CliError::usage(format!(
                "{}: invalid feature encoding: {error}",
                self.name()
            ))
        })
    }

    /// The values that fill missing input cells (stored by `train --missing mean`), in the
    /// data crate's form.
    pub fn missing_fills(&self) -> Vec<backprop_data::MissingFill> {
        self.model
            .metadata
            .preprocessing
            .missing_fill
            .iter()
            .map(|fill| backprop_data::MissingFill {
                column: fill.column.clone(),
                value: match &fill.value {
                    backprop::model::FillValue::Number(value) => {
                        backprop_data::FillValue::Number(*value as f32)
                    }
                    backprop::model::FillValue::Category(category) => {
                        backprop_data::FillValue::Category(category.clone())
                    }
                },
            })
            .collect()
    }

    /// Predictions for raw feature rows: probabilities for classification, values in the
    /// targets' units for regression.
    pub fn predict(&self, features: &Matrix<f32>) -> Result<Matrix<f32>, CliError> {
        self.model
            .predict_per_class(features)
            .map_err(|error| CliError::usage(format!("{}: {error}", self.name())))
    }
}

/// What a model predicts: its class names (`"0"`, `"1"`, … when it stores none; two for a
/// single sigmoid unit), or its number of values.
fn model_outputs(metadata: &ModelMetadata, task: Task, output_width: usize) -> ModelOutputs {
    match (task, &metadata.preprocessing.class_names) {
        (Task::Regression, _) => ModelOutputs::Values(output_width),
        (Task::Classification, Some(names)) => ModelOutputs::Classes(names.clone()),
        (Task::Classification, None) => {
            let count = if output_width == 1 { 2 } else { output_width };
            ModelOutputs::Classes((0..count).map(|class| class.to_string()).collect())
        }
    }
}

/// A model's metadata in the data crate's terms: its input features, its categorical
/// columns and what it predicts.
pub fn model_columns(metadata: &ModelMetadata, task: Task, output_width: usize) -> ModelColumns {
    let preprocessing = &metadata.preprocessing;
    ModelColumns {
        feature_names: preprocessing.feature_names.clone(),
        categorical: preprocessing
            .categorical
            .iter()
            .map(|encoding| CategoricalColumn {
                name: encoding.column.clone(),
                categories: encoding.categories.clone(),
            })
            .collect(),
        outputs: model_outputs(metadata, task, output_width),
    }
}

/// Prefixes the file name when the message does not already carry it.
fn with_file(error: CliError, path: &Path) -> CliError {
    let file = path.display().to_string();
    match error {
        CliError::Usage(message) if !message.contains(&file) => {
            CliError::Usage(format!("{file}: {message}"))
        }
        CliError::Runtime(message) if !message.contains(&file) => {
            CliError::Runtime(format!("{file}: {message}"))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_usage_errors_naming_the_file() {
        let error = LoadedModel::load(Path::new("/no/such/model.safetensors")).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("/no/such/model.safetensors"),
            "{error}"
        );
    }
}
