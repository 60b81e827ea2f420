//! An element-wise optimiser step (Adam, AdamW, RMSprop, SGD with momentum or weight decay)
//! fused into the backward pass, as plain SGD already is.
//!
//! After a dense layer's BP2 (which reads the old W), BP4 computes ∂C/∂W = δᵀX a band of rows
//! at a time, and the rule updates each band's rows of W and of its state right away, on the
//! thread that computed the band, while the band is in cache
//! ([`Dense::parameter_gradients_updating`]); the bias follows. Every element gets the update
//! [`Optimizer::step`] would give it from the same gradient, so this is an optimisation of the
//! plain step (`tests/fused_rule.rs` holds the two together). Small layers, whose ∂C/∂W stays in
//! cache anyway, compute it whole and take the rule's ordinary update.

use crate::dense::{Dense, Descent};
use crate::network::Network;
use crate::optim::Optimizer;
use crate::propagation::{on_pool_thread, AdjustOutput};
use backprop_tensor::{Float, Matrix};

/// How the backward pass takes the optimiser's step, when it takes it.
pub(crate) enum Descend<'a, T: Float> {
    /// Plain SGD inside the weight-gradient product ([`Dense::fused_sgd_update`]).
    Sgd(Descent<T>),
    /// A step layer by layer, as the pass reaches each dense layer: an element-wise rule on
    /// each band of ∂C/∂W as it is computed ([`RuleStep`], or scikit-learn's rules).
    Layers(&'a mut dyn LayerStep<T>),
}

/// An optimiser step the backward pass takes layer by layer.
pub(crate) trait LayerStep<T: Float> {
    /// True when the pass should stop before any update, seeing the batch cost `loss` (NaN
    /// when the caller computes the cost itself).
    fn stops_at(&self, loss: f64) -> bool;

    /// BP3, BP4 and the update of `dense`, the layer holding the `ordinal`-th weight and bias
    /// of the network; called after BP2 has read the old weights.
    fn update_layer(&mut self, dense: &mut Dense<T>, ordinal: usize);
}

/// What a fused rule step needs: the optimiser, the parameters' names (in
/// [`Network::parameters`] order) and this step's learning rate.
pub(crate) struct RuleStep<'a, T: Float> {
    pub(crate) optimizer: &'a mut Optimizer<T>,
    pub(crate) names: &'a [String],
    pub(crate) learning_rate: f64,
    /// When a batch cost counts as divergence: the step then updates nothing.
    pub(crate) diverged: &'a dyn Fn(f64) -> bool,
}

impl<T: Float> Descend<'_, T> {
    /// True when the backward pass should stop before any update, seeing the batch cost
    /// `loss`: a cost that is not finite for plain SGD, else as the step says.
    pub(super) fn stops_at(&self, loss: f64) -> bool {
        match self {
            Descend::Sgd(_) => !loss.is_finite(),
            Descend::Layers(step) => step.stops_at(loss),
        }
    }

    /// BP3 and BP4 with the step, for the dense layer holding the `ordinal`-th weight and bias.
    pub(super) fn finish(&mut self, dense: &mut Dense<T>, ordinal: usize) {
        match self {
            Descend::Sgd(descent) => dense.fused_sgd_update(*descent),
            Descend::Layers(step) => step.update_layer(dense, ordinal),
        }
    }
}

impl<T: Float> LayerStep<T> for RuleStep<'_, T> {
    fn stops_at(&self, loss: f64) -> bool {
        (self.diverged)(loss)
    }

    fn update_layer(&mut self, dense: &mut Dense<T>, ordinal: usize) {
        let (weight, bias) = (&self.names[2 * ordinal], &self.names[2 * ordinal + 1]);
        debug_assert!(weight.ends_with(".weight") && bias.ends_with(".bias"));
        let rate = self.learning_rate;
        let rows = dense.cache().map_or(0, |cache| cache.input.rows());
        if dense.updates_in_bands(rows) {
            let length = dense.weight.len();
            self.optimizer
                .update_in_parts(weight, length, rate, |step, state| {
                    dense.parameter_gradients_updating(state, |w, g, s| step.apply(w, g, s))
                });
        } else {
            dense.parameter_gradients();
            let gradient = &dense.weight_gradient;
            self.optimizer
                .update(weight, &mut dense.weight, gradient, rate);
        }
        let gradient = &dense.bias_gradient;
        self.optimizer.update(bias, &mut dense.bias, gradient, rate);
    }
}

impl<T: Float> Network<T> {
    /// [`Network::gradients_loaded_adjusted`] with `step` taken layer by layer inside the
    /// backward pass (scikit-learn's rules: the caller computes the cost, so `step` sees NaN).
    pub(crate) fn gradients_loaded_stepping(
        &mut self,
        y: &Matrix<T>,
        adjust: &mut AdjustOutput<'_, T>,
        step: &mut (dyn LayerStep<T> + Send),
    ) {
        let parallel = self.uses_threads(y.rows(), true);
        on_pool_thread(parallel, || {
            self.forward_training(crate::layer::Mode::Train);
            let regularization = std::mem::take(&mut self.config.regularization);
            let mut descend = Descend::Layers(step);
            self.backward_training(y, false, Some(&mut descend), 0.0, Some(adjust));
            self.config.regularization = regularization;
        })
    }

    /// True when an element-wise optimiser step can be fused into the backward pass
    /// ([`Network::descend_by_rule_loaded`]): dense layers hold every parameter, and no
    /// regularisation term adds to the gradients.
    pub(crate) fn can_fuse_rule(&self) -> bool {
        self.config.regularization.is_none() && self.can_fuse_descent()
    }

    /// Forward and backward over the batch [`Network::load_batch`] put in place, taking the
    /// optimiser's step inside the backward pass (see the module's documentation). Returns the
    /// batch cost; when the step's `diverged` says so of it, the cost as an error, with nothing
    /// updated.
    ///
    /// # Panics
    /// When [`Network::can_fuse_rule`] is false.
    #[track_caller]
    pub(crate) fn descend_by_rule_loaded(
        &mut self,
        y: &Matrix<T>,
        mut step: RuleStep<'_, T>,
    ) -> Result<f64, f64> {
        assert!(
            self.can_fuse_rule(),
            "a fused optimiser step needs dense parameters only and no regularisation"
        );
        self.forward_training(crate::layer::Mode::Train);
        let mut descend = Descend::Layers(&mut step);
        let (loss, _) = self.backward_training(y, false, Some(&mut descend), 0.0, None);
        if step.stops_at(loss) {
            return Err(loss);
        }
        step.optimizer.finish_step();
        Ok(loss)
    }
}
