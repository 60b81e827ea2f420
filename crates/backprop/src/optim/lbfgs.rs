//! L-BFGS: a full-batch quasi-Newton minimiser of a smooth f(x), x ∈ ℝⁿ, from f and ∇f alone.
//!
//! - **Direction** by the two-loop recursion over the last m pairs sᵢ = xᵢ₊₁ − xᵢ,
//!   yᵢ = ∇fᵢ₊₁ − ∇fᵢ (m = 10, SciPy's default), ρᵢ = 1/(yᵢᵀsᵢ):
//!   q ← g; for i newest → oldest: αᵢ = ρᵢsᵢᵀq, q ← q − αᵢyᵢ; r ← γq with
//!   γ = sᵀy/yᵀy of the newest pair; for i oldest → newest: β = ρᵢyᵢᵀr, r ← r + sᵢ(αᵢ − β);
//!   d = −r. With no pairs yet d = −g.
//! - **Line search**: backtracking to the Armijo condition f(x + td) ≤ f(x) + c₁t∇fᵀd,
//!   c₁ = 10⁻⁴, from t = 1 (the first iteration from t = min(1, 1/‖g‖), as SciPy's L-BFGS-B
//!   does), each retry at the minimiser of the quadratic through f(x), ∇fᵀd and f(x + td),
//!   kept within [0.1t, 0.5t]. A non-finite f counts as too large. Armijo alone does not
//!   guarantee yᵀs > 0, so a pair is stored only when yᵀs > 10⁻¹⁰·yᵀy: the inverse-Hessian
//!   estimate stays positive definite and d a descent direction.
//! - **Stopping rules**, scikit-learn's through SciPy's: at most `max_iterations` iterations
//!   (scikit-learn's `max_iter`) and `max_evaluations` evaluations of f (its `max_fun`); done
//!   when maxᵢ|∇fᵢ| ≤ `gradient_tolerance` (SciPy's `pgtol`, which scikit-learn sets to `tol`)
//!   or when (fₖ − fₖ₊₁)/max(|fₖ|, |fₖ₊₁|, 1) ≤ `loss_tolerance` (SciPy's `ftol` = factr·ε,
//!   2.2·10⁻⁹ with the default factr = 10⁷). There are no bounds, so the projected gradient is
//!   the gradient.
//!
//! Everything is in f64 whatever the network's float type: the curvature pairs need it.

use super::OptimError;
use std::collections::VecDeque;

/// L-BFGS's settings. [`LbfgsConfig::default`] is scikit-learn's `MLPClassifier` with
/// `solver="lbfgs"`: max_iter 200, max_fun 15000, tol 1e-4, SciPy's history 10 and ftol.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsConfig {
    /// m, the curvature pairs kept.
    pub history: usize,
    /// The most iterations (line searches).
    pub max_iterations: usize,
    /// The most evaluations of f and ∇f, line-search trials included.
    pub max_evaluations: usize,
    /// Stop when the largest |∂f/∂xᵢ| is at most this.
    pub gradient_tolerance: f64,
    /// Stop when an iteration's relative decrease of f is at most this.
    pub loss_tolerance: f64,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        Self {
            history: 10,
            max_iterations: 200,
            max_evaluations: 15_000,
            gradient_tolerance: 1e-4,
            loss_tolerance: 1e7 * f64::EPSILON,
        }
    }
}

impl LbfgsConfig {
    /// Refuses settings that cannot run.
    pub fn validate(&self) -> Result<(), OptimError> {
        let invalid = |field, value: f64, requirement| {
            Err(OptimError::InvalidHyperParameter {
                owner: "L-BFGS",
                field,
                value,
                requirement,
            })
        };
        if self.history == 0 {
            return invalid("history", 0.0, "at least 1");
        }
        if self.max_iterations == 0 {
            return invalid("max_iterations", 0.0, "at least 1");
        }
        if self.max_evaluations == 0 {
            return invalid("max_evaluations", 0.0, "at least 1");
        }
        if !(self.gradient_tolerance >= 0.0 && self.gradient_tolerance.is_finite()) {
            return invalid(
                "gradient_tolerance",
                self.gradient_tolerance,
                "finite and ≥ 0",
            );
        }
        if !(self.loss_tolerance >= 0.0 && self.loss_tolerance.is_finite()) {
            return invalid("loss_tolerance", self.loss_tolerance, "finite and ≥ 0");
        }
        Ok(())
    }
}

/// Why L-BFGS stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbfgsStop {
    /// The largest gradient component fell to the gradient tolerance.
    Gradient,
    /// An iteration decreased f by no more than the loss tolerance (relative).
    Loss,
    /// `max_iterations` iterations ran.
    Iterations,
    /// `max_evaluations` evaluations ran.
    Evaluations,
    /// No step along the direction decreased f enough (f is flat to rounding there).
    LineSearch,
    /// The caller's per-iteration callback asked to stop.
    Interrupted,
    /// f or its gradient was not finite at the starting point.
    NotFinite,
}

/// What a run of [`minimize`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct LbfgsReport {
    /// f at the point returned.
    pub loss: f64,
    /// Iterations completed.
    pub iterations: usize,
    /// Evaluations of f and ∇f.
    pub evaluations: usize,
    /// Why it stopped.
    pub stop: LbfgsStop,
}

/// Minimises `objective` from `x`, leaving the best point found in `x`. The objective returns
/// f(x) and writes ∇f(x) into its second argument. After every iteration `on_iteration`
/// receives the iteration number (from 1), f and the new point; returning `false` stops the run.
///
/// # Errors
/// When the configuration is invalid.
pub fn minimize<F, C>(
    mut objective: F,
    x: &mut [f64],
    config: &LbfgsConfig,
    mut on_iteration: C,
) -> Result<LbfgsReport, OptimError>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
    C: FnMut(usize, f64, &[f64]) -> bool,
{
    config.validate()?;
    let n = x.len();
    let mut gradient = vec![0.0; n];
    let mut loss = objective(x, &mut gradient);
    let mut evaluations = 1;
    let report = |loss, iterations, evaluations, stop| LbfgsReport {
        loss,
        iterations,
        evaluations,
        stop,
    };
    if !loss.is_finite() || gradient.iter().any(|g| !g.is_finite()) {
        return Ok(report(loss, 0, evaluations, LbfgsStop::NotFinite));
    }
    if max_abs(&gradient) <= config.gradient_tolerance {
        return Ok(report(loss, 0, evaluations, LbfgsStop::Gradient));
    }
    let mut pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(config.history);
    let (mut trial, mut trial_gradient) = (vec![0.0; n], vec![0.0; n]);
    for iteration in 1..=config.max_iterations {
        let mut direction = two_loop(&gradient, &pairs);
        let mut slope = dot(&gradient, &direction);
        if slope.is_nan() || slope >= 0.0 {
            // Rounding made the estimate useless: forget it and go down the gradient.
            pairs.clear();
            direction = gradient.iter().map(|g| -g).collect();
            slope = -dot(&gradient, &gradient);
        }
        let mut step = if pairs.is_empty() {
            (1.0 / norm(&gradient)).min(1.0)
        } else {
            1.0
        };
        let accepted = loop {
            if evaluations >= config.max_evaluations {
                break None;
            }
            for ((t, &xi), &di) in trial.iter_mut().zip(x.iter()).zip(&direction) {
                *t = xi + step * di;
            }
            let trial_loss = objective(&trial, &mut trial_gradient);
            evaluations += 1;
            let finite = trial_loss.is_finite() && trial_gradient.iter().all(|g| g.is_finite());
            if finite && trial_loss <= loss + 1e-4 * step * slope {
                break Some(trial_loss);
            }
            // The quadratic through f(x), f'(0) = slope and f(x + t·d), safeguarded.
            let next = if finite {
                -slope * step * step / (2.0 * (trial_loss - loss - slope * step))
            } else {
                0.1 * step
            };
            step = next.clamp(0.1 * step, 0.5 * step);
            if step * norm(&direction) < 1e-20 {
                break None;
            }
        };
        let Some(new_loss) = accepted else {
            let stop = if evaluations >= config.max_evaluations {
                LbfgsStop::Evaluations
            } else {
                LbfgsStop::LineSearch
            };
            return Ok(report(loss, iteration - 1, evaluations, stop));
        };
        let s: Vec<f64> = trial.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = trial_gradient
            .iter()
            .zip(&gradient)
            .map(|(a, b)| a - b)
            .collect();
        let (ys, yy) = (dot(&y, &s), dot(&y, &y));
        if ys > 1e-10 * yy {
            if pairs.len() == config.history {
                pairs.pop_front();
            }
            pairs.push_back((s, y, 1.0 / ys));
        }
        x.copy_from_slice(&trial);
        gradient.copy_from_slice(&trial_gradient);
        let decrease = (loss - new_loss) / loss.abs().max(new_loss.abs()).max(1.0);
        loss = new_loss;
        if !on_iteration(iteration, loss, x) {
            return Ok(report(loss, iteration, evaluations, LbfgsStop::Interrupted));
        }
        let stop = if decrease <= config.loss_tolerance {
            Some(LbfgsStop::Loss)
        } else if max_abs(&gradient) <= config.gradient_tolerance {
            Some(LbfgsStop::Gradient)
        } else if evaluations >= config.max_evaluations {
            Some(LbfgsStop::Evaluations)
        } else {
            None
        };
        if let Some(stop) = stop {
            return Ok(report(loss, iteration, evaluations, stop));
        }
    }
    Ok(report(
        loss,
        config.max_iterations,
        evaluations,
        LbfgsStop::Iterations,
    ))
}

/// d = −H·g by the two-loop recursion over the stored (s, y, ρ) pairs, oldest first.
fn two_loop(gradient: &[f64], pairs: &VecDeque<(Vec<f64>, Vec<f64>, f64)>) -> Vec<f64> {
    let mut q = gradient.to_vec();
    let mut alphas = vec![0.0; pairs.len()];
    for (alpha, (s, y, rho)) in alphas.iter_mut().zip(pairs.iter()).rev() {
        *alpha = rho * dot(s, &q);
        axpy(-*alpha, y, &mut q);
    }
    if let Some((s, y, _)) = pairs.back() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|v| *v *= gamma);
    }
    for (alpha, (s, y, rho)) in alphas.iter().zip(pairs.iter()) {
        let beta = rho * dot(y, &q);
        axpy(alpha - beta, s, &mut q);
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m: f64, v| m.max(v.abs()))
}

/// y ← y + a·x.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

#[cfg(test)]
#[path = "lbfgs_tests.rs"]
mod tests;
