//! Gradient clipping by global norm, as PyTorch's `clip_grad_norm_`.
//!
//! The global norm of gradients g₁, …, gₙ is N = √(Σᵢ Σⱼ gᵢⱼ²), accumulated in `f64` in a fixed
//! order (gradient by gradient, element by element). When c = max_norm/(N + 10⁻⁶) < 1, that is
//! when N exceeds max_norm (up to the 10⁻⁶), every gradient is scaled by c, so ‖g‖ ≈ max_norm.

use super::{require_positive, OptimError};
use backprop_tensor::{Float, Matrix};

/// Σ of squares over all elements, gradient by gradient, in `f64`.
fn sum_of_squares<'a, T: Float>(slices: impl Iterator<Item = &'a [T]>) -> f64 {
    slices.flatten().fold(0.0, |sum, &value| {
        let value = value.to_f64();
        sum + value * value
    })
}

/// The global Euclidean norm √(Σᵢ ‖gᵢ‖²) of `gradients`, in `f64`, in a fixed order.
pub fn global_norm<T: Float>(gradients: &[&Matrix<T>]) -> f64 {
    sum_of_squares(gradients.iter().map(|g| g.as_slice())).sqrt()
}

/// Scales every gradient by max_norm/(N + 10⁻⁶) when that factor is below 1, and returns the
/// global norm N measured before clipping (PyTorch's `clip_grad_norm_`).
///
/// `max_norm` should be finite and > 0 ([`validate_max_norm`] checks one read from a user);
/// a NaN `max_norm` leaves the gradients untouched. A non-finite N is returned as is, and the
/// gradients are then scaled by 0 (N infinite) or left untouched (N NaN).
pub fn clip_by_global_norm<T: Float>(gradients: &mut [&mut Matrix<T>], max_norm: f64) -> f64 {
    let norm = sum_of_squares(gradients.iter().map(|g| g.as_slice())).sqrt();
    let coefficient = max_norm / (norm + 1e-6);
    if coefficient < 1.0 {
        let coefficient = T::from_f64(coefficient);
        for gradient in gradients.iter_mut() {
            gradient.map_in_place(|value| value * coefficient);
        }
    }
    norm
}

/// Checks a clipping threshold: finite and > 0.
pub fn validate_max_norm(max_norm: f64) -> Result<(), OptimError> {
    require_positive("clip", "max_norm", max_norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrices() -> (Matrix<f64>, Matrix<f64>) {
        let a = Matrix::from_rows(&[[3.0, 0.0], [0.0, 0.0]]).unwrap();
        (a, Matrix::row_vector(&[4.0]))
    }

    #[test]
    fn below_the_threshold_nothing_changes() {
        let (mut a, mut b) = matrices();
        let norm = clip_by_global_norm(&mut [&mut a, &mut b], 10.0);
        assert_eq!(norm, 5.0);
        assert_eq!(a.as_slice(), &[3.0, 0.0, 0.0, 0.0]);
        assert_eq!(b.as_slice(), &[4.0]);
    }

    #[test]
    fn above_the_threshold_every_gradient_scales() {
        let (mut a, mut b) = matrices();
        let norm = clip_by_global_norm(&mut [&mut a, &mut b], 1.0);
        assert_eq!(norm, 5.0);
        let factor = 1.0 / (5.0 + 1e-6);
        assert_eq!(a.as_slice(), &[3.0 * factor, 0.0, 0.0, 0.0]);
        assert_eq!(b.as_slice(), &[4.0 * factor]);
        assert!((global_norm(&[&a, &b]) - 1.0).abs() < 1e-6);
        // Clipping again measures the clipped norm and changes nothing more than 1e-6 would.
        assert!((clip_by_global_norm(&mut [&mut a, &mut b], 1.0) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn f32_gradients_and_empty_lists() {
        let mut g = Matrix::<f32>::row_vector(&[30.0, -40.0]);
        let norm = clip_by_global_norm(&mut [&mut g], 5.0);
        assert_eq!(norm, 50.0);
        assert!((g.as_slice()[0] - 3.0).abs() < 1e-5 && (g.as_slice()[1] + 4.0).abs() < 1e-5);
        assert_eq!(clip_by_global_norm::<f32>(&mut [], 1.0), 0.0);
        let mut zero = Matrix::<f32>::zeros(2, 2);
        assert_eq!(clip_by_global_norm(&mut [&mut zero], 1.0), 0.0);
        assert!(zero.as_slice().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn max_norm_validation() {
        assert!(validate_max_norm(1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = validate_max_norm(bad).unwrap_err();
            assert!(err.to_string().contains("max_norm"), "{err}");
        }
    }
}
