//! Two small classic sets: the 4-row XOR truth table and scikit-learn's `make_moons`.
//!
//! Moons: with n₀ = ⌊samples/2⌋ and n₁ = samples − n₀, and tₖ evenly spaced on [0, π]
//! (`linspace`), class 0 is the upper half-circle (cos t, sin t) and class 1 the lower one
//! (1 − cos t, 0.5 − sin t); each coordinate then gets N(0, noise²) added (noise is the standard
//! deviation, as in scikit-learn). Unlike scikit-learn, rows are not shuffled: class 0 comes
//! first. Splits and batches shuffle anyway.

use crate::playground::two_d_classes;
use crate::Dataset;
use backprop_tensor::SeededRng;
use std::f64::consts::PI;

/// The XOR truth table: inputs x1, x2 ∈ {0, 1}, class 1 when exactly one is 1.
///
/// ```
/// let data = backprop_data::xor_table();
/// assert_eq!(data.len(), 4);
/// assert_eq!(data.labels(), Some(&[0, 1, 1, 0][..]));
/// ```
pub fn xor_table() -> Dataset {
    let points = vec![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    two_d_classes("xor-table", points, vec![0, 1, 1, 0])
}

/// `count` evenly spaced values from 0 to π inclusive, as numpy's `linspace(0, π, count)`.
fn linspace_to_pi(count: usize) -> impl Iterator<Item = f64> {
    let step = if count > 1 {
        PI / (count - 1) as f64
    } else {
        0.0
    };
    (0..count).map(move |k| {
        if k + 1 == count && count > 1 {
            PI
        } else {
            k as f64 * step
        }
    })
}

/// Two interleaving half-circles, as scikit-learn's `make_moons(samples, noise=noise)`.
pub(crate) fn moons(samples: usize, noise: f64, rng: &mut SeededRng) -> Dataset {
    let outer = samples / 2;
    let inner = samples - outer;
    let mut points: Vec<[f64; 2]> = Vec::with_capacity(samples);
    points.extend(linspace_to_pi(outer).map(|t| [libm::cos(t), libm::sin(t)]));
    points.extend(linspace_to_pi(inner).map(|t| [1.0 - libm::cos(t), 1.0 - libm::sin(t) - 0.5]));
    for point in &mut points {
        point[0] += noise * rng.normal();
        point[1] += noise * rng.normal();
    }
    let labels = (0..samples).map(|i| usize::from(i >= outer)).collect();
    two_d_classes("moons", points, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_table_is_the_truth_table() {
        let data = xor_table();
        assert_eq!(
            data.features.as_slice(),
            &[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
        );
        assert_eq!(data.labels(), Some(&[0, 1, 1, 0][..]));
        assert_eq!(data.feature_names, vec!["x1", "x2"]);
        assert_eq!(data.class_names().unwrap(), &["0", "1"]);
        assert_eq!(data.name, "xor-table");
    }

    #[test]
    fn linspace_matches_numpy_ends() {
        let v: Vec<f64> = linspace_to_pi(5).collect();
        assert_eq!(v[0], 0.0);
        assert_eq!(v[4], PI);
        assert!((v[2] - PI / 2.0).abs() < 1e-15);
        assert_eq!(linspace_to_pi(1).collect::<Vec<_>>(), vec![0.0]);
        assert_eq!(linspace_to_pi(0).count(), 0);
    }

    #[test]
    fn moons_without_noise_lie_on_their_half_circles() {
        let data = moons(101, 0.0, &mut SeededRng::new(3));
        assert_eq!(data.class_counts(), Some(vec![50, 51]));
        for (i, &label) in data.labels().unwrap().iter().enumerate() {
            let [x, y] = [data.features.row(i)[0], data.features.row(i)[1]];
            let (cx, cy) = if label == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let r = (x - cx).hypot(y - cy);
            assert!((r - 1.0).abs() < 1e-5, "row {i}: r = {r}");
            if label == 0 {
                assert!(y >= -1e-6);
            } else {
                assert!(y <= 0.5 + 1e-6);
            }
        }
        // The ends: outer moon from (1, 0) to (−1, 0); inner from (0, 0.5) to (2, 0.5).
        assert_eq!(data.features.row(0), &[1.0, 0.0]);
        assert_eq!(data.features.row(100), &[2.0, 0.5]);
    }

    #[test]
    fn moons_noise_is_gaussian_with_the_given_std() {
        let clean = moons(4000, 0.0, &mut SeededRng::new(5));
        let noisy = moons(4000, 0.2, &mut SeededRng::new(5));
        let diffs: Vec<f64> = noisy
            .features
            .as_slice()
            .iter()
            .zip(clean.features.as_slice())
            .map(|(a, b)| f64::from(a - b))
            .collect();
        let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
        let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / diffs.len() as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var.sqrt() - 0.2).abs() < 0.01, "{}", var.sqrt());
    }
}
