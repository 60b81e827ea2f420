//! Activation functions σ, applied after a layer's affine map: aˡ = σ(zˡ).
//!
//! Each function lives in its own file with its value and its derivative side by side. All but
//! softmax act elementwise, so their backward pass is δ = ∂C/∂a ⊙ σ′(z). Softmax mixes a row's
//! units; its backward pass multiplies by its Jacobian, ∂C/∂zⱼ = aⱼ (∂C/∂aⱼ − Σₖ ∂C/∂aₖ aₖ),
//! unless the cost fuses it (softmax + cross-entropy gives δ = a − y directly).

pub mod gelu;
pub mod identity;
mod kernels;
pub mod leaky_relu;
pub mod relu;
pub mod sigmoid;
pub mod softmax;
pub mod tanh;

use backprop_tensor::{Float, Matrix};
use std::fmt;
use std::str::FromStr;

/// An activation function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// σ(z) = z.
    Identity,
    /// σ(z) = 1 / (1 + e⁻ᶻ).
    Sigmoid,
    /// σ(z) = tanh z.
    Tanh,
    /// σ(z) = max(0, z).
    Relu,
    /// σ(z) = z for z > 0, `negative_slope`·z otherwise (PyTorch's default slope is 0.01).
    LeakyRelu {
        /// Slope for negative inputs.
        negative_slope: f64,
    },
    /// σ(z) = z·Φ(z), the exact erf form.
    Gelu,
    /// σ(z)ⱼ = e^zⱼ / Σₖ e^zₖ over each row.
    Softmax,
}

impl Activation {
    /// Leaky ReLU with PyTorch's default slope, 0.01.
    pub const LEAKY_RELU: Activation = Activation::LeakyRelu {
        negative_slope: 0.01,
    };

    /// Every elementwise activation (all but softmax), leaky ReLU with its default slope.
    pub const ELEMENTWISE: [Activation; 6] = [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LEAKY_RELU,
        Activation::Gelu,
    ];

    /// The name used on the command line and in model files.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky-relu",
            Activation::Gelu => "gelu",
            Activation::Softmax => "softmax",
        }
    }

    /// True when σ′ jumps at z = 0 (ReLU, leaky ReLU): finite differences across 0 are unreliable.
    pub fn is_kinked(&self) -> bool {
        matches!(self, Activation::Relu | Activation::LeakyRelu { .. })
    }

    /// True for activations that act on each unit alone (all but softmax).
    pub fn is_elementwise(&self) -> bool {
        !matches!(self, Activation::Softmax)
    }

    /// a = σ(z), for a batch (one example per row).
    pub fn forward<T: Float>(&self, z: &Matrix<T>) -> Matrix<T> {
        let mut a = z.clone();
        self.forward_in_place(&mut a);
        a
    }

    /// σ′(z) for an elementwise activation, given z and a = σ(z).
    ///
    /// # Panics
    /// For softmax, whose derivative is a Jacobian, not an elementwise factor.
    #[track_caller]
    pub fn derivative<T: Float>(&self, z: T, a: T) -> T {
        match *self {
            Activation::Identity => identity::derivative(z),
            Activation::Sigmoid => sigmoid::derivative(a),
            Activation::Tanh => tanh::derivative(a),
            Activation::Relu => relu::derivative(z),
            Activation::LeakyRelu { negative_slope } => {
                leaky_relu::derivative(z, T::from_f64(negative_slope))
            }
            Activation::Gelu => gelu::derivative(z),
            Activation::Softmax => {
                panic!("softmax has no elementwise derivative; use Activation::backward")
            }
        }
    }

    /// ∂C/∂z from ∂C/∂a: δ = ∂C/∂a ⊙ σ′(z) (elementwise), or the softmax Jacobian product.
    pub fn backward<T: Float>(
        &self,
        z: &Matrix<T>,
        a: &Matrix<T>,
        grad_output: &Matrix<T>,
    ) -> Matrix<T> {
        let mut delta = Matrix::zeros(0, 0);
        self.backward_into(z, a, grad_output, &mut delta);
        delta
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::LeakyRelu { negative_slope } if *negative_slope != 0.01 => {
                write!(f, "leaky-relu:{negative_slope}")
            }
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Activation {
    type Err = String;

    /// Parses `identity`, `linear`, `sigmoid`, `tanh`, `relu`, `leaky-relu[:slope]`, `gelu`, `softmax`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let (name, argument) = match lower.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (lower.as_str(), None),
        };
        let activation = match name {
            "identity" | "linear" | "none" => Activation::Identity,
            "sigmoid" | "logistic" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "leaky-relu" | "leaky_relu" | "leakyrelu" => {
                let negative_slope = match argument {
                    Some(a) => a.parse::<f64>().map_err(|_| format!("bad leaky-relu slope '{a}'"))?,
                    None => 0.01,
                };
                if !negative_slope.is_finite() {
                    return Err(format!("bad leaky-relu slope '{negative_slope}'"));
                }
                return Ok(Activation::LeakyRelu { negative_slope });
            }
            "gelu" => Activation::Gelu,
            "softmax" => Activation::Softmax,
            _ => {
                return Err(format!(
                    "unknown activation '{text}' (expected identity, sigmoid, tanh, relu, leaky-relu, gelu or softmax)"
                ))
            }
        };
        if argument.is_some() {
            return Err(format!("activation '{name}' takes no parameter"));
        }
        Ok(activation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every elementwise derivative against a central difference of its value, in f64.
    #[test]
    fn derivatives_match_finite_differences() {
        for activation in Activation::ELEMENTWISE {
            for &z in &[-3.0f64, -0.7, -0.1, 0.2, 1.3, 4.0] {
                let h = 1e-6;
                let f = |v: f64| activation.forward(&Matrix::row_vector(&[v]))[(0, 0)];
                let numeric = (f(z + h) - f(z - h)) / (2.0 * h);
                let analytic = activation.derivative(z, f(z));
                assert!(
                    (numeric - analytic).abs() < 1e-8,
                    "{activation} at {z}: {numeric} vs {analytic}"
                );
            }
        }
    }

    /// NaN in, NaN out, through the batch kernels too (as PyTorch): a diverging layer is never
    /// hidden as a zero.
    #[test]
    fn every_activation_lets_nan_through() {
        let bias = Matrix::row_vector(&[0.0f32, 0.0, 0.0]);
        for activation in Activation::ELEMENTWISE
            .into_iter()
            .chain([Activation::Softmax])
        {
            let z = Matrix::row_vector(&[f32::NAN, -1.0, 2.0]);
            let a = activation.forward(&z);
            assert!(a[(0, 0)].is_nan(), "{activation}: {:?}", a.as_slice());
            let mut in_place = z.clone();
            activation.add_bias_and_forward_in_place(&mut in_place, &bias);
            assert!(in_place[(0, 0)].is_nan(), "{activation} in place");
        }
    }

    #[test]
    fn parses_names() {
        assert_eq!("ReLU".parse::<Activation>().unwrap(), Activation::Relu);
        assert_eq!(
            "leaky-relu:0.2".parse::<Activation>().unwrap(),
            Activation::LeakyRelu {
                negative_slope: 0.2
            }
        );
        assert!("swish"
            .parse::<Activation>()
            .unwrap_err()
            .contains("unknown activation 'swish'"));
        assert!("tanh:3".parse::<Activation>().is_err());
    }
}
