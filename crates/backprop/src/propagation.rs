//! Forward and backward passes through a [`Network`], batch by batch.
//!
//! Forward: aˡ = σ(wˡ aˡ⁻¹ + bˡ), each dense layer writing zˡ and aˡ into its own buffers.
//! Backward, from the output (`backward_training`, the pass every training step runs):
//! - BP1 δᴸ = ∇ₐC ⊙ σ′(zᴸ) ([`Dense::output_delta`] through [`Cost::output_delta_into`],
//!   a − y when fused);
//! - BP2 δˡ⁻¹ = ((wˡ)ᵀ δˡ) ⊙ σ′(zˡ⁻¹): the product (wˡ)ᵀ δˡ ([`Dense::backpropagate_delta`])
//!   handed back in one of two buffers used in turn, then ⊙ σ′ ([`Dense::hidden_delta`]).
//!   Layer 1 has no layer before it, so its (w¹)ᵀ δ¹ (the widest product of the step,
//!   batch × 784 × 128 for MNIST) is never computed;
//! - BP3 ∂C/∂bˡ = Σₓ δˡ and BP4 ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ, summed over the batch
//!   ([`Dense::parameter_gradients`]), or, for a fused plain SGD step, the update that replaces
//!   them ([`Dense::fused_sgd_update`]).
//!
//! **Threads.** A product started from outside rayon's pool costs a wake-up of a worker and a
//! sleep of the caller (about 15 µs measured on a busy 2-core machine), once per product, and
//! even inside the pool an idle worker falls asleep between two products of a step. When any
//! product of a pass is large enough to be split into tiles on several threads, the whole pass
//! therefore runs as the step of a [`team`] on a pool thread ([`on_pool_thread`]): the other
//! threads stand by for the pass's tiles. Where a tile runs never changes a bit: the tiles are a
//! function of the shapes. Training steps run with those helpers or alone as the trainer's
//! pacer finds faster, inference calls as the network's own [`InferencePacer`] does.
//!
//! [`Cost::output_delta_into`]: crate::cost::Cost::output_delta_into

use crate::conv::INFERENCE_ROWS;
use crate::dense::{Dense, DenseCache, Descent};
use crate::layer::{Layer, Mode};
use crate::network::{Gradients, Network};
use crate::optim::{Optimizer, ParameterRef};
use backprop_tensor::matmul::{runs_in_parallel, Transpose};
use backprop_tensor::pacer::Pacer;
use backprop_tensor::{team, Float, Matrix, MatrixView};

mod fused_rule;
mod inference_pacer;
mod rows;
pub(crate) use fused_rule::{Descend, LayerStep, RuleStep};
pub(crate) use inference_pacer::InferencePacer;
pub use rows::{RowsOutput, ROW_BLOCK};

/// Runs `work` as the step of a [`team`] on a rayon pool thread when `parallel` (and the pool
/// has more than one thread): from outside the pool it moves there first, once. Otherwise, or
/// inside a step already, it runs `work` right here.
pub(crate) fn on_pool_thread<R: Send>(parallel: bool, work: impl FnOnce() -> R + Send) -> R {
    if !parallel || rayon::current_num_threads() <= 1 || team::is_active() {
        work()
    } else if rayon::current_thread_index().is_none() {
        rayon::scope(|_| team::run(work))
    } else {
        team::run(work)
    }
}

/// [`on_pool_thread`] for a training step, with helpers or alone as `pacer` finds faster on
/// this machine now (see [`Pacer`]): alone, the step runs right here as a team without helpers.
pub(crate) fn paced_on_pool_thread<R: Send>(
    parallel: bool,
    pacer: &mut Pacer,
    work: impl FnOnce() -> R + Send,
) -> R {
    if !parallel || rayon::current_num_threads() <= 1 || team::is_active() {
        return work();
    }
    pacer.run(|helpers| {
        if helpers {
            on_pool_thread(true, work)
        } else {
            team::run_alone(work)
        }
    })
}

/// Rewrites the output layer's cached δ before it flows back.
pub(crate) type AdjustOutput<'a, T> = dyn FnMut(&mut DenseCache<T>) + Send + 'a;

impl<T: Float> Network<T> {
    /// True when a pass over a batch of `rows` examples has a product that the GEMM wrapper
    /// splits across threads: the forward products, and when `training` the gradient products.
    pub(crate) fn uses_threads(&self, rows: usize, training: bool) -> bool {
        let convolutions = self
            .layers
            .iter()
            .filter_map(|layer| layer.as_convolution())
            .any(|conv| conv.uses_threads(rows, training));
        convolutions
            || self
                .layers
                .iter()
                .filter_map(|layer| layer.as_dense())
                .enumerate()
                .any(|(index, dense)| {
                    let (outputs, inputs) = dense.weight.shape();
                    let (no, yes) = (Transpose::No, Transpose::Yes);
                    runs_in_parallel(rows, outputs, inputs, no, yes)
                        || (training && runs_in_parallel(outputs, inputs, rows, yes, no))
                        || (training
                            && index > 0
                            && runs_in_parallel(rows, inputs, outputs, no, no))
                })
    }

    /// Batched inference: the output activations for each row of `x` (dropout off).
    ///
    /// # Panics
    /// When `x` does not have [`Network::input_width`] columns.
    #[track_caller]
    pub fn forward(&self, x: &Matrix<T>) -> Matrix<T> {
        self.check_batch(x, None);
        if let Some(pieces) = self.inference_pieces(x) {
            return concatenate_rows(self.infer_pieces(&pieces).into_iter().map(|(_, a)| a));
        }
        self.inference_pacer
            .on_pool_thread(self.uses_threads(x.rows(), false), || {
                let (first, rest) = self.layers.split_first().expect("a network has layers");
                let mut a = first.infer(x);
                for layer in rest {
                    a = layer.infer(&a);
                }
                a
            })
    }

    /// Inference returning the output layer's z (the logits) and a = σ(z).
    ///
    /// # Panics
    /// When `x` does not have [`Network::input_width`] columns.
    #[track_caller]
    pub fn output_with_logits(&self, x: &Matrix<T>) -> (Matrix<T>, Matrix<T>) {
        self.check_batch(x, None);
        if let Some(pieces) = self.inference_pieces(x) {
            let (z, a): (Vec<_>, Vec<_>) = self.infer_pieces(&pieces).into_iter().unzip();
            return (concatenate_rows(z), concatenate_rows(a));
        }
        self.inference_pacer
            .on_pool_thread(self.uses_threads(x.rows(), false), || {
                let (output, hidden) = self.layers.split_last().expect("a network has layers");
                let output = output.as_dense().expect("the last layer is dense");
                let z = match hidden.split_first() {
                    None => output.weighted_input(x),
                    Some((first, rest)) => {
                        let mut a = first.infer(x);
                        for layer in rest {
                            a = layer.infer(&a);
                        }
                        output.weighted_input(&a)
                    }
                };
                let a = output.activation.forward(&z);
                (z, a)
            })
    }

    /// A large batch for a network with image layers, cut into pieces of
    /// [`INFERENCE_ROWS`] rows: every image layer's output is many times its input, so a whole
    /// data set at once would not fit in memory. `None` when the batch goes through whole.
    fn inference_pieces(&self, x: &Matrix<T>) -> Option<Vec<Matrix<T>>> {
        if self.feature_count() == 0 || x.rows() <= INFERENCE_ROWS {
            return None;
        }
        let cols = x.cols();
        Some(
            x.as_slice()
                .chunks(INFERENCE_ROWS * cols)
                .map(|rows| {
                    Matrix::from_vec(rows.len() / cols, cols, rows.to_vec()).expect("whole rows")
                })
                .collect(),
        )
    }

    /// The output layer's z and a for each piece, through copies of the image layers whose
    /// buffers (and the image layers' outputs) are reused from piece to piece instead of
    /// allocated for each.
    fn infer_pieces(&self, pieces: &[Matrix<T>]) -> Vec<(Matrix<T>, Matrix<T>)> {
        let features = self.feature_count();
        let mut image_layers = self.layers[..features].to_vec();
        let mut outputs: Vec<Matrix<T>> = vec![Matrix::zeros(0, 0); features];
        let dense_part = &self.layers[features..];
        let (output_layer, hidden) = dense_part.split_last().expect("a dense output layer");
        let output_layer = output_layer.as_dense().expect("the last layer is dense");
        let parallel = self.uses_threads(INFERENCE_ROWS, false);
        self.inference_pacer.on_pool_thread(parallel, || {
            pieces
                .iter()
                .map(|piece| {
                    for (index, layer) in image_layers.iter_mut().enumerate() {
                        let (before, rest) = outputs.split_at_mut(index);
                        let input = before.last().unwrap_or(piece);
                        layer.forward_into(input, Mode::Eval, &mut rest[0]);
                    }
                    let mut a = outputs[features - 1].clone();
                    for layer in hidden {
                        a = layer.infer(&a);
                    }
                    let z = output_layer.weighted_input(&a);
                    let a = output_layer.activation.forward(&z);
                    (z, a)
                })
                .collect()
        })
    }

    /// Where a training pass reads its batch: the first dense layer's input buffer, or the
    /// network's own when image layers come first.
    fn batch_buffer(&mut self) -> &mut Matrix<T> {
        if self.feature_count() > 0 {
            return &mut self.input;
        }
        self.layers[0]
            .as_dense_mut()
            .expect("a network without image layers starts with a dense layer")
            .input_buffer()
    }

    /// Gathers the rows of `x` listed in `rows` straight into the buffer the training pass
    /// reads, for [`Network::compute_gradients_loaded`].
    pub(crate) fn load_batch(&mut self, x: &Matrix<T>, rows: &[usize]) {
        self.load_batch_from(x.into(), rows);
    }

    /// [`Network::load_batch`] from rows borrowed in place.
    pub(crate) fn load_batch_from(&mut self, x: MatrixView<'_, T>, rows: &[usize]) {
        self.batch_buffer().gather_rows_from(x, rows);
    }

    /// Puts `batch` (gathered ahead, the shape a [`Network::load_batch`] would have given) in
    /// the buffer the training pass reads, and hands back the buffer that was there.
    pub(crate) fn swap_batch(&mut self, batch: &mut Matrix<T>) {
        std::mem::swap(self.batch_buffer(), batch);
    }

    /// [`Network::compute_gradients`] on the batch [`Network::load_batch`] put in place.
    /// Returns the batch cost and the penalty term in it, as [`Network::descend_loaded`] does.
    pub(crate) fn compute_gradients_loaded(&mut self, y: &Matrix<T>) -> (f64, f64) {
        let penalty = self.penalty();
        let (loss, _) = self.backpropagate_loaded(y, Mode::Train, false, penalty);
        (loss, penalty)
    }

    /// One forward and backward pass over a batch: fills every layer's gradients and returns
    /// the batch cost. `Mode::Train` applies dropout. Returns ∂C/∂aˡ handed to each dense layer
    /// when `record` is true (for traces).
    #[track_caller]
    pub(crate) fn backpropagate(
        &mut self,
        x: &Matrix<T>,
        y: &Matrix<T>,
        mode: Mode,
        record: bool,
    ) -> (f64, Vec<Matrix<T>>) {
        self.check_batch(x, Some(y));
        self.batch_buffer().copy_from(x);
        let penalty = self.penalty();
        self.backpropagate_loaded(y, mode, record, penalty)
    }

    /// `penalty` is the regularisation term of the current weights.
    fn backpropagate_loaded(
        &mut self,
        y: &Matrix<T>,
        mode: Mode,
        record: bool,
        penalty: f64,
    ) -> (f64, Vec<Matrix<T>>) {
        let parallel = self.uses_threads(y.rows(), true);
        on_pool_thread(parallel, || {
            self.forward_training(mode);
            self.backward_training(y, record, None, penalty, None)
        })
    }

    /// True when a plain SGD step can be fused into the backward pass
    /// ([`Network::descend_loaded`]): no L1 term adds to the gradients (Nielsen's L2 can, as a
    /// scaling of the weights).
    pub(crate) fn can_fuse_descent(&self) -> bool {
        self.config.regularization.l1 == 0.0
            && self.layers[..self.feature_count()]
                .iter()
                .all(|layer| layer.parameters().is_empty())
    }

    /// Forward and backward over the batch [`Network::load_batch`] put in place, taking the
    /// plain SGD step θ ← θ − η·∂C/∂θ inside the backward pass: each layer's BP4 product adds
    /// −η·δᵀX straight onto its weights (after the product for the layer before has used
    /// them), so the weight gradients never go through memory; Nielsen's L2 term scales the
    /// weights by 1 − ηλ/n in the same pass. Returns the batch cost and the penalty term in it,
    /// both for the weights before the step; when the cost is not finite, nothing is updated.
    ///
    /// # Panics
    /// When the network has an L1 term ([`Network::can_fuse_descent`]).
    #[track_caller]
    pub(crate) fn descend_loaded(&mut self, y: &Matrix<T>, learning_rate: f64) -> (f64, f64) {
        assert!(
            self.can_fuse_descent(),
            "a fused SGD step cannot add an L1 term's gradient"
        );
        let l2 = self.config.regularization.l2_coefficient();
        let descent = Descent {
            learning_rate: T::from_f64(learning_rate),
            weight_scale: T::from_f64(1.0 - learning_rate * l2),
        };
        let penalty = self.penalty();
        self.forward_training(Mode::Train);
        let mut descend = Descend::Sgd(descent);
        let (loss, _) = self.backward_training(y, false, Some(&mut descend), penalty, None);
        (loss, penalty)
    }

    /// Forward and backward over one shard that [`Network::load_batch`] put in place, for
    /// sharded training: the shard's mean cost (no penalty), and the gradients of that mean
    /// left in the layers without any regularisation term (added once to the combined
    /// gradient instead).
    pub(crate) fn shard_gradients_loaded(&mut self, y: &Matrix<T>) -> f64 {
        let parallel = self.uses_threads(y.rows(), true);
        on_pool_thread(parallel, || {
            self.forward_training(Mode::Train);
            self.backward_training_unregularized(y)
        })
    }

    /// Forward and backward over the batch [`Network::load_batch`] put in place, with the
    /// output layer's δ handed to `adjust` before it flows back (scikit-learn's weighted rows
    /// and its Poisson output, whose δ the cost does not give). No regularisation term, and no
    /// cost computed: the caller has its own.
    pub(crate) fn gradients_loaded_adjusted(
        &mut self,
        y: &Matrix<T>,
        adjust: &mut AdjustOutput<'_, T>,
    ) {
        let parallel = self.uses_threads(y.rows(), true);
        on_pool_thread(parallel, || {
            self.forward_training(Mode::Train);
            let regularization = std::mem::take(&mut self.config.regularization);
            self.backward_training(y, false, None, 0.0, Some(adjust));
            self.config.regularization = regularization;
        })
    }

    /// [`Network::backward_training`] without the regularisation term's gradient or penalty.
    fn backward_training_unregularized(&mut self, y: &Matrix<T>) -> f64 {
        let regularization = std::mem::take(&mut self.config.regularization);
        let (loss, _) = self.backward_training(y, false, None, 0.0, None);
        self.config.regularization = regularization;
        loss
    }

    /// Every parameter's gradient times `scale`, laid end to end (weights then bias, layer by
    /// layer), written into `out`.
    pub(crate) fn flat_gradients_into(&self, scale: T, out: &mut Vec<T>) {
        out.clear();
        for (_, gradient) in self.gradients_in_order() {
            out.extend(gradient.as_slice().iter().map(|&g| g * scale));
        }
    }

    /// Sets every parameter's gradient from `flat` (laid out as
    /// [`Network::flat_gradients_into`]) times `scale`, then adds the regularisation term's
    /// gradient.
    pub(crate) fn set_flat_gradients(&mut self, flat: &[T], scale: T) {
        let regularization = self.config.regularization;
        let mut offset = 0;
        for (_, layer) in self.numbered_mut() {
            for slot in layer.parameter_slots() {
                let slice = slot.gradient.as_mut_slice();
                for (g, &v) in slice.iter_mut().zip(&flat[offset..]) {
                    *g = v * scale;
                }
                offset += slice.len();
                if slot.name == "weight" {
                    regularization.add_gradient(slot.value, slot.gradient);
                }
            }
        }
    }

    /// Every gradient matrix, weight before bias, layer by layer.
    fn gradients_in_order(&self) -> Vec<(&'static str, &Matrix<T>)> {
        self.numbered()
            .into_iter()
            .flat_map(|(_, layer)| layer.gradients())
            .collect()
    }

    /// The forward pass, caching z and a in every layer.
    fn forward_training(&mut self, mode: Mode) {
        // A dropout between dense layers writes into `dropout_output`; `carried` says the
        // next layer reads it.
        let mut carried = false;
        let features = self.feature_count();
        if features > 0 {
            let outputs = &mut self.feature_outputs;
            outputs.resize_with(features, || Matrix::zeros(0, 0));
            for (index, layer) in self.layers[..features].iter_mut().enumerate() {
                let (before, rest) = outputs.split_at_mut(index);
                let input = before.last().unwrap_or(&self.input);
                layer.forward_into(input, mode, &mut rest[0]);
            }
            // Flattening is the identity: an image row is already in (C, H, W) order.
            let first_dense = self.layers[features]
                .as_dense_mut()
                .expect("image layers are followed by a dense layer");
            first_dense.input_buffer().copy_from(&outputs[features - 1]);
        }
        let dropout_output = &mut self.dropout_output;
        for index in features..self.layers.len() {
            let (before, rest) = self.layers.split_at_mut(index);
            let layer = &mut rest[0];
            if index > features {
                let previous = before[index - 1]
                    .as_dense()
                    .and_then(Dense::cache)
                    .map(|cache| &cache.a);
                match layer.as_dense_mut() {
                    Some(dense) => {
                        let input = if carried {
                            &*dropout_output
                        } else {
                            previous.expect("the layer before ran")
                        };
                        dense.input_buffer().copy_from(input);
                    }
                    None => {
                        let input = previous.expect("a dropout follows a dense layer");
                        layer.forward_into(input, mode, dropout_output);
                        carried = true;
                        continue;
                    }
                }
                carried = false;
            }
            layer
                .as_dense_mut()
                .expect("the first layer is dense")
                .forward_from_input_buffer();
        }
    }

    /// The backward pass: the batch cost and every gradient, from the cached forward pass.
    ///
    /// `penalty` is the regularisation term of the weights the forward pass used. With
    /// `descend`, each dense layer takes a plain SGD step as soon as its gradients are known
    /// ([`Dense::fused_sgd_update`]); a batch whose cost is not finite then changes nothing.
    /// `adjust` may rewrite the output layer's δ (in its cache) before it flows back; the
    /// returned cost is then NaN (not computed).
    fn backward_training(
        &mut self,
        y: &Matrix<T>,
        record: bool,
        mut descend: Option<&mut Descend<'_, T>>,
        penalty: f64,
        adjust: Option<&mut AdjustOutput<'_, T>>,
    ) -> (f64, Vec<Matrix<T>>) {
        let cost = self.config.cost;
        let [current, next] = &mut self.gradient_buffers;
        let (output, hidden) = self.layers.split_last_mut().expect("a network has layers");
        let output = output.as_dense_mut().expect("the last layer is dense");
        let cache = output.cache().expect("forward just ran");
        // A caller that rewrites δ computes its own loss; the cost's (a log and an exp per
        // output for softmax) would be a fifth of a small network's step.
        let loss = match adjust {
            Some(_) => f64::NAN,
            None => cost.loss(&cache.z, &cache.a, y),
        };
        if descend.as_ref().is_some_and(|d| d.stops_at(loss + penalty)) {
            return (loss, Vec::new());
        }
        let mut recorded = Vec::new();
        if record {
            recorded.push(cost.output_gradient(&cache.a, y));
        }
        // BP1: δᴸ; BP2's (wᴸ)ᵀδᴸ for the layer before; BP3 and BP4 (or the fused update).
        output.output_delta(cost, y);
        if let (Some(adjust), Some(cache)) = (adjust, output.cache_mut()) {
            adjust(cache);
        }
        // The ordinal of each dense layer's weight and bias among the parameters.
        let mut ordinal = hidden.iter().filter(|l| l.as_dense().is_some()).count();
        finish_layer(
            output,
            (!hidden.is_empty()).then_some(&mut *current),
            (descend.as_deref_mut(), ordinal),
        );
        // BP2 onwards, back through the layers.
        let mut index = hidden.len();
        while index > 0 {
            index -= 1;
            // A ReLU convolution and the max-pooling after it go back in one pass.
            if let Some(first) = fused_pair(hidden, index) {
                let (before, pair) = hidden.split_at_mut(first);
                let [Layer::Convolution(conv), Layer::Pool(pool), ..] = pair else {
                    unreachable!("fused_pair checked the kinds")
                };
                let pooled = &self.feature_outputs[index];
                let grad_input = (!before.is_empty()).then_some(&mut *next);
                conv.backward_through_max_pool(pool, pooled, current, grad_input);
                std::mem::swap(current, next);
                index = first;
                continue;
            }
            let layer = &mut hidden[index];
            match layer.as_dense_mut() {
                Some(dense) => {
                    if record {
                        recorded.push(current.clone());
                    }
                    dense.hidden_delta(current);
                    ordinal -= 1;
                    let grad_input = (index > 0).then_some(&mut *next);
                    finish_layer(dense, grad_input, (descend.as_deref_mut(), ordinal));
                }
                // The first layer has no layer before it to hand ∂C/∂input to.
                None if index == 0 => layer.backward_parameters_only(current),
                None => layer.backward_into(current, next),
            }
            std::mem::swap(current, next);
        }
        recorded.reverse();
        let regularization = self.config.regularization;
        if descend.is_none() && !regularization.is_none() {
            // Per batch: the layers' own slots, without formatting the parameters' names.
            for (_, layer) in self.numbered_mut() {
                for slot in layer.parameter_slots() {
                    if slot.name == "weight" {
                        regularization.add_gradient(slot.value, slot.gradient);
                    }
                }
            }
        }
        (loss + penalty, recorded)
    }

    /// One forward and backward pass in training mode, leaving the gradients in the layers
    /// (read them with [`Network::gradients`] or step them with an optimiser). Returns the
    /// batch cost.
    ///
    /// # Panics
    /// When `x` or `y` have the wrong shape.
    #[track_caller]
    pub fn compute_gradients(&mut self, x: &Matrix<T>, y: &Matrix<T>) -> f64 {
        self.backpropagate(x, y, Mode::Train, false).0
    }

    /// Batched backprop: the batch cost and ∂C/∂θ for every parameter θ.
    ///
    /// ```
    /// use backprop::{Cost, NetworkConfig};
    /// use backprop_tensor::Matrix;
    /// let mut net = NetworkConfig::new(&[2, 3, 1], Cost::Quadratic).with_seed(1).init::<f64>().unwrap();
    /// let x = Matrix::from_rows(&[[0.0, 1.0]]).unwrap();
    /// let y = Matrix::from_rows(&[[1.0]]).unwrap();
    /// let (loss, gradients) = net.backward(&x, &y);
    /// assert!(loss > 0.0);
    /// assert_eq!(gradients.get("layers.0.weight").unwrap().shape(), (3, 2));
    /// ```
    ///
    /// # Panics
    /// When `x` or `y` have the wrong shape.
    #[track_caller]
    pub fn backward(&mut self, x: &Matrix<T>, y: &Matrix<T>) -> (f64, Gradients<T>) {
        let loss = self.compute_gradients(x, y);
        (loss, self.gradients())
    }

    /// [`Network::backward`] with dropout off: the batch cost and every gradient of the
    /// function inference computes (what a gradient check compares against).
    #[track_caller]
    pub fn backward_without_dropout(
        &mut self,
        x: &Matrix<T>,
        y: &Matrix<T>,
    ) -> (f64, Gradients<T>) {
        let loss = self.backpropagate(x, y, Mode::Eval, false).0;
        (loss, self.gradients())
    }

    /// One optimiser step over every parameter, named by `names` as in
    /// [`Network::parameter_refs`], in the same order, without collecting them first: this runs
    /// on every batch, which allocates nothing.
    ///
    /// # Panics
    /// When `names` has fewer entries than the network has parameters.
    pub(crate) fn optimizer_step(
        &mut self,
        optimizer: &mut Optimizer<T>,
        names: &[String],
        learning_rate: f64,
    ) {
        let mut names = names.iter();
        for layer in &mut self.layers {
            for slot in layer.weight_and_bias().into_iter().flatten() {
                let name = names.next().expect("one name per parameter");
                optimizer.update(name, slot.value, slot.gradient, learning_rate);
            }
        }
        optimizer.finish_step();
    }

    /// The parameters with their gradients for an optimiser step, named by `names` (from
    /// [`Network::parameters`], computed once), so that a step formats no strings.
    ///
    /// # Panics
    /// When `names` has fewer entries than the network has parameters.
    pub fn parameter_refs<'a>(&'a mut self, names: &'a [String]) -> Vec<ParameterRef<'a, T>> {
        let mut refs = Vec::with_capacity(names.len());
        let mut names = names.iter();
        for (_, layer) in self.numbered_mut() {
            for slot in layer.parameter_slots() {
                let name = names.next().expect("one name per parameter");
                refs.push(ParameterRef {
                    name,
                    value: slot.value,
                    gradient: slot.gradient,
                });
            }
        }
        refs
    }
}

/// The rows of `pieces`, one after another.
fn concatenate_rows<T: Float>(pieces: impl IntoIterator<Item = Matrix<T>>) -> Matrix<T> {
    let mut cols = 0;
    let mut values = Vec::new();
    for piece in pieces {
        cols = piece.cols();
        values.extend_from_slice(piece.as_slice());
    }
    let rows = values.len().checked_div(cols).unwrap_or(0);
    Matrix::from_vec(rows, cols, values).expect("pieces of one width")
}

/// The index of the ReLU convolution right before `hidden[index]` when that layer is a
/// max-pooling the convolution can go back through in one pass
/// ([`Conv2d::backward_through_max_pool`](crate::conv::Conv2d)).
fn fused_pair<T: Float>(hidden: &[Layer<T>], index: usize) -> Option<usize> {
    let first = index.checked_sub(1)?;
    match (&hidden[first], &hidden[index]) {
        (Layer::Convolution(conv), Layer::Pool(pool)) if conv.fuses_with(pool) => Some(first),
        _ => None,
    }
}

/// With δ cached in `dense`: (wˡ)ᵀδˡ into `grad_input` for the layer before (BP2's first half,
/// from the weights of the forward pass), then BP3 and BP4, or the fused SGD update that
/// replaces them.
fn finish_layer<T: Float>(
    dense: &mut Dense<T>,
    grad_input: Option<&mut Matrix<T>>,
    (descend, ordinal): (Option<&mut Descend<'_, T>>, usize),
) {
    if let Some(grad_input) = grad_input {
        dense.backpropagate_delta(grad_input);
    }
    match descend {
        None => dense.parameter_gradients(),
        Some(descend) => descend.finish(dense, ordinal),
    }
}
