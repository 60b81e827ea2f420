//! Softmax over each row: aⱼ = e^(zⱼ − m) / Σₖ e^(zₖ − m), with m = maxₖ zₖ so no exponent overflows.
//!
//! Its Jacobian is ∂aⱼ/∂zᵢ = aⱼ(𝟙ᵢⱼ − aᵢ), so the backward pass is
//! ∂C/∂zᵢ = aᵢ (∂C/∂aᵢ − Σⱼ ∂C/∂aⱼ aⱼ). With cross-entropy the product collapses to a − y,
//! which the cost uses directly (see `cost::softmax_cross_entropy`).

use backprop_tensor::{Float, Matrix};

/// Row-wise softmax of a batch.
pub fn forward<T: Float>(z: &Matrix<T>) -> Matrix<T> {
    let mut a = z.clone();
    for i in 0..a.rows() {
        row_in_place(a.row_mut(i));
    }
    a
}

/// Softmax of one row in place: the max, the exponentials (a vectorisable loop), their sum in
/// column order, then the division.
#[inline(always)]
pub fn row_in_place<T: Float>(row: &mut [T]) {
    let max = row.iter().fold(row[0], |m, &v| m.max(v));
    for v in row.iter_mut() {
        *v = (*v - max).exp_simd();
    }
    let mut total = T::ZERO;
    for &v in row.iter() {
        total += v;
    }
    for v in row.iter_mut() {
        *v /= total;
    }
}

/// log Σⱼ e^zⱼ of one row, stably: m + ln Σⱼ e^(zⱼ − m).
pub fn log_sum_exp<T: Float>(row: &[T]) -> T {
    let max = row.iter().fold(row[0], |m, &v| m.max(v));
    let mut total = T::ZERO;
    for &v in row {
        total += (v - max).exp_simd();
    }
    max + total.ln()
}

/// ∂C/∂z = a ⊙ (∂C/∂a − (∂C/∂a · a)) per row: the Jacobian-vector product.
pub fn backward<T: Float>(a: &Matrix<T>, grad_output: &Matrix<T>) -> Matrix<T> {
    let mut delta = grad_output.clone();
    backward_into(a, grad_output, &mut delta);
    delta
}

/// [`backward`] into a reused buffer.
pub fn backward_into<T: Float>(a: &Matrix<T>, grad_output: &Matrix<T>, delta: &mut Matrix<T>) {
    delta.copy_from(grad_output);
    for i in 0..a.rows() {
        let a_row = a.row(i);
        let dot: T = a_row
            .iter()
            .zip(grad_output.row(i))
            .map(|(&p, &g)| p * g)
            .sum();
        for (d, &p) in delta.row_mut(i).iter_mut().zip(a_row) {
            *d = p * (*d - dot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_at_large_logits() {
        let z = Matrix::<f32>::row_vector(&[1e4, -1e4, 0.0]);
        let a = forward(&z);
        assert_eq!(a.as_slice(), &[1.0, 0.0, 0.0]);
        assert!(log_sum_exp(z.as_slice()).is_finite());
    }

    #[test]
    fn jacobian_product_matches_finite_differences() {
        let z = Matrix::<f64>::row_vector(&[0.3, -1.2, 2.0, 0.1]);
        let g = Matrix::<f64>::row_vector(&[0.5, -1.0, 0.25, 2.0]);
        let analytic = backward(&forward(&z), &g);
        for i in 0..4 {
            let h = 1e-6;
            let mut plus = z.clone();
            plus[(0, i)] += h;
            let mut minus = z.clone();
            minus[(0, i)] -= h;
            let c = |m: &Matrix<f64>| forward(m).hadamard(&g).sum();
            let numeric = (c(&plus) - c(&minus)) / (2.0 * h);
            assert!((numeric - analytic[(0, i)]).abs() < 1e-8);
        }
    }
}
