//! The model a prediction server serves, and how a request's rows become its inputs.
//!
//! A row is the model's raw input columns as the training CSV had them: numbers for numeric
//! columns, strings for string (one-hot) columns, `null` for a missing cell. `rows` give them in
//! the model's column order; `records` name them. A missing cell takes the fill value the model
//! stored (`train --missing mean`) and is otherwise an error, as in `backprop predict`; a
//! category not seen in training becomes all zeros and is counted in a warning.

use crate::ApiError;
use backprop::model::{FillValue, Model};
use backprop_data::csv_file::{feature_specs, FeatureSpec};
use backprop_data::CategoricalColumn;
use backprop_tensor::Matrix;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The common request to a numeric model, read without building a JSON tree.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NumericRows {
    rows: Vec<Vec<f64>>,
}

/// A loaded model, ready to answer requests.
#[derive(Debug)]
pub struct ServedModel {
    /// The model file as loaded.
    pub model: Model,
    /// What the model file is called in messages.
    pub name: String,
    specs: Vec<FeatureSpec>,
    fills: Vec<Option<FillValue>>,
    /// Class names in output order (classification), empty for regression.
    pub classes: Vec<String>,
}

/// A request's rows as network inputs, with what the user should know.
#[derive(Debug)]
pub struct EncodedRows {
    /// Raw features, one-hot encoded, not scaled (the model scales them).
    pub features: Matrix<f32>,
    /// Unseen categories and filled cells, counted.
    pub warnings: Vec<String>,
}

impl ServedModel {
    /// Prepares `model` (called `name` in messages); fails when its stored encoding is
    /// inconsistent.
    pub fn new(model: Model, name: &str) -> Result<Self, String> {
        let preprocessing = &model.metadata.preprocessing;
        let categorical: Vec<CategoricalColumn> = preprocessing
            .categorical
            .iter()
            .map(|encoding| CategoricalColumn {
                name: encoding.column.clone(),
                categories: encoding.categories.clone(),
            })
            .collect();
        let specs = feature_specs(&preprocessing.feature_names, &categorical)
            .map_err(|error| format!("{name}: invalid feature encoding: {error}"))?;
        let fills = specs
            .iter()
            .map(|spec| {
                preprocessing
                    .missing_fill
                    .iter()
                    .find(|fill| fill.column == spec.name())
                    .map(|fill| fill.value.clone())
            })
            .collect();
        let classes = model.class_names();
        Ok(Self {
            model,
            name: name.to_string(),
            specs,
            fills,
            classes,
        })
    }

    /// True for a classifier.
    pub fn is_classifier(&self) -> bool {
        !self.classes.is_empty()
    }

    /// The raw input columns, in the order `rows` give them.
    pub fn column_names(&self) -> Vec<&str> {
        self.specs.iter().map(FeatureSpec::name).collect()
    }

    /// The raw input columns for `GET /v1/model`.
    pub fn columns_json(&self) -> Vec<Value> {
        self.specs
            .iter()
            .zip(&self.fills)
            .map(|(spec, fill)| {
                let mut column = Map::new();
                column.insert("name".into(), spec.name().into());
                match spec {
                    FeatureSpec::Numeric { .. } => {
                        column.insert("kind".into(), "number".into());
                    }
                    FeatureSpec::Categorical { categories, .. } => {
                        column.insert("kind".into(), "category".into());
                        column.insert("categories".into(), categories.clone().into());
                    }
                }
                let fill = match fill {
                    Some(FillValue::Number(value)) => Value::from(*value),
                    Some(FillValue::Category(category)) => Value::from(category.clone()),
                    None => Value::Null,
                };
                column.insert("missing_fill".into(), fill);
                Value::Object(column)
            })
            .collect()
    }

    /// The model's outputs for `features`: class probabilities (two for a single sigmoid unit)
    /// or values in the targets' units.
    pub fn predict(&self, features: &Matrix<f32>) -> Result<Matrix<f32>, ApiError> {
        self.model
            .predict_per_class(features)
            .map_err(|error| ApiError::bad_request(error.to_string()))
    }

    /// Multiply-adds of one row's forward pass, to tell small requests from large ones.
    pub fn multiply_adds_per_row(&self) -> usize {
        self.model
            .metadata
            .architecture
            .sizes
            .windows(2)
            .map(|pair| pair[0] * pair[1])
            .sum()
    }

    /// The quick path for the common request: a numeric model and `{"rows": [[numbers…], …]}`
    /// with every cell a finite number, at most `max_rows` rows of the model's width. Anything
    /// else (nulls, strings, other fields, wrong lengths) gives `None`, and the general path
    /// ([`Self::encode`]) then reads the body and words the error.
    pub fn encode_numeric_body(&self, body: &[u8], max_rows: usize) -> Option<Matrix<f32>> {
        let numeric = self
            .specs
            .iter()
            .all(|spec| matches!(spec, FeatureSpec::Numeric { .. }));
        if !numeric {
            return None;
        }
        let NumericRows { rows } = serde_json::from_slice(body).ok()?;
        let width = self.specs.len();
        if rows.len() > max_rows || rows.iter().any(|row| row.len() != width) {
            return None;
        }
        let mut features = Vec::with_capacity(rows.len() * width);
        for value in rows.into_iter().flatten() {
            let value = value as f32;
            if !value.is_finite() {
                return None;
            }
            features.push(value);
        }
        Matrix::from_vec(features.len() / width.max(1), width, features).ok()
    }

    /// Encodes `rows` (arrays in column order) or `records` (objects by column name).
    pub fn encode(&self, rows: &[Value], records: bool) -> Result<EncodedRows, ApiError> {
        let width: usize = self.specs.iter().map(FeatureSpec::width).sum();
        let mut features = Vec::with_capacity(rows.len() * width);
        let mut unseen = vec![0usize; self.specs.len()];
        let mut filled = vec![0usize; self.specs.len()];
        let what = if records { "record" } else { "row" };
        for (index, row) in rows.iter().enumerate() {
            let cells: Vec<&Value> = if records {
                self.record_cells(index, row)?
            } else {
                self.row_cells(index, row)?
            };
            for (column, (spec, cell)) in self.specs.iter().zip(cells).enumerate() {
                let place = || format!("{what} {index}, column {:?}", spec.name());
                let fill = self.fills[column].as_ref();
                let filled_cell;
                let cell: &Value = match (cell, fill) {
                    (Value::Null, None) => {
                        return Err(ApiError::bad_request(format!(
                            "{}: missing value (the model stores no fill value for it: it was \
                             not trained with --missing mean)",
                            place()
                        )))
                    }
                    (Value::Null, Some(FillValue::Number(value))) => {
                        filled[column] += 1;
                        filled_cell = Value::from(*value);
                        &filled_cell
                    }
                    (Value::Null, Some(FillValue::Category(category))) => {
                        filled[column] += 1;
                        filled_cell = Value::from(category.clone());
                        &filled_cell
                    }
                    (other, _) => other,
                };
                match spec {
                    FeatureSpec::Numeric { .. } => match cell.as_f64() {
                        Some(value) if (value as f32).is_finite() => features.push(value as f32),
                        _ => {
                            return Err(ApiError::bad_request(format!(
                                "{}: expected a finite number, found {cell}",
                                place()
                            )))
                        }
                    },
                    FeatureSpec::Categorical { categories, .. } => {
                        let number;
                        let text = match cell {
                            Value::String(text) => text.as_str(),
                            Value::Number(value) => {
                                number = value.to_string();
                                number.as_str()
                            }
                            other => {
                                return Err(ApiError::bad_request(format!(
                                    "{}: expected a category (a string), found {other}",
                                    place()
                                )))
                            }
                        };
                        let start = features.len();
                        features.resize(start + categories.len(), 0.0);
                        match categories.iter().position(|category| category == text) {
                            Some(slot) => features[start + slot] = 1.0,
                            None => unseen[column] += 1,
                        }
                    }
                }
            }
        }
        let features = Matrix::from_vec(rows.len(), width, features)
            .map_err(|error| ApiError::bad_request(error.to_string()))?;
        let mut warnings = Vec::new();
        for (column, spec) in self.specs.iter().enumerate() {
            if unseen[column] > 0 {
                warnings.push(format!(
                    "column {:?}: {} cell(s) hold categories not seen in training; they are \
                     encoded as all zeros",
                    spec.name(),
                    unseen[column]
                ));
            }
            if filled[column] > 0 {
                warnings.push(format!(
                    "column {:?}: {} missing cell(s) filled with the value stored in the model",
                    spec.name(),
                    filled[column]
                ));
            }
        }
        Ok(EncodedRows { features, warnings })
    }

    /// A row's cells: an array of one value per input column.
    fn row_cells<'a>(&self, index: usize, row: &'a Value) -> Result<Vec<&'a Value>, ApiError> {
        let Value::Array(cells) = row else {
            return Err(ApiError::bad_request(format!(
                "row {index}: expected an array of {} values, found {row}",
                self.specs.len()
            )));
        };
        if cells.len() != self.specs.len() {
            return Err(ApiError::bad_request(format!(
                "row {index}: {} value(s), but the model reads {} column(s): {}",
                cells.len(),
                self.specs.len(),
                quoted(&self.column_names())
            )));
        }
        Ok(cells.iter().collect())
    }

    /// A record's cells in column order; an absent column is missing (`null`).
    fn record_cells<'a>(
        &self,
        index: usize,
        record: &'a Value,
    ) -> Result<Vec<&'a Value>, ApiError> {
        let Value::Object(fields) = record else {
            return Err(ApiError::bad_request(format!(
                "record {index}: expected an object of column: value, found {record}"
            )));
        };
        let names = self.column_names();
        if let Some(unknown) = fields.keys().find(|key| !names.contains(&key.as_str())) {
            return Err(ApiError::bad_request(format!(
                "record {index}: unknown column {unknown:?}; the model reads {}",
                quoted(&names)
            )));
        }
        Ok(names
            .iter()
            .map(|name| fields.get(*name).unwrap_or(&Value::Null))
            .collect())
    }
}

/// `"a", "b", "c"`.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
