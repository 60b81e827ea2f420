//! The heat-map grid: a network run over a rectangle of the input plane, for the report's
//! decision boundary and hidden-neuron maps and for the playground's live maps alike.
//!
//! An n × n grid over x ∈ [x₀, x₁], y ∈ [y₀, y₁] is sampled at cell centres: column c sits at
//! x₀ + (c + ½)·(x₁ − x₀)/n, and row r at y₀ + (r + ½)·(y₁ − y₀)/n counted from the bottom
//! ([`RowOrder::BottomFirst`], as an SVG map fills upwards) or at y₁ − (r + ½)·(y₁ − y₀)/n from
//! the top ([`RowOrder::TopFirst`], as a canvas fills downwards). One batched pass through the
//! layers gives the output and every hidden layer's activations aˡ at every grid point.

use backprop::Network;
use backprop_tensor::{Float, Matrix};

/// Which edge of the plane grid row 0 lies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowOrder {
    /// Row 0 at the lowest y.
    BottomFirst,
    /// Row 0 at the highest y.
    TopFirst,
}

/// A square grid of cells over a rectangle of the input plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlaneGrid {
    /// The first feature's range (x₀, x₁).
    pub x: (f64, f64),
    /// The second feature's range (y₀, y₁).
    pub y: (f64, f64),
    /// Cells per side.
    pub cells: usize,
    /// Where row 0 lies.
    pub rows: RowOrder,
}

impl PlaneGrid {
    /// A grid of `cells` × `cells` over [−extent, extent]², row 0 at the top.
    pub fn centred(extent: f64, cells: usize) -> Self {
        Self {
            x: (-extent, extent),
            y: (-extent, extent),
            cells,
            rows: RowOrder::TopFirst,
        }
    }

    /// The centre of cell (`row`, `column`) in the features' units.
    pub fn centre(&self, row: usize, column: usize) -> [f64; 2] {
        let n = self.cells as f64;
        let step =
            |(low, high): (f64, f64), index: usize| (index as f64 + 0.5) * ((high - low) / n);
        let y = match self.rows {
            RowOrder::BottomFirst => self.y.0 + step(self.y, row),
            RowOrder::TopFirst => self.y.1 - step(self.y, row),
        };
        [self.x.0 + step(self.x, column), y]
    }

    /// Every cell's centre as `f32`, row by row.
    pub fn points(&self) -> impl Iterator<Item = [f32; 2]> + '_ {
        (0..self.cells).flat_map(move |row| {
            (0..self.cells).map(move |column| {
                let [x, y] = self.centre(row, column);
                [x as f32, y as f32]
            })
        })
    }

    /// The centres as an (n², 2) matrix, one row per cell in the order of [`Self::points`].
    pub fn matrix(&self) -> Matrix<f32> {
        let values = self.points().flatten().collect();
        Matrix::from_vec(self.cells * self.cells, 2, values).expect("n² rows of two values")
    }
}

/// What a network computes at a batch of points.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaneActivations<T: Float> {
    /// The activations aˡ of each hidden dense layer (every dense layer but the last), one row
    /// per point and one column per unit.
    pub hidden: Vec<Matrix<T>>,
    /// The network's output, one row per point.
    pub output: Matrix<T>,
}

/// Runs `inputs` (one row per point, already in the network's input features and scale)
/// through every layer of `network` in one batched inference pass, keeping the activations of
/// the hidden dense layers along the way.
pub fn activations<T: Float>(network: &Network<T>, inputs: &Matrix<T>) -> PlaneActivations<T> {
    let layers = network.layers();
    let last_dense = layers.iter().rposition(|layer| layer.as_dense().is_some());
    let mut hidden = Vec::new();
    let mut a = inputs.clone();
    for (index, layer) in layers.iter().enumerate() {
        a = layer.infer(&a);
        if layer.as_dense().is_some() && Some(index) != last_dense {
            hidden.push(a.clone());
        }
    }
    PlaneActivations { hidden, output: a }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::{Activation, Cost, NetworkConfig};

    #[test]
    fn cell_centres_from_either_edge() {
        let bottom = PlaneGrid {
            x: (0.0, 4.0),
            y: (-2.0, 2.0),
            cells: 4,
            rows: RowOrder::BottomFirst,
        };
        assert_eq!(bottom.centre(0, 0), [0.5, -1.5]);
        assert_eq!(bottom.centre(3, 2), [2.5, 1.5]);
        let top = PlaneGrid {
            rows: RowOrder::TopFirst,
            ..bottom
        };
        assert_eq!(top.centre(0, 3), [3.5, 1.5]);
        let matrix = top.matrix();
        assert_eq!(matrix.shape(), (16, 2));
        assert_eq!(matrix.row(15), &[3.5f32, -1.5]);
        assert_eq!(PlaneGrid::centred(2.0, 4).centre(0, 0), [-1.5, 1.5]);
    }

    #[test]
    fn activations_follow_the_layers() {
        let network = NetworkConfig::new(&[2, 3, 4, 1], Cost::BinaryCrossEntropy)
            .with_hidden_activation(Activation::Tanh)
            .with_seed(2)
            .init::<f32>()
            .unwrap();
        let inputs = PlaneGrid::centred(1.0, 3).matrix();
        let plane = activations(&network, &inputs);
        assert_eq!(plane.output, network.forward(&inputs));
        let shapes: Vec<_> = plane.hidden.iter().map(Matrix::shape).collect();
        assert_eq!(shapes, [(9, 3), (9, 4)]);
        assert_eq!(plane.hidden[0], network.layers()[0].infer(&inputs));
    }
}
