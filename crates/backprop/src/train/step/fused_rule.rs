//! [`FusedRuleStep`]: an element-wise optimiser's step fused into the backward pass.

use super::{run_batch, DivergedLoss, StepBuffers, StepInput, StepKind, StepStrategy};
use crate::network::Network;
use crate::optim::Optimizer;
use crate::propagation::RuleStep;
use crate::train::metrics::MetricAccumulator;
use backprop_tensor::{Float, Matrix};

/// Adam, AdamW, RMSprop, or SGD with momentum or weight decay, fused into the backward pass:
/// each large layer's ∂C/∂W is computed a band of rows at a time and the rule updates each
/// band's weights and state right after, while it is in cache (see
/// `propagation/fused_rule.rs`). The same update per element as [`PlainStep`]; tests hold the
/// two together (`tests/fused_rule.rs`).
///
/// [`PlainStep`]: super::PlainStep
#[derive(Clone, Debug, Default)]
pub struct FusedRuleStep<T: Float> {
    buffers: StepBuffers<T>,
}

impl<T: Float> FusedRuleStep<T> {
    /// True when the fused step equals the plain one here: a rule other than plain SGD (which
    /// [`FusedSgdStep`](super::FusedSgdStep) takes), no clipping (it needs every gradient
    /// first), no regularisation term, and dense layers holding every parameter.
    pub fn applies(network: &Network<T>, optimizer: &Optimizer<T>, clip: Option<f64>) -> bool {
        !optimizer.is_plain_sgd() && clip.is_none() && network.can_fuse_rule()
    }
}

impl<T: Float> StepStrategy<T> for FusedRuleStep<T> {
    fn kind(&self) -> StepKind {
        StepKind::FusedRule
    }

    fn step(
        &mut self,
        network: &mut Network<T>,
        optimizer: &mut Optimizer<T>,
        input: &StepInput<'_, T>,
        metrics: &mut MetricAccumulator,
    ) -> Result<f64, DivergedLoss> {
        assert!(
            Self::applies(network, optimizer, input.gradient_clip),
            "a fused rule step needs a rule other than plain SGD, no clipping and no regularisation"
        );
        let compute = |network: &mut Network<T>, targets: &Matrix<T>, names: &[String]| {
            let diverged = |loss| input.divergence.diverged(loss);
            let step = RuleStep {
                optimizer,
                names,
                learning_rate: input.learning_rate,
                diverged: &diverged,
            };
            network
                .descend_by_rule_loaded(targets, step)
                .map_err(DivergedLoss)
        };
        run_batch(
            &mut self.buffers,
            network,
            (input, metrics),
            compute,
            |_, _| {},
        )
    }
}
