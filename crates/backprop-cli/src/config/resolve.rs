//! The parts of [`TrainPlan`](super::TrainPlan) that need a few rules: the data source and
//! which flags do not apply to it, the test split, validation and early stopping, and the flags
//! `--init-from` refuses, and the scaling it must match.

use super::{to_usize, EARLY_STOPPING_VALIDATION};
use crate::args::{MissingArg, TaskArg, TrainArgs};
use crate::data::DataSource;
use crate::exit::CliError;
use crate::presets::Preset;
use backprop_data::{CsvOptions, DataSpec, GenerateOptions, MissingPolicy, TaskHint};

/// Where the data comes from, with notes on flags that do not apply to it.
pub(super) fn data_source(
    spec: &DataSpec,
    arguments: &TrainArgs,
    seed: u64,
    notes: &mut Vec<String>,
) -> DataSource {
    let csv_flags = arguments.target.is_some()
        || arguments.ignore.is_some()
        || arguments.features.is_some()
        || arguments.no_header
        || arguments.missing.is_some()
        || arguments.delimiter.is_some();
    if csv_flags && !matches!(spec, DataSpec::Csv(_)) {
        notes.push(format!(
            "--target, --ignore, --features, --no-header, --missing and --delimiter only \
             apply to CSV files; {spec} is not one"
        ));
    }
    let generated = matches!(spec, DataSpec::BuiltIn(builtin) if builtin.is_generated());
    if !generated && (arguments.samples.is_some() || arguments.noise.is_some()) {
        notes.push(format!(
            "--samples and --noise only apply to generated sets; {spec} is fixed"
        ));
    }
    match spec {
        DataSpec::BuiltIn(builtin) => DataSource::BuiltIn {
            builtin: *builtin,
            generate: GenerateOptions {
                samples: arguments
                    .samples
                    .unwrap_or(GenerateOptions::default().samples),
                noise: arguments.noise.unwrap_or(GenerateOptions::default().noise),
                seed,
            },
        },
        DataSpec::Mnist(folder) => DataSource::Mnist(folder.clone()),
        DataSpec::Csv(path) => DataSource::Csv {
            path: path.clone(),
            options: CsvOptions {
                target: arguments
                    .target
                    .as_deref()
                    .and_then(|target| target.parse().ok()),
                has_header: !arguments.no_header,
                delimiter: arguments.delimiter,
                missing: match arguments.missing {
                    None | Some(MissingArg::Error) => MissingPolicy::Error,
                    Some(MissingArg::Drop) => MissingPolicy::Drop,
                    Some(MissingArg::Mean) => MissingPolicy::Mean,
                },
                task: arguments.task.map(|task| match task {
                    TaskArg::Classify => TaskHint::Classify,
                    TaskArg::Regress => TaskHint::Regress,
                }),
                ignore: arguments
                    .ignore
                    .as_ref()
                    .map(|columns| columns.0.clone())
                    .unwrap_or_default(),
                features: arguments.features.as_ref().map(|columns| columns.0.clone()),
            },
        },
    }
}

/// The test fraction: none for data with a test part of its own or for tiny tables.
pub(super) fn test_split(
    source: &DataSource,
    arguments: &TrainArgs,
    preset: &Preset,
    spec: &str,
    notes: &mut Vec<String>,
) -> Option<f64> {
    if matches!(source, DataSource::Mnist(_)) {
        if arguments.test_split.is_some() {
            notes.push(format!(
                "{spec} has a test part of its own (the t10k files); --test-split is ignored"
            ));
        }
        return None;
    }
    match arguments.test_split {
        Some(0.0) => {
            notes.push(
                "--test-split 0: no test part; the final metrics are on the training data".into(),
            );
            None
        }
        Some(fraction) => Some(fraction),
        None if preset.test_split.is_none() && source.is_tiny_table() => {
            notes.push(format!(
                "{spec} has only 4 rows: it is both the training and the test set \
                 (no test split)"
            ));
            None
        }
        None => Some(
            preset
                .test_split
                .unwrap_or(crate::presets::DEFAULT_TEST_SPLIT),
        ),
    }
}

/// The validation fraction and early-stopping patience; 0 turns either off.
pub(super) fn validation_and_patience(
    arguments: &TrainArgs,
    preset: &Preset,
    notes: &mut Vec<String>,
) -> Result<(Option<f64>, Option<usize>), CliError> {
    let validation = arguments
        .validation
        .or(preset.validation)
        .filter(|&fraction| fraction != 0.0);
    let early_stopping = arguments
        .early_stopping
        .or(preset.early_stopping)
        .filter(|&patience| patience > 0)
        .map(to_usize);
    match (early_stopping, validation, arguments.validation) {
        (Some(_), None, Some(_)) if arguments.early_stopping.is_some() => Err(CliError::usage(
            "--early-stopping needs validation data; leave out --validation 0",
        )),
        (Some(_), None, Some(_)) => {
            notes.push("--validation 0: no early stopping".into());
            Ok((None, None))
        }
        (Some(_), None, None) => {
            notes.push(format!(
                "--early-stopping needs validation data: holding out {}% of the training part \
                 (--validation {EARLY_STOPPING_VALIDATION})",
                EARLY_STOPPING_VALIDATION * 100.0
            ));
            Ok((Some(EARLY_STOPPING_VALIDATION), early_stopping))
        }
        _ => Ok((validation, early_stopping)),
    }
}

/// `--init-from` takes the architecture and scaling from the model.
pub(super) fn check_init_from_conflicts(arguments: &TrainArgs) -> Result<(), CliError> {
    let given = [
        ("--layers", arguments.layers.is_some()),
        ("--activation", arguments.activation.is_some()),
        ("--cost", arguments.cost.is_some()),
        ("--init", arguments.init.is_some()),
    ];
    match given.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(CliError::usage(format!(
            "{flag} cannot be used with --init-from: the architecture and cost come from the \
             model"
        ))),
        None => Ok(()),
    }
}

/// `--scale` and `--target-scale` with `--init-from`: the model's stored scalers are used, so a
/// flag is only accepted when it says what they are.
pub fn check_scaling_matches(
    plan: &super::TrainPlan,
    model: &backprop::Model,
    path: &std::path::Path,
) -> Result<(), CliError> {
    let stored = &model.metadata.preprocessing;
    let stored_inputs = stored
        .input_scaler
        .as_ref()
        .map_or("none", |scaler| scaler.kind.as_str());
    if let Some(asked) = plan.scale_flag {
        if asked.name() != stored_inputs {
            return Err(CliError::usage(format!(
                "--scale {} does not match {}, whose features are scaled {stored_inputs}; leave \
                 out --scale (fine-tuning keeps the model's scaling)",
                asked.name(),
                path.display()
            )));
        }
    }
    if let Some(standardize) = plan.target_scale_flag {
        let stored_targets = stored.target_scaler.is_some();
        if standardize != stored_targets {
            let name = |standard: bool| if standard { "standard" } else { "none" };
            return Err(CliError::usage(format!(
                "--target-scale {} does not match {}, whose targets are scaled {}; leave out \
                 --target-scale (fine-tuning keeps the model's scaling)",
                name(standardize),
                path.display(),
                name(stored_targets)
            )));
        }
    }
    Ok(())
}
