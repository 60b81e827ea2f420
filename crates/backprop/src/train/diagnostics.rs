//! Per-layer learning diagnostics: how fast each layer learns, and how many of its units are
//! saturated — the figures of Nielsen's chapter 5 that show vanishing gradients.
//!
//! At the end of an epoch the trainer traces one fixed batch (the first
//! [`DIAGNOSTIC_ROWS`] training rows, in their stored order, without dropout) through
//! [`Network::trace`] and reduces every dense layer l to three numbers:
//!
//! - ‖δˡ‖: the length of ∂C/∂bˡ, the batch's δˡ summed over its examples with C the batch
//!   mean (BP3), which Nielsen calls the speed of learning of the layer;
//! - ‖∂C/∂wˡ‖: the Frobenius norm of the weight gradient (BP4);
//! - the saturated share of a sigmoid or tanh layer: the fraction of (example, unit) pairs
//!   whose σ′(z) is below a tenth of its peak (sigmoid: a < 0.026 or a > 0.974; tanh:
//!   |a| > 0.949), where a unit barely learns.
//!
//! The cost is one forward and backward pass over at most 256 rows per epoch.

use crate::activation::Activation;
use crate::network::Network;
use backprop_tensor::{Float, Matrix};
use serde::{Deserialize, Serialize};

/// Rows traced for the diagnostics of an epoch: the first this many training rows.
pub const DIAGNOSTIC_ROWS: usize = 256;

/// σ′(z) below this share of its peak counts as saturated.
const SATURATION_SHARE_OF_PEAK: f64 = 0.1;

/// The learning figures of one dense layer l.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerDiagnostics {
    /// l, counting dense layers from 1 (layer 1 reads the input).
    pub layer: usize,
    /// ‖δˡ‖ = ‖∂C/∂bˡ‖ on the diagnostic batch.
    pub delta_norm: f64,
    /// ‖∂C/∂wˡ‖ (Frobenius) on the diagnostic batch.
    pub weight_gradient_norm: f64,
    /// The share of saturated units, for sigmoid and tanh layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saturated: Option<f64>,
}

/// The diagnostics of one epoch, one entry per dense layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochDiagnostics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Rows traced.
    pub rows: usize,
    /// Layers 1…L.
    pub layers: Vec<LayerDiagnostics>,
}

/// The fixed diagnostic batch of a training set: its first [`DIAGNOSTIC_ROWS`] rows.
pub fn diagnostic_batch<T: Float>(x: &Matrix<T>, y: &Matrix<T>) -> (Matrix<T>, Matrix<T>) {
    let rows: Vec<usize> = (0..x.rows().min(DIAGNOSTIC_ROWS)).collect();
    (x.select_rows(&rows), y.select_rows(&rows))
}

/// Traces `network` on (`x`, `y`) and reduces every layer to its diagnostics.
///
/// # Panics
/// When `x` or `y` have the wrong shape.
#[track_caller]
pub fn diagnose<T: Float>(
    network: &Network<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
    epoch: usize,
) -> EpochDiagnostics {
    let trace = network.trace(x, y);
    let layers = trace
        .layers
        .iter()
        .map(|layer| LayerDiagnostics {
            layer: layer.layer,
            delta_norm: layer.bias_gradient.norm(),
            weight_gradient_norm: layer.weight_gradient.norm(),
            saturated: saturated_share(layer.activation, &layer.z, &layer.a),
        })
        .collect();
    EpochDiagnostics {
        epoch,
        rows: x.rows(),
        layers,
    }
}

/// The share of entries whose σ′ is below a tenth of its peak; `None` for activations that
/// do not saturate at both ends (all but sigmoid and tanh).
pub fn saturated_share<T: Float>(
    activation: Activation,
    z: &Matrix<T>,
    a: &Matrix<T>,
) -> Option<f64> {
    let peak = match activation {
        Activation::Sigmoid => 0.25,
        Activation::Tanh => 1.0,
        _ => return None,
    };
    let entries = a.as_slice().len();
    if entries == 0 {
        return Some(0.0);
    }
    let threshold = peak * SATURATION_SHARE_OF_PEAK;
    let saturated = z
        .as_slice()
        .iter()
        .zip(a.as_slice())
        .filter(|&(&z, &a)| activation.derivative(z, a).to_f64() < threshold)
        .count();
    Some(saturated as f64 / entries as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::Cost;
    use crate::network::NetworkConfig;

    #[test]
    fn sigmoid_units_far_from_zero_are_saturated() {
        let z = Matrix::from_rows(&[[0.0, 3.0, 4.0, -5.0]]).unwrap();
        let a = Activation::Sigmoid.forward(&z);
        // σ′(3) = 0.045 ≥ 0.025; σ′(4) = 0.018 and σ′(−5) = 0.0066 are below.
        assert_eq!(saturated_share(Activation::Sigmoid, &z, &a), Some(0.5));
        let a = Activation::Tanh.forward(&z);
        // tanh′(0) = 1; tanh′(3) = 0.0099; the rest smaller.
        assert_eq!(saturated_share(Activation::Tanh, &z, &a), Some(0.75));
        assert_eq!(saturated_share(Activation::Relu, &z, &z), None);
    }

    #[test]
    fn the_norms_are_those_of_the_trace() {
        let network = NetworkConfig::new(&[2, 3, 2], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Sigmoid)
            .with_seed(3)
            .init::<f64>()
            .unwrap();
        let x = Matrix::from_rows(&[[0.5, -1.0], [2.0, 0.25]]).unwrap();
        let y = Matrix::from_rows(&[[1.0, 0.0], [0.0, 1.0]]).unwrap();
        let diagnostics = diagnose(&network, &x, &y, 7);
        assert_eq!(diagnostics.epoch, 7);
        assert_eq!(diagnostics.rows, 2);
        let (_, gradients) = network.clone().backward(&x, &y);
        for (index, layer) in diagnostics.layers.iter().enumerate() {
            let bias = gradients.get(&format!("layers.{index}.bias")).unwrap();
            let weight = gradients.get(&format!("layers.{index}.weight")).unwrap();
            assert!((layer.delta_norm - bias.norm()).abs() < 1e-12);
            assert!((layer.weight_gradient_norm - weight.norm()).abs() < 1e-12);
            assert!(layer.delta_norm > 0.0);
        }
        assert!(diagnostics.layers[0].saturated.is_some());
        assert_eq!(diagnostics.layers[1].saturated, None, "softmax output");
    }
}
