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
    /// The training rows used.
    pub examples: Vec<usize>,
    /// The cost C of those rows (penalty included), as the step sees it.
    pub cost: f64,
    /// a⁰, the network input (mean over the batch).
    pub input: Vec<f32>,
    /// Layers 1 to L.
    pub layers: Vec<LayerLens>,
}

/// Which rows to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LensRows {
    /// One training row.
    Example(usize),
    /// The batch the next step will use.
    NextBatch,
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
    };
    let x = session.train_x.select_rows(&examples);
    let y = session.train_y.select_rows(&examples);
    let trace = session.network.trace(&x, &y);
    let mut network: Network<f32> = session.network.clone();
    let mut trainer = session.trainer.fork();
    trainer
        .step_rows(&mut network, &session.train_x, &session.train_y, &examples)
        .map_err(|error| ApiError::bad_request(format!("the step: {error}")))?;
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
            weight_gradients: rows_of(&layer.weight_gradient),
            bias_gradients: layer.bias_gradient.as_slice().to_vec(),
            weight_updates: rows_of(&difference(&after.weight, &layer.weight)),
            bias_updates: difference(&after.bias, &layer.bias).as_slice().to_vec(),
        })
        .collect();
    Ok(Lens {
        examples,
        cost: trace.cost,
        input: column_means(&x),
        layers,
    })
}
