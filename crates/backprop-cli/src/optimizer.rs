//! From `--optimizer`, `--learning-rate`, `--momentum`, `--weight-decay`, `--dampening`,
//! `--betas`, `--eps`, `--rmsprop-alpha` and `--centered` to the library's validated
//! [`OptimizerConfig`]. A flag the chosen optimiser has no use for is a usage error.
//!
//! `momentum` and `nesterov` are PyTorch's SGD with momentum 0.9 (Nesterov for the second).
//! Default learning rates are PyTorch's, except 0.1 for plain SGD and 0.01 for SGD with
//! momentum; `--weight-decay` is PyTorch-style (added to the gradient, decoupled for AdamW).

use crate::args::OptimizerKind;
use crate::exit::CliError;
use backprop::optim::{AdamConfig, AdamWConfig, OptimizerConfig, RmsPropConfig, SgdConfig};
use clap::ValueEnum;

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
        // L-BFGS's line search starts from a whole step; it has no learning rate.
        OptimizerKind::Lbfgs => 1.0,
    }
}

/// The optimiser's hyper-parameters as flags: each `None` (or `false`) takes the default.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OptimizerFlags {
    /// `--momentum`.
    pub momentum: Option<f64>,
    /// `--weight-decay`.
    pub weight_decay: Option<f64>,
    /// `--dampening`.
    pub dampening: Option<f64>,
    /// `--betas`.
    pub betas: Option<(f64, f64)>,
    /// `--eps`.
    pub eps: Option<f64>,
    /// `--rmsprop-alpha`.
    pub rmsprop_alpha: Option<f64>,
    /// `--centered`.
    pub centered: bool,
}

impl OptimizerFlags {
    /// From `backprop train`'s flags.
    pub fn from_args(arguments: &crate::args::TrainArgs) -> Self {
        Self {
            momentum: arguments.momentum,
            weight_decay: arguments.weight_decay,
            dampening: arguments.dampening,
            betas: arguments.betas,
            eps: arguments.eps,
            rmsprop_alpha: arguments.rmsprop_alpha,
            centered: arguments.centered,
        }
    }

    /// A usage error for the first flag given that `kind` has no use for.
    fn check_applies_to(&self, kind: OptimizerKind) -> Result<(), CliError> {
        use OptimizerKind::*;
        let sgd = matches!(kind, Sgd | Momentum | Nesterov);
        let adam = matches!(kind, Adam | Adamw);
        let flags = [
            (
                "--momentum",
                self.momentum.is_some(),
                !adam,
                "sgd, momentum, nesterov and rmsprop",
            ),
            (
                "--dampening",
                self.dampening.is_some(),
                sgd,
                "sgd, momentum and nesterov",
            ),
            ("--betas", self.betas.is_some(), adam, "adam and adamw"),
            ("--eps", self.eps.is_some(), !sgd, "adam, adamw and rmsprop"),
            (
                "--rmsprop-alpha",
                self.rmsprop_alpha.is_some(),
                kind == Rmsprop,
                "rmsprop",
            ),
            ("--centered", self.centered, kind == Rmsprop, "rmsprop"),
        ];
        match flags
            .iter()
            .find(|(_, given, applies, _)| *given && !applies)
        {
            Some((flag, _, _, which)) => Err(CliError::usage(format!(
                "{flag} applies to {which}, not to {}",
                kind.to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_string())
            ))),
            None => Ok(()),
        }
    }
}

/// Builds and validates the optimiser's configuration.
pub fn optimizer_config(
    kind: OptimizerKind,
    learning_rate: f64,
    flags: OptimizerFlags,
) -> Result<OptimizerConfig, CliError> {
    flags.check_applies_to(kind)?;
    let config: OptimizerConfig =
        match kind {
            OptimizerKind::Lbfgs => return Err(CliError::usage(
                "lbfgs is a full-batch solver, not a step rule: only `backprop train` offers it",
            )),
            OptimizerKind::Sgd | OptimizerKind::Momentum | OptimizerKind::Nesterov => {
                let default_momentum = if kind == OptimizerKind::Sgd {
                    0.0
                } else {
                    DEFAULT_MOMENTUM
                };
                let defaults = SgdConfig::new();
                defaults
                    .with_learning_rate(learning_rate)
                    .with_momentum(flags.momentum.unwrap_or(default_momentum))
                    .with_dampening(flags.dampening.unwrap_or(defaults.dampening))
                    .with_nesterov(kind == OptimizerKind::Nesterov)
                    .with_weight_decay(flags.weight_decay.unwrap_or(0.0))
                    .into()
            }
            OptimizerKind::Adam => {
                let defaults = AdamConfig::default();
                let (beta1, beta2) = flags.betas.unwrap_or((defaults.beta1, defaults.beta2));
                defaults
                    .with_learning_rate(learning_rate)
                    .with_beta1(beta1)
                    .with_beta2(beta2)
                    .with_epsilon(flags.eps.unwrap_or(defaults.epsilon))
                    .with_weight_decay(flags.weight_decay.unwrap_or(defaults.weight_decay))
                    .into()
            }
            OptimizerKind::Adamw => {
                let defaults = AdamWConfig::default();
                let (beta1, beta2) = flags.betas.unwrap_or((defaults.beta1, defaults.beta2));
                defaults
                    .with_learning_rate(learning_rate)
                    .with_beta1(beta1)
                    .with_beta2(beta2)
                    .with_epsilon(flags.eps.unwrap_or(defaults.epsilon))
                    .with_weight_decay(flags.weight_decay.unwrap_or(defaults.weight_decay))
                    .into()
            }
            OptimizerKind::Rmsprop => {
                let defaults = RmsPropConfig::default();
                defaults
                    .with_learning_rate(learning_rate)
                    .with_alpha(flags.rmsprop_alpha.unwrap_or(defaults.alpha))
                    .with_epsilon(flags.eps.unwrap_or(defaults.epsilon))
                    .with_momentum(flags.momentum.unwrap_or(defaults.momentum))
                    .with_centered(flags.centered)
                    .with_weight_decay(flags.weight_decay.unwrap_or(defaults.weight_decay))
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
            optimizer_config(OptimizerKind::Nesterov, 0.01, OptimizerFlags::default()).unwrap()
        else {
            panic!("nesterov is SGD")
        };
        assert!(nesterov.nesterov && nesterov.momentum == DEFAULT_MOMENTUM);
        let OptimizerConfig::AdamW(adamw) =
            optimizer_config(OptimizerKind::Adamw, 1e-3, OptimizerFlags::default()).unwrap()
        else {
            panic!("adamw is AdamW")
        };
        assert_eq!(adamw.weight_decay, 0.01);
        assert_eq!(default_learning_rate(OptimizerKind::Sgd), 0.1);
        assert_eq!(default_learning_rate(OptimizerKind::Adam), 1e-3);
        let momentum = OptimizerFlags {
            momentum: Some(0.9),
            ..OptimizerFlags::default()
        };
        assert!(optimizer_config(OptimizerKind::Adam, 1e-3, momentum).is_err());
        assert!(optimizer_config(OptimizerKind::Sgd, f64::NAN, OptimizerFlags::default()).is_err());
    }

    #[test]
    fn every_hyper_parameter_reaches_its_optimiser() {
        let flags = OptimizerFlags {
            betas: Some((0.8, 0.95)),
            eps: Some(1e-6),
            weight_decay: Some(0.1),
            ..OptimizerFlags::default()
        };
        let OptimizerConfig::Adam(adam) =
            optimizer_config(OptimizerKind::Adam, 1e-3, flags).unwrap()
        else {
            panic!("adam")
        };
        assert_eq!(
            (adam.beta1, adam.beta2, adam.epsilon, adam.weight_decay),
            (0.8, 0.95, 1e-6, 0.1)
        );
        let flags = OptimizerFlags {
            rmsprop_alpha: Some(0.9),
            eps: Some(1e-5),
            centered: true,
            momentum: Some(0.5),
            ..OptimizerFlags::default()
        };
        let OptimizerConfig::RmsProp(rmsprop) =
            optimizer_config(OptimizerKind::Rmsprop, 1e-2, flags).unwrap()
        else {
            panic!("rmsprop")
        };
        assert_eq!(
            (
                rmsprop.alpha,
                rmsprop.epsilon,
                rmsprop.centered,
                rmsprop.momentum
            ),
            (0.9, 1e-5, true, 0.5)
        );
        let flags = OptimizerFlags {
            dampening: Some(0.3),
            ..OptimizerFlags::default()
        };
        let OptimizerConfig::Sgd(sgd) =
            optimizer_config(OptimizerKind::Momentum, 1e-2, flags).unwrap()
        else {
            panic!("sgd")
        };
        assert_eq!(sgd.dampening, 0.3);
        // A flag its optimiser has no use for is a usage error naming it.
        for (kind, flags, flag) in [
            (
                OptimizerKind::Sgd,
                OptimizerFlags {
                    betas: Some((0.9, 0.9)),
                    ..Default::default()
                },
                "--betas",
            ),
            (
                OptimizerKind::Adam,
                OptimizerFlags {
                    centered: true,
                    ..Default::default()
                },
                "--centered",
            ),
            (
                OptimizerKind::Rmsprop,
                OptimizerFlags {
                    dampening: Some(0.1),
                    ..Default::default()
                },
                "--dampening",
            ),
            (
                OptimizerKind::Momentum,
                OptimizerFlags {
                    eps: Some(1e-6),
                    ..Default::default()
                },
                "--eps",
            ),
            (
                OptimizerKind::Adamw,
                OptimizerFlags {
                    rmsprop_alpha: Some(0.9),
                    ..Default::default()
                },
                "--rmsprop-alpha",
            ),
        ] {
            let error = optimizer_config(kind, 1e-3, flags).unwrap_err();
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().contains(flag), "{error}");
        }
        // Nesterov with dampening is PyTorch's error too.
        let flags = OptimizerFlags {
            dampening: Some(0.1),
            ..Default::default()
        };
        assert!(optimizer_config(OptimizerKind::Nesterov, 1e-2, flags).is_err());
    }
}
