//! A CSV file (or any reader) read for a trained model, in chunks of rows.
//!
//! The model's input columns ([`FeatureSpec`]s) are matched to the header **by name**, in any
//! order; other columns (the target among them) are ignored. A column the model needs and the
//! input lacks is an error naming it. Categorical columns are one-hot encoded with the stored
//! categories; a category not seen in training becomes all zeros, counted in a warning.
//!
//! **Streaming limits.** Records are read one at a time and turned into matrices of at most
//! the requested number of rows (the command line uses [`CHUNK_ROWS`]), so memory is bounded by
//! one chunk, the detection prefix (≤ 1 MiB) and the longest record, whatever the input's
//! length; gzip input is decoded as a stream. A missing cell in a column the model uses takes
//! the fill value the model stored for that column when it was trained with `--missing mean`
//! ([`ModelInputStream::set_missing_fills`], as a scikit-learn `SimpleImputer` in a pipeline
//! applies its training statistics), and is otherwise an error naming its line and column. At
//! most [`MAX_COLUMNS`] columns are read.

use super::cells::{accepts_decimal_comma, is_missing, parse_number, Number, MAX_COLUMNS};
use super::stream::CsvStream;
use super::{list_names, TabularError};
use crate::csv_file::{FeatureSpec, FillValue, MissingFill};
use crate::TargetColumn;
use backprop_tensor::Matrix;
use csv::StringRecord;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Rows per chunk that `predict` and `evaluate` ask for.
pub const CHUNK_ROWS: usize = 4096;

/// One chunk of rows.
#[derive(Clone, Debug)]
pub struct InputChunk {
    /// Raw features (one-hot encoded, not scaled), in the model's input order.
    pub features: Matrix<f32>,
    /// The line each row starts on.
    pub lines: Vec<u64>,
    /// The target cells, row by row (as many per row as target columns).
    pub targets: Vec<String>,
}

/// Why a cell cannot be read.
#[derive(Clone, Copy)]
enum CellFault {
    Missing,
    NotFinite,
    NotANumber,
}

/// A model's input column found in the header.
struct UsedColumn {
    column: usize,
    spec: FeatureSpec,
    lookup: HashMap<String, usize>,
    unknown: u64,
    first_unknown: Option<(u64, String)>,
    /// What fills a missing cell, when the model stored a value for this column.
    fill: Option<FillValue>,
    /// Missing cells filled so far.
    filled: u64,
}

/// A CSV input matched to a model's columns, read in chunks.
pub struct ModelInputStream {
    stream: CsvStream,
    names: Vec<String>,
    used: Vec<UsedColumn>,
    width: usize,
    targets: Vec<usize>,
    record: StringRecord,
}

impl ModelInputStream {
    /// Opens the file at `path` (plain or gzip) and matches its header to `specs`.
    pub fn open(path: &Path, specs: &[FeatureSpec]) -> Result<Self, TabularError> {
        Self::start(CsvStream::open(path)?, specs)
    }

    /// Reads `reader` (plain or gzip, such as standard input), calling it `file` in messages,
    /// and matches its header to `specs`.
    pub fn from_reader(
        reader: Box<dyn Read>,
        file: String,
        specs: &[FeatureSpec],
    ) -> Result<Self, TabularError> {
        Self::start(CsvStream::from_reader(reader, file)?, specs)
    }

    fn start(mut stream: CsvStream, specs: &[FeatureSpec]) -> Result<Self, TabularError> {
        let mut record = StringRecord::new();
        let file = stream.file.clone();
        if stream.next_record(&mut record)?.is_none() {
            return Err(TabularError::NoHeader { file });
        }
        if record.len() > MAX_COLUMNS {
            return Err(TabularError::TooManyColumns {
                file,
                columns: record.len(),
                limit: MAX_COLUMNS,
            });
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
                fill: None,
                filled: 0,
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
    pub fn set_targets(&mut self, targets: &[TargetColumn]) -> Result<(), TabularError> {
        let file = &self.stream.file;
        let names = &self.names;
        self.targets = targets
            .iter()
            .map(|target| match target {
                TargetColumn::Name(name) => find_column(names, name, file, "the target column"),
                TargetColumn::Index(index) if *index < names.len() => Ok(*index),
                TargetColumn::Index(index) => Err(TabularError::TargetIndexOutOfRange {
                    file: file.clone(),
                    index: *index,
                    columns: names.len(),
                    last: names.len().saturating_sub(1),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(())
    }

    /// The values that fill missing cells, by column name (a model trained with `--missing
    /// mean` stores them); columns without one keep refusing missing cells.
    pub fn set_missing_fills(&mut self, fills: &[MissingFill]) {
        for used in &mut self.used {
            used.fill = fills
                .iter()
                .find(|fill| fill.column == used.spec.name())
                .map(|fill| fill.value.clone());
        }
    }

    /// Missing cells filled so far, over every column.
    pub fn filled_cells(&self) -> u64 {
        self.used.iter().map(|used| used.filled).sum()
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
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<InputChunk>, TabularError> {
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
        let features = Matrix::from_vec(rows, self.width, features).map_err(|source| {
            TabularError::Matrix {
                file: self.stream.file.clone(),
                source,
            }
        })?;
        Ok(Some(InputChunk {
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
    ) -> Result<(), TabularError> {
        let file = &self.stream.file;
        let record = &self.record;
        if record.len() != self.names.len() {
            return Err(TabularError::Ragged {
                file: file.clone(),
                line,
                found: record.len(),
                expected: self.names.len(),
            });
        }
        let decimal_comma = accepts_decimal_comma(self.stream.delimiter);
        for used in &mut self.used {
            let cell = record.get(used.column).unwrap_or_default();
            // Built only on failure: a cell's place and value, for the error chosen by `kind`.
            let fail = |kind: CellFault| {
                let (file, column) = (file.clone(), used.column + 1);
                let (name, value) = (used.spec.name().to_string(), cell.to_string());
                match kind {
                    CellFault::Missing => TabularError::MissingValue {
                        file,
                        line,
                        column,
                        name,
                        value,
                    },
                    CellFault::NotFinite => TabularError::NotFinite {
                        file,
                        line,
                        column,
                        name,
                        value,
                    },
                    CellFault::NotANumber => TabularError::NotANumber {
                        file,
                        line,
                        column,
                        name,
                        value,
                    },
                }
            };
            let filled;
            let cell = if !is_missing(cell) {
                cell
            } else {
                match &used.fill {
                    None => return Err(fail(CellFault::Missing)),
                    Some(FillValue::Number(value)) => {
                        used.filled += 1;
                        features.push(*value);
                        continue;
                    }
                    Some(FillValue::Category(category)) => {
                        used.filled += 1;
                        filled = category.clone();
                        filled.as_str()
                    }
                }
            };
            match &used.spec {
                FeatureSpec::Numeric { .. } => match parse_number(cell, decimal_comma) {
                    Number::Finite(number) => features.push(number),
                    Number::NonFinite => return Err(fail(CellFault::NotFinite)),
                    Number::Text => return Err(fail(CellFault::NotANumber)),
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

    /// What the user should know after reading: categories not seen in training, and missing
    /// cells filled with the model's stored values.
    pub fn warnings(&self) -> Vec<String> {
        let filled = self.used.iter().filter(|used| used.filled > 0).map(|used| {
            format!(
                "{}: column {:?}: {} missing cell(s) filled with the value stored in the model \
                 (--missing mean in training)",
                self.stream.file,
                used.spec.name(),
                used.filled
            )
        });
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
            .chain(filled)
            .collect()
    }
}

/// The single column called `name`, or an error naming it and listing the columns.
fn find_column(
    names: &[String],
    name: &str,
    file: &str,
    role: &'static str,
) -> Result<usize, TabularError> {
    let mut found = names
        .iter()
        .enumerate()
        .filter(|(_, column)| *column == name)
        .map(|(index, _)| index);
    match (found.next(), found.next()) {
        (Some(index), None) => Ok(index),
        (Some(_), Some(_)) => Err(TabularError::DuplicateColumn {
            file: file.to_string(),
            name: name.to_string(),
        }),
        (None, _) => Err(TabularError::MissingColumn {
            file: file.to_string(),
            name: name.to_string(),
            role,
            columns: list_names(names),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> Vec<FeatureSpec> {
        vec![
            FeatureSpec::Numeric { name: "a".into() },
            FeatureSpec::Categorical {
                name: "c".into(),
                categories: vec!["x".into(), "y".into()],
            },
        ]
    }

    fn open(text: &'static str) -> Result<ModelInputStream, TabularError> {
        ModelInputStream::from_reader(Box::new(text.as_bytes()), "t.csv".into(), &specs())
    }

    #[test]
    fn columns_are_matched_by_name_and_encoded_in_chunks() {
        let mut input = open("c;y;a\nx;1;1,5\nz;0;2\ny;1;-3\n").unwrap();
        input
            .set_targets(&[TargetColumn::Name("y".into())])
            .unwrap();
        assert_eq!(input.target_names(), ["y"]);
        assert!(input.ignored_columns().is_empty());
        let first = input.next_chunk(2).unwrap().unwrap();
        assert_eq!(first.features.as_slice(), &[1.5, 1.0, 0.0, 2.0, 0.0, 0.0]);
        assert_eq!(
            (first.lines, first.targets),
            (vec![2, 3], vec!["1".into(), "0".into()])
        );
        let second = input.next_chunk(2).unwrap().unwrap();
        assert_eq!(second.features.as_slice(), &[-3.0, 0.0, 1.0]);
        assert!(input.next_chunk(2).unwrap().is_none());
        let warnings = input.warnings();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("\"z\", on line 3") && warnings[0].contains("1 cell(s)"),
            "{warnings:?}"
        );
    }

    #[test]
    fn errors_name_the_line_the_column_and_the_value() {
        let message = |text: &'static str| {
            let mut input = match open(text) {
                Ok(input) => input,
                Err(error) => return error.to_string(),
            };
            loop {
                match input.next_chunk(10) {
                    Ok(Some(_)) => {}
                    Ok(None) => return String::new(),
                    Err(error) => {
                        assert!(error.is_bad_input(), "{error}");
                        return error.to_string();
                    }
                }
            }
        };
        assert_eq!(
            message("a,c\n1,x\nNA,y\n"),
            "t.csv:3:1 (column \"a\"): missing value \"NA\"; predict and evaluate do not fill missing cells"
        );
        assert_eq!(
            message("a,c\nabc,x\n"),
            "t.csv:2:1 (column \"a\"): expected a number, found \"abc\""
        );
        assert_eq!(
            message("a,c\ninf,x\n"),
            "t.csv:2:1 (column \"a\"): \"inf\" is not a finite number"
        );
        assert_eq!(
            message("a,c\n1,x,3\n"),
            "t.csv:2: the row has 3 fields, but the header has 2"
        );
        assert_eq!(
            message("a,b\n1,2\n"),
            "t.csv: missing column \"c\", which the model needs; the columns are: \"a\", \"b\""
        );
        assert_eq!(
            message("a,c,a\n1,x,2\n"),
            "t.csv: the header names column \"a\" more than once"
        );
        assert_eq!(message(""), "t.csv: the input is empty (no header row)");
        let mut input = open("a,c\n1,x\n").unwrap();
        let error = input.set_targets(&[TargetColumn::Index(2)]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "t.csv: --target 2 is out of range: the input has 2 columns (0 to 1)"
        );
    }

    #[test]
    fn names_are_listed_up_to_twenty() {
        let names: Vec<String> = (0..23).map(|i| format!("n{i}")).collect();
        let listed = list_names(&names);
        assert!(listed.starts_with("\"n0\", \"n1\""), "{listed}");
        assert!(listed.ends_with("\"n19\" and 3 more"), "{listed}");
    }
}
