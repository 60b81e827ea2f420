//! A batch of sales that pull one weight different ways, and how the mean gradient settles it.
//!
//! Each example x alone asks for its own change of a weight, −η ∂Cₓ/∂w. A batch step takes the
//! mean of those gradients, ∂C/∂w = (1/n) Σₓ ∂Cₓ/∂w (the cost of a batch is the mean of its
//! examples' costs), so examples that disagree partly cancel. [`batch_pull`] reads each
//! example's gradient from its own trace and the batch's from the engine's trace of the whole
//! batch; a test holds the two to agree.

use crate::chain_rule::WeightName;
use crate::explain_text::weight_symbol;
use crate::format::{format_number, operand, operand_factor};
use backprop::network::Network;
use backprop_tensor::Matrix;
use serde::Serialize;

/// One example's pull on the weight.
#[derive(Clone, Debug, Serialize)]
pub struct ExamplePull {
    /// The input row.
    pub input: Vec<f64>,
    /// The known result.
    pub target: Vec<f64>,
    /// ∂Cₓ/∂w for this example alone.
    pub gradient: f64,
}

/// Every example's pull and the batch's mean.
#[derive(Clone, Debug, Serialize)]
pub struct BatchPull {
    /// The weight.
    pub weight: WeightName,
    /// Its value before the step.
    pub value: f64,
    /// η.
    pub learning_rate: f64,
    /// One per example, in order.
    pub examples: Vec<ExamplePull>,
    /// ∂C/∂w of the whole batch, from the engine's trace of the batch.
    pub batch_gradient: f64,
}

/// The pulls of the rows of `x` (targets `y`) on `weight`.
///
/// # Errors
/// In words, when the weight does not exist or the rows do not fit the network.
pub fn batch_pull(
    network: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    weight: WeightName,
    learning_rate: f64,
) -> Result<BatchPull, String> {
    let layers = network.dense_layers();
    let dense = layers.get(weight.layer_index).ok_or_else(|| {
        format!(
            "layers.{}: the network has dense layers layers.0 to layers.{}",
            weight.layer_index,
            layers.len() - 1
        )
    })?;
    let (rows, columns) = (dense.weight.rows(), dense.weight.cols());
    if weight.to_unit >= rows || weight.from_unit >= columns {
        return Err(format!(
            "layers.{}.weight[{},{}]: that tensor is {rows}×{columns}",
            weight.layer_index, weight.to_unit, weight.from_unit
        ));
    }
    if x.cols() != network.input_width() || y.cols() != network.output_width() {
        return Err("the examples do not fit the network".into());
    }
    let at = (weight.to_unit, weight.from_unit);
    let examples = (0..x.rows())
        .map(|row| {
            let (xi, yi) = (
                Matrix::row_vector(x.row(row)),
                Matrix::row_vector(y.row(row)),
            );
            let trace = network.trace(&xi, &yi);
            ExamplePull {
                input: x.row(row).to_vec(),
                target: y.row(row).to_vec(),
                gradient: trace.layers[weight.layer_index].weight_gradient[at],
            }
        })
        .collect();
    let batch_gradient = network.trace(x, y).layers[weight.layer_index].weight_gradient[at];
    Ok(BatchPull {
        weight,
        value: dense.weight[at],
        learning_rate,
        examples,
        batch_gradient,
    })
}

impl BatchPull {
    /// The pulls told as text: each example's gradient and the way it alone would move the
    /// weight, then the mean and the one step the batch takes.
    pub fn text(&self, describe: impl Fn(&ExamplePull) -> String) -> String {
        let w = self.weight;
        let symbol = weight_symbol(w.layer_index + 1, w.to_unit, w.from_unit);
        let mut lines = vec![format!(
            "A batch of {} pulling {symbol} = layers.{}.weight[{}, {}] (now {}):",
            self.examples.len(),
            w.layer_index,
            w.to_unit,
            w.from_unit,
            format_number(self.value)
        )];
        for example in &self.examples {
            let way = if example.gradient < 0.0 {
                "up"
            } else if example.gradient > 0.0 {
                "down"
            } else {
                "nowhere"
            };
            lines.push(format!(
                "  {}: ∂Cₓ/∂{symbol} = {}, alone it would pull {symbol} {way}",
                describe(example),
                format_number(example.gradient)
            ));
        }
        let ups = self.examples.iter().filter(|e| e.gradient < 0.0).count();
        let downs = self.examples.iter().filter(|e| e.gradient > 0.0).count();
        let terms: Vec<String> = self
            .examples
            .iter()
            .map(|e| operand_factor(e.gradient))
            .collect();
        lines.push(format!(
            "  {ups} pull up and {downs} pull down. The batch step uses their mean: ∂C/∂{symbol} = \
             ({}) / {} = {}",
            terms.join(" + "),
            self.examples.len(),
            format_number(self.batch_gradient)
        ));
        let new = self.value - self.learning_rate * self.batch_gradient;
        lines.push(format!(
            "  {symbol} ← {} − {} × {} = {}: one step, {} for the batch as a whole.",
            operand(self.value),
            operand(self.learning_rate),
            operand_factor(self.batch_gradient),
            format_number(new),
            if self.batch_gradient < 0.0 {
                "up"
            } else if self.batch_gradient > 0.0 {
                "down"
            } else {
                "nowhere"
            }
        ));
        lines.join("\n")
    }
}
