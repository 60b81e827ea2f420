//! The machine's sgemm peak, measured: the yardstick for "fraction of peak" in benchmarks.
//!
//! C = A·B for square `f32` matrices, through the `gemm` crate with its own blocking and its
//! rayon parallelism over the current pool (not this crate's deterministic tiles, which give up a
//! little speed for bit-identical results across thread counts). GFLOP/s = 2n³ / seconds, best
//! of the runs, after one untimed run.

use std::time::Instant;

/// The best GFLOP/s of `runs` products of two `size × size` `f32` matrices, on the current rayon
/// pool's threads.
pub fn sgemm_peak_gflops(size: usize, runs: usize) -> f64 {
    let a: Vec<f32> = (0..size * size).map(|i| (i % 17) as f32 * 0.01).collect();
    let b: Vec<f32> = (0..size * size).map(|i| (i % 13) as f32 * 0.02).collect();
    let mut c = vec![0.0f32; size * size];
    let threads = rayon::current_num_threads();
    let mut best = 0.0f64;
    for run in 0..=runs {
        let started = Instant::now();
        // SAFETY: the three buffers are size × size, row-major, and do not overlap.
        unsafe {
            gemm::gemm(
                size,
                size,
                size,
                c.as_mut_ptr(),
                1,
                size as isize,
                false,
                a.as_ptr(),
                1,
                size as isize,
                b.as_ptr(),
                1,
                size as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::Rayon(threads),
            );
        }
        let seconds = started.elapsed().as_secs_f64();
        if run > 0 {
            best = best.max(2.0 * (size as f64).powi(3) / seconds / 1e9);
        }
    }
    std::hint::black_box(&c);
    best
}
