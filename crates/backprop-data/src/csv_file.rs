//! CSV loading (placeholder: being written).

/// Why a CSV file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {}
