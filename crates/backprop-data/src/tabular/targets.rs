//! Targets in a model's terms, and targets for training.
//!
//! - **For a trained model** ([`TargetEncoder`]): class labels become indices into the model's
//!   class names, matched by name or as the same integer written differently (`1.0` for class
//!   `1`); values are parsed as numbers, one column per model output. A label the model does
//!   not know is bad input naming the value, its line and column.
//! - **For training** ([`training_targets`]): one-hot rows, or the label itself (0 or 1) for a
//!   single sigmoid output on two classes, or the values as they are (standardise them with a
//!   [`crate::TargetScaler`] fitted on the training part). [`labels_as_values`] turns class
//!   labels into one value column, for regression on integer labels.

use super::cells::{parse_number, Number};
use super::{list_names, ModelOutputs, TabularError};
use crate::{Dataset, Targets};
use backprop_tensor::Matrix;
use std::collections::HashMap;

/// Targets in the model's terms.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelTargets {
    /// Class indices into the model's classes.
    Classes(Vec<usize>),
    /// Values, one column per model output, in the targets' units.
    Values(Matrix<f32>),
}

/// Puts targets in a model's terms.
#[derive(Clone, Debug)]
pub struct TargetEncoder {
    outputs: ModelOutputs,
    classes: HashMap<String, usize>,
}

impl TargetEncoder {
    /// An encoder for a model with these outputs.
    pub fn new(outputs: &ModelOutputs) -> Self {
        let classes = match outputs {
            ModelOutputs::Classes(names) => names
                .iter()
                .enumerate()
                .map(|(index, name)| (name.clone(), index))
                .collect(),
            ModelOutputs::Values(_) => HashMap::new(),
        };
        Self {
            outputs: outputs.clone(),
            classes,
        }
    }

    /// A label's class index: its exact name, or the same integer written differently (`1.0`).
    pub fn class_index(&self, label: &str) -> Option<usize> {
        self.classes.get(label).copied().or_else(|| {
            let value = label
                .parse::<f64>()
                .ok()
                .filter(|value| value.fract() == 0.0 && value.abs() < 1e15)?;
            self.classes.get(&format!("{}", value as i64)).copied()
        })
    }

    /// The model's classes in order, for messages.
    fn class_list(&self) -> String {
        match &self.outputs {
            ModelOutputs::Classes(names) => list_names(names),
            ModelOutputs::Values(_) => String::new(),
        }
    }

    /// Target cells of a CSV input to model terms: `cells` holds `names.len()` cells per row
    /// (one per target column), `lines` the line of each row, `file` the input's name.
    pub fn encode_cells(
        &self,
        cells: &[String],
        lines: &[u64],
        names: &[String],
        file: &str,
    ) -> Result<ModelTargets, TabularError> {
        let width = names.len().max(1);
        match &self.outputs {
            ModelOutputs::Classes(_) => cells
                .iter()
                .zip(lines)
                .map(|(cell, &line)| {
                    self.class_index(cell)
                        .ok_or_else(|| TabularError::UnknownClass {
                            file: file.to_string(),
                            line,
                            value: cell.clone(),
                            column: names.first().cloned().unwrap_or_default(),
                            classes: self.class_list(),
                        })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ModelTargets::Classes),
            &ModelOutputs::Values(outputs) => {
                let mut values = Vec::with_capacity(cells.len());
                for (index, cell) in cells.iter().enumerate() {
                    match parse_number(cell, false) {
                        Number::Finite(value) => values.push(value),
                        _ => {
                            return Err(TabularError::TargetNotFinite {
                                file: file.to_string(),
                                line: lines.get(index / width).copied().unwrap_or_default(),
                                column: names.get(index % width).cloned().unwrap_or_default(),
                                value: cell.clone(),
                            })
                        }
                    }
                }
                let rows = values.len() / width;
                Matrix::from_vec(rows, outputs, values)
                    .map(ModelTargets::Values)
                    .map_err(|source| TabularError::Matrix {
                        file: file.to_string(),
                        source,
                    })
            }
        }
    }

    /// A data set's targets (a built-in set, MNIST) to model terms; `name` is the data set's
    /// name in messages.
    pub fn encode_dataset(
        &self,
        targets: &Targets,
        name: &str,
    ) -> Result<ModelTargets, TabularError> {
        match (targets, &self.outputs) {
            (
                Targets::Classes {
                    labels,
                    class_names,
                },
                ModelOutputs::Classes(_),
            ) => {
                let mapping = class_names
                    .iter()
                    .map(|class| {
                        self.class_index(class)
                            .ok_or_else(|| TabularError::UnknownDatasetClass {
                                data: name.to_string(),
                                class: class.clone(),
                                classes: self.class_list(),
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(ModelTargets::Classes(
                    labels.iter().map(|&label| mapping[label]).collect(),
                ))
            }
            (Targets::Values(values), &ModelOutputs::Values(outputs))
                if values.cols() == outputs =>
            {
                Ok(ModelTargets::Values(values.clone()))
            }
            (Targets::Values(values), &ModelOutputs::Values(outputs)) => {
                Err(TabularError::TargetWidth {
                    data: name.to_string(),
                    columns: values.cols(),
                    outputs,
                })
            }
            (Targets::Classes { .. }, ModelOutputs::Values(_)) => {
                Err(TabularError::LabelsForRegression {
                    data: name.to_string(),
                })
            }
            (Targets::Values(_), ModelOutputs::Classes(_)) => {
                Err(TabularError::ValuesForClassifier {
                    data: name.to_string(),
                })
            }
        }
    }
}

/// The matrix a network trains on: one-hot rows for classes, except a single sigmoid output on
/// two classes, which trains on the label itself (0 or 1); values as they are.
pub fn training_targets(targets: &Targets, single_sigmoid: bool) -> Matrix<f32> {
    match targets {
        Targets::Classes { labels, .. } if single_sigmoid => {
            Matrix::from_fn(labels.len(), 1, |row, _| labels[row] as f32)
        }
        Targets::Classes {
            labels,
            class_names,
        } => crate::one_hot(labels, class_names.len()),
        Targets::Values(values) => values.clone(),
    }
}

/// Class labels become one value column (the class index), for regression on labels; values
/// stay as they are.
pub fn labels_as_values(data: Dataset) -> Dataset {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn binary() -> TargetEncoder {
        TargetEncoder::new(&ModelOutputs::Classes(vec!["0".into(), "1".into()]))
    }

    #[test]
    fn labels_match_by_name_or_as_the_same_integer() {
        let encoder = binary();
        assert_eq!(encoder.class_index("1"), Some(1));
        assert_eq!(encoder.class_index("1.0"), Some(1));
        assert_eq!(encoder.class_index("2"), None);
        let lines = [2, 3];
        let names = ["label".to_string()];
        let error = encoder
            .encode_cells(&["0".into(), "cat".into()], &lines, &names, "f.csv")
            .unwrap_err();
        assert!(
            error.to_string().contains("f.csv:3") && error.to_string().contains("\"cat\""),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            "f.csv:3: the target \"cat\" (column \"label\") is not one of the model's classes: \"0\", \"1\""
        );
    }

    #[test]
    fn values_are_finite_numbers_one_column_per_output() {
        let encoder = TargetEncoder::new(&ModelOutputs::Values(2));
        let names = ["y1".to_string(), "y2".to_string()];
        let cells: Vec<String> = ["1", "2.5", "-3", "4"].map(String::from).into();
        let encoded = encoder.encode_cells(&cells, &[2, 3], &names, "r.csv");
        let expected = Matrix::from_rows(&[[1.0f32, 2.5], [-3.0, 4.0]]).unwrap();
        assert_eq!(encoded.unwrap(), ModelTargets::Values(expected));
        let cells: Vec<String> = ["1", "2", "inf", "4"].map(String::from).into();
        let error = encoder
            .encode_cells(&cells, &[2, 3], &names, "r.csv")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "r.csv:3 (column \"y1\"): the target \"inf\" is not a finite number"
        );
    }

    #[test]
    fn data_sets_are_relabelled_or_refused_by_task() {
        let data = crate::xor_table();
        let encoder = TargetEncoder::new(&ModelOutputs::Classes(vec!["1".into(), "0".into()]));
        let Ok(ModelTargets::Classes(labels)) = encoder.encode_dataset(&data.targets, "xor") else {
            panic!("xor's classes are the model's");
        };
        let original = data.labels().unwrap();
        assert!(labels
            .iter()
            .zip(original)
            .all(|(&new, &old)| new == 1 - old));
        let values = TargetEncoder::new(&ModelOutputs::Values(1));
        assert_eq!(
            values
                .encode_dataset(&data.targets, "xor")
                .unwrap_err()
                .to_string(),
            "xor holds class labels, but the model is a regression model"
        );
        let regression = labels_as_values(data);
        assert!(matches!(
            values.encode_dataset(&regression.targets, "xor"),
            Ok(ModelTargets::Values(_))
        ));
        assert_eq!(
            binary()
                .encode_dataset(&regression.targets, "xor")
                .unwrap_err()
                .to_string(),
            "xor holds real values, but the model is a classifier"
        );
        let wide = TargetEncoder::new(&ModelOutputs::Values(3));
        assert_eq!(
            wide.encode_dataset(&regression.targets, "xor")
                .unwrap_err()
                .to_string(),
            "xor: 1 target columns, but the model has 3 outputs"
        );
    }

    #[test]
    fn training_targets_are_one_hot_or_single_labels() {
        let targets = Targets::Classes {
            labels: vec![1, 0, 2],
            class_names: vec!["a".into(), "b".into(), "c".into()],
        };
        assert_eq!(
            training_targets(&targets, false).as_slice(),
            &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
        );
        assert_eq!(
            training_targets(&targets, true).as_slice(),
            &[1.0, 0.0, 2.0]
        );
    }
}
