//! Errors for matrices built from outside data.

/// A matrix could not be built from the given data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TensorError {
    /// `from_vec` got the wrong number of elements.
    #[error("a {rows}×{cols} matrix needs {} elements, got {len}", rows * cols)]
    LengthMismatch {
        /// Requested rows.
        rows: usize,
        /// Requested columns.
        cols: usize,
        /// Elements supplied.
        len: usize,
    },
    /// `from_rows` got rows of different lengths.
    #[error("row {row} has {found} values, expected {expected} like row 0")]
    RaggedRow {
        /// Index of the offending row.
        row: usize,
        /// Length of row 0.
        expected: usize,
        /// Length of this row.
        found: usize,
    },
}
