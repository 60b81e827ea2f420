//! Exact save and restore of an [`Optimizer`]'s state.
//!
//! The state is written as tensors `optimizer.{parameter}.{buffer}` (e.g.
//! `optimizer.layers.0.weight.exp_avg`) and step counts `optimizer.{parameter}.step` and
//! `optimizer.steps_taken`. Restoring them copies every bit back, so the restored optimiser's
//! next steps equal the original's bit for bit.

use super::{OptimError, Optimizer, OptimizerConfig, ParameterState, UpdateRule};
use backprop_tensor::Float;
use std::collections::BTreeMap;

/// Prefix of every saved name.
const PREFIX: &str = "optimizer.";
/// The saved name of [`Optimizer::steps_taken`].
const STEPS_TAKEN: &str = "optimizer.steps_taken";

/// The saved name of one state buffer.
fn tensor_name(parameter: &str, buffer: &str) -> String {
    format!("{PREFIX}{parameter}.{buffer}")
}

impl<T: Float> Optimizer<T> {
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
            scalars.push((format!("{PREFIX}{parameter}.step"), state.step));
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
            let mut state = ParameterState::new(step);
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
                *state.buffer_mut(buffer) = values;
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
    use super::super::optimizer::tests::{bits, model, train, NAMES};
    use super::super::{AdamConfig, AdamWConfig, RmsPropConfig, SgdConfig};
    use super::*;
    use proptest::prelude::*;

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

    fn check_round_trip(config: &OptimizerConfig, before: u64, after: u64, seed: f32) {
        let mut original = Optimizer::new(config.clone()).unwrap();
        let mut parameters = model(seed);
        train(&mut original, &mut parameters, before);
        let tensors = original.state_tensors();
        let restored = Optimizer::restore(config.clone(), tensors, original.state_scalars());
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
            check_round_trip(&config, 4, 5, 0.3);
            check_round_trip(&config, 0, 3, -0.2);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn save_and_restore_anywhere(which in 0usize..6, before in 0u64..8, after in 1u64..6,
                                     seed in -2.0f32..2.0) {
            check_round_trip(&configs()[which], before, after, seed);
        }
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
        let mut optimizer = Optimizer::new(config.clone()).unwrap();
        train(&mut optimizer, &mut model(0.0), 1);
        let (tensors, scalars) = (optimizer.state_tensors(), optimizer.state_scalars());
        let restore = |t: Vec<(String, Vec<f32>)>, s: Vec<(String, u64)>| {
            Optimizer::restore(config.clone(), t, s)
                .unwrap_err()
                .to_string()
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
}
