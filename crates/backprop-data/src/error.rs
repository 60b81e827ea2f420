//! The one error type of this crate: every problem with user-supplied data or arguments
//! (sample counts, noise, split fractions, tiny classes, inconsistent shapes) is a
//! [`DataError`] with a message that names the offending value.

use backprop_tensor::TensorError;

/// Something is wrong with a data set or with the arguments used to make or split one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// A built-in name that does not exist.
    #[error("unknown built-in data set {name:?}; expected one of: {expected}")]
    UnknownBuiltIn {
        /// The name as given.
        name: String,
        /// The accepted names, comma-separated.
        expected: String,
    },
    /// A scaler name that does not exist.
    #[error("unknown scaler {name:?}; expected one of: standard, minmax, none")]
    UnknownScaler {
        /// The name as given.
        name: String,
    },
    /// Fewer samples than a generator accepts.
    #[error("{dataset}: {requested} samples requested, at least {minimum} are needed")]
    TooFewSamples {
        /// The data set's name.
        dataset: String,
        /// Samples asked for.
        requested: usize,
        /// The smallest accepted count.
        minimum: usize,
    },
    /// More samples than a generator accepts.
    #[error("{dataset}: {requested} samples requested, at most {maximum} are allowed")]
    TooManySamples {
        /// The data set's name.
        dataset: String,
        /// Samples asked for.
        requested: usize,
        /// The largest accepted count.
        maximum: usize,
    },
    /// Noise that is negative, NaN, infinite or implausibly large.
    #[error(
        "noise must be a finite fraction between 0 and {maximum} (0.5 is the playground's 50 %), got {noise}"
    )]
    InvalidNoise {
        /// The noise as given.
        noise: f64,
        /// The largest accepted noise.
        maximum: f64,
    },
    /// A split fraction outside the open interval (0, 1).
    #[error("the {purpose} fraction must be strictly between 0 and 1, got {fraction}")]
    InvalidFraction {
        /// `"test"` or `"validation"`.
        purpose: &'static str,
        /// The fraction as given.
        fraction: f64,
    },
    /// A data set too small to split.
    #[error(
        "cannot make a {purpose} split of {name:?}: it has {rows} rows and at least {minimum} are needed"
    )]
    TooFewRowsToSplit {
        /// `"test"` or `"validation"`.
        purpose: &'static str,
        /// The data set's name.
        name: String,
        /// Rows in the data set.
        rows: usize,
        /// The smallest splittable size.
        minimum: usize,
    },
    /// A class with too few rows for a stratified split.
    #[error(
        "cannot make a stratified {purpose} split: class {class_name:?} (index {class}) has {count} row(s), at least 2 are needed"
    )]
    ClassTooSmall {
        /// `"test"` or `"validation"`.
        purpose: &'static str,
        /// The class index.
        class: usize,
        /// The class name.
        class_name: String,
        /// Rows of that class.
        count: usize,
    },
    /// Features and targets disagree on the number of rows.
    #[error("the features have {features} rows but the targets have {targets}")]
    RowCountMismatch {
        /// Rows of the feature matrix.
        features: usize,
        /// Rows (labels) of the targets.
        targets: usize,
    },
    /// The feature names do not match the feature columns.
    #[error("{names} feature names given for {columns} feature columns")]
    FeatureNameCountMismatch {
        /// Number of names.
        names: usize,
        /// Number of columns.
        columns: usize,
    },
    /// A class label at or above the number of classes.
    #[error("row {row} has label {label}, but there are only {n_classes} classes")]
    LabelOutOfRange {
        /// The row.
        row: usize,
        /// Its label.
        label: usize,
        /// The number of class names.
        n_classes: usize,
    },
    /// A scaler whose parameters are inconsistent (e.g. read from a damaged model file).
    #[error("invalid scaler: {reason}")]
    InvalidScaler {
        /// What is wrong.
        reason: String,
    },
    /// The embedded digits file could not be read (a broken build, not a user error).
    #[error("embedded digits data is damaged: {reason}")]
    EmbeddedData {
        /// What is wrong.
        reason: String,
    },
    /// A matrix could not be built.
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// A CSV file could not be read (the message names file, line and column).
    #[error(transparent)]
    Csv(#[from] crate::csv_file::CsvError),
    /// An IDX (MNIST) file could not be read.
    #[error(transparent)]
    Idx(#[from] crate::idx::IdxError),
    /// A download failed or did not verify.
    #[error(transparent)]
    Download(#[from] crate::download::DownloadError),
}
