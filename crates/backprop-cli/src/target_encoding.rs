//! Targets in a model's terms: class labels become indices into the model's class names
//! (matched by name, or as the same integer written differently: `1.0` for class `1`); values
//! are parsed as numbers, one column per model output. A label the model does not know is bad
//! input naming the value, its line and column.

use crate::csv_text::{list_names, parse_number};
use crate::exit::CliError;
use backprop::train::Task;
use backprop::Matrix;
use backprop_data::Targets;
use std::collections::HashMap;

/// Targets in the model's terms.
#[derive(Clone, Debug)]
pub enum ModelTargets {
    /// Class indices into the model's classes.
    Classes(Vec<usize>),
    /// Values, one column per model output, in the targets' units.
    Values(Matrix<f32>),
}

/// Target cells to model terms.
pub fn encode_cells(
    cells: &[String],
    lines: &[u64],
    names: &[String],
    file: &str,
    task: Task,
    classes: &HashMap<String, usize>,
    outputs: usize,
) -> Result<ModelTargets, CliError> {
    let width = names.len().max(1);
    match task {
        Task::Classification => cells
            .iter()
            .zip(lines)
            .map(|(cell, line)| {
                class_index(cell, classes).ok_or_else(|| {
                    CliError::usage(format!(
                        "{file}:{line}: the target {cell:?} (column {:?}) is not one of the model's classes: {}",
                        names.first().map_or("", String::as_str),
                        class_list(classes)
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ModelTargets::Classes),
        Task::Regression => {
            let mut values = Vec::with_capacity(cells.len());
            for (index, cell) in cells.iter().enumerate() {
                let line = lines.get(index / width).copied().unwrap_or_default();
                let name = &names[index % width];
                match parse_number(cell, false).filter(|value| value.is_finite()) {
                    Some(value) => values.push(value),
                    None => {
                        return Err(CliError::usage(format!(
                            "{file}:{line} (column {name:?}): the target {cell:?} is not a finite number"
                        )))
                    }
                }
            }
            let rows = values.len() / width;
            Matrix::from_vec(rows, outputs, values)
                .map(ModelTargets::Values)
                .map_err(|error| CliError::usage(format!("{file}: {error}")))
        }
    }
}

/// A label's class index: its exact name, or the same integer written differently (`1.0`).
fn class_index(cell: &str, classes: &HashMap<String, usize>) -> Option<usize> {
    classes.get(cell).copied().or_else(|| {
        let value = cell
            .parse::<f64>()
            .ok()
            .filter(|value| value.fract() == 0.0 && value.abs() < 1e15)?;
        classes.get(&format!("{}", value as i64)).copied()
    })
}

/// The model's classes in order, for messages.
fn class_list(classes: &HashMap<String, usize>) -> String {
    let mut names: Vec<(&usize, &String)> =
        classes.iter().map(|(name, index)| (index, name)).collect();
    names.sort();
    list_names(
        &names
            .into_iter()
            .map(|(_, name)| name.clone())
            .collect::<Vec<_>>(),
    )
}

/// A built-in or MNIST data set's targets to model terms.
pub fn encode_dataset(
    targets: &Targets,
    classes: &HashMap<String, usize>,
    task: Task,
    outputs: usize,
    name: &str,
) -> Result<ModelTargets, CliError> {
    match (targets, task) {
        (
            Targets::Classes {
                labels,
                class_names,
            },
            Task::Classification,
        ) => {
            let mapping = class_names
                .iter()
                .map(|class| {
                    class_index(class, classes).ok_or_else(|| {
                        CliError::usage(format!(
                            "{name}: the class {class:?} is not one of the model's classes: {}",
                            class_list(classes)
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ModelTargets::Classes(
                labels.iter().map(|&label| mapping[label]).collect(),
            ))
        }
        (Targets::Values(values), Task::Regression) if values.cols() == outputs => {
            Ok(ModelTargets::Values(values.clone()))
        }
        (Targets::Values(values), Task::Regression) => Err(CliError::usage(format!(
            "{name}: {} target columns, but the model has {outputs} outputs",
            values.cols()
        ))),
        (Targets::Classes { .. }, Task::Regression) => Err(CliError::usage(format!(
            "{name} holds class labels, but the model is a regression model"
        ))),
        (Targets::Values(_), Task::Classification) => Err(CliError::usage(format!(
            "{name} holds real values, but the model is a classifier"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_by_name_or_as_the_same_integer() {
        let classes: HashMap<String, usize> = [("0".to_string(), 0), ("1".to_string(), 1)].into();
        assert_eq!(class_index("1", &classes), Some(1));
        assert_eq!(class_index("1.0", &classes), Some(1));
        assert_eq!(class_index("2", &classes), None);
        let lines = [2, 3];
        let names = ["label".to_string()];
        let error = encode_cells(
            &["0".into(), "cat".into()],
            &lines,
            &names,
            "f.csv",
            Task::Classification,
            &classes,
            2,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("f.csv:3") && error.to_string().contains("\"cat\""),
            "{error}"
        );
    }
}
