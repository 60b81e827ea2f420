//! One step of a run, and the end of an epoch.
//!
//! [`Trainer::step`] takes the next batch of the epoch in progress (drawing the epoch's
//! permutation when it starts), runs it through the [`StepStrategy`] that fits the network and
//! the optimiser, and, after the epoch's last batch, closes the epoch: training metrics, a
//! validation pass, early-stopping bookkeeping and the history record. Settings changed between
//! steps take effect at once (learning rate, optimiser hyper-parameters) or with the next epoch
//! (batch size), and the optimiser keeps its state.

use super::diagnostics;
use super::events::{BatchEvent, TrainingObserver};
use super::history::EpochRecord;
use super::metrics::{evaluate, MetricAccumulator, Task};
use super::state::EpochProgress;
use super::step::{DivergedLoss, DivergenceCheck, FusedRuleStep, FusedSgdStep};
use super::step::{StepInput, StepKind, StepStrategy};
use super::trainer::EpochOrder;
use super::{check_data, Trainer};
use crate::network::Network;
use crate::optim::OptimizerConfig;
use crate::{Error, Result};
use backprop_tensor::{Float, Matrix};
use std::time::Instant;

/// What one [`Trainer::step`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// The batch: epoch, batch number, step count, cost and learning rate.
    pub batch: BatchEvent,
    /// Which strategy took the step.
    pub kind: StepKind,
    /// The epoch's record when this step completed it.
    pub epoch_record: Option<EpochRecord>,
}

/// The data a run steps over.
pub(super) struct EpochData<'a, T: Float> {
    pub(super) x: &'a Matrix<T>,
    pub(super) y: &'a Matrix<T>,
    pub(super) validation: Option<(&'a Matrix<T>, &'a Matrix<T>)>,
}

/// Checks that the training data and the validation data, if any, fit the network.
pub(super) fn check_training_data<T: Float>(
    network: &Network<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
    validation: Option<(&Matrix<T>, &Matrix<T>)>,
) -> Result<()> {
    check_data(network, x, y, "training data")?;
    if let Some((vx, vy)) = validation {
        check_data(network, vx, vy, "validation data")?;
    }
    Ok(())
}

impl<T: Float> Trainer<T> {
    /// Takes one optimisation step on the next batch of (`x`, `y`), one example per row; after
    /// the last batch of an epoch, also closes the epoch (metrics, `validation`, early
    /// stopping, history), telling `observer` as [`Trainer::fit`] does.
    ///
    /// The data is used as given: a validation fraction in the configuration is
    /// [`Trainer::fit`]'s to carve out. The configured number of epochs does not stop steps
    /// here. A diverged cost is returned as [`Error::Diverged`]; the divergence policy's
    /// restore is [`Trainer::fit`]'s.
    pub fn step(
        &mut self,
        network: &mut Network<T>,
        x: &Matrix<T>,
        y: &Matrix<T>,
        validation: Option<(&Matrix<T>, &Matrix<T>)>,
        observer: &mut dyn TrainingObserver,
    ) -> Result<StepReport> {
        check_training_data(network, x, y, validation)?;
        let data = EpochData { x, y, validation };
        self.step_on(network, &data, observer)
    }

    /// The training rows the next step will use, for a training set of `rows` rows.
    pub fn next_batch_rows(&self, rows: usize) -> Vec<usize> {
        let batch_size = self.config.batch_size;
        let done = self
            .progress
            .in_progress
            .as_ref()
            .map_or(0, |p| p.batches_done);
        let start = (done * batch_size).min(rows);
        let batch = start..(start + batch_size).min(rows);
        match &self.order {
            Some(order) if order.epoch == self.progress.epoch + 1 && order.rows.len() == rows => {
                order.rows[batch].to_vec()
            }
            _ => self.draw_order(rows).rows[batch].to_vec(),
        }
    }

    /// Sets the base learning rate (before any schedule) from the next step on; the
    /// optimiser keeps its state.
    pub fn set_learning_rate(&mut self, learning_rate: f64) -> Result<()> {
        let config = self
            .config
            .optimizer
            .clone()
            .with_learning_rate(learning_rate);
        self.set_optimizer_config(config)
    }

    /// Changes the optimiser's hyper-parameters from the next step on, keeping its state: the
    /// rule must stay the same (SGD, Adam, AdamW or RMSprop); a state buffer a new setting
    /// needs (momentum switched on) starts as PyTorch starts it.
    pub fn set_optimizer_config(&mut self, config: OptimizerConfig) -> Result<()> {
        self.progress.optimizer.set_config(config.clone())?;
        self.config.optimizer = config;
        Ok(())
    }

    /// Sets the batch size: at once between epochs, else from the next epoch (an epoch's
    /// batches are cut once).
    pub fn set_batch_size(&mut self, batch_size: usize) -> Result<()> {
        if batch_size == 0 {
            return Err(Error::Training("batch size must be at least 1".into()));
        }
        if self.progress.in_progress.is_some() {
            self.pending_batch_size = Some(batch_size);
        } else {
            self.config.batch_size = batch_size;
        }
        Ok(())
    }

    /// The next epoch's order, drawn from a copy of the shuffle generator.
    fn draw_order(&self, rows: usize) -> EpochOrder {
        let mut shuffle_rng = self.progress.shuffle_rng.clone();
        let rows = if self.config.shuffle {
            shuffle_rng.permutation(rows)
        } else {
            (0..rows).collect()
        };
        EpochOrder {
            epoch: self.progress.epoch + 1,
            rows,
            shuffle_rng_after: shuffle_rng,
        }
    }

    /// [`Trainer::step`] on checked data.
    pub(super) fn step_on(
        &mut self,
        network: &mut Network<T>,
        data: &EpochData<'_, T>,
        observer: &mut dyn TrainingObserver,
    ) -> Result<StepReport> {
        let started = Instant::now();
        let n = data.x.rows();
        let epoch = self.progress.epoch + 1;
        let current = matches!(&self.order, Some(o) if o.epoch == epoch && o.rows.len() == n);
        if !current {
            self.order = Some(self.draw_order(n));
        }
        let batch_size = self.config.batch_size;
        let batches = n.div_ceil(batch_size);
        let task = self.config.task_for(network.cost());
        let in_progress = self
            .progress
            .in_progress
            .get_or_insert_with(|| EpochProgress {
                batches_done: 0,
                accumulator: MetricAccumulator::for_task(task),
                seconds: 0.0,
            });
        let batch = in_progress.batches_done;
        if batch >= batches {
            return Err(Error::Checkpoint(format!(
                "the training state has {batch} batches of epoch {epoch} done, but it has \
                 {batches}"
            )));
        }
        let mut accumulator = std::mem::take(&mut in_progress.accumulator);
        // The order is moved out for the step, which borrows the whole trainer.
        let order = self.order.take().expect("drawn above");
        let end = ((batch + 1) * batch_size).min(n);
        let rows = &order.rows[batch * batch_size..end];
        let next_rows = &order.rows[end..(end + batch_size).min(n)];
        let outcome = self.take_step(network, data, (rows, next_rows), &mut accumulator);
        self.order = Some(order);
        let in_progress = self.progress.in_progress.as_mut().expect("started above");
        in_progress.accumulator = accumulator;
        let (kind, learning_rate, loss) = outcome;
        let loss = loss.map_err(|diverged| Error::Diverged {
            epoch,
            batch: batch + 1,
            loss: diverged.0,
        })?;
        in_progress.batches_done += 1;
        in_progress.seconds += started.elapsed().as_secs_f64();
        self.progress.learning_rate = learning_rate;
        self.progress.reference_loss.get_or_insert(loss);
        self.progress.step += 1;
        let event = BatchEvent {
            epoch,
            batch: batch + 1,
            batches,
            step: self.progress.step,
            loss,
            learning_rate,
        };
        observer.on_batch(&event);
        let epoch_record = if batch + 1 == batches {
            Some(self.finish_epoch(network, data, observer)?)
        } else {
            None
        };
        Ok(StepReport {
            batch: event,
            kind,
            epoch_record,
        })
    }

    /// One optimisation step on exactly `rows` of (`x`, `y`), outside the epochs' order: the
    /// strategy, schedule and optimiser of [`Trainer::step`], counted as a step, without
    /// epoch bookkeeping or observer. Run on copies, it shows the update a step on chosen
    /// examples would make. Returns the batch cost.
    pub fn step_rows(
        &mut self,
        network: &mut Network<T>,
        x: &Matrix<T>,
        y: &Matrix<T>,
        rows: &[usize],
    ) -> Result<f64> {
        check_data(network, x, y, "training data")?;
        if let Some(&row) = rows.iter().find(|&&row| row >= x.rows()) {
            return Err(Error::Training(format!(
                "row {row} is outside the {} training rows",
                x.rows()
            )));
        }
        let data = EpochData {
            x,
            y,
            validation: None,
        };
        let mut metrics = MetricAccumulator::new();
        let (_, learning_rate, loss) = self.take_step(network, &data, (rows, &[]), &mut metrics);
        let loss = loss.map_err(|diverged| Error::Diverged {
            epoch: self.progress.epoch + 1,
            batch: 0,
            loss: diverged.0,
        })?;
        self.progress.learning_rate = learning_rate;
        self.progress.step += 1;
        Ok(loss)
    }

    /// Runs the strategy that fits the network and the optimiser on `rows` (prefetching
    /// `next_rows`) at the scheduled learning rate. Returns the strategy, the rate and the
    /// cost.
    fn take_step(
        &mut self,
        network: &mut Network<T>,
        data: &EpochData<'_, T>,
        (rows, next_rows): (&[usize], &[usize]),
        metrics: &mut MetricAccumulator,
    ) -> (StepKind, f64, std::result::Result<f64, DivergedLoss>) {
        network.set_sparse_input(self.sparse_input);
        let base_rate = self.config.optimizer.learning_rate();
        let learning_rate = self
            .config
            .schedule
            .learning_rate_at(base_rate, self.progress.step)
            * self.learning_rate_scale;
        let input = StepInput {
            x: data.x,
            y: data.y,
            rows,
            next_rows,
            learning_rate,
            gradient_clip: self.config.gradient_clip,
            divergence: DivergenceCheck {
                settings: self.config.divergence,
                reference: self.progress.reference_loss,
            },
        };
        let optimizer = &mut self.progress.optimizer;
        let strategy: &mut dyn StepStrategy<T> = match &mut self.sharded {
            Some(sharded) => sharded,
            None if FusedSgdStep::applies(network, optimizer, input.gradient_clip) => {
                &mut self.fused
            }
            None if FusedRuleStep::applies(network, optimizer, input.gradient_clip) => {
                &mut self.fused_rule
            }
            None => &mut self.plain,
        };
        let loss = strategy.step(network, optimizer, &input, metrics);
        (strategy.kind(), learning_rate, loss)
    }

    /// Closes the epoch whose last batch just ran: checks the weights, computes the training
    /// and validation metrics, keeps the early-stopping books and records the epoch.
    fn finish_epoch(
        &mut self,
        network: &mut Network<T>,
        data: &EpochData<'_, T>,
        observer: &mut dyn TrainingObserver,
    ) -> Result<EpochRecord> {
        let started = Instant::now();
        let epoch = self.progress.epoch + 1;
        let task: Task = self.config.task_for(network.cost());
        let progress = self
            .progress
            .in_progress
            .take()
            .expect("an epoch in progress");
        let batches = progress.batches_done;
        // A last step can overflow the weights without any loss having seen it: the next
        // forward pass would give NaN, so that is the loss reported.
        let overflowed = network
            .parameters()
            .iter()
            .any(|(_, m)| m.as_slice().iter().any(|v| !v.is_finite()));
        if overflowed {
            return Err(Error::Diverged {
                epoch,
                batch: batches,
                loss: f64::NAN,
            });
        }
        // Every step already added its penalty to the loss it differentiated.
        let train = progress.accumulator.finish(task, 0.0);
        let validation_metrics = data.validation.map(|(vx, vy)| match self.sharded.as_mut() {
            Some(sharded) => sharded.sharding.evaluate(network, vx, vy, task),
            None => evaluate(network, vx, vy, task),
        });
        if let Some(metrics) = &validation_metrics {
            if !metrics.loss.is_finite() {
                return Err(Error::Diverged {
                    epoch,
                    batch: batches,
                    loss: metrics.loss,
                });
            }
        }
        let order = self.order.take().expect("the epoch's order");
        self.progress.shuffle_rng = order.shuffle_rng_after;
        self.progress.epoch = epoch;
        if let Some(batch_size) = self.pending_batch_size.take() {
            self.config.batch_size = batch_size;
        }
        let record = EpochRecord {
            epoch,
            train,
            validation: validation_metrics.clone(),
            learning_rate: self.progress.learning_rate,
            step: self.progress.step,
            seconds: progress.seconds + started.elapsed().as_secs_f64(),
        };
        let progress = &mut self.progress;
        progress.history.epochs.push(record.clone());
        progress.history.best_epoch = Some(epoch);
        if let (Some(patience), Some(metrics)) = (self.config.early_stopping, &validation_metrics) {
            let improved = progress
                .best
                .as_ref()
                .is_none_or(|(best, _)| metrics.loss < *best);
            if improved {
                progress.best = Some((metrics.loss, network.clone()));
                progress.epochs_without_improvement = 0;
            } else {
                progress.epochs_without_improvement += 1;
            }
            let best_epoch = epoch - progress.epochs_without_improvement;
            progress.history.best_epoch = Some(best_epoch);
            if progress.epochs_without_improvement >= patience {
                progress.history.stopped_early = true;
            }
        }
        observer.on_epoch(&record);
        if observer.wants_diagnostics() {
            let (dx, dy) = diagnostics::diagnostic_batch(data.x, data.y);
            let figures = diagnostics::diagnose(network, &dx, &dy, epoch);
            observer.on_diagnostics(&figures);
            self.progress.history.diagnostics.push(figures);
        }
        Ok(record)
    }
}
