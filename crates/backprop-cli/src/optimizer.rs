//! From `--optimizer`, `--learning-rate`, `--momentum` and `--weight-decay` to the library's
//! validated [`OptimizerConfig`].
//!
//! `momentum` and `nesterov` are PyTorch's SGD with momentum 0.9 (Nesterov for the second).
//! Default learning rates are PyTorch's, except 0.1 for plain SGD and 0.01 for SGD with
//! momentum; `--weight-decay` is PyTorch-style (added to the gradient, decoupled for AdamW).

use crate::args::OptimizerKind;
use crate::exit::CliError;
use backprop::optim::{AdamConfig, AdamWConfig, OptimizerConfig, RmsPropConfig, SgdConfig};

/// The momentum factor of `--optimizer momentum` and `--optimizer nesterov`.
pub const DEFAULT_MOMENTUM: f64 = 0.9;

/// The default base learning rate of each optimiser: PyTorch's, except 0.1 for plain SGD and
/// 0.01 for SGD with momentum (PyTorch's 0.001 trains far too slowly in a quick run).
pub fn default_learning_rate(kind: OptimizerKind) -> f64 {
    match kind {
        OptimizerKind::Sgd => 0.1,
        OptimizerKind::Momentum | OptimizerKind::Nesterov => 0.01,
        OptimizerKind::Adam | OptimizerKind::Adamw => AdamConfig::default().learning_rate,
        OptimizerKind::Rmsprop => RmsPropConfig::default().learning_rate,
    }
}

/// Builds and validates the optimiser's configuration.
pub fn optimizer_config(
    kind: OptimizerKind,
    learning_rate: f64,
    momentum: Option<f64>,
    weight_decay: Option<f64>,
) -> Result<OptimizerConfig, CliError> {
    let config: OptimizerConfig = match kind {
        OptimizerKind::Sgd | OptimizerKind::Momentum | OptimizerKind::Nesterov => {
            let default_momentum = if kind == OptimizerKind::Sgd {
                0.0
            } else {
                DEFAULT_MOMENTUM
            };
            SgdConfig::new()
                .with_learning_rate(learning_rate)
                .with_momentum(momentum.unwrap_or(default_momentum))
                .with_nesterov(kind == OptimizerKind::Nesterov)
                .with_weight_decay(weight_decay.unwrap_or(0.0))
                .into()
        }
        OptimizerKind::Adam | OptimizerKind::Adamw if momentum.is_some() => {
            return Err(CliError::usage(
                "--momentum applies to sgd, momentum, nesterov and rmsprop, not to adam or adamw",
            ))
        }
        OptimizerKind::Adam => {
            let defaults = AdamConfig::default();
            defaults
                .with_learning_rate(learning_rate)
                .with_weight_decay(weight_decay.unwrap_or(defaults.weight_decay))
                .into()
        }
        OptimizerKind::Adamw => {
            let defaults = AdamWConfig::default();
            defaults
                .with_learning_rate(learning_rate)
                .with_weight_decay(weight_decay.unwrap_or(defaults.weight_decay))
                .into()
        }
        OptimizerKind::Rmsprop => {
            let defaults = RmsPropConfig::default();
            defaults
                .with_learning_rate(learning_rate)
                .with_momentum(momentum.unwrap_or(defaults.momentum))
                .with_weight_decay(weight_decay.unwrap_or(defaults.weight_decay))
                .into()
        }
    };
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_pytorch_optimizers() {
        let OptimizerConfig::Sgd(nesterov) =
            optimizer_config(OptimizerKind::Nesterov, 0.01, None, None).unwrap()
        else {
            panic!("nesterov is SGD")
        };
        assert!(nesterov.nesterov && nesterov.momentum == DEFAULT_MOMENTUM);
        let OptimizerConfig::AdamW(adamw) =
            optimizer_config(OptimizerKind::Adamw, 1e-3, None, None).unwrap()
        else {
            panic!("adamw is AdamW")
        };
        assert_eq!(adamw.weight_decay, 0.01);
        assert_eq!(default_learning_rate(OptimizerKind::Sgd), 0.1);
        assert_eq!(default_learning_rate(OptimizerKind::Adam), 1e-3);
        assert!(optimizer_config(OptimizerKind::Adam, 1e-3, Some(0.9), None).is_err());
        assert!(optimizer_config(OptimizerKind::Sgd, f64::NAN, None, None).is_err());
    }
}
