//! Criterion benchmarks of scikit-learn-style training of small networks (the Python package's
//! `MLPClassifier` on tabular data), in `f64` as scikit-learn trains:
//! - `small_product` against `gemm` for a 16-row block's forward product X·Wᵀ at the first
//!   layers of iris (4 → 100), breast cancer (30 → 100) and the 8×8 digits (64 → 100), and the
//!   narrow output layers (100 → 3, 100 → 10), and `small_product_by_rows` (dot products of rows
//!   of X and of W), in multiply-adds/s;
//! - one `sk_epoch` (Adam, α = 10⁻⁴, batches of 200 or all the rows) on synthetic rows of
//!   those shapes (120 × 4-100-3, 455 × 30-100-2, 1,437 × 64-100-10), in rows/s.
//!
//! `cargo bench -p backprop --bench small_networks`, on a rayon pool of `BENCH_THREADS`
//! threads (default 1). Timing is never part of CI, which only compiles this file.

use backprop::sklearn::{sk_epoch, SkData, SkObjective, SkOptimizer, SkSolver};
use backprop::{Activation, Cost, Matrix, NetworkConfig, SeededRng};
use backprop_tensor::matmul::{gemm, Transpose};
use backprop_tensor::small_product::{small_product, small_product_by_rows, Shape, Strided};
use criterion::{BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn random(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    Matrix::random_uniform(rows, cols, -1.0, 1.0, &mut SeededRng::new(seed))
}

fn block_products(c: &mut Criterion) {
    let mut group = c.benchmark_group("block_forward_product");
    for (inputs, outputs) in [(4, 100), (30, 100), (64, 100), (100, 3), (100, 10)] {
        let rows = 16;
        let x = random(rows, inputs, 1);
        let w = random(outputs, inputs, 2);
        let w_transposed = w.transpose();
        let mut z = Matrix::zeros(rows, outputs);
        group.throughput(Throughput::Elements((rows * inputs * outputs) as u64));
        let name = format!("{rows}x{inputs}x{outputs}");
        group.bench_function(BenchmarkId::new("gemm", &name), |b| {
            b.iter(|| {
                gemm(
                    &mut z,
                    black_box(&x),
                    Transpose::No,
                    &w,
                    Transpose::Yes,
                    false,
                )
            })
        });
        let shape = Shape {
            rows,
            cols: outputs,
            depth: inputs,
        };
        group.bench_function(BenchmarkId::new("small_product", &name), |b| {
            b.iter(|| {
                let lhs = Strided::rows(black_box(x.as_slice()), inputs);
                let rhs = w_transposed.as_slice();
                small_product(z.as_mut_slice(), outputs, false, lhs, rhs, outputs, shape)
            })
        });
        group.bench_function(BenchmarkId::new("small_product_by_rows", &name), |b| {
            b.iter(|| {
                let (lhs, rhs) = (black_box(x.as_slice()), w.as_slice());
                small_product_by_rows(z.as_mut_slice(), outputs, lhs, inputs, rhs, inputs, shape)
            })
        });
    }
    group.finish();
}

fn epochs(c: &mut Criterion) {
    let mut group = c.benchmark_group("sk_epoch");
    for (rows, inputs, hidden, outputs) in
        [(120, 4, 100, 3), (455, 30, 100, 2), (1437, 64, 100, 10)]
    {
        let mut network = NetworkConfig::new(&[inputs, hidden, outputs], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Relu)
            .with_seed(1)
            .init::<f64>()
            .expect("a valid network");
        let x = random(rows, inputs, 3);
        let y = Matrix::from_fn(rows, outputs, |i, j| f64::from(u8::from(i % outputs == j)));
        let solver = SkSolver::Adam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
        };
        let mut optimizer = SkOptimizer::new(solver, 0.001, &network);
        let order: Vec<usize> = (0..rows).collect();
        let objective = SkObjective {
            alpha: 1e-4,
            poisson: false,
        };
        group.throughput(Throughput::Elements(rows as u64));
        let name = format!("{rows}x{inputs}-{hidden}-{outputs}");
        group.bench_function(BenchmarkId::new("adam_batch_200", &name), |b| {
            b.iter(|| {
                let data = SkData::new(&x, &y);
                sk_epoch(&mut network, &mut optimizer, data, &order, 200, objective)
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
        block_products(&mut criterion);
        epochs(&mut criterion);
        criterion.final_summary();
    });
}
