//! `backprop`: the command-line tool of the backprop workspace. Everything but argument
//! parsing and the exit code lives in the library, `backprop_cli`.

#![forbid(unsafe_code)]

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Clap prints its own usage errors and exits with status 2.
    let cli = backprop_cli::args::Cli::parse();
    match backprop_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            backprop_cli::report_error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}
