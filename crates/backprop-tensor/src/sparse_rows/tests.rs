use super::*;
use crate::SeededRng;

/// A rows × cols matrix with about `density` of its values not zero, in small multiples of
/// ¼ (so that sums of a few dozen products are exact, fused or not).
fn mostly_zero<T: Float>(rows: usize, cols: usize, density: f64, seed: u64) -> Matrix<T> {
    let mut rng = SeededRng::new(seed);
    let noise = Matrix::<f64>::random_uniform(rows, cols, 0.0, 1.0, &mut rng);
    let values = noise
        .as_slice()
        .iter()
        .enumerate()
        .map(|(i, &u)| match u < density {
            true => T::from_f64(((i % 9) as f64 - 4.0) * 0.25),
            false => T::ZERO,
        })
        .collect();
    Matrix::from_vec(rows, cols, values).unwrap()
}

fn dense<T: Float>(rows: usize, cols: usize, seed: u64) -> Matrix<T> {
    mostly_zero(rows, cols, 2.0, seed)
}

/// The plain triple loop: Σₖ L(i, k)·R(k, j).
fn naive<T: Float>(l: &Matrix<T>, r: &Matrix<T>) -> Matrix<T> {
    let mut out = Matrix::zeros(l.rows(), r.cols());
    for i in 0..l.rows() {
        for j in 0..r.cols() {
            let mut sum = T::ZERO;
            for k in 0..l.cols() {
                sum += l.as_slice()[i * l.cols() + k] * r.as_slice()[k * r.cols() + j];
            }
            out.as_mut_slice()[i * r.cols() + j] = sum;
        }
    }
    out
}

/// Awkward shapes: rows and columns across the vector widths, the panel width (128 `f32`, 64
/// `f64`) and the task sizes, empty rows, all-zero and all-non-zero matrices.
const SHAPES: [(usize, usize, usize); 8] = [
    (1, 1, 1),
    (3, 17, 5),
    (16, 64, 16),
    (17, 65, 33),
    (40, 130, 100),
    (5, 7, 129),
    (33, 300, 200),
    (2, 20, 0),
];

fn agrees_with_naive<T: Float>() {
    for (case, &(rows, inputs, units)) in SHAPES.iter().enumerate() {
        for density in [0.0, 0.05, 0.2, 1.0] {
            let x = mostly_zero::<T>(rows, inputs, density, case as u64);
            let s = SparseRows::from_dense(&x);
            assert_eq!(s.rows(), rows);
            let zeros = x.as_slice().iter().filter(|&&v| v == T::ZERO).count();
            assert_eq!(s.non_zeros(), rows * inputs - zeros);
            // Z = X·B, B inputs × units.
            let b = dense::<T>(inputs, units, 100 + case as u64);
            let mut z = Matrix::from_vec(1, 1, vec![T::from_f64(7.0)]).unwrap();
            sparse_product(&mut z, &s, &AlignedRows::from_matrix(&b));
            assert_eq!(
                z.as_slice(),
                naive(&x, &b).as_slice(),
                "Z: {rows}×{inputs}×{units} at {density}"
            );
            // G = Xᵀ·D, D rows × units: Xᵀ by its non-zeros, times D.
            let d = dense::<T>(rows, units, 200 + case as u64);
            let mut st = SparseRows::from_dense(&dense::<T>(4, 9, 3));
            st.fill_transposed_from(&x);
            assert_eq!(st.row(0), SparseRows::from_dense(&x.transpose()).row(0));
            assert_eq!(
                (st.rows(), st.cols(), st.non_zeros()),
                (inputs, rows, s.non_zeros())
            );
            let mut g = Matrix::from_vec(1, 1, vec![T::from_f64(7.0)]).unwrap();
            let mut aligned = AlignedRows::from_matrix(&dense::<T>(3, 5, 1));
            copy_into(&d, &mut aligned);
            sparse_product(&mut g, &st, &aligned);
            let expected = naive(&x.transpose(), &d);
            assert_eq!(
                g.as_slice(),
                expected.as_slice(),
                "G: {rows}×{inputs}×{units} at {density}"
            );
            // The transposes, through blocks and padding.
            let mut back = Matrix::zeros(0, 0);
            g.transpose_into(&mut back);
            assert_eq!(back, expected.transpose());
            let mut again = AlignedRows::new();
            again.transpose_from(&back);
            assert_eq!(again.to_matrix(), expected);
            again.transpose_into(&mut back);
            assert_eq!(back, expected.transpose());
        }
    }
}

#[test]
fn products_agree_with_the_triple_loop_in_f32() {
    agrees_with_naive::<f32>();
}

#[test]
fn products_agree_with_the_triple_loop_in_f64() {
    agrees_with_naive::<f64>();
}

#[test]
fn rows_keep_their_non_zeros_in_column_order() {
    let x = mostly_zero::<f32>(9, 37, 0.3, 5);
    let mut s = SparseRows::new();
    // Refilled from a larger matrix first: nothing of it may remain.
    s.fill_from(&mostly_zero::<f32>(20, 50, 0.9, 6));
    s.fill_from(&x);
    assert_eq!((s.rows(), s.cols()), (9, 37));
    for i in 0..9 {
        let (columns, values) = s.row(i);
        let row = &x.as_slice()[i * 37..][..37];
        let expected: Vec<(u32, f32)> = row
            .iter()
            .enumerate()
            .filter(|(_, &v)| v != 0.0)
            .map(|(j, &v)| (j as u32, v))
            .collect();
        let got: Vec<(u32, f32)> = columns
            .iter()
            .copied()
            .zip(values.iter().copied())
            .collect();
        assert_eq!(got, expected, "row {i}");
    }
    // −0.0 is a zero; NaN is not.
    let special = Matrix::from_rows(&[[-0.0f64, f64::NAN, 0.0, 1.0]]).unwrap();
    let s = SparseRows::from_dense(&special);
    assert_eq!(s.row(0).0, &[1, 3]);
}

/// Sums of arbitrary values (not exact): the same bits on a team of threads as alone.
#[test]
fn threads_change_no_bit() {
    let mut rng = SeededRng::new(9);
    let noise = Matrix::<f32>::random_uniform(200, 784, 0.0, 1.0, &mut rng);
    let x = Matrix::from_vec(
        200,
        784,
        noise
            .as_slice()
            .iter()
            .map(|&u| if u < 0.8 { 0.0 } else { u * 3.0 - 1.0 })
            .collect(),
    )
    .unwrap();
    let w = Matrix::<f32>::random_uniform(100, 784, -0.1, 0.1, &mut rng);
    let d = Matrix::<f32>::random_uniform(200, 100, -0.1, 0.1, &mut rng);
    let s = SparseRows::from_dense(&x);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            team::run(|| {
                let (mut z, mut g, mut wt) =
                    (Matrix::zeros(0, 0), Matrix::zeros(0, 0), AlignedRows::new());
                wt.transpose_from(&w);
                sparse_product(&mut z, &s, &wt);
                let mut st = SparseRows::new();
                st.fill_transposed_from(&x);
                sparse_product(&mut g, &st, &AlignedRows::from_matrix(&d));
                (z, g)
            })
        })
    };
    let (z1, g1) = run(1);
    for threads in [2, 3, 4, 8] {
        let (z, g) = run(threads);
        assert_eq!(z.as_slice(), z1.as_slice(), "Z, {threads} threads");
        assert_eq!(g.as_slice(), g1.as_slice(), "G, {threads} threads");
    }
    // And close to the dense product.
    let dense_z = naive(&x, &w.transpose());
    for (a, b) in z1.as_slice().iter().zip(dense_z.as_slice()) {
        assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

/// The plain forms (which this machine's CPU may never pick) against the triple loop.
#[test]
fn the_plain_forms_agree_with_the_triple_loop() {
    let (rows, inputs, units) = (7, 45, 37);
    let x = mostly_zero::<f64>(rows, inputs, 0.3, 11);
    let b = dense::<f64>(inputs, units, 12);
    let d = dense::<f64>(rows, units, 13);
    let s = SparseRows::from_dense(&x);
    for (i, row) in x.as_slice().chunks_exact(inputs).enumerate() {
        let (mut columns, mut values) = (vec![0u32; inputs], vec![0.0; inputs]);
        // SAFETY: room for the whole row in both.
        let count = unsafe { plain_compress(row, columns.as_mut_ptr(), values.as_mut_ptr()) };
        assert_eq!(s.row(i), (&columns[..count], &values[..count]));
    }
    let mut z = vec![0.0; rows * units];
    for (i, out) in z.chunks_exact_mut(units).enumerate() {
        let (columns, values) = s.row(i);
        plain_product_row(out, columns, values, b.as_slice(), units);
    }
    assert_eq!(z, naive(&x, &b).as_slice());
    let _ = d;
}
