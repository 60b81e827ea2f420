//! A 2-D convolution and its activation, for image inputs laid out as PyTorch lays them: each
//! example is one row holding its C channel planes one after another, each plane row-major.
//!
//! With F filters of C × k × k weights, stride s and padding p (`valid`: none; `same`: k − 1
//! zeros split as PyTorch splits them, the extra one at the bottom and right, stride 1 only):
//!
//! - forward: z[f, i, j] = b_f + Σ_{c,u,v} W[f, c, u, v] · x[c, s·i + u − p, s·j + v − p],
//!   a = σ(z). The sum is one product: every k × k × C patch of the batch becomes a row (or a
//!   column) of a matrix X̂ (im2col), and Z = X̂ · Wᵀ (or W · X̂) through the project's GEMM;
//! - backward, given ∂C/∂a, the same four equations as a dense layer, because each patch is
//!   an input a dense layer with weights W would see:
//!   - δ = ∂C/∂a ⊙ σ′(z) (BP2's second half);
//!   - ∂C/∂b_f = Σ δ[f, ·, ·] over the batch and every position (BP3);
//!   - ∂C/∂W = Σ δ ⋆ x, the correlation of δ with the input: δᵀ · X̂ (or δ · X̂ᵀ) (BP4);
//!   - ∂C/∂x = δ fully correlated with the flipped kernels: Wᵀ · δ gives one gradient column
//!     per patch, and col2im adds each back onto the pixels the patch read (BP2's first half).
//!
//! **Two layouts of X̂**, chosen by the patch length C·k·k alone (so never by thread count):
//! - long patches ([`POSITION_MAJOR_PATCH`] values or more, e.g. 20 channels of 5 × 5): one
//!   patch per row, in W's (c, u, v) order, and the forward product X̂ · Wᵀ one output
//!   position per row; the batch goes through the forward pass in groups of examples
//!   ([`GROUP_POSITIONS`]), each group's patches, product, z and a made one after another
//!   while they are in cache;
//! - short patches (one channel of 5 × 5): one patch per column, so that im2col copies whole
//!   runs of an output row instead of runs of k values, which costs more there than the
//!   products gain; each example's z is then W · X̂[:, its columns], written in place.
//!
//! Each example's z, a and δ are (F, H′, W′), PyTorch's order, either way, so the layers
//! around a convolution never see the product's layout. δ itself is kept one filter per row,
//! the operand of both ∂C/∂W = δ · X̂ (or δ · X̂ᵀ) and ∂C/∂X̂ = Wᵀ · δ; a is kept only where σ′
//! reads it (sigmoid, tanh); [`Conv2d::a`] and [`Conv2d::delta`] hand out example rows. ∂C/∂x is
//! formed a group of examples at a time, Wᵀ · δ for the group then col2im while the block is in
//! cache; before max-pooling, with long patches, ∂C/∂W and ∂C/∂x instead sum over the pooling
//! winners alone (`through_max_pool`).
//!
//! Weights are stored (F, C·k·k), which is PyTorch's (F, C, k, k) row-major. The buffers keep
//! their allocation from batch to batch.

use crate::activation::Activation;
use crate::layer::{LayerOps, Mode, ParameterSlot};
use backprop_tensor::matmul::{
    gemm, gemm_column_block, matmul_transpose_rows, runs_in_parallel, Transpose,
};
use backprop_tensor::team::{for_each_chunk, for_each_chunk_pair, for_each_chunks};
use backprop_tensor::{Float, Matrix};
use columns::{col2im_group, im2col_by_channel, im2col_by_position, COL2IM_EXAMPLES};
use serde::{Deserialize, Serialize};
use std::fmt;

mod columns;
mod through_max_pool;

/// Patches of at least this many values (C·k·k) are laid out one per row of X̂, shorter ones
/// one per column; see the module documentation.
pub const POSITION_MAJOR_PATCH: usize = 64;

/// Output positions per group of examples that the forward pass carries through its stages at
/// once (patches, product, z, a): a group of 64-position images then has 4 examples, whose
/// position-major patches (20 channels of 5 × 5) take 512 KB, so they are still in L2 when
/// the product reads them.
pub const GROUP_POSITIONS: usize = 256;

/// The most rows an inference pass convolves at once.
pub const INFERENCE_ROWS: usize = 256;

/// The shape of one image: channels × height × width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageShape {
    /// C, the number of planes.
    pub channels: usize,
    /// H, rows per plane.
    pub height: usize,
    /// W, columns per plane.
    pub width: usize,
}

impl ImageShape {
    /// C × H × W.
    pub fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
        }
    }

    /// C·H·W, the width of an example's row.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// True when any dimension is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// H·W, the values in one plane.
    pub fn plane(&self) -> usize {
        self.height * self.width
    }
}

impl fmt::Display for ImageShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.channels, self.height, self.width)
    }
}

impl std::str::FromStr for ImageShape {
    type Err = String;

    /// Parses `CxHxW`, e.g. `1x28x28`.
    fn from_str(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.trim().split(['x', 'X', '×']).collect();
        let bad = || format!("'{text}' is not a shape CxHxW such as 1x28x28");
        if parts.len() != 3 {
            return Err(bad());
        }
        let mut numbers = [0usize; 3];
        for (number, part) in numbers.iter_mut().zip(&parts) {
            *number = part.trim().parse().map_err(|_| bad())?;
            if *number == 0 {
                return Err(format!("{}: every dimension must be at least 1", bad()));
            }
        }
        Ok(Self::new(numbers[0], numbers[1], numbers[2]))
    }
}

/// How a convolution treats the border.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// No padding: the kernel stays inside the image, output (H − k)/s + 1 (floored).
    Valid,
    /// Zero padding that keeps H × W (stride 1 only, as PyTorch).
    Same,
}

impl Padding {
    /// The zeros added before (top or left) and after (bottom or right) for kernel size k.
    pub fn amounts(self, kernel: usize) -> (usize, usize) {
        match self {
            Padding::Valid => (0, 0),
            Padding::Same => {
                let total = kernel - 1;
                (total / 2, total - total / 2)
            }
        }
    }

    /// `valid` or `same`.
    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
        }
    }
}

/// The geometry of a convolution: what it reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// The input image.
    pub input: ImageShape,
    /// F, the number of filters (output channels).
    pub filters: usize,
    /// k: each kernel is k × k.
    pub kernel: usize,
    /// s, the step between patches.
    pub stride: usize,
    /// The border rule.
    pub padding: Padding,
}

impl ConvGeometry {
    /// The output image (F planes), or why there is none.
    pub fn output(&self) -> Result<ImageShape, String> {
        let (before, after) = self.padding.amounts(self.kernel);
        if self.kernel == 0 || self.stride == 0 || self.filters == 0 {
            return Err("filters, kernel size and stride must each be at least 1".into());
        }
        if self.padding == Padding::Same && self.stride != 1 {
            return Err(format!(
                "'same' padding needs stride 1 (as in PyTorch), got stride {}",
                self.stride
            ));
        }
        let side = |length: usize| {
            let padded = length + before + after;
            (padded >= self.kernel).then(|| (padded - self.kernel) / self.stride + 1)
        };
        match (side(self.input.height), side(self.input.width)) {
            (Some(height), Some(width)) => Ok(ImageShape::new(self.filters, height, width)),
            _ => Err(format!(
                "a {k}×{k} kernel does not fit a {}×{} input with {} padding",
                self.input.height,
                self.input.width,
                self.padding.name(),
                k = self.kernel
            )),
        }
    }

    /// C·k·k, the inputs one filter weighs (its fan-in).
    pub fn patch_len(&self) -> usize {
        self.input.channels * self.kernel * self.kernel
    }
}

/// A convolution layer with its activation.
#[derive(Clone, Debug)]
pub struct Conv2d<T: Float> {
    /// Weights, (F × C·k·k): PyTorch's (F, C, k, k), row-major.
    pub weight: Matrix<T>,
    /// Biases, (1 × F).
    pub bias: Matrix<T>,
    /// σ, applied to every output value.
    pub activation: Activation,
    /// ∂C/∂W from the last backward pass.
    pub weight_gradient: Matrix<T>,
    /// ∂C/∂b from the last backward pass.
    pub bias_gradient: Matrix<T>,
    geometry: ConvGeometry,
    output: ImageShape,
    /// X̂: one patch per row (B·H′·W′ × C·k·k) or one per column (C·k·k × B·H′·W′), as
    /// [`Self::by_position`] says; in backward, ∂C/∂X̂ one patch per column.
    columns: Matrix<T>,
    /// The product X̂ · Wᵀ that gives Z when X̂ is position-major, one output position per row
    /// (B·H′·W′ × F); unused otherwise (W · X̂ is written straight into z).
    product: Matrix<T>,
    /// δ with one filter per row, (F × B·H′·W′): the operand of both ∂C/∂W and ∂C/∂X̂.
    by_filter: Matrix<T>,
    /// z and a = σ(z), one example per row in (F, H′, W′) order.
    z: Matrix<T>,
    a: Matrix<T>,
    /// δ = ∂C/∂z, the layout of z.
    delta: Matrix<T>,
    /// With max-pooling after the layer: for each example, the filters each output position
    /// won for and δ there (see `through_max_pool`).
    winner_lists: Vec<u32>,
    winner_deltas: Vec<T>,
    aligned_weight: Vec<T>,
}

impl<T: Float> Conv2d<T> {
    /// A convolution with the given geometry, weights (F × C·k·k), bias (1 × F) and activation.
    ///
    /// # Panics
    /// When the geometry has no output or the weights do not match it (the network config
    /// checks both first).
    #[track_caller]
    pub fn new(
        geometry: ConvGeometry,
        weight: Matrix<T>,
        bias: Matrix<T>,
        activation: Activation,
    ) -> Self {
        let output = geometry
            .output()
            .unwrap_or_else(|reason| panic!("convolution: {reason}"));
        assert_eq!(
            weight.shape(),
            (geometry.filters, geometry.patch_len()),
            "convolution: weights must be F × C·k·k"
        );
        assert_eq!(bias.shape(), (1, geometry.filters), "convolution: bias");
        let weight_gradient = Matrix::zeros(weight.rows(), weight.cols());
        let bias_gradient = Matrix::zeros(1, geometry.filters);
        Self {
            weight,
            bias,
            activation,
            weight_gradient,
            bias_gradient,
            geometry,
            output,
            columns: Matrix::zeros(0, 0),
            product: Matrix::zeros(0, 0),
            by_filter: Matrix::zeros(0, 0),
            z: Matrix::zeros(0, 0),
            a: Matrix::zeros(0, 0),
            delta: Matrix::zeros(0, 0),
            winner_lists: Vec::new(),
            winner_deltas: Vec::new(),
            aligned_weight: Vec::new(),
        }
    }

    /// What it reads and how.
    pub fn geometry(&self) -> ConvGeometry {
        self.geometry
    }

    /// The image it writes (F planes).
    pub fn output_shape(&self) -> ImageShape {
        self.output
    }

    /// z = W ⋆ x + b for a batch, without touching the caches. Large batches go through in
    /// pieces of [`INFERENCE_ROWS`] rows, so that X̂ stays small (it holds C·k·k values per
    /// output position).
    pub fn weighted_input(&self, input: &Matrix<T>) -> Matrix<T> {
        self.check_input(input);
        let (mut columns, mut product, mut piece_z) = (
            Matrix::zeros(0, 0),
            Matrix::zeros(0, 0),
            Matrix::zeros(0, 0),
        );
        if input.rows() <= INFERENCE_ROWS {
            self.weighted_input_into(input, &mut columns, &mut product, &mut piece_z, None);
            return piece_z;
        }
        let width = self.output.len();
        let mut z = Matrix::zeros(input.rows(), width);
        let mut piece = Matrix::zeros(0, 0);
        for (index, rows) in input
            .as_slice()
            .chunks(INFERENCE_ROWS * input.cols())
            .enumerate()
        {
            piece.resize(rows.len() / input.cols(), input.cols());
            piece.as_mut_slice().copy_from_slice(rows);
            self.weighted_input_into(&piece, &mut columns, &mut product, &mut piece_z, None);
            z.as_mut_slice()[index * INFERENCE_ROWS * width..][..piece_z.len()]
                .copy_from_slice(piece_z.as_slice());
        }
        z
    }

    /// z of the last training forward pass, one example per row, (F, H′, W′) order.
    pub fn z(&self) -> &Matrix<T> {
        &self.z
    }

    /// a = σ(z) of the last training forward pass (recomputed from z where the backward pass
    /// does not keep it).
    pub fn a(&self) -> Matrix<T> {
        if self.keeps_a() {
            return self.a.clone();
        }
        let mut a = Matrix::zeros(self.z.rows(), self.z.cols());
        self.activation
            .forward_rows_into(self.z.as_slice(), a.as_mut_slice(), self.z.cols());
        a
    }

    /// True when the backward pass reads a = σ(z) (sigmoid, tanh and softmax), so the forward
    /// pass keeps it; the others' derivatives read z alone.
    fn keeps_a(&self) -> bool {
        matches!(
            self.activation,
            Activation::Sigmoid | Activation::Tanh | Activation::Softmax
        )
    }

    /// δ = ∂C/∂z of the last backward pass, one example per row (gathered from the
    /// filter-major buffer the backward pass keeps it in).
    pub fn delta(&self) -> Matrix<T> {
        let positions = self.output.plane().max(1);
        let batch = self.by_filter.cols() / positions;
        Matrix::from_fn(batch, self.output.len(), |example, index| {
            let (f, position) = (index / positions, index % positions);
            self.by_filter[(f, example * positions + position)]
        })
    }

    /// True when a batch of `rows` images makes a product the GEMM wrapper splits across
    /// threads.
    pub(crate) fn uses_threads(&self, rows: usize, training: bool) -> bool {
        let positions = rows * self.output.plane();
        let (filters, patch) = (self.geometry.filters, self.geometry.patch_len());
        let (no, yes) = (Transpose::No, Transpose::Yes);
        let forward = if self.by_position() {
            runs_in_parallel(positions, filters, patch, no, yes)
                || (training && runs_in_parallel(filters, patch, positions, yes, no))
        } else {
            runs_in_parallel(filters, positions, patch, no, no)
                || (training && runs_in_parallel(filters, patch, positions, no, yes))
        };
        forward || (training && runs_in_parallel(patch, positions, filters, yes, no))
    }

    /// True when X̂ holds one patch per row (patches of at least [`POSITION_MAJOR_PATCH`]
    /// values), else one per column.
    fn by_position(&self) -> bool {
        self.geometry.patch_len() >= POSITION_MAJOR_PATCH
    }

    #[track_caller]
    fn check_input(&self, input: &Matrix<T>) {
        assert_eq!(
            input.cols(),
            self.geometry.input.len(),
            "{}: input has {} columns, the layer takes {}",
            self.describe(),
            input.cols(),
            self.geometry.input.len()
        );
    }

    /// z for a batch, into `z` (B × F·H′·W′), using `columns` and `product` as scratch; with
    /// `activated` = (output, a), a = σ(z) as well, into `output` and also into `a` unless `a`
    /// is empty (sized by the caller).
    ///
    /// The batch goes through in groups of examples with about [`GROUP_POSITIONS`] output
    /// positions, each group's stages one after another while its data are in cache: its
    /// patches (position-major X̂), its product, its z and its a. Channel-major X̂ is built for
    /// the whole batch first (its rows run across every example), then each example's z is
    /// one product W · X̂[:, its columns], already in z's (F, H′, W′) order.
    fn weighted_input_into(
        &self,
        input: &Matrix<T>,
        columns: &mut Matrix<T>,
        product: &mut Matrix<T>,
        z: &mut Matrix<T>,
        activated: Option<(&mut Matrix<T>, &mut Matrix<T>)>,
    ) {
        self.check_input(input);
        let batch = input.rows();
        let positions = self.output.plane();
        let (filters, patch) = (self.geometry.filters, self.geometry.patch_len());
        let len = filters * positions;
        z.resize(batch, len);
        let group = (GROUP_POSITIONS / positions.max(1)).max(1);
        let (mut no_output, mut no_a) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
        let (output, a) = activated.unwrap_or((&mut no_output, &mut no_a));
        let (geometry, shape, weight) = (&self.geometry, self.output, &self.weight);
        let (bias, activation) = (self.bias.as_slice(), self.activation);
        // a = σ(z) for a group's rows, handed on and kept where the derivative reads it.
        let activate =
            |z: &[T], output: &mut [T], a: &mut [T]| match (output.is_empty(), a.is_empty()) {
                (true, _) => {}
                (false, true) => activation.forward_rows_into(z, output, len),
                (false, false) => {
                    activation.forward_rows_into(z, a, len);
                    output.copy_from_slice(a);
                }
            };
        if !self.by_position() {
            im2col_by_channel(geometry, shape, input, columns);
            let columns = &*columns;
            let buffers = [
                (z.as_mut_slice(), group * len),
                (output.as_mut_slice(), group * len),
                (a.as_mut_slice(), group * len),
            ];
            for_each_chunks(buffers, |index, [z, output, a]| {
                for (example, z) in z.chunks_mut(len).enumerate() {
                    let first = (index * group + example) * positions;
                    gemm_column_block(z, weight, Transpose::No, columns, first, positions);
                    for (plane, &b) in z.chunks_mut(positions).zip(bias) {
                        plane.iter_mut().for_each(|value| *value += b);
                    }
                }
                activate(z, output, a);
            });
            return;
        }
        columns.resize(batch * positions, patch);
        product.resize(batch * positions, filters);
        let buffers = [
            (columns.as_mut_slice(), group * positions * patch),
            (product.as_mut_slice(), group * positions * filters),
            (z.as_mut_slice(), group * len),
            (output.as_mut_slice(), group * len),
            (a.as_mut_slice(), group * len),
        ];
        for_each_chunks(buffers, |index, [columns, product, z, output, a]| {
            for (example, block) in columns.chunks_mut(positions * patch).enumerate() {
                im2col_by_position(geometry, shape, input.row(index * group + example), block);
            }
            matmul_transpose_rows(product, columns, weight);
            // Each example's (position, filter) block, turned into (filter, position) planes.
            let blocks = product.chunks(positions * filters);
            for (z, block) in z.chunks_mut(len).zip(blocks) {
                for (f, plane) in z.chunks_mut(positions).enumerate() {
                    let column = block[f..].iter().step_by(filters);
                    for (value, &product) in plane.iter_mut().zip(column) {
                        *value = product + bias[f];
                    }
                }
            }
            activate(z, output, a);
        });
    }
}

impl<T: Float> Conv2d<T> {
    /// The backward pass; `grad_input` receives ∂C/∂x unless it is `None` (the first layer,
    /// which has no layer before it).
    fn backward_pass(&mut self, grad_output: &Matrix<T>, grad_input: Option<&mut Matrix<T>>) {
        assert_eq!(
            grad_output.shape(),
            self.z.shape(),
            "{}: ∂C/∂a has the wrong shape (forward in training mode first)",
            self.describe()
        );
        let (batch, positions, filters) =
            (self.z.rows(), self.output.plane(), self.geometry.filters);
        // BP2's second half: δ = ∂C/∂a ⊙ σ′(z), written straight into `by_filter`, one filter
        // per row (the layout of W · X̂ and of Wᵀ · δ): a whole-batch δ and a copy of it into
        // that layout were two more passes over the largest buffers of a step.
        self.by_filter.resize(filters, batch * positions);
        // σ′ of the other activations reads z alone: z stands in for the a not kept.
        let a = if self.keeps_a() { &self.a } else { &self.z };
        let (z, activation) = (&self.z, self.activation);
        if activation.is_elementwise() {
            for_each_chunk(
                self.by_filter.as_mut_slice(),
                batch * positions,
                |f, row| {
                    for (example, block) in row.chunks_mut(positions).enumerate() {
                        let range = f * positions..(f + 1) * positions;
                        activation.backward_slices(
                            &z.row(example)[range.clone()],
                            &a.row(example)[range.clone()],
                            &grad_output.row(example)[range],
                            block,
                        );
                    }
                },
            );
        } else {
            activation.backward_into(z, a, grad_output, &mut self.delta);
            let delta = &self.delta;
            for_each_chunk(
                self.by_filter.as_mut_slice(),
                batch * positions,
                |f, row| {
                    for (example, block) in row.chunks_mut(positions).enumerate() {
                        block.copy_from_slice(&delta.row(example)[f * positions..][..positions]);
                    }
                },
            );
        }
        self.backward_from_delta(grad_input, None);
    }

    /// BP3, BP4 and BP2's first half from δ in `by_filter`: ∂C/∂b, ∂C/∂W and, unless
    /// `grad_input` is `None`, ∂C/∂x. With `winners` (the max-pooling after the layer), δ is
    /// zero away from them, and with position-major X̂ ∂C/∂W and ∂C/∂x sum over them alone.
    fn backward_from_delta(
        &mut self,
        grad_input: Option<&mut Matrix<T>>,
        winners: Option<through_max_pool::Winners<'_>>,
    ) {
        let positions = self.output.plane();
        let batch = self.by_filter.cols() / positions.max(1);
        self.weight_gradient
            .resize(self.weight.rows(), self.weight.cols());
        // BP3: ∂C/∂b_f = Σ over examples and positions of δ_f
        sum_rows(&self.by_filter, self.bias_gradient.as_mut_slice());
        // BP4: ∂C/∂W = δ · X̂ (position-major X̂) or δ · X̂ᵀ (channel-major), the correlation
        // of δ with the input
        let winners = winners.filter(|_| self.by_position());
        match winners {
            Some(winners) => {
                self.list_winners(winners);
                self.weight_gradient_at_winners();
            }
            None => {
                let transpose_columns = if self.by_position() {
                    Transpose::No
                } else {
                    Transpose::Yes
                };
                gemm(
                    &mut self.weight_gradient,
                    &self.by_filter,
                    Transpose::No,
                    &self.columns,
                    transpose_columns,
                    false,
                );
            }
        }
        // BP2's first half: ∂C/∂X̂ = Wᵀ · δ, one column per patch, added back onto the pixels
        // (a full correlation with the flipped kernels). A group of examples at a time: its
        // block of ∂C/∂X̂ (in X̂'s buffer, now free) is added back while it is still in cache.
        let Some(grad_input) = grad_input else {
            return;
        };
        if winners.is_some() {
            self.input_gradient_at_winners(grad_input);
            return;
        }
        let (patch, input_len) = (self.geometry.patch_len(), self.geometry.input.len());
        self.columns.resize(patch, batch * positions);
        grad_input.resize(batch, input_len);
        let (geometry, output) = (&self.geometry, self.output);
        let (weight, by_filter) = (&self.weight, &self.by_filter);
        for_each_chunk_pair(
            grad_input.as_mut_slice(),
            COL2IM_EXAMPLES * input_len,
            self.columns.as_mut_slice(),
            patch * COL2IM_EXAMPLES * positions,
            |group, images, block| {
                let first = group * COL2IM_EXAMPLES * positions;
                let cols = images.len() / input_len * positions;
                gemm_column_block(block, weight, Transpose::Yes, by_filter, first, cols);
                col2im_group(geometry, output, block, images);
            },
        );
    }
}

impl<T: Float> LayerOps<T> for Conv2d<T> {
    fn describe(&self) -> String {
        let g = &self.geometry;
        format!(
            "conv {} {}@{}x{} stride {} {} {} → {}",
            g.input,
            g.filters,
            g.kernel,
            g.kernel,
            g.stride,
            g.padding.name(),
            self.activation,
            self.output
        )
    }

    fn input_width(&self) -> usize {
        self.geometry.input.len()
    }

    fn output_width(&self) -> usize {
        self.output.len()
    }

    fn forward(&mut self, input: &Matrix<T>, mode: Mode) -> Matrix<T> {
        let mut output = Matrix::zeros(0, 0);
        self.forward_into(input, mode, &mut output);
        output
    }

    fn forward_into(&mut self, input: &Matrix<T>, _mode: Mode, output: &mut Matrix<T>) {
        // a = σ(z) handed on, and kept as well only where the derivative reads it
        // (σ′ = a(1 − a) or 1 − a²).
        let (rows, len) = (input.rows(), self.output.len());
        output.resize(rows, len);
        let kept = if self.keeps_a() { rows } else { 0 };
        self.a.resize(kept, len);
        let (mut columns, mut product, mut z, mut a) = (
            std::mem::replace(&mut self.columns, Matrix::zeros(0, 0)),
            std::mem::replace(&mut self.product, Matrix::zeros(0, 0)),
            std::mem::replace(&mut self.z, Matrix::zeros(0, 0)),
            std::mem::replace(&mut self.a, Matrix::zeros(0, 0)),
        );
        let activated = Some((output, &mut a));
        self.weighted_input_into(input, &mut columns, &mut product, &mut z, activated);
        (self.columns, self.product, self.z, self.a) = (columns, product, z, a);
    }

    fn infer(&self, input: &Matrix<T>) -> Matrix<T> {
        let mut z = self.weighted_input(input);
        self.activation.forward_in_place(&mut z);
        z
    }

    fn backward(&mut self, grad_output: &Matrix<T>) -> Matrix<T> {
        let mut grad_input = Matrix::zeros(0, 0);
        self.backward_pass(grad_output, Some(&mut grad_input));
        grad_input
    }

    fn backward_into(&mut self, grad_output: &Matrix<T>, grad_input: &mut Matrix<T>) {
        self.backward_pass(grad_output, Some(grad_input));
    }

    fn backward_parameters_only(&mut self, grad_output: &Matrix<T>) {
        self.backward_pass(grad_output, None);
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
/// `sums[r]` = the sum of row r of `m`, added left to right. Eight rows run side by side, so
/// that eight independent additions are in flight instead of one chain, each row still summed
/// in the same order; a last group of fewer rows runs its rows side by side too (re-reading its
/// last row in the spare lanes), and the groups run on the team's threads.
fn sum_rows<T: Float>(m: &Matrix<T>, sums: &mut [T]) {
    const ROWS: usize = 8;
    for_each_chunk(sums, ROWS, |group, sums| {
        let first = group * ROWS;
        let last = sums.len() - 1;
        let rows: [&[T]; ROWS] = std::array::from_fn(|r| m.row(first + r.min(last)));
        let mut totals = [T::ZERO; ROWS];
        for column in 0..m.cols() {
            for (total, row) in totals.iter_mut().zip(&rows) {
                *total += row[column];
            }
        }
        sums.copy_from_slice(&totals[..sums.len()]);
    });
}
