//! `backprop train --optimizer lbfgs`: full-batch L-BFGS ([`backprop::optim::lbfgs_fit`]) in
//! place of the step-by-step trainer. Each "epoch" is one L-BFGS iteration over the whole
//! training part, so `--epochs` is scikit-learn's `max_iter`; the other stopping rules are
//! scikit-learn's defaults (at most 15000 loss evaluations, max |∂C/∂θ| ≤ 1e-4, or a relative
//! loss decrease ≤ 2.2e-9). The loss minimised is the library's cost of the whole training
//! part plus `--l2-nielsen` / `--l1` penalties, the same one the other optimisers report.
//!
//! The line search picks each step, so learning rates, schedules, warm-up, momentum, the other
//! optimisers' settings, batches and gradient clipping have no meaning here. Dropout makes the
//! objective random (the line search would compare different functions), early stopping and
//! checkpoints need an epoch loop this solver does not have, and sharded training splits
//! batches: each of those flags is refused with a usage error that names it.

use crate::args::TrainArgs;
use crate::data::PreparedData;
use crate::exit::CliError;
use crate::interrupt::StopRequest;
use backprop::optim::{lbfgs_fit, LbfgsConfig, LbfgsReport, LbfgsStop};
use backprop::train::{evaluate, EpochRecord, History, TrainingObserver};
use backprop::Network;
use std::time::Instant;

/// A usage error for the first flag given that L-BFGS has no use for.
pub fn check_flags(arguments: &TrainArgs) -> Result<(), CliError> {
    let flags = [
        ("--learning-rate", arguments.learning_rate.is_some()),
        ("--momentum", arguments.momentum.is_some()),
        ("--dampening", arguments.dampening.is_some()),
        ("--betas", arguments.betas.is_some()),
        ("--eps", arguments.eps.is_some()),
        ("--rmsprop-alpha", arguments.rmsprop_alpha.is_some()),
        ("--centered", arguments.centered),
        ("--weight-decay", arguments.weight_decay.is_some()),
        ("--batch-size", arguments.batch_size.is_some()),
        ("--schedule", arguments.schedule.is_some()),
        ("--warmup", arguments.warmup.is_some()),
        ("--clip", arguments.clip.is_some()),
        ("--dropout", arguments.dropout.is_some_and(|p| p != 0.0)),
        ("--early-stopping", arguments.early_stopping.is_some()),
        ("--checkpoint", arguments.checkpoint.is_some()),
        ("--checkpoint-every", arguments.checkpoint_every.is_some()),
        ("--shards", arguments.shards.is_some()),
        ("--fast-allreduce", arguments.fast_allreduce),
    ];
    match flags.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(CliError::usage(format!(
            "{flag} does not apply to --optimizer lbfgs: L-BFGS takes full-batch steps whose \
             length its line search chooses (no learning rate, schedule, momentum, batches, \
             clipping, dropout, early stopping, checkpoints or shards); --epochs is its most \
             iterations, --l2-nielsen and --l1 its penalties"
        ))),
        None => Ok(()),
    }
}

/// scikit-learn's L-BFGS settings with `--epochs` iterations at most.
pub fn config(epochs: usize) -> LbfgsConfig {
    LbfgsConfig {
        max_iterations: epochs,
        ..LbfgsConfig::default()
    }
}

/// How a full-batch L-BFGS run ended.
pub struct Fitted {
    /// One record per iteration.
    pub history: History,
    /// What the solver reported.
    pub report: LbfgsReport,
    /// The signal that stopped it, if one did.
    pub signal: Option<i32>,
}

/// Runs L-BFGS on the training part, reporting each iteration to `observer` as an epoch
/// (validation metrics included), and stopping between iterations on SIGINT or SIGTERM.
pub fn fit(
    network: &mut Network<f32>,
    data: &PreparedData,
    config: &LbfgsConfig,
    observer: &mut dyn TrainingObserver,
    stop: &StopRequest,
) -> Result<Fitted, CliError> {
    if network.config().dropout > 0.0 {
        return Err(CliError::usage(
            "--optimizer lbfgs needs a network without dropout",
        ));
    }
    let (x, y) = (&data.train.features, &data.train.targets);
    let mut history = History::default();
    let mut started = Instant::now();
    // Counted in both closures: the solver's objective and its per-iteration report.
    let evaluations = std::cell::Cell::new(0u64);
    let report = lbfgs_fit(
        network,
        config,
        |probe| {
            evaluations.set(evaluations.get() + 1);
            probe.compute_gradients(x, y)
        },
        |current, iteration, loss| {
            let mut train = evaluate(current, x, y, data.task);
            // The objective the solver saw; `evaluate` recomputes it in inference mode.
            train.loss = loss;
            let validation = data
                .validation
                .as_ref()
                .map(|part| evaluate(current, &part.features, &part.targets, data.task));
            let record = EpochRecord {
                epoch: iteration,
                train,
                validation,
                learning_rate: 0.0,
                step: evaluations.get(),
                seconds: started.elapsed().as_secs_f64(),
            };
            started = Instant::now();
            observer.on_epoch(&record);
            history.epochs.push(record);
            stop.signal().is_none()
        },
    )
    .map_err(|error| CliError::usage(format!("--optimizer lbfgs: {error}")))?;
    if report.stop == LbfgsStop::NotFinite {
        return Err(CliError::Runtime(format!(
            "--optimizer lbfgs: the loss or its gradient is not finite at the start ({})",
            report.loss
        )));
    }
    history.best_epoch = history.epochs.last().map(|record| record.epoch);
    let signal = (report.stop == LbfgsStop::Interrupted)
        .then(|| stop.signal())
        .flatten();
    Ok(Fitted {
        history,
        report,
        signal,
    })
}

/// Why the solver stopped, in words.
pub fn stop_reason(report: &LbfgsReport) -> String {
    let why = match report.stop {
        LbfgsStop::Gradient => "the largest gradient component fell to 1e-4",
        LbfgsStop::Loss => "the loss stopped decreasing (relative change ≤ 2.2e-9)",
        LbfgsStop::Iterations => "--epochs iterations ran",
        LbfgsStop::Evaluations => "15000 loss evaluations ran",
        LbfgsStop::LineSearch => "the line search found no lower loss along its direction",
        LbfgsStop::Interrupted => "stopped by a signal",
        LbfgsStop::NotFinite => "the loss was not finite",
    };
    format!(
        "L-BFGS: {} iteration(s), {} loss evaluation(s), final training loss {:.6}; {why}",
        report.iterations, report.evaluations, report.loss
    )
}
