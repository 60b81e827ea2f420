//! The JSON stored under the `backprop` metadata key of a model file.
//!
//! Every field is plain data (strings, numbers, lists), so that a script with only a JSON parser
//! can apply the preprocessing and the layers. Activations, the cost and the initialisation are
//! stored as the names their `Display` implementations write and their `FromStr`
//! implementations read back (`"leaky-relu:0.2"`, `"huber:0.5"`, `"uniform:-1:1"`).
//!
//! Unknown fields are kept in [`ModelMetadata::extra`] when reading, so that a checkpoint can
//! carry its training state next to the model's fields and a model reader still accepts it.

use crate::activation::Activation;
use crate::conv::ImageShape;
use crate::cost::Cost;
use crate::feature_layers::FeatureLayer;
use crate::init::Initialization;
use crate::network::NetworkConfig;
use crate::regularization::Regularization;
use crate::train::{EpochRecord, History, LayerDiagnostics, Task};
use backprop_tensor::{Float, Matrix};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The model-file format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Everything a model file says about its network besides the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// The format version, [`FORMAT_VERSION`] for files this build writes.
    pub format_version: u32,
    /// Layer sizes, activations and the rest of the network's structure.
    pub architecture: Architecture,
    /// The cost the network was trained with, by name (`"cross-entropy"`, `"mse"`, …).
    pub cost: String,
    /// `"classification"` or `"regression"`.
    pub task: String,
    /// How raw input rows become network inputs, and what the outputs mean.
    pub preprocessing: Preprocessing,
    /// The seed for initial weights (and dropout masks).
    pub seed: u64,
    /// Training settings, free-form: optimizer, learning_rate, batch_size, epochs, schedule, …
    #[serde(default)]
    pub hyperparameters: serde_json::Map<String, serde_json::Value>,
    /// One summary per training epoch, in order.
    #[serde(default)]
    pub history: Vec<EpochSummary>,
    /// Where the training data came from.
    pub data: DataProvenance,
    /// The program that wrote the file, e.g. `"backprop 0.1.0"`.
    pub created_by: String,
    /// Fields this build does not know (a checkpoint's training state, say), kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The network's structure: what [`NetworkConfig`] holds besides the cost and the seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Units per dense layer, its input first: `[4, 16, 3]`. After image layers, `sizes[0]`
    /// is the width of their flattened output.
    pub sizes: Vec<usize>,
    /// The input image's shape (channels, height, width), for a network on images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_shape: Option<ImageShape>,
    /// Convolutions, pooling and dropout before the dense layers, in order; a convolution's
    /// weights are `layers.{i}.weight` of shape (F, C, k, k), i counting these entries first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<FeatureLayer>,
    /// One activation name per dense layer, the output layer's last.
    pub activations: Vec<String>,
    /// Dropout probability after every hidden layer (0 = none; off at inference).
    #[serde(default)]
    pub dropout: f64,
    /// Dropout entries of `--layers` between dense layers, one probability per hidden layer
    /// (0 = none); each counts in `layers.{i}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden_dropout: Vec<f64>,
    /// The initialisation scheme's name.
    pub initialization: String,
    /// Weight penalties that were part of the cost.
    #[serde(default)]
    pub regularization: RegularizationSettings,
}

/// Weight penalties, as [`Regularization`] holds them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegularizationSettings {
    /// Nielsen's λ for (λ/2n) Σ w²; 0 is off.
    #[serde(default)]
    pub l2_nielsen: f64,
    /// n, the training-set size in Nielsen's L2.
    #[serde(default)]
    pub training_set_size: usize,
    /// λ for λ Σ |w|; 0 is off.
    #[serde(default)]
    pub l1: f64,
}

impl From<Regularization> for RegularizationSettings {
    fn from(r: Regularization) -> Self {
        Self {
            l2_nielsen: r.l2_nielsen,
            training_set_size: r.training_set_size,
            l1: r.l1,
        }
    }
}

impl From<RegularizationSettings> for Regularization {
    fn from(r: RegularizationSettings) -> Self {
        Self {
            l2_nielsen: r.l2_nielsen,
            training_set_size: r.training_set_size,
            l1: r.l1,
        }
    }
}

/// How raw feature rows are turned into network inputs, and the names of inputs and outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// One name per network input, in input order.
    pub feature_names: Vec<String>,
    /// Class names in output order (classification only; `None` when unnamed).
    #[serde(default)]
    pub class_names: Option<Vec<String>>,
    /// One-hot encodings applied to categorical columns before scaling (by the data crate).
    #[serde(default)]
    pub categorical: Vec<CategoricalEncoding>,
    /// Applied to every input row before the network.
    #[serde(default)]
    pub input_scaler: Option<AffineScaler>,
    /// Regression targets were scaled with this for training; predictions are mapped back with
    /// its inverse.
    #[serde(default)]
    pub target_scaler: Option<AffineScaler>,
    /// `"tabular"` or `"image"`.
    pub input_kind: String,
    /// What fills a missing cell of each raw input column, when the model was trained with
    /// `--missing mean` (the column's mean, or its most frequent category); empty when missing
    /// cells are refused. New rows are filled with these, as a scikit-learn `SimpleImputer`
    /// fitted in training fills them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_fill: Vec<MissingFill>,
}

/// The value that fills a raw input column's missing cells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MissingFill {
    /// The column's name in the raw data.
    pub column: String,
    /// A number (a numeric column's mean) or a string (a categorical column's most frequent
    /// category).
    pub value: FillValue,
}

/// A fill value: JSON number or string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FillValue {
    /// A numeric column's fill.
    Number(f64),
    /// A categorical column's fill.
    Category(String),
}

/// A categorical column and its categories, in the order of the one-hot inputs it became.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoricalEncoding {
    /// The column's name in the raw data.
    pub column: String,
    /// Its categories, one input each.
    pub categories: Vec<String>,
}

/// A per-column affine map x′ = (x − center)/scale, with inverse x = x′·scale + center.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AffineScaler {
    /// How it was fitted: `"standard"` (center = mean, scale = σ) or `"minmax"` (center = min,
    /// scale = max − min).
    pub kind: String,
    /// Subtracted from each column.
    pub center: Vec<f64>,
    /// Each column is divided by this; positive and finite.
    pub scale: Vec<f64>,
}

/// What one training epoch achieved (fractions in [0, 1]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochSummary {
    /// 1-based epoch.
    pub epoch: usize,
    /// Training loss.
    pub loss: f64,
    /// Training accuracy (classification).
    #[serde(default)]
    pub accuracy: Option<f64>,
    /// Training mean absolute error (regression).
    #[serde(default)]
    pub mae: Option<f64>,
    /// Training R² (regression).
    #[serde(default)]
    pub r2: Option<f64>,
    /// Validation loss, when there was validation data.
    #[serde(default)]
    pub validation_loss: Option<f64>,
    /// Validation accuracy.
    #[serde(default)]
    pub validation_accuracy: Option<f64>,
    /// Validation mean absolute error.
    #[serde(default)]
    pub validation_mae: Option<f64>,
    /// Validation R².
    #[serde(default)]
    pub validation_r2: Option<f64>,
    /// The learning rate of the epoch's last step.
    pub learning_rate: f64,
    /// Optimisation steps taken by the end of the epoch.
    #[serde(default)]
    pub step: u64,
    /// Wall-clock seconds the epoch took.
    pub seconds: f64,
    /// Per-layer learning speed and saturation at the end of the epoch
    /// ([`crate::train::diagnostics`]); empty when they were not recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerDiagnostics>,
}

/// Where the training data came from, and its fingerprint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataProvenance {
    /// What was passed as the data (`"digits"`, `"mnist:DIR"`, a file path, …).
    pub source: String,
    /// The SHA-256 of the training data, 64 lowercase hex digits (empty when unknown).
    pub sha256: String,
    /// Training rows.
    pub rows: usize,
}

impl DataProvenance {
    /// Provenance with the SHA-256 of `bytes` (the data's canonical bytes).
    pub fn from_bytes(source: &str, bytes: &[u8], rows: usize) -> Self {
        Self {
            source: source.to_string(),
            sha256: sha256_hex(bytes),
            rows,
        }
    }
}

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl From<&EpochRecord> for EpochSummary {
    fn from(record: &EpochRecord) -> Self {
        let validation = record.validation.as_ref();
        Self {
            epoch: record.epoch,
            loss: record.train.loss,
            accuracy: record.train.accuracy,
            mae: record.train.mae,
            r2: record.train.r2,
            validation_loss: validation.map(|v| v.loss),
            validation_accuracy: validation.and_then(|v| v.accuracy),
            validation_mae: validation.and_then(|v| v.mae),
            validation_r2: validation.and_then(|v| v.r2),
            learning_rate: record.learning_rate,
            step: record.step,
            seconds: record.seconds,
            layers: Vec::new(),
        }
    }
}

impl EpochSummary {
    /// One summary per epoch of a training history, with the epoch's diagnostics when the
    /// history holds them.
    pub fn from_history(history: &History) -> Vec<EpochSummary> {
        history
            .epochs
            .iter()
            .map(|record| {
                let mut summary = EpochSummary::from(record);
                if let Some(diagnostics) = history
                    .diagnostics
                    .iter()
                    .find(|diagnostics| diagnostics.epoch == record.epoch)
                {
                    summary.layers = diagnostics.layers.clone();
                }
                summary
            })
            .collect()
    }
}

impl From<&History> for Vec<EpochSummary> {
    fn from(history: &History) -> Self {
        EpochSummary::from_history(history)
    }
}

/// The name a task has in model files.
pub fn task_name(task: Task) -> &'static str {
    match task {
        Task::Classification => "classification",
        Task::Regression => "regression",
    }
}

impl AffineScaler {
    /// A standard scaler: center = mean, scale = σ.
    pub fn standard(mean: Vec<f64>, std: Vec<f64>) -> Self {
        Self {
            kind: "standard".into(),
            center: mean,
            scale: std,
        }
    }

    /// A min-max scaler: center = min, scale = max − min.
    pub fn min_max(min: Vec<f64>, range: Vec<f64>) -> Self {
        Self {
            kind: "minmax".into(),
            center: min,
            scale: range,
        }
    }

    /// The number of columns it maps.
    pub fn width(&self) -> usize {
        self.center.len()
    }

    /// x′ = (x − center)/scale column by column, computed in `f64`.
    ///
    /// # Panics
    /// When the matrix width differs from [`AffineScaler::width`] (a loaded model's scaler has
    /// been checked against the network's width).
    #[track_caller]
    pub fn transform<T: Float>(&self, x: &Matrix<T>) -> Matrix<T> {
        self.check_width(x.cols());
        Matrix::from_fn(x.rows(), x.cols(), |i, j| {
            T::from_f64((x[(i, j)].to_f64() - self.center[j]) / self.scale[j])
        })
    }

    /// x = x′·scale + center column by column, computed in `f64`.
    ///
    /// # Panics
    /// When the matrix width differs from [`AffineScaler::width`].
    #[track_caller]
    pub fn inverse_transform<T: Float>(&self, x: &Matrix<T>) -> Matrix<T> {
        self.check_width(x.cols());
        Matrix::from_fn(x.rows(), x.cols(), |i, j| {
            T::from_f64(x[(i, j)].to_f64() * self.scale[j] + self.center[j])
        })
    }

    #[track_caller]
    fn check_width(&self, cols: usize) {
        assert!(
            self.center.len() == cols && self.scale.len() == cols,
            "{} scaler with {} centers and {} scales applied to {cols} columns",
            self.kind,
            self.center.len(),
            self.scale.len()
        );
    }

    /// Checks the kind, equal lengths `width`, finite centers and positive finite scales.
    pub fn validate(&self, role: &str, width: usize) -> Result<(), String> {
        if self.kind != "standard" && self.kind != "minmax" {
            return Err(format!(
                "the {role} scaler's kind is '{}'; expected standard or minmax",
                self.kind
            ));
        }
        for (what, values) in [("center", &self.center), ("scale", &self.scale)] {
            if values.len() != width {
                return Err(format!(
                    "the {role} scaler has {} {what} values for {width} columns",
                    values.len()
                ));
            }
        }
        if let Some(j) = self.center.iter().position(|c| !c.is_finite()) {
            return Err(format!(
                "the {role} scaler's center of column {j} is not finite"
            ));
        }
        if let Some(j) = self.scale.iter().position(|s| !(*s > 0.0 && s.is_finite())) {
            return Err(format!(
                "the {role} scaler's scale of column {j} is {}; it must be positive and finite",
                self.scale[j]
            ));
        }
        Ok(())
    }
}

impl Preprocessing {
    /// No scaling, inputs named `x0`, `x1`, … and unnamed classes.
    pub fn plain(input_width: usize) -> Self {
        Self {
            feature_names: (0..input_width).map(|j| format!("x{j}")).collect(),
            class_names: None,
            categorical: Vec::new(),
            input_scaler: None,
            target_scaler: None,
            input_kind: "tabular".into(),
            missing_fill: Vec::new(),
        }
    }
}

impl ModelMetadata {
    /// Metadata describing a network config: architecture, cost, seed and task filled in from
    /// it, [`Preprocessing::plain`], no hyper-parameters, history or data provenance, and
    /// `created_by` naming this build.
    pub fn describe(config: &NetworkConfig, task: Task) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            architecture: Architecture {
                sizes: config.sizes.clone(),
                input_shape: config.input_shape,
                features: config.features.clone(),
                activations: config.activations.iter().map(|a| a.to_string()).collect(),
                dropout: config.dropout,
                hidden_dropout: config.hidden_dropout.clone(),
                initialization: config.initialization.to_string(),
                regularization: config.regularization.into(),
            },
            cost: config.cost.to_string(),
            task: task_name(task).into(),
            preprocessing: Preprocessing::plain(config.input_width()),
            seed: config.seed,
            hyperparameters: serde_json::Map::new(),
            history: Vec::new(),
            data: DataProvenance::default(),
            created_by: format!("backprop {}", env!("CARGO_PKG_VERSION")),
            extra: serde_json::Map::new(),
        }
    }

    /// The task the metadata names.
    pub fn task(&self) -> Result<Task, String> {
        match self.task.as_str() {
            "classification" => Ok(Task::Classification),
            "regression" => Ok(Task::Regression),
            other => Err(format!(
                "task '{other}' is neither classification nor regression"
            )),
        }
    }

    /// The network config the metadata describes, validated.
    pub fn network_config(&self) -> Result<NetworkConfig, String> {
        let architecture = &self.architecture;
        let activations = architecture
            .activations
            .iter()
            .enumerate()
            .map(|(l, name)| {
                name.parse::<Activation>()
                    .map_err(|e| format!("layer {l}'s activation: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cost: Cost = self.cost.parse().map_err(|e| format!("cost: {e}"))?;
        let initialization: Initialization = architecture
            .initialization
            .parse()
            .map_err(|e| format!("initialization: {e}"))?;
        let config = NetworkConfig {
            sizes: architecture.sizes.clone(),
            input_shape: architecture.input_shape,
            features: architecture.features.clone(),
            activations,
            cost,
            initialization,
            dropout: architecture.dropout,
            hidden_dropout: architecture.hidden_dropout.clone(),
            regularization: architecture.regularization.into(),
            seed: self.seed,
        };
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// Checks every field that a reader relies on: the format version, the architecture (it
    /// must build a valid [`NetworkConfig`]), the task against the cost's output, the
    /// preprocessing against the input and output widths, finite history figures and the data
    /// hash's form. Returns the network config.
    pub fn validate(&self) -> Result<NetworkConfig, String> {
        if self.format_version != FORMAT_VERSION {
            return Err(format!(
                "format version {} (this build reads version {FORMAT_VERSION})",
                self.format_version
            ));
        }
        let config = self.network_config()?;
        let task = self.task()?;
        let (input_width, output_width) =
            (config.input_width(), config.sizes[config.sizes.len() - 1]);
        let output_activation = config.activations[config.activations.len() - 1];
        let p = &self.preprocessing;
        if p.input_kind != "tabular" && p.input_kind != "image" {
            return Err(format!(
                "input kind '{}' is neither tabular nor image",
                p.input_kind
            ));
        }
        if p.feature_names.len() != input_width {
            return Err(format!(
                "{} feature names for {input_width} network inputs",
                p.feature_names.len()
            ));
        }
        if let Some(scaler) = &p.input_scaler {
            scaler.validate("input", input_width)?;
        }
        for encoding in &p.categorical {
            if encoding.categories.is_empty() {
                return Err(format!(
                    "categorical column '{}' has no categories",
                    encoding.column
                ));
            }
        }
        match task {
            Task::Classification => {
                if let Some(names) = &p.class_names {
                    let binary = output_width == 1
                        && output_activation == Activation::Sigmoid
                        && names.len() == 2;
                    if names.len() != output_width && !binary {
                        return Err(format!(
                            "{} class names for {output_width} output units{}",
                            names.len(),
                            if output_width == 1 {
                                " (a single sigmoid unit takes 2 class names)"
                            } else {
                                ""
                            }
                        ));
                    }
                }
                if p.target_scaler.is_some() {
                    return Err("a classification model has a target scaler".into());
                }
            }
            Task::Regression => {
                if p.class_names.is_some() {
                    return Err("a regression model has class names".into());
                }
                if let Some(scaler) = &p.target_scaler {
                    scaler.validate("target", output_width)?;
                }
            }
        }
        for summary in &self.history {
            let figures = [
                ("loss", Some(summary.loss)),
                ("accuracy", summary.accuracy),
                ("mae", summary.mae),
                ("r2", summary.r2),
                ("validation_loss", summary.validation_loss),
                ("validation_accuracy", summary.validation_accuracy),
                ("validation_mae", summary.validation_mae),
                ("validation_r2", summary.validation_r2),
                ("learning_rate", Some(summary.learning_rate)),
                ("seconds", Some(summary.seconds)),
            ];
            for (name, value) in figures {
                if let Some(v) = value.filter(|v| !v.is_finite()) {
                    return Err(format!(
                        "history epoch {}: {name} is {v}, not a finite number",
                        summary.epoch
                    ));
                }
            }
        }
        let hash = &self.data.sha256;
        if !(hash.is_empty()
            || (hash.len() == 64
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))))
        {
            return Err(format!(
                "the data hash '{hash}' is not 64 lowercase hex digits"
            ));
        }
        Ok(config)
    }
}
