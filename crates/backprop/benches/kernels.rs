//! Criterion benchmarks of the kernels one training step is made of, at the shapes of issue 4
//! (Nielsen's 784-30-10 at batch 10, the 784-128-64-10 network at batch 32 and 256, inference at
//! batch 1000):
//! - the three products per layer, forward X·Wᵀ, weight gradient δᵀX and input gradient δW,
//!   and the plain SGD step fused into the second (W ← W − η·δᵀX), reported in FLOP/s
//!   (2·batch·in·out per product);
//! - a mini-batch's gather of 10, 32 and 256 random rows from 60,000 × 784, in values/s;
//! - a first layer's products on a mostly-zero batch (200 × 784 into 100 units, a fifth of
//!   the values non-zero, as MNIST's pixels): `gemm`'s dense forward product and weight
//!   gradient against the sparse path's, compression of the batch and transposes included
//!   (`sparse_first_layer`), in FLOP/s of the dense products;
//! - the convolution weight gradients of `bench --config lenet`: conv1's δ · X̂ᵀ (20 × 25 over
//!   36,864 positions) and conv2's sum over the pooling winners
//!   (`add_scaled_rows`, 40 filters × 16 winners of 500-value patches per example, 64
//!   examples), in FLOP/s of the multiply-adds done;
//! - conv2's input gradient at the winners: each position's row of ∂C/∂X̂ as a sum of ten rows
//!   of W (`sum_weighted_rows`, in FLOP/s) and `fold` of the 64 rows onto the image (in patch
//!   values/s);
//! - the fused activation passes (z ← z + b, a = σ(z) and δ = g ⊙ σ′(z)), the cost (loss and
//!   a − y) and the optimiser updates, reported in elements/s; `adam_idle` is Adam after 2,000
//!   steps in which four weights in five had a zero gradient (as MNIST's always-dark pixels
//!   give the first layer), whose moments the exact formula would have made subnormal.
//!
//! `cargo bench -p backprop --bench kernels`. Everything runs on a rayon pool of
//! `BENCH_THREADS` threads (default 1, so the figures compare with one core's sgemm peak).
//! Timing is never part of CI, which only compiles this file.

use backprop::optim::{adam_update, sgd_update, AdamConfig, AdamState, SgdConfig, SgdState};
use backprop::{Activation, Cost, Matrix, SeededRng};
use backprop_tensor::matmul::{gemm, gemm_add_scaled, Transpose};
use backprop_tensor::patches::fold;
use backprop_tensor::rows::{add_scaled_rows, sum_weighted_rows};
use backprop_tensor::sparse_rows::{copy_into, sparse_product, AlignedRows, SparseRows};
use criterion::{BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

/// (batch, inputs, outputs) of every dense layer in the benchmarked configurations.
const LAYERS: [(usize, usize, usize); 9] = [
    (10, 784, 30),
    (10, 30, 10),
    (32, 784, 128),
    (32, 128, 64),
    (32, 64, 10),
    (256, 784, 128),
    (256, 128, 64),
    (256, 64, 10),
    (1000, 784, 128),
];

fn random(rows: usize, cols: usize, seed: u64) -> Matrix<f32> {
    Matrix::random_uniform(rows, cols, -1.0, 1.0, &mut SeededRng::new(seed))
}

fn products(c: &mut Criterion) {
    let (no, yes) = (Transpose::No, Transpose::Yes);
    let mut group = c.benchmark_group("matmul");
    for (batch, inputs, outputs) in LAYERS {
        let x = random(batch, inputs, 1);
        let w = random(outputs, inputs, 2);
        let delta = random(batch, outputs, 3);
        group.throughput(Throughput::Elements((2 * batch * inputs * outputs) as u64));
        let shape = format!("{batch}x{inputs}x{outputs}");
        let mut z = Matrix::zeros(batch, outputs);
        group.bench_function(BenchmarkId::new("forward", &shape), |b| {
            b.iter(|| gemm(&mut z, black_box(&x), no, black_box(&w), yes, false))
        });
        let mut weight_gradient = Matrix::zeros(outputs, inputs);
        group.bench_function(BenchmarkId::new("weight_gradient", &shape), |b| {
            b.iter(|| gemm(&mut weight_gradient, black_box(&delta), yes, &x, no, false))
        });
        let mut input_gradient = Matrix::zeros(batch, inputs);
        group.bench_function(BenchmarkId::new("input_gradient", &shape), |b| {
            b.iter(|| gemm(&mut input_gradient, black_box(&delta), no, &w, no, false))
        });
        // The fused plain-SGD step W ← W − η·δᵀX (`small_product` where the shape fits).
        let mut weights = w.clone();
        group.bench_function(BenchmarkId::new("fused_sgd_step", &shape), |b| {
            b.iter(|| gemm_add_scaled(&mut weights, 1.0, black_box(&delta), yes, &x, no, -1e-6))
        });
    }
    group.finish();
}

/// The first layer's forward product and weight gradient on a batch with a fifth of its values
/// non-zero: `gemm` over every value, and the sparse path (the batch and its transpose
/// compressed, Wᵀ and the gradient's transpose formed) over the non-zeros.
fn sparse_first_layer(c: &mut Criterion) {
    let (no, yes) = (Transpose::No, Transpose::Yes);
    let (batch, inputs, outputs) = (200, 784, 100);
    let noise = random(batch, inputs, 6);
    let x = noise.map(|v| if v > 0.62 { v } else { 0.0 });
    let w = random(outputs, inputs, 7);
    let delta = random(batch, outputs, 8);
    let mut group = c.benchmark_group("sparse_first_layer");
    group.throughput(Throughput::Elements((4 * batch * inputs * outputs) as u64));
    let shape = format!("{batch}x{inputs}x{outputs}");
    let (mut z, mut gradient) = (
        Matrix::zeros(batch, outputs),
        Matrix::zeros(outputs, inputs),
    );
    group.bench_function(BenchmarkId::new("gemm", &shape), |b| {
        b.iter(|| {
            gemm(&mut z, black_box(&x), no, &w, yes, false);
            gemm(&mut gradient, black_box(&delta), yes, &x, no, false);
        })
    });
    let (mut rows, mut columns) = (SparseRows::new(), SparseRows::new());
    let (mut wt, mut aligned_delta, mut gt) =
        (AlignedRows::new(), AlignedRows::new(), Matrix::zeros(0, 0));
    group.bench_function(BenchmarkId::new("non_zeros", &shape), |b| {
        b.iter(|| {
            rows.fill_from(black_box(&x));
            wt.transpose_from(&w);
            sparse_product(&mut z, &rows, &wt);
            columns.fill_transposed_from(&x);
            copy_into(black_box(&delta), &mut aligned_delta);
            sparse_product(&mut gt, &columns, &aligned_delta);
            gt.transpose_into(&mut gradient);
        })
    });
    group.finish();
}

/// A mini-batch's gather from 60,000 MNIST-shaped rows (188 MB, more than the caches), each
/// iteration a different batch of random rows, in values/s.
fn gathers(c: &mut Criterion) {
    let data = Matrix::<f32>::zeros_huge_pages(60_000, 784);
    let mut rng = SeededRng::new(5);
    let mut group = c.benchmark_group("gather");
    for batch in [10, 32, 256] {
        let batches: Vec<Vec<usize>> = (0..512)
            .map(|_| (0..batch).map(|_| rng.below(data.rows())).collect())
            .collect();
        let mut target = Matrix::zeros(batch, 784);
        let mut next = 0;
        group.throughput(Throughput::Elements((batch * 784) as u64));
        group.bench_function(BenchmarkId::new("rows", batch), |b| {
            b.iter(|| {
                next = (next + 1) % batches.len();
                target.gather_rows(black_box(&data), &batches[next]);
            })
        });
    }
    group.finish();
}

fn convolution_weight_gradients(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv_weight_gradient");
    let (filters, patch, positions) = (20, 25, 64 * 24 * 24);
    let (delta, columns) = (random(filters, positions, 4), random(patch, positions, 5));
    let mut gradient = Matrix::zeros(filters, patch);
    group.throughput(Throughput::Elements(
        (2 * filters * patch * positions) as u64,
    ));
    group.bench_function("conv1_20x25x36864", |b| {
        b.iter(|| {
            let (no, yes) = (Transpose::No, Transpose::Yes);
            gemm(&mut gradient, black_box(&delta), no, &columns, yes, false)
        })
    });
    // conv2: 64 examples of 64 positions, one winner per 2 × 2 window (every fourth position).
    let (filters, patch, positions, examples) = (40, 500, 64, 64);
    let patches = random(examples * positions, patch, 6);
    let deltas = random(1, positions, 7);
    let winners: Vec<u32> = (0..positions as u32).step_by(4).collect();
    let mut rows = Matrix::zeros(filters, patch);
    let windows = examples * filters * winners.len();
    group.throughput(Throughput::Elements((2 * windows * patch) as u64));
    group.bench_function("conv2_at_winners_40x500_64_examples", |b| {
        b.iter(|| {
            for example in 0..examples {
                let block = &patches.as_slice()[example * positions * patch..];
                for row in rows.as_mut_slice().chunks_mut(patch) {
                    add_scaled_rows(row, &winners, 0, deltas.as_slice(), block, patch);
                }
            }
        })
    });
    group.finish();
}

/// conv2's ∂C/∂x at the pooling winners, per example: each position's row of ∂C/∂X̂ as a sum
/// of rows of W (ten of 40 filters per position, 128 columns at a time), then `fold` onto the
/// 20 × 12 × 12 input.
fn conv_input_gradient(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv_input_gradient");
    let (filters, patch, positions, examples) = (40, 500, 64, 16);
    let weight = random(filters, patch, 8);
    let deltas = random(1, 10, 9);
    let picks: Vec<Vec<u32>> = (0..positions as u32)
        .map(|p| (0..10).map(|f| (p * 7 + f * 4) % filters as u32).collect())
        .map(|mut picks: Vec<u32>| {
            picks.sort_unstable();
            picks
        })
        .collect();
    let mut block = Matrix::zeros(positions, patch);
    let mut image = Matrix::zeros(1, 20 * 12 * 12);
    group.throughput(Throughput::Elements(
        (2 * examples * positions * 10 * patch) as u64,
    ));
    group.bench_function("conv2_rows_of_w_40x500_16_examples", |b| {
        b.iter(|| {
            for _ in 0..examples {
                for start in (0..patch).step_by(128) {
                    let len = 128.min(patch - start);
                    for (row, picks) in block.as_mut_slice().chunks_mut(patch).zip(&picks) {
                        sum_weighted_rows(
                            &mut row[start..start + len],
                            picks,
                            deltas.as_slice(),
                            &weight.as_slice()[start..],
                            patch,
                        );
                    }
                }
            }
        })
    });
    group.throughput(Throughput::Elements((examples * positions * patch) as u64));
    group.bench_function("fold_20x12x12_k5_16_examples", |b| {
        b.iter(|| {
            for _ in 0..examples {
                fold(
                    image.as_mut_slice(),
                    (20, 12, 12),
                    black_box(block.as_slice()),
                    5,
                );
            }
        })
    });
    group.finish();
}

fn activations(c: &mut Criterion) {
    let mut group = c.benchmark_group("activation");
    for (rows, cols) in [(10, 30), (32, 128), (256, 128), (1000, 128), (32, 10)] {
        let bias = random(1, cols, 4);
        let g = random(rows, cols, 5);
        group.throughput(Throughput::Elements((rows * cols) as u64));
        for activation in [Activation::Sigmoid, Activation::Relu, Activation::Softmax] {
            let shape = format!("{activation}/{rows}x{cols}");
            let (mut z, mut a) = (random(rows, cols, 6), Matrix::zeros(rows, cols));
            group.bench_function(BenchmarkId::new("bias_and_forward", &shape), |b| {
                b.iter(|| activation.add_bias_and_forward(&mut z, black_box(&bias), &mut a))
            });
            if activation != Activation::Softmax {
                let mut delta = Matrix::zeros(rows, cols);
                group.bench_function(BenchmarkId::new("delta", &shape), |b| {
                    b.iter(|| activation.backward_into(&z, &a, black_box(&g), &mut delta))
                });
            }
        }
    }
    group.finish();
}

fn costs(c: &mut Criterion) {
    let mut group = c.benchmark_group("cost");
    for (cost, activation, rows, cols) in [
        (Cost::SoftmaxCrossEntropy, Activation::Softmax, 32, 10),
        (Cost::SoftmaxCrossEntropy, Activation::Softmax, 256, 10),
        (Cost::BinaryCrossEntropy, Activation::Sigmoid, 10, 10),
    ] {
        let z = random(rows, cols, 7);
        let a = activation.forward(&z);
        let y = Matrix::from_fn(rows, cols, |i, j| if i % cols == j { 1.0 } else { 0.0 });
        let shape = format!("{cost}/{rows}x{cols}");
        group.throughput(Throughput::Elements((rows * cols) as u64));
        group.bench_function(BenchmarkId::new("loss", &shape), |b| {
            b.iter(|| cost.loss(black_box(&z), &a, &y))
        });
        let mut delta = Matrix::zeros(rows, cols);
        group.bench_function(BenchmarkId::new("output_delta", &shape), |b| {
            b.iter(|| cost.output_delta_into(activation, &z, black_box(&a), &y, &mut delta))
        });
    }
    group.finish();
}

fn optimizers(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer");
    // The largest tensor of the 784-128-64-10 network, and Nielsen's.
    for length in [128 * 784, 30 * 784] {
        let gradient = random(1, length, 8);
        group.throughput(Throughput::Elements(length as u64));
        let mut parameter = random(1, length, 9);
        let (sgd, mut sgd_state) = (SgdConfig::new(), SgdState::default());
        group.bench_function(BenchmarkId::new("sgd", length), |b| {
            b.iter(|| {
                let p = parameter.as_mut_slice();
                sgd_update(
                    &sgd,
                    1e-6,
                    p,
                    black_box(gradient.as_slice()),
                    &mut sgd_state,
                )
            })
        });
        let momentum = SgdConfig::new().with_momentum(0.9);
        let mut momentum_state = SgdState::default();
        group.bench_function(BenchmarkId::new("sgd_momentum", length), |b| {
            b.iter(|| {
                let (p, g) = (parameter.as_mut_slice(), gradient.as_slice());
                sgd_update(&momentum, 1e-6, p, black_box(g), &mut momentum_state)
            })
        });
        let (adam, mut adam_state) = (AdamConfig::new(), AdamState::default());
        group.bench_function(BenchmarkId::new("adam", length), |b| {
            b.iter(|| {
                let (p, g) = (parameter.as_mut_slice(), gradient.as_slice());
                adam_update(&adam, 1e-6, p, black_box(g), &mut adam_state)
            })
        });
        let mut idle_state = AdamState::default();
        let mut idle = gradient.clone();
        for (i, g) in idle.as_mut_slice().iter_mut().enumerate() {
            *g = if i % 5 == 0 { *g } else { 0.0 };
        }
        for step in 0..2000 {
            let g = if step < 10 { &gradient } else { &idle };
            adam_update(
                &adam,
                1e-6,
                parameter.as_mut_slice(),
                g.as_slice(),
                &mut idle_state,
            );
        }
        group.bench_function(BenchmarkId::new("adam_idle", length), |b| {
            b.iter(|| {
                let (p, g) = (parameter.as_mut_slice(), idle.as_slice());
                adam_update(&adam, 1e-6, p, black_box(g), &mut idle_state)
            })
        });
    }
    group.finish();
}

fn main() {
    let threads = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    pool.install(|| {
        let mut criterion = Criterion::default().configure_from_args();
        products(&mut criterion);
        gathers(&mut criterion);
        sparse_first_layer(&mut criterion);
        convolution_weight_gradients(&mut criterion);
        conv_input_gradient(&mut criterion);
        activations(&mut criterion);
        costs(&mut criterion);
        optimizers(&mut criterion);
        criterion.final_summary();
    });
}
