//! The numbers `backprop explain` prints, read back from its text and checked against
//! finite differences of the engine's cost — independent of the trace that produced them —
//! and against the library's trace. A wrong δ anywhere (engine, explanation or printing)
//! fails here.

mod model_commands;

use backprop::{Matrix, Network};
use backprop_teach::CompanyExample;
use model_commands::{backprop, success};

/// ∂C/∂θ by central differences of the engine's cost (no backprop involved).
fn numeric_gradient(
    network: &Network<f64>,
    name: &str,
    index: usize,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> f64 {
    let mut probe = network.clone();
    let h = 1e-6;
    let original = probe.parameter(name).unwrap().as_slice()[index];
    probe.parameter_mut(name).unwrap().as_mut_slice()[index] = original + h;
    let plus = probe.loss(x, y);
    probe.parameter_mut(name).unwrap().as_mut_slice()[index] = original - h;
    let minus = probe.loss(x, y);
    (plus - minus) / (2.0 * h)
}

/// The number printed last before `   (` on a gradient line: `… = -0.0127   (layers.0.bias[0])`.
fn printed_value(line: &str) -> f64 {
    let before = line.split("   (").next().unwrap();
    let value = before.rsplit("= ").next().unwrap().trim();
    value
        .trim_matches(|c| c == '(' || c == ')')
        .parse()
        .unwrap_or_else(|_| panic!("no number in {line:?}"))
}

/// `layers.0.weight[2, 1]` → ("layers.0.weight", 2 * fan_in + 1).
fn parameter_at(line: &str, network: &Network<f64>) -> (String, usize) {
    let inside = line.split("   (").nth(1).unwrap();
    let (name, rest) = inside.split_once('[').unwrap();
    let indices: Vec<usize> = rest
        .split(']')
        .next()
        .unwrap()
        .split(", ")
        .map(|i| i.parse().unwrap())
        .collect();
    let columns = network.parameter(name).unwrap().cols();
    let index = match indices.as_slice() {
        [row, column] => row * columns + column,
        [index] => *index,
        _ => panic!("bad position in {line:?}"),
    };
    (name.to_string(), index)
}

#[test]
fn every_printed_gradient_matches_finite_differences_and_the_trace() {
    let example = CompanyExample::default();
    let network = example.network();
    let x = Matrix::row_vector(&example.signals);
    let y = Matrix::row_vector(&[example.result]);
    let trace = network.trace(&x, &y);
    let arguments = ["explain"];
    let text = success(&arguments, &backprop(&arguments));
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.trim_start().starts_with("∂C/∂") && line.contains("   (layers."))
        .collect();
    // 13 parameters: 9 in the managers' layer, 4 in the CEO's.
    assert_eq!(lines.len(), 13, "{text}");
    for line in lines {
        let (name, index) = parameter_at(line, &network);
        let printed = printed_value(line);
        let numeric = numeric_gradient(&network, &name, index, &x, &y);
        // Printed with four decimals.
        assert!(
            (printed - numeric).abs() <= 0.5e-4 + 1e-7,
            "{line}: finite differences give {numeric}"
        );
        let layer: usize = name.split('.').nth(1).unwrap().parse().unwrap();
        let traced = if name.ends_with("bias") {
            trace.layers[layer].bias_gradient.as_slice()[index]
        } else {
            trace.layers[layer].weight_gradient.as_slice()[index]
        };
        assert!(
            (printed - traced).abs() <= 0.5e-4 + 1e-12,
            "{line}: trace says {traced}"
        );
    }
}

#[test]
fn every_printed_delta_is_the_bias_gradient() {
    let example = CompanyExample::default();
    let network = example.network();
    let x = Matrix::row_vector(&example.signals);
    let y = Matrix::row_vector(&[example.result]);
    let arguments = ["explain"];
    let text = success(&arguments, &backprop(&arguments));
    // BP1 and BP2 lines in the notation: "δ²₁ = … = -0.1344", "δ¹₂ = … = 0.0094".
    let deltas: Vec<(usize, usize, f64)> = text
        .lines()
        .map(|line| line.trim_start().trim_start_matches("The CEO: "))
        .filter(|line| line.starts_with('δ') && line.contains(" = "))
        .map(|line| {
            let name: String = line.split(' ').next().unwrap().chars().skip(1).collect();
            let digit = |c: char| "⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉".chars().position(|d| d == c).unwrap() % 10;
            let characters: Vec<char> = name.chars().collect();
            let value: f64 = line.rsplit("= ").next().unwrap().trim().parse().unwrap();
            (digit(characters[0]), digit(characters[1]), value)
        })
        .collect();
    assert_eq!(deltas.len(), 4, "one δ per manager and the CEO's:\n{text}");
    for (layer, unit, value) in deltas {
        let numeric = numeric_gradient(
            &network,
            &format!("layers.{}.bias", layer - 1),
            unit - 1,
            &x,
            &y,
        );
        assert!(
            (value - numeric).abs() <= 0.5e-4 + 1e-7,
            "δ{layer},{unit} printed {value}, finite differences {numeric}"
        );
    }
}

/// Softmax cross-entropy with targets that do not sum to 1 (multi-hot, or partial): the δ that
/// `explain` prints and reports is aⱼ·Σy − yⱼ, computed here from the reported activations,
/// and the text says which rule it used.
#[test]
fn softmax_deltas_for_targets_that_do_not_sum_to_one() {
    let folder = tempfile::tempdir().unwrap();
    let model = folder.path().join("moons.safetensors");
    let path = model.to_str().unwrap();
    let train = [
        "train", "--data", "moons", "--layers", "3", "--epochs", "1", "--out", path, "-q",
    ];
    success(&train, &backprop(&train));
    for targets in ["1,1", "0.25,0.25", "0,1"] {
        let json_arguments = [
            "explain",
            "--model",
            path,
            "--input",
            "0.5,0.25",
            "--target-values",
            targets,
            "--json",
        ];
        let json: serde_json::Value =
            serde_json::from_str(success(&json_arguments, &backprop(&json_arguments)).trim())
                .unwrap();
        let target: Vec<f64> = targets.split(',').map(|v| v.parse().unwrap()).collect();
        let total: f64 = target.iter().sum();
        let output = json["layers"].as_array().unwrap().last().unwrap();
        assert_eq!(output["activation"], "softmax");
        for (j, unit) in output["units"].as_array().unwrap().iter().enumerate() {
            let (a, delta) = (unit["a"].as_f64().unwrap(), unit["delta"].as_f64().unwrap());
            let expected = a * total - target[j];
            assert!(
                (delta - expected).abs() < 1e-6,
                "targets {targets}, unit {j}: δ {delta}, a·Σy − y = {expected}"
            );
        }
        let text_arguments = &json_arguments[..json_arguments.len() - 1];
        let text = success(text_arguments, &backprop(text_arguments));
        let rule = if total == 1.0 {
            "δᴸⱼ = aᴸⱼ − yⱼ"
        } else {
            "δᴸⱼ = aᴸⱼ·Σy − yⱼ"
        };
        assert!(
            text.contains(rule),
            "targets {targets}: no {rule:?} in\n{text}"
        );
    }
}
