//! CSV loading: a plain or gzipped (`.csv.gz`) table becomes a [`Dataset`].
//!
//! - **Format.** The delimiter (comma, semicolon or tab) is detected from the first 20 non-blank
//!   rows unless given. Quoted fields (with delimiters or line breaks inside), CRLF line ends, a
//!   UTF-8 byte-order mark, blank lines and whitespace around cells are handled. The first row
//!   is a header unless [`CsvOptions::has_header`] is false; then columns are named `column_0`,
//!   `column_1`, … (0-based, like a target index).
//! - **Target.** Chosen by name or 0-based index ([`TargetColumn`]); the last column by default.
//!   Without [`CsvOptions::task`], string targets are class labels, integer targets with at most
//!   100 distinct values are class labels, anything else is a regression value. Class names are
//!   the sorted distinct labels (integers in numeric order: `"2"` before `"10"`).
//! - **Features.** A column whose non-missing cells are all numbers is numeric (in a
//!   semicolon-separated file a decimal comma is accepted: `1,5`). A column with
//!   fewer than half its cells numeric is categorical and one-hot encoded into columns named
//!   `{column}={category}`, categories sorted; the encodings are kept in
//!   [`Dataset::categories`]. A column that is mostly numbers but has a few other cells is an
//!   error naming the first such cell (`data.csv:7:3 (column "age"): expected a number, found
//!   "abc"`).
//! - **Missing cells** (empty, `NA`, `N/A`, `NaN`, `null`, `?`, any case) follow
//!   [`MissingPolicy`]: an error by default, or dropping the row, or filling with the column
//!   mean (the most frequent category for categorical columns). A missing target drops the row
//!   under both `drop` and `mean`.
//! - **Limits.** The input is decompressed once and parsed in passes over the same buffer,
//!   without a string per cell. At most [`MAX_COLUMNS`](crate::tabular::MAX_COLUMNS) columns
//!   are read, at most [`MAX_FEATURES`] encoded feature columns and [`MAX_CLASSES`] classes are
//!   made, and the feature matrix may take at most 32 times the decompressed input (or
//!   256 MiB, whichever is larger).
//!
//! For a trained model, [`read_model_input`] maps a new file's columns onto the model's stored
//! [`FeatureSpec`]s by name, reading the whole file (so missing cells can take this file's
//! column means); `predict` and `evaluate` stream theirs instead, with
//! [`ModelInputStream`](crate::tabular::ModelInputStream).
//!
//! ```
//! use backprop_data::csv_file::{parse_csv, CsvOptions};
//!
//! let text = "colour;size;kind\nred;1.5;a\nblue;2;b\nred;0.5;a\n";
//! let data = parse_csv(text.as_bytes(), "fruit.csv", &CsvOptions::default()).unwrap();
//! assert_eq!(data.feature_names, ["colour=blue", "colour=red", "size"]);
//! assert_eq!(data.class_names().unwrap(), ["a", "b"]);
//! assert_eq!(data.features.row(1), &[1.0, 0.0, 2.0]);
//! ```

mod columns;
mod error;
mod load;
mod model_input;
mod text;

pub use crate::tabular::cells::{detect_delimiter, is_missing};
pub use error::CsvError;
pub use model_input::{feature_specs, load_model_input, read_model_input, FeatureSpec, ModelInput};

use crate::{DataError, Dataset};
use std::path::Path;
use std::str::FromStr;

/// The most feature columns after one-hot encoding.
pub const MAX_FEATURES: usize = 100_000;

/// The most distinct class labels in a target column.
pub const MAX_CLASSES: usize = 10_000;

/// At most this many distinct integer targets make a classification task when no task is
/// given (conventions: "integer targets with at most 100 distinct values are classification").
pub const MAX_INFERRED_INTEGER_CLASSES: usize = 100;

/// Which column holds the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetColumn {
    /// The column with this header name (or `column_N` without a header).
    Name(String),
    /// The column at this 0-based index: `0` is the first column. An index beyond the last
    /// column falls back to a column whose name is that number, if there is one.
    Index(usize),
}

impl FromStr for TargetColumn {
    type Err = std::convert::Infallible;

    /// All ASCII digits make a 0-based [`TargetColumn::Index`] (saturating for absurdly long
    /// numbers, which then fail as out of range); anything else is a [`TargetColumn::Name`],
    /// trimmed.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
            Ok(TargetColumn::Index(text.parse().unwrap_or(usize::MAX)))
        } else {
            Ok(TargetColumn::Name(text.to_string()))
        }
    }
}

/// What to do with missing cells (`--missing error|drop|mean`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingPolicy {
    /// Stop with an error naming the first missing cell (the default).
    #[default]
    Error,
    /// Drop every row with a missing cell.
    Drop,
    /// Fill numeric cells with the column mean and categorical cells with the most frequent
    /// category; rows with a missing target are dropped.
    Mean,
}

impl FromStr for MissingPolicy {
    type Err = String;

    /// `error`, `drop` or `mean`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "error" => Ok(MissingPolicy::Error),
            "drop" => Ok(MissingPolicy::Drop),
            "mean" => Ok(MissingPolicy::Mean),
            _ => Err(format!(
                "unknown missing-value policy {text:?}; expected one of: error, drop, mean"
            )),
        }
    }
}

/// The task asked for (`--task classify|regress`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskHint {
    /// The target holds class labels (strings or numbers).
    Classify,
    /// The target holds real values.
    Regress,
}

impl FromStr for TaskHint {
    type Err = String;

    /// `classify` or `regress`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "classify" => Ok(TaskHint::Classify),
            "regress" => Ok(TaskHint::Regress),
            _ => Err(format!(
                "unknown task {text:?}; expected one of: classify, regress"
            )),
        }
    }
}

/// How to read a CSV file. The default: a header row, the last column as target, the delimiter
/// detected, missing cells an error, the task inferred.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The target column; `None` means the last column.
    pub target: Option<TargetColumn>,
    /// Whether the first row is a header (`--no-header` sets it to false).
    pub has_header: bool,
    /// The delimiter; `None` detects comma, semicolon or tab.
    pub delimiter: Option<u8>,
    /// What to do with missing cells.
    pub missing: MissingPolicy,
    /// The task; `None` infers it from the target column.
    pub task: Option<TaskHint>,
    /// Columns left out of the features (`--ignore`), by name or 0-based index.
    pub ignore: Vec<TargetColumn>,
    /// The only columns used as features (`--features`), by name or 0-based index; `None`
    /// uses every column but the target and the ignored ones.
    pub features: Option<Vec<TargetColumn>>,
}

/// What fills a column's missing cells under [`MissingPolicy::Mean`].
#[derive(Clone, Debug, PartialEq)]
pub enum FillValue {
    /// A numeric column's mean.
    Number(f32),
    /// A string column's most frequent category.
    Category(String),
}

/// A column's fill value, stored with a model so that new rows are filled the same way.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingFill {
    /// The column's name in the CSV header.
    pub column: String,
    /// What its missing cells become.
    pub value: FillValue,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            target: None,
            has_header: true,
            delimiter: None,
            missing: MissingPolicy::Error,
            task: None,
            ignore: Vec::new(),
            features: None,
        }
    }
}

/// What happened while loading, for the user: the delimiter found, rows dropped, cells filled.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvSummary {
    /// The delimiter used (detected or given).
    pub delimiter: u8,
    /// The target column's name.
    pub target_name: String,
    /// The task: given, or inferred from the target column.
    pub task: TaskHint,
    /// Data rows in the file (not counting the header or blank lines).
    pub rows_read: usize,
    /// Rows dropped for missing cells.
    pub rows_dropped: usize,
    /// Missing cells filled under [`MissingPolicy::Mean`].
    pub cells_filled: usize,
    /// Under [`MissingPolicy::Mean`], every feature column's fill value (mean or most frequent
    /// category over the rows read), in column order; empty otherwise.
    pub missing_fills: Vec<MissingFill>,
    /// Things the user should know, such as string columns whose values are nearly all
    /// distinct (an ID, a date or free text, one one-hot input per value).
    pub warnings: Vec<String>,
}

/// Reads a CSV file, gzipped when its name ends in `.gz` or its bytes start with the gzip
/// magic bytes. Error messages call the file by `path` as given.
pub fn load_csv(path: &Path, options: &CsvOptions) -> Result<Dataset, DataError> {
    load_csv_with_summary(path, options).map(|(data, _)| data)
}

/// [`load_csv`], also returning what happened while loading.
pub fn load_csv_with_summary(
    path: &Path,
    options: &CsvOptions,
) -> Result<(Dataset, CsvSummary), DataError> {
    let file = path.display().to_string();
    let bytes = read_file(path, &file)?;
    parse_csv_with_summary(&bytes, &file, options)
}

/// Parses CSV bytes (plain, or gzip when they start with the gzip magic bytes or
/// `source_name` ends in `.gz`). `source_name` is what error messages call the file, and
/// becomes the data set's name. Never panics, whatever the bytes.
pub fn parse_csv(
    bytes: &[u8],
    source_name: &str,
    options: &CsvOptions,
) -> Result<Dataset, DataError> {
    parse_csv_with_summary(bytes, source_name, options).map(|(data, _)| data)
}

/// [`parse_csv`], also returning what happened while loading.
pub fn parse_csv_with_summary(
    bytes: &[u8],
    source_name: &str,
    options: &CsvOptions,
) -> Result<(Dataset, CsvSummary), DataError> {
    let data = text::decompress(bytes, source_name)?;
    let text = text::utf8_text(&data, source_name)?;
    let table = text::Table::open(text, source_name, options.has_header, options.delimiter)?;
    load::load(&table, options, data.len())
}

/// The whole file, with the file's name in the error.
fn read_file(path: &Path, file: &str) -> Result<Vec<u8>, CsvError> {
    std::fs::read(path).map_err(|error| CsvError::Io {
        file: file.to_string(),
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_column_parses_digits_as_index() {
        assert_eq!("3".parse(), Ok(TargetColumn::Index(3)));
        assert_eq!(" 0 ".parse(), Ok(TargetColumn::Index(0)));
        assert_eq!("age".parse(), Ok(TargetColumn::Name("age".into())));
        assert_eq!("-1".parse(), Ok(TargetColumn::Name("-1".into())));
        assert_eq!(
            "99999999999999999999999".parse(),
            Ok(TargetColumn::Index(usize::MAX))
        );
    }

    #[test]
    fn policies_and_tasks_parse() {
        assert_eq!("Drop".parse(), Ok(MissingPolicy::Drop));
        assert_eq!("mean".parse(), Ok(MissingPolicy::Mean));
        assert!("zero".parse::<MissingPolicy>().is_err());
        assert_eq!("regress".parse(), Ok(TaskHint::Regress));
        assert!("cluster".parse::<TaskHint>().is_err());
        assert!(CsvOptions::default().has_header);
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let error = load_csv(Path::new("/nonexistent/x.csv"), &CsvOptions::default());
        let message = error.unwrap_err().to_string();
        assert!(message.starts_with("/nonexistent/x.csv: "), "{message}");
    }
}
