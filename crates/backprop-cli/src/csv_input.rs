//! A CSV file (or standard input) read for a trained model, in chunks of rows.
//!
//! The model's input columns ([`FeatureSpec`]s) are matched to the header **by name**, in any
//! order; other columns (the target among them) are ignored. A column the model needs and the
//! input lacks is an error naming it. Categorical columns are one-hot encoded with the stored
//! categories; a category not seen in training becomes all zeros, counted in a warning.
//!
//! **Streaming limits.** Records are read one at a time ([`crate::csv_stream`]) and turned into
//! matrices of at most [`CHUNK_ROWS`] rows, so memory is bounded by one chunk, the detection
//! prefix (≤ 1 MiB) and the longest record, whatever the input's length; gzip input is decoded
//! as a stream. Unlike training, missing cells cannot be filled with a column mean (that needs
//! a second pass): a missing cell in a column the model uses is an error naming its line and
//! column. At most [`MAX_COLUMNS`] columns are read.

use crate::csv_stream::CsvStream;
use crate::csv_text::{is_missing, list_names, parse_number};
use crate::exit::CliError;
use backprop::Matrix;
use backprop_data::csv_file::FeatureSpec;
use backprop_data::TargetColumn;
use csv::StringRecord;
use std::collections::HashMap;
use std::path::Path;

/// Rows per chunk.
pub const CHUNK_ROWS: usize = 4096;

/// The most columns an input may have.
pub const MAX_COLUMNS: usize = 100_000;

/// One chunk of rows.
#[derive(Clone, Debug)]
pub struct Chunk {
    /// Raw features (one-hot encoded, not scaled), in the model's input order.
    pub features: Matrix<f32>,
    /// The line each row starts on.
    pub lines: Vec<u64>,
    /// The target cells, row by row (as many per row as target columns).
    pub targets: Vec<String>,
}

/// A model's input column found in the header.
struct UsedColumn {
    column: usize,
    spec: FeatureSpec,
    lookup: HashMap<String, usize>,
    unknown: u64,
    first_unknown: Option<(u64, String)>,
}

/// A CSV input matched to a model's columns.
pub struct CsvInput {
    stream: CsvStream,
    names: Vec<String>,
    used: Vec<UsedColumn>,
    width: usize,
    targets: Vec<usize>,
    record: StringRecord,
}

impl CsvInput {
    /// Opens `path` (`-` for standard input) and matches its header to `specs`.
    pub fn open(path: &Path, specs: &[FeatureSpec]) -> Result<Self, CliError> {
        let mut stream = CsvStream::open(path)?;
        let mut record = StringRecord::new();
        let file = stream.file.clone();
        if stream.next_record(&mut record)?.is_none() {
            return Err(CliError::usage(format!(
                "{file}: the input is empty (no header row)"
            )));
        }
        if record.len() > MAX_COLUMNS {
            return Err(CliError::usage(format!(
                "{file}: the header has {} columns, more than the {MAX_COLUMNS} allowed",
                record.len()
            )));
        }
        let names: Vec<String> = record.iter().map(str::to_string).collect();
        let mut used = Vec::with_capacity(specs.len());
        for spec in specs {
            let column = find_column(&names, spec.name(), &file, "which the model needs")?;
            let lookup = match spec {
                FeatureSpec::Numeric { .. } => HashMap::new(),
                FeatureSpec::Categorical { categories, .. } => categories
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(index, category)| (category.clone(), index))
                    .collect(),
            };
            used.push(UsedColumn {
                column,
                spec: spec.clone(),
                lookup,
                unknown: 0,
                first_unknown: None,
            });
        }
        let width = specs.iter().map(FeatureSpec::width).sum();
        Ok(Self {
            stream,
            names,
            used,
            width,
            targets: Vec::new(),
            record,
        })
    }

    /// Chooses the target columns, whose cells come with each chunk (by name or 0-based
    /// index).
    pub fn set_targets(&mut self, targets: &[TargetColumn]) -> Result<(), CliError> {
        let file = &self.stream.file;
        let names = &self.names;
        self.targets = targets
            .iter()
            .map(|target| match target {
                TargetColumn::Name(name) => find_column(names, name, file, "the target column"),
                TargetColumn::Index(index) if *index < names.len() => Ok(*index),
                TargetColumn::Index(index) => Err(CliError::usage(format!(
                    "{file}: --target {index} is out of range: the input has {} columns (0 to {})",
                    names.len(),
                    names.len() - 1
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(())
    }

    /// The input's name in messages.
    pub fn file(&self) -> &str {
        &self.stream.file
    }

    /// The names of the target columns, in the order their cells come.
    pub fn target_names(&self) -> Vec<String> {
        self.targets
            .iter()
            .map(|&column| self.names[column].clone())
            .collect()
    }

    /// Columns neither used by the model nor read as targets.
    pub fn ignored_columns(&self) -> Vec<String> {
        (0..self.names.len())
            .filter(|column| {
                !self.used.iter().any(|used| used.column == *column)
                    && !self.targets.contains(column)
            })
            .map(|column| self.names[column].clone())
            .collect()
    }

    /// The next chunk of at most `max_rows` rows; `None` at the end of the input.
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<Chunk>, CliError> {
        let mut features = Vec::with_capacity(max_rows.min(CHUNK_ROWS) * self.width);
        let mut lines = Vec::new();
        let mut targets = Vec::new();
        while lines.len() < max_rows {
            let Some(line) = self.stream.next_record(&mut self.record)? else {
                break;
            };
            self.encode_row(line, &mut features, &mut targets)?;
            lines.push(line);
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let rows = lines.len();
        let features = Matrix::from_vec(rows, self.width, features)
            .map_err(|error| CliError::Runtime(format!("{}: {error}", self.stream.file)))?;
        Ok(Some(Chunk {
            features,
            lines,
            targets,
        }))
    }

    /// Appends one record's features and target cells.
    fn encode_row(
        &mut self,
        line: u64,
        features: &mut Vec<f32>,
        targets: &mut Vec<String>,
    ) -> Result<(), CliError> {
        let file = &self.stream.file;
        let record = &self.record;
        if record.len() != self.names.len() {
            return Err(CliError::usage(format!(
                "{file}:{line}: the row has {} fields, but the header has {}",
                record.len(),
                self.names.len()
            )));
        }
        let decimal_comma = self.stream.delimiter == b';';
        for used in &mut self.used {
            let cell = record.get(used.column).unwrap_or_default();
            let place = || place(file, line, used.column, used.spec.name());
            if is_missing(cell) {
                return Err(CliError::usage(format!(
                    "{}: missing value {cell:?}; predict and evaluate do not fill missing cells",
                    place()
                )));
            }
            match &used.spec {
                FeatureSpec::Numeric { .. } => match parse_number(cell, decimal_comma) {
                    Some(value) if value.is_finite() => features.push(value),
                    Some(_) => {
                        return Err(CliError::usage(format!(
                            "{}: {cell:?} is not a finite number",
                            place()
                        )))
                    }
                    None => {
                        return Err(CliError::usage(format!(
                            "{}: expected a number, found {cell:?}",
                            place()
                        )))
                    }
                },
                FeatureSpec::Categorical { categories, .. } => {
                    let start = features.len();
                    features.resize(start + categories.len(), 0.0);
                    match used.lookup.get(cell) {
                        Some(&index) => features[start + index] = 1.0,
                        None => {
                            used.unknown += 1;
                            used.first_unknown
                                .get_or_insert_with(|| (line, cell.to_string()));
                        }
                    }
                }
            }
        }
        for &column in &self.targets {
            targets.push(record.get(column).unwrap_or_default().to_string());
        }
        Ok(())
    }

    /// What the user should know after reading: categories not seen in training.
    pub fn warnings(&self) -> Vec<String> {
        self.used
            .iter()
            .filter_map(|used| {
                used.first_unknown.as_ref().map(|(line, value)| {
                    format!(
                        "{}: column {:?}: {} cell(s) hold categories not seen in training (the first, {value:?}, on line {line}); they are encoded as all zeros",
                        self.stream.file,
                        used.spec.name(),
                        used.unknown
                    )
                })
            })
            .collect()
    }
}

/// `file:line:column (column "name")`, the column 1-based.
fn place(file: &str, line: u64, column: usize, name: &str) -> String {
    format!("{file}:{line}:{} (column {name:?})", column + 1)
}

/// The single column called `name`, or an error naming it and listing the columns.
fn find_column(names: &[String], name: &str, file: &str, role: &str) -> Result<usize, CliError> {
    let mut found = names
        .iter()
        .enumerate()
        .filter(|(_, column)| *column == name)
        .map(|(index, _)| index);
    match (found.next(), found.next()) {
        (Some(index), None) => Ok(index),
        (Some(_), Some(_)) => Err(CliError::usage(format!(
            "{file}: the header names column {name:?} more than once"
        ))),
        (None, _) => Err(CliError::usage(format!(
            "{file}: missing column {name:?}, {role}; the columns are: {}",
            list_names(names)
        ))),
    }
}
