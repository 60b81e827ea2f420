//! Weight initialisation: the starting point gradient descent walks from.
//!
//! All draws come from one [`SeededRng`] (ChaCha8 plus our own float conversion), layer by layer,
//! the weight matrix row by row (PyTorch's (out, in) layout), then the bias. One seed therefore
//! gives the same weights on every machine and every release; golden tests pin them.
//!
//! | scheme | weights | biases |
//! | --- | --- | --- |
//! | `PytorchDefault` | U(±1/√fan_in) | U(±1/√fan_in) |
//! | `Uniform { low, high }` | U[low, high) | U[low, high) |
//! | `StandardNormal` (Nielsen's network.py) | N(0, 1) | N(0, 1) |
//! | `ScaledNormal` (Nielsen's network2.py) | N(0, 1/fan_in) | N(0, 1) |
//! | `XavierUniform` | U(±√(6/(fan_in + fan_out))) | 0 |
//! | `XavierNormal` | N(0, 2/(fan_in + fan_out)) | 0 |
//! | `HeUniform` | U(±√(6/fan_in)) | 0 |
//! | `HeNormal` | N(0, 2/fan_in) | 0 |
//!
//! Xavier and He leave biases at zero, as Keras does.

use backprop_tensor::{Float, Matrix, SeededRng};
use std::fmt;
use std::str::FromStr;

/// How a dense layer's weights and biases start.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Initialization {
    /// PyTorch's `nn.Linear` default: weights and biases U(±1/√fan_in).
    #[default]
    PytorchDefault,
    /// Weights and biases U[low, high).
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Weights and biases N(0, 1), as Nielsen's network.py.
    StandardNormal,
    /// Weights N(0, 1/fan_in), biases N(0, 1), as Nielsen's network2.py.
    ScaledNormal,
    /// Glorot/Xavier uniform weights, zero biases.
    XavierUniform,
    /// Glorot/Xavier normal weights, zero biases.
    XavierNormal,
    /// He/Kaiming uniform weights (ReLU gain), zero biases.
    HeUniform,
    /// He/Kaiming normal weights (ReLU gain), zero biases.
    HeNormal,
}

impl Initialization {
    /// Draws an (fan_out × fan_in) weight matrix and a 1 × fan_out bias, in that order.
    pub fn draw<T: Float>(
        &self,
        fan_in: usize,
        fan_out: usize,
        rng: &mut SeededRng,
    ) -> (Matrix<T>, Matrix<T>) {
        self.draw_shaped(fan_out, fan_in, fan_in, fan_out, rng)
    }

    /// Draws a (rows × cols) weight matrix and a 1 × rows bias with the scales of the given
    /// fans. A convolution of F filters, C channels and k × k kernels draws F × C·k·k with
    /// PyTorch's fans: C·k·k in, F·k·k out.
    pub fn draw_shaped<T: Float>(
        &self,
        rows: usize,
        cols: usize,
        fan_in: usize,
        fan_out: usize,
        rng: &mut SeededRng,
    ) -> (Matrix<T>, Matrix<T>) {
        let (i, o) = (fan_in as f64, fan_out as f64);
        let uniform = |bound: f64, rng: &mut SeededRng| {
            Matrix::random_uniform(rows, cols, -bound, bound, rng)
        };
        let normal =
            |std: f64, rng: &mut SeededRng| Matrix::random_normal(rows, cols, 0.0, std, rng);
        let zeros = || Matrix::zeros(1, rows);
        match *self {
            Initialization::PytorchDefault => {
                let bound = 1.0 / i.sqrt();
                let w = uniform(bound, rng);
                (w, Matrix::random_uniform(1, rows, -bound, bound, rng))
            }
            Initialization::Uniform { low, high } => {
                let w = Matrix::random_uniform(rows, cols, low, high, rng);
                (w, Matrix::random_uniform(1, rows, low, high, rng))
            }
            Initialization::StandardNormal => {
                let w = normal(1.0, rng);
                (w, Matrix::random_normal(1, rows, 0.0, 1.0, rng))
            }
            Initialization::ScaledNormal => {
                let w = normal(1.0 / i.sqrt(), rng);
                (w, Matrix::random_normal(1, rows, 0.0, 1.0, rng))
            }
            Initialization::XavierUniform => (uniform((6.0 / (i + o)).sqrt(), rng), zeros()),
            Initialization::XavierNormal => (normal((2.0 / (i + o)).sqrt(), rng), zeros()),
            Initialization::HeUniform => (uniform((6.0 / i).sqrt(), rng), zeros()),
            Initialization::HeNormal => (normal((2.0 / i).sqrt(), rng), zeros()),
        }
    }

    /// The name used on the command line and in model files.
    pub fn name(&self) -> &'static str {
        match self {
            Initialization::PytorchDefault => "pytorch",
            Initialization::Uniform { .. } => "uniform",
            Initialization::StandardNormal => "normal",
            Initialization::ScaledNormal => "scaled-normal",
            Initialization::XavierUniform => "xavier-uniform",
            Initialization::XavierNormal => "xavier-normal",
            Initialization::HeUniform => "he-uniform",
            Initialization::HeNormal => "he-normal",
        }
    }
}

impl fmt::Display for Initialization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Initialization::Uniform { low, high } => write!(f, "uniform:{low}:{high}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Initialization {
    type Err = String;

    /// Parses the names of [`Initialization::name`]; `uniform:LOW:HIGH` (default −1:1).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let mut parts = lower.split(':');
        let name = parts.next().unwrap_or_default();
        Ok(match name {
            "pytorch" | "default" => Initialization::PytorchDefault,
            "uniform" => {
                let mut bound = |default: f64| -> Result<f64, String> {
                    match parts.next() {
                        Some(v) => v
                            .parse::<f64>()
                            .map_err(|_| format!("bad uniform bound '{v}'")),
                        None => Ok(default),
                    }
                };
                let (low, high) = (bound(-1.0)?, bound(1.0)?);
                if !(low < high && low.is_finite() && high.is_finite()) {
                    return Err(format!(
                        "uniform bounds need low < high, got {low} and {high}"
                    ));
                }
                Initialization::Uniform { low, high }
            }
            "normal" | "standard-normal" => Initialization::StandardNormal,
            "scaled-normal" => Initialization::ScaledNormal,
            "xavier-uniform" | "glorot-uniform" => Initialization::XavierUniform,
            "xavier-normal" | "glorot-normal" => Initialization::XavierNormal,
            "he-uniform" | "kaiming-uniform" => Initialization::HeUniform,
            "he-normal" | "kaiming-normal" => Initialization::HeNormal,
            _ => return Err(format!("unknown initialisation '{text}'")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_spreads() {
        let mut rng = SeededRng::new(3);
        let (w, b) = Initialization::PytorchDefault.draw::<f64>(100, 50, &mut rng);
        assert_eq!((w.shape(), b.shape()), ((50, 100), (1, 50)));
        assert!(w.max_abs() <= 0.1 && b.max_abs() <= 0.1 && b.max_abs() > 0.05);
        let (w, b) = Initialization::HeNormal.draw::<f64>(400, 300, &mut rng);
        let std = (w.as_slice().iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
        assert!((std - (2.0f64 / 400.0).sqrt()).abs() < 0.003, "{std}");
        assert_eq!(b.max_abs(), 0.0);
        let (w, _) = Initialization::XavierUniform.draw::<f64>(30, 10, &mut rng);
        assert!(w.max_abs() <= (6.0f64 / 40.0).sqrt());
    }

    #[test]
    fn parses() {
        assert_eq!(
            "he-normal".parse::<Initialization>().unwrap(),
            Initialization::HeNormal
        );
        assert_eq!(
            "uniform:-0.5:0.5".parse::<Initialization>().unwrap(),
            Initialization::Uniform {
                low: -0.5,
                high: 0.5
            }
        );
        assert!("uniform:1:0".parse::<Initialization>().is_err());
    }
}
