//! δ per feature map: what backpropagation says to each filter of a convolutional network for
//! one example.
//!
//! A convolution's filter f writes one feature map, zᶠ = Wᶠ ⋆ x + bᶠ, aᶠ = σ(zᶠ), one value per
//! position. Backpropagation gives every position its δ = ∂C/∂z, and the filter's gradients
//! gather them: ∂C/∂bᶠ = Σ δᶠ over the positions (BP3 with the bias shared by every position)
//! and ∂C/∂Wᶠ = Σ δᶠ ⋆ input (BP4). A map whose δ is all 0 — every position of a ReLU map below
//! 0, or a max-pool that picked other inputs — tells its filter nothing for this example.
//! [`explain_feature_maps`] reads zᶠ, aᶠ and δᶠ from the engine's own backward pass on one
//! example; nothing is recomputed for display.

use crate::explanation::count_from_one;
use backprop::layer::Layer;
use backprop::network::Network;
use backprop_tensor::Matrix;
use serde::Serialize;

/// One feature map of one convolution, for one example.
#[derive(Clone, Debug, Serialize)]
pub struct FeatureMap {
    /// f − 1: 0-based here, serialised from 1 (row f − 1 of the layer's weight tensor).
    #[serde(serialize_with = "count_from_one")]
    pub map: usize,
    /// The mean of aᶠ over the map's positions.
    pub mean_activation: f64,
    /// The share of positions with a nonzero δ (0 to 1).
    pub active_share: f64,
    /// ‖δᶠ‖ over the positions.
    pub delta_norm: f64,
    /// The δ of largest size.
    pub largest_delta: f64,
    /// Where it is: (row, column), counted from 1.
    pub largest_at: (usize, usize),
    /// Σ δᶠ over the positions, which is ∂C/∂bᶠ for one example (BP3).
    pub delta_sum: f64,
    /// ∂C/∂bᶠ from the engine's backward pass.
    pub bias_gradient: f64,
}

/// One convolution's maps.
#[derive(Clone, Debug, Serialize)]
pub struct ConvolutionStep {
    /// The model file's tensor, `layers.{i}`.
    pub tensor: String,
    /// `20 filters 5×5, stride 1, valid padding, relu`.
    pub description: String,
    /// Each map's height and width.
    pub map_size: (usize, usize),
    /// One entry per filter.
    pub maps: Vec<FeatureMap>,
}

/// Every convolution of a network, for one example.
#[derive(Clone, Debug, Serialize)]
pub struct FeatureMapExplanation {
    /// The cost C for the example.
    pub cost: f64,
    /// The network's output aᴸ.
    pub prediction: Vec<f64>,
    /// The target y.
    pub target: Vec<f64>,
    /// The convolutions, input side first.
    pub convolutions: Vec<ConvolutionStep>,
}

/// Runs one forward and backward pass of `network` on the example `input` → `target`
/// (dropout off) and reads every convolution's maps.
///
/// # Errors
/// When the input or target has the wrong width, or the network has no convolution.
pub fn explain_feature_maps(
    network: &Network<f64>,
    input: &[f64],
    target: &[f64],
) -> Result<FeatureMapExplanation, String> {
    if input.len() != network.input_width() {
        return Err(format!(
            "the network reads {} values, the example has {}",
            network.input_width(),
            input.len()
        ));
    }
    if target.len() != network.output_width() {
        return Err(format!(
            "the network has {} outputs, the target has {} values",
            network.output_width(),
            target.len()
        ));
    }
    let x = Matrix::row_vector(input);
    let y = Matrix::row_vector(target);
    let mut scratch = network.clone();
    let (cost, _) = scratch.backward_without_dropout(&x, &y);
    let prediction = network.forward(&x).row(0).to_vec();
    let convolutions: Vec<ConvolutionStep> = scratch
        .layers()
        .iter()
        .enumerate()
        .filter_map(|(index, layer)| match layer {
            Layer::Convolution(conv) => Some(convolution_step(index, conv)),
            _ => None,
        })
        .collect();
    if convolutions.is_empty() {
        return Err("the network has no convolution".into());
    }
    Ok(FeatureMapExplanation {
        cost,
        prediction,
        target: target.to_vec(),
        convolutions,
    })
}

fn convolution_step(index: usize, conv: &backprop::conv::Conv2d<f64>) -> ConvolutionStep {
    let geometry = conv.geometry();
    let shape = conv.output_shape();
    let positions = shape.height * shape.width;
    let (activations, deltas) = (conv.a(), conv.delta());
    let (a, delta) = (activations.row(0), deltas.row(0));
    let maps = (0..geometry.filters)
        .map(|f| {
            let a = &a[f * positions..][..positions];
            let d = &delta[f * positions..][..positions];
            let largest = (0..positions)
                .max_by(|&i, &j| d[i].abs().total_cmp(&d[j].abs()).then(j.cmp(&i)))
                .unwrap_or(0);
            FeatureMap {
                map: f,
                mean_activation: a.iter().sum::<f64>() / positions as f64,
                active_share: d.iter().filter(|v| **v != 0.0).count() as f64 / positions as f64,
                delta_norm: d.iter().map(|v| v * v).sum::<f64>().sqrt(),
                largest_delta: d[largest],
                largest_at: (largest / shape.width + 1, largest % shape.width + 1),
                delta_sum: d.iter().sum(),
                bias_gradient: conv.bias_gradient[(0, f)],
            }
        })
        .collect();
    ConvolutionStep {
        tensor: format!("layers.{index}"),
        description: format!(
            "{} filters {}×{}, stride {}, {} padding, {}",
            geometry.filters,
            geometry.kernel,
            geometry.kernel,
            geometry.stride,
            geometry.padding.name(),
            conv.activation
        ),
        map_size: (shape.height, shape.width),
        maps,
    }
}

impl FeatureMapExplanation {
    /// The maps as text: one table per convolution, each map's mean activation, the share of
    /// positions backpropagation sends a nonzero δ to, ‖δ‖, the largest δ and where, and
    /// Σ δ = ∂C/∂b beside the engine's bias gradient.
    pub fn text(&self) -> String {
        use crate::format::{format_number, table};
        let mut out = format!(
            "One example through the convolutions: cost C = {}. δ = ∂C/∂z for every position of \
             every feature map, from the engine's backward pass; a filter's bias gradient is the \
             sum of its map's δ (BP3, the bias is shared by every position), its weight gradient \
             the map's δ correlated with the layer's input (BP4).\n",
            format_number(self.cost)
        );
        for conv in &self.convolutions {
            let (height, width) = conv.map_size;
            out.push_str(&format!(
                "{}: {} — {} maps of {height}×{width}, counted from 1 (map f is row f − 1 of {}.weight)\n",
                conv.tensor,
                conv.description,
                conv.maps.len(),
                conv.tensor
            ));
            let mut rows = vec![vec![
                "map".to_string(),
                "mean a".into(),
                "δ ≠ 0".into(),
                "‖δ‖".into(),
                "largest δ at (row, col)".into(),
                "Σ δ".into(),
                "∂C/∂b".into(),
            ]];
            for map in &conv.maps {
                rows.push(vec![
                    (map.map + 1).to_string(),
                    format_number(map.mean_activation),
                    format!("{:.0} %", 100.0 * map.active_share),
                    format_number(map.delta_norm),
                    if map.delta_norm == 0.0 {
                        "0: this filter learns nothing from this example".into()
                    } else {
                        format!(
                            "{} at ({}, {})",
                            format_number(map.largest_delta),
                            map.largest_at.0,
                            map.largest_at.1
                        )
                    },
                    format_number(map.delta_sum),
                    format_number(map.bias_gradient),
                ]);
            }
            for line in table(&rows, &[true, true, true, true, false, true, true]).lines() {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
            let silent = conv.maps.iter().filter(|m| m.delta_norm == 0.0).count();
            if silent > 0 {
                out.push_str(&format!(
                    "  {silent} of {} maps get no δ at all for this example (a ReLU map below 0 \
                     everywhere, or max-pooling that passed over all of its positions).\n",
                    conv.maps.len()
                ));
            }
        }
        out.push_str(
            "Pooling holds no weights: max-pooling sends each window's δ to the input that won \
             the window and 0 to the others, average-pooling spreads it evenly, so a map's δ is \
             nonzero only where the layers above looked.\n",
        );
        out
    }
}
