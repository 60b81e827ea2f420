//! The flags of `backprop train` that decide how a run survives, not what it learns:
//! `--checkpoint-every`, `--checkpoint`, `--on-divergence`, and the recipe a checkpoint keeps so
//! that `--resume` can rebuild the run (the training flags as given, the `--config` file's text,
//! the total number of epochs).

use crate::args::{DivergenceArg, TrainArgs};
use crate::config::{file, to_usize, DEFAULT_MODEL_FILE};
use crate::exit::CliError;
use backprop::train::DivergencePolicy;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The metadata key under which a checkpoint keeps its [`Recipe`].
pub const RECIPE_KEY: &str = "resume";

/// The extension a default checkpoint path gets in place of the model file's.
pub const CHECKPOINT_EXTENSION: &str = "checkpoint.safetensors";

/// How a run is rebuilt: `backprop train`'s arguments as given, and the `--config` file's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Recipe {
    /// The arguments after `train`.
    pub arguments: Vec<String>,
    /// The `--config` file's name and text, when there was one.
    pub config_file: Option<(String, String)>,
    /// The epochs the run aims for in all (a resume with `--epochs` moves it).
    pub total_epochs: Option<usize>,
}

impl Recipe {
    /// The recipe of this process's `backprop train` command line.
    pub fn from_command_line(arguments: &TrainArgs) -> Result<Self, CliError> {
        let given: Vec<String> = std::env::args_os()
            .skip(1)
            .skip_while(|argument| argument != "train")
            .skip(1)
            .map(|argument| argument.to_string_lossy().into_owned())
            .collect();
        let config_file = match &arguments.config {
            Some(path) => Some((path.display().to_string(), file::read_config_text(path)?)),
            None => None,
        };
        Ok(Self {
            arguments: given,
            config_file,
            total_epochs: None,
        })
    }

    /// As JSON for the checkpoint's metadata.
    pub fn to_json(&self) -> Value {
        json!({
            "arguments": self.arguments,
            "config_file": self.config_file.as_ref().map(|(name, text)| json!({"name": name, "text": text})),
            "total_epochs": self.total_epochs,
        })
    }

    /// Back from [`Recipe::to_json`]; `source` names the checkpoint in messages.
    pub fn from_json(value: &Value, source: &str) -> Result<Self, CliError> {
        let bad = |what: &str| {
            CliError::usage(format!(
                "{source}: the checkpoint's `{RECIPE_KEY}` field {what}; it was not written by \
                 backprop train"
            ))
        };
        let arguments = value
            .get("arguments")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("has no argument list"))?
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("has an argument that is not text"))?;
        let config_file = match value.get("config_file") {
            None | Some(Value::Null) => None,
            Some(entry) => {
                let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
                Some(
                    text("name")
                        .zip(text("text"))
                        .ok_or_else(|| bad("has a config file without name or text"))?,
                )
            }
        };
        let total_epochs = value
            .get("total_epochs")
            .and_then(Value::as_u64)
            .map(to_usize);
        Ok(Self {
            arguments,
            config_file,
            total_epochs,
        })
    }
}

/// Checkpoints and divergence handling for one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOptions {
    /// Where checkpoints go.
    pub checkpoint: PathBuf,
    /// True when checkpoints were asked for (`--checkpoint` or `--checkpoint-every`): then one
    /// is also written at the end.
    pub checkpoints_requested: bool,
    /// Write one every this many epochs.
    pub checkpoint_every: Option<usize>,
    /// What to do on divergence.
    pub divergence: DivergencePolicy,
    /// How to rebuild the run.
    pub recipe: Recipe,
}

impl RunOptions {
    /// The options of merged flags (command line and config file).
    pub fn from_args(arguments: &TrainArgs, recipe: Recipe) -> Self {
        let model = arguments
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_MODEL_FILE));
        Self {
            checkpoint: arguments
                .checkpoint
                .clone()
                .unwrap_or_else(|| default_checkpoint_path(&model)),
            checkpoints_requested: arguments.checkpoint.is_some()
                || arguments.checkpoint_every.is_some(),
            checkpoint_every: arguments.checkpoint_every.map(to_usize),
            divergence: match arguments.on_divergence {
                None | Some(DivergenceArg::Stop) => DivergencePolicy::Stop,
                Some(DivergenceArg::RestoreAndHalve) => DivergencePolicy::restore_and_halve(),
            },
            recipe,
        }
    }

    /// Checks before training that checkpoints can be written: a folder that exists, and not
    /// the model file itself.
    pub fn check(&self, model: &Path) -> Result<(), CliError> {
        if self.checkpoint == model {
            return Err(CliError::usage(format!(
                "--checkpoint {} is the --out file; give the checkpoint a name of its own",
                model.display()
            )));
        }
        if self.checkpoint.is_dir() {
            return Err(CliError::usage(format!(
                "--checkpoint {} is a folder; give a file name",
                self.checkpoint.display()
            )));
        }
        let folder = self
            .checkpoint
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !folder.is_dir() {
            return Err(CliError::usage(format!(
                "cannot write checkpoints to {}: the folder {} does not exist",
                self.checkpoint.display(),
                folder.display()
            )));
        }
        Ok(())
    }
}

/// `model.safetensors` → `model.checkpoint.safetensors`; `run/net` → `run/net.checkpoint.safetensors`.
pub fn default_checkpoint_path(model: &Path) -> PathBuf {
    model.with_extension(CHECKPOINT_EXTENSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_checkpoints_sit_beside_the_model() {
        assert_eq!(
            default_checkpoint_path(Path::new("model.safetensors")),
            PathBuf::from("model.checkpoint.safetensors")
        );
        assert_eq!(
            default_checkpoint_path(Path::new("runs/net")),
            PathBuf::from("runs/net.checkpoint.safetensors")
        );
    }

    #[test]
    fn recipes_round_trip_and_bad_ones_are_named() {
        let recipe = Recipe {
            arguments: vec!["--data".into(), "moons".into()],
            config_file: Some(("run.toml".into(), "epochs = 3\n".into())),
            total_epochs: Some(12),
        };
        let back = Recipe::from_json(&recipe.to_json(), "ck").unwrap();
        assert_eq!(back, recipe);
        let error = Recipe::from_json(&json!({"arguments": [1]}), "ck.safetensors").unwrap_err();
        assert!(error.to_string().contains("ck.safetensors"), "{error}");
        assert_eq!(error.exit_code(), 2);
    }
}
