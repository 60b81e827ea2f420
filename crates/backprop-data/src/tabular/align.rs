//! Re-expressing a data set in a model's terms, so that its features and classes mean what
//! they meant in training (fine-tuning with `--init-from`).
//!
//! - **Features** are matched by name. A one-hot feature `{column}={category}` that the new
//!   data lacks (a category that does not occur in it) becomes a column of zeros; a category
//!   the model never saw is encoded as all zeros for that column, with a note. Any other
//!   difference (a missing or an extra column) is an error that lists both sides.
//! - **Classes** are matched by name and relabelled to the model's order; a class the model
//!   does not have is an error. Regression targets must have as many columns as the model has
//!   outputs.

use super::{ModelColumns, ModelOutputs, TabularError};
use crate::{CategoricalColumn, Dataset, Targets};
use backprop_tensor::Matrix;
use std::collections::{HashMap, HashSet};

/// Names shown when a list of features is printed.
const NAMES_SHOWN: usize = 8;

/// The data with the model's feature columns, in the model's order, and the model's class
/// labels. `model` names the model file in messages; notes about unseen categories are appended
/// to `notes`.
///
/// ```
/// use backprop_data::tabular::{align_to_model, ModelColumns, ModelOutputs};
///
/// let data = backprop_data::xor_table(); // features x1, x2; classes "0", "1"
/// let model = ModelColumns {
///     feature_names: vec!["x2".into(), "x1".into()],
///     categorical: Vec::new(),
///     outputs: ModelOutputs::Classes(vec!["1".into(), "0".into()]),
/// };
/// let aligned = align_to_model(data.clone(), &model, "m.safetensors", &mut Vec::new()).unwrap();
/// assert_eq!(aligned.feature_names, ["x2", "x1"]);
/// assert_eq!(aligned.features.row(1), &[data.features.row(1)[1], data.features.row(1)[0]]);
/// assert_eq!(aligned.labels().unwrap()[0], 1 - data.labels().unwrap()[0]);
/// ```
pub fn align_to_model(
    data: Dataset,
    model: &ModelColumns,
    model_file: &str,
    notes: &mut Vec<String>,
) -> Result<Dataset, TabularError> {
    let data_task = if data.is_classification() {
        "classification"
    } else {
        "regression"
    };
    let model_task = model.outputs.task_name();
    if model_task != data_task {
        return Err(TabularError::TaskMismatch {
            model: model_file.to_string(),
            model_task,
            data_task,
        });
    }
    let model_names = &model.feature_names;
    let position: HashMap<&str, usize> = data
        .feature_names
        .iter()
        .enumerate()
        .map(|(index, name)| (name.as_str(), index))
        .collect();
    let widths = || {
        format!(
            "the model takes {} input features ({}), the data has {} ({})",
            model_names.len(),
            shorten(model_names),
            data.n_features(),
            shorten(&data.feature_names)
        )
    };
    let mut sources = Vec::with_capacity(model_names.len());
    for name in model_names {
        match position.get(name.as_str()) {
            Some(&index) => sources.push(Some(index)),
            None if model.is_one_hot_feature(name) => sources.push(None),
            None => {
                return Err(TabularError::FeatureNotInData {
                    model: model_file.to_string(),
                    name: name.clone(),
                    widths: widths(),
                })
            }
        }
    }
    let used: HashSet<usize> = sources.iter().flatten().copied().collect();
    for (index, name) in data.feature_names.iter().enumerate() {
        if used.contains(&index) {
            continue;
        }
        let column = data.categories.iter().find(|column| {
            column
                .categories
                .iter()
                .any(|category| name == &format!("{}={category}", column.name))
        });
        let known_column = column.is_some_and(|column| {
            model
                .categorical
                .iter()
                .any(|encoding| encoding.name == column.name)
        });
        if !known_column {
            return Err(TabularError::FeatureNotInModel {
                model: model_file.to_string(),
                name: name.clone(),
                widths: widths(),
            });
        }
        let rows = (0..data.len())
            .filter(|&row| data.features[(row, index)] != 0.0)
            .count();
        notes.push(format!(
            "{rows} rows have {name}, a category the model has not seen: encoded as all zeros"
        ));
    }
    let identity = sources.len() == data.n_features()
        && sources
            .iter()
            .enumerate()
            .all(|(index, source)| *source == Some(index));
    let features = if identity {
        data.features.clone()
    } else {
        Matrix::from_fn(data.len(), sources.len(), |row, column| {
            sources[column].map_or(0.0, |index| data.features[(row, index)])
        })
    };
    let targets = align_targets(&data.targets, &model.outputs, model_file)?;
    let categories: Vec<CategoricalColumn> = model.categorical.clone();
    Ok(
        Dataset::new(data.name.clone(), features, model_names.clone(), targets)?
            .with_categories(categories),
    )
}

/// Class labels in the model's order, or regression values of the model's width.
fn align_targets(
    targets: &Targets,
    outputs: &ModelOutputs,
    model_file: &str,
) -> Result<Targets, TabularError> {
    match (targets, outputs) {
        (Targets::Values(values), &ModelOutputs::Values(width)) if values.cols() != width => {
            Err(TabularError::ValueColumns {
                model: model_file.to_string(),
                outputs: width,
                columns: values.cols(),
            })
        }
        (Targets::Values(values), ModelOutputs::Values(_)) => Ok(Targets::Values(values.clone())),
        (
            Targets::Classes {
                labels,
                class_names,
            },
            ModelOutputs::Classes(model_classes),
        ) => {
            let mut relabel = Vec::with_capacity(class_names.len());
            for name in class_names {
                match model_classes.iter().position(|known| known == name) {
                    Some(index) => relabel.push(index),
                    None => {
                        return Err(TabularError::ClassNotInModel {
                            model: model_file.to_string(),
                            name: name.clone(),
                            count: model_classes.len(),
                            classes: shorten(model_classes),
                        })
                    }
                }
            }
            Ok(Targets::Classes {
                labels: labels.iter().map(|&label| relabel[label]).collect(),
                class_names: model_classes.clone(),
            })
        }
        // [`align_to_model`] checks the task first; this keeps the function whole on its own.
        (Targets::Classes { .. }, ModelOutputs::Values(_))
        | (Targets::Values(_), ModelOutputs::Classes(_)) => Err(TabularError::TaskMismatch {
            model: model_file.to_string(),
            model_task: outputs.task_name(),
            data_task: if matches!(targets, Targets::Classes { .. }) {
                "classification"
            } else {
                "regression"
            },
        }),
    }
}

/// The first few names, then `…`.
fn shorten(names: &[String]) -> String {
    let mut shown: Vec<&str> = names.iter().take(NAMES_SHOWN).map(String::as_str).collect();
    if names.len() > NAMES_SHOWN {
        shown.push("…");
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(features: &[&str], outputs: ModelOutputs) -> ModelColumns {
        ModelColumns {
            feature_names: features.iter().map(|name| name.to_string()).collect(),
            categorical: Vec::new(),
            outputs,
        }
    }

    #[test]
    fn differences_are_errors_naming_both_sides() {
        let data = crate::xor_table();
        let classes = || ModelOutputs::Classes(vec!["0".into(), "1".into()]);
        let message = |model: &ModelColumns| {
            align_to_model(data.clone(), model, "m.st", &mut Vec::new())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            message(&columns(&["x1", "x3"], classes())),
            "the data does not fit the model m.st: its input feature \"x3\" is not in the data; \
             the model takes 2 input features (x1, x3), the data has 2 (x1, x2)"
        );
        assert_eq!(
            message(&columns(&["x1"], classes())),
            "the data does not fit the model m.st: the data's feature \"x2\" is not an input of \
             the model; the model takes 1 input features (x1), the data has 2 (x1, x2)"
        );
        assert_eq!(
            message(&columns(&["x1", "x2"], ModelOutputs::Values(1))),
            "the data does not fit the model m.st: the model does regression, the data's target \
             is for classification (use --task to choose)"
        );
        assert_eq!(
            message(&columns(
                &["x1", "x2"],
                ModelOutputs::Classes(vec!["0".into()])
            )),
            "the data does not fit the model m.st: the data's class \"1\" is not one of the \
             model's 1 classes (0)"
        );
        let values = super::super::labels_as_values(data.clone());
        let error = align_to_model(
            values,
            &columns(&["x1", "x2"], ModelOutputs::Values(2)),
            "m.st",
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the data does not fit the model m.st: the model predicts 2 values, the data has 1 \
             target columns"
        );
    }

    #[test]
    fn unseen_categories_become_zeros_with_a_note_and_absent_ones_zero_columns() {
        let features = Matrix::from_rows(&[[1.0f32, 0.0, 5.0], [0.0, 1.0, 6.0]]).unwrap();
        let names: Vec<String> = ["c=a", "c=new", "x"].map(String::from).into();
        let targets = Targets::Values(Matrix::from_rows(&[[1.0f32], [2.0]]).unwrap());
        let data = Dataset::new("d", features, names, targets)
            .unwrap()
            .with_categories(vec![CategoricalColumn {
                name: "c".into(),
                categories: vec!["a".into(), "new".into()],
            }]);
        let model = ModelColumns {
            feature_names: ["x", "c=a", "c=b"].map(String::from).into(),
            categorical: vec![CategoricalColumn {
                name: "c".into(),
                categories: vec!["a".into(), "b".into()],
            }],
            outputs: ModelOutputs::Values(1),
        };
        let mut notes = Vec::new();
        let aligned = align_to_model(data, &model, "m.st", &mut notes).unwrap();
        assert_eq!(aligned.features.as_slice(), &[5.0, 1.0, 0.0, 6.0, 0.0, 0.0]);
        assert_eq!(aligned.categories, model.categorical);
        assert_eq!(
            notes,
            ["1 rows have c=new, a category the model has not seen: encoded as all zeros"]
        );
    }
}
