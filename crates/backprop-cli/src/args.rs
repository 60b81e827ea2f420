//! The command-line grammar: subcommands and their flags, as clap derive definitions.
//!
//! The flags of `backprop train` live in [`TrainArgs`]: every training flag is optional and
//! stays `None` when not given, so that a `--config` file and the data set's preset (the
//! crate's `presets` module) can fill it in.

use clap::{Parser, Subcommand};

mod train;

pub use train::{
    AugmentArg, DataDistributionArg, DivergenceArg, MissingArg, OptimizerKind, PresetName,
    ScaleArg, TargetScaleArg, TaskArg, TrainArgs,
};

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
    /// Compare backprop's gradients with finite differences, layer by layer, on a fresh network
    /// or a model file.
    Gradcheck(crate::gradcheck::GradcheckArgs),
    /// Score a model on labelled data: accuracy, per-class scores and confusion matrix, or
    /// MSE, MAE and R².
    Evaluate(crate::evaluate::EvaluateArgs),
    /// Predict with a model: CSV (file or stdin) or IDX images in, CSV or JSON out.
    Predict(crate::predict::PredictArgs),
    /// Show what a model or checkpoint file holds: architecture, provenance, history.
    Inspect(crate::inspect::InspectArgs),
    /// Write a model out for where backprop does not run: a dependency-free C99 header.
    Export(crate::export::ExportArgs),
    /// One training step told in numbers and words: the company network (2 salespeople,
    /// 3 managers, 1 CEO), or any model for one example.
    Explain(crate::explain::ExplainArgs),
    /// Draw a network as SVG or PNG: line width proportional to |w|, colour by sign.
    Draw(crate::draw::DrawArgs),
    /// Brute force against backprop, measured here and extrapolated.
    Compare(crate::compare::CompareArgs),
    /// Training and inference throughput on synthetic MNIST-shaped data: samples/s, GFLOP/s
    /// and the fraction of a measured sgemm peak.
    Bench(crate::bench::BenchArgs),
    /// Write a model's training report: one self-contained HTML file with its plots.
    Report(crate::report_command::ReportArgs),
    /// Write the report's pictures as SVG or PNG files: loss, accuracy, learning speed,
    /// saturation, diagram, confusion matrix, decision boundary, hidden neurons.
    Plot(crate::plot::PlotArgs),
    /// Data sets: download MNIST or Fashion-MNIST.
    Data(crate::download::DataArgs),
    /// The playground: a web page that trains a small network live (http://127.0.0.1:8080/).
    Serve(crate::serve::ServeArgs),
    /// Print a shell completion script: `backprop completions bash > /etc/bash_completion.d/backprop`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
