//! The update rule as an extension point: how one parameter moves once its gradient is known,
//! p ← p − η·u(g, state).
//!
//! [`Optimizer`](super::Optimizer) knows no rule by name: it keeps one [`ParameterState`] per
//! parameter (an update count and named buffers), hands it to the configured rule's
//! [`UpdateRule::update`], and saves and restores the buffers the rule names
//! ([`UpdateRule::buffer_names`]). A new rule (another library's form of Adam, say) is a
//! configuration type implementing [`UpdateRule`] and a variant of
//! [`OptimizerConfig`](super::OptimizerConfig); a new way of running a rule inside the
//! backward pass is a [`StepStrategy`](crate::train::StepStrategy).

use backprop_tensor::Float;

/// How a parameter is updated from its gradient.
///
/// Validating the hyper-parameters, the base learning rate and the rule's name belong to its
/// configuration ([`OptimizerConfig`](super::OptimizerConfig) gives them for every rule).
pub trait UpdateRule {
    /// The buffers kept per parameter, in saving order.
    fn buffer_names(&self) -> &'static [&'static str];

    /// One update of `parameter` in place with its `gradient` at `learning_rate` (the
    /// scheduled rate), advancing `state`.
    fn update<T: Float>(
        &self,
        learning_rate: f64,
        parameter: &mut [T],
        gradient: &[T],
        state: &mut ParameterState<T>,
    );
}

/// One parameter's state under any rule: how many updates it has had and the rule's buffers,
/// by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParameterState<T: Float> {
    /// Updates applied to this parameter.
    pub step: u64,
    buffers: Vec<(&'static str, Vec<T>)>,
}

impl<T: Float> ParameterState<T> {
    /// An empty state at update count `step`.
    pub fn new(step: u64) -> Self {
        Self {
            step,
            buffers: Vec::new(),
        }
    }

    /// The buffer called `name`, if it exists.
    pub fn buffer(&self, name: &str) -> Option<&Vec<T>> {
        self.buffers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, values)| values)
    }

    /// The buffer called `name`, created empty when it does not exist.
    pub fn buffer_mut(&mut self, name: &'static str) -> &mut Vec<T> {
        let index = match self.buffers.iter().position(|(n, _)| *n == name) {
            Some(index) => index,
            None => {
                self.buffers.push((name, Vec::new()));
                self.buffers.len() - 1
            }
        };
        &mut self.buffers[index].1
    }

    /// Moves the buffer called `name` out (empty when it does not exist), for a rule's typed
    /// state; [`ParameterState::put_buffer`] moves it back. No values are copied.
    pub fn take_buffer(&mut self, name: &'static str) -> Vec<T> {
        self.buffers
            .iter_mut()
            .find(|(n, _)| *n == name)
            .map(|(_, values)| std::mem::take(values))
            .unwrap_or_default()
    }

    /// Puts a buffer back under `name`; an empty one is dropped, as the rule has no use for it
    /// (yet).
    pub fn put_buffer(&mut self, name: &'static str, values: Vec<T>) {
        if values.is_empty() {
            self.buffers.retain(|(n, _)| *n != name);
        } else {
            *self.buffer_mut(name) = values;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule from outside the four: sign descent with a running count of sign flips kept in
    /// a buffer of its own.
    struct SignDescent;

    impl UpdateRule for SignDescent {
        fn buffer_names(&self) -> &'static [&'static str] {
            &["last_sign"]
        }

        fn update<T: Float>(
            &self,
            learning_rate: f64,
            parameter: &mut [T],
            gradient: &[T],
            state: &mut ParameterState<T>,
        ) {
            let mut last = state.take_buffer("last_sign");
            last.resize(parameter.len(), T::ZERO);
            for ((p, &g), sign) in parameter.iter_mut().zip(gradient).zip(&mut last) {
                *sign = if g > T::ZERO { T::ONE } else { -T::ONE };
                *p -= T::from_f64(learning_rate) * *sign;
            }
            state.step += 1;
            state.put_buffer("last_sign", last);
        }
    }

    #[test]
    fn a_rule_of_its_own_keeps_its_state_by_name() {
        let mut state = ParameterState::<f64>::new(0);
        let mut parameter = [1.0, -2.0];
        SignDescent.update(0.5, &mut parameter, &[3.0, -0.1], &mut state);
        SignDescent.update(0.5, &mut parameter, &[3.0, 4.0], &mut state);
        assert_eq!(parameter, [0.0, -2.0]);
        assert_eq!(state.step, 2);
        assert_eq!(state.buffer("last_sign"), Some(&vec![1.0, 1.0]));
        assert_eq!(state.buffer("momentum_buffer"), None);
    }

    #[test]
    fn empty_buffers_are_not_kept_and_taking_one_that_is_absent_adds_nothing() {
        let mut state = ParameterState::<f32>::new(3);
        assert!(state.take_buffer("exp_avg").is_empty());
        assert_eq!(state, ParameterState::new(3));
        state.put_buffer("exp_avg", vec![1.0]);
        state.put_buffer("grad_avg", Vec::new());
        assert_eq!(state.buffer("exp_avg"), Some(&vec![1.0]));
        assert_eq!(state.buffer("grad_avg"), None);
        state.put_buffer("exp_avg", Vec::new());
        assert_eq!(state, ParameterState::new(3));
    }
}
