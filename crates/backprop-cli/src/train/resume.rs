//! `backprop train --resume CHECKPOINT`: the run a checkpoint records, rebuilt.
//!
//! - The checkpoint keeps the training flags as they were given and the `--config` file's text
//!   ([`Recipe`]); they are parsed again here, so the plan is the one the run started with.
//! - Only `--epochs` (the new total) and `--out` may change, besides the flags that do not touch
//!   the weights: `--json`, `--log`, `-q`, `--threads`, `--checkpoint`, `--checkpoint-every`,
//!   and under MPI `--fast-allreduce` and `--data-distribution`. Any other flag is refused
//!   (exit 2).
//! - Checkpoints of the resumed run go to the file it resumed from, unless `--checkpoint`
//!   names another; one is written at the end too, so the run can be extended again.
//! - The data is loaded again from the recorded source; [`check_data_hash`] refuses data whose
//!   SHA-256 differs from the recorded one.

use super::options::{Recipe, RunOptions, RECIPE_KEY};
use crate::args::{Cli, TrainArgs};
use crate::config::file::{merge, parse_config_text};
use crate::config::{to_usize, TrainPlan};
use crate::exit::CliError;
use backprop::model::Model;
use backprop::train::checkpoint::{checkpoint_from, Checkpoint};
use clap::parser::ValueSource;
use clap::{CommandFactory, Parser};
use std::path::Path;

/// The flags `--resume` accepts, by clap id.
const ALLOWED_WITH_RESUME: [&str; 11] = [
    "resume",
    "fast_allreduce",
    "data_distribution",
    "epochs",
    "out",
    "json",
    "log",
    "quiet",
    "threads",
    "checkpoint",
    "checkpoint_every",
];

/// The recorded training flags, parsed as `backprop train` parses them.
#[derive(Debug, Parser)]
#[command(name = "train", no_binary_name = true)]
struct RecordedFlags {
    #[command(flatten)]
    arguments: TrainArgs,
}

/// A run rebuilt from its checkpoint.
pub struct Resumed {
    /// The plan of the original run, with this command's output flags.
    pub plan: TrainPlan,
    /// Checkpoints and divergence handling.
    pub options: RunOptions,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The epochs to reach in all.
    pub total_epochs: usize,
}

/// Reads the checkpoint `arguments.resume` names and rebuilds its run.
pub fn prepare(arguments: TrainArgs) -> Result<Resumed, CliError> {
    refuse_training_flags(&arguments)?;
    let path = arguments.resume.clone().unwrap_or_default();
    let source = path.display().to_string();
    let (model, extras) = Model::load_with_extras(&path)
        .map_err(|error| CliError::usage(format!("--resume: {error}")))?;
    let checkpoint = checkpoint_from(model, extras, &source)
        .map_err(|error| CliError::usage(format!("--resume: {error}")))?;
    let recipe_json = checkpoint
        .model
        .metadata
        .extra
        .get(RECIPE_KEY)
        .ok_or_else(|| {
            CliError::usage(format!(
                "--resume: {source} has a training state but no `{RECIPE_KEY}` record of its \
                 settings; it was not written by backprop train"
            ))
        })?;
    let recipe = Recipe::from_json(recipe_json, &source)?;
    let mut recorded = RecordedFlags::try_parse_from(&recipe.arguments)
        .map_err(|error| {
            let text = error.to_string();
            let first = text.lines().next().unwrap_or_default().to_string();
            CliError::usage(format!("--resume: {source}: its recorded flags: {first}"))
        })?
        .arguments;
    if let Some((name, text)) = &recipe.config_file {
        let from_file = parse_config_text(text, &format!("{name} (as recorded in {source})"))?;
        recorded = merge(recorded, from_file);
    }
    recorded.config = None;
    recorded.resume = None;
    recorded.out = arguments.out.or(recorded.out);
    recorded.json = arguments.json;
    recorded.log = arguments.log;
    recorded.quiet = arguments.quiet;
    recorded.threads = arguments.threads.or(recorded.threads);
    // How ranks sum is a choice of this run, not of the recorded one.
    recorded.fast_allreduce = arguments.fast_allreduce;
    recorded.data_distribution = arguments.data_distribution;
    recorded.checkpoint_every = arguments.checkpoint_every.or(recorded.checkpoint_every);
    recorded.checkpoint = Some(arguments.checkpoint.unwrap_or_else(|| path.clone()));
    let mut options = RunOptions::from_args(&recorded, recipe);
    let plan = TrainPlan::from_args(recorded)?;
    let done = checkpoint.state.epoch;
    let total_epochs = arguments
        .epochs
        .map(to_usize)
        .or(options.recipe.total_epochs)
        .unwrap_or(plan.epochs);
    if total_epochs == 0 {
        return Err(CliError::usage(format!(
            "--resume cannot take --epochs 0: a resumed run goes on training, and {source} \
             already holds its model (backprop inspect {source} shows it)"
        )));
    }
    if total_epochs < done {
        return Err(CliError::usage(format!(
            "--epochs {total_epochs} is fewer than the {done} epochs {source} has already done"
        )));
    }
    options.recipe.total_epochs = Some(total_epochs);
    options.checkpoints_requested = true;
    Ok(Resumed {
        plan,
        options,
        checkpoint,
        total_epochs,
    })
}

/// Refuses training flags next to `--resume`; they were fixed when the run started.
fn refuse_training_flags(arguments: &TrainArgs) -> Result<(), CliError> {
    let command = Cli::command();
    let flags: Vec<String> = command
        .find_subcommand("train")
        .map(|train| {
            train
                .get_arguments()
                .map(|argument| argument.get_id().to_string())
                .collect()
        })
        .unwrap_or_default();
    let Ok(matches) = command.try_get_matches_from(std::env::args_os()) else {
        return Ok(());
    };
    let Some(("train", train)) = matches.subcommand() else {
        return Ok(());
    };
    // Only arguments: clap also lists the flattened group's id.
    let refused: Vec<String> = train
        .ids()
        .map(|id| id.as_str())
        .filter(|id| flags.iter().any(|flag| flag == id))
        .filter(|id| train.value_source(id) == Some(ValueSource::CommandLine))
        .filter(|id| !ALLOWED_WITH_RESUME.contains(id))
        .map(|id| format!("--{}", id.replace('_', "-")))
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "--resume takes no training flags but --epochs (the total) and --out (and --json, --log, \
         -q, --threads, --checkpoint, --checkpoint-every): {} cannot change a run that {} \
         records",
        refused.join(", "),
        arguments
            .resume
            .as_deref()
            .unwrap_or(Path::new("the checkpoint"))
            .display()
    )))
}

/// Refuses data whose training part's SHA-256 differs from the checkpoint's.
pub fn check_data_hash(checkpoint: &Checkpoint, found: &str, spec: &str) -> Result<(), CliError> {
    let recorded = &checkpoint.model.metadata.data.sha256;
    if recorded != found {
        return Err(CliError::usage(format!(
            "--resume: the data {spec} has changed since the checkpoint was written: its \
             training part's SHA-256 is {found}, the checkpoint recorded {recorded}"
        )));
    }
    Ok(())
}
