//! Reading, checking and writing model files (see the [module documentation](super) for the
//! format).

use super::error::ModelError;
use super::metadata::{ModelMetadata, FORMAT_VERSION};
use crate::network::{Network, NetworkConfig};
use crate::{Error, Result};
use backprop_tensor::Matrix;
use safetensors::tensor::{TensorInfo, TensorView};
use safetensors::{Dtype, SafeTensors};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The safetensors metadata key whose value is the model's JSON metadata.
pub const METADATA_KEY: &str = "backprop";

/// The largest model file [`Model::load`] reads: 4 GiB.
pub const MAX_MODEL_FILE_BYTES: u64 = 4 << 30;

/// Tensors whose names start with this are a checkpoint's optimiser state: a model reader
/// skips them.
pub const OPTIMIZER_PREFIX: &str = "optimizer.";

/// Tensors whose names start with this are a checkpoint's training state beside the weights
/// (the best weights under early stopping): a model reader skips them.
pub const TRAINING_PREFIX: &str = "training.";

/// True for the name of an extra tensor: `optimizer.something` or `training.something`.
fn is_extra_name(name: &str) -> bool {
    [OPTIMIZER_PREFIX, TRAINING_PREFIX]
        .iter()
        .any(|prefix| name.len() > prefix.len() && name.starts_with(prefix))
}

/// The name used in messages for bytes that did not come from a file.
const IN_MEMORY: &str = "<memory>";

/// The 8-byte little-endian header length that starts every safetensors file.
const HEADER_LENGTH_BYTES: usize = 8;

/// A tensor stored beside the layer parameters, such as a checkpoint's `optimizer.*` state.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    /// The tensor's name; it must start with [`OPTIMIZER_PREFIX`] or [`TRAINING_PREFIX`].
    pub name: String,
    /// Its shape (row-major).
    pub shape: Vec<usize>,
    /// Its values, as many as the shape's product.
    pub values: Vec<f32>,
}

/// A trained network together with everything needed to use it: a model file in memory.
#[derive(Clone, Debug)]
pub struct Model {
    /// The network, with its weights.
    pub network: Network<f32>,
    /// What the file says besides the weights: architecture, preprocessing, history, …
    pub metadata: ModelMetadata,
}

impl Model {
    /// Pairs a network with its metadata, checking that they agree (see [`Model::check`]).
    pub fn new(network: Network<f32>, metadata: ModelMetadata) -> Result<Self> {
        let model = Self { network, metadata };
        model.check()?;
        Ok(model)
    }

    /// Checks what a reader will check (a failure is [`ModelError::Inconsistent`]): valid metadata that describes exactly this network's
    /// config (sizes, activations, cost, initialisation, dropout, regularisation and seed), and
    /// finite parameters.
    pub fn check(&self) -> Result<()> {
        self.inconsistency().map_or(Ok(()), |reason| {
            Err(ModelError::Inconsistent { reason }.into())
        })
    }

    /// What makes the model unfit to be written, if anything.
    fn inconsistency(&self) -> Option<String> {
        let config = match self.metadata.validate() {
            Ok(config) => config,
            Err(reason) => return Some(reason),
        };
        if let Some(key) = self
            .metadata
            .extra
            .keys()
            .find(|k| KNOWN_FIELDS.contains(&k.as_str()))
        {
            return Some(format!(
                "the extra metadata field '{key}' clashes with a model field"
            ));
        }
        if &config != self.network.config() {
            return Some(format!(
                "the metadata describes {config:?}, but the network was built from {:?}",
                self.network.config()
            ));
        }
        self.network
            .parameters()
            .into_iter()
            .find_map(|(name, matrix)| {
                let values = matrix.as_slice();
                values.iter().position(|v| !v.is_finite()).map(|index| {
                    format!(
                        "{name} holds {} at flat index {index}; parameters must be finite",
                        values[index]
                    )
                })
            })
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.to_bytes_with(&[])
    }

    /// The model file's bytes with extra tensors (a checkpoint's `optimizer.*` state).
    pub fn to_bytes_with(&self, extra: &[NamedTensor]) -> Result<Vec<u8>> {
        self.encode(extra, IN_MEMORY).map_err(Error::from)
    }

    fn encode(
        &self,
        extra: &[NamedTensor],
        file: &str,
    ) -> std::result::Result<Vec<u8>, ModelError> {
        let unwritable = |reason: String| ModelError::Unwritable {
            file: file.to_string(),
            reason,
        };
        if let Some(reason) = self.inconsistency() {
            return Err(unwritable(reason));
        }
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        let shapes = self.network.parameter_shapes();
        for ((name, matrix), (_, shape)) in self.network.parameters().into_iter().zip(shapes) {
            tensors.push((name, shape, little_endian(matrix.as_slice())));
        }
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for tensor in extra {
            if !is_extra_name(&tensor.name) {
                return Err(unwritable(format!(
                    "extra tensor '{}' must be named {OPTIMIZER_PREFIX}something or \
                     {TRAINING_PREFIX}something",
                    tensor.name
                )));
            }
            if !names.insert(&tensor.name) {
                return Err(unwritable(format!(
                    "extra tensor '{}' appears twice",
                    tensor.name
                )));
            }
            let count = tensor
                .shape
                .iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d));
            if count != Some(tensor.values.len()) {
                return Err(unwritable(format!(
                    "extra tensor '{}' has shape {:?} but {} values",
                    tensor.name,
                    tensor.shape,
                    tensor.values.len()
                )));
            }
            tensors.push((
                tensor.name.clone(),
                tensor.shape.clone(),
                little_endian(&tensor.values),
            ));
        }
        let json = serde_json::to_string(&self.metadata)
            .map_err(|e| unwritable(format!("metadata to JSON: {e}")))?;
        let views = tensors
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes)
                    .map(|view| (name.as_str(), view))
                    .map_err(|e| unwritable(format!("tensor {name}: {e}")))
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let header = HashMap::from([(METADATA_KEY.to_string(), json)]);
        safetensors::serialize(views, Some(header))
            .map_err(|e| unwritable(format!("safetensors: {e}")))
    }

    /// Reads a model from a model file's bytes; `source` names them in error messages.
    /// Tensors named `optimizer.*` are skipped.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Model> {
        decode(bytes, source, false)
            .map(|(model, _)| model)
            .map_err(Error::from)
    }

    /// Reads a model and its extra `optimizer.*` tensors (which must be F32) from a model
    /// file's bytes, sorted by name.
    pub fn from_bytes_with_extras(bytes: &[u8], source: &str) -> Result<(Model, Vec<NamedTensor>)> {
        decode(bytes, source, true).map_err(Error::from)
    }

    /// Writes the model file atomically: to a temporary file in the same folder, fsynced, then
    /// renamed over `path`. On any error nothing is left behind and an existing file at `path`
    /// is untouched.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.save_with(path, &[])
    }

    /// [`Model::save`] with extra tensors (a checkpoint's `optimizer.*` state).
    pub fn save_with(&self, path: &Path, extra: &[NamedTensor]) -> Result<()> {
        let bytes = self.encode(extra, &path.display().to_string())?;
        write_atomically(path, &bytes).map_err(Error::from)
    }

    /// Reads and checks a model file (at most [`MAX_MODEL_FILE_BYTES`]). Tensors named
    /// `optimizer.*` are skipped.
    pub fn load(path: &Path) -> Result<Model> {
        let bytes = read_model_file(path)?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Reads a model file and its extra `optimizer.*` tensors.
    pub fn load_with_extras(path: &Path) -> Result<(Model, Vec<NamedTensor>)> {
        let bytes = read_model_file(path)?;
        Self::from_bytes_with_extras(&bytes, &path.display().to_string())
    }

    /// A classifier's class names in output order: the stored ones, else `"0"`, `"1"`, … (two
    /// for a single sigmoid unit); empty for a regressor.
    pub fn class_names(&self) -> Vec<String> {
        let outputs = self.network.output_width();
        match &self.metadata.preprocessing.class_names {
            _ if self.metadata.task == "regression" => Vec::new(),
            Some(names) => names.clone(),
            None if outputs == 1 => vec!["0".into(), "1".into()],
            None => (0..outputs).map(|class| class.to_string()).collect(),
        }
    }

    /// True for a classifier whose one sigmoid unit gives the probability of the second of two
    /// classes.
    pub fn is_single_sigmoid_classifier(&self) -> bool {
        self.metadata.task == "classification"
            && self.network.output_width() == 1
            && self
                .metadata
                .preprocessing
                .class_names
                .as_ref()
                .is_none_or(|names| names.len() == 2)
    }

    /// [`Model::predict`] with one column per class for every classifier: a single sigmoid
    /// unit's p becomes the two probabilities (1 − p, p).
    pub fn predict_per_class(&self, x: &Matrix<f32>) -> Result<Matrix<f32>> {
        let outputs = self.predict(x)?;
        Ok(if self.is_single_sigmoid_classifier() {
            Matrix::from_fn(outputs.rows(), 2, |row, class| {
                let p = outputs[(row, 0)];
                if class == 1 {
                    p
                } else {
                    1.0 - p
                }
            })
        } else {
            outputs
        })
    }

    /// Predictions for raw feature rows (one example per row, categorical columns already
    /// one-hot encoded): the stored input scaler, the network, then for regression the target
    /// scaler's inverse. Classification gives the output layer's probabilities.
    pub fn predict(&self, x: &Matrix<f32>) -> Result<Matrix<f32>> {
        let width = self.network.input_width();
        if x.cols() != width {
            return Err(Error::Shape {
                context: "model input".into(),
                expected: format!("{width} feature columns"),
                found: format!("{} columns", x.cols()),
            });
        }
        let preprocessing = &self.metadata.preprocessing;
        let inputs = match &preprocessing.input_scaler {
            Some(scaler) => {
                scaler.validate("input", width).map_err(Error::Config)?;
                scaler.transform(x)
            }
            None => x.clone(),
        };
        let outputs = self.network.forward(&inputs);
        match &preprocessing.target_scaler {
            Some(scaler) if self.metadata.task == "regression" => {
                scaler
                    .validate("target", outputs.cols())
                    .map_err(Error::Config)?;
                Ok(scaler.inverse_transform(&outputs))
            }
            _ => Ok(outputs),
        }
    }
}

/// Field names of [`ModelMetadata`]; extra fields may not reuse them.
const KNOWN_FIELDS: [&str; 10] = [
    "format_version",
    "architecture",
    "cost",
    "task",
    "preprocessing",
    "seed",
    "hyperparameters",
    "history",
    "data",
    "created_by",
];

fn little_endian(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn check_finite(file: &str, name: &str, values: &[f32]) -> std::result::Result<(), ModelError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ModelError::NonFinite {
            file: file.to_string(),
            name: name.to_string(),
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// The header length a safetensors buffer declares, checked against the bytes that follow it
/// before anything else looks at it.
fn declared_header_length(
    first: &[u8],
    total: u64,
    file: &str,
) -> std::result::Result<u64, ModelError> {
    let invalid = |reason: String| ModelError::NotSafetensors {
        file: file.to_string(),
        reason,
    };
    let Some(prefix) = first.get(..HEADER_LENGTH_BYTES) else {
        return Err(invalid(format!(
            "the file has {total} bytes, fewer than the 8-byte header length"
        )));
    };
    let mut length = [0u8; HEADER_LENGTH_BYTES];
    length.copy_from_slice(prefix);
    let declared = u64::from_le_bytes(length);
    let available = total.saturating_sub(HEADER_LENGTH_BYTES as u64);
    if declared > available {
        return Err(invalid(format!(
            "the header length says {declared} bytes, but only {available} bytes follow it"
        )));
    }
    Ok(declared)
}

fn decode(
    bytes: &[u8],
    file: &str,
    keep_extras: bool,
) -> std::result::Result<(Model, Vec<NamedTensor>), ModelError> {
    let owned = || file.to_string();
    declared_header_length(bytes, bytes.len() as u64, file)?;
    let (header_length, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| ModelError::NotSafetensors {
            file: owned(),
            reason: e.to_string(),
        })?;
    let json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(METADATA_KEY))
        .ok_or_else(|| ModelError::NotBackpropModel { file: owned() })?;
    let metadata = parse_metadata(json, file)?;
    let config = metadata
        .validate()
        .map_err(|reason| ModelError::InvalidMetadata {
            file: owned(),
            reason,
        })?;

    let layers = config.dense_tensor_index(config.sizes.len() - 2) + 1;
    // In layer order, weight before bias, so the first problem reported is the earliest.
    let expected: Vec<(String, Vec<usize>)> = config.parameter_shapes();
    let expected_names: HashSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let data = bytes
        .get(HEADER_LENGTH_BYTES + header_length..)
        .unwrap_or_default();
    let tensors: BTreeMap<String, &TensorInfo> = header.tensors().into_iter().collect();
    let mut extras = Vec::new();
    for (name, info) in &tensors {
        let is_optimizer = is_extra_name(name);
        if !is_optimizer && !expected_names.contains(name.as_str()) {
            return Err(ModelError::UnexpectedTensor {
                file: owned(),
                name: name.clone(),
                layers,
            });
        }
        if is_optimizer && keep_extras {
            let values = read_f32(data, name, info, file)?;
            extras.push(NamedTensor {
                name: name.clone(),
                shape: info.shape.clone(),
                values,
            });
        }
    }
    let mut values: HashMap<String, Vec<f32>> = HashMap::new();
    for (name, shape) in &expected {
        let Some(info) = tensors.get(name) else {
            return Err(ModelError::MissingTensor {
                file: owned(),
                name: name.clone(),
                sizes: config.sizes.clone(),
            });
        };
        if info.dtype != Dtype::F32 {
            return Err(ModelError::TensorDtype {
                file: owned(),
                name: name.clone(),
                found: info.dtype.to_string(),
            });
        }
        if &info.shape != shape {
            return Err(ModelError::TensorShape {
                file: owned(),
                name: name.clone(),
                expected: shape.clone(),
                found: info.shape.clone(),
            });
        }
        let tensor = read_f32(data, name, info, file)?;
        check_finite(file, name, &tensor)?;
        values.insert(name.clone(), tensor);
    }
    let network = build_network(&config, &values, file)?;
    Ok((Model { network, metadata }, extras))
}

/// Parses the metadata JSON, refusing newer format versions before looking at anything else.
fn parse_metadata(json: &str, file: &str) -> std::result::Result<ModelMetadata, ModelError> {
    let invalid = |reason: String| ModelError::InvalidMetadata {
        file: file.to_string(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(invalid("not a JSON object".into()));
    };
    let version = object
        .get("format_version")
        .ok_or_else(|| invalid("no format_version".into()))?
        .as_u64()
        .ok_or_else(|| invalid("format_version is not a whole number".into()))?;
    if version > u64::from(FORMAT_VERSION) {
        return Err(ModelError::NewerFormat {
            file: file.to_string(),
            version,
            supported: FORMAT_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
}

fn read_f32(
    data: &[u8],
    name: &str,
    info: &TensorInfo,
    file: &str,
) -> std::result::Result<Vec<f32>, ModelError> {
    if info.dtype != Dtype::F32 {
        return Err(ModelError::TensorDtype {
            file: file.to_string(),
            name: name.to_string(),
            found: info.dtype.to_string(),
        });
    }
    let (start, end) = info.data_offsets;
    let bytes = data
        .get(start..end)
        .ok_or_else(|| ModelError::NotSafetensors {
            file: file.to_string(),
            reason: format!("tensor {name}'s data offsets {start}..{end} lie outside the file"),
        })?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn build_network(
    config: &NetworkConfig,
    values: &HashMap<String, Vec<f32>>,
    file: &str,
) -> std::result::Result<Network<f32>, ModelError> {
    let invalid = |reason: String| ModelError::InvalidMetadata {
        file: file.to_string(),
        reason,
    };
    let mut network = config.init::<f32>().map_err(|e| invalid(e.to_string()))?;
    for (name, slot) in network.parameter_slots() {
        let source = values.get(&name).ok_or_else(|| ModelError::MissingTensor {
            file: file.to_string(),
            name: name.clone(),
            sizes: config.sizes.clone(),
        })?;
        let target = slot.value.as_mut_slice();
        if target.len() != source.len() {
            return Err(invalid(format!(
                "tensor {name} has {} values where the network has {}",
                source.len(),
                target.len()
            )));
        }
        target.copy_from_slice(source);
    }
    Ok(network)
}

/// Reads a model file: its size is checked against [`MAX_MODEL_FILE_BYTES`], and its declared
/// header length against its size, before the rest is read.
fn read_model_file(path: &Path) -> std::result::Result<Vec<u8>, ModelError> {
    let file_name = path.display().to_string();
    let io = |action: &str| {
        let file_name = file_name.clone();
        let action = action.to_string();
        move |source| ModelError::Io {
            file: file_name,
            action,
            source,
        }
    };
    let mut file = File::open(path).map_err(io("open the model file"))?;
    let size = file
        .metadata()
        .map_err(io("read the model file's size"))?
        .len();
    if size > MAX_MODEL_FILE_BYTES {
        return Err(ModelError::TooLarge {
            file: file_name,
            size,
            limit: MAX_MODEL_FILE_BYTES,
        });
    }
    let mut prefix = Vec::with_capacity(HEADER_LENGTH_BYTES);
    (&mut file)
        .take(HEADER_LENGTH_BYTES as u64)
        .read_to_end(&mut prefix)
        .map_err(io("read the model file"))?;
    declared_header_length(&prefix, size.max(prefix.len() as u64), &file_name)?;
    let capacity = usize::try_from(size).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    bytes.extend_from_slice(&prefix);
    file.take(MAX_MODEL_FILE_BYTES + 1 - prefix.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(io("read the model file"))?;
    if bytes.len() as u64 > MAX_MODEL_FILE_BYTES {
        return Err(ModelError::TooLarge {
            file: file_name,
            size: bytes.len() as u64,
            limit: MAX_MODEL_FILE_BYTES,
        });
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` atomically with the workspace's one writer
/// ([`backprop_tensor::atomic_file`]): a temporary file in the same folder, written, fsynced,
/// then renamed over `path` (and the folder fsynced where the platform allows). On error the
/// temporary file is removed and an existing file at `path` is left as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::result::Result<(), ModelError> {
    use backprop_tensor::atomic_file::{self, WriteStage};
    atomic_file::write_atomically(path, bytes).map_err(|error| {
        let action = match error.stage {
            WriteStage::Create => format!("{} in {}", error.stage.action(), error.path.display()),
            stage => stage.action().to_string(),
        };
        ModelError::Io {
            file: path.display().to_string(),
            action,
            source: error.source,
        }
    })
}
