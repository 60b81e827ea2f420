//! The flags of `backprop train`, as clap derive definitions.
//!
//! Every training flag is optional and stays `None` when not given, so that a `--config` file
//! and then the data set's preset ([`crate::presets`]) can fill it in: an explicit flag always
//! wins over the file, and the file over the preset.

use crate::parse::{
    parse_activation, parse_betas, parse_columns, parse_cost, parse_delimiter, parse_image_shape,
    parse_initialization, parse_layers, parse_schedule, ColumnList, HiddenLayers, ScheduleSpec,
};
use backprop::conv::ImageShape;
use backprop::{Activation, Cost, Initialization};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

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
    /// Full-batch L-BFGS (scikit-learn's stopping rules; --epochs is its most iterations; no
    /// learning rate, batch size, schedule or momentum).
    Lbfgs,
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

/// `--target-scale`: whether regression targets are standardised for training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TargetScaleArg {
    /// Zero mean, unit variance (fitted on the training part); predictions are mapped back.
    Standard,
    /// Train on the targets as they are.
    None,
}

/// `--augment`: extra training images made from the real ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AugmentArg {
    /// None: train on the images as they are.
    None,
    /// Nielsen's one-pixel shifts: each training image and four copies moved one pixel up,
    /// down, left and right (five times the rows per epoch; the test part is not touched).
    Shift,
}

/// `--missing`: what to do with empty or `NA` cells in a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MissingArg {
    /// Stop with an error naming the first missing cell.
    Error,
    /// Drop every row with a missing cell.
    Drop,
    /// Fill with the column mean (the most frequent category for string columns); the model
    /// stores the fill values, and predict and evaluate fill new rows' missing cells with them.
    Mean,
}

/// `--preset`: a named set of defaults, instead of the data's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PresetName {
    /// Small tabular data (the CSV default): 64 ReLU units, Adam 0.003, batch 32, up to 200
    /// epochs with early stopping (patience 10 on a 0.2 validation split).
    Tabular,
    /// MNIST (the mnist:DIR default): 192,96 ReLU units with He-uniform weights, Adam 0.007
    /// with a 400-step warm-up and a cosine schedule to 0, batch 128, 3 epochs.
    Mnist,
    /// MNIST with convolutions: conv:20:5,maxpool:2,conv:40:5,maxpool:2,dropout:0.25,100 (ReLU),
    /// Adam 0.002 with a cosine schedule to 0, batch 64, 6 epochs.
    MnistConv,
    /// Nielsen's chapter 1: 30 sigmoid units, sigmoid outputs, quadratic cost, SGD η = 3.0,
    /// batch 10, 30 epochs, N(0, 1) weights.
    Nielsen,
    /// Nielsen's chapter 3: 100 sigmoid units, sigmoid outputs with binary cross-entropy,
    /// L2 λ = 5.0 (--l2-nielsen), SGD η = 0.5, batch 10, 30 epochs, N(0, 1/n_in) weights.
    Nielsen2,
}

/// `--on-divergence`: what to do when the loss turns NaN or infinite or grows past its bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DivergenceArg {
    /// Stop: name the epoch and batch, save the last good weights, exit 1.
    Stop,
    /// Go back to the last good state (the start of the epoch), halve the learning rate and go
    /// on, at most 5 times.
    RestoreAndHalve,
}

/// `--data-distribution`: how the ranks of an MPI run get the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DataDistributionArg {
    /// Every rank reads the data itself; the ranks then compare its SHA-256.
    Read,
    /// Rank 0 reads the data and broadcasts it (MPI_Bcast) to the other ranks.
    Broadcast,
}

/// Flags of `backprop train`.
#[derive(Debug, Default, Args)]
#[command(
    after_help = "Flags left out take the --config file's values, then the preset's (by default \
                  the data's: see --data and --preset), which trains a good model quickly; \
                  explicit flags always win. Without --out the model is saved as \
                  model.safetensors in the current folder."
)]
pub struct TrainArgs {
    /// The data: a built-in set (digits, xor-table, circle, xor, gaussian, spiral, moons,
    /// plane, multi-gaussian), mnist:DIR (a folder of MNIST IDX files) or FILE.csv[.gz]
    /// [default: digits].
    #[arg(long, value_name = "SPEC")]
    pub data: Option<String>,

    /// CSV: the target column, by header name or 0-based index [default: the last column].
    #[arg(long, value_name = "NAME|INDEX")]
    pub target: Option<String>,

    /// CSV: columns to leave out of the features (IDs, dates, free text), by header name or
    /// 0-based index, comma-separated.
    #[arg(long, value_name = "COL,…", value_parser = parse_columns)]
    pub ignore: Option<ColumnList>,

    /// CSV: the only columns to use as features, by header name or 0-based index,
    /// comma-separated [default: every column but the target and --ignore's].
    #[arg(long, value_name = "COL,…", value_parser = parse_columns)]
    pub features: Option<ColumnList>,

    /// CSV: the first row is data, not a header (columns are then named column_0, …).
    #[arg(long)]
    pub no_header: bool,

    /// CSV: what to do with missing cells (empty, NA, N/A, NaN, null, ?) [default: error].
    #[arg(long, value_enum)]
    pub missing: Option<MissingArg>,

    /// CSV: the delimiter, one character: ',' ';' tab (or "tab") … [default: detected].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,

    /// Defaults to use instead of the data's own preset.
    #[arg(long, value_enum)]
    pub preset: Option<PresetName>,

    /// Read settings from a TOML file: keys are long flag names (`learning-rate = 0.01`,
    /// `layers = [64, 32]`, `data = "iris.csv"`); flags given here win.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,

    /// Where to save the trained model [default: model.safetensors].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Fine-tune: start from this model's weights, architecture and feature scaling.
    #[arg(long, value_name = "MODEL")]
    pub init_from: Option<PathBuf>,

    /// Rows to generate for the synthetic sets [default: 500].
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,

    /// Noise of the synthetic sets, 0 to 1 (0.5 is the playground's 50 %) [default: 0].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub noise: Option<f64>,

    /// Hidden layers: dense widths, e.g. 128,64 ("" or "none" for no hidden layer), after
    /// optional image layers: conv:FILTERS:KERNEL[:STRIDE[:same|valid]] (the --activation
    /// follows it), maxpool:SIZE, avgpool:SIZE, dropout:P, e.g.
    /// conv:20:5,maxpool:2,conv:40:5,maxpool:2,dropout:0.5,100. The image is flattened in
    /// (C, H, W) order before the first dense layer. dropout:P may also follow a dense width
    /// (128,dropout:0.5,64); every entry counts in the tensor names layers.{i}.
    #[arg(long, value_name = "LAYERS", value_parser = parse_layers, allow_hyphen_values = true)]
    pub layers: Option<HiddenLayers>,

    /// The shape of each input row as an image, CxHxW (e.g. 3x32x32): the CSV's feature
    /// columns hold the C planes one after another, each row-major. MNIST (1x28x28) and the
    /// built-in digits (1x8x8) know their shape. With it, --scale defaults to none.
    #[arg(long, value_name = "CxHxW", value_parser = parse_image_shape)]
    pub input_shape: Option<ImageShape>,

    /// Add shifted copies of the training images: shift (Nielsen's one-pixel shifts, five rows
    /// per image) or none [default: none]. Needs images (MNIST, digits or --input-shape).
    #[arg(long, value_enum)]
    pub augment: Option<AugmentArg>,

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

    /// SGD's dampening of the momentum buffer, in [0, 1] (sgd, momentum; nesterov needs 0)
    /// [default: 0, as PyTorch].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub dampening: Option<f64>,

    /// Adam's and AdamW's decay rates of the gradient's mean and of its square, B1,B2
    /// [default: 0.9,0.999, as PyTorch].
    #[arg(long, value_name = "B1,B2", value_parser = parse_betas)]
    pub betas: Option<(f64, f64)>,

    /// The ε added to the denominator of Adam, AdamW and RMSprop [default: 1e-8, as PyTorch].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub eps: Option<f64>,

    /// RMSprop's smoothing constant α of the squared-gradient average [default: 0.99, as
    /// PyTorch's `alpha`].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub rmsprop_alpha: Option<f64>,

    /// Centred RMSprop: divide by the gradient's estimated variance, not its raw second moment.
    #[arg(long)]
    pub centered: bool,

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
    /// exponential:GAMMA, cosine[:MIN_LR] (cosine anneals over all steps after the warm-up)
    /// [default: the preset's: cosine for mnist:, else constant].
    #[arg(long, value_name = "SPEC", value_parser = parse_schedule)]
    pub schedule: Option<ScheduleSpec>,

    /// Linear learning-rate warm-up, in optimisation steps.
    #[arg(long, value_name = "STEPS")]
    pub warmup: Option<u64>,

    /// Clip gradients to this global L2 norm before each step.
    #[arg(long, value_name = "NORM", allow_negative_numbers = true)]
    pub clip: Option<f64>,

    /// Take the training rows in the same order every epoch (their order after the splits)
    /// instead of a fresh seeded shuffle each epoch.
    #[arg(long)]
    pub no_shuffle: bool,

    /// Passes over the training data (the most, with early stopping); 0 saves the initialised,
    /// untrained model (to inspect, draw or export it; --json reports its metrics; --resume
    /// refuses it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
    pub epochs: Option<u64>,

    /// Examples per optimisation step [default: the preset's].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: Option<u64>,

    /// Seed for data generation, splits, initial weights, shuffles and dropout [default: 0].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Fraction of the data held out for testing (stratified, seeded); 0 tests on the
    /// training data; ignored by data with a test part of its own (mnist:) [default: 0.2].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub test_split: Option<f64>,

    /// Fraction of the training part held out for validation; 0 for none [default: the
    /// preset's: 0.2 for CSV files, else none].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub validation: Option<f64>,

    /// Stop after PATIENCE epochs without a lower validation loss, restoring the best weights
    /// (uses --validation 0.1 when no --validation is given); 0 turns it off [default: the
    /// preset's: 10 for CSV files, else off].
    #[arg(long, value_name = "PATIENCE")]
    pub early_stopping: Option<u64>,

    /// Feature scaling, fitted on the training part [default: standard; none for mnist:]; with
    /// --init-from it must match the model's own.
    #[arg(long, value_enum)]
    pub scale: Option<ScaleArg>,

    /// Regression targets: standardised for training (predictions mapped back to their units)
    /// or left as they are [default: standard].
    #[arg(long, value_enum, value_name = "HOW")]
    pub target_scale: Option<TargetScaleArg>,

    /// Worker threads [default: one per CPU].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub threads: Option<u64>,

    /// Cut every batch into S contiguous shards whose gradient sums are added over a fixed
    /// tree: the sums a data-parallel run (mpirun) makes, so that a single process equals it
    /// bit for bit [default: 8 under mpirun, else no shards].
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub shards: Option<u64>,

    /// Under mpirun, sum gradients with MPI_Allreduce instead of the fixed shard tree: faster,
    /// equal to one process within rounding, no longer bit for bit.
    #[arg(long)]
    pub fast_allreduce: bool,

    /// Under mpirun, how the ranks get the data: each reads it, or rank 0 reads it and
    /// broadcasts it [default: read].
    #[arg(long, value_enum, value_name = "HOW")]
    pub data_distribution: Option<DataDistributionArg>,

    /// What to do when the loss turns NaN or infinite or passes 1000 times its first value
    /// [default: stop].
    #[arg(long, value_enum, value_name = "POLICY")]
    pub on_divergence: Option<DivergenceArg>,

    /// Write a checkpoint every N epochs (and at the end), atomically, to --checkpoint.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub checkpoint_every: Option<u64>,

    /// Where checkpoints go; Ctrl-C and SIGTERM write one there too [default: the --out file
    /// with .checkpoint.safetensors for its extension].
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,

    /// Go on training from a checkpoint, with the data, settings and state it records. Takes
    /// no training flags but --epochs (the total, at least 1) and --out (besides --json, --log,
    /// -q, --threads, --checkpoint and --checkpoint-every).
    #[arg(long, value_name = "CHECKPOINT")]
    pub resume: Option<PathBuf>,

    /// Print one JSON object with the results on stdout at the end.
    #[arg(long)]
    pub json: bool,

    /// Write one JSON line per epoch to FILE as training goes.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,

    /// Print no progress bar and no per-epoch lines.
    #[arg(short, long)]
    pub quiet: bool,

    /// Print each layer's learning speed ‖δˡ‖, ‖∂C/∂wˡ‖ and saturated share after every epoch
    /// (on stderr).
    #[arg(long)]
    pub diagnostics: bool,

    /// Also write a training report: one self-contained HTML file with loss, accuracy,
    /// per-layer learning speed, saturation, the diagram, the confusion matrix on the test
    /// part and, for two features, the decision boundary.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use crate::args::{Cli, Command};
    use clap::Parser;

    #[test]
    fn flags_stay_unset_unless_given() {
        let cli = Cli::try_parse_from(["backprop", "train"]).unwrap();
        let Command::Train(arguments) = cli.command else {
            panic!("expected the train command")
        };
        assert!(arguments.data.is_none() && arguments.seed.is_none());
        assert!(arguments.layers.is_none() && arguments.epochs.is_none());
        assert!(!arguments.no_header && arguments.out.is_none());
    }

    #[test]
    fn csv_flags_parse() {
        let cli = Cli::try_parse_from([
            "backprop",
            "train",
            "--data",
            "x.csv",
            "--target",
            "2",
            "--no-header",
            "--missing",
            "mean",
            "--delimiter",
            "tab",
        ])
        .unwrap();
        let Command::Train(arguments) = cli.command else {
            panic!("expected the train command")
        };
        assert_eq!(arguments.delimiter, Some(b'\t'));
        assert_eq!(arguments.missing, Some(super::MissingArg::Mean));
        assert!(arguments.no_header);
    }
}
