//! The six 2-D generators of TensorFlow Playground (`dataset.ts`), with the same geometry.
//!
//! Points live in a square of half-width 5 (classification) or 6 (regression); the features are
//! named `x1`, `x2`. The playground's labels ±1 become classes 1 (+1) and 0 (−1); its regression
//! labels are kept as values. `noise` is the playground's slider divided by 100, so 0.0–0.5.
//! - **circle**: class 1 drawn at radius r ~ U(0, 2.5), class 0 at r ~ U(3.5, 5), angle
//!   ~ U(0, 2π), point (r sin θ, r cos θ); the label is 1 when ‖p + ε‖ < 2.5, ε ~ U(−5, 5)²·noise.
//! - **xor**: x, y ~ U(−5, 5) pushed 0.3 away from the axes; label 1 when (x+εₓ)(y+εᵧ) ≥ 0.
//! - **gaussian**: two clusters N((2, 2), v) for class 1 and N((−2, −2), v) for class 0, with
//!   variance v = 0.5 + 7·noise (the playground maps noise 0–0.5 to variance 0.5–4).
//! - **spiral**: two arms; point i of n = samples/2 has r = 5i/n, t = 1.75·2π·i/n + Δ,
//!   (r sin t, r cos t) + U(−1, 1)²·noise, with Δ = 0 for class 1 and π for class 0.
//! - **plane**: x, y ~ U(−6, 6); value (x + εₓ + y + εᵧ)/10, ε ~ U(−6, 6)·noise.
//! - **multi-gaussian**: x, y ~ U(−6, 6); value ±max(0, 1 − d/2) from the nearest of six signed
//!   centres (±4 or 0, ±2.5), choosing the largest |value|.
//!
//! Every point draws its noise terms even when `noise` is 0, so for one seed the positions do
//! not depend on the noise. The first ⌈samples/2⌉ rows are class 1, then the rest class 0.

use crate::{Dataset, Targets};
use backprop_tensor::{Matrix, SeededRng};
use std::f64::consts::PI;

/// The half-width of the playground's classification domain.
const RADIUS: f64 = 5.0;
/// The half-width of the playground's regression domain.
const REGRESSION_RADIUS: f64 = 6.0;

/// A 2-D classification set with classes "0" and "1".
pub(crate) fn two_d_classes(name: &str, points: Vec<[f64; 2]>, labels: Vec<usize>) -> Dataset {
    Dataset {
        features: points_matrix(&points),
        targets: Targets::Classes {
            labels,
            class_names: vec!["0".into(), "1".into()],
        },
        feature_names: vec!["x1".into(), "x2".into()],
        name: name.into(),
        categories: Vec::new(),
    }
}

/// A 2-D regression set with one target column.
fn two_d_values(name: &str, points: Vec<[f64; 2]>, values: Vec<f64>) -> Dataset {
    let targets = Matrix::from_fn(values.len(), 1, |i, _| values[i] as f32);
    Dataset {
        features: points_matrix(&points),
        targets: Targets::Values(targets),
        feature_names: vec!["x1".into(), "x2".into()],
        name: name.into(),
        categories: Vec::new(),
    }
}

fn points_matrix(points: &[[f64; 2]]) -> Matrix<f32> {
    Matrix::from_fn(points.len(), 2, |i, j| points[i][j] as f32)
}

/// The playground's ±1 label as a class index.
fn class_of(positive: bool) -> usize {
    usize::from(positive)
}

/// Rows of class 1 (first) and class 0 (second).
fn halves(samples: usize) -> [usize; 2] {
    [samples.div_ceil(2), samples / 2]
}

/// Concentric circles: class 1 inside radius 2.5, class 0 in the ring 3.5–5.
pub(crate) fn circle(samples: usize, noise: f64, rng: &mut SeededRng) -> Dataset {
    let mut points = Vec::with_capacity(samples);
    let mut labels = Vec::with_capacity(samples);
    let [inner, outer] = halves(samples);
    let rings = [(0.0, RADIUS * 0.5, inner), (RADIUS * 0.7, RADIUS, outer)];
    for (low, high, count) in rings {
        for _ in 0..count {
            let r = rng.uniform_range(low, high);
            let angle = rng.uniform_range(0.0, 2.0 * PI);
            let x = r * libm::sin(angle);
            let y = r * libm::cos(angle);
            let noise_x = rng.uniform_range(-RADIUS, RADIUS) * noise;
            let noise_y = rng.uniform_range(-RADIUS, RADIUS) * noise;
            let distance = libm::hypot(x + noise_x, y + noise_y);
            points.push([x, y]);
            labels.push(class_of(distance < RADIUS * 0.5));
        }
    }
    two_d_classes("circle", points, labels)
}

/// Four quadrants: class 1 where x·y ≥ 0.
pub(crate) fn xor(samples: usize, noise: f64, rng: &mut SeededRng) -> Dataset {
    const PADDING: f64 = 0.3;
    let mut points = Vec::with_capacity(samples);
    let mut labels = Vec::with_capacity(samples);
    let pad = |v: f64| if v > 0.0 { v + PADDING } else { v - PADDING };
    for _ in 0..samples {
        let x = pad(rng.uniform_range(-RADIUS, RADIUS));
        let y = pad(rng.uniform_range(-RADIUS, RADIUS));
        let noise_x = rng.uniform_range(-RADIUS, RADIUS) * noise;
        let noise_y = rng.uniform_range(-RADIUS, RADIUS) * noise;
        points.push([x, y]);
        labels.push(class_of((x + noise_x) * (y + noise_y) >= 0.0));
    }
    two_d_classes("xor", points, labels)
}

/// Two Gaussian clusters at (2, 2) (class 1) and (−2, −2) (class 0).
pub(crate) fn gaussian(samples: usize, noise: f64, rng: &mut SeededRng) -> Dataset {
    let variance = 0.5 + noise * (4.0 - 0.5) / 0.5;
    let std = variance.sqrt();
    let mut points = Vec::with_capacity(samples);
    let mut labels = Vec::with_capacity(samples);
    let [positive, negative] = halves(samples);
    for (centre, label, count) in [(2.0, 1, positive), (-2.0, 0, negative)] {
        for _ in 0..count {
            let x = centre + std * rng.normal();
            let y = centre + std * rng.normal();
            points.push([x, y]);
            labels.push(label);
        }
    }
    two_d_classes("gaussian", points, labels)
}

/// Two interleaved spiral arms, 1.75 turns each, out to radius 5.
pub(crate) fn spiral(samples: usize, noise: f64, rng: &mut SeededRng) -> Dataset {
    let n = samples as f64 / 2.0;
    let mut points = Vec::with_capacity(samples);
    let mut labels = Vec::with_capacity(samples);
    let [positive, negative] = halves(samples);
    for (delta, label, count) in [(0.0, 1, positive), (PI, 0, negative)] {
        for i in 0..count {
            let fraction = i as f64 / n;
            let r = fraction * RADIUS;
            let t = 1.75 * fraction * 2.0 * PI + delta;
            let x = r * libm::sin(t) + rng.uniform_range(-1.0, 1.0) * noise;
            let y = r * libm::cos(t) + rng.uniform_range(-1.0, 1.0) * noise;
            points.push([x, y]);
            labels.push(label);
        }
    }
    two_d_classes("spiral", points, labels)
}

/// Draws a regression point and its noisy twin: (x, y) and (x + εₓ, y + εᵧ).
fn regression_point(noise: f64, rng: &mut SeededRng) -> ([f64; 2], [f64; 2]) {
    let x = rng.uniform_range(-REGRESSION_RADIUS, REGRESSION_RADIUS);
    let y = rng.uniform_range(-REGRESSION_RADIUS, REGRESSION_RADIUS);
    let noise_x = rng.uniform_range(-REGRESSION_RADIUS, REGRESSION_RADIUS) * noise;
    let noise_y = rng.uniform_range(-REGRESSION_RADIUS, REGRESSION_RADIUS) * noise;
    ([x, y], [x + noise_x, y + noise_y])
}

/// A tilted plane: value (x + y)/10, about −1.2…1.2.
pub(crate) fn plane(samples: usize, noise: f64, rng: &mut SeededRng) -> Dataset {
    let (points, values) = (0..samples)
        .map(|_| {
            let (point, [x, y]) = regression_point(noise, rng);
            (point, (x + y) / 10.0)
        })
        .unzip();
    two_d_values("plane", points, values)
}

/// The value of the multi-gaussian surface at (x, y).
fn multi_gaussian_value(x: f64, y: f64) -> f64 {
    const CENTRES: [(f64, f64, f64); 6] = [
        (-4.0, 2.5, 1.0),
        (0.0, 2.5, -1.0),
        (4.0, 2.5, 1.0),
        (-4.0, -2.5, -1.0),
        (0.0, -2.5, 1.0),
        (4.0, -2.5, -1.0),
    ];
    let mut value: f64 = 0.0;
    for (cx, cy, sign) in CENTRES {
        let height = (1.0 - libm::hypot(x - cx, y - cy) / 2.0).clamp(0.0, 1.0);
        let candidate = sign * height;
        if candidate.abs() > value.abs() {
            value = candidate;
        }
    }
    value
}

/// Six signed bumps of radius 2 on a 3 × 2 grid: values in [−1, 1].
pub(crate) fn multi_gaussian(samples: usize, noise: f64, rng: &mut SeededRng) -> Dataset {
    let (points, values) = (0..samples)
        .map(|_| {
            let (point, [x, y]) = regression_point(noise, rng);
            (point, multi_gaussian_value(x, y))
        })
        .unzip();
    two_d_values("multi-gaussian", points, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> SeededRng {
        SeededRng::new(11)
    }

    fn radius(data: &Dataset, i: usize) -> f64 {
        let row = data.features.row(i);
        f64::from(row[0]).hypot(f64::from(row[1]))
    }

    #[test]
    fn circle_inner_class_is_inside_radius_two_and_a_half() {
        let data = circle(400, 0.0, &mut rng());
        assert_eq!(data.class_counts(), Some(vec![200, 200]));
        for (i, &label) in data.labels().unwrap().iter().enumerate() {
            let r = radius(&data, i);
            if label == 1 {
                assert!(r < 2.5, "row {i}: r = {r}");
            } else {
                assert!((3.5..=5.0).contains(&r), "row {i}: r = {r}");
            }
        }
    }

    #[test]
    fn xor_labels_follow_quadrants_and_padding() {
        let data = xor(500, 0.0, &mut rng());
        for (i, &label) in data.labels().unwrap().iter().enumerate() {
            let [x, y] = [data.features.row(i)[0], data.features.row(i)[1]];
            assert!(x.abs() >= 0.3 && y.abs() >= 0.3 && x.abs() <= 5.3);
            assert_eq!(label, usize::from(x * y >= 0.0));
        }
        let ones = data.class_counts().unwrap()[1];
        assert!((200..300).contains(&ones), "{ones}");
    }

    #[test]
    fn gaussian_clusters_sit_at_plus_and_minus_two() {
        let data = gaussian(1000, 0.0, &mut rng());
        let labels = data.labels().unwrap();
        for class in [0, 1] {
            let rows: Vec<usize> = (0..1000).filter(|&i| labels[i] == class).collect();
            let mean_x: f32 =
                rows.iter().map(|&i| data.features.row(i)[0]).sum::<f32>() / rows.len() as f32;
            let expected = if class == 1 { 2.0 } else { -2.0 };
            assert!((mean_x - expected).abs() < 0.15, "class {class}: {mean_x}");
            assert_eq!(rows.len(), 500);
        }
    }

    #[test]
    fn spiral_arms_are_point_reflections_without_noise() {
        let data = spiral(200, 0.0, &mut rng());
        // Arm 0 is arm 1 turned by π: (x, y) ↦ (−x, −y), with radius growing to 5.
        for i in 0..100 {
            let a = data.features.row(i);
            let b = data.features.row(100 + i);
            assert!((a[0] + b[0]).abs() < 1e-5 && (a[1] + b[1]).abs() < 1e-5);
            assert!((radius(&data, i) - 5.0 * i as f64 / 100.0).abs() < 1e-5);
        }
        assert_eq!(data.labels().unwrap()[0], 1);
        assert_eq!(data.labels().unwrap()[199], 0);
    }

    #[test]
    fn regression_sets_have_the_playground_ranges() {
        let data = plane(300, 0.0, &mut rng());
        let Targets::Values(values) = &data.targets else {
            panic!("plane is regression")
        };
        for i in 0..300 {
            let row = data.features.row(i);
            assert!((values[(i, 0)] - (row[0] + row[1]) / 10.0).abs() < 1e-5);
            assert!(row[0].abs() <= 6.0 && row[1].abs() <= 6.0);
        }
        let data = multi_gaussian(300, 0.0, &mut rng());
        let Targets::Values(values) = &data.targets else {
            panic!("multi-gaussian is regression")
        };
        assert!(values.as_slice().iter().all(|v| (-1.0..=1.0).contains(v)));
        assert_eq!(multi_gaussian_value(-4.0, 2.5), 1.0);
        assert_eq!(multi_gaussian_value(0.0, 2.5), -1.0);
        assert_eq!(multi_gaussian_value(0.0, 0.0), 0.0);
    }

    #[test]
    fn noise_moves_labels_not_positions() {
        let clean = circle(200, 0.0, &mut rng());
        let noisy = circle(200, 0.5, &mut rng());
        assert_eq!(clean.features, noisy.features);
        assert_ne!(clean.labels(), noisy.labels());
    }
}
