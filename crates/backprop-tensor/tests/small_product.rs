//! `small_product` against a plain triple loop in `f64`, over shapes around its register tiles
//! (4 rows × 4 vectors of 16 `f32` or 8 `f64`), with gaps between rows, both layouts of L, and
//! accumulation; values outside C's shape must stay untouched.

use backprop_tensor::small_product::{small_product, small_product_by_rows, Shape, Strided};
use backprop_tensor::{Float, SeededRng};

/// A seeded source of `count` values uniform in [−1, 1) at a time.
fn draws<T: Float>(seed: u64) -> impl FnMut(usize) -> Vec<T> {
    let mut rng = SeededRng::new(seed);
    move |count| {
        (0..count)
            .map(|_| T::from_f64(rng.uniform_range(-1.0, 1.0)))
            .collect()
    }
}

fn check<T: Float>(rows: usize, cols: usize, depth: usize, transposed: bool, tolerance: f64) {
    let mut draw = draws::<T>((rows * 1000 + cols * 10 + depth) as u64);
    let (ldc, ldr) = (cols + 2, cols + 5);
    let lhs_stride = if transposed { rows + 1 } else { depth + 3 };
    let lhs_values = draw(if transposed {
        depth * lhs_stride
    } else {
        rows * lhs_stride
    });
    let lhs = if transposed {
        Strided::transposed(&lhs_values, lhs_stride)
    } else {
        Strided::rows(&lhs_values, lhs_stride)
    };
    let rhs = draw(depth * ldr);
    let start = draw(rows * ldc);
    for accumulate in [false, true] {
        let mut c = start.clone();
        let shape = Shape { rows, cols, depth };
        small_product(&mut c, ldc, accumulate, lhs, &rhs, ldr, shape);
        for i in 0..rows {
            for j in 0..ldc {
                let got = c[i * ldc + j].to_f64();
                if j >= cols {
                    assert_eq!(
                        got,
                        start[i * ldc + j].to_f64(),
                        "({i}, {j}) outside C changed"
                    );
                    continue;
                }
                let mut want = if accumulate {
                    start[i * ldc + j].to_f64()
                } else {
                    0.0
                };
                for p in 0..depth {
                    let l = lhs.values[i * lhs.row_stride + p * lhs.depth_stride].to_f64();
                    want += l * rhs[p * ldr + j].to_f64();
                }
                assert!(
                    (got - want).abs() <= tolerance * (1.0 + depth as f64),
                    "{} {rows} × {cols} × {depth} (transposed {transposed}, accumulate \
                     {accumulate}) at ({i}, {j}): {got} against {want}",
                    T::NAME
                );
            }
        }
    }
}

#[test]
fn products_match_a_plain_loop_over_awkward_shapes() {
    for rows in [1, 2, 3, 4, 5, 7, 8, 9, 13] {
        for cols in [
            1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 130,
        ] {
            for depth in [0, 1, 3, 4, 30, 64] {
                for transposed in [false, true] {
                    check::<f64>(rows, cols, depth, transposed, 1e-14);
                    check::<f32>(rows, cols, depth, transposed, 1e-5);
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "small_product: R of")]
fn a_right_hand_side_too_short_panics() {
    let mut c = [0.0f32; 4];
    let shape = Shape {
        rows: 2,
        cols: 2,
        depth: 3,
    };
    small_product(
        &mut c,
        2,
        false,
        Strided::rows(&[0.0; 6], 3),
        &[0.0; 5],
        2,
        shape,
    );
}

#[test]
#[should_panic(expected = "small_product: L of")]
fn a_left_hand_side_too_short_panics() {
    let mut c = [0.0f64; 4];
    let shape = Shape {
        rows: 2,
        cols: 2,
        depth: 3,
    };
    small_product(
        &mut c,
        2,
        false,
        Strided::rows(&[0.0; 5], 3),
        &[0.0; 6],
        2,
        shape,
    );
}

fn check_by_rows<T: Float>(rows: usize, cols: usize, depth: usize, tolerance: f64) {
    let mut draw = draws::<T>((rows * 7919 + cols * 31 + depth) as u64);
    let (ldc, ldl, ldr) = (cols + 1, depth + 2, depth + 3);
    let (lhs, rhs, start) = (draw(rows * ldl), draw(cols * ldr), draw(rows * ldc));
    let mut c = start.clone();
    let shape = Shape { rows, cols, depth };
    small_product_by_rows(&mut c, ldc, &lhs, ldl, &rhs, ldr, shape);
    for i in 0..rows {
        for j in 0..ldc {
            let got = c[i * ldc + j].to_f64();
            if j >= cols {
                assert_eq!(
                    got,
                    start[i * ldc + j].to_f64(),
                    "({i}, {j}) outside C changed"
                );
                continue;
            }
            let want: f64 = (0..depth)
                .map(|p| lhs[i * ldl + p].to_f64() * rhs[j * ldr + p].to_f64())
                .sum();
            assert!(
                (got - want).abs() <= tolerance * (1.0 + depth as f64),
                "{} {rows} × {cols} × {depth} at ({i}, {j}): {got} against {want}",
                T::NAME
            );
        }
    }
}

#[test]
fn products_by_rows_match_a_plain_loop_over_awkward_shapes() {
    for rows in [1, 2, 3, 4, 5, 9] {
        for cols in [1, 2, 3, 4, 5, 8, 10] {
            for depth in [0, 1, 7, 8, 9, 16, 17, 100] {
                check_by_rows::<f64>(rows, cols, depth, 1e-14);
                check_by_rows::<f32>(rows, cols, depth, 1e-5);
            }
        }
    }
}

#[test]
#[should_panic(expected = "small_product_by_rows: L of")]
fn a_short_row_buffer_panics() {
    let mut c = [0.0f64; 4];
    let shape = Shape {
        rows: 2,
        cols: 2,
        depth: 3,
    };
    small_product_by_rows(&mut c, 2, &[0.0; 6], 3, &[0.0; 5], 3, shape);
}
