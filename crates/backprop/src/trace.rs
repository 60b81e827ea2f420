//! A full record of one forward and backward pass: for every layer l, zˡ, aˡ, δˡ and the
//! gradients, exactly as BP1–BP4 produce them. The teaching features (`explain`, diagrams)
//! read this; nothing in it is recomputed for display.
//!
//! - BP1 δᴸ = ∇ₐC ⊙ σ′(zᴸ) — or a − y for the fused softmax/sigmoid cross-entropy pairings;
//! - BP2 δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ);
//! - BP3 ∂C/∂bˡ = δˡ;
//! - BP4 ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ;
//!
//! each summed over the batch, with the batch cost the mean over examples (so for a batch of
//! one, δ is exactly the textbook δ).

use crate::activation::Activation;
use crate::layer::Mode;
use crate::network::Network;
use backprop_tensor::{Float, Matrix};

/// One layer l of a trace. Matrices hold one example per row.
#[derive(Clone, Debug)]
pub struct LayerTrace<T: Float> {
    /// l, counting dense layers from 1 (layer 1 reads the input).
    pub layer: usize,
    /// σ of this layer.
    pub activation: Activation,
    /// wˡ, (out × in).
    pub weight: Matrix<T>,
    /// bˡ, (1 × out).
    pub bias: Matrix<T>,
    /// aˡ⁻¹, the input to the layer.
    pub input: Matrix<T>,
    /// zˡ = wˡ aˡ⁻¹ + bˡ.
    pub z: Matrix<T>,
    /// aˡ = σ(zˡ).
    pub a: Matrix<T>,
    /// ∂C/∂aˡ: ∇ₐC at the output (BP1's first factor); (wˡ⁺¹)ᵀ δˡ⁺¹ for hidden layers (BP2's).
    pub grad_output: Matrix<T>,
    /// δˡ = ∂C/∂zˡ.
    pub delta: Matrix<T>,
    /// ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ, summed over the batch (BP4).
    pub weight_gradient: Matrix<T>,
    /// ∂C/∂bˡ = δˡ, summed over the batch (BP3).
    pub bias_gradient: Matrix<T>,
}

/// A forward and backward pass, recorded.
#[derive(Clone, Debug)]
pub struct Trace<T: Float> {
    /// Layers 1…L.
    pub layers: Vec<LayerTrace<T>>,
    /// The batch cost C (penalties included).
    pub cost: f64,
    /// True when δᴸ came from the fused a − y shortcut rather than ∇ₐC ⊙ σ′(zᴸ).
    pub fused_output: bool,
}

impl<T: Float> Trace<T> {
    /// The network's output, aᴸ.
    pub fn output(&self) -> &Matrix<T> {
        &self.layers.last().expect("a network has layers").a
    }
}

impl<T: Float> Network<T> {
    /// Runs one forward and backward pass on `x` (one example per row) against targets `y`,
    /// without dropout and without changing this network, and records every layer's zˡ, aˡ,
    /// δˡ and gradients.
    ///
    /// ```
    /// use backprop::{Activation, Cost, NetworkConfig};
    /// use backprop_tensor::Matrix;
    /// // The company network: 2 salespeople, 3 managers, 1 CEO.
    /// let net = NetworkConfig::new(&[2, 3, 1], Cost::Quadratic)
    ///     .with_hidden_activation(Activation::Sigmoid)
    ///     .with_output_activation(Activation::Sigmoid)
    ///     .with_seed(7)
    ///     .init::<f64>()
    ///     .unwrap();
    /// let trace = net.trace(&Matrix::from_rows(&[[1.0, 0.0]]).unwrap(), &Matrix::from_rows(&[[1.0]]).unwrap());
    /// let (ceo, managers) = (&trace.layers[1], &trace.layers[0]);
    /// // BP1 for the quadratic cost: δᴸ = (a − y) σ′(z) = (a − y) a (1 − a).
    /// let a = ceo.a[(0, 0)];
    /// assert!((ceo.delta[(0, 0)] - (a - 1.0) * a * (1.0 - a)).abs() < 1e-15);
    /// // BP2: each manager's δ is the CEO's δ weighed by the CEO's trust in that manager.
    /// for j in 0..3 {
    ///     let a = managers.a[(0, j)];
    ///     let expected = ceo.weight[(0, j)] * ceo.delta[(0, 0)] * a * (1.0 - a);
    ///     assert!((managers.delta[(0, j)] - expected).abs() < 1e-15);
    /// }
    /// ```
    ///
    /// # Panics
    /// When `x` or `y` have the wrong shape.
    #[track_caller]
    pub fn trace(&self, x: &Matrix<T>, y: &Matrix<T>) -> Trace<T> {
        let mut scratch = self.clone();
        let (cost, grad_outputs) = scratch.backpropagate(x, y, Mode::Eval, true);
        let fused_output = {
            let last = scratch.dense_layers();
            self.cost().is_fused_with(last[last.len() - 1].activation)
        };
        let layers = scratch
            .dense_layers()
            .into_iter()
            .zip(grad_outputs)
            .enumerate()
            .map(|(i, (dense, grad_output))| {
                let cache = dense.cache().expect("backpropagate cached every layer");
                LayerTrace {
                    layer: i + 1,
                    activation: dense.activation,
                    weight: dense.weight.clone(),
                    bias: dense.bias.clone(),
                    input: cache.input.clone(),
                    z: cache.z.clone(),
                    a: cache.a.clone(),
                    grad_output,
                    delta: cache.delta.clone().expect("backward stored δ"),
                    weight_gradient: dense.weight_gradient.clone(),
                    bias_gradient: dense.bias_gradient.clone(),
                }
            })
            .collect();
        Trace {
            layers,
            cost,
            fused_output,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Activation, Cost, NetworkConfig};
    use backprop_tensor::Matrix;

    /// The trace agrees with the four equations written out by hand with plain loops.
    #[test]
    fn trace_follows_bp1_to_bp4() {
        let net = NetworkConfig::new(&[3, 4, 2], Cost::MeanSquaredError)
            .with_hidden_activation(Activation::Tanh)
            .with_output_activation(Activation::Sigmoid)
            .with_seed(5)
            .init::<f64>()
            .unwrap();
        let x = Matrix::from_rows(&[[0.1, -0.4, 0.9], [1.0, 0.5, -0.5]]).unwrap();
        let y = Matrix::from_rows(&[[0.0, 1.0], [1.0, 0.0]]).unwrap();
        let trace = net.trace(&x, &y);
        let (hidden, output) = (&trace.layers[0], &trace.layers[1]);
        let n = 2.0;
        for e in 0..2 {
            for j in 0..2 {
                let a = output.a[(e, j)];
                // BP1 with MSE over 2 units and a batch mean: ∇ₐC = 2(a − y)/2/n.
                let expected = (a - y[(e, j)]) / n * a * (1.0 - a);
                assert!((output.delta[(e, j)] - expected).abs() < 1e-15);
            }
            for k in 0..4 {
                // BP2
                let back: f64 = (0..2)
                    .map(|j| output.weight[(j, k)] * output.delta[(e, j)])
                    .sum();
                assert!((hidden.grad_output[(e, k)] - back).abs() < 1e-15);
                let expected = back * (1.0 - hidden.a[(e, k)].powi(2));
                assert!((hidden.delta[(e, k)] - expected).abs() < 1e-15);
            }
        }
        // BP3 and BP4, summed over the batch.
        for j in 0..4 {
            let bias: f64 = (0..2).map(|e| hidden.delta[(e, j)]).sum();
            assert!((hidden.bias_gradient[(0, j)] - bias).abs() < 1e-15);
            for k in 0..3 {
                let weight: f64 = (0..2).map(|e| hidden.delta[(e, j)] * x[(e, k)]).sum();
                assert!((hidden.weight_gradient[(j, k)] - weight).abs() < 1e-15);
            }
        }
        assert!(!trace.fused_output);
        assert_eq!(trace.cost, net.loss(&x, &y));
    }
}
