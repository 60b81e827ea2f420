//! Self-describing model files: one `.safetensors` file holds the weights and everything needed
//! to use them.
//!
//! # Format (version 1)
//!
//! A model file is a [safetensors](https://github.com/huggingface/safetensors) file: an 8-byte
//! little-endian header length n, n bytes of JSON header, then the tensor data.
//!
//! - **Tensors.** For each dense layer i = 0, 1, …, counted from the input:
//!   `layers.{i}.weight` with shape (out, in) and `layers.{i}.bias` with shape (out), dtype
//!   `F32`, row-major. This is PyTorch's layout, so `torch.nn.Linear(in, out)` loads a pair
//!   directly with `load_state_dict({"weight": …, "bias": …})`. A checkpoint adds tensors named
//!   `optimizer.*` (optimiser state) and `training.*` (the best weights under early stopping);
//!   a model reader skips them. Any other tensor is refused. See
//!   [`crate::train::checkpoint`].
//! - **Metadata.** The safetensors `__metadata__` map has one key, `backprop`, whose value is
//!   one JSON string ([`ModelMetadata`]). A valid safetensors file without that key is refused
//!   as "not a backprop model". Example:
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "architecture": {
//!     "sizes": [4, 16, 3],
//!     "activations": ["relu", "softmax"],
//!     "dropout": 0.0,
//!     "initialization": "pytorch",
//!     "regularization": {"l2_nielsen": 0.0, "training_set_size": 0, "l1": 0.0}
//!   },
//!   "cost": "cross-entropy",
//!   "task": "classification",
//!   "preprocessing": {
//!     "feature_names": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
//!     "class_names": ["setosa", "versicolor", "virginica"],
//!     "categorical": [],
//!     "input_scaler": {"kind": "standard", "center": [5.8, 3.1, 3.8, 1.2],
//!                      "scale": [0.83, 0.43, 1.76, 0.76]},
//!     "target_scaler": null,
//!     "input_kind": "tabular"
//!   },
//!   "seed": 42,
//!   "hyperparameters": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32,
//!                       "epochs": 2},
//!   "history": [
//!     {"epoch": 1, "loss": 0.93, "accuracy": 0.71, "mae": null, "r2": null,
//!      "validation_loss": null, "validation_accuracy": null, "validation_mae": null,
//!      "validation_r2": null, "learning_rate": 0.001, "step": 4, "seconds": 0.01},
//!     {"epoch": 2, "loss": 0.61, "accuracy": 0.84, "mae": null, "r2": null,
//!      "validation_loss": null, "validation_accuracy": null, "validation_mae": null,
//!      "validation_r2": null, "learning_rate": 0.001, "step": 8, "seconds": 0.01}
//!   ],
//!   "data": {"source": "iris.csv", "sha256": "3f1c…(64 hex digits)", "rows": 120},
//!   "created_by": "backprop 0.1.0"
//! }
//! ```
//!
//! Activations, the cost and the initialisation are the names their `Display` implementations
//! write (`"leaky-relu:0.2"`, `"huber:0.5"`, `"uniform:-1:1"`). A scaler maps
//! x′ = (x − center)/scale per column, and back with x = x′·scale + center. Prediction applies
//! the input scaler, the layers, and for regression the target scaler's inverse. Fields this
//! version does not know are kept in [`ModelMetadata::extra`] (a checkpoint's training state
//! lives there).
//!
//! # Reading
//!
//! [`Model::load`] refuses, with a message naming the file: files over
//! [`MAX_MODEL_FILE_BYTES`]; a declared header longer than the file (checked before anything is
//! allocated from it); invalid safetensors; a missing `backprop` key; a newer
//! `format_version`; metadata that does not build a valid network (sizes, activations, cost)
//! or whose preprocessing does not fit the input and output widths; a missing tensor, or one
//! with the wrong shape or a dtype other than `F32`; an unexpected tensor; NaN or infinite
//! parameters.
//!
//! # Writing
//!
//! [`Model::save`] writes to a temporary file in the target folder, fsyncs it and renames it
//! over the target, so a reader never sees a half-written model under the final name.
//!
//! ```
//! use backprop::model::{Model, ModelMetadata};
//! use backprop::{Cost, NetworkConfig, Task};
//! let config = NetworkConfig::new(&[2, 3, 1], Cost::MeanSquaredError).with_seed(7);
//! let model = Model::new(config.init().unwrap(), ModelMetadata::describe(&config, Task::Regression)).unwrap();
//! let bytes = model.to_bytes().unwrap();
//! let again = Model::from_bytes(&bytes, "example").unwrap();
//! assert_eq!(again.network.parameters(), model.network.parameters());
//! ```

mod error;
mod file;
mod metadata;

pub use error::ModelError;
pub use file::{
    write_atomically, Model, NamedTensor, MAX_MODEL_FILE_BYTES, METADATA_KEY, OPTIMIZER_PREFIX,
    TRAINING_PREFIX,
};
pub use metadata::{
    sha256_hex, task_name, AffineScaler, Architecture, CategoricalEncoding, DataProvenance,
    EpochSummary, FillValue, MissingFill, ModelMetadata, Preprocessing, RegularizationSettings,
    FORMAT_VERSION,
};
