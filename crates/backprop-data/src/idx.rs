//! IDX loading (placeholder: being written).

/// Why an IDX file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IdxError {}
