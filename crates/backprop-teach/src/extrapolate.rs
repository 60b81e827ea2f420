//! Time per forward pass, measured here, and what it implies at larger sizes.
//!
//! With t the measured time of one cost evaluation (a forward pass and the cost) and t_b that
//! of one backprop step (forward and backward), for N parameters:
//!
//! - all combinations of 1000 values a weight: 1000ᴺ evaluations, 1000ᴺ · t;
//! - one weight at a time, one step: (N + 1) · t; one epoch of E examples: E (N + 1) · t;
//! - backpropagation, one step: t_b; one epoch: E · t_b.
//!
//! The article's own figures assume a 1 GHz machine doing one evaluation per cycle: 1000ᴺ / 10⁹
//! seconds (2 weights: 1 ms; 4: 16.7 minutes; 5: 10⁶ s = 11.57 days, which the article
//! rounds down to 11.5 and this table, to 3 significant digits, shows as 11.6). Counts are kept as log₁₀, since
//! 1000²³⁸⁶⁰ overflows any float.
//!
//! The XOR network is timed in `f64` on its 4 rows (the precision its finite differences
//! need); the large networks in `f32` on one example (what training uses), with sigmoid hidden
//! units and softmax cross-entropy, as Nielsen's 784-30-10.

use crate::compare::{CompareConfig, Method};
use crate::format::{format_duration, group_thousands};
use backprop::activation::Activation;
use backprop::cost::Cost;
use backprop::network::{Network, NetworkConfig};
use backprop::Result;
use backprop_tensor::{Float, Matrix};
use serde::Serialize;
use std::hint::black_box;
use std::time::Instant;

/// The seed's machine: 10⁹ evaluations a second.
pub const SEED_EVALUATIONS_PER_SECOND: f64 = 1e9;
/// Values per weight in the seed's table.
pub const SEED_VALUES_PER_WEIGHT: f64 = 1000.0;
/// The weight counts of the seed's table.
pub const SEED_WEIGHT_COUNTS: [usize; 3] = [2, 4, 5];

/// Measured times of one network.
#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    /// `"2-3-1 (f64, 4 examples)"`.
    pub network: String,
    /// Units per layer.
    pub sizes: Vec<usize>,
    /// Weights and biases.
    pub parameters: usize,
    /// Rows per evaluation.
    pub examples: usize,
    /// Seconds per cost evaluation (forward pass and cost).
    pub forward_seconds: f64,
    /// Seconds per backprop step (forward and backward pass).
    pub backprop_step_seconds: f64,
    /// Calls timed for the forward figure, all rounds together (at least 15).
    pub repetitions: u64,
}

/// One scaled-up estimate.
#[derive(Clone, Debug, Serialize)]
pub struct Extrapolation {
    /// What is estimated, e.g. `"784-30-10 (23,860 parameters): one step, one example"`.
    pub scenario: String,
    /// The method.
    pub method: Method,
    /// N.
    pub parameters: usize,
    /// True for the time of one descent step (or one whole grid search), as plotted.
    pub one_step: bool,
    /// log₁₀ of the evaluations (forward passes) needed.
    pub evaluations_log10: f64,
    /// Measured seconds per evaluation (per backprop step, for backpropagation).
    pub seconds_per_evaluation: f64,
    /// log₁₀ of the seconds it would take here.
    pub seconds_log10: f64,
    /// The seconds, when they fit in a float.
    pub seconds: Option<f64>,
    /// In human units.
    pub time: String,
    /// The seed's figure in seconds (grid rows: 1000ᴺ at 10⁹ a second), when it fits.
    pub seed_seconds: Option<f64>,
    /// The seed's figure in human units (grid rows).
    pub seed_time: Option<String>,
}

/// Rounds per figure: the fastest one is kept.
const TIMING_ROUNDS: u32 = 5;

/// Seconds per call of `f`: the fastest of five rounds, each at least
/// `budget / 5` seconds long and at least 3 calls; returns it with the number of
/// calls timed in all.
///
/// Why the fastest round and not the mean: on a shared machine one descheduling of a few
/// milliseconds lands in a short run's mean in full (a 5 ms window holding a 10 ms pause
/// triples it), while the noise can only ever make a round slower. `f` runs untimed for a
/// tenth of the budget first, so that allocations made by the first calls, cold caches and
/// page faults stay out of the figure.
pub fn time_per_call(budget: f64, mut f: impl FnMut()) -> (f64, u64) {
    let warm_up = Instant::now();
    f();
    while warm_up.elapsed().as_secs_f64() < budget / 10.0 {
        f();
    }
    let round_budget = budget / f64::from(TIMING_ROUNDS);
    let mut fastest = f64::INFINITY;
    let mut total_calls = 0u64;
    for _ in 0..TIMING_ROUNDS {
        let start = Instant::now();
        let mut calls = 0u64;
        loop {
            f();
            calls += 1;
            let elapsed = start.elapsed().as_secs_f64();
            if calls >= 3 && elapsed >= round_budget {
                fastest = fastest.min(elapsed / calls as f64);
                break;
            }
        }
        total_calls += calls;
    }
    (fastest, total_calls)
}

fn time_network<T: Float>(
    network: &Network<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
    budget: f64,
) -> Timing {
    let (forward_seconds, repetitions) = time_per_call(budget, || {
        black_box(network.loss(black_box(x), y));
    });
    let mut scratch = network.clone();
    let (backprop_step_seconds, _) = time_per_call(budget, || {
        black_box(scratch.compute_gradients(black_box(x), y));
    });
    let sizes = network.config().sizes.clone();
    let shape: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
    let rows = x.rows();
    let examples = if rows == 1 {
        "1 example".to_string()
    } else {
        format!("{rows} examples")
    };
    Timing {
        network: format!("{} ({}, {examples})", shape.join("-"), T::NAME),
        sizes,
        parameters: network.parameter_count(),
        examples: rows,
        forward_seconds,
        backprop_step_seconds,
        repetitions,
    }
}

/// Times the XOR network on its data, then each large network on one example.
pub(crate) fn measure(
    network: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    config: &CompareConfig,
) -> Result<Vec<Timing>> {
    let mut timings = vec![time_network(network, x, y, config.timing_seconds)];
    for sizes in &config.large_networks {
        let outputs = *sizes.last().unwrap_or(&1);
        let cost = if outputs > 1 {
            Cost::SoftmaxCrossEntropy
        } else {
            Cost::BinaryCrossEntropy
        };
        let large = NetworkConfig::new(sizes, cost)
            .with_hidden_activation(Activation::Sigmoid)
            .with_seed(config.seed)
            .init::<f32>()?;
        let x = Matrix::from_fn(1, sizes[0], |_, k| (k % 7) as f32 / 7.0);
        let y = Matrix::from_fn(1, outputs, |_, j| if j == 0 { 1.0 } else { 0.0 });
        timings.push(time_network(&large, &x, &y, config.timing_seconds));
    }
    Ok(timings)
}

fn row(
    scenario: String,
    method: Method,
    parameters: usize,
    one_step: bool,
    evaluations_log10: f64,
    seconds_per_evaluation: f64,
) -> Extrapolation {
    let seconds_log10 = evaluations_log10 + seconds_per_evaluation.log10();
    let seconds = (seconds_log10 < 300.0).then(|| 10f64.powf(seconds_log10));
    let (seed_seconds, seed_time) = if method == Method::Grid {
        let log = evaluations_log10 - SEED_EVALUATIONS_PER_SECOND.log10();
        let seed = (log < 300.0).then(|| 10f64.powf(log));
        (seed, Some(format_duration(seed.unwrap_or(f64::INFINITY))))
    } else {
        (None, None)
    };
    Extrapolation {
        scenario,
        method,
        parameters,
        one_step,
        evaluations_log10,
        seconds_per_evaluation,
        seconds_log10,
        seconds,
        time: format_duration(seconds.unwrap_or(f64::INFINITY)),
        seed_seconds,
        seed_time,
    }
}

/// The seed's table (2, 4 and 5 weights) and the company network's N with the XOR timing
/// (`timings[0]`), then the three methods on each larger timed network.
pub(crate) fn extrapolations(
    timings: &[Timing],
    (company_weights, company_biases): (usize, usize),
    examples_per_epoch: usize,
) -> Vec<Extrapolation> {
    let per_value = SEED_VALUES_PER_WEIGHT.log10();
    let xor = &timings[0];
    let mut rows = Vec::new();
    let company_parameters = company_weights + company_biases;
    for n in SEED_WEIGHT_COUNTS.into_iter().chain([company_parameters]) {
        // The company network's N counts its biases too.
        let scenario = if n == company_parameters {
            format!("{n} parameters ({company_weights} weights, {company_biases} biases), 1000 values each")
        } else {
            format!("{n} weights, 1000 values each")
        };
        rows.push(row(
            scenario,
            Method::Grid,
            n,
            true,
            n as f64 * per_value,
            xor.forward_seconds,
        ));
    }
    let epoch = examples_per_epoch as f64;
    for timing in &timings[1..] {
        let n = timing.parameters;
        let shape: Vec<String> = timing.sizes.iter().map(|s| s.to_string()).collect();
        let name = format!(
            "{} ({} parameters)",
            shape.join("-"),
            group_thousands(&n.to_string())
        );
        let examples = group_thousands(&examples_per_epoch.to_string());
        let step = (n as f64 + 1.0).log10();
        rows.push(row(
            format!("{name}, 1000 values each"),
            Method::Grid,
            n,
            true,
            n as f64 * per_value,
            timing.forward_seconds,
        ));
        rows.push(row(
            format!("{name}: one step, one example"),
            Method::OneAtATime,
            n,
            true,
            step,
            timing.forward_seconds,
        ));
        rows.push(row(
            format!("{name}: one step, one example"),
            Method::Backprop,
            n,
            true,
            0.0,
            timing.backprop_step_seconds,
        ));
        rows.push(row(
            format!("{name}: one epoch, {examples} examples"),
            Method::OneAtATime,
            n,
            false,
            step + epoch.log10(),
            timing.forward_seconds,
        ));
        rows.push(row(
            format!("{name}: one epoch, {examples} examples"),
            Method::Backprop,
            n,
            false,
            epoch.log10(),
            timing.backprop_step_seconds,
        ));
    }
    rows
}
