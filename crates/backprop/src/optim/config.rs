//! The choice of optimiser: one enum over the four rules and their hyper-parameters.
//!
//! Each variant carries its rule's configuration (see [`SgdConfig`], [`AdamConfig`],
//! [`AdamWConfig`], [`RmsPropConfig`] for the update formulas); the enum validates them, gives
//! the base learning rate η₀ that a schedule scales, and names the state buffers the rule keeps.

use super::{AdamConfig, AdamWConfig, OptimError, RmsPropConfig, SgdConfig};
use super::{ParameterState, UpdateRule};
use backprop_tensor::Float;

/// Which optimiser to use, with its hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
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

    /// The same configuration with another base learning rate.
    #[must_use]
    pub fn with_learning_rate(self, learning_rate: f64) -> Self {
        match self {
            Self::Sgd(config) => Self::Sgd(config.with_learning_rate(learning_rate)),
            Self::Adam(config) => Self::Adam(config.with_learning_rate(learning_rate)),
            Self::AdamW(config) => Self::AdamW(config.with_learning_rate(learning_rate)),
            Self::RmsProp(config) => Self::RmsProp(config.with_learning_rate(learning_rate)),
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
}

impl UpdateRule for OptimizerConfig {
    fn buffer_names(&self) -> &'static [&'static str] {
        match self {
            Self::Sgd(config) => config.buffer_names(),
            Self::Adam(config) => config.buffer_names(),
            Self::AdamW(config) => config.buffer_names(),
            Self::RmsProp(config) => config.buffer_names(),
        }
    }

    fn update<T: Float>(
        &self,
        learning_rate: f64,
        parameter: &mut [T],
        gradient: &[T],
        state: &mut ParameterState<T>,
    ) {
        match self {
            Self::Sgd(config) => config.update(learning_rate, parameter, gradient, state),
            Self::Adam(config) => config.update(learning_rate, parameter, gradient, state),
            Self::AdamW(config) => config.update(learning_rate, parameter, gradient, state),
            Self::RmsProp(config) => config.update(learning_rate, parameter, gradient, state),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_enum_dispatches() {
        let configs: [OptimizerConfig; 4] = [
            SgdConfig::new().into(),
            AdamConfig::new().into(),
            AdamWConfig::new().into(),
            RmsPropConfig::new().with_centered(true).into(),
        ];
        let names: Vec<_> = configs.iter().map(OptimizerConfig::name).collect();
        assert_eq!(names, ["SGD", "Adam", "AdamW", "RMSprop"]);
        let rates: Vec<_> = configs.iter().map(OptimizerConfig::learning_rate).collect();
        assert_eq!(rates, [1e-3, 1e-3, 1e-3, 1e-2]);
        assert!(configs.iter().all(|c| c.validate().is_ok()));
        assert_eq!(configs[3].buffer_names(), ["square_avg", "grad_avg"]);
        let momentum: OptimizerConfig = SgdConfig::new().with_momentum(0.9).into();
        assert_eq!(momentum.buffer_names(), ["momentum_buffer"]);
        assert!(configs[0].buffer_names().is_empty());
        let invalid: OptimizerConfig = AdamWConfig::new().with_epsilon(-1.0).into();
        let err = invalid.validate().unwrap_err();
        assert!(err.to_string().contains("AdamW: epsilon"), "{err}");
    }
}
