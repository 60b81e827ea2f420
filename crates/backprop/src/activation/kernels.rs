//! Fused activation passes over a batch (one example per row), each a single sweep that keeps
//! its row in registers or L1:
//! - training forward: z ← z + 1·bᵀ and a ← σ(z) together (the layer keeps both);
//! - inference: a ← σ(a + 1·bᵀ) in place, with no z kept;
//! - backward: δ = ∂C/∂a ⊙ σ′(z) written into a reused buffer.
//!
//! The activation is matched once per call, not per element, so each loop body is one
//! activation's arithmetic, and the loops are [`simd_kernel!`]s, AVX-512 wide where the CPU has
//! it. Per element they do the same operations as the scalar `value` and `derivative` functions
//! beside them, so the batched and the scalar forms agree bit for bit.
//!
//! In a team's step (a training step on several threads), the training passes over a large
//! batch run in blocks of whole rows on the team's threads: each element's operations are the
//! same in a block as in the whole, so the bits do not depend on the blocks or the threads.

use super::{gelu, leaky_relu, relu, sigmoid, softmax, tanh, Activation};
use backprop_tensor::{simd_kernel, team, Float, Matrix};

/// Values in one block of a training pass split across a team ([`team_blocks`]): a few
/// microseconds of work, against about one for handing a block to another thread.
const TEAM_BLOCK: usize = 4096;

/// The values in each block when a pass over `values` values in rows of `cols` is worth
/// splitting across the team this thread leads (at least two blocks' worth): whole rows, a
/// multiple of 16 of them (softmax's row blocks). None outside a team's step.
fn team_blocks(values: usize, cols: usize) -> Option<usize> {
    if cols == 0 || values < 2 * TEAM_BLOCK || !team::is_active() {
        return None;
    }
    let rows = TEAM_BLOCK.div_ceil(cols).next_multiple_of(16);
    Some(rows * cols)
}

impl Activation {
    /// Training forward pass: z ← z + 1·bᵀ, then a ← σ(z), one pass per row. `a` is resized to
    /// z's shape.
    ///
    /// # Panics
    /// When `bias` is not 1 × z.cols().
    #[track_caller]
    pub fn add_bias_and_forward<T: Float>(
        &self,
        z: &mut Matrix<T>,
        bias: &Matrix<T>,
        a: &mut Matrix<T>,
    ) {
        check_bias(z, bias);
        a.resize(z.rows(), z.cols());
        let cols = z.cols();
        if cols == 0 {
            return;
        }
        let (z, a, bias) = (z.as_mut_slice(), a.as_mut_slice(), bias.as_slice());
        match team_blocks(z.len(), cols) {
            Some(block) => team::for_each_chunk_pair(z, block, a, block, |_, z, a| {
                forward_rows(*self, z, bias, a, cols)
            }),
            None => forward_rows(*self, z, bias, a, cols),
        }
    }

    /// Inference: a ← σ(a + 1·bᵀ) in place (a holds z = X·Wᵀ on entry).
    ///
    /// # Panics
    /// When `bias` is not 1 × a.cols().
    #[track_caller]
    pub fn add_bias_and_forward_in_place<T: Float>(&self, a: &mut Matrix<T>, bias: &Matrix<T>) {
        check_bias(a, bias);
        let cols = a.cols();
        if cols > 0 {
            in_place_rows(*self, a.as_mut_slice(), Some(bias.as_slice()), cols);
        }
    }

    /// a ← σ(a) in place.
    pub fn forward_in_place<T: Float>(&self, a: &mut Matrix<T>) {
        let cols = a.cols();
        if cols > 0 {
            in_place_rows(*self, a.as_mut_slice(), None, cols);
        }
    }

    /// a ← σ(z) for rows of `cols` values held in slices (one example's part of a batch, say):
    /// the same arithmetic as [`Activation::forward_in_place`].
    ///
    /// # Panics
    /// When the slices differ in length.
    pub fn forward_rows_into<T: Float>(&self, z: &[T], a: &mut [T], cols: usize) {
        assert_eq!(z.len(), a.len(), "{self} forward: z and a differ in length");
        if cols > 0 {
            map_rows(*self, z, a, cols);
        }
    }

    /// z ← z + 1·bᵀ and a ← σ(z) for rows held in slices (a block of a batch's rows): the same
    /// arithmetic as [`Activation::add_bias_and_forward`], in one pass.
    ///
    /// # Panics
    /// When z and a differ in length, or z is not whole rows of the bias's length.
    pub fn add_bias_and_forward_rows<T: Float>(&self, z: &mut [T], bias: &[T], a: &mut [T]) {
        let cols = bias.len();
        assert!(
            z.len() == a.len() && (cols == 0 || z.len().is_multiple_of(cols)),
            "{self} forward: z of {}, a of {} values, rows of {cols}",
            z.len(),
            a.len()
        );
        if cols > 0 {
            forward_rows(*self, z, bias, a, cols);
        }
    }

    /// a ← σ(a + 1·bᵀ) in place for rows held in a slice (a holds z on entry): the same
    /// arithmetic as [`Activation::add_bias_and_forward_rows`], with no z kept.
    ///
    /// # Panics
    /// When `a` is not whole rows of the bias's length.
    pub fn add_bias_and_forward_rows_in_place<T: Float>(&self, a: &mut [T], bias: &[T]) {
        let cols = bias.len();
        assert!(
            cols == 0 || a.len().is_multiple_of(cols),
            "{self} forward: a of {} values, rows of {cols}",
            a.len()
        );
        if cols > 0 {
            in_place_rows(*self, a, Some(bias), cols);
        }
    }

    /// True when σ′ can be had from a = σ(z) alone: [`Activation::backward_slices`] then gives
    /// the same bits with a in place of z (ReLU's z > 0 is a > 0; sigmoid's and tanh's
    /// derivatives read a; identity's is 1), so a pass that keeps a need not keep z. Softmax's
    /// backward pass reads a too.
    pub fn derivative_from_output(&self) -> bool {
        matches!(
            self,
            Activation::Identity
                | Activation::Sigmoid
                | Activation::Tanh
                | Activation::Relu
                | Activation::Softmax
        )
    }

    /// δ = ∂C/∂a ⊙ σ′(z) element by element into a slice, for an element-wise activation (not
    /// softmax): the same arithmetic as [`Activation::backward_into`].
    ///
    /// # Panics
    /// For softmax, or when the slices differ in length.
    pub fn backward_slices<T: Float>(&self, z: &[T], a: &[T], grad_output: &[T], delta: &mut [T]) {
        assert!(
            z.len() == a.len() && a.len() == grad_output.len() && grad_output.len() == delta.len(),
            "{self} backward: slices of {}, {}, {} and {} values",
            z.len(),
            a.len(),
            grad_output.len(),
            delta.len()
        );
        assert!(self.is_elementwise(), "{self} is not element-wise");
        delta_elements(*self, z, a, grad_output, delta);
    }

    /// δ = ∂C/∂a ⊙ σ′(z) (or the softmax Jacobian product) into `delta`, resized to fit.
    ///
    /// # Panics
    /// When z, a and ∂C/∂a differ in shape.
    #[track_caller]
    pub fn backward_into<T: Float>(
        &self,
        z: &Matrix<T>,
        a: &Matrix<T>,
        grad_output: &Matrix<T>,
        delta: &mut Matrix<T>,
    ) {
        assert!(
            z.shape() == a.shape() && a.shape() == grad_output.shape(),
            "{self} backward: z is {:?}, a is {:?}, ∂C/∂a is {:?}",
            z.shape(),
            a.shape(),
            grad_output.shape()
        );
        if *self == Activation::Softmax {
            softmax::backward_into(a, grad_output, delta);
            return;
        }
        delta.resize(z.rows(), z.cols());
        let (z, a, g) = (z.as_slice(), a.as_slice(), grad_output.as_slice());
        let delta = delta.as_mut_slice();
        match team_blocks(delta.len(), grad_output.cols()) {
            Some(block) => team::for_each_chunk(delta, block, |index, delta| {
                let part = index * block..index * block + delta.len();
                let (z, a, g) = (&z[part.clone()], &a[part.clone()], &g[part]);
                delta_elements(*self, z, a, g, delta)
            }),
            None => delta_elements(*self, z, a, g, delta),
        }
    }
}

#[track_caller]
fn check_bias<T: Float>(z: &Matrix<T>, bias: &Matrix<T>) {
    assert!(
        bias.shape() == (1, z.cols()),
        "bias is {}×{}, expected 1×{}",
        bias.rows(),
        bias.cols(),
        z.cols()
    );
}

simd_kernel! {
    /// z ← z + b and a ← σ(z), row by row.
    fn forward_rows<T: Float>(activation: Activation, z: &mut [T], bias: &[T], a: &mut [T], cols: usize) {
        match activation {
            Activation::Identity => biased(z, bias, a, cols, |v| v),
            Activation::Sigmoid => biased(z, bias, a, cols, sigmoid::value),
            Activation::Tanh => biased(z, bias, a, cols, tanh::value),
            Activation::Relu => biased(z, bias, a, cols, relu::value),
            Activation::LeakyRelu { negative_slope } => {
                let slope = T::from_f64(negative_slope);
                biased(z, bias, a, cols, |v| leaky_relu::value(v, slope))
            }
            Activation::Gelu => biased(z, bias, a, cols, gelu::value),
            Activation::Softmax => {
                biased(z, bias, a, cols, |v| v);
                softmax::rows_in_place(a, cols);
            }
        }
    }
}

simd_kernel! {
    /// a ← σ(a + b) row by row, or a ← σ(a) without a bias.
    fn in_place_rows<T: Float>(activation: Activation, a: &mut [T], bias: Option<&[T]>, cols: usize) {
        match activation {
            Activation::Identity => in_place(a, bias, cols, |v| v),
            Activation::Sigmoid => in_place(a, bias, cols, sigmoid::value),
            Activation::Tanh => in_place(a, bias, cols, tanh::value),
            Activation::Relu => in_place(a, bias, cols, relu::value),
            Activation::LeakyRelu { negative_slope } => {
                let slope = T::from_f64(negative_slope);
                in_place(a, bias, cols, |v| leaky_relu::value(v, slope))
            }
            Activation::Gelu => in_place(a, bias, cols, gelu::value),
            Activation::Softmax => {
                in_place(a, bias, cols, |v| v);
                softmax::rows_in_place(a, cols);
            }
        }
    }
}

simd_kernel! {
    /// a ← σ(z), z left as it is.
    fn map_rows<T: Float>(activation: Activation, z: &[T], a: &mut [T], cols: usize) {
        match activation {
            Activation::Identity => a.copy_from_slice(z),
            Activation::Sigmoid => map(z, a, sigmoid::value),
            Activation::Tanh => map(z, a, tanh::value),
            Activation::Relu => map(z, a, relu::value),
            Activation::LeakyRelu { negative_slope } => {
                let slope = T::from_f64(negative_slope);
                map(z, a, |v| leaky_relu::value(v, slope))
            }
            Activation::Gelu => map(z, a, gelu::value),
            Activation::Softmax => {
                a.copy_from_slice(z);
                a.chunks_exact_mut(cols).for_each(softmax::row_in_place);
            }
        }
    }
}

/// a ← f(z), element by element.
#[inline(always)]
fn map<T: Float>(z: &[T], a: &mut [T], f: impl Fn(T) -> T) {
    for (a, &z) in a.iter_mut().zip(z) {
        *a = f(z);
    }
}

simd_kernel! {
    /// d ← g·σ′(z, a), element by element: the product in the order `Activation::backward`
    /// has always used.
    fn delta_elements<T: Float>(activation: Activation, z: &[T], a: &[T], g: &[T], d: &mut [T]) {
        match activation {
            Activation::Identity => d.copy_from_slice(g),
            Activation::Sigmoid => times(z, a, g, d, |_, a| sigmoid::derivative(a)),
            Activation::Tanh => times(z, a, g, d, |_, a| tanh::derivative(a)),
            Activation::Relu => times(z, a, g, d, |z, _| relu::derivative(z)),
            Activation::LeakyRelu { negative_slope } => {
                let slope = T::from_f64(negative_slope);
                times(z, a, g, d, |z, _| leaky_relu::derivative(z, slope))
            }
            Activation::Gelu => times(z, a, g, d, |z, _| gelu::derivative(z)),
            Activation::Softmax => unreachable!("softmax has its own backward pass"),
        }
    }
}

/// Rows narrower than this many values go through [`biased`] and [`in_place`] in two passes:
/// the bias row by row, then f over the whole buffer. A loop over a row of 10 or 30 values runs
/// mostly in its short and scalar tails; over the whole batch it runs in full vectors. Each
/// element gets the same operations either way.
const NARROW_ROW: usize = 64;

/// z ← z + b and a ← f(z), row by row (in one pass; in two for narrow rows).
#[inline(always)]
fn biased<T: Float>(z: &mut [T], bias: &[T], a: &mut [T], cols: usize, f: impl Fn(T) -> T) {
    if cols < NARROW_ROW {
        add_bias(z, bias, cols);
        map(z, a, f);
        return;
    }
    for (z_row, a_row) in z.chunks_exact_mut(cols).zip(a.chunks_exact_mut(cols)) {
        for ((z, a), &b) in z_row.iter_mut().zip(a_row.iter_mut()).zip(bias) {
            let v = *z + b;
            *z = v;
            *a = f(v);
        }
    }
}

/// a ← f(a + b) row by row, or a ← f(a).
#[inline(always)]
fn in_place<T: Float>(a: &mut [T], bias: Option<&[T]>, cols: usize, f: impl Fn(T) -> T) {
    match bias {
        Some(bias) if cols >= NARROW_ROW => {
            for row in a.chunks_exact_mut(cols) {
                row.iter_mut().zip(bias).for_each(|(v, &b)| *v = f(*v + b));
            }
        }
        _ => {
            if let Some(bias) = bias {
                add_bias(a, bias, cols);
            }
            a.iter_mut().for_each(|v| *v = f(*v));
        }
    }
}

/// v ← v + b for every row of `cols` values.
#[inline(always)]
fn add_bias<T: Float>(values: &mut [T], bias: &[T], cols: usize) {
    for row in values.chunks_exact_mut(cols) {
        row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b);
    }
}

/// d ← g·σ′(z, a), element by element.
#[inline(always)]
fn times<T: Float>(z: &[T], a: &[T], g: &[T], d: &mut [T], derivative: impl Fn(T, T) -> T) {
    for (((d, &g), &z), &a) in d.iter_mut().zip(g).zip(z).zip(a) {
        *d = g * derivative(z, a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element-wise activation (all but softmax).
    const ELEMENT_WISE: [Activation; 6] = [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu {
            negative_slope: 0.01,
        },
        Activation::Gelu,
    ];

    /// The fused passes (one pass per row, or two for rows narrower than `NARROW_ROW`) give
    /// each element σ(z + b) bit for bit as the element-wise form computes it, in training
    /// (z kept) and in inference (in place).
    #[test]
    fn bias_and_activation_passes_match_the_element_wise_form_at_any_row_width() {
        for activation in ELEMENT_WISE {
            for cols in [1, 10, 30, NARROW_ROW - 1, NARROW_ROW, 100] {
                let rows = 7;
                let z0: Vec<f32> = (0..rows * cols)
                    .map(|v| ((v * 37) % 101) as f32 / 9.0 - 5.0)
                    .collect();
                let bias: Vec<f32> = (0..cols).map(|j| (j % 5) as f32 * 0.3 - 0.6).collect();
                let summed: Vec<f32> = z0
                    .iter()
                    .enumerate()
                    .map(|(v, &z)| z + bias[v % cols])
                    .collect();
                let mut want = vec![0.0f32; rows * cols];
                activation.forward_rows_into(&summed, &mut want, cols);
                let (mut z, mut a) = (z0.clone(), vec![0.0f32; rows * cols]);
                activation.add_bias_and_forward_rows(&mut z, &bias, &mut a);
                let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&z), bits(&summed), "{activation} z, rows of {cols}");
                assert_eq!(bits(&a), bits(&want), "{activation} a, rows of {cols}");
                let mut inference = Matrix::from_vec(rows, cols, z0.clone()).unwrap();
                let bias_row = Matrix::from_vec(1, cols, bias.clone()).unwrap();
                activation.add_bias_and_forward_in_place(&mut inference, &bias_row);
                assert_eq!(
                    bits(inference.as_slice()),
                    bits(&want),
                    "{activation} in place, rows of {cols}"
                );
            }
        }
    }

    /// The training passes split across a team's threads give the bits of the whole pass on
    /// one thread, for every activation (softmax's forward pass included), at row widths that
    /// make ragged last blocks.
    #[test]
    fn training_passes_split_across_a_team_give_the_same_bits() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for activation in ELEMENT_WISE.into_iter().chain([Activation::Softmax]) {
            for (rows, cols) in [(300, 64), (97, 100), (1000, 10), (20, 10)] {
                let value = |v: usize| ((v * 37) % 101) as f64 / 9.0 - 5.0;
                let z0 = Matrix::from_fn(rows, cols, |i, j| value(i * cols + j) as f32);
                let bias = Matrix::from_fn(1, cols, |_, j| (j % 5) as f32 * 0.3 - 0.6);
                let g = Matrix::from_fn(rows, cols, |i, j| value(i * 7 + j * 3) as f32 * 0.1);
                let passes = || {
                    let (mut z, mut a, mut delta) =
                        (z0.clone(), Matrix::zeros(0, 0), Matrix::zeros(0, 0));
                    activation.add_bias_and_forward(&mut z, &bias, &mut a);
                    activation.backward_into(&z, &a, &g, &mut delta);
                    (z, a, delta)
                };
                let alone = passes();
                let split = pool.install(|| {
                    backprop_tensor::team::run(|| {
                        assert!(
                            team_blocks(rows * cols, cols).is_some()
                                == (rows * cols >= 2 * TEAM_BLOCK)
                        );
                        passes()
                    })
                });
                let parts = [
                    ("z", &alone.0, &split.0),
                    ("a", &alone.1, &split.1),
                    ("δ", &alone.2, &split.2),
                ];
                for (name, one, other) in parts {
                    let (one, other) = (one.as_slice(), other.as_slice());
                    assert_eq!(one.len(), other.len());
                    let differs = (0..one.len()).find(|&k| one[k].to_bits() != other[k].to_bits());
                    let what = format!("{activation} {name}, {rows} × {cols}: first difference");
                    assert_eq!(differs, None, "{what}");
                }
            }
        }
    }
}
