//! What the page sees of a session: [`State`], the reply of `GET /api/sessions/{id}` and each
//! event of the stream — losses, the loss curves, every weight and the heat maps.

use crate::heatmap::{heatmap, Heatmap};
use crate::history::LossHistory;
use crate::session::Session;
use serde::Serialize;

/// One dense layer's parameters, weights in (out, in) layout.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerState {
    /// l, counting from 1 (layer 1 reads the inputs).
    pub layer: usize,
    /// The layer's activation, named as in the configuration (`leaky_relu`, …).
    pub activation: String,
    /// wˡ, one row per neuron of this layer.
    pub weights: Vec<Vec<f32>>,
    /// bˡ.
    pub biases: Vec<f32>,
}

/// A session as the page sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct State {
    /// The session's id.
    pub id: String,
    /// Completed epochs.
    pub epoch: usize,
    /// Optimisation steps taken.
    pub step: u64,
    /// True while the server trains it.
    pub running: bool,
    /// The cost over the training rows, penalty excluded (null once training diverged).
    pub train_loss: f64,
    /// The cost over the test rows (null once training diverged).
    pub test_loss: f64,
    /// [epoch, train loss, test loss] entries.
    pub history: LossHistory,
    /// The layers, 1 to L.
    pub layers: Vec<LayerState>,
    /// The input features' names, in input order.
    pub inputs: Vec<&'static str>,
    /// The output and hidden-neuron heat maps.
    pub heatmap: Heatmap,
    /// Per hidden layer, the dead ReLU neurons (0-based): z ≤ 0 on every training row.
    pub dead: Vec<Vec<usize>>,
    /// The number of classes (1 for regression).
    pub classes: usize,
}

impl State {
    /// The state of `session`, called `id`.
    pub fn of(session: &mut Session, id: &str, running: bool) -> Self {
        let (train_loss, test_loss) = session.losses();
        let layers = session
            .network
            .dense_layers()
            .into_iter()
            .enumerate()
            .map(|(index, dense)| LayerState {
                layer: index + 1,
                activation: dense.activation.name().replace('-', "_"),
                weights: (0..dense.weight.rows())
                    .map(|row| dense.weight.row(row).to_vec())
                    .collect(),
                biases: dense.bias.as_slice().to_vec(),
            })
            .collect();
        State {
            id: id.to_owned(),
            epoch: session.epoch(),
            step: session.step(),
            running,
            train_loss,
            test_loss,
            history: session.history.clone(),
            layers,
            inputs: session.config.features.iter().map(|f| f.name()).collect(),
            heatmap: heatmap(
                &session.network,
                &session.config.features,
                session.data.extent,
            ),
            dead: session.dead_neurons(),
            classes: session.data.classes,
        }
    }
}
