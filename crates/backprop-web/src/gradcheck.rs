//! The gradient check of one neuron: backprop's ∂C/∂w and ∂C/∂b of its incoming weights and
//! bias on the next batch, beside centred finite differences of the cost, both on an `f64`
//! copy of the network, as the library's [`backprop::gradient_check()`] does it: h =
//! 1e-6·max(1, |θ|), error = |g − ĝ| / max(|g| + |ĝ|, 1e-7), and a parameter whose ±h moves any
//! ReLU or leaky-ReLU pre-activation across 0 (a kink, where a finite difference measures
//! neither slope) is skipped and says so. The cost is the lens's: the batch's mean cost plus
//! the penalty.

use crate::session::Session;
use crate::ApiError;
use backprop::gradient_check::RELATIVE_STEP;
use backprop::Network;
use backprop_tensor::Matrix;
use serde::Serialize;

/// One parameter's check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckRow {
    /// The input k of weight wⱼₖ (0-based); absent for the bias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<usize>,
    /// Backprop's gradient (f64 copy).
    pub backprop: f64,
    /// The centred finite difference; null when skipped at a kink.
    pub numeric: Option<f64>,
    /// |g − ĝ| / max(|g| + |ĝ|, 1e-7); null when skipped.
    pub relative_error: Option<f64>,
}

/// The reply of `GET …/gradcheck?layer=L&neuron=J`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GradientCheck {
    /// The training rows (the next batch).
    pub examples: Vec<usize>,
    /// l, from 1.
    pub layer: usize,
    /// j, from 0.
    pub neuron: usize,
    /// The incoming weights in input order, then the bias.
    pub rows: Vec<CheckRow>,
    /// The largest relative error of the rows checked.
    pub max_relative_error: f64,
    /// Rows skipped at a kink.
    pub skipped: usize,
}

/// The cost of `network` on (x, y), and which side of 0 every kinked pre-activation is on.
fn cost_and_signs(network: &Network<f64>, x: &Matrix<f64>, y: &Matrix<f64>) -> (f64, Vec<bool>) {
    let trace = network.trace(x, y);
    let signs = trace
        .layers
        .iter()
        .filter(|layer| layer.activation.is_kinked())
        .flat_map(|layer| {
            layer
                .z
                .as_slice()
                .iter()
                .map(|&z| z > 0.0)
                .collect::<Vec<_>>()
        })
        .collect();
    (trace.cost, signs)
}

/// Checks neuron `neuron` (0-based) of layer `layer` (from 1) on the next batch.
pub fn gradient_check(
    session: &Session,
    layer: usize,
    neuron: usize,
) -> Result<GradientCheck, ApiError> {
    let dense = session.network.dense_layers();
    let count = dense.len();
    if !(1..=count).contains(&layer) {
        return Err(ApiError::bad_request(format!(
            "layer: must be in 1..={count}, got {layer}"
        )));
    }
    let (neurons, inputs) = (
        dense[layer - 1].weight.rows(),
        dense[layer - 1].weight.cols(),
    );
    if neuron >= neurons {
        return Err(ApiError::bad_request(format!(
            "neuron: layer {layer} has neurons 0..{neurons}, got {neuron}"
        )));
    }
    let examples = session.next_batch_rows();
    let x = session.train_x.select_rows(&examples).cast::<f64>();
    let y = session.train_y.select_rows(&examples).cast::<f64>();
    let mut probe = session.network.cast::<f64>();
    let analytic = probe.trace(&x, &y);
    let gradients = &analytic.layers[layer - 1];
    let (_, base_signs) = cost_and_signs(&probe, &x, &y);
    let index = layer - 1;
    let mut rows = Vec::with_capacity(inputs + 1);
    for input in (0..inputs).map(Some).chain([None]) {
        let (name, position, backprop) = match input {
            Some(k) => (
                format!("layers.{index}.weight"),
                neuron * inputs + k,
                gradients.weight_gradient[(neuron, k)],
            ),
            None => (
                format!("layers.{index}.bias"),
                neuron,
                gradients.bias_gradient.as_slice()[neuron],
            ),
        };
        let original = probe
            .parameter(&name)
            .expect("a dense layer's tensor")
            .as_slice()[position];
        let h = RELATIVE_STEP * original.abs().max(1.0);
        let mut evaluate = |value: f64| {
            probe
                .parameter_mut(&name)
                .expect("a dense layer's tensor")
                .as_mut_slice()[position] = value;
            cost_and_signs(&probe, &x, &y)
        };
        let (plus, plus_signs) = evaluate(original + h);
        let (minus, minus_signs) = evaluate(original - h);
        evaluate(original);
        let (numeric, relative_error) = if plus_signs != base_signs || minus_signs != base_signs {
            (None, None)
        } else {
            let numeric = (plus - minus) / (2.0 * h);
            let error = (backprop - numeric).abs() / (backprop.abs() + numeric.abs()).max(1e-7);
            (Some(numeric), Some(error))
        };
        rows.push(CheckRow {
            input,
            backprop,
            numeric,
            relative_error,
        });
    }
    let max_relative_error = rows
        .iter()
        .filter_map(|row| row.relative_error)
        .fold(0.0, f64::max);
    let skipped = rows.iter().filter(|row| row.numeric.is_none()).count();
    Ok(GradientCheck {
        examples,
        layer,
        neuron,
        rows,
        max_relative_error,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ActivationChoice, RegularizationChoice, SessionConfig};
    use crate::limits::Limits;

    #[test]
    fn backprop_agrees_with_finite_differences() {
        for (activation, regularization) in [
            (ActivationChoice::Tanh, RegularizationChoice::None),
            (ActivationChoice::Sigmoid, RegularizationChoice::L2),
            (ActivationChoice::Relu, RegularizationChoice::None),
        ] {
            let mut session = Session::new(
                SessionConfig {
                    activation,
                    regularization,
                    regularization_rate: 0.1,
                    ..SessionConfig::default()
                },
                &Limits::default(),
            )
            .unwrap();
            session.step_epoch();
            for (layer, neuron) in [(1, 2), (2, 1), (3, 0)] {
                let check = gradient_check(&session, layer, neuron).unwrap();
                assert_eq!(
                    check.rows.len(),
                    session.network.dense_layers()[layer - 1].weight.cols() + 1
                );
                assert!(check.skipped < check.rows.len(), "something is checked");
                assert!(
                    check.max_relative_error < 1e-4,
                    "{activation:?} {layer}.{neuron}: {check:?}"
                );
            }
        }
        let session = Session::new(SessionConfig::default(), &Limits::default()).unwrap();
        assert!(gradient_check(&session, 4, 0)
            .unwrap_err()
            .message
            .starts_with("layer:"));
        assert!(gradient_check(&session, 2, 2)
            .unwrap_err()
            .message
            .starts_with("neuron:"));
    }
}
