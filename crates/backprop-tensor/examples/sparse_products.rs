//! Times the products of a mostly-zero batch by its non-zeros against `gemm`'s dense ones, for
//! a dense layer's forward product Z = X·Wᵀ and weight gradient δᵀ·X (not a test):
//!
//!     cargo run --release -p backprop-tensor --example sparse_products -- ROWS INPUTS UNITS DENSITY [THREADS]
//!
//! Prints the best of 5 rounds of 200 repetitions, in µs per product, for each side.

use backprop_tensor::matmul::{gemm, Transpose};
use backprop_tensor::sparse_rows::{copy_into, sparse_product, AlignedRows, SparseRows};
use backprop_tensor::{team, Matrix, SeededRng};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: f64| {
        args.get(i)
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let (rows, inputs, units) = (
        number(0, 200.0) as usize,
        number(1, 784.0) as usize,
        number(2, 100.0) as usize,
    );
    let (density, threads) = (number(3, 0.19), number(4, 1.0) as usize);
    let mut rng = SeededRng::new(1);
    let noise = Matrix::<f32>::random_uniform(rows, inputs, 0.0, 1.0, &mut rng);
    let x = Matrix::from_vec(
        rows,
        inputs,
        noise
            .as_slice()
            .iter()
            .map(|&u| if (u as f64) < density { u } else { 0.0 })
            .collect(),
    )
    .unwrap();
    let w = Matrix::<f32>::random_uniform(units, inputs, -0.1, 0.1, &mut rng);
    let delta = Matrix::<f32>::random_uniform(rows, units, -0.1, 0.1, &mut rng);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let time = |label: &str, f: &mut dyn FnMut()| {
        let best = (0..5)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..200 {
                    f();
                }
                start.elapsed().as_secs_f64() / 200.0 * 1e6
            })
            .fold(f64::INFINITY, f64::min);
        println!("{label:<44} {best:8.1} µs");
    };
    pool.install(|| {
        team::run(|| {
            let (mut z, mut g) = (Matrix::zeros(rows, units), Matrix::zeros(units, inputs));
            time("dense   Z = X·Wᵀ (gemm)", &mut || {
                gemm(&mut z, &x, Transpose::No, &w, Transpose::Yes, false)
            });
            time("dense   G = δᵀ·X (gemm)", &mut || {
                gemm(&mut g, &delta, Transpose::Yes, &x, Transpose::No, false)
            });
            let mut s = SparseRows::new();
            let (mut wt, mut d, mut st, mut gt) = (
                AlignedRows::new(),
                AlignedRows::new(),
                SparseRows::new(),
                Matrix::zeros(0, 0),
            );
            time("sparse  S from the dense batch", &mut || s.fill_from(&x));
            time("sparse  Wᵀ", &mut || wt.transpose_from(&w));
            time("sparse  Z = S·Wᵀ", &mut || {
                sparse_product(&mut z, &s, &wt)
            });
            time("sparse  Sᵀ from the dense batch", &mut || {
                st.fill_transposed_from(&x)
            });
            time("sparse  δ aligned", &mut || copy_into(&delta, &mut d));
            time("sparse  Gᵀ = Sᵀ·δ", &mut || {
                sparse_product(&mut gt, &st, &d)
            });
            time("sparse  G = (Gᵀ)ᵀ", &mut || gt.transpose_into(&mut g));
            println!("density {:.3}", s.density());
        })
    });
}
