//! Writing checkpoints during `backprop train`, and the last words of a run that a signal or
//! a divergence ended.
//!
//! A checkpoint is the model file the run would write now (same metadata: preprocessing,
//! hyper-parameters, data source and SHA-256), plus the library's training state and optimiser
//! tensors ([`backprop::train::checkpoint`]) and the run's recipe (its flags as given and the
//! `--config` file's text), from which `--resume` rebuilds the run.

use super::model_file;
use super::options::{RunOptions, RECIPE_KEY};
use crate::config::TrainPlan;
use crate::data::PreparedData;
use crate::exit::CliError;
use crate::interrupt::signal_name;
use crate::report::format_number;
use backprop::train::checkpoint::save_checkpoint;
use backprop::train::Trainer;
use backprop::Network;
use serde_json::json;

/// Everything a checkpoint of this run needs besides the network and the trainer.
pub struct Checkpoints<'a> {
    /// The plan.
    pub plan: &'a TrainPlan,
    /// The prepared data (preprocessing, provenance).
    pub data: &'a PreparedData,
    /// The batch size in use.
    pub batch_size: usize,
    /// Where checkpoints go, and the recipe.
    pub options: &'a RunOptions,
    /// True on the process that writes files (MPI rank 0, or the only process).
    pub root: bool,
}

impl Checkpoints<'_> {
    /// Writes a checkpoint (atomically) to the checkpoint path.
    pub fn write(&self, network: &Network<f32>, trainer: &Trainer<f32>) -> Result<(), CliError> {
        if !self.root {
            return Ok(());
        }
        let mut metadata = model_file::metadata(
            self.plan,
            self.data,
            network,
            trainer.history(),
            self.batch_size,
        );
        metadata
            .extra
            .insert(RECIPE_KEY.to_string(), self.options.recipe.to_json());
        save_checkpoint(&self.options.checkpoint, metadata, network, trainer).map_err(|error| {
            CliError::Runtime(format!(
                "cannot write the checkpoint {}: {error}",
                self.options.checkpoint.display()
            ))
        })
    }

    /// The error that ends a run stopped by `signal`, after its checkpoint was written.
    pub fn interrupted(
        &self,
        signal: i32,
        network: &Network<f32>,
        trainer: &Trainer<f32>,
    ) -> CliError {
        let state = trainer.state(network);
        let path = self.options.checkpoint.display();
        let place = match &state.epoch_in_progress {
            Some(progress) => format!(
                "in epoch {} after batch {}",
                state.epoch + 1,
                progress.batches_done
            ),
            None => format!("after epoch {}", state.epoch),
        };
        CliError::Interrupted {
            signal,
            message: format!(
                "interrupted by {} {place} (step {}): checkpoint saved to {path}; go on with \
                 backprop train --resume {path}",
                signal_name(signal),
                state.step
            ),
        }
    }

    /// The error that ends a diverged run. The trainer has put the last good state back; its
    /// weights are saved to `--out` when at least one epoch completed before the divergence.
    pub fn diverged(
        &self,
        epoch: usize,
        batch: usize,
        loss: f64,
        network: &Network<f32>,
        trainer: &Trainer<f32>,
    ) -> CliError {
        let history = trainer.history();
        let good_epochs = history.epochs.len();
        let learning_rate = self.plan.optimizer.learning_rate() * trainer.learning_rate_scale();
        let kept = if good_epochs == 0 {
            "no epoch completed before it, so no model was saved".to_string()
        } else {
            let mut metadata =
                model_file::metadata(self.plan, self.data, network, history, self.batch_size);
            metadata.extra.insert(
                "diverged".to_string(),
                json!({"epoch": epoch, "batch": batch, "loss": loss.to_string()}),
            );
            let out = &self.plan.output.model;
            match model_file::save_model(out, network.clone(), metadata) {
                Ok(()) => format!(
                    "the last good weights (after epoch {good_epochs}) are saved to {}",
                    out.display()
                ),
                Err(error) => format!("the last good weights could not be saved: {error}"),
            }
        };
        CliError::Runtime(format!(
            "training diverged at epoch {epoch}, batch {batch} (loss {}); {kept}; try a lower \
             --learning-rate, such as {}, or --on-divergence restore-and-halve, or --clip 1",
            format_number(loss),
            short_number(learning_rate / 10.0)
        ))
    }
}

/// A learning rate in few digits: `0.105`, `3`, `1e5`.
fn short_number(value: f64) -> String {
    if (1e-3..1e4).contains(&value) {
        let text = format!("{value:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{value:.0e}")
    }
}
