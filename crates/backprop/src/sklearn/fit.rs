//! scikit-learn's `_fit_stochastic` loop without early stopping, in one call: epochs over the
//! rows in the orders the caller drew, and between epochs its rules, in its order:
//! 1. the loss goes into the curve; no improvement when loss > best − tol (else the count is
//!    reset), and the best loss is kept;
//! 2. SGD's invscaling sets η = η₀/(t + 1)^power_t, t counting samples;
//! 3. when the count exceeds `n_iter_no_change`: adaptive SGD divides η by 5 and goes on (while
//!    η > 1e-6), every other solver stops.
//!
//! Validation scores (early stopping) and verbose output stay with the caller, epoch by epoch.

use super::objective::{
    sk_epoch_paced, sk_run_in_pool, sk_uses_row_blocks, sk_uses_threads, SkData, SkObjective,
};
use super::{SkOptimizer, SkSolver};
use crate::network::Network;
use backprop_tensor::pacer::Pacer;
use backprop_tensor::{team, Float};

/// SGD's learning-rate schedule between epochs (other solvers keep η constant).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SkSchedule {
    /// η stays η₀.
    Constant,
    /// η = η₀/(t + 1)^power_t after each epoch.
    InvScaling {
        /// The exponent.
        power_t: f64,
    },
    /// η/5 when the loss stops improving, until η ≤ 1e-6.
    Adaptive,
}

/// The loop's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SkFitConfig {
    /// Rows per batch (> 0).
    pub batch_size: usize,
    /// The penalty and the output.
    pub objective: SkObjective,
    /// The least improvement of the loss that counts.
    pub tol: f64,
    /// Epochs without improvement before the rule acts (may be infinite).
    pub n_iter_no_change: f64,
    /// η₀, for invscaling.
    pub learning_rate_init: f64,
    /// SGD's schedule; ignored by the other solvers.
    pub schedule: SkSchedule,
}

/// The state the loop carries from epoch to epoch, as scikit-learn's estimator attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct SkProgress {
    /// Epochs run in this fit (`n_iter_`).
    pub n_iter: usize,
    /// Samples seen over all fits (`t_`).
    pub t: u64,
    /// The lowest epoch loss (`best_loss_`).
    pub best_loss: f64,
    /// Epochs without improvement (`_no_improvement_count`).
    pub no_improvement_count: usize,
    /// Every epoch's loss (`loss_curve_`).
    pub loss_curve: Vec<f64>,
}

/// The epochs to run and their row orders: before each epoch `reorder` rearranges `order` in
/// place (scikit-learn shuffles its index array once per epoch; without shuffling, nothing).
pub struct SkEpochs<'a> {
    /// Most epochs to run.
    pub count: usize,
    /// The rows in the order of the last epoch (at first, the caller's starting order).
    pub order: &'a mut [usize],
    /// Called once before each epoch that runs, with `order`.
    pub reorder: &'a mut dyn FnMut(&mut [usize]),
}

/// Why [`sk_fit`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkStop {
    /// Every epoch asked for was run.
    EpochsDone,
    /// The stopping rule fired.
    Converged,
    /// `keep_going` said no (an interrupt).
    Interrupted,
}

/// Runs up to `epochs.count` epochs, each over the rows in the order `epochs.reorder` leaves
/// (a permutation of the rows, or of some of them), with the rules between epochs, until the
/// count is reached or the rule stops it.
/// `keep_going` is asked before each epoch, on the calling thread (false: stop, as on
/// Ctrl-C). An epoch whose products are large enough to split across threads runs in `pool`
/// (else rayon's global pool), with helpers or alone as `pacer` finds faster now (the caller
/// keeps the pacer from fit to fit, so that each fit does not start timing afresh): a network
/// in row blocks epoch by epoch, a larger one batch by batch (a trial of four whole MNIST
/// epochs each way ran half of a 10-epoch fit on one thread). A smaller epoch runs right here,
/// because handing it to a pool thread costs a wake-up, tens of microseconds, per epoch
/// (measured: about as long as a whole epoch of a 4-100-3 network on 120 rows).
///
/// # Panics
/// As [`sk_epoch`](super::sk_epoch).
// Each argument is a different thing the loop reads or updates; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn sk_fit<T: Float>(
    network: &mut Network<T>,
    optimizer: &mut SkOptimizer<T>,
    data: SkData<'_, T>,
    epochs: SkEpochs<'_>,
    config: &SkFitConfig,
    progress: &mut SkProgress,
    pool: Option<&rayon::ThreadPool>,
    pacer: &mut Pacer,
    keep_going: &mut dyn FnMut() -> bool,
) -> SkStop {
    let sgd = matches!(optimizer.solver(), SkSolver::Sgd { .. });
    let pool = pool.filter(|_| sk_uses_threads(network, config.batch_size));
    let row_blocks = sk_uses_row_blocks(network);
    let SkEpochs {
        count,
        order,
        reorder,
    } = epochs;
    for _ in 0..count {
        if !keep_going() {
            return SkStop::Interrupted;
        }
        reorder(order);
        let order = &*order;
        let batches = (order, config.batch_size);
        let objective = config.objective;
        let loss = match pool {
            // Row blocks: one team for the epoch, with helpers or alone as timed epoch by
            // epoch (a small network's epoch is short).
            Some(pool) if row_blocks => pacer.run(|helpers| {
                let epoch = || sk_epoch_paced(network, optimizer, data, batches, objective, None);
                if helpers {
                    sk_run_in_pool(row_blocks, pool, epoch)
                } else {
                    team::run_alone(epoch)
                }
            }),
            // Otherwise batch by batch: a trial of whole epochs would run four or more of
            // them alone.
            Some(pool) => pool.install(|| {
                sk_epoch_paced(network, optimizer, data, batches, objective, Some(pacer))
            }),
            None => sk_epoch_paced(network, optimizer, data, batches, objective, None),
        };
        progress.n_iter += 1;
        progress.t += order.len() as u64;
        progress.loss_curve.push(loss);
        if loss > progress.best_loss - config.tol {
            progress.no_improvement_count += 1;
        } else {
            progress.no_improvement_count = 0;
        }
        if loss < progress.best_loss {
            progress.best_loss = loss;
        }
        if let (true, SkSchedule::InvScaling { power_t }) = (sgd, config.schedule) {
            optimizer.learning_rate =
                config.learning_rate_init / ((progress.t + 1) as f64).powf(power_t);
        }
        if progress.no_improvement_count as f64 > config.n_iter_no_change {
            if sgd && config.schedule == SkSchedule::Adaptive && optimizer.learning_rate > 1e-6 {
                optimizer.learning_rate /= 5.0;
                progress.no_improvement_count = 0;
            } else {
                return SkStop::Converged;
            }
        }
    }
    SkStop::EpochsDone
}
