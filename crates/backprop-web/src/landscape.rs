//! The loss landscape (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"): the
//! cost over a plane through the current weights θ*, θ*(α, β) = θ* + α d₁ + β d₂, and the
//! optimiser's path projected onto it.
//!
//! The directions are the top two principal directions of the recorded weight snapshots (one
//! per epoch, at most [`MAX_SNAPSHOTS`], thinned evenly past that), taken relative to θ* by
//! power iteration; with fewer than 3 snapshots, or a path with no spread, they are
//! filter-normalised random directions instead (each weight row scaled to the norm of the
//! network's row, biases left out), drawn from the seed. The cost is the training cost
//! (penalty excluded) on at most [`MAX_ROWS`] training rows, the first in the data's order.

use crate::session::Session;
use crate::ApiError;
use backprop::Network;
use backprop_tensor::SeededRng;
use serde::Serialize;

/// The most weight snapshots kept.
pub const MAX_SNAPSHOTS: usize = 500;
/// The most training rows the cost is evaluated on.
pub const MAX_ROWS: usize = 256;
/// The largest grid.
pub const MAX_RESOLUTION: usize = 51;

/// Weight snapshots, one per epoch, thinned evenly past [`MAX_SNAPSHOTS`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshots {
    entries: Vec<(usize, Vec<f32>)>,
    stride: usize,
}

impl Snapshots {
    /// Records the parameters after `epoch` (skipped when thinning leaves this epoch out).
    pub fn record(&mut self, epoch: usize, network: &Network<f32>) {
        let stride = self.stride.max(1);
        if !epoch.is_multiple_of(stride) {
            return;
        }
        self.entries.push((epoch, flatten(network)));
        if self.entries.len() > MAX_SNAPSHOTS {
            self.stride = stride * 2;
            let stride = self.stride;
            self.entries.retain(|(epoch, _)| epoch % stride == 0);
        }
    }

    /// The snapshots kept, oldest first.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when none is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Every weight and bias of the dense layers, layer by layer, weights row-major then biases.
fn flatten(network: &Network<f32>) -> Vec<f32> {
    network
        .dense_layers()
        .iter()
        .flat_map(|dense| {
            dense
                .weight
                .as_slice()
                .iter()
                .chain(dense.bias.as_slice())
                .copied()
        })
        .collect()
}

fn set_flat(network: &mut Network<f32>, values: &[f64]) {
    let mut at = 0;
    for dense in network.dense_layers_mut() {
        for value in dense
            .weight
            .as_mut_slice()
            .iter_mut()
            .chain(dense.bias.as_mut_slice())
        {
            *value = values[at] as f32;
            at += 1;
        }
    }
}

/// The reply of `GET …/landscape`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Landscape {
    /// n of the n × n grid.
    pub resolution: usize,
    /// "pca" or "random".
    pub directions: &'static str,
    /// α and β both run over [−extent, extent] (θ* at the centre).
    pub extent: f64,
    /// The cost, row-major, row 0 at the top (β = +extent), column 0 at α = −extent.
    pub loss: Vec<f32>,
    /// The snapshots' (α, β), oldest first (empty with random directions).
    pub path: Vec<[f32; 2]>,
    /// The epochs of the path's points.
    pub epochs: Vec<usize>,
    /// The training rows the cost is taken over.
    pub rows: usize,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f64]) -> f64 {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    norm
}

/// The top principal direction of the rows of `d` orthogonal to `others`, by power iteration.
fn principal(d: &[Vec<f64>], others: &[Vec<f64>], start: u64) -> Option<Vec<f64>> {
    let size = d.first()?.len();
    let mut rng = SeededRng::with_stream(start, 0x6c61_6e64);
    let mut v: Vec<f64> = (0..size).map(|_| rng.normal()).collect();
    let mut norm = 0.0;
    for _ in 0..100 {
        for other in others {
            let along = dot(&v, other);
            v.iter_mut().zip(other).for_each(|(x, o)| *x -= along * o);
        }
        normalise(&mut v);
        let projections: Vec<f64> = d.iter().map(|row| dot(row, &v)).collect();
        let mut next = vec![0.0; size];
        for (row, p) in d.iter().zip(&projections) {
            next.iter_mut().zip(row).for_each(|(x, r)| *x += p * r);
        }
        v = next;
        norm = normalise(&mut v);
    }
    for other in others {
        let along = dot(&v, other);
        v.iter_mut().zip(other).for_each(|(x, o)| *x -= along * o);
    }
    (norm > 1e-12 && normalise(&mut v) > 1e-9).then_some(v)
}

/// Filter-normalised random directions: each weight row scaled to its row's norm in θ*.
fn random_directions(network: &Network<f32>, seed: u64) -> [Vec<f64>; 2] {
    let mut rng = SeededRng::with_stream(seed, 0x6469_7273);
    [0, 1].map(|_| {
        let mut direction = Vec::new();
        for dense in network.dense_layers() {
            for row in 0..dense.weight.rows() {
                let weights = dense.weight.row(row);
                let draw: Vec<f64> = weights.iter().map(|_| rng.normal()).collect();
                let scale = weights
                    .iter()
                    .map(|&w| f64::from(w).powi(2))
                    .sum::<f64>()
                    .sqrt()
                    / dot(&draw, &draw).sqrt().max(1e-12);
                direction.extend(draw.iter().map(|x| x * scale));
            }
            direction.extend(std::iter::repeat_n(0.0, dense.bias.len()));
        }
        direction
    })
}

/// The landscape of `session` on an n × n grid.
pub fn landscape(session: &Session, resolution: usize) -> Result<Landscape, ApiError> {
    if !(3..=MAX_RESOLUTION).contains(&resolution) {
        return Err(ApiError::bad_request(format!(
            "resolution: must be in 3..={MAX_RESOLUTION}, got {resolution}"
        )));
    }
    let centre: Vec<f64> = flatten(&session.network)
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    let offsets: Vec<Vec<f64>> = session
        .snapshots
        .entries
        .iter()
        .map(|(_, values)| {
            values
                .iter()
                .zip(&centre)
                .map(|(&v, c)| f64::from(v) - c)
                .collect()
        })
        .collect();
    let first = principal(&offsets, &[], session.config.seed);
    let second = first.as_ref().and_then(|first| {
        principal(
            &offsets,
            std::slice::from_ref(first),
            session.config.seed + 1,
        )
    });
    let (directions, [d1, d2], path, extent) = match (first, second) {
        (Some(d1), Some(d2)) if offsets.len() >= 3 => {
            let path: Vec<[f32; 2]> = offsets
                .iter()
                .map(|offset| [dot(offset, &d1) as f32, dot(offset, &d2) as f32])
                .collect();
            let reach = path
                .iter()
                .flat_map(|p| [p[0].abs(), p[1].abs()])
                .fold(0.0f32, f32::max);
            ("pca", [d1, d2], path, (f64::from(reach) * 1.25).max(1e-3))
        }
        _ => (
            "random",
            random_directions(&session.network, session.config.seed),
            Vec::new(),
            1.0,
        ),
    };
    let epochs = if directions == "pca" {
        session
            .snapshots
            .entries
            .iter()
            .map(|(epoch, _)| *epoch)
            .collect()
    } else {
        Vec::new()
    };
    let rows = session.train_x.rows().min(MAX_ROWS);
    let chosen: Vec<usize> = (0..rows).collect();
    let (x, y) = (
        session.train_x.select_rows(&chosen),
        session.train_y.select_rows(&chosen),
    );
    let cost = session.network.cost();
    let mut probe = session.network.clone();
    let mut point = vec![0.0; centre.len()];
    let mut loss = Vec::with_capacity(resolution * resolution);
    let step = 2.0 * extent / (resolution - 1) as f64;
    for row in 0..resolution {
        let beta = extent - row as f64 * step;
        for column in 0..resolution {
            let alpha = -extent + column as f64 * step;
            for (i, value) in point.iter_mut().enumerate() {
                *value = centre[i] + alpha * d1[i] + beta * d2[i];
            }
            set_flat(&mut probe, &point);
            let (z, a) = probe.output_with_logits(&x);
            let value = cost.loss(&z, &a, &y);
            loss.push(if value.is_finite() {
                value as f32
            } else {
                f32::NAN
            });
        }
    }
    Ok(Landscape {
        resolution,
        directions,
        extent,
        loss,
        path,
        epochs,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::{Cost, NetworkConfig};

    #[test]
    fn snapshots_are_thinned_evenly() {
        let network = NetworkConfig::new(&[2, 2, 1], Cost::BinaryCrossEntropy)
            .init::<f32>()
            .unwrap();
        let mut snapshots = Snapshots::default();
        for epoch in 0..=1200 {
            snapshots.record(epoch, &network);
        }
        assert!(snapshots.len() <= MAX_SNAPSHOTS && snapshots.len() > MAX_SNAPSHOTS / 4);
        let epochs: Vec<usize> = snapshots.entries.iter().map(|(epoch, _)| *epoch).collect();
        let gap = epochs[1] - epochs[0];
        assert!(
            epochs.windows(2).all(|pair| pair[1] - pair[0] == gap),
            "even: {gap}"
        );
        assert_eq!(snapshots.entries[0].1.len(), 2 * 2 + 2 + 2 + 1);
    }

    #[test]
    fn principal_directions_are_orthonormal_and_find_the_spread() {
        // Points spread mostly along (1, 1, 0), a little along (0, 0, 1), uncorrelated (t odd,
        // t² even over a symmetric range).
        let d: Vec<Vec<f64>> = (-10..=10)
            .map(|i| {
                let t = f64::from(i);
                vec![t, t, 0.01 * (t * t - 30.0)]
            })
            .collect();
        let first = principal(&d, &[], 1).unwrap();
        let second = principal(&d, std::slice::from_ref(&first), 2).unwrap();
        assert!(
            (first[0].abs() - 0.5f64.sqrt()).abs() < 1e-6 && first[2].abs() < 1e-6,
            "{first:?}"
        );
        assert!(dot(&first, &second).abs() < 1e-9 && (dot(&second, &second) - 1.0).abs() < 1e-9);
        assert!(second[2].abs() > 0.99, "{second:?}");
    }
}
