//! Reading a new CSV file for a trained model (`predict`): the model stores its input columns
//! as [`FeatureSpec`]s (numeric, or categorical with the categories seen in training), and the
//! new file's columns are matched to them **by name**, in any order. Other columns, the target
//! among them, are ignored. A category not seen in training is encoded as all zeros and
//! counted in a warning; a column the model needs and the file lacks is an error naming it.

use super::columns::resolve_target;
use super::error::{list_columns, CsvError};
use super::load::check_matrix_size;
use super::text::{self, Table};
use super::{CsvOptions, MissingPolicy};
use crate::tabular::cells::{is_missing, Number};
use crate::{CategoricalColumn, DataError};
use backprop_tensor::Matrix;
use csv::StringRecord;
use std::collections::HashMap;
use std::path::Path;

/// One input column of a model, as it was encoded in training.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeatureSpec {
    /// A numeric column: one feature, the cell's value.
    Numeric {
        /// The column's name.
        name: String,
    },
    /// A string column, one-hot encoded: one feature per category, named `{name}={category}`.
    Categorical {
        /// The column's name.
        name: String,
        /// The categories seen in training, in feature order (sorted).
        categories: Vec<String>,
    },
}

impl FeatureSpec {
    /// The column's name in the CSV header.
    pub fn name(&self) -> &str {
        match self {
            FeatureSpec::Numeric { name } | FeatureSpec::Categorical { name, .. } => name,
        }
    }

    /// How many feature columns it becomes.
    pub fn width(&self) -> usize {
        match self {
            FeatureSpec::Numeric { .. } => 1,
            FeatureSpec::Categorical { categories, .. } => categories.len(),
        }
    }

    /// The names of the feature columns it becomes.
    pub fn feature_names(&self) -> Vec<String> {
        match self {
            FeatureSpec::Numeric { name } => vec![name.clone()],
            FeatureSpec::Categorical { name, categories } => categories
                .iter()
                .map(|category| format!("{name}={category}"))
                .collect(),
        }
    }
}

/// The input columns behind a data set's (or a model's) feature names and categorical
/// encodings, in feature order: each [`CategoricalColumn`] must own a contiguous run of
/// features named `{name}={category}`; every other feature is a numeric column of its own name.
///
/// ```
/// use backprop_data::csv_file::{feature_specs, FeatureSpec};
/// use backprop_data::CategoricalColumn;
///
/// let names: Vec<String> = ["age", "colour=blue", "colour=red"].map(String::from).into();
/// let colour = CategoricalColumn { name: "colour".into(), categories: vec!["blue".into(), "red".into()] };
/// let specs = feature_specs(&names, &[colour]).unwrap();
/// assert_eq!(specs[0], FeatureSpec::Numeric { name: "age".into() });
/// assert_eq!(specs[1].width(), 2);
/// ```
pub fn feature_specs(
    feature_names: &[String],
    categories: &[CategoricalColumn],
) -> Result<Vec<FeatureSpec>, CsvError> {
    let inconsistent = |reason: String| CsvError::InconsistentEncoding { reason };
    let mut position = HashMap::with_capacity(feature_names.len());
    for (index, name) in feature_names.iter().enumerate() {
        if position.insert(name.as_str(), index).is_some() {
            return Err(inconsistent(format!(
                "the feature name {name:?} occurs twice"
            )));
        }
    }
    // starts[i] = the categorical column whose features begin at feature i.
    let mut starts: HashMap<usize, &CategoricalColumn> = HashMap::new();
    let mut owner: Vec<bool> = vec![false; feature_names.len()];
    for column in categories {
        let spec = FeatureSpec::Categorical {
            name: column.name.clone(),
            categories: column.categories.clone(),
        };
        let names = spec.feature_names();
        let Some(first) = names.first() else {
            return Err(inconsistent(format!(
                "categorical column {:?} has no category",
                column.name
            )));
        };
        let start = *position.get(first.as_str()).ok_or_else(|| {
            inconsistent(format!(
                "no feature named {first:?} for column {:?}",
                column.name
            ))
        })?;
        for (offset, name) in names.iter().enumerate() {
            let index = start + offset;
            if feature_names.get(index) != Some(name) {
                return Err(inconsistent(format!(
                    "the features of column {:?} are not the contiguous run {:?}…",
                    column.name, names
                )));
            }
            match owner.get_mut(index) {
                Some(owned) if !*owned => *owned = true,
                _ => {
                    return Err(inconsistent(format!(
                        "feature {name:?} belongs to two categorical columns"
                    )))
                }
            }
        }
        starts.insert(start, column);
    }
    let mut specs = Vec::new();
    let mut index = 0;
    while let Some(name) = feature_names.get(index) {
        match starts.get(&index) {
            Some(column) => {
                specs.push(FeatureSpec::Categorical {
                    name: column.name.clone(),
                    categories: column.categories.clone(),
                });
                index += column.categories.len();
            }
            None => {
                specs.push(FeatureSpec::Numeric { name: name.clone() });
                index += 1;
            }
        }
    }
    Ok(specs)
}

/// A new file's features, encoded as a model expects them.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInput {
    /// One row per kept data row; the columns of the specs' features, in spec order.
    pub features: Matrix<f32>,
    /// The file line where each kept row starts (rows may be dropped under `--missing drop`).
    pub lines: Vec<u64>,
    /// Things the user should know: unknown categories, ignored columns, dropped rows, filled
    /// cells.
    pub warnings: Vec<String>,
}

/// [`read_model_input`] on a file (gzipped when named `.gz` or starting with the gzip bytes).
pub fn load_model_input(
    path: &Path,
    feature_columns: &[FeatureSpec],
    options: &CsvOptions,
) -> Result<ModelInput, DataError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| CsvError::Io {
        file: file.clone(),
        message: error.to_string(),
    })?;
    read_model_input(&bytes, &file, feature_columns, options)
}

/// Reads `bytes` (a CSV, plain or gzip; header, delimiter and missing policy from `options`)
/// and encodes the columns named in `feature_columns`, matched by name in any order:
/// - a column the model needs and the file lacks is [`CsvError::MissingFeatureColumn`];
/// - other columns (the target among them) are ignored, with a warning naming them unless it
///   is just `options.target`;
/// - a category not seen in training becomes all zeros, with a warning per column;
/// - missing cells in the used columns follow `options.missing`; `mean` fills with this file's
///   column means (most frequent known category), and both `drop` and `mean` add a warning.
pub fn read_model_input(
    bytes: &[u8],
    source_name: &str,
    feature_columns: &[FeatureSpec],
    options: &CsvOptions,
) -> Result<ModelInput, DataError> {
    let data = text::decompress(bytes, source_name)?;
    let text = text::utf8_text(&data, source_name)?;
    let table = Table::open(text, source_name, options.has_header, options.delimiter)?;
    let file = table.file.to_string();

    // Match the model's columns to the file's.
    let mut used = Vec::with_capacity(feature_columns.len());
    for spec in feature_columns {
        let column = table
            .names
            .iter()
            .position(|name| name == spec.name())
            .ok_or_else(|| CsvError::MissingFeatureColumn {
                file: file.clone(),
                name: spec.name().to_string(),
                columns: table.list_names(),
            })?;
        used.push(column);
    }
    let mut is_used = vec![false; table.names.len()];
    for &column in &used {
        if let Some(flag) = is_used.get_mut(column) {
            *flag = true;
        }
    }
    // Category → index, per categorical spec.
    let lookups: Vec<HashMap<&str, usize>> = feature_columns
        .iter()
        .map(|spec| match spec {
            FeatureSpec::Numeric { .. } => HashMap::new(),
            FeatureSpec::Categorical { categories, .. } => categories
                .iter()
                .enumerate()
                .rev()
                .map(|(index, category)| (category.as_str(), index))
                .collect(),
        })
        .collect();
    let find_category = |spec: usize, cell: &str| -> Option<usize> {
        lookups
            .get(spec)
            .and_then(|lookup| lookup.get(cell).copied())
    };
    let mut warnings = Vec::new();
    let target = options
        .target
        .as_ref()
        .and_then(|target| resolve_target(&table, Some(target)).ok());
    let ignored: Vec<String> = (0..table.names.len())
        .filter(|column| !is_used.get(*column).copied().unwrap_or(false) && Some(*column) != target)
        .map(|column| table.name(column))
        .collect();
    if !ignored.is_empty() {
        warnings.push(format!(
            "{file}: column(s) not used by the model, ignored: {}",
            list_columns(&ignored)
        ));
    }
    // Cells are checked in file order within a row.
    let mut order: Vec<(usize, usize)> = used.iter().copied().zip(0..).collect();
    order.sort_unstable();
    let policy = options.missing;
    let keep = |line: u64, record: &StringRecord| -> Result<bool, CsvError> {
        let first_missing = order
            .iter()
            .map(|&(column, _)| column)
            .find(|&column| record.get(column).is_none_or(is_missing));
        match (first_missing, policy) {
            (None, _) | (Some(_), MissingPolicy::Mean) => Ok(true),
            (Some(_), MissingPolicy::Drop) => Ok(false),
            (Some(column), MissingPolicy::Error) => Err(table.missing(line, column)),
        }
    };

    // Pass 1: rows kept, bad cells, and what fills missing cells.
    let mut fill: Vec<Fill> = feature_columns.iter().map(|_| Fill::default()).collect();
    let mut kept = 0usize;
    let rows_read = table.for_each_row(|line, record| {
        if !keep(line, record)? {
            return Ok(());
        }
        kept += 1;
        for &(column, spec) in &order {
            let cell = record.get(column).unwrap_or_default();
            match (feature_columns.get(spec), fill.get_mut(spec)) {
                (Some(FeatureSpec::Numeric { .. }), Some(fill)) if !is_missing(cell) => {
                    match table.number(cell) {
                        Number::Finite(value) => fill.add_value(value),
                        Number::NonFinite => return Err(table.not_finite(line, column, cell)),
                        Number::Text => return Err(table.not_a_number(line, column, cell)),
                    }
                }
                (Some(FeatureSpec::Categorical { .. }), Some(fill)) if !is_missing(cell) => {
                    if let Some(index) = find_category(spec, cell) {
                        fill.add_category(index);
                    } else {
                        fill.add_unknown(line, cell);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    })?;
    if rows_read == 0 {
        return Err(CsvError::HeaderOnly { file }.into());
    }
    if kept == 0 {
        return Err(CsvError::AllRowsDropped {
            file,
            rows: rows_read,
        }
        .into());
    }
    if rows_read > kept {
        warnings.push(format!(
            "{file}: dropped {} of {rows_read} rows with missing cells",
            rows_read - kept
        ));
    }
    for ((spec, fill), &column) in feature_columns.iter().zip(&fill).zip(&used) {
        if let Some((line, value)) = &fill.first_unknown {
            warnings.push(format!(
                "{file}: column {:?}: {} cell(s) hold categories not seen in training (the first, {value:?}, on line {line}); they are encoded as all zeros",
                spec.name(),
                fill.unknown
            ));
        }
        if policy == MissingPolicy::Mean && fill.values == 0 && fill.counts.is_empty() {
            if let FeatureSpec::Numeric { name } = spec {
                return Err(CsvError::NoValues {
                    file,
                    column: column + 1,
                    name: name.clone(),
                }
                .into());
            }
        }
    }

    // Pass 2: the matrix.
    let width: usize = feature_columns.iter().map(FeatureSpec::width).sum();
    check_matrix_size(&file, kept, width, data.len())?;
    let mut features = Vec::with_capacity(kept * width);
    let mut lines = Vec::with_capacity(kept);
    let mut filled = 0usize;
    table.for_each_row(|line, record| {
        if !keep(line, record)? {
            return Ok(());
        }
        lines.push(line);
        for (index, ((spec, fill), &column)) in
            feature_columns.iter().zip(&fill).zip(&used).enumerate()
        {
            let cell = record.get(column).unwrap_or_default();
            let missing = is_missing(cell);
            filled += usize::from(missing);
            match spec {
                FeatureSpec::Numeric { .. } => match table.number(cell) {
                    _ if missing => features.push(fill.mean()),
                    Number::Finite(value) => features.push(value),
                    _ => return Err(table.not_a_number(line, column, cell)),
                },
                FeatureSpec::Categorical { categories, .. } => {
                    let start = features.len();
                    features.resize(start + categories.len(), 0.0);
                    let category = if missing {
                        fill.mode()
                    } else {
                        find_category(index, cell)
                    };
                    if let Some(slot) =
                        category.and_then(|category| features.get_mut(start + category))
                    {
                        *slot = 1.0;
                    }
                }
            }
        }
        Ok(())
    })?;
    if filled > 0 {
        warnings.push(format!(
            "{file}: filled {filled} missing cell(s) with this file's column means (most frequent category for string columns)"
        ));
    }
    Ok(ModelInput {
        features: Matrix::from_vec(kept, width, features)?,
        lines,
        warnings,
    })
}

/// What fills a spec's missing cells, and its unknown categories.
#[derive(Debug, Default)]
struct Fill {
    values: usize,
    sum: f64,
    counts: Vec<usize>,
    unknown: usize,
    first_unknown: Option<(u64, String)>,
}

impl Fill {
    fn add_value(&mut self, value: f32) {
        self.values += 1;
        self.sum += f64::from(value);
    }

    fn add_category(&mut self, index: usize) {
        if self.counts.len() <= index {
            self.counts.resize(index + 1, 0);
        }
        if let Some(count) = self.counts.get_mut(index) {
            *count += 1;
        }
    }

    fn add_unknown(&mut self, line: u64, cell: &str) {
        self.unknown += 1;
        self.first_unknown
            .get_or_insert_with(|| (line, cell.to_string()));
    }

    fn mean(&self) -> f32 {
        (self.sum / self.values.max(1) as f64) as f32
    }

    /// The most frequent known category (the first on ties), if any was seen.
    fn mode(&self) -> Option<usize> {
        let best = self
            .counts
            .iter()
            .copied()
            .max()
            .filter(|&count| count > 0)?;
        self.counts.iter().position(|&count| count == best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn specs_rebuild_columns_in_feature_order() {
        let colour = CategoricalColumn {
            name: "c".into(),
            categories: names(&["a", "b"]),
        };
        // A numeric column whose name looks like an encoded one stays numeric.
        let specs = feature_specs(&names(&["x", "c=a", "c=b", "d=q"]), &[colour]).unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[1].feature_names(), ["c=a", "c=b"]);
        assert_eq!(specs[2], FeatureSpec::Numeric { name: "d=q".into() });
        let widths: usize = specs.iter().map(FeatureSpec::width).sum();
        assert_eq!(widths, 4);
        assert!(feature_specs(&names(&["x", "x"]), &[]).is_err());
        let empty = CategoricalColumn {
            name: "e".into(),
            categories: Vec::new(),
        };
        assert!(feature_specs(&names(&["x"]), &[empty]).is_err());
    }

    #[test]
    fn fill_uses_means_and_the_first_most_frequent_category() {
        let mut fill = Fill::default();
        assert_eq!(fill.mode(), None);
        fill.add_category(2);
        fill.add_category(1);
        assert_eq!(fill.mode(), Some(1));
        fill.add_value(1.0);
        fill.add_value(2.0);
        assert_eq!(fill.mean(), 1.5);
    }

    #[test]
    fn no_header_files_match_generated_names() {
        let specs = [FeatureSpec::Numeric {
            name: "column_1".into(),
        }];
        let options = CsvOptions {
            has_header: false,
            ..CsvOptions::default()
        };
        let input = read_model_input(b"9,1.5\n9,2.5\n", "n.csv", &specs, &options).unwrap();
        assert_eq!(input.features.as_slice(), &[1.5, 2.5]);
        assert_eq!(input.lines, [1, 2]);
    }
}
