//! Learning-rate schedules, as functions of the optimisation step t = 0, 1, 2, …
//!
//! With a linear warm-up of W steps, η(t) = η₀·(t + 1)/W for t < W; after it the decay runs on
//! t' = t − W: constant η₀, step η₀·γ^⌊t'/s⌋, exponential η₀·γ^t', or cosine annealing clamped
//! at T: η_min + (η₀ − η_min)·(1 + cos(π·min(t', T)/T))/2. Up to T that is the closed form of
//! PyTorch's CosineAnnealingLR; after T it holds η_min, where PyTorch's cosine would rise again.

use super::{require, require_non_negative, require_positive, OptimError};

/// How the learning rate decays after the warm-up; t counts steps from the warm-up's end.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Decay {
    /// η₀ throughout.
    #[default]
    Constant,
    /// η₀·γ^⌊t/step_size⌋: multiplied by `gamma` every `step_size` steps.
    Step {
        /// Steps between two multiplications by `gamma` (> 0).
        step_size: u64,
        /// The factor γ (finite, > 0).
        gamma: f64,
    },
    /// η₀·γᵗ: multiplied by `gamma` every step.
    Exponential {
        /// The factor γ (finite, > 0).
        gamma: f64,
    },
    /// Cosine annealing from η₀ at t = 0 to `min_learning_rate` at t = `total_steps`, held after.
    Cosine {
        /// The annealing length T in steps, not counting the warm-up (> 0).
        total_steps: u64,
        /// η_min, the rate reached at t = T (finite, ≥ 0).
        min_learning_rate: f64,
    },
}

/// A learning-rate schedule: an optional linear warm-up followed by a [`Decay`].
///
/// ```
/// use backprop::optim::LearningRateSchedule;
/// let schedule = LearningRateSchedule::cosine_annealing(1000, 0.0).with_warmup(100);
/// // Linear warm-up: step t < 100 uses η·(t + 1)/100.
/// assert_eq!(schedule.learning_rate_at(0.1, 49), 0.05);
/// // Then cosine over 1000 steps: half-way down at 100 + 500.
/// assert!((schedule.learning_rate_at(0.1, 600) - 0.05).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LearningRateSchedule {
    /// The decay that runs once the warm-up is over.
    pub decay: Decay,
    /// Warm-up length W in steps (0: none).
    pub warmup_steps: u64,
}

impl LearningRateSchedule {
    /// The base rate at every step, with no warm-up.
    pub fn constant() -> Self {
        Self::default()
    }

    /// [`Decay::Step`], with no warm-up.
    pub fn step_decay(step_size: u64, gamma: f64) -> Self {
        Self::from(Decay::Step { step_size, gamma })
    }

    /// [`Decay::Exponential`], with no warm-up.
    pub fn exponential_decay(gamma: f64) -> Self {
        Self::from(Decay::Exponential { gamma })
    }

    /// [`Decay::Cosine`], with no warm-up.
    pub fn cosine_annealing(total_steps: u64, min_learning_rate: f64) -> Self {
        Self::from(Decay::Cosine {
            total_steps,
            min_learning_rate,
        })
    }

    /// Returns the schedule with a linear warm-up of `warmup_steps` steps in front.
    #[must_use]
    pub fn with_warmup(mut self, warmup_steps: u64) -> Self {
        self.warmup_steps = warmup_steps;
        self
    }

    /// The learning rate for optimisation step `step` (0 for the first) from the base rate.
    pub fn learning_rate_at(&self, base_learning_rate: f64, step: u64) -> f64 {
        if step < self.warmup_steps {
            return base_learning_rate * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let t = step - self.warmup_steps;
        match self.decay {
            Decay::Constant => base_learning_rate,
            Decay::Step { step_size, gamma } => {
                base_learning_rate * libm::pow(gamma, (t / step_size.max(1)) as f64)
            }
            Decay::Exponential { gamma } => base_learning_rate * libm::pow(gamma, t as f64),
            Decay::Cosine {
                total_steps,
                min_learning_rate,
            } => {
                let progress = t.min(total_steps) as f64 / total_steps.max(1) as f64;
                let cosine = libm::cos(std::f64::consts::PI * progress);
                min_learning_rate + (base_learning_rate - min_learning_rate) * (1.0 + cosine) / 2.0
            }
        }
    }

    /// Checks the decay's parameters: step_size and total_steps > 0, gamma finite and > 0,
    /// min_learning_rate finite and ≥ 0.
    pub fn validate(&self) -> Result<(), OptimError> {
        match self.decay {
            Decay::Constant => Ok(()),
            Decay::Step { step_size, gamma } => {
                require(step_size > 0, "schedule", "step_size", 0.0, "> 0")?;
                require_positive("schedule", "gamma", gamma)
            }
            Decay::Exponential { gamma } => require_positive("schedule", "gamma", gamma),
            Decay::Cosine {
                total_steps,
                min_learning_rate,
            } => {
                require(total_steps > 0, "schedule", "total_steps", 0.0, "> 0")?;
                require_non_negative("schedule", "min_learning_rate", min_learning_rate)
            }
        }
    }
}

impl From<Decay> for LearningRateSchedule {
    fn from(decay: Decay) -> Self {
        Self {
            decay,
            warmup_steps: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} against {b}");
    }

    #[test]
    fn constant_with_and_without_warmup() {
        let schedule = LearningRateSchedule::constant();
        assert_eq!(schedule.learning_rate_at(0.1, 0), 0.1);
        assert_eq!(schedule.learning_rate_at(0.1, 1_000_000), 0.1);
        let warm = schedule.with_warmup(4);
        close(warm.learning_rate_at(0.1, 0), 0.025);
        close(warm.learning_rate_at(0.1, 1), 0.05);
        assert_eq!(warm.learning_rate_at(0.1, 3), 0.1);
        assert_eq!(warm.learning_rate_at(0.1, 4), 0.1);
    }

    #[test]
    fn step_decay_changes_at_the_edges() {
        let schedule = LearningRateSchedule::step_decay(3, 0.5);
        assert_eq!(schedule.learning_rate_at(1.0, 2), 1.0);
        assert_eq!(schedule.learning_rate_at(1.0, 3), 0.5);
        assert_eq!(schedule.learning_rate_at(1.0, 5), 0.5);
        assert_eq!(schedule.learning_rate_at(1.0, 6), 0.25);
        let warm = schedule.with_warmup(2);
        close(warm.learning_rate_at(1.0, 0), 0.5);
        assert_eq!(warm.learning_rate_at(1.0, 1), 1.0);
        assert_eq!(warm.learning_rate_at(1.0, 4), 1.0);
        assert_eq!(warm.learning_rate_at(1.0, 5), 0.5);
    }

    #[test]
    fn exponential_decay() {
        let schedule = LearningRateSchedule::exponential_decay(0.9);
        assert_eq!(schedule.learning_rate_at(2.0, 0), 2.0);
        close(schedule.learning_rate_at(2.0, 1), 1.8);
        close(schedule.learning_rate_at(2.0, 3), 2.0 * 0.729);
        close(
            schedule.with_warmup(10).learning_rate_at(2.0, 12),
            2.0 * 0.81,
        );
    }

    #[test]
    fn cosine_at_zero_half_end_and_beyond() {
        let schedule = LearningRateSchedule::cosine_annealing(100, 0.01);
        assert_eq!(schedule.learning_rate_at(0.1, 0), 0.1);
        close(schedule.learning_rate_at(0.1, 50), 0.055);
        close(
            schedule.learning_rate_at(0.1, 25),
            0.01 + 0.09 * (1.0 + 0.5f64.sqrt()) / 2.0,
        );
        assert_eq!(schedule.learning_rate_at(0.1, 100), 0.01);
        assert_eq!(schedule.learning_rate_at(0.1, 1_000), 0.01);
        let warm = schedule.with_warmup(10);
        close(warm.learning_rate_at(0.1, 4), 0.05);
        assert_eq!(warm.learning_rate_at(0.1, 9), 0.1);
        assert_eq!(warm.learning_rate_at(0.1, 10), 0.1);
        close(warm.learning_rate_at(0.1, 60), 0.055);
        assert_eq!(warm.learning_rate_at(0.1, 110), 0.01);
    }

    #[test]
    fn validation_errors_name_the_field() {
        assert!(LearningRateSchedule::constant()
            .with_warmup(5)
            .validate()
            .is_ok());
        let err = LearningRateSchedule::step_decay(0, 0.5)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("step_size"), "{err}");
        let err = LearningRateSchedule::exponential_decay(-0.5)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("gamma"), "{err}");
        let err = LearningRateSchedule::cosine_annealing(0, 0.0)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("total_steps"), "{err}");
        let err = LearningRateSchedule::cosine_annealing(10, f64::NAN)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("min_learning_rate"), "{err}");
    }
}
