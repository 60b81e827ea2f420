//! `backprop data download mnist|fashion-mnist --to DIR`: the public IDX files, verified by
//! SHA-256 ([`backprop_data::download`]), with progress on stderr.
//!
//! Each file is streamed into a temporary file in DIR, hashed, and renamed to its final name
//! only when the hash matches; a file already present with the right hash is kept. Exit codes:
//! 0 when every file is in place; 1 when a download fails (network, HTTP status, truncated
//! body, **wrong SHA-256**, or a folder that cannot be written) — a failure while running, since
//! the user's command was right; 2 for bad usage (clap's checks).
//!
//! The hidden flag `--mirror URL` (repeatable) replaces the built-in base URLs, for tests
//! against a local server and for private mirrors.

use crate::exit::CliError;
use crate::report::say;
use backprop_data::download::{DownloadEvent, DownloadOptions};
use backprop_data::{download, DataError, RemoteDataset};
use clap::{Args, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// Flags of `backprop data`.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DataCommand,
}

/// The subcommands of `backprop data`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download MNIST or Fashion-MNIST (four IDX .gz files), verified by SHA-256; then train
    /// with --data mnist:DIR.
    Download(DownloadArgs),
}

/// The data sets `data download` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DownloadName {
    /// MNIST handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST.
    FashionMnist,
}

/// Flags of `backprop data download`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The data set.
    #[arg(value_enum)]
    pub dataset: DownloadName,
    /// The folder to save the files in (created if missing).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// A base URL to download from instead of the built-in mirrors (repeatable, tried in order).
    #[arg(long, value_name = "URL", hide = true)]
    pub mirror: Vec<String>,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Runs `backprop data …`.
pub fn run(arguments: &DataArgs) -> Result<(), CliError> {
    match &arguments.command {
        DataCommand::Download(download) => run_download(download),
    }
}

/// Runs `backprop data download`.
fn run_download(arguments: &DownloadArgs) -> Result<(), CliError> {
    let dataset = match arguments.dataset {
        DownloadName::Mnist => RemoteDataset::Mnist,
        DownloadName::FashionMnist => RemoteDataset::FashionMnist,
    };
    let quiet = arguments.quiet;
    let terminal = std::io::stderr().is_terminal();
    // The last tenth of a file reported, so that a non-terminal gets a few lines, not thousands.
    let reported = Mutex::new(None::<(String, u64)>);
    let progress = move |event: &DownloadEvent<'_>| {
        if quiet {
            return;
        }
        match event {
            DownloadEvent::Skipped { file, .. } => {
                say(format_args!("{file}: already present and verified"))
            }
            DownloadEvent::Started { file, url } => {
                say(format_args!("{file}: downloading from {url}"))
            }
            DownloadEvent::Progress {
                file,
                received,
                total,
            } => {
                let Some(total) = total.filter(|&total| total > 0) else {
                    return;
                };
                let tenth = received * 10 / total;
                let mut last = reported
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if last
                    .as_ref()
                    .is_some_and(|(name, seen)| name == file && *seen == tenth)
                {
                    return;
                }
                *last = Some((file.to_string(), tenth));
                let percent = received * 100 / total;
                if terminal {
                    let _ = write!(
                        std::io::stderr(),
                        "\r{file}: {percent:>3}% of {total} bytes"
                    );
                    if *received >= total {
                        let _ = writeln!(std::io::stderr());
                    }
                } else if tenth > 0 {
                    say(format_args!("{file}: {percent}% of {total} bytes"));
                }
            }
            DownloadEvent::MirrorFailed { file, url, error } => say(format_args!(
                "{file}: {url} failed: {error}; trying the next mirror"
            )),
            DownloadEvent::Saved { file, path } => say(format_args!(
                "{file}: verified, saved as {}",
                path.display()
            )),
        }
    };
    let options = DownloadOptions {
        base_urls_override: (!arguments.mirror.is_empty()).then(|| arguments.mirror.clone()),
        progress: Some(Box::new(progress)),
    };
    let paths = download(dataset, &arguments.to, &options).map_err(download_error)?;
    if !quiet {
        say(format_args!(
            "{dataset}: {} files verified in {}:",
            paths.len(),
            arguments.to.display()
        ));
        for path in &paths {
            say(format_args!("  {}", path.display()));
        }
        say(format_args!(
            "train on them with: backprop train --data mnist:{}",
            arguments.to.display()
        ));
    }
    Ok(())
}

/// Every download failure is a failure while running (exit 1): the data set name and flags
/// were checked by clap already.
fn download_error(error: DataError) -> CliError {
    CliError::Runtime(format!("download failed: {error}"))
}
