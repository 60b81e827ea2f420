//! The three searches of [`compare`](crate::compare::compare), run on one task: k free
//! parameters of a network, the rest fixed.
//!
//! - all combinations: the odometer walks every point of the grid, vᵏ cost evaluations;
//! - one weight at a time: ĝᵢ = (C(θ + h eᵢ) − C(θ)) / h for each free θᵢ, then θ ← θ − η ĝ,
//!   N + 1 evaluations per step;
//! - backpropagation: one forward and one backward pass, then θ ← θ − η ∂C/∂θ.

use crate::compare::{CompareConfig, Method, MethodRun};
use backprop::network::Network;
use backprop::{Error, Result};
use backprop_tensor::Matrix;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use std::time::Instant;

/// One element of a parameter tensor: `layers.1.weight[0, 2]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WeightPosition {
    /// The tensor, `layers.{i}.weight` or `layers.{i}.bias`.
    pub tensor: String,
    /// Row (the unit fed, for weights; 0 for biases).
    pub row: usize,
    /// Column (the unit read, for weights; the unit, for biases).
    pub column: usize,
}

impl WeightPosition {
    /// `tensor[row, column]`.
    pub fn new(tensor: &str, row: usize, column: usize) -> Self {
        Self {
            tensor: tensor.to_string(),
            row,
            column,
        }
    }
}

impl fmt::Display for WeightPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}, {}]", self.tensor, self.row, self.column)
    }
}

impl FromStr for WeightPosition {
    type Err = String;

    /// Parses `layers.1.weight[0, 2]` (spaces optional).
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let bad = || format!("expected a position like layers.1.weight[0, 2], got '{text}'");
        let (tensor, rest) = text.trim().split_once('[').ok_or_else(bad)?;
        let (row, column) = rest
            .strip_suffix(']')
            .and_then(|r| r.split_once(','))
            .ok_or_else(bad)?;
        let number = |s: &str| s.trim().parse::<usize>().map_err(|_| bad());
        Ok(Self::new(tensor.trim(), number(row)?, number(column)?))
    }
}

/// A parameter element resolved to (dense layer, bias?, flat index).
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    layer: usize,
    bias: bool,
    index: usize,
}

pub(crate) fn resolve(network: &Network<f64>, position: &WeightPosition) -> Result<Slot> {
    let bad = |why: String| Error::Config(format!("free weight {position}: {why}"));
    let matrix = network
        .parameter(&position.tensor)
        .ok_or_else(|| bad("no such tensor".into()))?;
    if position.row >= matrix.rows() || position.column >= matrix.cols() {
        return Err(bad(format!(
            "outside the {}×{} tensor",
            matrix.rows(),
            matrix.cols()
        )));
    }
    let layer = position
        .tensor
        .split('.')
        .nth(1)
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| bad("no layer index".into()))?;
    Ok(Slot {
        layer,
        bias: position.tensor.ends_with("bias"),
        index: position.row * matrix.cols() + position.column,
    })
}

pub(crate) fn get(network: &Network<f64>, slot: Slot) -> f64 {
    let dense = network.dense_layers()[slot.layer];
    if slot.bias {
        dense.bias.as_slice()[slot.index]
    } else {
        dense.weight.as_slice()[slot.index]
    }
}

fn gradient(network: &Network<f64>, slot: Slot) -> f64 {
    let dense = network.dense_layers()[slot.layer];
    if slot.bias {
        dense.bias_gradient.as_slice()[slot.index]
    } else {
        dense.weight_gradient.as_slice()[slot.index]
    }
}

pub(crate) fn set(network: &mut Network<f64>, slot: Slot, value: f64) {
    let mut layers = network.dense_layers_mut();
    let dense = &mut layers[slot.layer];
    let target = if slot.bias {
        &mut dense.bias
    } else {
        &mut dense.weight
    };
    target.as_mut_slice()[slot.index] = value;
}

/// Every parameter of the network, as positions.
pub(crate) fn all_positions(network: &Network<f64>) -> Vec<WeightPosition> {
    let mut positions = Vec::new();
    for (name, matrix) in network.parameters() {
        for row in 0..matrix.rows() {
            for column in 0..matrix.cols() {
                positions.push(WeightPosition::new(&name, row, column));
            }
        }
    }
    positions
}

/// XOR's truth table.
pub fn xor_data() -> (Matrix<f64>, Matrix<f64>) {
    let x =
        Matrix::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).expect("4 rows of 2");
    let y = Matrix::from_rows(&[[0.0], [1.0], [1.0], [0.0]]).expect("4 rows of 1");
    (x, y)
}

/// k free parameters of a network on data (x, y).
pub(crate) struct Task<'a> {
    /// `"XOR, 2 weights free"`.
    pub(crate) name: String,
    /// The free parameters, named.
    pub(crate) positions: &'a [WeightPosition],
    /// The same, resolved.
    pub(crate) slots: Vec<Slot>,
    /// Inputs, one example per row.
    pub(crate) x: &'a Matrix<f64>,
    /// Targets.
    pub(crate) y: &'a Matrix<f64>,
}

impl Task<'_> {
    pub(crate) fn run(
        &self,
        method: Method,
        start: &Network<f64>,
        config: &CompareConfig,
    ) -> MethodRun {
        let mut network = start.clone();
        let starting_cost = network.loss(self.x, self.y);
        let (mut evaluations, mut backward_passes, mut best_cost) = (0u64, 0u64, f64::INFINITY);
        let count = self.slots.len();
        let clock = Instant::now();
        match method {
            Method::Grid => {
                let v = config.values_per_weight.max(1);
                let value = |i: usize| {
                    if v == 1 {
                        0.0
                    } else {
                        -config.grid_range + 2.0 * config.grid_range * i as f64 / (v - 1) as f64
                    }
                };
                let mut odometer = vec![0usize; count];
                let mut best = vec![0.0; count];
                loop {
                    for (slot, &i) in self.slots.iter().zip(&odometer) {
                        set(&mut network, *slot, value(i));
                    }
                    let cost = network.loss(self.x, self.y);
                    evaluations += 1;
                    if cost < best_cost {
                        best_cost = cost;
                        best = odometer.iter().map(|&i| value(i)).collect();
                    }
                    let Some(digit) = odometer.iter().position(|&i| i + 1 < v) else {
                        break;
                    };
                    odometer[digit] += 1;
                    odometer[..digit].fill(0);
                }
                for (slot, b) in self.slots.iter().zip(&best) {
                    set(&mut network, *slot, *b);
                }
            }
            Method::OneAtATime => {
                let mut estimate = vec![0.0; count];
                for _ in 0..config.steps {
                    let base = network.loss(self.x, self.y);
                    evaluations += 1;
                    for (slot, g) in self.slots.iter().zip(estimate.iter_mut()) {
                        let original = get(&network, *slot);
                        set(&mut network, *slot, original + config.nudge);
                        *g = (network.loss(self.x, self.y) - base) / config.nudge;
                        evaluations += 1;
                        set(&mut network, *slot, original);
                    }
                    for (slot, g) in self.slots.iter().zip(&estimate) {
                        let value = get(&network, *slot) - config.learning_rate * g;
                        set(&mut network, *slot, value);
                    }
                }
            }
            Method::Backprop => {
                for _ in 0..config.steps {
                    network.compute_gradients(self.x, self.y);
                    evaluations += 1;
                    backward_passes += 1;
                    for slot in &self.slots {
                        let value =
                            get(&network, *slot) - config.learning_rate * gradient(&network, *slot);
                        set(&mut network, *slot, value);
                    }
                }
            }
        }
        let seconds = clock.elapsed().as_secs_f64();
        MethodRun {
            task: self.name.clone(),
            method,
            free: self.positions.iter().map(|p| p.to_string()).collect(),
            parameters: count,
            steps: if method == Method::Grid {
                0
            } else {
                config.steps
            },
            values_per_weight: (method == Method::Grid).then_some(config.values_per_weight),
            evaluations,
            backward_passes,
            seconds,
            starting_cost,
            final_cost: network.loss(self.x, self.y),
            final_values: self.slots.iter().map(|s| get(&network, *s)).collect(),
        }
    }
}
