//! Synthetic data shaped like MNIST, the workload the peer figures were measured on
//! (`shared/bench/peers.md`): n × 784 `f32` in [0, 1], about 16 % non-zero and denser in the
//! centre, 10 classes labelled by a fixed random linear teacher on the centred image.
//!
//! - Pixel (r, c) of a 28 × 28 image is non-zero with probability
//!   p(r, c) = s·exp(−((r − 13.5)² + (c − 13.5)²) / (2·5²)), s chosen so the mean of p is 0.16;
//!   a non-zero pixel is 0.25 + 0.75·u with u uniform in [0, 1).
//! - The teacher W (10 × 784) is standard normal; the label of x is argmaxₖ wₖ·(x − m), with m the
//!   expected image (mᵢ = pᵢ·0.625), and the target row is its one-hot vector.
//!
//! Each pixel is a hash (SplitMix64) of the seed and its index, so the data are the same for
//! every thread count, and rows are generated in parallel: 60,000 rows take well under a second.
//! The teacher comes from [`SeededRng`], as weights do.

use backprop_tensor::matmul::{gemm, Transpose};
use backprop_tensor::{Matrix, SeededRng};
use rayon::prelude::*;

/// Pixels per side; inputs have `SIDE²` = 784 columns.
pub const SIDE: usize = 28;
/// Classes, and so output units.
pub const CLASSES: usize = 10;
/// The fraction of non-zero pixels.
pub const DENSITY: f64 = 0.16;
/// Standard deviation, in pixels, of the bump that makes the centre denser.
const SPREAD: f64 = 5.0;
/// The RNG stream of the teacher's weights.
const TEACHER_STREAM: u64 = 7;

/// The synthetic data: inputs (n × 784) and one-hot targets (n × 10).
#[derive(Clone, Debug)]
pub struct SyntheticData {
    /// Pixels in [0, 1], one image per row.
    pub x: Matrix<f32>,
    /// One-hot targets.
    pub y: Matrix<f32>,
}

impl SyntheticData {
    /// The bytes the two matrices hold.
    pub fn bytes(&self) -> u64 {
        ((self.x.len() + self.y.len()) * std::mem::size_of::<f32>()) as u64
    }

    /// The fraction of non-zero pixels; the tests hold it to [`DENSITY`].
    #[cfg(test)]
    pub fn density(&self) -> f64 {
        let non_zero = self.x.as_slice().iter().filter(|&&v| v != 0.0).count();
        non_zero as f64 / self.x.len().max(1) as f64
    }
}

/// SplitMix64 of `state`: a well-mixed 64-bit hash.
fn mix(mut state: u64) -> u64 {
    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    state = (state ^ (state >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    state = (state ^ (state >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    state ^ (state >> 31)
}

/// p(r, c) for every pixel, scaled so that its mean is [`DENSITY`].
fn pixel_probabilities() -> Vec<f64> {
    let centre = (SIDE as f64 - 1.0) / 2.0;
    let bump: Vec<f64> = (0..SIDE * SIDE)
        .map(|i| {
            let (r, c) = ((i / SIDE) as f64 - centre, (i % SIDE) as f64 - centre);
            (-(r * r + c * c) / (2.0 * SPREAD * SPREAD)).exp()
        })
        .collect();
    let scale = DENSITY * bump.len() as f64 / bump.iter().sum::<f64>();
    bump.into_iter().map(|p| (p * scale).min(1.0)).collect()
}

/// Images `first_row`, `first_row + 1`, … of the data set of `seed`, into `images` (a whole
/// number of 784-pixel rows).
fn fill_images(images: &mut [f32], first_row: usize, seed: u64, thresholds: &[u64]) {
    let pixels = SIDE * SIDE;
    let seed = mix(seed);
    images
        .par_chunks_mut(pixels)
        .enumerate()
        .for_each(|(offset, image)| {
            let row = first_row + offset;
            for (column, pixel) in image.iter_mut().enumerate() {
                let bits = mix(seed ^ (row * pixels + column) as u64);
                let u = (bits & 0xFFFF_FFFF) as f32 / 4_294_967_296.0;
                // A select rather than a branch: 16 % taken at random mispredicts often.
                let hit = (bits >> 32) < thresholds[column];
                *pixel = if hit { 0.25 + 0.75 * u } else { 0.0 };
            }
        });
}

/// For each pixel, p·2³²: comparing 32 random bits against it draws "non-zero" with probability p.
fn thresholds(probabilities: &[f64]) -> Vec<u64> {
    probabilities
        .iter()
        .map(|p| (p * 4_294_967_296.0) as u64)
        .collect()
}

/// The inputs of [`generate`]`(rows, seed)` cut into batches of `batch_size` rows, made one
/// batch at a time so that the whole set is never held twice (for inference benchmarks).
pub fn generate_input_batches(rows: usize, batch_size: usize, seed: u64) -> Vec<Matrix<f32>> {
    let thresholds = thresholds(&pixel_probabilities());
    (0..rows)
        .step_by(batch_size.max(1))
        .map(|first| {
            let count = batch_size.min(rows - first);
            let mut images = vec![0.0f32; count * SIDE * SIDE];
            fill_images(&mut images, first, seed, &thresholds);
            Matrix::from_vec(count, SIDE * SIDE, images).expect("count × 784 values")
        })
        .collect()
}

/// `rows` synthetic images with their teacher labels, from `seed`.
pub fn generate(rows: usize, seed: u64) -> SyntheticData {
    let pixels = SIDE * SIDE;
    let probabilities = pixel_probabilities();
    // Huge pages: the training loop gathers rows in random order (see `zeros_huge_pages`).
    let mut x = Matrix::zeros_huge_pages(rows, pixels);
    fill_images(x.as_mut_slice(), 0, seed, &thresholds(&probabilities));
    let mut rng = SeededRng::with_stream(seed, TEACHER_STREAM);
    let teacher = Matrix::<f32>::random_normal(CLASSES, pixels, 0.0, 1.0, &mut rng);
    // Scores on the centred image: W·(x − m) = W·x − W·m.
    let mean = Matrix::row_vector(
        &probabilities
            .iter()
            .map(|p| (p * 0.625) as f32)
            .collect::<Vec<_>>(),
    );
    let offset = mean.matmul_transpose(&teacher);
    let mut scores = Matrix::zeros(rows, CLASSES);
    gemm(
        &mut scores,
        &x,
        Transpose::No,
        &teacher,
        Transpose::Yes,
        false,
    );
    let mut y = Matrix::zeros(rows, CLASSES);
    for row in 0..rows {
        let centred = scores.row(row).iter().zip(offset.as_slice());
        let label = centred
            .map(|(s, o)| s - o)
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (k, v)| {
                if v > best.1 {
                    (k, v)
                } else {
                    best
                }
            })
            .0;
        y[(row, label)] = 1.0;
    }
    SyntheticData { x, y }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shaped_like_mnist_and_reproducible() {
        let data = generate(2000, 3);
        assert_eq!((data.x.shape(), data.y.shape()), ((2000, 784), (2000, 10)));
        assert!(
            (data.density() - DENSITY).abs() < 0.01,
            "{}",
            data.density()
        );
        assert!(data.x.as_slice().iter().all(|&v| (0.0..=1.0).contains(&v)));
        // Denser in the centre than at the border.
        let column_mean = |c: usize| (0..2000).map(|r| data.x[(r, c)]).sum::<f32>() / 2000.0;
        assert!(column_mean(14 * SIDE + 14) > 10.0 * column_mean(0).max(1e-3));
        // Every class occurs, none dominates.
        let counts = data.y.column_sums();
        assert!(
            counts.as_slice().iter().all(|&c| c > 50.0 && c < 600.0),
            "{counts:?}"
        );
        // Batches for inference hold the same rows.
        let batches = generate_input_batches(2000, 300, 3);
        assert_eq!(batches.len(), 7);
        assert_eq!(batches[6].shape(), (200, 784));
        assert_eq!(batches[1].row(5), data.x.row(305));
        // The same seed gives the same data on another thread count.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let again = pool.install(|| generate(2000, 3));
        assert_eq!((again.x, again.y), (data.x, data.y));
    }
}
