//! What can go wrong while preparing a table for a model. Every message names the input and,
//! where there is one, the line, the column and the value; [`TabularError::is_bad_input`] tells
//! the input's faults from failures to read it.

use crate::DataError;
use backprop_tensor::TensorError;
use std::io;

/// A table that cannot be read, encoded or matched to a model.
#[derive(Debug, thiserror::Error)]
pub enum TabularError {
    /// The input file could not be opened.
    #[error("{file}: cannot open: {source}")]
    Open {
        /// The input as given.
        file: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// The input could not be read (not a problem with its content).
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The input.
        file: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// The input starts like gzip but does not decode.
    #[error("{file}: not valid gzip data: {source}")]
    Gzip {
        /// The input.
        file: String,
        /// The decoder's error.
        source: io::Error,
    },
    /// The text is not UTF-8.
    #[error("{file}{}: the text is not valid UTF-8", near_line(*line))]
    InvalidUtf8 {
        /// The input.
        file: String,
        /// The line, when known.
        line: Option<u64>,
    },
    /// The CSV reader refused the text for another reason.
    #[error("{file}: cannot read the CSV: {message}")]
    Csv {
        /// The input.
        file: String,
        /// The reader's description.
        message: String,
    },
    /// Not even a header row.
    #[error("{file}: the input is empty (no header row)")]
    NoHeader {
        /// The input.
        file: String,
    },
    /// More columns than [`super::MAX_COLUMNS`].
    #[error("{file}: the header has {columns} columns, more than the {limit} allowed")]
    TooManyColumns {
        /// The input.
        file: String,
        /// Columns in the header.
        columns: usize,
        /// The most allowed.
        limit: usize,
    },
    /// A column the reader needs is named twice in the header.
    #[error("{file}: the header names column {name:?} more than once")]
    DuplicateColumn {
        /// The input.
        file: String,
        /// The column's name.
        name: String,
    },
    /// A column the reader needs is not in the header.
    #[error("{file}: missing column {name:?}, {role}; the columns are: {columns}")]
    MissingColumn {
        /// The input.
        file: String,
        /// The column's name.
        name: String,
        /// Why it is needed: `"which the model needs"`, `"the target column"`.
        role: &'static str,
        /// The header's columns, listed.
        columns: String,
    },
    /// A target column index beyond the last column.
    #[error(
        "{file}: --target {index} is out of range: the input has {columns} columns (0 to {last})"
    )]
    TargetIndexOutOfRange {
        /// The input.
        file: String,
        /// The 0-based index given.
        index: usize,
        /// Columns in the header.
        columns: usize,
        /// The last valid index.
        last: usize,
    },
    /// A row whose field count differs from the header's.
    #[error("{file}:{line}: the row has {found} fields, but the header has {expected}")]
    Ragged {
        /// The input.
        file: String,
        /// The row's line.
        line: u64,
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A missing cell in a column the model reads; a streamed input cannot take a column mean.
    #[error(
        "{file}:{line}:{column} (column {name:?}): missing value {value:?}; predict and evaluate do not fill missing cells"
    )]
    MissingValue {
        /// The input.
        file: String,
        /// The row's line.
        line: u64,
        /// The 1-based column.
        column: usize,
        /// The column's name.
        name: String,
        /// The cell as written (a missing marker).
        value: String,
    },
    /// A numeric cell that is infinite or beyond `f32`.
    #[error("{file}:{line}:{column} (column {name:?}): {value:?} is not a finite number")]
    NotFinite {
        /// The input.
        file: String,
        /// The row's line.
        line: u64,
        /// The 1-based column.
        column: usize,
        /// The column's name.
        name: String,
        /// The cell.
        value: String,
    },
    /// A cell of a numeric column that is not a number.
    #[error("{file}:{line}:{column} (column {name:?}): expected a number, found {value:?}")]
    NotANumber {
        /// The input.
        file: String,
        /// The row's line.
        line: u64,
        /// The 1-based column.
        column: usize,
        /// The column's name.
        name: String,
        /// The cell.
        value: String,
    },
    /// A class label the model does not know.
    #[error(
        "{file}:{line}: the target {value:?} (column {column:?}) is not one of the model's classes: {classes}"
    )]
    UnknownClass {
        /// The input.
        file: String,
        /// The row's line.
        line: u64,
        /// The label.
        value: String,
        /// The target column's name.
        column: String,
        /// The model's classes, listed.
        classes: String,
    },
    /// A regression target that is not a finite number.
    #[error("{file}:{line} (column {column:?}): the target {value:?} is not a finite number")]
    TargetNotFinite {
        /// The input.
        file: String,
        /// The row's line.
        line: u64,
        /// The target column's name.
        column: String,
        /// The cell.
        value: String,
    },
    /// A class of an in-memory data set that the model does not know.
    #[error("{data}: the class {class:?} is not one of the model's classes: {classes}")]
    UnknownDatasetClass {
        /// The data set's name.
        data: String,
        /// The class name.
        class: String,
        /// The model's classes, listed.
        classes: String,
    },
    /// Regression targets of another width than the model's outputs.
    #[error("{data}: {columns} target columns, but the model has {outputs} outputs")]
    TargetWidth {
        /// The data set's name.
        data: String,
        /// Target columns in the data.
        columns: usize,
        /// The model's outputs.
        outputs: usize,
    },
    /// Class labels for a regression model.
    #[error("{data} holds class labels, but the model is a regression model")]
    LabelsForRegression {
        /// The data set's name.
        data: String,
    },
    /// Real values for a classifier.
    #[error("{data} holds real values, but the model is a classifier")]
    ValuesForClassifier {
        /// The data set's name.
        data: String,
    },
    /// Data whose target is for the other task than the model's.
    #[error(
        "the data does not fit the model {model}: the model does {model_task}, the data's target is for {data_task} (use --task to choose)"
    )]
    TaskMismatch {
        /// The model file.
        model: String,
        /// `"classification"` or `"regression"`.
        model_task: &'static str,
        /// `"classification"` or `"regression"`.
        data_task: &'static str,
    },
    /// A model input the data does not have.
    #[error(
        "the data does not fit the model {model}: its input feature {name:?} is not in the data; {widths}"
    )]
    FeatureNotInData {
        /// The model file.
        model: String,
        /// The feature's name.
        name: String,
        /// Both sides' features, described.
        widths: String,
    },
    /// A data feature the model does not take (other than an unseen category).
    #[error(
        "the data does not fit the model {model}: the data's feature {name:?} is not an input of the model; {widths}"
    )]
    FeatureNotInModel {
        /// The model file.
        model: String,
        /// The feature's name.
        name: String,
        /// Both sides' features, described.
        widths: String,
    },
    /// Regression targets of another width than the model's outputs.
    #[error(
        "the data does not fit the model {model}: the model predicts {outputs} values, the data has {columns} target columns"
    )]
    ValueColumns {
        /// The model file.
        model: String,
        /// The model's outputs.
        outputs: usize,
        /// Target columns in the data.
        columns: usize,
    },
    /// A class of the data that the model does not have.
    #[error(
        "the data does not fit the model {model}: the data's class {name:?} is not one of the model's {count} classes ({classes})"
    )]
    ClassNotInModel {
        /// The model file.
        model: String,
        /// The class name.
        name: String,
        /// The model's number of classes.
        count: usize,
        /// The model's classes, listed.
        classes: String,
    },
    /// A matrix of rows could not be made (the counts disagree: a bug, not the input's fault).
    #[error("{file}: {source}")]
    Matrix {
        /// The input.
        file: String,
        /// The shape error.
        source: TensorError,
    },
    /// A data set could not be made from the encoded parts.
    #[error(transparent)]
    Data(#[from] DataError),
}

impl TabularError {
    /// True when the input (or the request) is at fault, including a file that does not exist;
    /// false when an existing input could not be opened or read, or the rows could not be
    /// assembled, which are failures while running.
    pub fn is_bad_input(&self) -> bool {
        match self {
            TabularError::Open { source, .. } => source.kind() == io::ErrorKind::NotFound,
            TabularError::Read { .. } | TabularError::Matrix { .. } => false,
            TabularError::Data(error) => !matches!(error, DataError::EmbeddedData { .. }),
            _ => true,
        }
    }
}

/// ` near line N` when the line is known.
fn near_line(line: Option<u64>) -> String {
    line.map_or(String::new(), |line| format!(" near line {line}"))
}

/// Up to 20 names, quoted, then a count of the rest.
pub fn list_names(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(20)
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 20 {
        text.push_str(&format!(" and {} more", names.len() - 20));
    }
    text
}
