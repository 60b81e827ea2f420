//! Brute force against backpropagation, measured here.
//!
//! Three ways to lower the cost C(θ) of XOR on the 2-3-1 company network:
//!
//! - **All weight combinations**: every point of a grid of v values per free weight over
//!   [−r, r]; vᵏ cost evaluations for k free weights. An odd v puts 0, where the free weights
//!   start, on the grid, so the best grid cost is never above the starting cost.
//! - **One weight at a time**: nudge each free weight θᵢ by h and re-evaluate,
//!   ĝᵢ = (C(θ + h eᵢ) − C(θ)) / h, then step θ ← θ − η ĝ. N + 1 forward passes per step for
//!   N free parameters.
//! - **Backpropagation**: one forward and one backward pass per step give every ∂C/∂θ, then
//!   the same step θ ← θ − η ∂C/∂θ.
//!
//! First the whole network is trained with backprop; then k of its weights (named, e.g.
//! `layers.1.weight[0, 0]`) are set free at 0 while the rest keep the trained values. The
//! company network with every parameter free (from its seeded start) is run with the two
//! gradient methods. Each run counts its forward passes and is timed with
//! [`std::time::Instant`]; the final cost is evaluated once more after the run, outside the
//! count. [`extrapolate`](crate::extrapolate) scales the measured time per forward pass up to
//! the seed's table, a 784-30-10 network and about a million weights.

use crate::extrapolate::{extrapolations, measure, Extrapolation, Timing};
use crate::search::{all_positions, get, resolve, set, Task};
pub use crate::search::{xor_data, WeightPosition};
use crate::CompanyExample;
use backprop::optim::{OptimizerConfig, SgdConfig};
use backprop::train::Silent;
use backprop::{Error, Result, Trainer, TrainingConfig};
use serde::Serialize;

/// A way to search for weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Every combination on a grid.
    Grid,
    /// Finite differences, one weight at a time, then a descent step.
    OneAtATime,
    /// Backpropagation, then a descent step.
    Backprop,
}

impl Method {
    /// `"all combinations"`, `"one weight at a time"`, `"backpropagation"`.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Grid => "all combinations",
            Method::OneAtATime => "one weight at a time",
            Method::Backprop => "backpropagation",
        }
    }
}

/// What to run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompareConfig {
    /// The company network's seed.
    pub seed: u64,
    /// Candidate free weights, in order: a run with k free weights frees the first k.
    pub free_weights: Vec<WeightPosition>,
    /// How many weights to free, one run each (2–4 finish in seconds).
    pub free_counts: Vec<usize>,
    /// Grid values per free weight, v (odd puts the start, 0, on the grid).
    pub values_per_weight: usize,
    /// The grid spans [−r, r].
    pub grid_range: f64,
    /// Descent steps for the two gradient methods.
    pub steps: usize,
    /// η for the two gradient methods.
    pub learning_rate: f64,
    /// h for one weight at a time.
    pub nudge: f64,
    /// Epochs of backprop training (SGD with momentum, full batch) that fix the other weights.
    pub training_epochs: usize,
    /// Seconds spent timing each network's forward pass and backprop step.
    pub timing_seconds: f64,
    /// Larger networks to time and extrapolate to, e.g. `[784, 30, 10]` (23,860 parameters).
    pub large_networks: Vec<Vec<usize>>,
    /// Examples in one training epoch for the large networks (MNIST: 60,000).
    pub examples_per_epoch: usize,
}

impl Default for CompareConfig {
    /// Runs in about a second: v = 21 on [−10, 10], 2000 steps at η = 10, 784-30-10 and
    /// 784-1200-50-10.
    fn default() -> Self {
        Self {
            seed: 1,
            free_weights: vec![
                WeightPosition::new("layers.1.weight", 0, 0),
                WeightPosition::new("layers.1.weight", 0, 1),
                WeightPosition::new("layers.1.weight", 0, 2),
                WeightPosition::new("layers.0.weight", 0, 0),
            ],
            free_counts: vec![2, 3, 4],
            values_per_weight: 21,
            grid_range: 10.0,
            steps: 2000,
            learning_rate: 10.0,
            nudge: 1e-6,
            training_epochs: 3000,
            timing_seconds: 0.2,
            large_networks: vec![vec![784, 30, 10], vec![784, 1200, 50, 10]],
            examples_per_epoch: 60_000,
        }
    }
}

impl CompareConfig {
    /// A small version for tests: v = 5, 2 and 3 free weights, 100 steps, short timings.
    pub fn quick() -> Self {
        Self {
            free_counts: vec![2, 3],
            values_per_weight: 5,
            steps: 100,
            training_epochs: 300,
            timing_seconds: 0.005,
            ..Self::default()
        }
    }
}

/// One measured run.
#[derive(Clone, Debug, Serialize)]
pub struct MethodRun {
    /// `"XOR, 2 weights free"`, `"XOR, all 13 parameters free"`.
    pub task: String,
    /// The method.
    pub method: Method,
    /// The free parameters, by position.
    pub free: Vec<String>,
    /// N, the number of free parameters.
    pub parameters: usize,
    /// Descent steps (0 for the grid).
    pub steps: usize,
    /// v (grid only).
    pub values_per_weight: Option<usize>,
    /// Cost evaluations (forward passes) counted.
    pub evaluations: u64,
    /// Backward passes.
    pub backward_passes: u64,
    /// Wall time of the run, in seconds.
    pub seconds: f64,
    /// C at the start.
    pub starting_cost: f64,
    /// C at the end (the best grid point, for the grid).
    pub final_cost: f64,
    /// The free parameters' final values.
    pub final_values: Vec<f64>,
}

/// Everything measured and extrapolated.
#[derive(Clone, Debug, Serialize)]
pub struct ComparisonReport {
    /// What was run.
    pub config: CompareConfig,
    /// The network and data, in words.
    pub network: String,
    /// C after the backprop training that fixed the other weights.
    pub trained_cost: f64,
    /// The trained values of the candidate free weights.
    pub trained_values: Vec<(String, f64)>,
    /// The runs, in order.
    pub runs: Vec<MethodRun>,
    /// Time per forward pass and per backprop step, per network.
    pub timings: Vec<Timing>,
    /// Scaled-up estimates.
    pub extrapolations: Vec<Extrapolation>,
}

/// Runs the comparison (see the module documentation).
///
/// # Errors
/// [`Error::Config`] for a free weight that is not in the network or a count beyond the
/// candidates, and training errors from the backprop pre-training.
pub fn compare(config: &CompareConfig) -> Result<ComparisonReport> {
    let example = CompanyExample {
        seed: config.seed,
        ..CompanyExample::default()
    };
    let (x, y) = xor_data();
    let start = example.network();
    let mut trained = start.clone();
    let training = TrainingConfig {
        epochs: config.training_epochs.max(1),
        batch_size: 4,
        optimizer: OptimizerConfig::Sgd(
            SgdConfig::default()
                .with_learning_rate(2.0)
                .with_momentum(0.9),
        ),
        seed: config.seed,
        ..TrainingConfig::default()
    };
    Trainer::new(training)?.fit(&mut trained, &x, &y, None, &mut Silent)?;
    let slots = config
        .free_weights
        .iter()
        .map(|p| resolve(&trained, p))
        .collect::<Result<Vec<_>>>()?;
    let mut runs = Vec::new();
    for &k in &config.free_counts {
        if k > slots.len() {
            return Err(Error::Config(format!(
                "{k} free weights asked for, {} named",
                slots.len()
            )));
        }
        let task = Task {
            name: format!("XOR, {k} weights free"),
            positions: &config.free_weights[..k],
            slots: slots[..k].to_vec(),
            x: &x,
            y: &y,
        };
        let mut free_start = trained.clone();
        for slot in &task.slots {
            set(&mut free_start, *slot, 0.0);
        }
        for method in [Method::Grid, Method::OneAtATime, Method::Backprop] {
            runs.push(task.run(method, &free_start, config));
        }
    }
    let every = all_positions(&start);
    let every_slot = every
        .iter()
        .map(|p| resolve(&start, p))
        .collect::<Result<Vec<_>>>()?;
    let name = format!("XOR, all {} parameters free", every.len());
    let task = Task {
        name,
        positions: &every,
        slots: every_slot,
        x: &x,
        y: &y,
    };
    for method in [Method::OneAtATime, Method::Backprop] {
        runs.push(task.run(method, &start, config));
    }
    let timings = measure(&start, &x, &y, config)?;
    let biases: usize = start.dense_layers().iter().map(|d| d.bias.len()).sum();
    let extrapolations = extrapolations(
        &timings,
        (start.parameter_count() - biases, biases),
        config.examples_per_epoch,
    );
    Ok(ComparisonReport {
        config: config.clone(),
        network: "the 2-3-1 company network (sigmoid units, quadratic cost) on XOR's 4 rows".into(),
        trained_cost: trained.loss(&x, &y),
        trained_values: config
            .free_weights
            .iter()
            .zip(&slots)
            .map(|(p, s)| (p.to_string(), get(&trained, *s)))
            .collect(),
        runs,
        timings,
        extrapolations,
    })
}

impl ComparisonReport {
    /// Everything above as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a report is plain data")
    }
}
