//! What a diagram draws: the options, and the weights of an earlier network to compare with.

use crate::CompanyRoles;
use backprop::network::Network;
use backprop_tensor::{Float, Matrix};

/// The weights and biases of a network, in `f64`: what a diagram compares against.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkWeights {
    /// Units per layer, input first.
    pub sizes: Vec<usize>,
    /// (wˡ, bˡ) for each dense layer, wˡ (out × in).
    pub layers: Vec<(Matrix<f64>, Matrix<f64>)>,
}

impl NetworkWeights {
    /// The weights of any network, converted to `f64`.
    pub fn of<T: Float>(network: &Network<T>) -> Self {
        Self {
            sizes: network.config().sizes.clone(),
            layers: network
                .dense_layers()
                .iter()
                .map(|d| (d.weight.cast(), d.bias.cast()))
                .collect(),
        }
    }
}

/// What to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct DiagramOptions {
    /// Label units as salespeople, managers and the CEO.
    pub roles: Option<CompanyRoles>,
    /// The most units drawn in one column (default 12).
    pub max_units_per_layer: usize,
    /// Shade nodes by their activation for this input row, instead of by their bias.
    pub activations_for: Option<Vec<f64>>,
    /// Draw the change from this network instead of the weights themselves.
    pub before: Option<NetworkWeights>,
    /// The title; a default names the network.
    pub title: Option<String>,
    /// Write each drawn weight's value (or its change) on its line.
    pub show_values: bool,
    /// The backward pass: nodes show δˡⱼ (one vector per dense layer, the output last) and
    /// the arrowheads point backward, the way δ flows along the weights.
    pub deltas: Option<Vec<Vec<f64>>>,
}

impl Default for DiagramOptions {
    fn default() -> Self {
        Self {
            roles: None,
            max_units_per_layer: 12,
            activations_for: None,
            before: None,
            title: None,
            show_values: false,
            deltas: None,
        }
    }
}

impl DiagramOptions {
    /// With role labels.
    pub fn with_roles(mut self, roles: CompanyRoles) -> Self {
        self.roles = Some(roles);
        self
    }

    /// Node shade = activation for `input`.
    pub fn with_activations_for(mut self, input: &[f64]) -> Self {
        self.activations_for = Some(input.to_vec());
        self
    }

    /// Draw the change from `before`.
    pub fn with_before<T: Float>(mut self, before: &Network<T>) -> Self {
        self.before = Some(NetworkWeights::of(before));
        self
    }

    /// At most `count` units per column.
    pub fn with_max_units_per_layer(mut self, count: usize) -> Self {
        self.max_units_per_layer = count;
        self
    }

    /// Each line labelled with its weight (or, with `before`, its change).
    pub fn with_values(mut self) -> Self {
        self.show_values = true;
        self
    }

    /// Nodes show δ, one vector per dense layer, and arrows point backward.
    pub fn with_deltas(mut self, deltas: &[Vec<f64>]) -> Self {
        self.deltas = Some(deltas.to_vec());
        self
    }

    /// A title.
    pub fn with_title(mut self, title: &str) -> Self {
        self.title = Some(title.to_string());
        self
    }
}
