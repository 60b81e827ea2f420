//! What can be wrong with a model file, or with writing one. Every message names the file.

/// An error reading, checking or writing a model file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be opened, read, written or renamed.
    #[error("{file}: cannot {action}: {source}")]
    Io {
        /// The file (or folder) concerned.
        file: String,
        /// What was being done, e.g. "read the model file".
        action: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_MODEL_FILE_BYTES`](super::MAX_MODEL_FILE_BYTES).
    #[error("{file}: the file has {size} bytes, more than the {limit}-byte limit for model files")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The bytes are not a valid safetensors file (header length, header JSON, tensor offsets).
    #[error("{file}: not a valid safetensors file: {reason}")]
    NotSafetensors {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A valid safetensors file without the `backprop` metadata key.
    #[error("not a backprop model: {file} (a safetensors file without backprop metadata)")]
    NotBackpropModel {
        /// The file.
        file: String,
    },
    /// The metadata says a format version newer than this build reads.
    #[error(
        "{file}: written by a newer backprop (format version {version}); this build reads version {supported}"
    )]
    NewerFormat {
        /// The file.
        file: String,
        /// The version in the file.
        version: u64,
        /// The version this build reads.
        supported: u32,
    },
    /// The `backprop` metadata is not valid JSON, lacks a field, or holds an invalid value.
    #[error("{file}: invalid backprop metadata: {reason}")]
    InvalidMetadata {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A tensor the architecture needs is absent.
    #[error("{file}: tensor {name} is missing (the architecture {sizes:?} needs it)")]
    MissingTensor {
        /// The file.
        file: String,
        /// The tensor's name.
        name: String,
        /// The architecture's layer sizes.
        sizes: Vec<usize>,
    },
    /// A tensor's shape differs from what the architecture implies.
    #[error("{file}: tensor {name} has shape {found:?}, but the architecture needs {expected:?}")]
    TensorShape {
        /// The file.
        file: String,
        /// The tensor's name.
        name: String,
        /// The shape the architecture implies.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor is not stored as 32-bit floats.
    #[error("{file}: tensor {name} has dtype {found}; model tensors must be F32")]
    TensorDtype {
        /// The file.
        file: String,
        /// The tensor's name.
        name: String,
        /// The dtype in the file.
        found: String,
    },
    /// A tensor that is neither a layer parameter of this architecture nor `optimizer.*`.
    #[error("{file}: unexpected tensor {name} (a model holds layers.{{i}}.weight and layers.{{i}}.bias for its {layers} layers, and a checkpoint also optimizer.*)")]
    UnexpectedTensor {
        /// The file.
        file: String,
        /// The tensor's name.
        name: String,
        /// The number of dense layers in the architecture.
        layers: usize,
    },
    /// A parameter is NaN or infinite.
    #[error(
        "{file}: tensor {name} holds {value} at flat index {index}; parameters must be finite"
    )]
    NonFinite {
        /// The file.
        file: String,
        /// The tensor's name.
        name: String,
        /// Row-major position of the first offending value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A model in memory whose metadata does not fit its network (from [`Model::new`] and
    /// [`Model::check`]).
    ///
    /// [`Model::new`]: super::Model::new
    /// [`Model::check`]: super::Model::check
    #[error("inconsistent model: {reason}")]
    Inconsistent {
        /// What is wrong.
        reason: String,
    },
    /// A model that cannot be written: its metadata or extra tensors do not fit its network.
    #[error("{file}: cannot write this model: {reason}")]
    Unwritable {
        /// The file (or `"<memory>"`).
        file: String,
        /// What is wrong.
        reason: String,
    },
}
