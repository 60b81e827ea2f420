//! The loss curves: (epoch, training loss, test loss) per recorded epoch, at most
//! [`MAX_ENTRIES`] of them. Past that the history is thinned evenly: every other entry goes and
//! from then on only every second (fourth, …) epoch is recorded, so a long run keeps its whole
//! shape in bounded memory and bounded state size.

use serde::Serialize;

/// The most entries kept.
pub const MAX_ENTRIES: usize = 1000;

/// Loss curves, thinned past [`MAX_ENTRIES`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct LossHistory {
    entries: Vec<(usize, f64, f64)>,
    /// Only epochs that are multiples of this are recorded.
    #[serde(skip)]
    stride: usize,
}

impl Default for LossHistory {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            stride: 1,
        }
    }
}

impl LossHistory {
    /// Records the losses after `epoch` (skipped when thinning leaves this epoch out).
    pub fn record(&mut self, epoch: usize, train: f64, test: f64) {
        if !epoch.is_multiple_of(self.stride) {
            return;
        }
        self.entries.push((epoch, train, test));
        if self.entries.len() > MAX_ENTRIES {
            self.stride *= 2;
            let stride = self.stride;
            self.entries.retain(|(epoch, _, _)| epoch % stride == 0);
        }
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[(usize, f64, f64)] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_are_thinned_evenly() {
        let mut history = LossHistory::default();
        for epoch in 0..=5000 {
            history.record(epoch, epoch as f64, 0.0);
        }
        let entries = history.entries();
        assert!(entries.len() <= MAX_ENTRIES && entries.len() > MAX_ENTRIES / 4);
        assert_eq!(entries[0].0, 0);
        let gap = entries[1].0 - entries[0].0;
        assert!(entries.windows(2).all(|w| w[1].0 - w[0].0 == gap));
        assert!(entries.last().unwrap().0 > 5000 - gap);
    }
}
