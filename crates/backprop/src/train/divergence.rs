//! Divergence: when a batch's loss is NaN, infinite, or past a bound, the run has blown up.
//!
//! - The bound is relative: a batch loss above `loss_bound_factor · max(L₀, 1)`, where L₀ is
//!   the run's first batch loss, counts as divergence (a loss 1000 times the starting one is
//!   not going to come back). The `max(·, 1)` keeps a run that starts almost perfect from
//!   tripping on noise.
//! - The trainer keeps its last good state in memory: a copy taken at the start of every epoch
//!   (and when `fit` is entered, which may be in the middle of an epoch after a resume).
//! - [`DivergencePolicy::Stop`] puts that state back (weights, optimiser, history) and returns
//!   [`Error::Diverged`](crate::Error::Diverged) naming the epoch and batch.
//! - [`DivergencePolicy::RestoreAndHalve`] puts it back, halves the learning rate (a factor
//!   applied on top of the schedule, kept in checkpoints) and goes on; after `max_halvings`
//!   halvings the next divergence stops as `Stop` does.

use crate::{Error, Result};

/// The bound factor used unless another is set: a batch loss 1000 × max(first loss, 1) diverges.
pub const DEFAULT_LOSS_BOUND_FACTOR: f64 = 1e3;

/// The number of halvings [`DivergencePolicy::restore_and_halve`] allows.
pub const DEFAULT_MAX_HALVINGS: usize = 5;

/// What to do when the loss diverges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DivergencePolicy {
    /// Restore the last good state and stop with [`Error::Diverged`].
    #[default]
    Stop,
    /// Restore the last good state, halve the learning rate and go on, at most `max_halvings`
    /// times.
    RestoreAndHalve {
        /// Halvings allowed before a divergence stops the run.
        max_halvings: usize,
    },
}

impl DivergencePolicy {
    /// Restore and halve, at most [`DEFAULT_MAX_HALVINGS`] times.
    pub fn restore_and_halve() -> Self {
        Self::RestoreAndHalve {
            max_halvings: DEFAULT_MAX_HALVINGS,
        }
    }
}

/// How divergence is detected and answered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DivergenceSettings {
    /// What to do.
    pub policy: DivergencePolicy,
    /// A batch loss above `loss_bound_factor · max(first batch loss, 1)` diverges; must be > 1.
    pub loss_bound_factor: f64,
}

impl Default for DivergenceSettings {
    fn default() -> Self {
        Self {
            policy: DivergencePolicy::Stop,
            loss_bound_factor: DEFAULT_LOSS_BOUND_FACTOR,
        }
    }
}

impl DivergenceSettings {
    /// Checks the bound factor.
    pub fn validate(&self) -> Result<()> {
        if self.loss_bound_factor.is_nan() || self.loss_bound_factor <= 1.0 {
            return Err(Error::Training(format!(
                "the divergence bound factor must be greater than 1, got {}",
                self.loss_bound_factor
            )));
        }
        Ok(())
    }

    /// True when `loss` has diverged, given the run's first batch loss (none yet: only a
    /// non-finite loss diverges).
    pub fn diverged(&self, loss: f64, reference: Option<f64>) -> bool {
        if !loss.is_finite() {
            return true;
        }
        reference.is_some_and(|first| loss > self.loss_bound_factor * first.max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_and_runaway_losses_diverge() {
        let settings = DivergenceSettings::default();
        assert!(settings.diverged(f64::NAN, None));
        assert!(settings.diverged(f64::INFINITY, Some(2.0)));
        assert!(!settings.diverged(1e9, None));
        assert!(!settings.diverged(1999.0, Some(2.0)));
        assert!(settings.diverged(2001.0, Some(2.0)));
        // A tiny first loss does not make the bound tiny.
        assert!(!settings.diverged(999.0, Some(1e-6)));
        assert!(settings.diverged(1001.0, Some(1e-6)));
    }

    #[test]
    fn the_bound_factor_is_checked() {
        let mut settings = DivergenceSettings::default();
        assert!(settings.validate().is_ok());
        for bad in [1.0, 0.5, f64::NAN] {
            settings.loss_bound_factor = bad;
            assert!(settings.validate().is_err(), "{bad}");
        }
    }
}
