//! Data for training: resolving `--data`, loading, the test and validation splits, feature
//! scaling fitted on the training part, and target encoding.
//!
//! - Classification targets are one-hot rows, except binary cross-entropy on two classes,
//!   which trains one sigmoid unit on the label itself (0 or 1).
//! - Regression targets are standardised with a [`TargetScaler`] fitted on the training part;
//!   the original values are kept so that test metrics can be reported in the targets' units.

use crate::config::TrainPlan;
use crate::exit::CliError;
use backprop::train::Task;
use backprop::{Cost, Matrix};
use backprop_data::{
    train_test_split, train_validation_split, BuiltIn, Dataset, Scaler, TargetScaler, Targets,
};

/// One part of the data, ready for the network.
#[derive(Clone, Debug)]
pub struct Part {
    /// Scaled features, one example per row.
    pub features: Matrix<f32>,
    /// Training targets: one-hot, 0/1 labels, or standardised values.
    pub targets: Matrix<f32>,
    /// Regression targets in their original units.
    pub values: Option<Matrix<f32>>,
}

impl Part {
    /// Number of examples.
    pub fn rows(&self) -> usize {
        self.features.rows()
    }
}

/// The parts of the data and what the network's ends must look like.
#[derive(Clone, Debug)]
pub struct PreparedData {
    /// The data set's name.
    pub name: String,
    /// The training part.
    pub train: Part,
    /// The validation part, when asked for.
    pub validation: Option<Part>,
    /// The test part (the training part itself when there is no test split).
    pub test: Part,
    /// True when the test part is the training data.
    pub test_is_training: bool,
    /// Input width.
    pub n_features: usize,
    /// Output width.
    pub n_outputs: usize,
    /// How regression targets were standardised.
    pub target_scaler: Option<TargetScaler>,
}

/// Resolves `--data`. Only built-in sets exist in this version.
pub fn resolve_built_in(name: &str) -> Result<BuiltIn, CliError> {
    name.trim().parse::<BuiltIn>().map_err(|_| {
        let names = BuiltIn::ALL.map(|builtin| builtin.name()).join(", ");
        CliError::usage(format!(
            "--data {name:?} is not a built-in data set, and loading data from files \
             (CSV, mnist:DIR) is not available yet in this version; built-in sets: {names}"
        ))
    })
}

/// Loads, splits, scales and encodes the data the plan names.
pub fn prepare(plan: &TrainPlan) -> Result<PreparedData, CliError> {
    let mut data = plan.builtin.load(&plan.generate)?;
    if plan.task == Task::Regression {
        data = labels_as_values(data);
    }
    let (train, test, test_is_training) = match plan.test_split {
        Some(fraction) => {
            let (train, test) = train_test_split(&data, fraction, plan.seed, true)?;
            (train, test, false)
        }
        None => (data.clone(), data, true),
    };
    let (train, validation) = match plan.validation {
        Some(fraction) => {
            let (train, validation) = train_validation_split(&train, fraction, plan.seed, true)?;
            (train, Some(validation))
        }
        None => (train, None),
    };
    let scaler = plan.scale.fit(&train.features);
    let single_sigmoid = plan.cost == Cost::BinaryCrossEntropy && train.n_classes() == Some(2);
    let target_scaler = TargetScaler::fit_dataset(&train);
    let encode = |part: &Dataset| encode(part, &scaler, target_scaler.as_ref(), single_sigmoid);
    Ok(PreparedData {
        name: train.name.clone(),
        n_features: train.n_features(),
        n_outputs: if single_sigmoid { 1 } else { train.n_outputs() },
        train: encode(&train),
        validation: validation.as_ref().map(encode),
        test: encode(&test),
        test_is_training,
        target_scaler,
    })
}

/// Class labels become one value column (the class index), for `--task regress`.
fn labels_as_values(data: Dataset) -> Dataset {
    match &data.targets {
        Targets::Classes { labels, .. } => {
            let values = Matrix::from_fn(labels.len(), 1, |row, _| labels[row] as f32);
            Dataset {
                targets: Targets::Values(values),
                ..data
            }
        }
        Targets::Values(_) => data,
    }
}

/// Scales the features and encodes the targets of one part.
fn encode(
    part: &Dataset,
    scaler: &Scaler,
    target_scaler: Option<&TargetScaler>,
    single_sigmoid: bool,
) -> Part {
    let features = scaler.transform(&part.features);
    match (&part.targets, target_scaler) {
        (Targets::Classes { labels, .. }, _) if single_sigmoid => Part {
            features,
            targets: Matrix::from_fn(labels.len(), 1, |row, _| labels[row] as f32),
            values: None,
        },
        (Targets::Values(values), Some(target_scaler)) => Part {
            features,
            targets: target_scaler.transform(values),
            values: Some(values.clone()),
        },
        _ => Part {
            features,
            targets: part.targets_matrix(),
            values: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_explain_that_files_come_later() {
        let error = resolve_built_in("train.csv").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        assert!(text.contains("not available yet"), "{text}");
        assert!(
            text.contains("multi-gaussian") && text.contains("xor-table"),
            "{text}"
        );
        assert_eq!(resolve_built_in("spiral").unwrap(), BuiltIn::Spiral);
    }
}
