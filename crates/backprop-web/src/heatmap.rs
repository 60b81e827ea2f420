//! Heat maps: the network's output over the input plane, and every hidden neuron's activation
//! on a coarser grid, from one batched inference pass over both grids' points.
//!
//! The grids are the report's ([`backprop_teach::plot::plane`]): cell (row, column) of an n × n
//! map is sampled at its centre, x₁ = −e + (column + ½)·2e/n and x₂ = e − (row + ½)·2e/n, so
//! row 0 is the top of the plane (x₂ near +e). Values are rounded to 4 decimals: plenty for
//! colour, and it keeps the streamed states small.

use crate::features::{feature_matrix, Feature};
use backprop::Network;
use backprop_teach::plot::plane::{activations, PlaneGrid};
use serde::Serialize;

/// The output map's resolution.
pub const OUTPUT_RESOLUTION: usize = 50;
/// Each hidden neuron's map's resolution.
pub const NEURON_RESOLUTION: usize = 20;

/// The heat maps of one state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Heatmap {
    /// n of the n × n output map.
    pub resolution: usize,
    /// The maps cover x₁, x₂ ∈ [−extent, extent].
    pub extent: f64,
    /// The output, row-major, row 0 at the top (with K ≥ 3 classes: the winning class's
    /// probability).
    pub output: Vec<f32>,
    /// With K ≥ 3 classes: the winning class of each output cell (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub winner: Option<Vec<u8>>,
    /// With K ≥ 3 classes: each output unit's probability on the neuron grid (absent
    /// otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_units: Option<Vec<Vec<f32>>>,
    /// Per hidden layer, per neuron: its activation aˡⱼ on the neuron grid, row-major.
    pub neurons: Vec<Vec<Vec<f32>>>,
    /// n of each neuron's n × n map.
    pub neuron_resolution: usize,
}

fn rounded(value: f32) -> f32 {
    ((f64::from(value) * 1e4).round() / 1e4) as f32
}

/// The maps for `network`, whose inputs are `features` of the raw point.
pub fn heatmap(network: &Network<f32>, features: &[Feature], extent: f64) -> Heatmap {
    let outputs = OUTPUT_RESOLUTION * OUTPUT_RESOLUTION;
    let points: Vec<[f32; 2]> = PlaneGrid::centred(extent, OUTPUT_RESOLUTION)
        .points()
        .chain(PlaneGrid::centred(extent, NEURON_RESOLUTION).points())
        .collect();
    let plane = activations(network, &feature_matrix(&points, features));
    let neurons = plane
        .hidden
        .iter()
        .map(|a| {
            (0..a.cols())
                .map(|neuron| {
                    (outputs..points.len())
                        .map(|row| rounded(a[(row, neuron)]))
                        .collect()
                })
                .collect()
        })
        .collect();
    let units = plane.output.cols();
    let winning = |row: usize| {
        (0..units).fold(0, |best, unit| {
            if plane.output[(row, unit)] > plane.output[(row, best)] {
                unit
            } else {
                best
            }
        })
    };
    let output = (0..outputs)
        .map(|row| rounded(plane.output[(row, winning(row))]))
        .collect();
    let (winner, output_units) = if units > 1 {
        let winner = (0..outputs).map(|row| winning(row) as u8).collect();
        let maps = (0..units)
            .map(|unit| {
                (outputs..points.len())
                    .map(|row| rounded(plane.output[(row, unit)]))
                    .collect()
            })
            .collect();
        (Some(winner), Some(maps))
    } else {
        (None, None)
    };
    Heatmap {
        resolution: OUTPUT_RESOLUTION,
        extent,
        output,
        winner,
        output_units,
        neurons,
        neuron_resolution: NEURON_RESOLUTION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::{Activation, Cost, NetworkConfig};
    use backprop_tensor::Matrix;

    #[test]
    fn maps_agree_with_the_network_at_grid_centres() {
        let network = NetworkConfig::new(&[2, 3, 2, 1], Cost::BinaryCrossEntropy)
            .with_hidden_activation(Activation::Tanh)
            .with_seed(3)
            .init::<f32>()
            .unwrap();
        let maps = heatmap(&network, &[Feature::X1, Feature::X2], 5.0);
        assert_eq!(maps.output.len(), 2500);
        assert_eq!(maps.neurons.len(), 2);
        assert_eq!(maps.neurons[0].len(), 3);
        assert_eq!(maps.neurons[1][1].len(), 400);
        // Row 0, column 0 is the top-left cell: x₁ = −4.9, x₂ = +4.9.
        let corner = network.forward(&Matrix::from_rows(&[[-4.9f32, 4.9]]).unwrap());
        assert!((maps.output[0] - corner[(0, 0)]).abs() < 1e-4);
        let bottom_right = network.forward(&Matrix::from_rows(&[[4.9f32, -4.9]]).unwrap());
        assert!((maps.output[2499] - bottom_right[(0, 0)]).abs() < 1e-4);
        let first = network.layers()[0].infer(&Matrix::from_rows(&[[-4.75f32, 4.75]]).unwrap());
        assert!((maps.neurons[0][2][0] - first[(0, 2)]).abs() < 1e-4);
    }
}
