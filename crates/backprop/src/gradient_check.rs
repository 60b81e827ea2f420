//! Gradient checking: backprop's ∂C/∂θ against central finite differences, in `f64`.
//!
//! For every parameter θ: ĝ = (C(θ + h) − C(θ − h)) / 2h with h = 1e-6·max(1, |θ|), and
//! error = |g − ĝ| / max(|g| + |ĝ|, 1e-7). Dropout is off (a finite difference needs the same
//! function on both sides).
//!
//! ReLU and leaky ReLU have a kink at z = 0, where the one-sided slopes differ and a finite
//! difference straddling it measures neither. When ±h moves any of their pre-activations across
//! 0, the parameter is skipped and counted, per layer, in the report. Max-pooling has the same
//! kind of kink where two inputs of a window tie: a parameter whose ±h changes any window's
//! winner is skipped too.

use crate::layer::Layer;
use crate::network::Network;
use crate::pool::PoolKind;
use backprop_tensor::{Float, Matrix};

/// The finite-difference step relative to |θ|: h = `RELATIVE_STEP`·max(1, |θ|).
pub const RELATIVE_STEP: f64 = 1e-6;

/// The result for one layer with parameters (`layers.{index}.*`).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerCheck {
    /// i in `layers.{i}`.
    pub index: usize,
    /// The largest relative error over the layer's checked parameters.
    pub max_error: f64,
    /// The parameter with that error, e.g. `layers.0.weight[2, 1]`.
    pub worst: String,
    /// The largest absolute difference |g − ĝ| over the layer's checked parameters.
    ///
    /// In `f64` with h = 1e-6, ĝ itself is only good to about 1e-10 absolute (rounding in C,
    /// about 1e-16·|C|, divided by 2h), so a gradient much smaller than 1e-4 cannot show a
    /// relative error below 1e-6 however right backprop is; this figure tells those apart.
    pub max_absolute_error: f64,
    /// How many parameters were compared.
    pub checked: usize,
    /// How many were skipped because ±h moved a kinked pre-activation across 0.
    pub skipped: usize,
}

/// The result of a gradient check.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientCheckReport {
    /// One entry per layer with parameters.
    pub layers: Vec<LayerCheck>,
}

impl GradientCheckReport {
    /// The largest error over all layers.
    pub fn max_error(&self) -> f64 {
        self.layers.iter().map(|l| l.max_error).fold(0.0, f64::max)
    }

    /// Parameters compared in all.
    pub fn checked(&self) -> usize {
        self.layers.iter().map(|l| l.checked).sum()
    }

    /// Parameters skipped at kinks in all.
    pub fn skipped(&self) -> usize {
        self.layers.iter().map(|l| l.skipped).sum()
    }

    /// True when every compared parameter's error is below `tolerance`.
    pub fn passed(&self, tolerance: f64) -> bool {
        self.max_error() < tolerance
    }

    /// True when every layer either has every relative error below `tolerance`, or every
    /// absolute difference |g − ĝ| below `resolution` (gradients too small for the finite
    /// difference to resolve; see [`LayerCheck::max_absolute_error`]).
    pub fn passed_within_resolution(&self, tolerance: f64, resolution: f64) -> bool {
        self.layers
            .iter()
            .all(|l| l.max_error < tolerance || l.max_absolute_error < resolution)
    }
}

/// The cost at the current weights (no dropout), and the pattern of every kink: the sign of
/// each kinked pre-activation (ReLU, leaky ReLU), and the winner of each max-pooling window.
fn cost_and_kink_signs(
    network: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> (f64, Vec<u32>) {
    let mut signs = Vec::new();
    let mut a = x.clone();
    let layers = network.layers();
    let mut z_last = None;
    for layer in layers {
        let (z, activation) = match layer {
            Layer::Dense(dense) => (dense.weighted_input(&a), dense.activation),
            Layer::Convolution(conv) => (conv.weighted_input(&a), conv.activation),
            Layer::Pool(pool) => {
                if pool.kind() == PoolKind::Max {
                    signs.extend(pool.winners(&a));
                }
                a = layer.infer(&a);
                continue;
            }
            Layer::Dropout(_) => {
                a = layer.infer(&a);
                continue;
            }
        };
        if activation.is_kinked() {
            signs.extend(z.as_slice().iter().map(|&v| u32::from(v > 0.0)));
        }
        a = activation.forward(&z);
        z_last = Some(z);
    }
    let z = z_last.expect("a network has a dense output layer");
    (network.cost().loss(&z, &a, y) + network.penalty(), signs)
}

/// Checks every parameter of `network` on the batch (`x`, `y`), in `f64` (an `f32` network is
/// converted first, weights rounded to the same values).
///
/// ```
/// use backprop::{gradient_check, Activation, Cost, NetworkConfig};
/// use backprop_tensor::Matrix;
/// let net = NetworkConfig::new(&[2, 3, 1], Cost::Quadratic)
///     .with_hidden_activation(Activation::Sigmoid)
///     .with_output_activation(Activation::Sigmoid)
///     .with_seed(1)
///     .init::<f64>()
///     .unwrap();
/// let x = Matrix::from_rows(&[[0.0, 1.0], [1.0, 1.0]]).unwrap();
/// let y = Matrix::from_rows(&[[1.0], [0.0]]).unwrap();
/// let report = gradient_check(&net, &x, &y);
/// assert_eq!(report.checked(), 13);
/// assert!(report.max_error() < 1e-6);
/// ```
///
/// # Panics
/// When `x` or `y` have the wrong shape.
#[track_caller]
pub fn gradient_check<T: Float>(
    network: &Network<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
) -> GradientCheckReport {
    let mut probe = network.cast::<f64>();
    let (x, y) = (x.cast::<f64>(), y.cast::<f64>());
    // Backprop's gradient, without dropout: the trace runs in inference mode, and so does the
    // backward pass of a network with image layers (which the trace does not cover).
    let analytic: Vec<Matrix<f64>> = if network.feature_count() == 0 {
        let trace = probe.trace(&x, &y);
        trace
            .layers
            .iter()
            .flat_map(|l| [l.weight_gradient.clone(), l.bias_gradient.clone()])
            .collect()
    } else {
        let (_, gradients) = probe.backward_without_dropout(&x, &y);
        gradients.entries.into_iter().map(|(_, g)| g).collect()
    };
    let (_, base_signs) = cost_and_kink_signs(&probe, &x, &y);
    let mut layers: Vec<LayerCheck> = Vec::new();
    let names: Vec<String> = probe.parameters().into_iter().map(|(n, _)| n).collect();
    for (position, name) in names.iter().enumerate() {
        let index: usize = name
            .trim_start_matches("layers.")
            .split('.')
            .next()
            .and_then(|i| i.parse().ok())
            .expect("parameters are named layers.{i}.{name}");
        let gradient = &analytic[position];
        if layers.last().is_none_or(|last| last.index != index) {
            layers.push(LayerCheck {
                index,
                max_error: 0.0,
                worst: String::new(),
                max_absolute_error: 0.0,
                checked: 0,
                skipped: 0,
            });
        }
        let entry = layers.last_mut().expect("pushed above");
        let count = gradient.len();
        let cols = gradient.cols();
        for k in 0..count {
            let original = probe
                .parameter(name)
                .expect("name from parameters()")
                .as_slice()[k];
            let h = RELATIVE_STEP * original.abs().max(1.0);
            let mut evaluate = |value: f64| {
                probe
                    .parameter_mut(name)
                    .expect("name from parameters()")
                    .as_mut_slice()[k] = value;
                cost_and_kink_signs(&probe, &x, &y)
            };
            let (plus, plus_signs) = evaluate(original + h);
            let (minus, minus_signs) = evaluate(original - h);
            evaluate(original);
            if plus_signs != base_signs || minus_signs != base_signs {
                entry.skipped += 1;
                continue;
            }
            let numeric = (plus - minus) / (2.0 * h);
            let g = gradient.as_slice()[k];
            let error = (g - numeric).abs() / (g.abs() + numeric.abs()).max(1e-7);
            entry.checked += 1;
            entry.max_absolute_error = entry.max_absolute_error.max((g - numeric).abs());
            if error > entry.max_error || entry.worst.is_empty() {
                entry.max_error = entry.max_error.max(error);
                entry.worst = format!("{name}[{}, {}]", k / cols, k % cols);
            }
        }
    }
    GradientCheckReport { layers }
}

/// Compares the gradients backprop computes in `T` (usually `f32`) with the `f64` reference on
/// the same weights: for each tensor, ‖g_T − g_f64‖ / max(‖g_f64‖, 1e-12).
pub fn precision_gap<T: Float>(
    network: &Network<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
) -> Vec<(String, f64)> {
    let low = network.trace(x, y);
    let high = network.cast::<f64>().trace(&x.cast(), &y.cast());
    let mut out = Vec::new();
    for (i, (l, h)) in low.layers.iter().zip(&high.layers).enumerate() {
        for (suffix, lg, hg) in [
            ("weight", &l.weight_gradient, &h.weight_gradient),
            ("bias", &l.bias_gradient, &h.bias_gradient),
        ] {
            let gap = lg.cast::<f64>().sub(hg).norm() / hg.norm().max(1e-12);
            out.push((format!("layers.{i}.{suffix}"), gap));
        }
    }
    out
}
