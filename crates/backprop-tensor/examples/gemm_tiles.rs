//! Times one `f32` product C (m × n, row-major) on one thread, computed whole or cut into tiles,
//! with its operands in one of three layouts, in interleaved rounds (the best of 7 rounds of 40
//! calls each), so that layouts and tilings measured in one run can be compared on a machine
//! whose speed drifts. Not a test: the figures in docs/performance.md came from it.
//!
//! ```text
//! cargo run --release -p backprop-tensor --example gemm_tiles -- M N K LAYOUT:ROWSxCOLS ...
//! ```
//!
//! LAYOUT is `nt` (C = A·Bᵀ, A m × k and B n × k, both row-major: a dense forward product),
//! `nn` (C = A·B, A m × k and B k × n) or `tn` (C = Aᵀ·B, A k × m and B k × n: a weight
//! gradient); ROWSxCOLS the tile size. For example, the second convolution of
//! `bench --config lenet` laid out both ways:
//!
//! ```text
//! gemm_tiles 40 4096 500 nn:40x4096      # W · X̂, one patch per column
//! gemm_tiles 4096 40 500 nt:4096x40      # X̂ · Wᵀ, one patch per row
//! ```

use std::time::Instant;

fn parse(text: &str) -> usize {
    text.parse()
        .unwrap_or_else(|_| panic!("'{text}' is not a size"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(
        args.len() >= 4,
        "usage: gemm_tiles M N K LAYOUT:ROWSxCOLS ..."
    );
    let (m, n, k) = (parse(&args[0]), parse(&args[1]), parse(&args[2]));
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n * k).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut c = vec![0f32; m * n];
    let specs = &args[3..];
    let mut best = vec![f64::MAX; specs.len()];
    for _round in 0..7 {
        for (index, spec) in specs.iter().enumerate() {
            let (layout, size) = spec.split_once(':').expect("LAYOUT:ROWSxCOLS");
            // (row stride, column stride) of op(A) and of op(B).
            let (k_i, m_i, n_i) = (k as isize, m as isize, n as isize);
            let ((a_rs, a_cs), (b_rs, b_cs)) = match layout {
                "nt" => ((k_i, 1), (1, k_i)),
                "nn" => ((k_i, 1), (n_i, 1)),
                "tn" => ((1, m_i), (n_i, 1)),
                other => panic!("layout '{other}' is not nt, nn or tn"),
            };
            let (rows, cols) = size.split_once('x').expect("ROWSxCOLS");
            let (tile_rows, tile_cols) = (parse(rows), parse(cols));
            let mut run = || {
                let c_ptr = c.as_mut_ptr();
                for row0 in (0..m).step_by(tile_rows) {
                    for col0 in (0..n).step_by(tile_cols) {
                        let (rows, cols) = (tile_rows.min(m - row0), tile_cols.min(n - col0));
                        // SAFETY: the tile lies inside C, and the rows of op(A) and the
                        // columns of op(B) it reads lie inside A and B (m × k and k × n
                        // elements read through the strides above).
                        unsafe {
                            gemm::gemm(
                                rows,
                                cols,
                                k,
                                c_ptr.add(row0 * n + col0),
                                1,
                                n_i,
                                false,
                                a.as_ptr().offset(row0 as isize * a_rs),
                                a_cs,
                                a_rs,
                                b.as_ptr().offset(col0 as isize * b_cs),
                                b_cs,
                                b_rs,
                                1.0f32,
                                1.0f32,
                                false,
                                false,
                                false,
                                gemm::Parallelism::None,
                            );
                        }
                    }
                }
            };
            for _ in 0..10 {
                run();
            }
            let started = Instant::now();
            for _ in 0..40 {
                run();
            }
            best[index] = best[index].min(started.elapsed().as_secs_f64() / 40.0);
        }
    }
    for (spec, seconds) in specs.iter().zip(&best) {
        let gflops = 2.0 * (m * n * k) as f64 / seconds / 1e9;
        println!(
            "{m}x{n}x{k} {spec}: {:.1} us, {gflops:.1} GFLOP/s",
            seconds * 1e6
        );
    }
}
