//! [`CsvError`]: everything that can be wrong with a CSV file, each message naming the file and,
//! where a cell is at fault, its line (1-based, as in the file) and column (1-based number and
//! header name), as in `data.csv:7:3 (column "age"): expected a number, found "abc"`.

/// Why a CSV file could not be read. I/O and decompression errors are kept as strings so that
/// the type stays `Clone + PartialEq`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {
    /// The file could not be opened or read.
    #[error("{file}: {message}")]
    Io {
        /// The file as named by the user.
        file: String,
        /// The operating system's message.
        message: String,
    },
    /// Nothing but whitespace: no header and no row.
    #[error("{file}: the file is empty (no header and no data rows)")]
    Empty {
        /// The file.
        file: String,
    },
    /// A header and no data row below it.
    #[error("{file}: the file has a header but no data rows")]
    HeaderOnly {
        /// The file.
        file: String,
    },
    /// Only one column: a target and no feature, or a delimiter other than `,` `;` or tab.
    #[error(
        "{file}:{line}: only one column found (delimiters tried: comma, semicolon, tab); a CSV needs a target column and at least one feature column"
    )]
    OneColumn {
        /// The file.
        file: String,
        /// The line of the first row.
        line: u64,
    },
    /// A row with more or fewer fields than the first row (the header).
    #[error(
        "{file}:{line}:{column}: ragged row: expected {expected} fields as in the first row (line {first_line}), found {found}"
    )]
    Ragged {
        /// The file.
        file: String,
        /// The line where the row starts.
        line: u64,
        /// The first missing (or first extra) field, 1-based.
        column: usize,
        /// Fields in the first row.
        expected: usize,
        /// Fields in this row.
        found: usize,
        /// The line of the first row.
        first_line: u64,
    },
    /// A missing cell (empty, `NA`, `N/A`, `NaN`, `null` or `?`) under `--missing error`.
    #[error(
        "{file}:{line}:{column} (column {name:?}): missing value; use --missing drop to drop rows with missing cells, or --missing mean to fill them with the column mean (the most frequent category for string columns)"
    )]
    Missing {
        /// The file.
        file: String,
        /// The line of the row.
        line: u64,
        /// The column, 1-based.
        column: usize,
        /// The column's name.
        name: String,
    },
    /// A cell that is not a number in a column that is mostly numbers.
    #[error("{file}:{line}:{column} (column {name:?}): expected a number, found {value:?}")]
    NotANumber {
        /// The file.
        file: String,
        /// The line of the row.
        line: u64,
        /// The column, 1-based.
        column: usize,
        /// The column's name.
        name: String,
        /// The cell as written (trimmed).
        value: String,
    },
    /// `inf`, `-inf`, `Infinity`, or a number beyond the range of `f32`, in a numeric column.
    #[error("{file}:{line}:{column} (column {name:?}): not a finite number: {value:?}")]
    NotFinite {
        /// The file.
        file: String,
        /// The line of the row.
        line: u64,
        /// The column, 1-based.
        column: usize,
        /// The column's name.
        name: String,
        /// The cell as written (trimmed).
        value: String,
    },
    /// A numeric feature column whose cells are all missing (under `--missing mean`).
    #[error("{file}: column {column} ({name:?}) has no value at all to take a mean of")]
    NoValues {
        /// The file.
        file: String,
        /// The column, 1-based.
        column: usize,
        /// The column's name.
        name: String,
    },
    /// A target name that is not in the header.
    #[error("{file}: no column named {name:?} for the target; the columns are: {columns}")]
    UnknownTarget {
        /// The file.
        file: String,
        /// The name as given.
        name: String,
        /// The header's names, comma-separated (shortened when there are many).
        columns: String,
    },
    /// A column named in `--ignore` or `--features` that the header does not have, or an
    /// index past the last column.
    #[error("{file}: {flag}: no column {name:?}; the columns are {columns}")]
    UnknownColumn {
        /// The file.
        file: String,
        /// The flag that named it.
        flag: &'static str,
        /// The name or index as given.
        name: String,
        /// The header's names, comma-separated (shortened when there are many).
        columns: String,
    },
    /// `--ignore` or `--features` names the target column, or leaves no feature.
    #[error("{file}: {message}")]
    ColumnChoice {
        /// The file.
        file: String,
        /// What is wrong with the choice of columns.
        message: String,
    },
    /// A target index at or beyond the number of columns.
    #[error(
        "{file}: target column index {index} is out of range: indices are 0-based and the file has {columns} columns (0 to {last})"
    )]
    TargetIndexOutOfRange {
        /// The file.
        file: String,
        /// The index as given.
        index: usize,
        /// Columns in the file.
        columns: usize,
        /// The largest valid index.
        last: usize,
    },
    /// `--task regress` with a target column of strings.
    #[error(
        "{file}:{line}:{column} (column {name:?}): the target must be a number for regression (--task regress), found {value:?}; leave out --task regress (or use --task classify) to treat it as class labels"
    )]
    NonNumericRegressionTarget {
        /// The file.
        file: String,
        /// The line of the first non-numeric target.
        line: u64,
        /// The target column, 1-based.
        column: usize,
        /// The target column's name.
        name: String,
        /// The cell as written (trimmed).
        value: String,
    },
    /// Corrupt or truncated gzip data, or a `.gz` name on data that is not gzip.
    #[error("{file}: corrupt or truncated gzip data: {message}")]
    Gzip {
        /// The file.
        file: String,
        /// What the decoder reported.
        message: String,
    },
    /// Bytes that are not UTF-8.
    #[error("{file}:{line}: invalid UTF-8 (save the file as UTF-8)")]
    InvalidUtf8 {
        /// The file.
        file: String,
        /// The line of the first invalid byte.
        line: u64,
    },
    /// More columns than accepted, in the file or after one-hot encoding.
    #[error(
        "{file}: {columns} columns{after}, more than the limit of {limit}; drop string columns with many distinct values (identifiers, free text)"
    )]
    TooManyColumns {
        /// The file.
        file: String,
        /// Columns counted so far (at least this many).
        columns: usize,
        /// `""` for the file's own columns, `" after one-hot encoding"` for encoded ones.
        after: &'static str,
        /// The largest accepted count.
        limit: usize,
    },
    /// More distinct class labels than accepted.
    #[error(
        "{file}: target column {name:?} has more than {limit} distinct labels; for a numeric target use --task regress"
    )]
    TooManyClasses {
        /// The file.
        file: String,
        /// The target column's name.
        name: String,
        /// The largest accepted number of classes.
        limit: usize,
    },
    /// A feature matrix that would be far larger than the input (one-hot encoding blow-up).
    #[error(
        "{file}: the encoded feature matrix ({rows} rows × {columns} columns) would take {bytes} bytes, more than the limit of {limit} bytes for this input; drop string columns with many distinct values"
    )]
    TooLarge {
        /// The file.
        file: String,
        /// Rows.
        rows: usize,
        /// Encoded columns.
        columns: usize,
        /// Bytes the matrix would take (saturated).
        bytes: usize,
        /// The limit for this input.
        limit: usize,
    },
    /// Two columns with the same name (in the header, or after one-hot encoding).
    #[error(
        "{file}: the column name {name:?} occurs more than once{after}; names must be unique to match features by name"
    )]
    DuplicateColumn {
        /// The file.
        file: String,
        /// The repeated name.
        name: String,
        /// `""` for the header, `" after one-hot encoding"` for encoded names.
        after: &'static str,
    },
    /// Every data row had a missing cell and was dropped.
    #[error("{file}: all {rows} data rows have a missing cell; none is left after dropping them")]
    AllRowsDropped {
        /// The file.
        file: String,
        /// Data rows read.
        rows: usize,
    },
    /// A column the model needs is not in the file.
    #[error("{file}: the model needs the column {name:?}, which is not in the file; the columns are: {columns}")]
    MissingFeatureColumn {
        /// The file.
        file: String,
        /// The name of the needed column.
        name: String,
        /// The header's names, comma-separated (shortened when there are many).
        columns: String,
    },
    /// Feature names and categorical encodings (e.g. read from a model file) that do not fit
    /// together.
    #[error("inconsistent feature encoding: {reason}")]
    InconsistentEncoding {
        /// What does not fit.
        reason: String,
    },
}

/// A comma-separated list of column names for messages, shortened after 20 names.
pub(crate) fn list_columns(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut list = names
        .iter()
        .take(SHOWN)
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        list.push_str(&format!(" … ({} more)", names.len() - SHOWN));
    }
    list
}
