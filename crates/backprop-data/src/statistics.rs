//! Column statistics and the per-column affine map shared by the scalers:
//! μⱼ = (1/n) Σᵢ xᵢⱼ, σⱼ = √((1/n) Σᵢ (xᵢⱼ − μⱼ)²) (population, as scikit-learn), and
//! x′ = (x − shiftⱼ)/divisorⱼ with its inverse x = x′·divisorⱼ + shiftⱼ, all in `f64`.

use backprop_tensor::{Float, Matrix};

/// Per-column mean and population standard deviation, in `f64`; σ is 1 for a (near-)constant
/// column, and an empty matrix gives μ = 0, σ = 1.
pub(crate) fn column_mean_std<T: Float>(matrix: &Matrix<T>) -> (Vec<f64>, Vec<f64>) {
    let (rows, cols) = matrix.shape();
    if rows == 0 {
        return (vec![0.0; cols], vec![1.0; cols]);
    }
    let mut mean = vec![0.0; cols];
    for i in 0..rows {
        for (m, v) in mean.iter_mut().zip(matrix.row(i)) {
            *m += v.to_f64();
        }
    }
    mean.iter_mut().for_each(|m| *m /= rows as f64);
    let mut variance = vec![0.0; cols];
    for i in 0..rows {
        for ((s, v), m) in variance.iter_mut().zip(matrix.row(i)).zip(&mean) {
            *s += (v.to_f64() - m).powi(2);
        }
    }
    let std = variance
        .iter()
        .zip(&mean)
        .map(|(s, m)| {
            let std = (s / rows as f64).sqrt();
            // Constant up to rounding (scikit-learn's 10·ε test): divide by 1 instead.
            if std > 10.0 * f64::EPSILON * m.abs().max(1.0) {
                std
            } else {
                1.0
            }
        })
        .collect();
    (mean, std)
}

/// The divisor of a min-max column: max − min, or 1 when that is 0 (or not a positive number).
pub(crate) fn range_or_one(min: f64, max: f64) -> f64 {
    let range = max - min;
    if range > 0.0 && range.is_finite() {
        range
    } else {
        1.0
    }
}

/// Applies x′ = (x − shift)/divisor column by column.
///
/// # Panics
/// When the matrix width differs from the number of fitted columns.
#[track_caller]
pub(crate) fn affine<T: Float>(
    matrix: &Matrix<T>,
    shift: &[f64],
    divisor: impl Fn(usize) -> f64,
    inverse: bool,
) -> Matrix<T> {
    assert_eq!(
        matrix.cols(),
        shift.len(),
        "scaler fitted on {} columns applied to {}",
        shift.len(),
        matrix.cols()
    );
    let divisors: Vec<f64> = (0..shift.len()).map(divisor).collect();
    Matrix::from_fn(matrix.rows(), matrix.cols(), |i, j| {
        let x = matrix[(i, j)].to_f64();
        T::from_f64(if inverse {
            x * divisors[j] + shift[j]
        } else {
            (x - shift[j]) / divisors[j]
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_population_std() {
        let m = Matrix::<f32>::from_rows(&[[1.0, 5.0], [3.0, 5.0]]).unwrap();
        let (mean, std) = column_mean_std(&m);
        assert_eq!(mean, vec![2.0, 5.0]);
        assert_eq!(std, vec![1.0, 1.0]); // column 1 is constant: σ taken as 1
        let (mean, std) = column_mean_std(&Matrix::<f64>::zeros(0, 3));
        assert_eq!((mean, std), (vec![0.0; 3], vec![1.0; 3]));
    }

    #[test]
    fn near_constant_columns_count_as_constant() {
        let m = Matrix::<f32>::from_fn(1000, 1, |_, _| 0.1);
        let (mean, std) = column_mean_std(&m);
        assert!((mean[0] - 0.1).abs() < 1e-7);
        assert_eq!(std[0], 1.0);
    }

    #[test]
    fn range_falls_back_to_one() {
        assert_eq!(range_or_one(1.0, 3.0), 2.0);
        assert_eq!(range_or_one(2.0, 2.0), 1.0);
        assert_eq!(range_or_one(f64::INFINITY, f64::NEG_INFINITY), 1.0);
    }

    #[test]
    fn affine_and_its_inverse() {
        let m = Matrix::<f64>::from_rows(&[[4.0, -1.0]]).unwrap();
        let shift = [2.0, 1.0];
        let scaled = affine(&m, &shift, |j| [2.0, 4.0][j], false);
        assert_eq!(scaled.as_slice(), &[1.0, -0.5]);
        assert_eq!(affine(&scaled, &shift, |j| [2.0, 4.0][j], true), m);
    }

    #[test]
    #[should_panic(expected = "scaler fitted on 2 columns applied to 1")]
    fn affine_refuses_a_different_width() {
        affine(&Matrix::<f32>::zeros(1, 1), &[0.0, 0.0], |_| 1.0, false);
    }
}
