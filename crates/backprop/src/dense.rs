//! A dense layer: an affine map followed by its activation, zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ).
//!
//! For a batch X (n × in) with W (out × in) and b (1 × out), all one example per row:
//! - forward: Z = X·Wᵀ + 1·b, A = σ(Z) (the bias add and σ fused in one pass);
//! - backward, given ∂C/∂A, one function per equation:
//!   - δ = ∂C/∂A ⊙ σ′(Z): BP1 at the output ([`Dense::output_delta`]), BP2's ⊙ σ′ elsewhere
//!     ([`Dense::hidden_delta`]);
//!   - ∂C/∂X = δ·W, which is (wˡ)ᵀ δˡ for the layer before (the first half of BP2,
//!     [`Dense::backpropagate_delta`]). The first layer has no layer before it, and the network
//!     does not ask it for this product;
//!   - ∂C/∂b = Σₓ δₓ (BP3) and ∂C/∂W = δᵀ·X (BP4), summed over the batch
//!     ([`Dense::parameter_gradients`]).
//!
//! **The fused SGD step** ([`Dense::fused_sgd_update`]) is an optimisation of BP3, BP4 and a
//! plain gradient-descent update: the BP4 product is added straight onto W. Tests hold it
//! equal to the plain path within rounding.
//!
//! **Buffers.** The cache (X, Z, A, δ) and the gradients are matrices that keep their
//! allocation from batch to batch: a training step allocates nothing once it has seen a batch of
//! its size. The network writes each batch straight into the first layer's input buffer.

use crate::activation::Activation;
use crate::cost::Cost;
use crate::layer::{LayerOps, Mode, ParameterSlot};
use crate::sparse_input::{self, SparseInput};
use backprop_tensor::matmul::{gemm, gemm_add_scaled, Transpose, PARALLEL_THRESHOLD};
use backprop_tensor::row_panels::gemm_row_panels;
use backprop_tensor::sparse_rows::AlignedRows;
use backprop_tensor::{for_each_band_beside_transpose, team, Float, Matrix};

/// Elements of W one task of the sparse path's optimiser update takes.
const UPDATE_PIECE: usize = 4096;

/// A plain SGD step taken inside the backward pass ([`Dense::fused_sgd_update`]):
/// W ← weight_scale·W − η·∂C/∂W and b ← b − η·∂C/∂b.
#[derive(Clone, Copy, Debug)]
pub struct Descent<T> {
    /// η.
    pub learning_rate: T,
    /// 1 − ηλ for an L2 term whose gradient is λW (Nielsen's λ/n), else 1.
    pub weight_scale: T,
}

/// What a training forward pass remembers for backward and for traces.
#[derive(Clone, Debug)]
pub struct DenseCache<T: Float> {
    /// aˡ⁻¹, the layer's input.
    pub input: Matrix<T>,
    /// zˡ, the weighted input.
    pub z: Matrix<T>,
    /// aˡ = σ(zˡ).
    pub a: Matrix<T>,
    /// δˡ = ∂C/∂zˡ, once backward has run.
    pub delta: Option<Matrix<T>>,
}

impl<T: Float> DenseCache<T> {
    fn empty() -> Self {
        Self {
            input: Matrix::zeros(0, 0),
            z: Matrix::zeros(0, 0),
            a: Matrix::zeros(0, 0),
            delta: None,
        }
    }
}

/// A dense (fully connected) layer with its activation.
#[derive(Clone, Debug)]
pub struct Dense<T: Float> {
    /// Weights, (out × in): row j holds the weights into unit j.
    pub weight: Matrix<T>,
    /// Biases, (1 × out).
    pub bias: Matrix<T>,
    /// σ.
    pub activation: Activation,
    /// ∂C/∂W from the last backward pass; empty (0 × 0) after a fused SGD step
    /// ([`Dense::fused_sgd_update`]), which never forms it, so that no stale gradient is read.
    pub weight_gradient: Matrix<T>,
    /// ∂C/∂b from the last backward pass.
    pub bias_gradient: Matrix<T>,
    cache: Option<DenseCache<T>>,
    /// δ's allocation while the cache holds none (between a forward and its backward pass).
    spare_delta: Matrix<T>,
    /// False until a training forward pass has filled the cache.
    forward_done: bool,
    /// The products over a mostly-zero input's non-zeros, when enabled
    /// ([`Dense::set_sparse_input`]).
    sparse: Option<Box<SparseInput<T>>>,
    /// Whether inference may multiply only a mostly-zero input's non-zeros
    /// ([`Dense::set_sparse_inference`]; on unless turned off).
    sparse_inference: bool,
}

impl<T: Float> Dense<T> {
    /// A layer with the given weights (out × in), bias (1 × out) and activation.
    ///
    /// # Panics
    /// When the bias is not 1 × out.
    #[track_caller]
    pub fn new(weight: Matrix<T>, bias: Matrix<T>, activation: Activation) -> Self {
        assert_eq!(
            bias.shape(),
            (1, weight.rows()),
            "dense: bias must be 1×{} for a {}×{} weight",
            weight.rows(),
            weight.rows(),
            weight.cols()
        );
        let weight_gradient = Matrix::zeros(weight.rows(), weight.cols());
        let bias_gradient = Matrix::zeros(1, weight.rows());
        Self {
            weight,
            bias,
            activation,
            weight_gradient,
            bias_gradient,
            cache: None,
            spare_delta: Matrix::zeros(0, 0),
            forward_done: false,
            sparse: None,
            sparse_inference: true,
        }
    }

    /// The cache of the last training forward pass (and δ once backward ran).
    pub fn cache(&self) -> Option<&DenseCache<T>> {
        self.cache.as_ref().filter(|_| self.forward_done)
    }

    /// The cache after a training forward pass, for a caller that rewrites the output δ
    /// before it flows back (scikit-learn's sample weights and Poisson output).
    pub(crate) fn cache_mut(&mut self) -> Option<&mut DenseCache<T>> {
        self.cache.as_mut().filter(|_| self.forward_done)
    }

    #[track_caller]
    fn check_input(&self, input: &Matrix<T>) {
        assert_eq!(
            input.cols(),
            self.weight.cols(),
            "{}: input has {} columns, the layer takes {}",
            self.describe(),
            input.cols(),
            self.weight.cols()
        );
    }

    /// Z = X·Wᵀ + 1·b.
    #[track_caller]
    pub fn weighted_input(&self, input: &Matrix<T>) -> Matrix<T> {
        self.check_input(input);
        let mut z = self.input_product(input);
        z.add_row_to_each_row(&self.bias);
        z
    }

    /// X·Wᵀ for inference: over X's non-zeros when X is mostly zero and sparse inference is on
    /// (see [`crate::sparse_input`]), else by `gemm`.
    fn input_product(&self, input: &Matrix<T>) -> Matrix<T> {
        let (mut product, mut transposed) = (Matrix::zeros(0, 0), AlignedRows::new());
        let sparse = self.sparse_inference
            && sparse_input::infer_product(
                input.into(),
                || {
                    transposed.transpose_from(&self.weight);
                    &transposed
                },
                &mut product,
            );
        match sparse {
            true => product,
            false => input.matmul_transpose(&self.weight),
        }
    }

    /// Lets inference ([`LayerOps::infer`], [`Dense::weighted_input`] and
    /// [`Network::forward_rows`](crate::Network::forward_rows)) multiply only the non-zeros of a
    /// mostly-zero input, as training does when [`Dense::set_sparse_input`] is on (see
    /// [`crate::sparse_input`]), or makes it multiply every value. On by default; the two differ
    /// in the last bits only.
    pub fn set_sparse_inference(&mut self, enabled: bool) {
        self.sparse_inference = enabled;
    }

    /// True when inference may take the non-zeros path ([`Dense::set_sparse_inference`]).
    pub fn sparse_inference(&self) -> bool {
        self.sparse_inference
    }

    /// Enables (or disables) the training products over the non-zeros of a mostly-zero input
    /// (see [`crate::sparse_input`]): each training batch is checked as the forward pass
    /// starts, and one sparse enough goes through its non-zeros.
    pub fn set_sparse_input(&mut self, enabled: bool) {
        match enabled {
            true => {
                self.sparse
                    .get_or_insert_with(|| Box::new(SparseInput::new()));
            }
            false => self.sparse = None,
        }
    }

    /// The multiply-adds the training products skipped, over every batch since the sparse path
    /// was enabled, because they would have multiplied a zero input (0 when it is not enabled):
    /// what a benchmark subtracts to count the work done.
    pub fn skipped_multiply_adds(&self) -> u64 {
        self.sparse.as_deref().map_or(0, SparseInput::skipped)
    }

    /// True when the last training forward pass went through the input's non-zeros.
    pub fn used_sparse_input(&self) -> bool {
        self.sparse.as_deref().is_some_and(SparseInput::active)
    }

    /// The buffer the next training forward pass reads aˡ⁻¹ from; write the batch into it.
    pub(crate) fn input_buffer(&mut self) -> &mut Matrix<T> {
        self.forward_done = false;
        &mut self.cache.get_or_insert_with(DenseCache::empty).input
    }

    /// Training forward pass on the batch in [`Dense::input_buffer`]: Z = X·Wᵀ, then the fused
    /// Z += 1·b, A = σ(Z), all into the cache's buffers.
    #[track_caller]
    pub(crate) fn forward_from_input_buffer(&mut self) {
        let mut cache = self.cache.take().unwrap_or_else(DenseCache::empty);
        self.check_input(&cache.input);
        if let Some(delta) = cache.delta.take() {
            // The last batch's δ no longer matches; keep its allocation for this one.
            self.spare_delta = delta;
        }
        let sparse = match self.sparse.as_deref_mut() {
            Some(sparse) => sparse.forward(&cache.input, &self.weight, &mut cache.z),
            None => false,
        };
        if !sparse {
            cache.z.resize(cache.input.rows(), self.weight.rows());
            gemm(
                &mut cache.z,
                &cache.input,
                Transpose::No,
                &self.weight,
                Transpose::Yes,
                false,
            );
        }
        self.activation
            .add_bias_and_forward(&mut cache.z, &self.bias, &mut cache.a);
        self.cache = Some(cache);
        self.forward_done = true;
    }

    /// The cache after a forward pass, or a panic naming the layer.
    #[track_caller]
    fn forward_cache(&self) -> &DenseCache<T> {
        match self.cache() {
            Some(cache) => cache,
            None => panic!("{}: backward before forward", self.describe()),
        }
    }

    /// BP1 for the output layer: δᴸ = ∇ₐC ⊙ σ′(zᴸ) from the cost ([`Cost::output_delta_into`],
    /// a − y when fused with softmax or sigmoid) into the cache.
    ///
    /// # Panics
    /// When no training forward pass was cached.
    #[track_caller]
    pub fn output_delta(&mut self, cost: Cost, y: &Matrix<T>) {
        let mut delta = std::mem::replace(&mut self.spare_delta, Matrix::zeros(0, 0));
        let cache = self.forward_cache();
        cost.output_delta_into(self.activation, &cache.z, &cache.a, y, &mut delta);
        self.cache.as_mut().expect("checked above").delta = Some(delta);
    }

    /// BP2's second half for a hidden layer: δˡ = ∂C/∂aˡ ⊙ σ′(zˡ) into the cache, where
    /// ∂C/∂aˡ = (wˡ⁺¹)ᵀ δˡ⁺¹ came from the layer after ([`Dense::backpropagate_delta`]).
    ///
    /// # Panics
    /// When no training forward pass was cached.
    #[track_caller]
    pub fn hidden_delta(&mut self, grad_output: &Matrix<T>) {
        let mut delta = std::mem::replace(&mut self.spare_delta, Matrix::zeros(0, 0));
        let cache = self.forward_cache();
        // σ′ applied elementwise (softmax: its Jacobian).
        self.activation
            .backward_into(&cache.z, &cache.a, grad_output, &mut delta);
        self.cache.as_mut().expect("checked above").delta = Some(delta);
    }

    /// The cached δ, checked against z's shape.
    #[track_caller]
    fn cached_delta(&self) -> (&DenseCache<T>, &Matrix<T>) {
        let cache = self.forward_cache();
        let delta = match cache.delta.as_ref() {
            Some(delta) => delta,
            None => panic!(
                "{}: no δ yet (output_delta or hidden_delta first)",
                self.describe()
            ),
        };
        assert_eq!(
            delta.shape(),
            cache.z.shape(),
            "{}: δ shape differs from z",
            self.describe()
        );
        (cache, delta)
    }

    /// BP2's first half: ∂C/∂aˡ⁻¹ = (wˡ)ᵀ δˡ (one example per row: δ·W) into `grad_input`, for
    /// the layer before, from the weights the forward pass used. The first layer skips it.
    #[track_caller]
    pub fn backpropagate_delta(&self, grad_input: &mut Matrix<T>) {
        let (_, delta) = self.cached_delta();
        grad_input.resize(delta.rows(), self.weight.cols());
        gemm(
            grad_input,
            delta,
            Transpose::No,
            &self.weight,
            Transpose::No,
            false,
        );
    }

    /// BP3 and BP4 from the cached δ, summed over the batch, into [`Dense::bias_gradient`] and
    /// [`Dense::weight_gradient`].
    #[track_caller]
    pub fn parameter_gradients(&mut self) {
        self.cached_delta();
        let cache = self.cache.as_ref().expect("checked above");
        let delta = cache.delta.as_ref().expect("checked above");
        // BP3: ∂C/∂bⱼ = Σₓ δⱼ
        delta.column_sums_into(&mut self.bias_gradient);
        // BP4: ∂C/∂wⱼₖ = Σₓ δⱼ aₖˡ⁻¹, i.e. δᵀ·X
        if let Some(sparse) = self.sparse.as_deref_mut().filter(|s| s.active()) {
            sparse.weight_gradient(&cache.input, delta, &mut self.weight_gradient);
            return;
        }
        self.weight_gradient
            .resize(self.weight.rows(), self.weight.cols());
        gemm(
            &mut self.weight_gradient,
            delta,
            Transpose::Yes,
            &cache.input,
            Transpose::No,
            false,
        );
    }

    /// True when [`Dense::parameter_gradients_updating`] computes ∂C/∂W in bands for a batch
    /// of `rows`: when the product is large enough to be split across threads (a function of
    /// the shapes alone). A smaller ∂C/∂W stays in cache as a whole.
    pub fn updates_in_bands(&self, rows: usize) -> bool {
        let (units, inputs) = self.weight.shape();
        units.saturating_mul(inputs).saturating_mul(rows) >= PARALLEL_THRESHOLD
    }

    /// BP3 and BP4 with an element-wise optimiser step fused into BP4: ∂C/∂b into
    /// [`Dense::bias_gradient`]; ∂C/∂W = δᵀX a band of rows at a time into
    /// [`Dense::weight_gradient`], and right after each band, on the same thread,
    /// `update(weights, gradient, state)` on the band's rows of W, of ∂C/∂W and of each of the
    /// rule's `state` buffers (as long as W, or empty), while the band is still in cache. The
    /// bias is the caller's to update. Call it after [`Dense::backpropagate_delta`], which needs
    /// the old W.
    #[track_caller]
    pub fn parameter_gradients_updating(
        &mut self,
        state: [&mut [T]; 3],
        update: impl Fn(&mut [T], &[T], [&mut [T]; 3]) + Sync + Send,
    ) {
        self.cached_delta();
        let cache = self.cache.as_ref().expect("checked above");
        let delta = cache.delta.as_ref().expect("checked above");
        // BP3
        delta.column_sums_into(&mut self.bias_gradient);
        let [first, second, third] = state;
        if let Some(sparse) = self.sparse.as_deref_mut().filter(|s| s.active()) {
            // BP4 over the input's non-zeros, then the update piece by piece.
            sparse.weight_gradient(&cache.input, delta, &mut self.weight_gradient);
            let (weights, gradient) = (
                self.weight.as_mut_slice(),
                self.weight_gradient.as_mut_slice(),
            );
            let pieces = [
                (weights, UPDATE_PIECE),
                (gradient, UPDATE_PIECE),
                (first, UPDATE_PIECE),
                (second, UPDATE_PIECE),
                (third, UPDATE_PIECE),
            ];
            team::for_each_chunks(pieces, |_, [weights, gradient, first, second, third]| {
                update(weights, gradient, [first, second, third])
            });
            return;
        }
        // BP4, each band of ∂C/∂W handed to the update as soon as it is known.
        self.weight_gradient
            .resize(self.weight.rows(), self.weight.cols());
        let alongside = [self.weight.as_mut_slice(), first, second, third];
        gemm_row_panels(
            &mut self.weight_gradient,
            (delta, Transpose::Yes),
            (&cache.input, Transpose::No),
            alongside,
            |_, gradient, [weights, first, second, third]| {
                update(weights, gradient, [first, second, third])
            },
        );
    }

    /// The fused SGD step, an optimisation of BP3 + BP4 + the update: ∂C/∂b into
    /// [`Dense::bias_gradient`], then b ← b − η·∂C/∂b and, in one product over W,
    /// W ← s·W − η·δᵀX (s = 1 − ηλ with an L2 term of gradient λW, else 1), so that ∂C/∂W never
    /// goes through memory. [`Dense::weight_gradient`] is left empty (0 × 0), not holding an
    /// earlier step's ∂C/∂W. Call it after [`Dense::backpropagate_delta`], which needs the old W.
    #[track_caller]
    pub fn fused_sgd_update(&mut self, descent: Descent<T>) {
        self.cached_delta();
        let cache = self.cache.as_ref().expect("checked above");
        let delta = cache.delta.as_ref().expect("checked above");
        // BP3
        delta.column_sums_into(&mut self.bias_gradient);
        if let Some(sparse) = self.sparse.as_deref_mut().filter(|s| s.active()) {
            // BP4 over the input's non-zeros, left transposed, then the step band by band of
            // W, each band's gradient transposed beside it: wⱼₖ ← s·wⱼₖ − η·∂C/∂wⱼₖ
            let gradient = sparse.weight_gradient_transposed(&cache.input, delta);
            let (scale, rate) = (descent.weight_scale, descent.learning_rate);
            let weights = self.weight.as_mut_slice();
            for_each_band_beside_transpose(weights, gradient, |_, weights, gradient| {
                for (w, &g) in weights.iter_mut().zip(gradient) {
                    *w = scale * *w - rate * g;
                }
            });
        } else {
            // BP4 and the SGD step in one pass: wⱼₖ ← s·wⱼₖ − η Σₓ δⱼ aₖˡ⁻¹
            gemm_add_scaled(
                &mut self.weight,
                descent.weight_scale,
                delta,
                Transpose::Yes,
                &cache.input,
                Transpose::No,
                -descent.learning_rate,
            );
        }
        self.bias
            .add_scaled(-descent.learning_rate, &self.bias_gradient);
        // ∂C/∂W was never formed: an empty matrix, not the previous step's values.
        self.weight_gradient.resize(0, 0);
    }
}

impl<T: Float> LayerOps<T> for Dense<T> {
    fn describe(&self) -> String {
        format!(
            "dense {}→{} {}",
            self.weight.cols(),
            self.weight.rows(),
            self.activation
        )
    }

    fn input_width(&self) -> usize {
        self.weight.cols()
    }

    fn output_width(&self) -> usize {
        self.weight.rows()
    }

    fn forward(&mut self, input: &Matrix<T>, _mode: Mode) -> Matrix<T> {
        self.check_input(input);
        self.input_buffer().copy_from(input);
        self.forward_from_input_buffer();
        self.forward_cache().a.clone()
    }

    fn infer(&self, input: &Matrix<T>) -> Matrix<T> {
        self.check_input(input);
        // A = σ(X·Wᵀ + 1·b): the product, then the bias add and σ in one pass, in place.
        let mut a = self.input_product(input);
        self.activation
            .add_bias_and_forward_in_place(&mut a, &self.bias);
        a
    }

    fn backward(&mut self, grad_output: &Matrix<T>) -> Matrix<T> {
        let mut grad_input = Matrix::zeros(0, 0);
        self.hidden_delta(grad_output);
        self.backpropagate_delta(&mut grad_input);
        self.parameter_gradients();
        grad_input
    }

    fn parameters(&self) -> Vec<(&'static str, &Matrix<T>)> {
        vec![("weight", &self.weight), ("bias", &self.bias)]
    }

    fn gradients(&self) -> Vec<(&'static str, &Matrix<T>)> {
        vec![
            ("weight", &self.weight_gradient),
            ("bias", &self.bias_gradient),
        ]
    }

    fn parameter_slots(&mut self) -> Vec<ParameterSlot<'_, T>> {
        Vec::from(ParameterSlot::weight_and_bias(
            &mut self.weight,
            &mut self.weight_gradient,
            &mut self.bias,
            &mut self.bias_gradient,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_by_hand() {
        // One unit, two inputs: z = 0.5·x₁ − 1·x₂ + 0.25, identity activation.
        let w = Matrix::<f64>::from_rows(&[[0.5, -1.0]]).unwrap();
        let mut layer = Dense::new(w, Matrix::row_vector(&[0.25]), Activation::Identity);
        let x = Matrix::from_rows(&[[1.0, 2.0], [3.0, 0.0]]).unwrap();
        let a = layer.forward(&x, Mode::Train);
        assert_eq!(a.as_slice(), &[-1.25, 1.75]);
        let grad_input = layer.backward(&Matrix::from_rows(&[[1.0], [2.0]]).unwrap());
        assert_eq!(layer.weight_gradient.as_slice(), &[1.0 + 6.0, 2.0]);
        assert_eq!(layer.bias_gradient.as_slice(), &[3.0]);
        assert_eq!(grad_input.as_slice(), &[0.5, -1.0, 1.0, -2.0]);
    }

    #[test]
    #[should_panic(expected = "dense 2→1 identity: input has 3 columns, the layer takes 2")]
    fn wrong_input_width_names_the_layer() {
        let layer = Dense::new(
            Matrix::<f32>::zeros(1, 2),
            Matrix::zeros(1, 1),
            Activation::Identity,
        );
        let _ = layer.infer(&Matrix::zeros(4, 3));
    }
}
