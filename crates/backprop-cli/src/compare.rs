//! `backprop compare`: brute force against backprop, measured here and extrapolated.
//!
//! Runs the library's [`compare`] (all weight combinations, one weight at a time, and
//! backpropagation on XOR and the company network), prints the table on stdout (coloured only
//! on a terminal without `NO_COLOR`), or one JSON object with `--json`, and with `--plot` writes
//! the plot of time against the number of weights atomically (SVG or PNG by the extension). `--quick` uses the smaller
//! settings of [`CompareConfig::quick`].

use crate::exit::CliError;
use crate::output_file::print_stdout_line;
use crate::raster::{write_picture, PictureFormat};
use crate::report::say;
use backprop_teach::{compare, compare_plot_svg, CompareConfig};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Flags of `backprop compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Smaller searches and shorter timings: a fraction of a second instead of a few seconds
    /// (release build; a debug build is several times slower).
    #[arg(long)]
    pub quick: bool,
    /// Print the measurements as one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write the plot of time against number of weights (log scales) to this file
    /// (.svg or .png).
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    pub plot: Option<PathBuf>,
}

/// Said on stderr by builds with debug assertions.
pub const UNOPTIMISED_NOTE: &str = "note: an unoptimised (debug) build: its timings, the backprop step's most, are slower than a --release build's";

/// Runs `backprop compare`.
pub fn run(arguments: &CompareArgs) -> Result<(), CliError> {
    if let Some(path) = &arguments.plot {
        PictureFormat::of(path, "--plot")?;
    }
    if cfg!(debug_assertions) {
        // Measured: 784-30-10's backprop step takes ~28 µs in a dev build against ~3.3 µs in a
        // release build (its forward pass 1.5 µs against 1.4 µs): the ratio the table teaches
        // only holds for optimised code.
        say(UNOPTIMISED_NOTE);
    }
    let config = if arguments.quick {
        CompareConfig::quick()
    } else {
        CompareConfig::default()
    };
    // The settings are the library's own, so a failure is one while running.
    let report =
        compare(&config).map_err(|error| CliError::Runtime(format!("compare failed: {error}")))?;
    if let Some(path) = &arguments.plot {
        write_picture(path, &compare_plot_svg(&report), "--plot")?;
    }
    if arguments.json {
        print_stdout_line(report.to_json())
    } else {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        print_stdout_line(report.render_text(colour).trim_end())
    }
}
