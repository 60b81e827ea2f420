//! From parsed flags to a typed training plan: presets filled in, names resolved, and every
//! check that needs no data done before any data is loaded.

use crate::args::{ScaleArg, TaskArg, TrainArgs};
use crate::data::resolve_built_in;
use crate::exit::CliError;
use crate::optimizer::{default_learning_rate, optimizer_config};
use crate::parse::ScheduleSpec;
use crate::presets::{preset_for, DEFAULT_TEST_SPLIT};
use backprop::optim::OptimizerConfig;
use backprop::train::Task;
use backprop::{Activation, Cost, Initialization};
use backprop_data::{BuiltIn, GenerateOptions, ScalerKind};
use std::path::PathBuf;

/// The validation fraction `--early-stopping` uses when `--validation` is not given.
pub const EARLY_STOPPING_VALIDATION: f64 = 0.1;

/// Where results go.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputOptions {
    /// One JSON object on stdout at the end.
    pub json: bool,
    /// One JSON line per epoch in this file.
    pub log: Option<PathBuf>,
    /// No per-epoch lines on stderr.
    pub quiet: bool,
}

/// Everything `backprop train` will do, resolved and typed.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainPlan {
    /// The data set.
    pub builtin: BuiltIn,
    /// How synthetic data is generated (ignored by fixed sets).
    pub generate: GenerateOptions,
    /// Classification or regression.
    pub task: Task,
    /// Hidden layer widths.
    pub hidden_layers: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// The cost; the output activation follows from it.
    pub cost: Cost,
    /// Initial weights.
    pub initialization: Initialization,
    /// Dropout after every hidden layer.
    pub dropout: f64,
    /// Nielsen's L2 λ (0: none).
    pub l2_nielsen: f64,
    /// L1 λ (0: none).
    pub l1: f64,
    /// The optimiser with its hyper-parameters (validated).
    pub optimizer: OptimizerConfig,
    /// The learning-rate decay.
    pub schedule: ScheduleSpec,
    /// Warm-up steps.
    pub warmup: u64,
    /// Gradient clipping norm.
    pub clip: Option<f64>,
    /// Epochs.
    pub epochs: usize,
    /// Examples per step; `None` means full batch.
    pub batch_size: Option<usize>,
    /// The one seed.
    pub seed: u64,
    /// Test fraction; `None` means the training data is also the test data.
    pub test_split: Option<f64>,
    /// Validation fraction of the training part.
    pub validation: Option<f64>,
    /// Early-stopping patience in epochs.
    pub early_stopping: Option<usize>,
    /// Feature scaling.
    pub scale: ScalerKind,
    /// Worker threads; `None` keeps rayon's default.
    pub threads: Option<usize>,
    /// Where results go.
    pub output: OutputOptions,
    /// Remarks to show the user before training (defaults taken, flags ignored).
    pub notes: Vec<String>,
}

impl TrainPlan {
    /// Resolves the flags against the data set's preset.
    pub fn from_args(arguments: TrainArgs) -> Result<Self, CliError> {
        let builtin = resolve_built_in(&arguments.data)?;
        let preset = preset_for(builtin);
        let mut notes = Vec::new();
        let natural_task = if builtin.is_classification() {
            Task::Classification
        } else {
            Task::Regression
        };
        let task = match arguments.task {
            None => natural_task,
            Some(TaskArg::Classify) => Task::Classification,
            Some(TaskArg::Regress) => Task::Regression,
        };
        if task == Task::Classification && natural_task == Task::Regression {
            return Err(CliError::usage(format!(
                "--task classify needs class labels, but {builtin} has real-valued targets; \
                 use --task regress"
            )));
        }
        if task == Task::Regression && natural_task == Task::Classification {
            notes.push(format!(
                "--task regress: predicting {builtin}'s class index as a number"
            ));
        }
        if !builtin.is_generated() && (arguments.samples.is_some() || arguments.noise.is_some()) {
            notes.push(format!(
                "--samples and --noise only apply to generated sets; {builtin} is fixed"
            ));
        }
        let generate = GenerateOptions {
            samples: arguments
                .samples
                .unwrap_or(GenerateOptions::default().samples),
            noise: arguments.noise.unwrap_or(GenerateOptions::default().noise),
            seed: arguments.seed,
        };
        let preset_cost = preset.cost.filter(|_| task == natural_task);
        let cost = arguments.cost.or(preset_cost).unwrap_or(match task {
            Task::Classification => Cost::SoftmaxCrossEntropy,
            Task::Regression => Cost::MeanSquaredError,
        });
        check_cost_for_task(cost, task)?;
        let kind = arguments.optimizer.unwrap_or(preset.optimizer);
        let learning_rate = arguments
            .learning_rate
            .or(preset.learning_rate.filter(|_| kind == preset.optimizer))
            .unwrap_or(default_learning_rate(kind));
        let optimizer = optimizer_config(
            kind,
            learning_rate,
            arguments.momentum,
            arguments.weight_decay,
        )?;
        let test_split = match arguments.test_split {
            Some(0.0) => {
                notes.push(
                    "--test-split 0: no test part; the final metrics are on the training data"
                        .into(),
                );
                None
            }
            Some(fraction) => Some(fraction),
            None if preset.test_split.is_none() => {
                notes.push(format!(
                    "{builtin} has only {} rows: it is both the training and the test set \
                     (no test split)",
                    table_rows(builtin)
                ));
                None
            }
            None => preset.test_split.or(Some(DEFAULT_TEST_SPLIT)),
        };
        let mut validation = arguments.validation;
        if arguments.early_stopping.is_some() && validation.is_none() {
            notes.push(format!(
                "--early-stopping needs validation data: holding out {}% of the training part \
                 (--validation {EARLY_STOPPING_VALIDATION})",
                EARLY_STOPPING_VALIDATION * 100.0
            ));
            validation = Some(EARLY_STOPPING_VALIDATION);
        }
        Ok(Self {
            builtin,
            generate,
            task,
            hidden_layers: arguments
                .layers
                .map_or_else(|| preset.hidden_layers.to_vec(), |layers| layers.0),
            activation: arguments.activation.unwrap_or(preset.activation),
            cost,
            initialization: arguments.init.unwrap_or_default(),
            dropout: arguments.dropout.unwrap_or(0.0),
            l2_nielsen: arguments.l2_nielsen.unwrap_or(0.0),
            l1: arguments.l1.unwrap_or(0.0),
            optimizer,
            schedule: arguments.schedule.unwrap_or(ScheduleSpec::Constant),
            warmup: arguments.warmup.unwrap_or(0),
            clip: arguments.clip,
            epochs: to_usize(arguments.epochs.unwrap_or(preset.epochs)),
            batch_size: arguments.batch_size.or(preset.batch_size).map(to_usize),
            seed: arguments.seed,
            test_split,
            validation,
            early_stopping: arguments.early_stopping.map(to_usize),
            scale: match arguments.scale {
                None => preset.scale,
                Some(ScaleArg::Standard) => ScalerKind::Standard,
                Some(ScaleArg::Minmax) => ScalerKind::MinMax,
                Some(ScaleArg::None) => ScalerKind::None,
            },
            threads: arguments.threads.map(to_usize),
            output: OutputOptions {
                json: arguments.json,
                log: arguments.log,
                quiet: arguments.quiet,
            },
            notes,
        })
    }
}

/// The number of rows of a fixed table (only the XOR table has no test split).
fn table_rows(builtin: BuiltIn) -> usize {
    match builtin {
        BuiltIn::XorTable => backprop_data::xor_table().len(),
        _ => 0,
    }
}

/// Converts a clap-checked count; saturates on 32-bit targets.
fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Cross-entropies need class targets.
fn check_cost_for_task(cost: Cost, task: Task) -> Result<(), CliError> {
    let classifies = matches!(cost, Cost::SoftmaxCrossEntropy | Cost::BinaryCrossEntropy);
    if classifies && task == Task::Regression {
        return Err(CliError::usage(format!(
            "the {cost} cost needs class labels; to regress use mse, quadratic or huber"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};
    use clap::Parser;

    fn plan(flags: &[&str]) -> Result<TrainPlan, CliError> {
        let cli = Cli::try_parse_from(["backprop", "train"].iter().chain(flags)).unwrap();
        let Command::Train(arguments) = cli.command else {
            panic!("expected the train command")
        };
        TrainPlan::from_args(*arguments)
    }

    #[test]
    fn presets_fill_in_and_flags_win() {
        let company = plan(&["--data", "xor-table"]).unwrap();
        assert_eq!(company.hidden_layers, vec![3]);
        assert_eq!(company.cost, Cost::BinaryCrossEntropy);
        assert_eq!(company.test_split, None);
        assert_eq!(company.batch_size, None);
        let changed = plan(&["--data", "xor-table", "--layers", "4", "--epochs", "5"]).unwrap();
        assert_eq!((changed.hidden_layers, changed.epochs), (vec![4], 5));
        let digits = plan(&[]).unwrap();
        assert_eq!(digits.builtin, BuiltIn::Digits);
        assert_eq!(digits.test_split, Some(0.2));
        assert_eq!(digits.cost, Cost::SoftmaxCrossEntropy);
    }

    #[test]
    fn another_optimizer_gets_its_own_default_rate() {
        let sgd = plan(&["--optimizer", "sgd"]).unwrap();
        assert_eq!(sgd.optimizer.learning_rate(), 0.1);
        let rmsprop = plan(&["--data", "circle", "--optimizer", "rmsprop"]).unwrap();
        assert_eq!(rmsprop.optimizer.learning_rate(), 0.01);
        let adam = plan(&["--data", "circle"]).unwrap();
        assert_eq!(adam.optimizer.learning_rate(), 0.03);
    }

    #[test]
    fn early_stopping_defaults_validation_and_says_so() {
        let plan = plan(&["--early-stopping", "3"]).unwrap();
        assert_eq!(plan.validation, Some(EARLY_STOPPING_VALIDATION));
        assert!(plan.notes.iter().any(|n| n.contains("--validation 0.1")));
    }

    #[test]
    fn invalid_combinations_are_usage_errors() {
        for flags in [
            &["--data", "plane", "--task", "classify"][..],
            &["--data", "plane", "--cost", "bce"],
            &["--optimizer", "adam", "--momentum", "0.5"],
            &["--learning-rate", "-1"],
            &["--optimizer", "nesterov", "--momentum", "0"],
            &["--data", "nope"],
        ] {
            let error = plan(flags).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{flags:?}: {error}");
        }
    }
}
