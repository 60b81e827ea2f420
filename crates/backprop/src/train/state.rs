//! Where a run stands, as plain data: what a checkpoint stores besides the weights and the
//! optimiser's tensors.
//!
//! A [`TrainingState`] holds the epoch and step counters, the shuffle generator (as it was
//! before the epoch in progress drew its permutation, so a resume draws the same order), the
//! batches of that epoch already done with their metric sums, the early-stopping counter and
//! best loss, the learning rate and the divergence factor on it, the history, the dropout
//! generators and the optimiser's step counts. Together with the weights and the `optimizer.*`
//! tensors it lets [`Trainer::resume`](super::Trainer::resume) go on bit for bit.

use super::history::History;
use super::metrics::MetricAccumulator;
use crate::network::Network;
use crate::{Error, Result};
use backprop_tensor::{Float, RngState, SeededRng};
use serde::{Deserialize, Serialize};

/// The version of [`TrainingState`]'s layout.
pub const TRAINING_STATE_VERSION: u32 = 1;

/// A random generator's state in JSON-friendly form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRng {
    /// The 256-bit ChaCha key, 64 hex digits.
    pub key: String,
    /// The ChaCha stream.
    pub stream: u64,
    /// The position in the stream in 32-bit words, as decimal text (it is a 128-bit number).
    pub word_pos: String,
}

impl From<&RngState> for SavedRng {
    fn from(state: &RngState) -> Self {
        Self {
            key: hex::encode(state.seed),
            stream: state.stream,
            word_pos: state.word_pos.to_string(),
        }
    }
}

impl SavedRng {
    /// Of a generator.
    pub fn of(rng: &SeededRng) -> Self {
        Self::from(&rng.state())
    }

    /// The generator state it describes.
    pub fn to_state(&self) -> Result<RngState> {
        let bad = |what: &str| Error::Checkpoint(format!("the training state's generator {what}"));
        let bytes = hex::decode(&self.key).map_err(|_| bad("key is not hex"))?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| bad("key is not 32 bytes"))?;
        let word_pos = self
            .word_pos
            .parse()
            .map_err(|_| bad("position is not a whole number"))?;
        Ok(RngState {
            seed,
            stream: self.stream,
            word_pos,
        })
    }
}

/// An epoch left in the middle (training paused between two of its batches).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochProgress {
    /// Batches of the epoch already done.
    pub batches_done: usize,
    /// The training metrics summed over those batches.
    pub accumulator: MetricAccumulator,
    /// Seconds spent on them.
    pub seconds: f64,
}

/// Everything about a run besides the weights and the optimiser's tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    /// [`TRAINING_STATE_VERSION`].
    pub version: u32,
    /// Epochs complete.
    pub epoch: usize,
    /// Optimisation steps taken.
    pub step: u64,
    /// The shuffle generator, before the permutation of the epoch in progress (if any).
    pub shuffle_rng: SavedRng,
    /// The epoch in progress, when training paused in its middle.
    pub epoch_in_progress: Option<EpochProgress>,
    /// Epochs since the validation loss last improved (early stopping).
    pub epochs_without_improvement: usize,
    /// The best validation loss so far (early stopping; its weights are saved as tensors).
    pub best_loss: Option<f64>,
    /// The learning rate of the last step (the base rate before any step).
    pub learning_rate: f64,
    /// The factor on the scheduled learning rate left by divergence halvings (1 without any).
    pub learning_rate_scale: f64,
    /// Divergence halvings so far.
    pub halvings: usize,
    /// The run's first batch loss, the reference of the divergence bound.
    pub reference_loss: Option<f64>,
    /// The history so far.
    pub history: History,
    /// The dropout layers' generators, in layer order.
    pub dropout_rngs: Vec<SavedRng>,
    /// The optimiser's step counts (`optimizer.steps_taken`, `optimizer.{parameter}.step`).
    pub optimizer_steps: Vec<(String, u64)>,
}

impl TrainingState {
    /// One line for people: `"epoch 3 of the run complete, 5 batches of epoch 4 done, step 44,
    /// learning rate 0.01"`.
    pub fn describe(&self) -> String {
        let mut text = format!("{} epoch(s) complete", self.epoch);
        if let Some(progress) = &self.epoch_in_progress {
            text.push_str(&format!(
                ", {} batch(es) of epoch {} done",
                progress.batches_done,
                self.epoch + 1
            ));
        }
        text.push_str(&format!(
            ", step {}, learning rate {}",
            self.step, self.learning_rate
        ));
        if self.halvings > 0 {
            text.push_str(&format!(
                " (halved {} time(s) after divergence)",
                self.halvings
            ));
        }
        if let Some(best) = self.best_loss {
            text.push_str(&format!(
                ", early stopping: best validation loss {best}, {} epoch(s) without improvement",
                self.epochs_without_improvement
            ));
        }
        text
    }
}

/// The dropout generators of a network, in layer order.
pub(super) fn dropout_rngs<T: Float>(network: &Network<T>) -> Vec<SavedRng> {
    network
        .layers
        .iter()
        .filter_map(|layer| layer.random_state())
        .map(|state| SavedRng::from(&state))
        .collect()
}

/// Puts saved dropout generators back into a network with as many dropout layers.
pub(super) fn restore_dropout_rngs<T: Float>(
    network: &mut Network<T>,
    saved: &[SavedRng],
) -> Result<()> {
    let layers: Vec<_> = network
        .layers
        .iter_mut()
        .filter(|layer| layer.random_state().is_some())
        .collect();
    if layers.len() != saved.len() {
        return Err(Error::Checkpoint(format!(
            "the training state has {} dropout generator(s) for a network with {} dropout layer(s)",
            saved.len(),
            layers.len()
        )));
    }
    for (layer, rng) in layers.into_iter().zip(saved) {
        layer.set_random_state(rng.to_state()?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_round_trip_through_text() {
        let mut rng = SeededRng::with_stream(42, 7);
        for _ in 0..13 {
            rng.next_u64();
        }
        let saved = SavedRng::of(&rng);
        let json = serde_json::to_string(&saved).unwrap();
        let back: SavedRng = serde_json::from_str(&json).unwrap();
        let mut resumed = SeededRng::from_state(back.to_state().unwrap());
        for _ in 0..5 {
            assert_eq!(rng.next_u64(), resumed.next_u64());
        }
        let broken = SavedRng {
            key: "zz".into(),
            ..saved
        };
        assert!(broken.to_state().is_err());
    }
}
