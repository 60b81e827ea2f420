//! The stateful optimiser: one rule, one state per named parameter, saved and restored exactly.
//!
//! A step applies the configured rule to every parameter p with its gradient g at the given
//! learning rate η. The state is saved as tensors `optimizer.{parameter}.{buffer}` and step
//! counts `optimizer.{parameter}.step` and `optimizer.steps_taken`; restoring them rebuilds an
//! optimiser whose next steps are bit-identical to those of the original.

use super::{adam_update, adamw_update, rmsprop_update, sgd_update, OptimError};
use super::{AdamConfig, AdamState, AdamWConfig, RmsPropConfig, RmsPropState, SgdConfig, SgdState};
use backprop_tensor::{Float, Matrix};
use std::collections::{BTreeMap, BTreeSet};

/// Prefix of every saved name.
const PREFIX: &str = "optimizer.";
/// The saved name of [`Optimizer::steps_taken`].
const STEPS_TAKEN: &str = "optimizer.steps_taken";

/// Which optimiser to use, with its hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerConfig {
    /// Stochastic gradient descent.
    Sgd(SgdConfig),
    /// Adam with L2 weight decay.
    Adam(AdamConfig),
    /// Adam with decoupled weight decay.
    AdamW(AdamWConfig),
    /// RMSprop.
    RmsProp(RmsPropConfig),
}

impl OptimizerConfig {
    /// Checks every hyper-parameter; the error names the first invalid field.
    pub fn validate(&self) -> Result<(), OptimError> {
        match self {
            Self::Sgd(config) => config.validate(),
            Self::Adam(config) => config.validate(),
            Self::AdamW(config) => config.validate(),
            Self::RmsProp(config) => config.validate(),
        }
    }

    /// The base learning rate, before any schedule.
    pub fn learning_rate(&self) -> f64 {
        match self {
            Self::Sgd(config) => config.learning_rate,
            Self::Adam(config) => config.learning_rate,
            Self::AdamW(config) => config.learning_rate,
            Self::RmsProp(config) => config.learning_rate,
        }
    }

    /// The optimiser's name: `"SGD"`, `"Adam"`, `"AdamW"` or `"RMSprop"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sgd(_) => "SGD",
            Self::Adam(_) => "Adam",
            Self::AdamW(_) => "AdamW",
            Self::RmsProp(_) => "RMSprop",
        }
    }

    /// The state buffers this configuration keeps per parameter, in saving order.
    fn buffer_names(&self) -> &'static [&'static str] {
        match self {
            Self::Sgd(config) if config.momentum != 0.0 => &["momentum_buffer"],
            Self::Sgd(_) => &[],
            Self::Adam(_) | Self::AdamW(_) => &["exp_avg", "exp_avg_sq"],
            Self::RmsProp(config) => match (config.centered, config.momentum > 0.0) {
                (false, false) => &["square_avg"],
                (true, false) => &["square_avg", "grad_avg"],
                (false, true) => &["square_avg", "momentum_buffer"],
                (true, true) => &["square_avg", "grad_avg", "momentum_buffer"],
            },
        }
    }
}

impl From<SgdConfig> for OptimizerConfig {
    fn from(config: SgdConfig) -> Self {
        Self::Sgd(config)
    }
}

impl From<AdamConfig> for OptimizerConfig {
    fn from(config: AdamConfig) -> Self {
        Self::Adam(config)
    }
}

impl From<AdamWConfig> for OptimizerConfig {
    fn from(config: AdamWConfig) -> Self {
        Self::AdamW(config)
    }
}

impl From<RmsPropConfig> for OptimizerConfig {
    fn from(config: RmsPropConfig) -> Self {
        Self::RmsProp(config)
    }
}

/// One parameter handed to [`Optimizer::step`]: its name, its value and its gradient.
#[derive(Debug)]
pub struct ParameterRef<'a, T: Float> {
    /// The parameter's name, e.g. `layers.0.weight`; it keys the optimiser's state.
    pub name: &'a str,
    /// The value, updated in place.
    pub value: &'a mut Matrix<T>,
    /// ∂L/∂value, of the same shape.
    pub gradient: &'a Matrix<T>,
}

/// The state of one parameter; its kind always matches the optimiser's configuration.
#[derive(Debug, Clone, PartialEq)]
enum ParameterState<T: Float> {
    Sgd(SgdState<T>),
    Adam(AdamState<T>),
    RmsProp(RmsPropState<T>),
}

impl<T: Float> ParameterState<T> {
    /// An empty state of the kind `config` needs, at step `step`.
    fn new(config: &OptimizerConfig, step: u64) -> Self {
        match config {
            OptimizerConfig::Sgd(_) => Self::Sgd(SgdState {
                step,
                ..SgdState::default()
            }),
            OptimizerConfig::Adam(_) | OptimizerConfig::AdamW(_) => Self::Adam(AdamState {
                step,
                ..AdamState::default()
            }),
            OptimizerConfig::RmsProp(_) => Self::RmsProp(RmsPropState {
                step,
                ..RmsPropState::default()
            }),
        }
    }

    /// Updates applied to this parameter.
    fn step(&self) -> u64 {
        match self {
            Self::Sgd(state) => state.step,
            Self::Adam(state) => state.step,
            Self::RmsProp(state) => state.step,
        }
    }

    /// The buffer called `name`, if this kind of state has one.
    fn buffer(&self, name: &str) -> Option<&Vec<T>> {
        match (self, name) {
            (Self::Sgd(state), "momentum_buffer") => Some(&state.momentum_buffer),
            (Self::Adam(state), "exp_avg") => Some(&state.exp_avg),
            (Self::Adam(state), "exp_avg_sq") => Some(&state.exp_avg_sq),
            (Self::RmsProp(state), "square_avg") => Some(&state.square_avg),
            (Self::RmsProp(state), "grad_avg") => Some(&state.grad_avg),
            (Self::RmsProp(state), "momentum_buffer") => Some(&state.momentum_buffer),
            _ => None,
        }
    }

    /// The buffer called `name`, mutable, if this kind of state has one.
    fn buffer_mut(&mut self, name: &str) -> Option<&mut Vec<T>> {
        match (self, name) {
            (Self::Sgd(state), "momentum_buffer") => Some(&mut state.momentum_buffer),
            (Self::Adam(state), "exp_avg") => Some(&mut state.exp_avg),
            (Self::Adam(state), "exp_avg_sq") => Some(&mut state.exp_avg_sq),
            (Self::RmsProp(state), "square_avg") => Some(&mut state.square_avg),
            (Self::RmsProp(state), "grad_avg") => Some(&mut state.grad_avg),
            (Self::RmsProp(state), "momentum_buffer") => Some(&mut state.momentum_buffer),
            _ => None,
        }
    }
}

/// The saved name of one state buffer.
fn tensor_name(parameter: &str, buffer: &str) -> String {
    format!("{PREFIX}{parameter}.{buffer}")
}

/// An optimiser: a validated [`OptimizerConfig`] and one state per named parameter.
#[derive(Debug, Clone)]
pub struct Optimizer<T: Float> {
    config: OptimizerConfig,
    states: BTreeMap<String, ParameterState<T>>,
    steps_taken: u64,
}

impl<T: Float> Optimizer<T> {
    /// A fresh optimiser; fails when a hyper-parameter is invalid.
    pub fn new(config: OptimizerConfig) -> Result<Self, OptimError> {
        config.validate()?;
        Ok(Self {
            config,
            states: BTreeMap::new(),
            steps_taken: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Number of calls to [`Optimizer::step`] so far (also counting those before a restore).
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// Updates every parameter in place with its gradient, at `learning_rate` (the scheduled
    /// rate; the configuration's own is the base rate). A parameter seen for the first time gets
    /// a fresh state.
    ///
    /// # Panics
    /// When a name is listed twice, a gradient's shape differs from its value's, or a restored
    /// state's length differs from its parameter's ([`Optimizer::check_state_lengths`] reports
    /// that as an error beforehand).
    #[track_caller]
    pub fn step(&mut self, parameters: &mut [ParameterRef<'_, T>], learning_rate: f64) {
        let mut seen = BTreeSet::new();
        for parameter in parameters.iter_mut() {
            let name = parameter.name;
            assert!(
                seen.insert(name),
                "Optimizer::step: `{name}` is listed twice"
            );
            assert_eq!(
                parameter.value.shape(),
                parameter.gradient.shape(),
                "Optimizer::step: `{name}` and its gradient differ in shape"
            );
            let state = self
                .states
                .entry(name.to_owned())
                .or_insert_with(|| ParameterState::new(&self.config, 0));
            let value = parameter.value.as_mut_slice();
            let gradient = parameter.gradient.as_slice();
            match (&self.config, state) {
                (OptimizerConfig::Sgd(config), ParameterState::Sgd(state)) => {
                    sgd_update(config, learning_rate, value, gradient, state);
                }
                (OptimizerConfig::Adam(config), ParameterState::Adam(state)) => {
                    adam_update(config, learning_rate, value, gradient, state);
                }
                (OptimizerConfig::AdamW(config), ParameterState::Adam(state)) => {
                    adamw_update(config, learning_rate, value, gradient, state);
                }
                (OptimizerConfig::RmsProp(config), ParameterState::RmsProp(state)) => {
                    rmsprop_update(config, learning_rate, value, gradient, state);
                }
                _ => unreachable!("a parameter state always has its optimizer's kind"),
            }
        }
        self.steps_taken += 1;
    }

    /// Every state buffer, named `optimizer.{parameter}.{buffer}`, sorted by parameter name.
    pub fn state_tensors(&self) -> Vec<(String, Vec<T>)> {
        let buffers = self.config.buffer_names();
        let mut tensors = Vec::with_capacity(self.states.len() * buffers.len());
        for (parameter, state) in &self.states {
            for &buffer in buffers {
                let values = state.buffer(buffer).cloned().unwrap_or_default();
                tensors.push((tensor_name(parameter, buffer), values));
            }
        }
        tensors
    }

    /// The step counts: `optimizer.steps_taken`, then `optimizer.{parameter}.step` for each
    /// parameter that has state.
    pub fn state_scalars(&self) -> Vec<(String, u64)> {
        let mut scalars = vec![(STEPS_TAKEN.to_owned(), self.steps_taken)];
        for (parameter, state) in &self.states {
            scalars.push((format!("{PREFIX}{parameter}.step"), state.step()));
        }
        scalars
    }

    /// Rebuilds an optimiser from [`Optimizer::state_tensors`] and [`Optimizer::state_scalars`];
    /// it continues bit-identically. Fails on an invalid configuration, a missing, extra or
    /// repeated entry, or buffers of one parameter that differ in length.
    pub fn restore(
        config: OptimizerConfig,
        tensors: Vec<(String, Vec<T>)>,
        scalars: Vec<(String, u64)>,
    ) -> Result<Self, OptimError> {
        config.validate()?;
        let mut steps_taken = None;
        let mut parameter_steps = BTreeMap::new();
        for (name, value) in scalars {
            let duplicate = if name == STEPS_TAKEN {
                steps_taken.replace(value).is_some()
            } else {
                let parameter = name
                    .strip_prefix(PREFIX)
                    .and_then(|rest| rest.strip_suffix(".step"))
                    .filter(|parameter| !parameter.is_empty());
                let Some(parameter) = parameter else {
                    return Err(OptimError::UnexpectedScalar { name });
                };
                parameter_steps
                    .insert(parameter.to_owned(), value)
                    .is_some()
            };
            if duplicate {
                return Err(OptimError::DuplicateEntry { name });
            }
        }
        let steps_taken = steps_taken.ok_or_else(|| OptimError::MissingScalar {
            name: STEPS_TAKEN.to_owned(),
        })?;
        let mut saved = BTreeMap::new();
        for (name, values) in tensors {
            if saved.contains_key(&name) {
                return Err(OptimError::DuplicateEntry { name });
            }
            saved.insert(name, values);
        }
        let mut states = BTreeMap::new();
        for (parameter, step) in parameter_steps {
            let mut state = ParameterState::new(&config, step);
            let mut first_length = None;
            for &buffer in config.buffer_names() {
                let name = tensor_name(&parameter, buffer);
                let Some(values) = saved.remove(&name) else {
                    return Err(OptimError::MissingTensor { name });
                };
                let expected = *first_length.get_or_insert(values.len());
                if values.len() != expected {
                    let found = values.len();
                    return Err(OptimError::LengthMismatch {
                        name,
                        expected,
                        found,
                    });
                }
                if let Some(slot) = state.buffer_mut(buffer) {
                    *slot = values;
                }
            }
            states.insert(parameter, state);
        }
        if let Some(name) = saved.into_keys().next() {
            let optimizer = config.name();
            return Err(OptimError::UnexpectedTensor { name, optimizer });
        }
        Ok(Self {
            config,
            states,
            steps_taken,
        })
    }

    /// Checks the state against the model's parameters, given as (name, element count): every
    /// parameter with state must be among them, with buffers of its length. Call it after
    /// [`Optimizer::restore`] to turn a checkpoint that does not fit the model into an error.
    pub fn check_state_lengths<'a>(
        &self,
        parameters: impl IntoIterator<Item = (&'a str, usize)>,
    ) -> Result<(), OptimError> {
        let lengths: BTreeMap<&str, usize> = parameters.into_iter().collect();
        for (parameter, state) in &self.states {
            let Some(&expected) = lengths.get(parameter.as_str()) else {
                let name = parameter.clone();
                return Err(OptimError::UnknownParameter { name });
            };
            for &buffer in self.config.buffer_names() {
                let found = state.buffer(buffer).map_or(0, Vec::len);
                if found != expected {
                    let name = tensor_name(parameter, buffer);
                    return Err(OptimError::LengthMismatch {
                        name,
                        expected,
                        found,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 2] = ["layers.0.weight", "layers.0.bias"];

    fn model(seed: f32) -> Vec<Matrix<f32>> {
        let weight = Matrix::from_fn(2, 3, |i, j| seed + (i * 3 + j) as f32 * 0.25 - 0.6);
        vec![weight, Matrix::row_vector(&[seed, -0.5, 0.125])]
    }

    /// A deterministic gradient that depends on the parameter and on the step.
    fn gradient(value: &Matrix<f32>, step: u64) -> Matrix<f32> {
        let (rows, cols) = value.shape();
        Matrix::from_fn(rows, cols, |i, j| {
            let index = (i * cols + j) as u64;
            0.5 * value[(i, j)] + ((step * 7 + index * 3) % 11) as f32 * 0.1 - 0.5
        })
    }

    fn train(optimizer: &mut Optimizer<f32>, parameters: &mut [Matrix<f32>], steps: u64) {
        for _ in 0..steps {
            let step = optimizer.steps_taken();
            let gradients: Vec<_> = parameters.iter().map(|p| gradient(p, step)).collect();
            let mut refs: Vec<_> = parameters
                .iter_mut()
                .zip(&gradients)
                .zip(NAMES)
                .map(|((value, gradient), name)| ParameterRef {
                    name,
                    value,
                    gradient,
                })
                .collect();
            optimizer.step(&mut refs, 0.05 / (1.0 + step as f64));
        }
    }

    fn bits(parameters: &[Matrix<f32>]) -> Vec<u32> {
        parameters
            .iter()
            .flat_map(|p| p.as_slice())
            .map(|v| v.to_bits())
            .collect()
    }

    fn configs() -> [OptimizerConfig; 6] {
        [
            SgdConfig::new()
                .with_momentum(0.9)
                .with_nesterov(true)
                .into(),
            SgdConfig::new().with_weight_decay(0.01).into(),
            AdamConfig::new().with_weight_decay(0.01).into(),
            AdamWConfig::new().into(),
            RmsPropConfig::new()
                .with_centered(true)
                .with_momentum(0.5)
                .into(),
            RmsPropConfig::new().into(),
        ]
    }

    fn check_round_trip(config: OptimizerConfig, before: u64, after: u64, seed: f32) {
        let mut original = Optimizer::new(config).unwrap();
        let mut parameters = model(seed);
        train(&mut original, &mut parameters, before);
        let tensors = original.state_tensors();
        let restored = Optimizer::restore(config, tensors, original.state_scalars());
        let mut restored = restored.unwrap_or_else(|e| panic!("{}: {e}", config.name()));
        restored
            .check_state_lengths(NAMES.into_iter().zip([6, 3]))
            .unwrap();
        let mut copy = parameters.clone();
        train(&mut original, &mut parameters, after);
        train(&mut restored, &mut copy, after);
        assert_eq!(bits(&parameters), bits(&copy), "{}", config.name());
        assert_eq!(original.steps_taken(), restored.steps_taken());
        assert_eq!(original.state_scalars(), restored.state_scalars());
        let state_bits = |o: &Optimizer<f32>| -> Vec<(String, Vec<u32>)> {
            let tensors = o.state_tensors().into_iter();
            tensors
                .map(|(n, v)| (n, v.iter().map(|x| x.to_bits()).collect()))
                .collect()
        };
        assert_eq!(state_bits(&original), state_bits(&restored));
    }

    #[test]
    fn save_and_restore_continue_bit_for_bit() {
        for config in configs() {
            check_round_trip(config, 4, 5, 0.3);
            check_round_trip(config, 0, 3, -0.2);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn save_and_restore_anywhere(which in 0usize..6, before in 0u64..8, after in 1u64..6,
                                     seed in -2.0f32..2.0) {
            check_round_trip(configs()[which], before, after, seed);
        }
    }

    #[test]
    fn steps_match_the_pure_update_functions() {
        let config = AdamConfig::new().with_weight_decay(0.1);
        let mut optimizer = Optimizer::new(config.into()).unwrap();
        let mut parameters = model(0.7);
        let mut expected = parameters.clone();
        let mut states = [AdamState::default(), AdamState::default()];
        for step in 0..3 {
            for (value, state) in expected.iter_mut().zip(&mut states) {
                let g = gradient(value, step);
                let learning_rate = 0.05 / (1.0 + step as f64);
                adam_update(
                    &config,
                    learning_rate,
                    value.as_mut_slice(),
                    g.as_slice(),
                    state,
                );
            }
        }
        train(&mut optimizer, &mut parameters, 3);
        assert_eq!(bits(&parameters), bits(&expected));
        assert_eq!(optimizer.steps_taken(), 3);
    }

    #[test]
    fn saved_names_follow_the_convention() {
        let mut optimizer = Optimizer::new(AdamConfig::new().into()).unwrap();
        train(&mut optimizer, &mut model(0.0), 2);
        let names: Vec<_> = optimizer
            .state_tensors()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let expected = [
            "optimizer.layers.0.bias.exp_avg",
            "optimizer.layers.0.bias.exp_avg_sq",
            "optimizer.layers.0.weight.exp_avg",
            "optimizer.layers.0.weight.exp_avg_sq",
        ];
        assert_eq!(names, expected);
        let scalars = optimizer.state_scalars();
        assert_eq!(scalars[0], ("optimizer.steps_taken".to_owned(), 2));
        assert_eq!(scalars[1], ("optimizer.layers.0.bias.step".to_owned(), 2));
        let mut plain = Optimizer::<f32>::new(SgdConfig::new().into()).unwrap();
        train(&mut plain, &mut model(0.0), 1);
        assert!(plain.state_tensors().is_empty());
        assert_eq!(plain.state_scalars().len(), 3);
    }

    #[test]
    fn restore_reports_what_is_wrong() {
        let config: OptimizerConfig = AdamConfig::new().into();
        let mut optimizer = Optimizer::new(config).unwrap();
        train(&mut optimizer, &mut model(0.0), 1);
        let (tensors, scalars) = (optimizer.state_tensors(), optimizer.state_scalars());
        let restore = |t: Vec<(String, Vec<f32>)>, s: Vec<(String, u64)>| {
            Optimizer::restore(config, t, s).unwrap_err().to_string()
        };
        let err = restore(tensors[1..].to_vec(), scalars.clone());
        assert!(
            err.contains("`optimizer.layers.0.bias.exp_avg` is missing"),
            "{err}"
        );
        let mut extra = tensors.clone();
        extra.push(("optimizer.layers.9.weight.exp_avg".into(), vec![0.0]));
        let err = restore(extra, scalars.clone());
        assert!(err.contains("`optimizer.layers.9.weight.exp_avg` is not used by a Adam"));
        let mut short = tensors.clone();
        short[1].1.pop();
        let err = restore(short, scalars.clone());
        assert!(
            err.contains("exp_avg_sq` has 2 elements, expected 3"),
            "{err}"
        );
        let err = restore(tensors.clone(), scalars[1..].to_vec());
        assert!(err.contains("`optimizer.steps_taken` is missing"), "{err}");
        let mut odd = scalars.clone();
        odd.push(("optimizer.layers.0.bias.steps".into(), 1));
        assert!(restore(tensors.clone(), odd).contains("not an optimizer step count"));
        let mut twice = tensors.clone();
        twice.push(tensors[0].clone());
        assert!(restore(twice, scalars.clone()).contains("more than once"));
        let sgd = SgdConfig::new().with_momentum(0.9).into();
        let err = Optimizer::restore(sgd, tensors.clone(), scalars.clone()).unwrap_err();
        assert!(matches!(err, OptimError::MissingTensor { .. }), "{err}");
        let bad = AdamConfig::new().with_beta2(1.5).into();
        assert!(Optimizer::restore(bad, tensors, scalars).is_err());
    }

    #[test]
    fn state_lengths_are_checked_against_the_model() {
        let mut optimizer = Optimizer::new(RmsPropConfig::new().into()).unwrap();
        train(&mut optimizer, &mut model(0.0), 1);
        assert!(optimizer
            .check_state_lengths(NAMES.into_iter().zip([6, 3]))
            .is_ok());
        let err = optimizer.check_state_lengths(NAMES.into_iter().zip([6, 4]));
        let err = err.unwrap_err().to_string();
        assert!(err.contains("optimizer.layers.0.bias.square_avg` has 3 elements, expected 4"));
        let err = optimizer
            .check_state_lengths([("layers.0.weight", 6)])
            .unwrap_err();
        assert!(matches!(err, OptimError::UnknownParameter { name } if name == "layers.0.bias"));
    }

    #[test]
    fn config_enum_dispatches() {
        let configs = configs();
        let names: Vec<_> = configs.iter().map(OptimizerConfig::name).collect();
        assert_eq!(names, ["SGD", "SGD", "Adam", "AdamW", "RMSprop", "RMSprop"]);
        assert_eq!(configs[2].learning_rate(), 1e-3);
        assert_eq!(configs[4].learning_rate(), 1e-2);
        assert!(configs.iter().all(|c| c.validate().is_ok()));
        let invalid = SgdConfig::new().with_learning_rate(0.0).into();
        assert!(Optimizer::<f64>::new(invalid).is_err());
    }

    #[test]
    #[should_panic(expected = "`layers.0.bias` and its gradient differ in shape")]
    fn mismatched_gradient_panics() {
        let mut optimizer = Optimizer::<f32>::new(SgdConfig::new().into()).unwrap();
        let (mut value, gradient) = (Matrix::zeros(1, 3), Matrix::zeros(1, 2));
        let name = "layers.0.bias";
        optimizer.step(
            &mut [ParameterRef {
                name,
                value: &mut value,
                gradient: &gradient,
            }],
            0.1,
        );
    }
}
