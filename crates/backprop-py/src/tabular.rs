//! A command-line model's input columns read from a table, as `backprop predict` reads them:
//! matched by name, categorical columns one-hot encoded with the stored categories (an unseen
//! category becomes all zeros), missing cells filled with the stored values. The rows arrive
//! as CSV text (pandas' `to_csv`), so that the data crate's reader does every step itself.

use backprop::model::{FillValue, ModelMetadata};
use backprop_data::csv_file::feature_specs;
use backprop_data::tabular::ModelInputStream;
use backprop_data::{CategoricalColumn, MissingFill};
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::io::Cursor;

/// Rows per chunk read from the CSV text.
const CHUNK_ROWS: usize = 4096;

/// The raw (one-hot encoded, unscaled) float32 features for the CSV text `csv`, in the order of
/// the model's feature names, for the model whose metadata is the JSON `metadata`.
#[pyfunction]
pub fn encode_table<'py>(
    py: Python<'py>,
    metadata: &str,
    csv: Vec<u8>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let bad = |e: &dyn std::fmt::Display| PyValueError::new_err(e.to_string());
    let metadata: ModelMetadata = serde_json::from_str(metadata).map_err(|e| bad(&e))?;
    let preprocessing = &metadata.preprocessing;
    let categorical: Vec<CategoricalColumn> = preprocessing
        .categorical
        .iter()
        .map(|c| CategoricalColumn {
            name: c.column.clone(),
            categories: c.categories.clone(),
        })
        .collect();
    let fills: Vec<MissingFill> = preprocessing
        .missing_fill
        .iter()
        .map(|fill| MissingFill {
            column: fill.column.clone(),
            value: match &fill.value {
                FillValue::Number(v) => backprop_data::FillValue::Number(*v as f32),
                FillValue::Category(c) => backprop_data::FillValue::Category(c.clone()),
            },
        })
        .collect();
    let specs = feature_specs(&preprocessing.feature_names, &categorical).map_err(|e| bad(&e))?;
    let width = preprocessing.feature_names.len();
    let values = py.allow_threads(|| -> Result<Vec<f32>, String> {
        let reader = Box::new(Cursor::new(csv));
        let mut stream = ModelInputStream::from_reader(reader, "<DataFrame>".into(), &specs)
            .map_err(|e| e.to_string())?;
        stream.set_missing_fills(&fills);
        let mut values = Vec::new();
        while let Some(chunk) = stream.next_chunk(CHUNK_ROWS).map_err(|e| e.to_string())? {
            values.extend_from_slice(chunk.features.as_slice());
        }
        Ok(values)
    });
    let values = values.map_err(PyValueError::new_err)?;
    let rows = values.len() / width.max(1);
    PyArray1::from_vec(py, values).reshape([rows, width])
}
