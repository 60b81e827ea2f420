//! The GEMM wrapper against the naive triple loop over awkward shapes, plus proptest identities
//! and the thread-count determinism the conventions require.

use backprop_tensor::matmul::{
    fits_small_product, gemm, gemm_add_scaled, matmul_transpose_rows, naive_matmul, Split,
    TilePlan, COL_TILE, FORWARD_COLUMNS, INFERENCE_ROWS, ROW_TILE, SMALL_PRODUCT_DEPTH,
    SMALL_PRODUCT_MIN_COLUMNS, SMALL_PRODUCT_VALUES, WIDE_FORWARD_COLUMNS, WIDE_OUTPUTS,
};
use backprop_tensor::{Float, Matrix, SeededRng, Transpose};
use proptest::prelude::*;

fn random<T: Float>(rows: usize, cols: usize, seed: u64) -> Matrix<T> {
    Matrix::random_uniform(rows, cols, -1.0, 1.0, &mut SeededRng::new(seed))
}

fn stored(rows: usize, cols: usize, t: Transpose) -> (usize, usize) {
    match t {
        Transpose::No => (rows, cols),
        Transpose::Yes => (cols, rows),
    }
}

fn check<T: Float>(m: usize, k: usize, n: usize, tolerance: f64) {
    for ta in [Transpose::No, Transpose::Yes] {
        for tb in [Transpose::No, Transpose::Yes] {
            let (ar, ac) = stored(m, k, ta);
            let (br, bc) = stored(k, n, tb);
            let a = random::<T>(ar, ac, (m * 31 + k) as u64);
            let b = random::<T>(br, bc, (n * 17 + k) as u64);
            let expected = naive_matmul(&a, ta, &b, tb);
            let mut c = Matrix::<T>::filled(m, n, T::from_f64(0.5));
            gemm(&mut c, &a, ta, &b, tb, false);
            let mut acc = Matrix::<T>::filled(m, n, T::from_f64(0.5));
            gemm(&mut acc, &a, ta, &b, tb, true);
            // The fused SGD form: C ← 0.75·C − 0.25·op(A)·op(B).
            let mut descended = Matrix::<T>::filled(m, n, T::from_f64(0.5));
            let (c_scale, product_scale) = (T::from_f64(0.75), T::from_f64(-0.25));
            gemm_add_scaled(&mut descended, c_scale, &a, ta, &b, tb, product_scale);
            for i in 0..m {
                for j in 0..n {
                    let e = expected[(i, j)];
                    let scale = (k as f64).sqrt().max(1.0);
                    assert!(
                        (c[(i, j)].to_f64() - e).abs() <= tolerance * scale,
                        "{m}×{k}×{n} {ta:?} {tb:?} ({i},{j})"
                    );
                    assert!(
                        (acc[(i, j)].to_f64() - e - 0.5).abs() <= tolerance * scale,
                        "accumulate {m}×{k}×{n}"
                    );
                    assert!(
                        (descended[(i, j)].to_f64() - (0.375 - 0.25 * e)).abs()
                            <= tolerance * scale,
                        "scaled accumulate {m}×{k}×{n}"
                    );
                }
            }
        }
    }
}

/// The shallow products the wrapper sends to `small_product` (including the fused SGD form with
/// C kept as it is, C ← C − 0.25·op(A)·op(B)) against the naive loop, every transpose of A.
#[test]
fn small_products_match_naive() {
    fn run<T: Float>(tolerance: f64) {
        for (m, k, n) in [
            (1, 1, 16),
            (3, 10, 17),
            (30, 10, 784),
            (10, 32, 64),
            (97, 7, 33),
        ] {
            assert!(fits_small_product(m, n, k), "{m}×{k}×{n}");
            for ta in [Transpose::No, Transpose::Yes] {
                let (ar, ac) = stored(m, k, ta);
                let a = random::<T>(ar, ac, (m * 7 + k) as u64);
                let b = random::<T>(k, n, (n * 5 + k) as u64);
                let expected = naive_matmul(&a, ta, &b, Transpose::No);
                let mut c = Matrix::<T>::filled(m, n, T::from_f64(0.5));
                gemm(&mut c, &a, ta, &b, Transpose::No, false);
                let mut acc = Matrix::<T>::filled(m, n, T::from_f64(0.5));
                gemm(&mut acc, &a, ta, &b, Transpose::No, true);
                let mut descended = Matrix::<T>::filled(m, n, T::from_f64(0.5));
                let (one, product_scale) = (T::ONE, T::from_f64(-0.25));
                gemm_add_scaled(
                    &mut descended,
                    one,
                    &a,
                    ta,
                    &b,
                    Transpose::No,
                    product_scale,
                );
                for i in 0..m {
                    for j in 0..n {
                        let (e, bound) = (expected[(i, j)], tolerance * (k as f64).sqrt());
                        let shape = format!("{} {m}×{k}×{n} {ta:?} ({i},{j})", T::NAME);
                        assert!((c[(i, j)].to_f64() - e).abs() <= bound, "{shape}");
                        assert!((acc[(i, j)].to_f64() - e - 0.5).abs() <= bound, "{shape}");
                        let want = 0.5 - 0.25 * e;
                        assert!(
                            (descended[(i, j)].to_f64() - want).abs() <= bound,
                            "{shape}"
                        );
                    }
                }
            }
        }
    }
    run::<f32>(1e-5);
    run::<f64>(1e-12);
    // Deeper, narrower, larger or parallel products stay with `gemm`.
    assert!(!fits_small_product(30, 784, SMALL_PRODUCT_DEPTH + 1));
    assert!(!fits_small_product(100, SMALL_PRODUCT_MIN_COLUMNS - 1, 10));
    assert!(!fits_small_product(128, 784, 32));
    assert!(fits_small_product(SMALL_PRODUCT_VALUES / 16, 16, 2));
    assert!(!fits_small_product(SMALL_PRODUCT_VALUES / 16 + 1, 16, 2));
}

const AWKWARD: [usize; 9] = [1, 2, 3, 7, 13, 17, 31, ROW_TILE + 1, 97];

#[test]
fn awkward_shapes_match_naive_f32() {
    for &m in &AWKWARD {
        for &k in &[1usize, 5, 16, 17, 33, 67] {
            for &n in &[1usize, 3, 8, 9, 29] {
                check::<f32>(m, k, n, 1e-5);
            }
        }
    }
}

#[test]
fn shapes_past_tile_edges_match_naive_f64() {
    for &(m, k, n) in &[
        (ROW_TILE - 1, 3, COL_TILE - 1),
        (ROW_TILE + 1, 130, COL_TILE + 1),
        (2 * ROW_TILE + 3, 257, 7),
        (5, 513, 2 * COL_TILE + 5),
        (1, 1, 1),
        (131, 1, 263),
    ] {
        check::<f64>(m, k, n, 1e-12);
    }
}

/// The forward product's threaded tilings against the naive loop: a batch of at least
/// 2·INFERENCE_ROWS rows (row blocks over every column, odd sizes so the balanced cuts fall
/// between multiples), and a smaller batch cut into FORWARD_COLUMNS-wide column tiles, or
/// WIDE_FORWARD_COLUMNS-wide ones from WIDE_OUTPUTS columns (with a ragged last tile).
#[test]
fn the_threaded_forward_tilings_match_naive() {
    let (no, yes) = (Transpose::No, Transpose::Yes);
    let large = [
        (2 * INFERENCE_ROWS, 37, 41),
        (2 * INFERENCE_ROWS + 3, 33, 45),
        (4 * INFERENCE_ROWS + 77, 19, 29),
    ];
    for (m, k, n) in large {
        let plan = TilePlan::for_product(m, n, k, no, yes);
        assert!(plan.parallel, "{m}×{k}×{n}: {plan:?}");
        assert!(
            matches!(plan.rows, Split::Balanced { .. }),
            "{m}×{k}×{n}: {plan:?}"
        );
        assert_eq!(plan.cols, Split::Uniform(n), "{m}×{k}×{n}");
        check::<f64>(m, k, n, 1e-12);
    }
    let (m, k, n) = (300, 60, FORWARD_COLUMNS + 13);
    let plan = TilePlan::for_product(m, n, k, no, yes);
    assert!(
        plan.parallel && plan.cols == Split::Uniform(FORWARD_COLUMNS),
        "{plan:?}"
    );
    check::<f64>(m, k, n, 1e-12);
    let (m, k, n) = (200, 70, WIDE_OUTPUTS + WIDE_FORWARD_COLUMNS + 5);
    let plan = TilePlan::for_product(m, n, k, no, yes);
    assert!(
        plan.parallel && plan.cols == Split::Uniform(WIDE_FORWARD_COLUMNS),
        "{plan:?}"
    );
    check::<f64>(m, k, n, 1e-12);
    check::<f32>(m, k, n, 1e-4);
}

/// The product on slices against the naive loop.
#[test]
fn matmul_transpose_rows_matches_naive() {
    for &(m, k, n) in &[
        (1, 1, 1),
        (5, 3, 7),
        (300, 37, 41),
        (97, 784, 10),
        (4, 0, 3),
    ] {
        let a = random::<f32>(m, k, 11);
        let b = random::<f32>(n, k, 12);
        let expected = naive_matmul(&a, Transpose::No, &b, Transpose::Yes);
        let mut c = vec![f32::NAN; m * n];
        matmul_transpose_rows(&mut c, a.as_slice(), &b);
        for (got, want) in c.iter().zip(expected.as_slice()) {
            assert!((got.to_f64() - want).abs() <= 1e-5 * (k as f64).sqrt().max(1.0));
        }
    }
}

/// A block of B's columns on one thread against the naive loop over the whole product, both
/// operand layouts of A, blocks at the start, in the middle and at the end; and the same bits
/// as the tiled product over all columns.
#[test]
fn gemm_column_block_matches_naive_and_the_whole_product() {
    for &(m, k, n, first, cols) in &[
        (1, 1, 1, 0, 1),
        (5, 3, 7, 2, 4),
        (500, 40, 600, 512, 88),
        (37, 19, 300, 0, 129),
        (4, 0, 3, 1, 2),
        (3, 5, 9, 9, 0),
    ] {
        for transpose_a in [Transpose::No, Transpose::Yes] {
            let a = match transpose_a {
                Transpose::No => random::<f64>(m, k, 21),
                Transpose::Yes => random::<f64>(k, m, 21),
            };
            let b = random::<f64>(k, n, 22);
            let expected = naive_matmul(&a, transpose_a, &b, Transpose::No);
            let mut whole = Matrix::zeros(m, n);
            gemm(&mut whole, &a, transpose_a, &b, Transpose::No, false);
            let mut c = vec![f64::NAN; m * cols];
            backprop_tensor::matmul::gemm_column_block(&mut c, &a, transpose_a, &b, first, cols);
            for i in 0..m {
                for j in 0..cols {
                    let got = c[i * cols + j];
                    assert!(
                        (got - expected[(i, first + j)]).abs() <= 1e-12,
                        "{m}×{k}×{n}"
                    );
                    assert_eq!(
                        got.to_bits(),
                        whole[(i, first + j)].to_bits(),
                        "{m}×{k}×{n}"
                    );
                }
            }
        }
    }
}

#[test]
fn all_finite_finds_nan_and_infinity_anywhere() {
    let values: Vec<f64> = (0..100).map(|i| i as f64 - 50.0).collect();
    assert!(backprop_tensor::all_finite(&values));
    assert!(backprop_tensor::all_finite::<f32>(&[]));
    for position in [0, 15, 16, 63, 95, 99] {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut v = values.clone();
            v[position] = bad;
            assert!(!backprop_tensor::all_finite(&v), "{bad} at {position}");
        }
    }
}

/// A small C over a long k, both operands read along k (a convolution's weight gradient over
/// a batch's positions): against the naive loop, and the same bits on 1, 2 and 3 threads.
#[test]
fn long_dot_products_match_naive_on_any_thread_count() {
    let (no, yes) = (Transpose::No, Transpose::Yes);
    for &(m, k, n) in &[(20, 4096, 25), (7, 5003, 3), (1, 4097, 1), (9, 4111, 13)] {
        check::<f32>(m, k, n, 1e-5);
        let a = random::<f32>(m, k, 5);
        let b = random::<f32>(n, k, 6);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut c = Matrix::<f32>::zeros(m, n);
                gemm(&mut c, &a, no, &b, yes, false);
                c
            })
        };
        let one = run(1);
        for threads in [2, 3] {
            assert!(
                run(threads) == one,
                "{m}×{k}×{n}: {threads} threads differ from 1"
            );
        }
    }
}

#[test]
fn thread_count_does_not_change_bits() {
    // Big enough for several tiles and the parallel path.
    let a = random::<f32>(300, 517, 1);
    let b = random::<f32>(517, 301, 2);
    let x = random::<f32>(300, 301, 3);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| (a.matmul(&b), a.transpose_matmul(&x), x.matmul_transpose(&b)))
    };
    let one = run(1);
    for threads in [2, 3] {
        let other = run(threads);
        assert!(one == other, "{threads} threads differ from 1");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn transpose_identities(m in 1usize..20, k in 1usize..20, n in 1usize..20, seed in 0u64..1000) {
        let a = random::<f64>(m, k, seed);
        let b = random::<f64>(k, n, seed + 1);
        // (AB)ᵀ = BᵀAᵀ
        let ab_t = a.matmul(&b).transpose();
        let bt_at = b.transpose().matmul(&a.transpose());
        for (x, y) in ab_t.as_slice().iter().zip(bt_at.as_slice()) {
            prop_assert!((x - y).abs() < 1e-12);
        }
        // Aᵀ·C through strides equals the materialised transpose.
        let c = random::<f64>(m, n, seed + 2);
        let strided = a.transpose_matmul(&c);
        let explicit = a.transpose().matmul(&c);
        for (x, y) in strided.as_slice().iter().zip(explicit.as_slice()) {
            prop_assert!((x - y).abs() < 1e-12);
        }
        // A·Bᵀ likewise.
        let d = random::<f64>(n, k, seed + 3);
        let strided = a.matmul_transpose(&d);
        let explicit = a.matmul(&d.transpose());
        for (x, y) in strided.as_slice().iter().zip(explicit.as_slice()) {
            prop_assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn distributes_over_addition(m in 1usize..12, k in 1usize..12, n in 1usize..12, seed in 0u64..1000) {
        let a = random::<f64>(m, k, seed);
        let b = random::<f64>(k, n, seed + 1);
        let c = random::<f64>(k, n, seed + 2);
        let left = a.matmul(&b.add(&c));
        let right = a.matmul(&b).add(&a.matmul(&c));
        for (x, y) in left.as_slice().iter().zip(right.as_slice()) {
            prop_assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn column_sums_equal_ones_times_matrix(m in 1usize..15, n in 1usize..15, seed in 0u64..1000) {
        let a = random::<f64>(m, n, seed);
        let ones = Matrix::<f64>::filled(1, m, 1.0);
        let via_gemm = ones.matmul(&a);
        for (x, y) in a.column_sums().as_slice().iter().zip(via_gemm.as_slice()) {
            prop_assert!((x - y).abs() < 1e-12);
        }
    }
}
