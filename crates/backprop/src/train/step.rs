//! One optimisation step on one batch: backprop, then θ ← θ − η·u(∂C/∂θ).
//!
//! Three strategies compute the same step behind one interface, [`StepStrategy`]:
//! - [`PlainStep`]: forward, BP1–BP4 into every layer's gradients, optional clipping by the
//!   global norm, then the [`Optimizer`]'s update rule. Every other strategy is measured against
//!   this one.
//! - [`FusedSgdStep`]: for plain gradient descent only (no momentum, weight decay, clipping or
//!   L1 term). Each layer's BP4 product adds −η·δᵀX straight onto its weights once the layer
//!   before has used them, so the weight gradients never go through memory. Tests hold it equal
//!   to [`PlainStep`] within rounding (`tests/fused_sgd.rs`).
//! - [`FusedRuleStep`]: the same for an element-wise rule (Adam, AdamW, RMSprop, SGD with
//!   momentum or weight decay): each large layer's ∂C/∂W is computed a band of rows at a time,
//!   and the rule updates the band's weights and state while the band is in cache.
//! - [`ShardedStep`]: the batch cut into S shards whose gradients are combined over a fixed
//!   tree ([`Sharding`]), the path data-parallel runs take; then the optimiser's update rule.
//!
//! The plain and fused strategies read each batch from a buffer gathered from the data set; on
//! a pool of several threads, the helpers gather the next batch meanwhile (a copy: no bit
//! depends on who makes it): whole, on a free helper, in a step too small to split its
//! products; in small pieces taken between the step's parallel loops, and finished by the
//! step's thread, in a step that splits them.
//!
//! A strategy reports the batch cost, or [`DivergedLoss`] when the cost is not finite or past
//! the divergence bound; the plain and sharded strategies then leave the weights untouched.

use super::divergence::DivergenceSettings;
use super::metrics::MetricAccumulator;
use super::sharded::Sharding;
use crate::network::Network;
use crate::optim::{clip_by_global_norm, Optimizer};
use crate::propagation::paced_on_pool_thread;
use backprop_tensor::pacer::Pacer;
use backprop_tensor::{Float, Matrix};

mod fused_rule;
pub use fused_rule::FusedRuleStep;

/// Everything one step needs besides the network and the optimiser.
#[derive(Clone, Copy, Debug)]
pub struct StepInput<'a, T: Float> {
    /// All training inputs, one example per row.
    pub x: &'a Matrix<T>,
    /// All training targets.
    pub y: &'a Matrix<T>,
    /// The rows of this batch, in order.
    pub rows: &'a [usize],
    /// The rows of the next batch (prefetched while this one computes); may be empty.
    pub next_rows: &'a [usize],
    /// η for this step, schedule applied.
    pub learning_rate: f64,
    /// Clip the gradients to this global norm before the update.
    pub gradient_clip: Option<f64>,
    /// When a batch cost counts as divergence.
    pub divergence: DivergenceCheck,
}

impl<T: Float> StepInput<'_, T> {
    /// The batch cost `loss`, or [`DivergedLoss`] when it counts as divergence.
    fn checked(&self, loss: f64) -> Result<f64, DivergedLoss> {
        match self.divergence.diverged(loss) {
            true => Err(DivergedLoss(loss)),
            false => Ok(loss),
        }
    }
}

/// The divergence rule with the reference loss it compares against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DivergenceCheck {
    /// The rule.
    pub settings: DivergenceSettings,
    /// The first batch cost of the run, once known.
    pub reference: Option<f64>,
}

impl DivergenceCheck {
    /// True when `loss` is not finite or lies past the bound.
    pub fn diverged(&self, loss: f64) -> bool {
        self.settings.diverged(loss, self.reference)
    }
}

/// A batch cost that counts as divergence (see [`DivergenceCheck`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DivergedLoss(pub f64);

/// Which strategy took a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// [`PlainStep`].
    Plain,
    /// [`FusedSgdStep`].
    FusedSgd,
    /// [`FusedRuleStep`].
    FusedRule,
    /// [`ShardedStep`].
    Sharded,
}

/// One way of taking an optimisation step on a batch.
pub trait StepStrategy<T: Float>: Send {
    /// Which strategy this is.
    fn kind(&self) -> StepKind;

    /// Runs the batch `input.rows` forward and backward, adds its metrics to `metrics`, and
    /// updates `network`'s parameters with `optimizer`. Returns the batch cost (the penalty
    /// included), or the diverged cost.
    fn step(
        &mut self,
        network: &mut Network<T>,
        optimizer: &mut Optimizer<T>,
        input: &StepInput<'_, T>,
        metrics: &mut MetricAccumulator,
    ) -> Result<f64, DivergedLoss>;
}

/// The network's parameter names (`layers.{i}.weight`, …), formatted once and reused while
/// the layer structure stays the same, so that a step formats no strings.
#[derive(Clone, Debug, Default)]
pub(crate) struct ParameterNames {
    names: Vec<String>,
    /// Positions of the parameter-holding layers the names were made for.
    layout: Vec<usize>,
}

impl ParameterNames {
    /// The names of `network`'s parameters, in [`Network::parameters`] order.
    pub(crate) fn of<T: Float>(&mut self, network: &Network<T>) -> &[String] {
        let positions = || {
            network
                .layers()
                .iter()
                .enumerate()
                .filter(|(_, layer)| layer.as_dense().is_some())
                .map(|(index, _)| index)
        };
        if !positions().eq(self.layout.iter().copied()) {
            self.names = network.parameters().into_iter().map(|(n, _)| n).collect();
            self.layout = positions().collect();
        }
        &self.names
    }
}

/// Adds the output layer's activations of the batch just run to `metrics`.
fn accumulate<T: Float>(
    network: &Network<T>,
    targets: &Matrix<T>,
    step_loss: f64,
    metrics: &mut MetricAccumulator,
) {
    let output = network.layers().last().and_then(|l| l.as_dense());
    if let Some(cache) = output.and_then(|d| d.cache()) {
        metrics.add(&cache.a, targets, step_loss);
    }
}

/// Clips the gradients (when asked) and applies the optimiser's update rule to every
/// parameter.
fn apply_update<T: Float>(
    network: &mut Network<T>,
    optimizer: &mut Optimizer<T>,
    gradient_clip: Option<f64>,
    names: &[String],
    learning_rate: f64,
) {
    if let Some(max_norm) = gradient_clip {
        let mut slots = network.parameter_slots();
        let mut gradients: Vec<&mut Matrix<T>> =
            slots.iter_mut().map(|(_, s)| &mut *s.gradient).collect();
        clip_by_global_norm(&mut gradients, max_norm);
    }
    network.optimizer_step(optimizer, names, learning_rate);
}

/// What every strategy keeps from batch to batch: the batch's targets, gathered into one
/// buffer, and the parameter names.
#[derive(Clone, Debug)]
pub(super) struct StepBuffers<T: Float> {
    targets: Matrix<T>,
    names: ParameterNames,
    /// Whether steps run with helper threads, timed as training goes.
    pacer: Pacer,
    /// The next batch's inputs, when a helper gathered them during this step.
    ahead: BatchAhead<T>,
}

impl<T: Float> Default for StepBuffers<T> {
    fn default() -> Self {
        Self {
            targets: Matrix::zeros(0, 0),
            names: ParameterNames::default(),
            pacer: Pacer::new(),
            ahead: BatchAhead::default(),
        }
    }
}

/// A batch's inputs gathered one step ahead by a helper thread, and which rows of which data
/// set they are.
#[derive(Clone, Debug)]
pub(super) struct BatchAhead<T: Float> {
    inputs: Matrix<T>,
    /// The rows `inputs` holds; empty when it holds none.
    rows: Vec<usize>,
    /// The data set they came from: its address and shape (the next step uses them only when
    /// it reads the same rows of the same matrix).
    source: (usize, usize, usize),
}

impl<T: Float> Default for BatchAhead<T> {
    fn default() -> Self {
        Self {
            inputs: Matrix::zeros(0, 0),
            rows: Vec::new(),
            source: (0, 0, 0),
        }
    }
}

/// The identity [`BatchAhead::source`] records of a data set.
fn source_of<T: Float>(x: &Matrix<T>) -> (usize, usize, usize) {
    (x.as_slice().as_ptr() as usize, x.rows(), x.cols())
}

/// Inputs of at least this many values are worth gathering ahead on a helper thread (a batch
/// of 10 MNIST rows is 7,840): the copy waits on memory for rows scattered through a large data
/// set, which a step too small to split leaves the second core free to do.
pub const GATHER_AHEAD: usize = 4096;

/// How a step gathers the next batch's inputs ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ahead {
    /// The whole gather offered to a free helper, withdrawn if none takes it
    /// ([`backprop_tensor::team::with_side_job`]): a step that splits nothing leaves the
    /// helper free all along.
    Whole,
    /// The gather in small pieces that helpers take between the step's loops, and the step's
    /// thread finishes ([`Matrix::gather_rows_beside`]): in a step that splits its products,
    /// a whole gather on the helper would delay its share of them (measured before the pieces,
    /// on two threads in turns: b-sgd-256 323k → 306k samples/s with the whole gather), while
    /// pieces fill the moments the step's serial parts (the small layers, the loss) leave it.
    InPieces,
}

/// Whether a step should run as a team's step with a helper gathering the next batch meanwhile
/// ([`with_gather_ahead`]), and how: a step too small to split its products, whose batch has at
/// least [`GATHER_AHEAD`] input values, whole; one that splits them (`splits`), in pieces.
fn gathers_ahead<T: Float>(input: &StepInput<'_, T>, splits: bool) -> Option<Ahead> {
    let values = input.next_rows.len() * input.x.cols();
    if rayon::current_num_threads() <= 1 || input.next_rows.is_empty() {
        return None;
    }
    match splits {
        true => Some(Ahead::InPieces),
        false => (values >= GATHER_AHEAD).then_some(Ahead::Whole),
    }
}

/// Puts the batch's inputs into the first layer's buffer (swapping in the ones gathered ahead,
/// when they are this batch's) and its targets into `targets`, and starts the next batch's rows
/// on their way from memory while this one computes.
fn load_batch<T: Float>(
    network: &mut Network<T>,
    buffers: (&mut Matrix<T>, &mut BatchAhead<T>),
    input: &StepInput<'_, T>,
) {
    let (targets, ahead) = buffers;
    if !ahead.rows.is_empty() && ahead.rows == input.rows && ahead.source == source_of(input.x) {
        network.swap_batch(&mut ahead.inputs);
    } else {
        network.load_batch(input.x, input.rows);
    }
    ahead.rows.clear();
    targets.gather_rows(input.y, input.rows);
    input.x.prefetch_rows(input.next_rows);
    input.y.prefetch_rows(input.next_rows);
}

/// Runs `work` while the team's helpers gather the next batch's inputs into `ahead` as `how`
/// says (a copy: the same values whoever makes it, so the bits never depend on it). When it
/// was not gathered by the time `work` is done (a whole gather no helper took), the next step
/// gathers as usual.
fn with_gather_ahead<T: Float, R>(
    ahead: Option<(&mut BatchAhead<T>, Ahead)>,
    input: &StepInput<'_, T>,
    work: impl FnOnce() -> R,
) -> R {
    let Some((ahead, how)) = ahead else {
        return work();
    };
    let (result, gathered) = match how {
        Ahead::Whole => {
            let inputs = std::sync::Mutex::new(&mut ahead.inputs);
            let gather = || {
                if let Ok(mut inputs) = inputs.lock() {
                    inputs.gather_rows(input.x, input.next_rows);
                }
            };
            backprop_tensor::team::with_side_job(gather, work)
        }
        Ahead::InPieces => ahead
            .inputs
            .gather_rows_beside(input.x.into(), input.next_rows, work),
    };
    if gathered {
        ahead.rows.extend_from_slice(input.next_rows);
        ahead.source = source_of(input.x);
    }
    result
}

/// One batch through `compute` as the plain and fused strategies run it: on one pool thread
/// under the pacer when the step splits its products or gathers ahead (one hand-over to rayon
/// per batch, not one per product; see `propagation.rs`), the batch loaded first and the next
/// one offered to the helper while `compute(network, targets, names)` runs, which returns the
/// batch cost or the diverged one; then the metrics, and `finish(network, names)` (the update,
/// for a step that did not take it inside the backward pass).
pub(super) fn run_batch<T: Float>(
    buffers: &mut StepBuffers<T>,
    network: &mut Network<T>,
    (input, metrics): (&StepInput<'_, T>, &mut MetricAccumulator),
    compute: impl FnOnce(&mut Network<T>, &Matrix<T>, &[String]) -> Result<f64, DivergedLoss> + Send,
    finish: impl FnOnce(&mut Network<T>, &[String]) + Send,
) -> Result<f64, DivergedLoss> {
    let splits = network.uses_threads(input.rows.len(), true);
    let ahead_too = gathers_ahead(input, splits);
    let StepBuffers {
        targets,
        names,
        pacer,
        ahead,
    } = buffers;
    let names = names.of(network);
    paced_on_pool_thread(splits || ahead_too.is_some(), pacer, || {
        load_batch(network, (targets, ahead), input);
        let loss = with_gather_ahead(ahead_too.map(|how| (ahead, how)), input, || {
            compute(network, targets, names)
        })?;
        accumulate(network, targets, loss, metrics);
        finish(network, names);
        Ok(loss)
    })
}

/// Backprop into the gradients, then the optimiser's update rule.
#[derive(Clone, Debug, Default)]
pub struct PlainStep<T: Float> {
    buffers: StepBuffers<T>,
}

impl<T: Float> StepStrategy<T> for PlainStep<T> {
    fn kind(&self) -> StepKind {
        StepKind::Plain
    }

    fn step(
        &mut self,
        network: &mut Network<T>,
        optimizer: &mut Optimizer<T>,
        input: &StepInput<'_, T>,
        metrics: &mut MetricAccumulator,
    ) -> Result<f64, DivergedLoss> {
        let compute = |network: &mut Network<T>, targets: &Matrix<T>, _: &[String]| {
            input.checked(network.compute_gradients_loaded(targets).0)
        };
        let finish = |network: &mut Network<T>, names: &[String]| {
            let (clip, rate) = (input.gradient_clip, input.learning_rate);
            apply_update(network, optimizer, clip, names, rate)
        };
        run_batch(
            &mut self.buffers,
            network,
            (input, metrics),
            compute,
            finish,
        )
    }
}

/// Plain gradient descent fused into the backward pass ([`Dense::fused_sgd_update`]).
///
/// [`Dense::fused_sgd_update`]: crate::Dense::fused_sgd_update
#[derive(Clone, Debug, Default)]
pub struct FusedSgdStep<T: Float> {
    buffers: StepBuffers<T>,
}

impl<T: Float> FusedSgdStep<T> {
    /// True when the fused step equals the plain one here: plain SGD (no momentum or weight
    /// decay), no clipping, and no L1 term (Nielsen's L2 fuses as a scaling of the weights).
    pub fn applies(network: &Network<T>, optimizer: &Optimizer<T>, clip: Option<f64>) -> bool {
        optimizer.is_plain_sgd() && clip.is_none() && network.can_fuse_descent()
    }
}

impl<T: Float> StepStrategy<T> for FusedSgdStep<T> {
    fn kind(&self) -> StepKind {
        StepKind::FusedSgd
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
            "a fused SGD step needs plain SGD without clipping or an L1 term"
        );
        // The weights have already moved when a finite cost past the divergence bound is seen;
        // the trainer's snapshot of the epoch restores them.
        let compute = |network: &mut Network<T>, targets: &Matrix<T>, _: &[String]| {
            input.checked(network.descend_loaded(targets, input.learning_rate).0)
        };
        let finish = |_: &mut Network<T>, names: &[String]| optimizer.record_fused_step(names);
        run_batch(
            &mut self.buffers,
            network,
            (input, metrics),
            compute,
            finish,
        )
    }
}

/// Sharded gradients combined over a fixed tree, then the optimiser's update rule, the same
/// on every rank.
pub struct ShardedStep<T: Float> {
    /// The shards and the combiner.
    pub sharding: Sharding<T>,
    buffers: StepBuffers<T>,
}

impl<T: Float> ShardedStep<T> {
    /// A strategy over `sharding`.
    pub fn new(sharding: Sharding<T>) -> Self {
        Self {
            sharding,
            buffers: StepBuffers::default(),
        }
    }
}

impl<T: Float> StepStrategy<T> for ShardedStep<T> {
    fn kind(&self) -> StepKind {
        StepKind::Sharded
    }

    fn step(
        &mut self,
        network: &mut Network<T>,
        optimizer: &mut Optimizer<T>,
        input: &StepInput<'_, T>,
        metrics: &mut MetricAccumulator,
    ) -> Result<f64, DivergedLoss> {
        let StepBuffers { targets, names, .. } = &mut self.buffers;
        let (loss, penalty) =
            self.sharding
                .step(network, (input.x, input.y), input.rows, targets, metrics);
        if input.divergence.diverged(loss) {
            return Err(DivergedLoss(loss));
        }
        metrics.add_penalty(penalty, input.rows.len());
        let names = names.of(network);
        apply_update(
            network,
            optimizer,
            input.gradient_clip,
            names,
            input.learning_rate,
        );
        Ok(loss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::Cost;
    use crate::network::NetworkConfig;
    use crate::train::divergence::DivergenceSettings;

    /// What `load_batch` put in the network's batch buffer.
    fn loaded(network: &mut Network<f32>) -> Matrix<f32> {
        let mut batch = Matrix::zeros(0, 0);
        network.swap_batch(&mut batch);
        batch
    }

    /// Inputs gathered ahead are used only by a step that reads the same rows of the same data
    /// set; any other step gathers for itself, and every step drops what was gathered ahead.
    #[test]
    fn a_batch_gathered_ahead_is_used_only_for_its_own_rows_of_its_own_data() {
        let x = Matrix::from_fn(6, 4, |row, col| (row * 10 + col) as f32);
        let other = Matrix::from_fn(6, 4, |row, col| -((row * 10 + col) as f32));
        let y = Matrix::from_fn(6, 2, |row, col| f32::from(u8::from(row % 2 == col)));
        let mut network = NetworkConfig::new(&[4, 3, 2], Cost::SoftmaxCrossEntropy)
            .with_seed(1)
            .init::<f32>()
            .unwrap();
        let marked = Matrix::filled(2, 4, 7.0f32);
        let input = |x, rows| StepInput {
            x,
            y: &y,
            rows,
            next_rows: &[],
            learning_rate: 0.1,
            gradient_clip: None,
            divergence: DivergenceCheck {
                settings: DivergenceSettings::default(),
                reference: None,
            },
        };
        let mut targets = Matrix::zeros(0, 0);
        for (data, rows, uses_ahead) in [
            (&x, &[4usize, 1][..], true),
            (&x, &[1, 4][..], false),
            (&other, &[4, 1][..], false),
        ] {
            let mut ahead = BatchAhead {
                inputs: marked.clone(),
                rows: vec![4, 1],
                source: source_of(&x),
            };
            load_batch(&mut network, (&mut targets, &mut ahead), &input(data, rows));
            let want = if uses_ahead {
                marked.clone()
            } else {
                let mut gathered = Matrix::zeros(0, 0);
                gathered.gather_rows(data, rows);
                gathered
            };
            assert_eq!(loaded(&mut network), want, "rows {rows:?}");
            assert!(ahead.rows.is_empty(), "what was gathered ahead is dropped");
        }
    }
}
