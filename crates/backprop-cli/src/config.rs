//! From parsed flags to a typed training plan: the `--config` file merged in ([`file`]),
//! presets filled in, names resolved, and every check that needs no data done before any data
//! is loaded.
//!
//! What depends on the data is settled after loading: the task of a CSV file (and so the default
//! cost, [`TrainPlan::cost_for`]), and under `--init-from` the architecture and scaling.

pub mod file;
pub mod resolve;

use crate::args::{DataDistributionArg, ScaleArg, TargetScaleArg, TaskArg, TrainArgs};
use crate::data::DataSource;
use crate::exit::CliError;
use crate::optimizer::{default_learning_rate, optimizer_config, OptimizerFlags};
use crate::parse::ScheduleSpec;
use crate::presets::{named_preset, preset_for, Preset, MNIST, TABULAR};
use backprop::conv::ImageShape;
use backprop::feature_layers::FeatureLayer;
use backprop::optim::OptimizerConfig;
use backprop::train::Task;
use backprop::{Activation, Cost, Initialization};
use backprop_data::{DataSpec, ScalerKind};
use resolve::{check_init_from_conflicts, data_source, test_split, validation_and_patience};
use std::path::PathBuf;

/// The validation fraction `--early-stopping` uses when `--validation` is not given.
pub const EARLY_STOPPING_VALIDATION: f64 = 0.1;
/// Where the model goes without `--out`.
pub const DEFAULT_MODEL_FILE: &str = "model.safetensors";

/// Where results go.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputOptions {
    /// One JSON object on stdout at the end.
    pub json: bool,
    /// One JSON line per epoch in this file.
    pub log: Option<PathBuf>,
    /// No progress bar or per-epoch lines on stderr.
    pub quiet: bool,
    /// The model file to write.
    pub model: PathBuf,
    /// Print per-layer diagnostics after every epoch.
    pub diagnostics: bool,
    /// The HTML training report to write.
    pub report: Option<PathBuf>,
}

/// Everything `backprop train` will do, resolved and typed.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainPlan {
    /// Where the data comes from.
    pub source: DataSource,
    /// `--data` as given (the model file records it).
    pub spec: String,
    /// The preset in use.
    pub preset: Preset,
    /// The task asked for with `--task`; `None` follows the data.
    pub task: Option<Task>,
    /// Convolutions, pooling and dropout before the hidden layers.
    pub image_layers: Vec<FeatureLayer>,
    /// `--input-shape`: how to read each input row as an image.
    pub input_shape: Option<ImageShape>,
    /// `--augment shift`: each training image followed by its four one-pixel shifts.
    pub augment_shift: bool,
    /// Hidden layer widths.
    pub hidden_layers: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// The cost given with `--cost`; `None` takes the preset's or the task's default.
    pub cost: Option<Cost>,
    /// Initial weights.
    pub initialization: Initialization,
    /// Dropout after every hidden layer.
    pub dropout: f64,
    /// `dropout:P` entries of `--layers` between dense widths, one per hidden layer (0 =
    /// none); empty for none.
    pub hidden_dropout: Vec<f64>,
    /// Nielsen's L2 λ (0: none).
    pub l2_nielsen: f64,
    /// L1 λ (0: none).
    pub l1: f64,
    /// The optimiser with its hyper-parameters (validated); unused under `lbfgs`.
    pub optimizer: OptimizerConfig,
    /// `--optimizer lbfgs`: full-batch L-BFGS in place of the trainer's steps.
    pub lbfgs: Option<backprop::optim::LbfgsConfig>,
    /// The learning-rate decay.
    pub schedule: ScheduleSpec,
    /// Warm-up steps.
    pub warmup: u64,
    /// Gradient clipping norm.
    pub clip: Option<f64>,
    /// Reshuffle the training rows every epoch (false under `--no-shuffle`).
    pub shuffle: bool,
    /// Epochs (the most, with early stopping).
    pub epochs: usize,
    /// Examples per step; `None` means full batch.
    pub batch_size: Option<usize>,
    /// The one seed.
    pub seed: u64,
    /// Test fraction for data without a test part; `None`: the training data is the test data.
    pub test_split: Option<f64>,
    /// Validation fraction of the training part.
    pub validation: Option<f64>,
    /// Early-stopping patience in epochs.
    pub early_stopping: Option<usize>,
    /// Feature scaling (unused under `--init-from`, which keeps the model's).
    pub scale: ScalerKind,
    /// `--scale` as given (checked against the model's under `--init-from`).
    pub scale_flag: Option<ScalerKind>,
    /// Standardise regression targets (false under `--target-scale none`).
    pub standardize_targets: bool,
    /// `--target-scale` as given: true for standard.
    pub target_scale_flag: Option<bool>,
    /// Start from this model (fine-tuning).
    pub init_from: Option<PathBuf>,
    /// Worker threads; `None` keeps rayon's default.
    pub threads: Option<usize>,
    /// Shards per batch (`--shards`); `None`: 8 under MPI, else the plain path.
    pub shards: Option<usize>,
    /// Sum gradients with MPI_Allreduce (`--fast-allreduce`).
    pub fast_allreduce: bool,
    /// How MPI ranks get the data (`--data-distribution`); `None`: the default under MPI.
    pub data_distribution: Option<DataDistributionArg>,
    /// Where results go.
    pub output: OutputOptions,
    /// Remarks to show the user before training (defaults taken, flags ignored).
    pub notes: Vec<String>,
}

impl TrainPlan {
    /// Merges the `--config` file and resolves the flags against the preset.
    pub fn from_args(arguments: TrainArgs) -> Result<Self, CliError> {
        let arguments = file::apply_config_file(arguments)?;
        let spec = arguments.data.clone().unwrap_or_else(|| "digits".into());
        let data_spec: DataSpec = spec
            .trim()
            .parse()
            .map_err(|error| CliError::usage(format!("--data: {error}")))?;
        let mut notes = Vec::new();
        let seed = arguments.seed.unwrap_or(0);
        let task = arguments.task.map(|task| match task {
            TaskArg::Classify => Task::Classification,
            TaskArg::Regress => Task::Regression,
        });
        let source = data_source(&data_spec, &arguments, seed, &mut notes);
        let preset = match (arguments.preset, &data_spec) {
            (Some(name), _) => named_preset(name),
            (None, DataSpec::BuiltIn(builtin)) => preset_for(*builtin),
            (None, DataSpec::Mnist(_)) => MNIST,
            (None, DataSpec::Csv(_)) => TABULAR,
        };
        if let (Some(task), Some(natural)) = (task, source.natural_task()) {
            if task == Task::Classification && natural == Task::Regression {
                return Err(CliError::usage(format!(
                    "--task classify needs class labels, but {spec} has real-valued targets; \
                     use --task regress"
                )));
            }
            if task == Task::Regression && natural == Task::Classification {
                notes.push(format!(
                    "--task regress: predicting {spec}'s class index as a number"
                ));
            }
        }
        if let (Some(cost), Some(task)) = (arguments.cost, task.or(source.natural_task())) {
            check_cost_for_task(cost, task)?;
        }
        if arguments.init_from.is_some() {
            check_init_from_conflicts(&arguments)?;
        }
        let kind = arguments.optimizer.unwrap_or(preset.optimizer);
        let learning_rate = arguments
            .learning_rate
            .or(preset.learning_rate.filter(|_| kind == preset.optimizer))
            .unwrap_or(default_learning_rate(kind));
        let lbfgs = if kind == crate::args::OptimizerKind::Lbfgs {
            crate::lbfgs::check_flags(&arguments)?;
            Some(crate::lbfgs::config(to_usize(
                arguments.epochs.unwrap_or(preset.epochs),
            )))
        } else {
            None
        };
        // The trainer's configuration stays a valid step rule (plain SGD) under lbfgs, unused.
        let optimizer = match lbfgs {
            Some(_) => optimizer_config(
                crate::args::OptimizerKind::Sgd,
                default_learning_rate(crate::args::OptimizerKind::Sgd),
                OptimizerFlags::default(),
            )?,
            None => optimizer_config(kind, learning_rate, OptimizerFlags::from_args(&arguments))?,
        };
        let test_split = test_split(&source, &arguments, &preset, &spec, &mut notes);
        let (validation, early_stopping) =
            validation_and_patience(&arguments, &preset, &mut notes)?;
        let scale_flag = arguments.scale.map(|scale| match scale {
            ScaleArg::Standard => ScalerKind::Standard,
            ScaleArg::Minmax => ScalerKind::MinMax,
            ScaleArg::None => ScalerKind::None,
        });
        // Pixels read with --input-shape stay as they are, whatever the preset scales.
        let image_scale = arguments.input_shape.map(|_| ScalerKind::None);
        let scale = scale_flag
            .or(image_scale)
            .unwrap_or(preset.scale.unwrap_or(match source {
                DataSource::Mnist(_) => ScalerKind::None,
                _ => ScalerKind::Standard,
            }));
        let activation = arguments.activation.unwrap_or(preset.activation);
        let image_layers = match &arguments.layers {
            Some(layers) => layers.1.clone(),
            None => preset.image_layers.iter().map(|s| s.to_string()).collect(),
        }
        .iter()
        .map(|entry| FeatureLayer::parse(entry, activation))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::usage)?;
        let target_scale_flag = arguments
            .target_scale
            .map(|scale| scale == TargetScaleArg::Standard);
        Ok(Self {
            source,
            spec,
            task,
            image_layers,
            input_shape: arguments.input_shape,
            augment_shift: arguments.augment == Some(crate::args::AugmentArg::Shift),
            hidden_dropout: arguments
                .layers
                .as_ref()
                .map_or_else(Vec::new, |layers| layers.2.clone()),
            hidden_layers: arguments
                .layers
                .map_or_else(|| preset.hidden_layers.to_vec(), |layers| layers.0),
            activation,
            cost: arguments.cost,
            initialization: arguments.init.unwrap_or(preset.initialization),
            dropout: arguments.dropout.unwrap_or(0.0),
            l2_nielsen: arguments.l2_nielsen.unwrap_or(preset.l2_nielsen),
            l1: arguments.l1.unwrap_or(0.0),
            optimizer,
            // The preset's warm-up belongs to its schedule.
            warmup: arguments.warmup.unwrap_or(match arguments.schedule {
                Some(_) => 0,
                None => preset.warmup,
            }),
            schedule: arguments.schedule.unwrap_or(preset.schedule),
            clip: arguments.clip,
            shuffle: !arguments.no_shuffle,
            epochs: to_usize(arguments.epochs.unwrap_or(preset.epochs)),
            // L-BFGS is full batch whatever the preset says.
            batch_size: match lbfgs {
                Some(_) => None,
                None => arguments.batch_size.or(preset.batch_size).map(to_usize),
            },
            lbfgs,
            seed,
            test_split,
            validation,
            // No epoch loop to stop early under lbfgs (an explicit flag was refused above).
            early_stopping: early_stopping.filter(|_| lbfgs.is_none()),
            scale,
            scale_flag,
            standardize_targets: target_scale_flag.unwrap_or(true),
            target_scale_flag,
            init_from: arguments.init_from,
            threads: arguments.threads.map(to_usize),
            shards: arguments.shards.map(to_usize),
            fast_allreduce: arguments.fast_allreduce,
            data_distribution: arguments.data_distribution,
            output: OutputOptions {
                json: arguments.json,
                log: arguments.log,
                quiet: arguments.quiet,
                model: arguments
                    .out
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_MODEL_FILE)),
                diagnostics: arguments.diagnostics,
                report: arguments.report,
            },
            preset,
            notes,
        })
    }

    /// The cost and output activation for the task the data turned out to have: `--cost`, else
    /// the preset's (if it suits the task), else cross-entropy to classify and MSE to regress.
    /// The preset's output activation comes with the preset's cost only.
    pub fn cost_for(&self, task: Task) -> Result<(Cost, Option<Activation>), CliError> {
        let preset_cost = self
            .preset
            .cost
            .filter(|cost| task == Task::Classification || !classifies(*cost));
        let cost = self.cost.or(preset_cost).unwrap_or(match task {
            Task::Classification => Cost::SoftmaxCrossEntropy,
            Task::Regression => Cost::MeanSquaredError,
        });
        check_cost_for_task(cost, task)?;
        let output = self
            .preset
            .output_activation
            .filter(|_| Some(cost) == self.preset.cost && task == Task::Classification);
        Ok((cost, output))
    }
}

/// Converts a clap-checked count; saturates on 32-bit targets.
pub(crate) fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// True for the costs that need class targets.
fn classifies(cost: Cost) -> bool {
    matches!(cost, Cost::SoftmaxCrossEntropy | Cost::BinaryCrossEntropy)
}

/// Cross-entropies need class targets.
fn check_cost_for_task(cost: Cost, task: Task) -> Result<(), CliError> {
    if classifies(cost) && task == Task::Regression {
        return Err(CliError::usage(format!(
            "the {cost} cost needs class labels; to regress use mse, quadratic or huber"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
