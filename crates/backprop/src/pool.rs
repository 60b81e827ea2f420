//! Max- and average-pooling over non-overlapping s × s windows of every channel plane (stride s,
//! as PyTorch's `MaxPool2d(s)` and `AvgPool2d(s)`); the output is floored, ⌊H/s⌋ × ⌊W/s⌋, and
//! rows or columns left over are never read (PyTorch's `ceil_mode=False`).
//!
//! - max: y = max of the window. Only the winner moved y, so ∂C/∂x is ∂C/∂y at the winning
//!   input and 0 at the others. Ties go to the first maximum in row-major order, and a NaN wins
//!   (it propagates, as in PyTorch);
//! - average: y = (1/s²) Σ window, so each input of the window receives ∂C/∂y / s².
//!
//! Pooling holds no parameters: the backward pass only routes δ to the layer before.

use crate::conv::ImageShape;
use crate::layer::{LayerOps, Mode};
use backprop_tensor::team::{for_each_chunk, for_each_chunk_pair};
use backprop_tensor::{Float, Matrix};

/// Which statistic a pooling window takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The largest value.
    Max,
    /// The mean.
    Average,
}

impl PoolKind {
    /// `maxpool` or `avgpool`, as `--layers` writes them.
    pub fn name(self) -> &'static str {
        match self {
            PoolKind::Max => "maxpool",
            PoolKind::Average => "avgpool",
        }
    }
}

/// A pooling layer.
#[derive(Clone, Debug)]
pub struct Pool2d<T: Float> {
    kind: PoolKind,
    size: usize,
    input: ImageShape,
    output: ImageShape,
    /// For max-pooling: the winning input (index within the example's row) of every output.
    winners: Vec<u32>,
    batch: usize,
    _values: std::marker::PhantomData<T>,
}

/// One output row of 2 × 2 max-pooling from the two input rows it covers; with `winners`,
/// also each window's winning input index (`top` is the index of `upper[0]` in the example,
/// `width` the input row length).
#[inline(always)]
fn max_2x2_row<T: Float>(
    upper: &[T],
    lower: &[T],
    out: &mut [T],
    winners: Option<(&mut [u32], u32, u32)>,
) {
    // Strictly greater keeps the first maximum; a NaN wins once.
    #[inline(always)]
    fn better<T: Float>(value: T, leader: T) -> bool {
        (value > leader) | (value.is_nan() & !leader.is_nan())
    }
    let pairs = upper.chunks_exact(2).zip(lower.chunks_exact(2));
    match winners {
        Some((winners, top, width)) => {
            for (j, ((value, winner), (up, low))) in out
                .iter_mut()
                .zip(winners.iter_mut())
                .zip(pairs)
                .enumerate()
            {
                let base = top + 2 * j as u32;
                let (mut m, mut at) = (up[0], base);
                let b = better(up[1], m);
                (m, at) = (if b { up[1] } else { m }, if b { base + 1 } else { at });
                let b = better(low[0], m);
                (m, at) = (
                    if b { low[0] } else { m },
                    if b { base + width } else { at },
                );
                let b = better(low[1], m);
                (m, at) = (
                    if b { low[1] } else { m },
                    if b { base + width + 1 } else { at },
                );
                *value = m;
                *winner = at;
            }
        }
        None => {
            for (value, (up, low)) in out.iter_mut().zip(pairs) {
                let mut m = up[0];
                for candidate in [up[1], low[0], low[1]] {
                    m = if better(candidate, m) { candidate } else { m };
                }
                *value = m;
            }
        }
    }
}

/// The output of pooling `input` with s × s windows, or why there is none.
pub fn pooled_shape(input: ImageShape, size: usize) -> Result<ImageShape, String> {
    if size == 0 {
        return Err("the pooling size must be at least 1".into());
    }
    if input.height < size || input.width < size {
        return Err(format!(
            "a {size}×{size} pooling window does not fit a {}×{} input",
            input.height, input.width
        ));
    }
    Ok(ImageShape::new(
        input.channels,
        input.height / size,
        input.width / size,
    ))
}

impl<T: Float> Pool2d<T> {
    /// Pooling of `input` images with s × s windows.
    ///
    /// # Panics
    /// When the window does not fit (the network config checks it first).
    #[track_caller]
    pub fn new(kind: PoolKind, size: usize, input: ImageShape) -> Self {
        let output = pooled_shape(input, size).unwrap_or_else(|reason| panic!("{reason}"));
        Self {
            kind,
            size,
            input,
            output,
            winners: Vec::new(),
            batch: 0,
            _values: std::marker::PhantomData,
        }
    }

    /// Max or average.
    pub fn kind(&self) -> PoolKind {
        self.kind
    }

    /// s: the windows are s × s.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The image it reads.
    pub fn input_shape(&self) -> ImageShape {
        self.input
    }

    /// The image it writes.
    pub fn output_shape(&self) -> ImageShape {
        self.output
    }

    /// The input index (within the example) each window of `image` reads first, in output
    /// order, paired with the output index.
    fn windows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (input, output, s) = (self.input, self.output, self.size);
        (0..output.len()).map(move |o| {
            let c = o / output.plane();
            let (i, j) = ((o % output.plane()) / output.width, o % output.width);
            (o, c * input.plane() + i * s * input.width + j * s)
        })
    }

    /// Pools one image into `out`; for max-pooling the winners go into `winners`.
    ///
    /// Each output row is built in passes over the window offsets (u, v), in row-major order,
    /// each pass updating every window of the row: the windows are independent, so a pass has
    /// no chain of dependent comparisons.
    fn pool_image(&self, image: &[T], out: &mut [T], mut winners: Option<&mut [u32]>) {
        if self.size == 2 && self.kind == PoolKind::Max {
            return self.max_pool_2x2(image, out, winners);
        }
        let (input, output, s) = (self.input, self.output, self.size);
        let scale = T::from_f64(1.0 / (s * s) as f64);
        let width = output.width;
        for c in 0..input.channels {
            let plane = &image[c * input.plane()..][..input.plane()];
            for i in 0..output.height {
                let first = (c * output.height + i) * width;
                let row_out = &mut out[first..][..width];
                let corner = c * input.plane() + i * s * input.width;
                let mut row_winners = winners.as_deref_mut().map(|w| &mut w[first..][..width]);
                for u in 0..s {
                    let pixels = &plane[(i * s + u) * input.width..][..input.width];
                    for v in 0..s {
                        let (offset, start) = (u * input.width + v, u == 0 && v == 0);
                        match (self.kind, start) {
                            (PoolKind::Max, true) | (PoolKind::Average, true) => {
                                for (j, value) in row_out.iter_mut().enumerate() {
                                    *value = pixels[j * s + v];
                                }
                                if let Some(best) = row_winners.as_deref_mut() {
                                    for (j, best) in best.iter_mut().enumerate() {
                                        *best = (corner + j * s) as u32;
                                    }
                                }
                            }
                            (PoolKind::Max, false) => {
                                for (j, leader) in row_out.iter_mut().enumerate() {
                                    let value = pixels[j * s + v];
                                    // Strictly greater keeps the first maximum; a NaN wins once.
                                    let better =
                                        (value > *leader) | (value.is_nan() & !leader.is_nan());
                                    *leader = if better { value } else { *leader };
                                    if let Some(best) = row_winners.as_deref_mut() {
                                        let index = (corner + offset + j * s) as u32;
                                        best[j] = if better { index } else { best[j] };
                                    }
                                }
                            }
                            (PoolKind::Average, false) => {
                                for (j, sum) in row_out.iter_mut().enumerate() {
                                    *sum += pixels[j * s + v];
                                }
                            }
                        }
                    }
                }
                if self.kind == PoolKind::Average {
                    for value in row_out.iter_mut() {
                        *value *= scale;
                    }
                }
            }
        }
    }

    /// [`Pool2d::pool_image`] for the most common pooling, max over 2 × 2: the four values of
    /// each window compared in row-major order, as the general loop compares them, written
    /// without branches so that the compiler can compare many windows at once.
    fn max_pool_2x2(&self, image: &[T], out: &mut [T], winners: Option<&mut [u32]>) {
        let (input, output) = (self.input, self.output);
        let (width, ow) = (input.width, output.width);
        let mut scratch = [0u32; 0];
        let (winners, keep) = match winners {
            Some(winners) => (winners, true),
            None => (&mut scratch[..], false),
        };
        for c in 0..input.channels {
            for i in 0..output.height {
                let top = c * input.plane() + 2 * i * width;
                let upper = &image[top..][..2 * ow];
                let lower = &image[top + width..][..2 * ow];
                let first = (c * output.height + i) * ow;
                let row_out = &mut out[first..][..ow];
                if keep {
                    let row_winners = &mut winners[first..][..ow];
                    max_2x2_row(
                        upper,
                        lower,
                        row_out,
                        Some((row_winners, top as u32, width as u32)),
                    );
                } else {
                    max_2x2_row(upper, lower, row_out, None);
                }
            }
        }
    }

    /// The winners of the last training pass (max-pooling): for every example, in output
    /// order, the index of each window's winning input within the example's row.
    pub(crate) fn winner_indices(&self) -> &[u32] {
        &self.winners
    }

    /// The winning input of every max-pooling window of every example, in output order (the
    /// pattern a gradient check compares to find the pooling's kinks).
    pub fn winners(&self, input: &Matrix<T>) -> Vec<u32> {
        self.check_input(input);
        let width = self.output.len();
        let mut winners = vec![0; input.rows() * width];
        let mut out = vec![T::ZERO; width];
        for (example, chunk) in winners.chunks_mut(width.max(1)).enumerate() {
            self.pool_image(input.row(example), &mut out, Some(chunk));
        }
        winners
    }

    #[track_caller]
    fn check_input(&self, input: &Matrix<T>) {
        assert_eq!(
            input.cols(),
            self.input.len(),
            "{}: input has {} columns",
            self.describe(),
            input.cols()
        );
    }
}

impl<T: Float> LayerOps<T> for Pool2d<T> {
    fn describe(&self) -> String {
        format!(
            "{} {}x{} {} → {}",
            self.kind.name(),
            self.size,
            self.size,
            self.input,
            self.output
        )
    }

    fn input_width(&self) -> usize {
        self.input.len()
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
        self.check_input(input);
        let (rows, width) = (input.rows(), self.output.len());
        output.resize(rows, width);
        let mut winners = std::mem::take(&mut self.winners);
        winners.clear();
        if self.kind == PoolKind::Max {
            winners.resize(rows * width, 0);
        }
        let winner_width = if winners.is_empty() { 0 } else { width };
        for_each_chunk_pair(
            output.as_mut_slice(),
            width,
            &mut winners,
            winner_width,
            |example, out, winners| {
                let winners = (!winners.is_empty()).then_some(winners);
                self.pool_image(input.row(example), out, winners);
            },
        );
        self.winners = winners;
        self.batch = rows;
    }

    fn infer(&self, input: &Matrix<T>) -> Matrix<T> {
        self.check_input(input);
        let mut output = Matrix::zeros(input.rows(), self.output.len());
        for (example, out) in output
            .as_mut_slice()
            .chunks_mut(self.output.len().max(1))
            .enumerate()
        {
            self.pool_image(input.row(example), out, None);
        }
        output
    }

    fn backward(&mut self, grad_output: &Matrix<T>) -> Matrix<T> {
        let mut grad_input = Matrix::zeros(0, 0);
        self.backward_into(grad_output, &mut grad_input);
        grad_input
    }

    fn backward_into(&mut self, grad_output: &Matrix<T>, grad_input: &mut Matrix<T>) {
        assert_eq!(
            grad_output.shape(),
            (self.batch, self.output.len()),
            "{}: ∂C/∂y has the wrong shape (forward in training mode first)",
            self.describe()
        );
        grad_input.resize(self.batch, self.input.len());
        let (s, width, outputs) = (self.size, self.input.width, self.output.len());
        let scale = T::from_f64(1.0 / (s * s) as f64);
        for_each_chunk(
            grad_input.as_mut_slice(),
            self.input.len(),
            |example, image| {
                image.fill(T::ZERO);
                let grad = grad_output.row(example);
                match self.kind {
                    // ∂y/∂x is 1 for the winner and 0 for the rest of its window.
                    PoolKind::Max => {
                        let winners = &self.winners[example * outputs..][..outputs];
                        for (&g, &winner) in grad.iter().zip(winners) {
                            image[winner as usize] += g;
                        }
                    }
                    // ∂y/∂x = 1/s² for every input of the window.
                    PoolKind::Average => {
                        for (o, corner) in self.windows() {
                            let share = grad[o] * scale;
                            for u in 0..s {
                                for v in 0..s {
                                    image[corner + u * width + v] += share;
                                }
                            }
                        }
                    }
                }
            },
        );
    }
}
