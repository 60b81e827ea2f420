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
    sk_epoch_paced, sk_fit_uses_threads, sk_uses_row_blocks, SkData, SkObjective,
};
use super::{SkOptimizer, SkSolver};
use crate::network::Network;
use backprop_tensor::pacer::Pacer;
use backprop_tensor::{team, Float};
use std::time::{Duration, Instant};

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
    /// Called once before each epoch that runs, with `order` (on a thread of the fit's pool
    /// when its epochs run there).
    pub reorder: &'a mut (dyn FnMut(&mut [usize]) + Send),
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
///
/// `keep_going` is asked on the calling thread before the first epoch and then at least every
/// [`STRETCH`] (false: stop, as on Ctrl-C). An epoch whose products are large enough to split
/// across threads runs in `pool` (else rayon's global pool), with helpers or alone as `pacer`
/// finds faster now (the caller keeps the pacer from fit to fit, so that each fit does not
/// start timing afresh):
/// - a network in row blocks in stretches of epochs, each stretch one call into the pool and
///   one team (or one thread alone) for all its epochs, so that neither the caller's thread
///   nor a helper is woken per epoch: a breast-cancer epoch (455 rows, 30-100-1) takes about
///   as long as three such wake-ups;
/// - a larger one batch by batch (a trial of four whole MNIST epochs each way ran half of a
///   10-epoch fit on one thread).
///
/// An epoch whose batches are too small to split (one block of rows, or few multiply-adds)
/// runs right here: handing it to a pool thread would cost a wake-up and gain nothing.
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
    let pool = pool.filter(|_| sk_fit_uses_threads(network, config.batch_size));
    let row_blocks = sk_uses_row_blocks(network);
    let SkEpochs {
        count,
        order,
        reorder,
    } = epochs;
    let mut done = 0;
    while done < count {
        if !keep_going() {
            return SkStop::Interrupted;
        }
        let mut fit = Fit {
            network: &mut *network,
            optimizer: &mut *optimizer,
            data,
            order: &mut *order,
            reorder: &mut *reorder,
            config,
            progress: &mut *progress,
        };
        let (ran, stop) = match pool {
            // Row blocks: a stretch of epochs in one team, or alone, as timed epoch by epoch.
            Some(pool) if row_blocks => pool.install(|| {
                let helpers = pacer.helpers();
                let stretch = || fit.stretch(count - done, pacer, helpers);
                match helpers {
                    true => team::run(stretch),
                    false => team::run_alone(stretch),
                }
            }),
            // Otherwise batch by batch: a trial of whole epochs would run four or more of
            // them alone.
            Some(pool) => pool.install(|| (1, fit.epoch(Some(pacer)))),
            None => (1, fit.epoch(None)),
        };
        done += ran;
        if let Some(stop) = stop {
            return stop;
        }
    }
    SkStop::EpochsDone
}

/// Least time a stretch of row-block epochs runs in the pool before the caller's thread asks
/// `keep_going` again (a Ctrl-C is seen within about this long).
pub const STRETCH: Duration = Duration::from_millis(5);

/// What one epoch of [`sk_fit`] reads and updates.
struct Fit<'a, 'f, T: Float> {
    network: &'f mut Network<T>,
    optimizer: &'f mut SkOptimizer<T>,
    data: SkData<'a, T>,
    order: &'f mut [usize],
    reorder: &'f mut (dyn FnMut(&mut [usize]) + Send),
    config: &'f SkFitConfig,
    progress: &'f mut SkProgress,
}

impl<T: Float> Fit<'_, '_, T> {
    /// Up to `most` epochs, the pacer timing each, until [`STRETCH`] has passed or the pacer
    /// wants the other way than `helpers` (the way the stretch runs): how many ran, and why
    /// the fit stops if it does.
    fn stretch(
        &mut self,
        most: usize,
        pacer: &mut Pacer,
        helpers: bool,
    ) -> (usize, Option<SkStop>) {
        let start = Instant::now();
        for ran in 1..=most {
            let stop = pacer.run(|_| self.epoch(None));
            if stop.is_some() || pacer.helpers() != helpers || start.elapsed() >= STRETCH {
                return (ran, stop);
            }
        }
        (most, None)
    }

    /// One epoch (large networks' batches paced by `pacer`) and the rules after it: why the
    /// fit stops, if it does.
    fn epoch(&mut self, pacer: Option<&mut Pacer>) -> Option<SkStop> {
        let config = self.config;
        (self.reorder)(self.order);
        let batches = (&*self.order, config.batch_size);
        let optimizer = &mut *self.optimizer;
        let loss = sk_epoch_paced(
            self.network,
            optimizer,
            self.data,
            batches,
            config.objective,
            pacer,
        );
        let progress = &mut *self.progress;
        progress.n_iter += 1;
        progress.t += self.order.len() as u64;
        progress.loss_curve.push(loss);
        if loss > progress.best_loss - config.tol {
            progress.no_improvement_count += 1;
        } else {
            progress.no_improvement_count = 0;
        }
        if loss < progress.best_loss {
            progress.best_loss = loss;
        }
        let sgd = matches!(optimizer.solver(), SkSolver::Sgd { .. });
        if let (true, SkSchedule::InvScaling { power_t }) = (sgd, config.schedule) {
            optimizer.learning_rate =
                config.learning_rate_init / ((progress.t + 1) as f64).powf(power_t);
        }
        if progress.no_improvement_count as f64 > config.n_iter_no_change {
            if sgd && config.schedule == SkSchedule::Adaptive && optimizer.learning_rate > 1e-6 {
                optimizer.learning_rate /= 5.0;
                progress.no_improvement_count = 0;
            } else {
                return Some(SkStop::Converged);
            }
        }
        None
    }
}
