//! The library behind the `backprop` command-line tool: every subcommand, from parsing to
//! output, so that the binary stays a thin `main` and other programs (tests, fuzzers) can call
//! the same code.
//!
//! The flow, in the manner of ripgrep: [`args`] parses the command line (clap), the commands
//! turn their flags into a typed plan and run it, and every failure is an [`exit::CliError`]
//! whose variant decides the exit code: 0 success, 1 failure while running, 2 bad usage or bad
//! input, 130/143 after SIGINT/SIGTERM with a checkpoint written. [`run`] runs one parsed
//! command line; [`report_error`] prints a failure as the binary does.
//!
//! The data work itself is not here: loading and the tabular preprocessing (cell rules,
//! encoding, missing values, scaling, reading a CSV for a model) live in `backprop_data`, the
//! networks and model files in `backprop`. This crate puts them together and words the
//! results for a terminal.
//!
//! ```no_run
//! use clap::Parser;
//!
//! let cli = backprop_cli::args::Cli::parse_from(["backprop", "inspect", "model.safetensors"]);
//! if let Err(error) = backprop_cli::run(cli) {
//!     backprop_cli::report_error(&error);
//!     std::process::exit(i32::from(error.exit_code()));
//! }
//! ```

// Clap turns these doc comments into `--help` text, where `uniform[:LOW:HIGH]` is a usage
// pattern, not a rustdoc link.
#![allow(rustdoc::broken_intra_doc_links)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod args;
mod bench;
mod compare;
mod config;
mod data;
mod distributed;
mod download;
mod draw;
mod evaluate;
pub mod exit;
mod explain;
mod explain_batch;
mod explain_conv;
mod export;
mod figures;
mod gradcheck;
mod inspect;
mod inspect_history;
mod interrupt;
mod json;
mod labeled_data;
mod lbfgs;
mod model_file;
mod optimizer;
mod output_file;
pub mod parse;
mod plot;
mod predict;
mod predict_output;
mod presets;
mod progress;
mod raster;
mod report;
mod report_command;
mod serve;
mod train;
mod version;

/// Runs the chosen subcommand.
pub fn run(cli: args::Cli) -> Result<(), exit::CliError> {
    match cli.command {
        args::Command::Train(arguments) => train::start(*arguments),
        args::Command::Gradcheck(arguments) => gradcheck::run(&arguments),
        args::Command::Evaluate(arguments) => evaluate::run(&arguments),
        args::Command::Predict(arguments) => predict::run(&arguments),
        args::Command::Inspect(arguments) => inspect::run(&arguments),
        args::Command::Export(arguments) => export::run(&arguments),
        args::Command::Explain(arguments) => explain::run(&arguments),
        args::Command::Draw(arguments) => draw::run(&arguments),
        args::Command::Compare(arguments) => compare::run(&arguments),
        args::Command::Bench(arguments) => bench::run_command(&arguments),
        args::Command::Report(arguments) => report_command::run(&arguments),
        args::Command::Plot(arguments) => plot::run(&arguments),
        args::Command::Data(arguments) => download::run(&arguments),
        args::Command::Serve(arguments) => serve::run(&arguments),
        args::Command::Completions { shell } => {
            let mut command = <args::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "backprop", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// Prints a failure on stderr as the binary does: `error: …`, except after an interruption,
/// whose message says itself what happened (and ranks of an MPI run other than 0 print
/// nothing but their errors).
pub fn report_error(error: &exit::CliError) {
    match error {
        exit::CliError::Interrupted { .. } => report::say(format_args!("{error}")),
        _ => report::say(format_args!("error: {error}")),
    }
}
