//! `--init-from`: re-expressing new data in a model's terms, so that its features and classes
//! mean what they meant in training.
//!
//! - **Features** are matched by name. A one-hot feature `{column}={category}` that the new
//!   data lacks (a category that does not occur in it) becomes a column of zeros; a category
//!   the model never saw is encoded as all zeros for that column, with a note. Any other
//!   difference (a missing or an extra column) is an error that lists both sides.
//! - **Classes** are matched by name and relabelled to the model's order; a class the model
//!   does not have is an error. Regression targets must have as many columns as the model has
//!   outputs.

use crate::exit::CliError;
use backprop::model::ModelMetadata;
use backprop::Matrix;
use backprop_data::{CategoricalColumn, Dataset, Targets};
use std::collections::HashMap;

/// Names shown when a list of features is printed.
const NAMES_SHOWN: usize = 8;

/// The data with the model's feature columns, in the model's order, and the model's class
/// labels. Notes about unseen categories are appended to `notes`.
pub fn align_to_model(
    data: Dataset,
    metadata: &ModelMetadata,
    model_file: &str,
    notes: &mut Vec<String>,
) -> Result<Dataset, CliError> {
    let mismatch = |reason: String| {
        CliError::usage(format!(
            "the data does not fit the model {model_file}: {reason}"
        ))
    };
    let model_task = &metadata.task;
    let data_task = if data.is_classification() {
        "classification"
    } else {
        "regression"
    };
    if model_task != data_task {
        return Err(mismatch(format!(
            "the model does {model_task}, the data's target is for {data_task} \
             (use --task to choose)"
        )));
    }
    let preprocessing = &metadata.preprocessing;
    let model_names = &preprocessing.feature_names;
    let position: HashMap<&str, usize> = data
        .feature_names
        .iter()
        .enumerate()
        .map(|(index, name)| (name.as_str(), index))
        .collect();
    let model_categorical = |name: &str| {
        preprocessing.categorical.iter().any(|encoding| {
            encoding.categories.iter().any(|category| {
                name.strip_prefix(encoding.column.as_str())
                    .and_then(|rest| rest.strip_prefix('='))
                    == Some(category.as_str())
            })
        })
    };
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
            None if model_categorical(name) => sources.push(None),
            None => {
                return Err(mismatch(format!(
                    "its input feature {name:?} is not in the data; {}",
                    widths()
                )))
            }
        }
    }
    let used: std::collections::HashSet<usize> = sources.iter().flatten().copied().collect();
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
            preprocessing
                .categorical
                .iter()
                .any(|encoding| encoding.column == column.name)
        });
        if !known_column {
            return Err(mismatch(format!(
                "the data's feature {name:?} is not an input of the model; {}",
                widths()
            )));
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
    let targets = align_targets(&data.targets, metadata).map_err(mismatch)?;
    let categories = preprocessing
        .categorical
        .iter()
        .map(|encoding| CategoricalColumn {
            name: encoding.column.clone(),
            categories: encoding.categories.clone(),
        })
        .collect();
    Ok(
        Dataset::new(data.name.clone(), features, model_names.clone(), targets)?
            .with_categories(categories),
    )
}

/// Class labels in the model's order, or regression values of the model's width.
fn align_targets(targets: &Targets, metadata: &ModelMetadata) -> Result<Targets, String> {
    let output_width = metadata.architecture.sizes.last().copied().unwrap_or(0);
    match targets {
        Targets::Values(values) if values.cols() != output_width => Err(format!(
            "the model predicts {output_width} values, the data has {} target columns",
            values.cols()
        )),
        Targets::Values(values) => Ok(Targets::Values(values.clone())),
        Targets::Classes {
            labels,
            class_names,
        } => {
            let model_classes = match &metadata.preprocessing.class_names {
                Some(names) => names.clone(),
                None => (0..output_width.max(2)).map(|i| i.to_string()).collect(),
            };
            let mut relabel = Vec::with_capacity(class_names.len());
            for name in class_names {
                match model_classes.iter().position(|known| known == name) {
                    Some(index) => relabel.push(index),
                    None => {
                        return Err(format!(
                            "the data's class {name:?} is not one of the model's {} classes \
                             ({})",
                            model_classes.len(),
                            shorten(&model_classes)
                        ))
                    }
                }
            }
            Ok(Targets::Classes {
                labels: labels.iter().map(|&label| relabel[label]).collect(),
                class_names: model_classes,
            })
        }
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
