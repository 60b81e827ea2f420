//! `--config FILE.toml`: the flags of `backprop train` as TOML keys.
//!
//! Keys are the long flag names, with `-` or `_` (`learning-rate = 0.01`,
//! `learning_rate = 0.01`). Values are strings, numbers, booleans (for switches such as
//! `quiet = true`) or arrays, joined with commas (`layers = [64, 32]` is `--layers 64,32`).
//! Each value goes through the same parser as the flag, so it is checked the same way; an error
//! names the file and the key. An unknown key is an error too. Relative paths in the file
//! (`data`, `out`, `log`, `init-from`) are relative to the current folder, as on the command
//! line.
//!
//! Flags given on the command line win over the file: [`merge`] keeps a command-line value and
//! takes the file's only where the flag was left out.

use crate::args::TrainArgs;
use crate::exit::CliError;
use clap::{CommandFactory, Parser};
use std::io::Read;
use std::path::Path;

/// The largest config file read: settings, not data.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// `backprop train`'s flags, parsed from tokens made of a config file's keys.
#[derive(Debug, Parser)]
#[command(name = "config", no_binary_name = true, disable_help_flag = true)]
struct FileFlags {
    #[command(flatten)]
    arguments: TrainArgs,
}

/// The command-line flags with the values of their `--config` file filled in, if one is named.
pub fn apply_config_file(arguments: TrainArgs) -> Result<TrainArgs, CliError> {
    match &arguments.config {
        Some(path) => {
            let from_file = read_config_file(path)?;
            Ok(merge(arguments, from_file))
        }
        None => Ok(arguments),
    }
}

/// Reads a config file into flags.
pub fn read_config_file(path: &Path) -> Result<TrainArgs, CliError> {
    let text = read_config_text(path)?;
    parse_config_text(&text, &path.display().to_string())
}

/// A config file's text (at most [`MAX_CONFIG_BYTES`]); a checkpoint keeps it, so that a
/// resumed run has the same settings even if the file changed since.
pub fn read_config_text(path: &Path) -> Result<String, CliError> {
    let file = path.display();
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|opened| opened.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text))
        .map_err(|error| CliError::usage(format!("cannot read config file {file}: {error}")))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(CliError::usage(format!(
            "config file {file} is larger than {MAX_CONFIG_BYTES} bytes"
        )));
    }
    Ok(text)
}

/// Flags from a config file's text; `file` names it in messages.
pub fn parse_config_text(text: &str, file: &str) -> Result<TrainArgs, CliError> {
    let table: toml::Table = text
        .parse()
        .map_err(|error| CliError::usage(format!("{file}: invalid TOML: {error}")))?;
    let command = FileFlags::command();
    let mut tokens: Vec<String> = Vec::new();
    for (key, value) in &table {
        let name = key.replace('_', "-");
        if name == "config" {
            return Err(CliError::usage(format!(
                "{file}: the key `{key}` is not allowed in a config file (config files do not nest)"
            )));
        }
        if name == "resume" {
            return Err(CliError::usage(format!(
                "{file}: the key `{key}` is not allowed in a config file; give --resume on the \
                 command line"
            )));
        }
        let Some(argument) = command
            .get_arguments()
            .find(|argument| argument.get_long() == Some(name.as_str()))
        else {
            return Err(CliError::usage(format!(
                "{file}: unknown key `{key}`; keys are the long flags of `backprop train` \
                 (see backprop train --help), such as data, layers, learning-rate, epochs"
            )));
        };
        let takes_value = argument.get_action().takes_values();
        let key_tokens = tokens_for(&name, value, takes_value)
            .map_err(|reason| CliError::usage(format!("{file}: `{key}`: {reason}")))?;
        FileFlags::try_parse_from(&key_tokens).map_err(|error| {
            CliError::usage(format!(
                "{file}: `{key}` = {value}: {}",
                clap_reason(&error)
            ))
        })?;
        tokens.extend(key_tokens);
    }
    FileFlags::try_parse_from(&tokens)
        .map(|flags| flags.arguments)
        .map_err(|error| CliError::usage(format!("{file}: {}", clap_reason(&error))))
}

/// The first line of a clap error, without its `error: ` prefix.
fn clap_reason(error: &clap::Error) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// The command-line tokens for one key: `--name VALUE`, or `--name` for a switch set to true.
fn tokens_for(name: &str, value: &toml::Value, takes_value: bool) -> Result<Vec<String>, String> {
    let flag = format!("--{name}");
    if !takes_value {
        return match value {
            toml::Value::Boolean(true) => Ok(vec![flag]),
            toml::Value::Boolean(false) => Ok(Vec::new()),
            other => Err(format!("expected true or false, found {other}")),
        };
    }
    let text = match value {
        toml::Value::Array(items) => items
            .iter()
            .map(scalar_text)
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        other => scalar_text(other)?,
    };
    // `--name=VALUE` keeps values that start with '-' from being read as flags.
    Ok(vec![format!("{flag}={text}")])
}

/// A string, number or boolean as the text a flag would take.
fn scalar_text(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Integer(number) => Ok(number.to_string()),
        toml::Value::Float(number) => Ok(number.to_string()),
        toml::Value::Boolean(flag) => Ok(flag.to_string()),
        other => Err(format!(
            "expected a string, a number or a list of them, found {other}"
        )),
    }
}

/// The command-line flags, with the file's values where a flag was left out.
///
/// Both structs are taken apart field by field without `..`, so a new flag that is not merged
/// here does not compile.
pub fn merge(command_line: TrainArgs, file: TrainArgs) -> TrainArgs {
    let TrainArgs {
        data,
        target,
        ignore,
        features,
        no_header,
        missing,
        delimiter,
        preset,
        config: _,
        out,
        init_from,
        samples,
        noise,
        layers,
        input_shape,
        augment,
        activation,
        cost,
        task,
        optimizer,
        learning_rate,
        momentum,
        dampening,
        betas,
        eps,
        rmsprop_alpha,
        centered,
        weight_decay,
        l2_nielsen,
        l1,
        dropout,
        init,
        schedule,
        warmup,
        clip,
        no_shuffle,
        epochs,
        batch_size,
        seed,
        test_split,
        validation,
        early_stopping,
        scale,
        target_scale,
        threads,
        shards,
        fast_allreduce,
        data_distribution,
        on_divergence,
        checkpoint_every,
        checkpoint,
        resume: _,
        json,
        log,
        quiet,
        diagnostics,
        report,
    } = file;
    TrainArgs {
        data: command_line.data.or(data),
        target: command_line.target.or(target),
        ignore: command_line.ignore.or(ignore),
        features: command_line.features.or(features),
        no_header: command_line.no_header || no_header,
        missing: command_line.missing.or(missing),
        delimiter: command_line.delimiter.or(delimiter),
        preset: command_line.preset.or(preset),
        config: command_line.config,
        out: command_line.out.or(out),
        init_from: command_line.init_from.or(init_from),
        samples: command_line.samples.or(samples),
        noise: command_line.noise.or(noise),
        layers: command_line.layers.or(layers),
        input_shape: command_line.input_shape.or(input_shape),
        augment: command_line.augment.or(augment),
        activation: command_line.activation.or(activation),
        cost: command_line.cost.or(cost),
        task: command_line.task.or(task),
        optimizer: command_line.optimizer.or(optimizer),
        learning_rate: command_line.learning_rate.or(learning_rate),
        momentum: command_line.momentum.or(momentum),
        dampening: command_line.dampening.or(dampening),
        betas: command_line.betas.or(betas),
        eps: command_line.eps.or(eps),
        rmsprop_alpha: command_line.rmsprop_alpha.or(rmsprop_alpha),
        centered: command_line.centered || centered,
        weight_decay: command_line.weight_decay.or(weight_decay),
        l2_nielsen: command_line.l2_nielsen.or(l2_nielsen),
        l1: command_line.l1.or(l1),
        dropout: command_line.dropout.or(dropout),
        init: command_line.init.or(init),
        schedule: command_line.schedule.or(schedule),
        warmup: command_line.warmup.or(warmup),
        clip: command_line.clip.or(clip),
        no_shuffle: command_line.no_shuffle || no_shuffle,
        epochs: command_line.epochs.or(epochs),
        batch_size: command_line.batch_size.or(batch_size),
        seed: command_line.seed.or(seed),
        test_split: command_line.test_split.or(test_split),
        validation: command_line.validation.or(validation),
        early_stopping: command_line.early_stopping.or(early_stopping),
        scale: command_line.scale.or(scale),
        target_scale: command_line.target_scale.or(target_scale),
        threads: command_line.threads.or(threads),
        shards: command_line.shards.or(shards),
        fast_allreduce: command_line.fast_allreduce || fast_allreduce,
        data_distribution: command_line.data_distribution.or(data_distribution),
        on_divergence: command_line.on_divergence.or(on_divergence),
        checkpoint_every: command_line.checkpoint_every.or(checkpoint_every),
        checkpoint: command_line.checkpoint.or(checkpoint),
        resume: command_line.resume,
        json: command_line.json || json,
        log: command_line.log.or(log),
        quiet: command_line.quiet || quiet,
        diagnostics: command_line.diagnostics || diagnostics,
        report: command_line.report.or(report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("run.toml");
        std::fs::write(&path, text).unwrap();
        (folder, path)
    }

    #[test]
    fn keys_become_flags() {
        let (_folder, path) = write(
            "data = \"iris.csv\"\nlayers = [64, 32]\nlearning_rate = 0.01\nquiet = true\n\
             epochs = 5\nnoise = -0.5\n",
        );
        let arguments = read_config_file(&path).unwrap();
        assert_eq!(arguments.data.as_deref(), Some("iris.csv"));
        assert_eq!(arguments.layers.unwrap().0, vec![64, 32]);
        assert_eq!(arguments.learning_rate, Some(0.01));
        assert_eq!(arguments.epochs, Some(5));
        assert_eq!(arguments.noise, Some(-0.5));
        assert!(arguments.quiet);
    }

    #[test]
    fn command_line_wins() {
        let file = TrainArgs {
            epochs: Some(5),
            seed: Some(3),
            ..TrainArgs::default()
        };
        let command_line = TrainArgs {
            epochs: Some(7),
            ..TrainArgs::default()
        };
        let merged = merge(command_line, file);
        assert_eq!((merged.epochs, merged.seed), (Some(7), Some(3)));
    }

    #[test]
    fn bad_keys_and_values_name_the_file_and_key() {
        for (text, expected) in [
            ("epoks = 3\n", "unknown key `epoks`"),
            ("batch-size = 0\n", "`batch-size`"),
            ("layers = \"3,x\"\n", "not a layer width"),
            ("quiet = 1\n", "expected true or false"),
            ("config = \"x.toml\"\n", "do not nest"),
            ("epochs = \n", "invalid TOML"),
        ] {
            let (_folder, path) = write(text);
            let error = read_config_file(&path).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{text}");
            let message = error.to_string();
            assert!(message.contains(expected), "{text}: {message}");
            assert!(message.contains("run.toml"), "{text}: {message}");
        }
    }
}
