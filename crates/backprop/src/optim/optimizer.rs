//! The stateful optimiser: one rule, one state per named parameter.
//!
//! A step applies the configured [`UpdateRule`] to every parameter p with its gradient
//! g = ∂L/∂p at the given learning rate η (p ← p − η·u(g, state)), creating a parameter's state
//! the first time its name is seen. Saving and restoring the state is in `checkpoint.rs`.

use super::{OptimError, OptimizerConfig, ParameterState, UpdateRule};
use backprop_tensor::{Float, Matrix};
use std::collections::BTreeMap;

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

/// An optimiser: a validated [`OptimizerConfig`] and one state per named parameter.
#[derive(Debug, Clone)]
pub struct Optimizer<T: Float> {
    pub(super) config: OptimizerConfig,
    pub(super) states: BTreeMap<String, ParameterState<T>>,
    pub(super) steps_taken: u64,
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

    /// Changes the hyper-parameters (the learning rate among them) and keeps every parameter's
    /// state, as editing a PyTorch optimiser's `param_groups` does. The rule must stay the same.
    pub fn set_config(&mut self, config: OptimizerConfig) -> Result<(), OptimError> {
        config.validate()?;
        if std::mem::discriminant(&config) != std::mem::discriminant(&self.config) {
            return Err(OptimError::RuleChanged {
                from: self.config.name(),
                to: config.name(),
            });
        }
        self.config = config;
        Ok(())
    }

    /// Number of calls to [`Optimizer::step`] so far (also counting those before a restore).
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// True when a step is plain gradient descent, p ← p − η·g (SGD without momentum or weight
    /// decay): the network can then fuse it into the backward pass.
    pub(crate) fn is_plain_sgd(&self) -> bool {
        matches!(&self.config, OptimizerConfig::Sgd(c) if c.momentum == 0.0 && c.weight_decay == 0.0)
    }

    /// The bookkeeping of [`Optimizer::step`] for a plain SGD step that the network took itself
    /// (fused into backprop): states and step counts end as if `step` had run.
    pub(crate) fn record_fused_step(&mut self, names: &[String]) {
        debug_assert!(self.is_plain_sgd());
        for name in names {
            if !self.states.contains_key(name) {
                self.states.insert(name.to_owned(), ParameterState::new(0));
            }
            if let Some(state) = self.states.get_mut(name) {
                state.step += 1;
            }
        }
        self.steps_taken += 1;
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
        for (index, parameter) in parameters.iter().enumerate() {
            // A pairwise check: a handful of names, and no allocation per step.
            let name = parameter.name;
            assert!(
                parameters[..index].iter().all(|other| other.name != name),
                "Optimizer::step: `{name}` is listed twice"
            );
        }
        for parameter in parameters.iter_mut() {
            self.update(
                parameter.name,
                parameter.value,
                parameter.gradient,
                learning_rate,
            );
        }
        self.finish_step();
    }

    /// The update of one parameter within a step ([`Optimizer::step`] runs it for each, then
    /// [`Optimizer::finish_step`]).
    #[track_caller]
    pub(crate) fn update(
        &mut self,
        name: &str,
        value: &mut Matrix<T>,
        gradient: &Matrix<T>,
        learning_rate: f64,
    ) {
        assert_eq!(
            value.shape(),
            gradient.shape(),
            "Optimizer::step: `{name}` and its gradient differ in shape"
        );
        if !self.states.contains_key(name) {
            self.states.insert(name.to_owned(), ParameterState::new(0));
        }
        let state = self.states.get_mut(name).expect("inserted above");
        self.config.update(
            learning_rate,
            value.as_mut_slice(),
            gradient.as_slice(),
            state,
        );
    }

    /// Counts a step whose parameters [`Optimizer::update`] has updated.
    pub(crate) fn finish_step(&mut self) {
        self.steps_taken += 1;
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{adam_update, AdamConfig, AdamState, SgdConfig};
    use super::*;

    pub(in super::super) const NAMES: [&str; 2] = ["layers.0.weight", "layers.0.bias"];

    pub(in super::super) fn model(seed: f32) -> Vec<Matrix<f32>> {
        let weight = Matrix::from_fn(2, 3, |i, j| seed + (i * 3 + j) as f32 * 0.25 - 0.6);
        vec![weight, Matrix::row_vector(&[seed, -0.5, 0.125])]
    }

    /// A deterministic gradient that depends on the parameter and on the step.
    pub(in super::super) fn gradient(value: &Matrix<f32>, step: u64) -> Matrix<f32> {
        let (rows, cols) = value.shape();
        Matrix::from_fn(rows, cols, |i, j| {
            let index = (i * cols + j) as u64;
            0.5 * value[(i, j)] + ((step * 7 + index * 3) % 11) as f32 * 0.1 - 0.5
        })
    }

    pub(in super::super) fn train(
        optimizer: &mut Optimizer<f32>,
        parameters: &mut [Matrix<f32>],
        steps: u64,
    ) {
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

    pub(in super::super) fn bits(parameters: &[Matrix<f32>]) -> Vec<u32> {
        parameters
            .iter()
            .flat_map(|p| p.as_slice())
            .map(|v| v.to_bits())
            .collect()
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
