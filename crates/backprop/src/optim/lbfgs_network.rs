//! L-BFGS over a network's parameters: [`minimize`] sees them packed into one f64 vector in
//! [`Network::parameters`] order (`layers.0.weight`, `layers.0.bias`, …), each matrix row-major.
//! The caller's `loss_and_gradients` runs the full-batch forward and backward pass on the
//! network it is handed and returns the loss, leaving ∂loss/∂θ in the layers' gradients: the
//! library's cost with [`Network::compute_gradients`], or scikit-learn's with
//! [`crate::sklearn::sk_loss_and_gradients`].
//!
//! Full batch means the objective is one deterministic function: dropout (which redraws masks
//! on every pass) must be off, or the line search compares different functions.

use super::lbfgs::{minimize, LbfgsConfig, LbfgsReport};
use super::OptimError;
use crate::network::Network;
use backprop_tensor::Float;

/// The network's parameters packed into one vector.
pub fn pack_parameters<T: Float>(network: &Network<T>) -> Vec<f64> {
    network
        .parameters()
        .iter()
        .flat_map(|(_, m)| m.as_slice().iter().map(|v| v.to_f64()))
        .collect()
}

/// Writes a packed vector back into the network's parameters.
///
/// # Panics
/// When `values` does not hold exactly [`Network::parameter_count`] numbers.
pub fn unpack_parameters<T: Float>(network: &mut Network<T>, values: &[f64]) {
    assert_eq!(values.len(), network.parameter_count(), "packed parameters");
    let mut offset = 0;
    for (_, slot) in network.parameter_slots() {
        let target = slot.value.as_mut_slice();
        let length = target.len();
        for (t, &v) in target.iter_mut().zip(&values[offset..offset + length]) {
            *t = T::from_f64(v);
        }
        offset += length;
    }
}

/// The gradients the last backward pass left in the network, packed like the parameters.
pub fn pack_gradients<T: Float>(network: &mut Network<T>) -> Vec<f64> {
    network
        .parameter_slots()
        .iter()
        .flat_map(|(_, slot)| slot.gradient.as_slice().iter().map(|v| v.to_f64()))
        .collect()
}

/// Minimises `loss_and_gradients` over the network's parameters with L-BFGS from their
/// current values, leaving the best point found in the network. `on_iteration` receives the
/// network at each new iterate, the iteration number (from 1) and the loss; `false` stops.
///
/// # Errors
/// When the configuration is invalid.
///
/// # Panics
/// When `loss_and_gradients` panics (for example on data of the wrong shape).
pub fn lbfgs_fit<T, L, C>(
    network: &mut Network<T>,
    config: &LbfgsConfig,
    mut loss_and_gradients: L,
    mut on_iteration: C,
) -> Result<LbfgsReport, OptimError>
where
    T: Float,
    L: FnMut(&mut Network<T>) -> f64,
    C: FnMut(&Network<T>, usize, f64) -> bool,
{
    let mut x = pack_parameters(network);
    let mut probe = network.clone();
    let report = minimize(
        |point, gradient| {
            unpack_parameters(&mut probe, point);
            let loss = loss_and_gradients(&mut probe);
            let mut offset = 0;
            for (_, slot) in probe.parameter_slots() {
                for (g, v) in gradient[offset..].iter_mut().zip(slot.gradient.as_slice()) {
                    *g = v.to_f64();
                }
                offset += slot.gradient.len();
            }
            loss
        },
        &mut x,
        config,
        |iteration, loss, point| {
            unpack_parameters(network, point);
            on_iteration(network, iteration, loss)
        },
    )?;
    unpack_parameters(network, &x);
    Ok(report)
}
