//! The δ lens: for one training example or the next mini-batch, every layer's z, a and δ, the
//! gradients BP3 and BP4 give, and the change one optimiser step would make.
//!
//! The numbers are the library's: z, a, δ and the gradients come from [`Network::trace`], and
//! the updates from one real step ([`backprop::Trainer::step_rows`]) on copies of the network and the optimiser,
//! diffed against the weights before it. Nothing is recomputed here but means over the batch.
//!
//! For a batch of n rows the library's δ rows are ∂C/∂zˡ of the batch cost C = (1/n) Σₓ Cₓ,
//! each one δₓ/n; their sum over the rows is the mean of the examples' own δₓ, which is what
//! `delta` reports (and, by BP3, equals `bias_gradients`). z, a and the input are plain means.

use crate::data::Task;
use crate::features::feature_matrix;
use crate::session::Session;
use crate::ApiError;
use backprop::Network;
use backprop_tensor::Matrix;
use serde::Serialize;

/// One layer of the lens.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerLens {
    /// l, counting from 1.
    pub layer: usize,
    /// "BP1" for the output layer, "BP2" for hidden layers: the equation that gives δˡ.
    pub equation: &'static str,
    /// zˡ per neuron (mean over the batch).
    pub z: Vec<f32>,
    /// aˡ per neuron (mean over the batch).
    pub a: Vec<f32>,
    /// δˡ = ∂C/∂zˡ per neuron (for a batch, the mean of the examples' δ).
    pub delta: Vec<f32>,
    /// σ′(zˡ) per neuron, the activation's derivative as backprop used it (for a batch, the mean
    /// over its rows); empty for a softmax layer, whose derivative is a Jacobian.
    pub derivative: Vec<f32>,
    /// ∂C/∂wˡ, (out, in) (BP4, penalty included).
    pub weight_gradients: Vec<Vec<f32>>,
    /// ∂C/∂bˡ (BP3).
    pub bias_gradients: Vec<f32>,
    /// The change one optimiser step would make to each weight.
    pub weight_updates: Vec<Vec<f32>>,
    /// The change one optimiser step would make to each bias.
    pub bias_updates: Vec<f32>,
}

/// The δ lens reply.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lens {
    /// The training rows used (empty for a point typed in).
    pub examples: Vec<usize>,
    /// For a point typed in: its x₁, x₂ and target; otherwise absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<[f32; 3]>,
    /// The cost C of those rows (penalty included), as the step sees it.
    pub cost: f64,
    /// a⁰, the network input (mean over the batch).
    pub input: Vec<f32>,
    /// Layers 1 to L.
    pub layers: Vec<LayerLens>,
}

/// Which rows to look at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LensRows {
    /// One training row.
    Example(usize),
    /// The batch the next step will use.
    NextBatch,
    /// A point (x₁, x₂) with its target, typed in: not one of the data's rows.
    Point {
        /// x₁.
        x1: f32,
        /// x₂.
        x2: f32,
        /// y.
        target: f32,
    },
}

/// σ′(z) per neuron, averaged over the rows; empty for softmax.
fn derivative_means(
    activation: backprop::Activation,
    z: &Matrix<f32>,
    a: &Matrix<f32>,
) -> Vec<f32> {
    if activation == backprop::Activation::Softmax {
        return Vec::new();
    }
    let rows = z.rows();
    (0..z.cols())
        .map(|j| {
            let sum: f32 = (0..rows)
                .map(|row| activation.derivative(z[(row, j)], a[(row, j)]))
                .sum();
            sum / rows as f32
        })
        .collect()
}

fn rows_of(matrix: &Matrix<f32>) -> Vec<Vec<f32>> {
    (0..matrix.rows())
        .map(|row| matrix.row(row).to_vec())
        .collect()
}

fn column_means(matrix: &Matrix<f32>) -> Vec<f32> {
    let n = matrix.rows() as f32;
    matrix
        .column_sums()
        .as_slice()
        .iter()
        .map(|s| s / n)
        .collect()
}

fn difference(after: &Matrix<f32>, before: &Matrix<f32>) -> Matrix<f32> {
    after.sub(before)
}

/// The lens for `rows` of `session`, which it does not change.
pub fn lens(session: &Session, rows: LensRows) -> Result<Lens, ApiError> {
    let examples = match rows {
        LensRows::Example(row) if row < session.train_x.rows() => vec![row],
        LensRows::Example(row) => {
            return Err(ApiError::bad_request(format!(
                "example: must be a training row in 0..{}, got {row}",
                session.train_x.rows()
            )))
        }
        LensRows::NextBatch => session.next_batch_rows(),
        LensRows::Point { .. } => Vec::new(),
    };
    let (x, y, point) = match rows {
        LensRows::Point { x1, x2, target } => {
            check_point(session, x1, x2, target)?;
            let x = feature_matrix(&[[x1, x2]], &session.config.features);
            (
                x,
                crate::session::target_matrix(&[target], session.data.classes),
                Some([x1, x2, target]),
            )
        }
        _ => (
            session.train_x.select_rows(&examples),
            session.train_y.select_rows(&examples),
            None,
        ),
    };
    let trace = session.network.trace(&x, &y);
    let mut network: Network<f32> = session.network.clone();
    let mut trainer = session.trainer.fork();
    let stepped = if point.is_some() {
        trainer.step_rows(&mut network, &x, &y, &[0])
    } else {
        trainer.step_rows(&mut network, &session.train_x, &session.train_y, &examples)
    };
    stepped.map_err(|error| ApiError::bad_request(format!("the step: {error}")))?;
    let stepped = network.dense_layers();
    let count = trace.layers.len();
    let layers = trace
        .layers
        .iter()
        .zip(stepped)
        .map(|(layer, after)| LayerLens {
            layer: layer.layer,
            equation: if layer.layer == count { "BP1" } else { "BP2" },
            z: column_means(&layer.z),
            a: column_means(&layer.a),
            delta: layer.delta.column_sums().as_slice().to_vec(),
            derivative: derivative_means(layer.activation, &layer.z, &layer.a),
            weight_gradients: rows_of(&layer.weight_gradient),
            bias_gradients: layer.bias_gradient.as_slice().to_vec(),
            weight_updates: rows_of(&difference(&after.weight, &layer.weight)),
            bias_updates: difference(&after.bias, &layer.bias).as_slice().to_vec(),
        })
        .collect();
    Ok(Lens {
        examples,
        point,
        cost: trace.cost,
        input: column_means(&x),
        layers,
    })
}

/// The largest |x₁|, |x₂| a point typed in may have.
pub const MAX_POINT: f32 = 1000.0;

/// A typed-in point must be finite and within reach, its target a label (0 to 1) for
/// classification or a finite number for regression.
fn check_point(session: &Session, x1: f32, x2: f32, target: f32) -> Result<(), ApiError> {
    for value in [x1, x2] {
        if !(value.is_finite() && value.abs() <= MAX_POINT) {
            return Err(ApiError::bad_request(format!(
                "point: x1 and x2 must be finite numbers in -{MAX_POINT}..={MAX_POINT}, got {value}"
            )));
        }
    }
    let classes = session.data.classes;
    let valid = match session.data.task {
        Task::Classify if classes > 2 => {
            target.fract() == 0.0 && (0.0..classes as f32).contains(&target)
        }
        Task::Classify => (0.0..=1.0).contains(&target),
        Task::Regress => target.is_finite() && target.abs() <= 1e6,
    };
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "target: must be {}, got {target}",
            match session.data.task {
                Task::Classify if classes > 2 => "a class 0, 1, …, K − 1",
                Task::Classify => "a label in 0..=1",
                Task::Regress => "a finite number",
            }
        )))
    }
}
