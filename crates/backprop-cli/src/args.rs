//! The command-line grammar: subcommands and their flags, as clap derive definitions.
//!
//! Every training flag is optional and stays `None` when not given, so that the data set's
//! preset ([`crate::presets`]) can fill it in: an explicit flag always wins over a preset.

use crate::parse::{
    parse_activation, parse_cost, parse_initialization, parse_layers, parse_schedule, HiddenLayers,
    ScheduleSpec,
};
use backprop::{Activation, Cost, Initialization};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Neural networks trained by explicit backpropagation.
#[derive(Debug, Parser)]
#[command(name = "backprop", version, long_version = crate::version::long_version(), about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a network on a data set and report its test metrics.
    Train(Box<TrainArgs>),
    /// Compare backprop's gradients with finite differences, layer by layer.
    Gradcheck(crate::gradcheck::GradcheckArgs),
    /// Print a shell completion script: `backprop completions bash > /etc/bash_completion.d/backprop`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The optimisers `--optimizer` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerKind {
    /// Plain SGD (default learning rate 0.1, not PyTorch's 0.001).
    Sgd,
    /// SGD with momentum 0.9 (default learning rate 0.01).
    Momentum,
    /// SGD with Nesterov momentum 0.9 (default learning rate 0.01).
    Nesterov,
    /// Adam (default learning rate 0.001).
    Adam,
    /// AdamW, decoupled weight decay (default learning rate 0.001, weight decay 0.01).
    Adamw,
    /// RMSprop (default learning rate 0.01).
    Rmsprop,
}

/// `--task`: what the network predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// Class labels, scored by accuracy.
    Classify,
    /// Real values, scored by MAE and R².
    Regress,
}

/// `--scale`: how features are scaled (fitted on the training part only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScaleArg {
    /// Zero mean, unit variance per column.
    Standard,
    /// The training range of each column onto [0, 1].
    Minmax,
    /// Leave the features as they are.
    None,
}

/// Flags of `backprop train`.
#[derive(Debug, Args)]
#[command(
    after_help = "Flags left out take the data set's preset (see --data), which trains a good \
                  model quickly; explicit flags always win."
)]
pub struct TrainArgs {
    /// Built-in data: digits, xor-table, circle, xor, gaussian, spiral, moons, plane,
    /// multi-gaussian.
    #[arg(long, value_name = "NAME", default_value = "digits")]
    pub data: String,

    /// Rows to generate for the synthetic sets [default: 500].
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,

    /// Noise of the synthetic sets, 0 to 1 (0.5 is the playground's 50 %) [default: 0].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub noise: Option<f64>,

    /// Hidden layer widths, e.g. 128,64; "" or "none" for no hidden layer.
    #[arg(long, value_name = "WIDTHS", value_parser = parse_layers)]
    pub layers: Option<HiddenLayers>,

    /// Hidden activation: identity, sigmoid, tanh, relu, leaky-relu[:SLOPE], gelu.
    #[arg(long, value_name = "NAME", value_parser = parse_activation)]
    pub activation: Option<Activation>,

    /// Cost: cross-entropy (softmax output), bce (sigmoid output), mse, quadratic,
    /// huber[:DELTA] (identity output) [default: cross-entropy to classify, mse to regress].
    #[arg(long, value_name = "NAME", value_parser = parse_cost)]
    pub cost: Option<Cost>,

    /// What the network predicts [default: from the data].
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,

    /// Optimiser.
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,

    /// Base learning rate [default: the preset's, else the optimiser's PyTorch default, except
    /// 0.1 for plain SGD and 0.01 for momentum and nesterov].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub learning_rate: Option<f64>,

    /// Momentum factor (sgd, momentum, nesterov, rmsprop).
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub momentum: Option<f64>,

    /// PyTorch-style weight decay inside the optimiser (decoupled for adamw).
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,

    /// Nielsen's L2 penalty (λ/2n)Σw² in the cost, n = training rows.
    #[arg(long, value_name = "LAMBDA", allow_negative_numbers = true)]
    pub l2_nielsen: Option<f64>,

    /// L1 penalty λΣ|w| in the cost.
    #[arg(long, value_name = "LAMBDA", allow_negative_numbers = true)]
    pub l1: Option<f64>,

    /// Dropout probability after every hidden layer, in [0, 1).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub dropout: Option<f64>,

    /// Initialisation: pytorch, uniform[:LOW:HIGH], normal, scaled-normal, xavier-uniform,
    /// xavier-normal, he-uniform, he-normal [default: pytorch].
    #[arg(long, value_name = "NAME", value_parser = parse_initialization)]
    pub init: Option<Initialization>,

    /// Learning-rate schedule, in optimisation steps: constant, step:STEP_SIZE:GAMMA,
    /// exponential:GAMMA, cosine[:MIN_LR] (cosine anneals over all steps after the warm-up).
    #[arg(long, value_name = "SPEC", value_parser = parse_schedule)]
    pub schedule: Option<ScheduleSpec>,

    /// Linear learning-rate warm-up, in optimisation steps.
    #[arg(long, value_name = "STEPS")]
    pub warmup: Option<u64>,

    /// Clip gradients to this global L2 norm before each step.
    #[arg(long, value_name = "NORM", allow_negative_numbers = true)]
    pub clip: Option<f64>,

    /// Passes over the training data.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub epochs: Option<u64>,

    /// Examples per optimisation step [default: the preset's].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: Option<u64>,

    /// Seed for data generation, splits, initial weights, shuffles and dropout.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Fraction of the data held out for testing (stratified, seeded); 0 tests on the
    /// training data [default: 0.2].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub test_split: Option<f64>,

    /// Fraction of the training part held out for validation [default: none].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub validation: Option<f64>,

    /// Stop after PATIENCE epochs without a lower validation loss, restoring the best weights
    /// (uses --validation 0.1 when no --validation is given).
    #[arg(long, value_name = "PATIENCE", value_parser = clap::value_parser!(u64).range(1..))]
    pub early_stopping: Option<u64>,

    /// Feature scaling, fitted on the training part [default: standard].
    #[arg(long, value_enum)]
    pub scale: Option<ScaleArg>,

    /// Worker threads [default: one per CPU].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub threads: Option<u64>,

    /// Print one JSON object with the results on stdout at the end.
    #[arg(long)]
    pub json: bool,

    /// Write one JSON line per epoch to FILE as training goes.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,

    /// Print no per-epoch lines.
    #[arg(short, long)]
    pub quiet: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_stay_unset_unless_given() {
        let cli = Cli::try_parse_from(["backprop", "train"]).unwrap();
        let Command::Train(arguments) = cli.command else {
            panic!("expected the train command")
        };
        assert_eq!(arguments.data, "digits");
        assert!(arguments.layers.is_none() && arguments.epochs.is_none());
        assert_eq!(arguments.seed, 0);
    }
}
