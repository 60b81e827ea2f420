//! `backprop`: the command-line tool of the backprop workspace.
//!
//! `main` stays thin, in the manner of ripgrep: parse the arguments ([`args`]), turn them into
//! a typed plan ([`config`]), run the command ([`train`]), and map any error to an exit code
//! ([`exit`]): 0 success, 1 failure while running, 2 bad usage or bad input, 130/143 after
//! SIGINT/SIGTERM with a checkpoint written.

// Clap turns these doc comments into `--help` text, where `uniform[:LOW:HIGH]` is a usage
// pattern, not a rustdoc link.
#![allow(rustdoc::broken_intra_doc_links)]

mod args;
mod bench;
mod compare;
mod config;
mod csv_input;
mod csv_stream;
mod csv_text;
mod data;
mod distributed;
mod download;
mod draw;
mod evaluate;
mod exit;
mod explain;
mod figures;
mod gradcheck;
mod inspect;
mod inspect_history;
mod interrupt;
mod json;
mod labeled_data;
mod model_file;
mod optimizer;
mod output_file;
mod parse;
mod plot;
mod predict;
mod predict_output;
mod presets;
mod progress;
mod raster;
mod report;
mod report_command;
mod serve;
mod target_encoding;
mod train;
mod version;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Clap prints its own usage errors and exits with status 2.
    let cli = args::Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error @ exit::CliError::Interrupted { .. }) => {
            report::say(format_args!("{error}"));
            ExitCode::from(error.exit_code())
        }
        Err(error) => {
            report::say(format_args!("error: {error}"));
            ExitCode::from(error.exit_code())
        }
    }
}

/// Runs the chosen subcommand.
fn run(cli: args::Cli) -> Result<(), exit::CliError> {
    match cli.command {
        args::Command::Train(arguments) => train::start(*arguments),
        args::Command::Gradcheck(arguments) => gradcheck::run(&arguments),
        args::Command::Evaluate(arguments) => evaluate::run(&arguments),
        args::Command::Predict(arguments) => predict::run(&arguments),
        args::Command::Inspect(arguments) => inspect::run(&arguments),
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
