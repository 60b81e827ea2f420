//! Steps repeated until the output matches: "the CEO keeps changing his levels of trust until
//! the customer feedback matches".
//!
//! [`explain_steps`] applies plain SGD steps θ ← θ − η ∂C/∂θ on one example, each one an
//! [`explain_step`], until every output is within a tolerance of its target,
//! |aᴸⱼ − yⱼ| ≤ tolerance, or a step cap is reached. It records the cost before and after each
//! step (both from the engine), keeps the full explanation of the first and the last step,
//! and the network at steps 0, 1, 2, 5, 10, 20, 50, … and at the end, for diagrams.

use crate::explain::explain_step;
use crate::explanation::Explanation;
use backprop::network::Network;
use backprop::{Error, Result};
use backprop_tensor::Matrix;
use serde::Serialize;

/// When to stop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepsOptions {
    /// The most steps to take.
    pub max_steps: usize,
    /// Stop once |aᴸⱼ − yⱼ| ≤ tolerance for every output j.
    pub tolerance: f64,
}

impl Default for StepsOptions {
    /// At most 10,000 steps, tolerance 0.05.
    fn default() -> Self {
        Self {
            max_steps: 10_000,
            tolerance: 0.05,
        }
    }
}

/// One step of the sequence.
#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    /// 1-based step number.
    pub step: usize,
    /// C before the step.
    pub cost_before: f64,
    /// C after the step.
    pub cost_after: f64,
    /// aᴸ after the step.
    pub prediction_after: Vec<f64>,
}

/// The outcome of [`explain_steps`].
#[derive(Clone, Debug, Serialize)]
pub struct StepsExplanation {
    /// The example's input.
    pub input: Vec<f64>,
    /// The known result.
    pub target: Vec<f64>,
    /// η.
    pub learning_rate: f64,
    /// The options used.
    pub options: StepsOptions,
    /// aᴸ before any step.
    pub initial_prediction: Vec<f64>,
    /// C before any step.
    pub initial_cost: f64,
    /// Every step taken, in order.
    pub records: Vec<StepRecord>,
    /// True when the output ended within the tolerance of the target.
    pub matched: bool,
    /// The first step, in full (`None` when the output already matched).
    pub first: Option<Explanation>,
    /// The last step, in full, when more than one was taken.
    pub last: Option<Explanation>,
    #[serde(skip)]
    snapshots: Vec<(usize, Network<f64>)>,
}

impl StepsExplanation {
    /// The network after `step` steps, for the steps kept: 0, 1, 2, 5, 10, 20, 50, … and the
    /// last.
    pub fn snapshots(&self) -> &[(usize, Network<f64>)] {
        &self.snapshots
    }

    /// C at the end.
    pub fn final_cost(&self) -> f64 {
        self.records
            .last()
            .map_or(self.initial_cost, |r| r.cost_after)
    }

    /// aᴸ at the end.
    pub fn final_prediction(&self) -> &[f64] {
        self.records
            .last()
            .map_or(&self.initial_prediction, |r| &r.prediction_after)
    }

    /// True when every step lowered the cost.
    pub fn cost_fell_every_step(&self) -> bool {
        self.records.iter().all(|r| r.cost_after < r.cost_before)
    }

    /// Everything above as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an explanation is plain data")
    }
}

/// 0, 1, 2, 5, 10, 20, 50, 100, …
fn is_kept(step: usize) -> bool {
    if step == 0 {
        return true;
    }
    let mut decade = 1;
    while decade <= step {
        if [decade, 2 * decade, 5 * decade].contains(&step) {
            return true;
        }
        decade *= 10;
    }
    false
}

/// Repeats plain SGD steps of `network` on (`x_row`, `y_row`) at `learning_rate` until the
/// output matches the target within `options.tolerance`, or `options.max_steps` were taken.
///
/// # Errors
/// As [`explain_step`], and [`Error::Training`] for a tolerance that is not positive and finite.
pub fn explain_steps(
    network: &Network<f64>,
    x_row: &[f64],
    y_row: &[f64],
    learning_rate: f64,
    options: &StepsOptions,
) -> Result<StepsExplanation> {
    if !(options.tolerance > 0.0 && options.tolerance.is_finite()) {
        return Err(Error::Training(format!(
            "the tolerance must be positive and finite, got {}",
            options.tolerance
        )));
    }
    // Checks the shapes and the learning rate before anything runs.
    let first = explain_step(network, x_row, y_row, learning_rate)?;
    let (x, y) = (Matrix::row_vector(x_row), Matrix::row_vector(y_row));
    let matches = |prediction: &[f64]| {
        prediction
            .iter()
            .zip(y_row)
            .all(|(a, y)| (a - y).abs() <= options.tolerance)
    };
    let initial_prediction = network.forward(&x).row(0).to_vec();
    let mut result = StepsExplanation {
        input: x_row.to_vec(),
        target: y_row.to_vec(),
        learning_rate,
        options: options.clone(),
        matched: matches(&initial_prediction),
        initial_cost: network.loss(&x, &y),
        initial_prediction,
        records: Vec::new(),
        first: None,
        last: None,
        snapshots: vec![(0, network.clone())],
    };
    let mut next = Some(first);
    while !result.matched && result.records.len() < options.max_steps {
        let explanation = match next.take() {
            Some(explanation) => explanation,
            None => {
                let previous = result.last.as_ref().expect("step 1 ran before");
                explain_step(previous.network_after(), x_row, y_row, learning_rate)?
            }
        };
        let step = result.records.len() + 1;
        result.records.push(StepRecord {
            step,
            cost_before: explanation.update.cost_before,
            cost_after: explanation.update.cost_after,
            prediction_after: explanation.update.prediction_after.clone(),
        });
        result.matched = matches(&explanation.update.prediction_after);
        let done = result.matched || step == options.max_steps;
        if is_kept(step) || done {
            result
                .snapshots
                .push((step, explanation.network_after().clone()));
        }
        if step == 1 {
            result.first = Some(explanation.clone());
        }
        result.last = Some(explanation);
    }
    if result.records.len() == 1 {
        result.last = None;
    }
    Ok(result)
}
