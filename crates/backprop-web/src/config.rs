//! A session's training configuration: the JSON body of `POST /api/sessions`, parsed into typed
//! values and checked field by field, so that every error names the field at fault.
//!
//! Parsing is strict: an unknown field, a value of the wrong type or an unknown name is refused
//! (serde with `deny_unknown_fields`, the path to the bad value reported by
//! `serde_path_to_error`); ranges are checked after parsing. Limits that depend on the data
//! (the batch size against the training rows) are checked when the data is built.

use crate::features::Feature;
use crate::limits::Limits;
use crate::ApiError;
use serde::Deserialize;

/// Where a session's data comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetChoice {
    /// A disc inside a ring (classification).
    Circle,
    /// The four quadrants (classification).
    Xor,
    /// Two Gaussian clusters (classification).
    Gaussian,
    /// Two spiral arms (classification).
    Spiral,
    /// Two interleaving half-circles (classification).
    Moons,
    /// A tilted plane (regression).
    Plane,
    /// Six signed bumps (regression).
    MultiGaussian,
    /// The 4-row XOR truth table (classification): the company network's data.
    XorTable,
    /// The uploaded CSV text in the `csv` field.
    Csv,
}

/// The hidden layers' activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationChoice {
    /// tanh z.
    Tanh,
    /// max(0, z).
    Relu,
    /// 1 / (1 + e⁻ᶻ).
    Sigmoid,
    /// z.
    Identity,
    /// z, or 0.01·z below zero.
    LeakyRelu,
    /// z·Φ(z).
    Gelu,
}

impl ActivationChoice {
    /// The library's activation.
    pub fn activation(self) -> backprop::Activation {
        use backprop::Activation;
        match self {
            Self::Tanh => Activation::Tanh,
            Self::Relu => Activation::Relu,
            Self::Sigmoid => Activation::Sigmoid,
            Self::Identity => Activation::Identity,
            Self::LeakyRelu => Activation::LEAKY_RELU,
            Self::Gelu => Activation::Gelu,
        }
    }
}

/// The optimiser, each with PyTorch's defaults except the learning rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerChoice {
    /// Plain stochastic gradient descent.
    Sgd,
    /// SGD with momentum 0.9.
    Momentum,
    /// Adam (β₁ 0.9, β₂ 0.999).
    Adam,
    /// RMSprop (α 0.99).
    Rmsprop,
}

/// The weight penalty added to the cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegularizationChoice {
    /// No penalty.
    None,
    /// λ Σ |w|.
    L1,
    /// (λ/2n) Σ w², Nielsen's form.
    L2,
}

/// The configuration as sent: every field optional, with the playground's defaults.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// The data set.
    pub dataset: DatasetChoice,
    /// The CSV text for `dataset: "csv"`.
    pub csv: Option<String>,
    /// Rows generated (ignored for CSV).
    pub samples: usize,
    /// Noise, 0 to 0.5.
    pub noise: f64,
    /// The share of rows used for training, the rest for testing.
    pub train_share: f64,
    /// Rows per optimisation step.
    pub batch_size: usize,
    /// The network's inputs, computed from x₁, x₂.
    pub features: Vec<Feature>,
    /// Neurons per hidden layer.
    pub hidden: Vec<usize>,
    /// The hidden layers' activation.
    pub activation: ActivationChoice,
    /// The optimiser's learning rate.
    pub learning_rate: f64,
    /// The optimiser.
    pub optimizer: OptimizerChoice,
    /// The weight penalty.
    pub regularization: RegularizationChoice,
    /// λ of the weight penalty.
    pub regularization_rate: f64,
    /// The seed for data, split, initial weights and shuffles.
    pub seed: u64,
    /// Epochs trained between two streamed states while playing.
    pub epochs_per_update: usize,
    /// Classes, 2 to 5; more than two only for `gaussian` and `spiral` (a softmax output).
    pub classes: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            dataset: DatasetChoice::Circle,
            csv: None,
            samples: 500,
            noise: 0.0,
            train_share: 0.5,
            batch_size: 10,
            features: vec![Feature::X1, Feature::X2],
            hidden: vec![4, 2],
            activation: ActivationChoice::Tanh,
            learning_rate: 0.03,
            optimizer: OptimizerChoice::Sgd,
            regularization: RegularizationChoice::None,
            regularization_rate: 0.0,
            seed: 1,
            epochs_per_update: 1,
            classes: 2,
        }
    }
}

/// A `PATCH /api/sessions/{id}` body: the settings that change without a new network. Every
/// field is optional; the structural ones (`dataset`, `csv`, `hidden`, `activation`,
/// `features`, `seed`) are accepted only with the value they already have, anything else is a
/// 409 naming the field.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigPatch {
    /// The optimiser's learning rate (its state is kept).
    pub learning_rate: Option<f64>,
    /// The optimiser (its state starts fresh when it changes).
    pub optimizer: Option<OptimizerChoice>,
    /// The weight penalty.
    pub regularization: Option<RegularizationChoice>,
    /// λ of the weight penalty.
    pub regularization_rate: Option<f64>,
    /// Rows per step, from the next epoch.
    pub batch_size: Option<usize>,
    /// Epochs between two streamed states while playing.
    pub epochs_per_update: Option<usize>,
    /// Noise: the data is generated again from the same seed.
    pub noise: Option<f64>,
    /// The training share: the data is split again from the same seed.
    pub train_share: Option<f64>,
    /// Rows generated: the data is generated again from the same seed.
    pub samples: Option<usize>,
    /// Structural: refused (409) unless unchanged.
    pub dataset: Option<DatasetChoice>,
    /// Structural: refused (409) unless unchanged.
    pub csv: Option<String>,
    /// Structural: refused (409) unless unchanged.
    pub features: Option<Vec<Feature>>,
    /// Structural: refused (409) unless unchanged.
    pub hidden: Option<Vec<usize>>,
    /// Structural: refused (409) unless unchanged.
    pub activation: Option<ActivationChoice>,
    /// Structural: refused (409) unless unchanged.
    pub seed: Option<u64>,
    /// Structural: refused (409) unless unchanged.
    pub classes: Option<usize>,
}

impl ConfigPatch {
    /// The configuration `current` becomes, checked; a structural change is a 409 naming the
    /// field, a value out of range a 400.
    pub fn applied_to(
        &self,
        current: &SessionConfig,
        limits: &Limits,
    ) -> Result<SessionConfig, ApiError> {
        let conflict = |field: &str, why: &str| {
            ApiError::new(
                axum::http::StatusCode::CONFLICT,
                format!("{field}: {why}; start a new session (POST /api/sessions) for it"),
            )
        };
        let structure = "changes the network or its data set, which PATCH keeps";
        if self
            .dataset
            .is_some_and(|dataset| dataset != current.dataset)
        {
            return Err(conflict("dataset", structure));
        }
        if self.csv.is_some() && self.csv != current.csv {
            return Err(conflict("csv", structure));
        }
        if self
            .features
            .as_ref()
            .is_some_and(|features| *features != current.features)
        {
            return Err(conflict("features", structure));
        }
        if self
            .hidden
            .as_ref()
            .is_some_and(|hidden| *hidden != current.hidden)
        {
            return Err(conflict("hidden", structure));
        }
        if self
            .activation
            .is_some_and(|activation| activation != current.activation)
        {
            return Err(conflict("activation", structure));
        }
        if self
            .classes
            .is_some_and(|classes| classes != current.classes)
        {
            return Err(conflict("classes", structure));
        }
        if self.seed.is_some_and(|seed| seed != current.seed) {
            return Err(conflict(
                "seed",
                "the seed draws the data and the first weights (reset with {\"seed\": …} redraws the weights)",
            ));
        }
        let mut next = current.clone();
        next.learning_rate = self.learning_rate.unwrap_or(next.learning_rate);
        next.optimizer = self.optimizer.unwrap_or(next.optimizer);
        next.regularization = self.regularization.unwrap_or(next.regularization);
        next.regularization_rate = self.regularization_rate.unwrap_or(next.regularization_rate);
        next.batch_size = self.batch_size.unwrap_or(next.batch_size);
        next.epochs_per_update = self.epochs_per_update.unwrap_or(next.epochs_per_update);
        next.noise = self.noise.unwrap_or(next.noise);
        next.train_share = self.train_share.unwrap_or(next.train_share);
        next.samples = self.samples.unwrap_or(next.samples);
        next.validate(limits)?;
        Ok(next)
    }
}

/// Parses a JSON object body into a value, naming the field at fault in the error.
pub fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    // serde would also fill a struct from an array, field by field: refuse that outright.
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|&byte| byte != b'{')
        && serde_json::from_slice::<serde_json::Value>(body).is_ok()
    {
        return Err(ApiError::bad_request(
            "the JSON body: must be an object, {\"field\": value, …}",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if path == "." || path == "?" || path.is_empty() {
            ApiError::bad_request(format!("the JSON body: {inner}"))
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::bad_request(format!("the JSON body: {error}")))?;
    Ok(value)
}

/// Fails with a 400 naming `field` unless `valid`.
fn require(valid: bool, field: &str, message: impl FnOnce() -> String) -> Result<(), ApiError> {
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("{field}: {}", message())))
    }
}

impl SessionConfig {
    /// Parses and checks a `POST /api/sessions` body (an empty body means every default).
    pub fn from_json(body: &[u8], limits: &Limits) -> Result<Self, ApiError> {
        let config: Self = if body.iter().all(u8::is_ascii_whitespace) {
            Self::default()
        } else {
            parse_json(body)?
        };
        config.validate(limits)?;
        Ok(config)
    }

    /// Checks every range that does not depend on the data.
    pub fn validate(&self, limits: &Limits) -> Result<(), ApiError> {
        let (low, high) = (limits.min_samples, limits.max_samples);
        require((low..=high).contains(&self.samples), "samples", || {
            format!("must be in {low}..={high}, got {}", self.samples)
        })?;
        require((0.0..=0.5).contains(&self.noise), "noise", || {
            format!("must be in 0..=0.5, got {}", self.noise)
        })?;
        require(
            (0.1..=0.9).contains(&self.train_share),
            "train_share",
            || format!("must be in 0.1..=0.9, got {}", self.train_share),
        )?;
        require(self.batch_size >= 1, "batch_size", || {
            "must be at least 1".into()
        })?;
        require(!self.features.is_empty(), "features", || {
            "choose at least one input feature".into()
        })?;
        for (index, feature) in self.features.iter().enumerate() {
            require(
                !self.features[..index].contains(feature),
                "features",
                || format!("{} is listed twice", feature.name()),
            )?;
        }
        require(self.hidden.len() <= limits.max_layers, "hidden", || {
            format!(
                "at most {} hidden layers, got {}",
                limits.max_layers,
                self.hidden.len()
            )
        })?;
        for (index, &width) in self.hidden.iter().enumerate() {
            require(
                (1..=limits.max_neurons).contains(&width),
                &format!("hidden[{index}]"),
                || {
                    format!(
                        "a layer has 1..={} neurons, got {width}",
                        limits.max_neurons
                    )
                },
            )?;
        }
        require(
            self.learning_rate > 0.0 && self.learning_rate <= 10.0,
            "learning_rate",
            || format!("must be > 0 and <= 10, got {}", self.learning_rate),
        )?;
        require(
            (0.0..=10.0).contains(&self.regularization_rate),
            "regularization_rate",
            || format!("must be in 0..=10, got {}", self.regularization_rate),
        )?;
        require(
            (1..=100).contains(&self.epochs_per_update),
            "epochs_per_update",
            || format!("must be in 1..=100, got {}", self.epochs_per_update),
        )?;
        require((2..=5).contains(&self.classes), "classes", || {
            format!("must be in 2..=5, got {}", self.classes)
        })?;
        require(
            self.classes == 2
                || matches!(
                    self.dataset,
                    DatasetChoice::Gaussian | DatasetChoice::Spiral
                ),
            "classes",
            || "more than two classes only for gaussian and spiral".into(),
        )?;
        match (self.dataset, &self.csv) {
            (DatasetChoice::Csv, None) => Err(ApiError::bad_request(
                "csv: dataset \"csv\" needs the file's text in the csv field",
            )),
            (DatasetChoice::Csv, Some(_)) | (_, None) => Ok(()),
            (_, Some(_)) => Err(ApiError::bad_request(
                "csv: only allowed with dataset \"csv\"",
            )),
        }
    }

    /// True for the classification data sets (a CSV decides by its target column).
    pub fn is_builtin_classification(&self) -> bool {
        !matches!(
            self.dataset,
            DatasetChoice::Plane | DatasetChoice::MultiGaussian
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(body: &str) -> String {
        SessionConfig::from_json(body.as_bytes(), &Limits::default())
            .unwrap_err()
            .message
    }

    #[test]
    fn defaults_and_empty_bodies() {
        let limits = Limits::default();
        assert_eq!(
            SessionConfig::from_json(b"{}", &limits).unwrap(),
            SessionConfig::default()
        );
        assert_eq!(
            SessionConfig::from_json(b"  ", &limits).unwrap(),
            SessionConfig::default()
        );
        let config =
            SessionConfig::from_json(br#"{"dataset":"multi-gaussian","hidden":[]}"#, &limits)
                .unwrap();
        assert_eq!(config.dataset, DatasetChoice::MultiGaussian);
        assert!(config.hidden.is_empty());
    }

    #[test]
    fn every_error_names_its_field() {
        assert!(error(r#"{"noise": 0.7}"#).starts_with("noise:"));
        assert!(error(r#"{"noise": "a"}"#).starts_with("noise:"));
        assert!(error(r#"{"dataset": "moon"}"#).starts_with("dataset:"));
        assert!(error(r#"{"hidden": [4, 17]}"#).starts_with("hidden[1]:"));
        assert!(error(r#"{"hidden": [1,1,1,1,1,1,1,1,1]}"#).starts_with("hidden:"));
        assert!(error(r#"{"features": ["x3"]}"#).starts_with("features[0]:"));
        assert!(error(r#"{"features": []}"#).starts_with("features:"));
        assert!(error(r#"{"seed": -1}"#).starts_with("seed:"));
        assert!(error(r#"{"colour": 1}"#).contains("colour"));
        assert!(error(r#"{"learning_rate": 0}"#).starts_with("learning_rate:"));
        assert!(error(r#"{"dataset": "csv"}"#).starts_with("csv:"));
        assert!(error(r#"{"samples": 5}"#).starts_with("samples:"));
        assert!(error(r#"{"epochs_per_update": 0}"#).starts_with("epochs_per_update:"));
        assert!(error(r#"{} x"#).starts_with("the JSON body:"));
        assert!(error(r#"[1]"#).starts_with("the JSON body:"));
        assert!(error(r#"{"classes": 6, "dataset": "spiral"}"#).starts_with("classes:"));
        assert!(error(r#"{"classes": 3, "dataset": "circle"}"#).starts_with("classes:"));
        assert!(error(r#"{"classes": 3}"#).starts_with("classes:"));
    }

    #[test]
    fn patches_change_settings_and_refuse_structure() {
        let limits = Limits::default();
        let current = SessionConfig::default();
        let patch: ConfigPatch =
            parse_json(br#"{"learning_rate": 0.3, "optimizer": "adam", "hidden": [4, 2]}"#)
                .unwrap();
        let next = patch.applied_to(&current, &limits).unwrap();
        assert_eq!(
            (next.learning_rate, next.optimizer),
            (0.3, OptimizerChoice::Adam)
        );
        assert_eq!(next.hidden, current.hidden);
        for (body, field) in [
            (r#"{"hidden": [3]}"#, "hidden:"),
            (r#"{"activation": "relu"}"#, "activation:"),
            (r#"{"features": ["x1"]}"#, "features:"),
            (r#"{"dataset": "spiral"}"#, "dataset:"),
            (r#"{"seed": 2}"#, "seed:"),
        ] {
            let patch: ConfigPatch = parse_json(body.as_bytes()).unwrap();
            let error = patch.applied_to(&current, &limits).unwrap_err();
            assert_eq!(error.status, axum::http::StatusCode::CONFLICT, "{body}");
            assert!(
                error.message.starts_with(field),
                "{body}: {}",
                error.message
            );
        }
        let patch: ConfigPatch = parse_json(br#"{"learning_rate": 0}"#).unwrap();
        let error = patch.applied_to(&current, &limits).unwrap_err();
        assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(error.message.starts_with("learning_rate:"));
        assert!(parse_json::<ConfigPatch>(br#"{"colour": 1}"#)
            .unwrap_err()
            .message
            .contains("colour"));
    }
}
