//! One optimiser step of a parameter run over parts of it, as the backward pass produces them.
//!
//! Every rule here is element-wise: element i of the parameter moves by its own gradient and
//! state alone. So a step can be split in two: [`PartsUpdate::begin`] counts the step and
//! computes its scalars once (Adam's bias corrections, say); [`ElementStep::apply`] then runs
//! the element loop on any part of the parameter, in any order, on any thread. Each element
//! gets the operations of the whole-parameter update, in the same order (the same kernels), so
//! the same gradient gives the same bits. The network uses it to update each band of a weight
//! matrix right after the band's ∂C/∂W is computed (`gemm_row_panels`).

use super::adam::{adam_elements, adam_settings, AdamSettings, AdamState};
use super::rmsprop::{rmsprop_elements, rmsprop_settings, RmsPropSettings, RmsPropState};
use super::sgd::{momentum_step, plain_step, sgd_settings, MomentumSettings, SgdSettings};
use super::sgd::{PlainSettings, SgdState};
use super::{OptimizerConfig, ParameterState};
use backprop_tensor::Float;

/// A rule's element loop with the scalars of one step.
#[derive(Clone, Copy, Debug)]
enum PartKernel<T> {
    Plain(PlainSettings<T>),
    Momentum(MomentumSettings<T>),
    /// AdamW shrinks the parameter by `shrink` first; Adam has no `shrink`.
    Adam {
        shrink: Option<T>,
        settings: AdamSettings<T>,
    },
    RmsProp(RmsPropSettings<T>),
}

/// One step of one parameter, begun: its scalars and the rule's buffers, taken out of the
/// parameter's state until [`PartsUpdate::finish`] puts them back.
#[derive(Debug)]
pub(crate) struct PartsUpdate<T: Float> {
    kernel: PartKernel<T>,
    /// The buffers' names in the state, `""` where unused.
    names: [&'static str; 3],
    buffers: [Vec<T>; 3],
}

impl<T: Float> PartsUpdate<T> {
    /// Counts one step of `rule` at `learning_rate` in `state`, for a parameter of `length`
    /// values, and takes its buffers (sized to `length`) out of the state.
    ///
    /// # Panics
    /// When a buffer restored into the state has another length.
    #[track_caller]
    pub(crate) fn begin(
        rule: &OptimizerConfig,
        learning_rate: f64,
        length: usize,
        state: &mut ParameterState<T>,
    ) -> Self {
        let step = state.step;
        match rule {
            OptimizerConfig::Sgd(config) => {
                let mut typed = SgdState {
                    momentum_buffer: state.take_buffer("momentum_buffer"),
                    step,
                };
                let kernel = match sgd_settings(config, learning_rate, length, &mut typed) {
                    SgdSettings::Plain(settings) => PartKernel::Plain(settings),
                    SgdSettings::Momentum(settings) => PartKernel::Momentum(settings),
                };
                state.step = typed.step;
                Self::with(kernel, ["momentum_buffer", "", ""], [typed.momentum_buffer])
            }
            OptimizerConfig::Adam(config) => {
                let moments = (config.beta1, config.beta2, config.epsilon);
                let decay = config.weight_decay;
                Self::adam(state, None, |typed| {
                    adam_settings(moments, learning_rate, decay, length, typed)
                })
            }
            OptimizerConfig::AdamW(config) => {
                let moments = (config.beta1, config.beta2, config.epsilon);
                let shrink = T::from_f64(1.0 - learning_rate * config.weight_decay);
                Self::adam(state, Some(shrink), |typed| {
                    adam_settings(moments, learning_rate, 0.0, length, typed)
                })
            }
            OptimizerConfig::RmsProp(config) => {
                let mut typed = RmsPropState {
                    square_avg: state.take_buffer("square_avg"),
                    grad_avg: state.take_buffer("grad_avg"),
                    momentum_buffer: state.take_buffer("momentum_buffer"),
                    step,
                };
                let settings = rmsprop_settings(config, learning_rate, length, &mut typed);
                state.step = typed.step;
                Self {
                    kernel: PartKernel::RmsProp(settings),
                    names: ["square_avg", "grad_avg", "momentum_buffer"],
                    buffers: [typed.square_avg, typed.grad_avg, typed.momentum_buffer],
                }
            }
        }
    }

    fn with<const N: usize>(
        kernel: PartKernel<T>,
        names: [&'static str; 3],
        buffers: [Vec<T>; N],
    ) -> Self {
        let mut all = [Vec::new(), Vec::new(), Vec::new()];
        for (slot, buffer) in all.iter_mut().zip(buffers) {
            *slot = buffer;
        }
        Self {
            kernel,
            names,
            buffers: all,
        }
    }

    fn adam(
        state: &mut ParameterState<T>,
        shrink: Option<T>,
        settings: impl FnOnce(&mut AdamState<T>) -> AdamSettings<T>,
    ) -> Self {
        let mut typed = AdamState {
            exp_avg: state.take_buffer("exp_avg"),
            exp_avg_sq: state.take_buffer("exp_avg_sq"),
            step: state.step,
        };
        let settings = settings(&mut typed);
        state.step = typed.step;
        Self::with(
            PartKernel::Adam { shrink, settings },
            ["exp_avg", "exp_avg_sq", ""],
            [typed.exp_avg, typed.exp_avg_sq],
        )
    }

    /// The step's element loop, and the rule's buffers to hand it in parts (empty where the
    /// rule keeps fewer than three).
    pub(crate) fn parts(&mut self) -> (ElementStep<T>, [&mut [T]; 3]) {
        let [first, second, third] = &mut self.buffers;
        (ElementStep(self.kernel), [first, second, third])
    }

    /// Puts the buffers back into the parameter's state.
    pub(crate) fn finish(self, state: &mut ParameterState<T>) {
        for (name, buffer) in self.names.into_iter().zip(self.buffers) {
            if !name.is_empty() {
                state.put_buffer(name, buffer);
            }
        }
    }
}

/// The element loop of a begun step, for the threads that update the parameter's parts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ElementStep<T>(PartKernel<T>);

impl<T: Float> ElementStep<T> {
    /// Updates `parameter`, some values of the parameter, from `gradient`, their gradient, and
    /// `buffers`, the same values of the rule's buffers (empty where unused).
    ///
    /// # Panics
    /// When the lengths differ.
    #[track_caller]
    pub(crate) fn apply(&self, parameter: &mut [T], gradient: &[T], buffers: [&mut [T]; 3]) {
        let length = parameter.len();
        assert!(
            gradient.len() == length && buffers.iter().all(|b| b.is_empty() || b.len() == length),
            "ElementStep::apply: {length} values, {} gradients, buffers of {:?}",
            gradient.len(),
            buffers.iter().map(|b| b.len()).collect::<Vec<_>>()
        );
        let [first, second, third] = buffers;
        match self.0 {
            PartKernel::Plain(s) => plain_step(
                parameter,
                gradient,
                s.learning_rate,
                s.decay,
                s.weight_decay,
            ),
            PartKernel::Momentum(settings) => momentum_step(parameter, gradient, first, settings),
            PartKernel::Adam { shrink, settings } => {
                if let Some(shrink) = shrink {
                    parameter.iter_mut().for_each(|p| *p *= shrink);
                }
                adam_elements(parameter, gradient, first, second, settings)
            }
            PartKernel::RmsProp(settings) => {
                rmsprop_elements(parameter, gradient, first, second, third, settings)
            }
        }
    }
}

impl<T: Float> super::Optimizer<T> {
    /// One update of the parameter `name`, of `length` values, at `learning_rate`, whose element
    /// loop `run` hands out in parts: `run(step, buffers)` must apply `step` to every value of
    /// the parameter exactly once, with the same values of each of `buffers` (the rule's state,
    /// empty where it keeps fewer than three; see [`ElementStep::apply`]). The state ends as
    /// [`Optimizer::step`](super::Optimizer::step) would leave it.
    ///
    /// # Panics
    /// When a restored state buffer's length differs from `length`.
    #[track_caller]
    pub(crate) fn update_in_parts(
        &mut self,
        name: &str,
        length: usize,
        learning_rate: f64,
        run: impl FnOnce(ElementStep<T>, [&mut [T]; 3]),
    ) {
        if !self.states.contains_key(name) {
            self.states.insert(name.to_owned(), ParameterState::new(0));
        }
        let state = self.states.get_mut(name).expect("inserted above");
        let mut update = PartsUpdate::begin(&self.config, learning_rate, length, state);
        let (step, buffers) = update.parts();
        run(step, buffers);
        update.finish(state);
    }
}
