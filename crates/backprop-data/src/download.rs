//! Downloads (placeholder: being written).

/// Why a download failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DownloadError {}
