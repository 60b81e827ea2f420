//! `backprop explain --model CONV_MODEL --input …`: δ per feature map for one example.
//!
//! A convolutional model's step is too wide to tell unit by unit, so `explain` reports what
//! backpropagation sends to each filter: for every convolution and every feature map, the
//! mean activation, the share of positions with a nonzero δ, ‖δ‖, the largest δ and where,
//! and Σ δ beside the engine's ∂C/∂b (BP3 for a bias shared by every position). `--input`
//! takes the values inline or from a file (`--input @pixels.csv`), in the model's (C, H, W)
//! order.

use crate::exit::CliError;
use crate::explain::ExplainArgs;
use crate::output_file::print_stdout_line;
use backprop::Network;
use backprop_teach::explain_feature_maps;

/// Explains one example of a model with image layers: δ per feature map.
pub fn run(
    arguments: &ExplainArgs,
    network: &Network<f64>,
    input: &[f64],
    target: &[f64],
) -> Result<(), CliError> {
    for (given, flag) in [
        (arguments.steps.is_some(), "--steps"),
        (arguments.weight.is_some(), "--weight"),
        (arguments.html.is_some(), "--html"),
    ] {
        if given {
            return Err(CliError::usage(format!(
                "{flag}: a model with convolutions is explained as δ per feature map for one \
                 example; {flag} applies to dense models"
            )));
        }
    }
    let explanation = explain_feature_maps(network, input, target).map_err(CliError::usage)?;
    if arguments.json {
        return print_stdout_line(
            serde_json::to_value(&explanation).map_err(|error| {
                CliError::Runtime(format!("explain: cannot write JSON: {error}"))
            })?,
        );
    }
    print_stdout_line(explanation.text().trim_end())
}
