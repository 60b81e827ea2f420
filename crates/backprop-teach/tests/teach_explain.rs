//! The explanation holds the engine's numbers: equal to the trace, in agreement with finite
//! differences (so a wrong δ fails here), and told in text, JSON and HTML.

use backprop::{gradient_check, Activation, Cost, Error, Matrix, Network, NetworkConfig};
use backprop_teach::format::strip_ansi;
use backprop_teach::{
    explain_step, explain_steps, render_html, render_steps_text, render_text, CompanyExample,
    CompanyRoles, Explanation, StepsOptions, TextStyle,
};

fn network(sizes: &[usize], cost: Cost, hidden: Activation, output: Activation) -> Network<f64> {
    NetworkConfig::new(sizes, cost)
        .with_hidden_activation(hidden)
        .with_output_activation(output)
        .with_seed(3)
        .init()
        .unwrap()
}

/// The company network, a tanh network with MSE and two outputs, and a fused softmax one.
fn cases() -> Vec<(Network<f64>, Vec<f64>, Vec<f64>)> {
    let example = CompanyExample::default();
    vec![
        (
            example.network(),
            example.signals.to_vec(),
            vec![example.result],
        ),
        (
            network(
                &[3, 4, 2],
                Cost::MeanSquaredError,
                Activation::Tanh,
                Activation::Sigmoid,
            ),
            vec![0.3, -0.8, 0.5],
            vec![1.0, 0.0],
        ),
        (
            network(
                &[2, 5, 3, 3],
                Cost::SoftmaxCrossEntropy,
                Activation::Sigmoid,
                Activation::Softmax,
            ),
            vec![0.7, -0.2],
            vec![0.0, 1.0, 0.0],
        ),
    ]
}

fn explain(case: &(Network<f64>, Vec<f64>, Vec<f64>)) -> Explanation {
    explain_step(&case.0, &case.1, &case.2, 0.5).unwrap()
}

#[test]
fn every_number_equals_the_trace() {
    for case in cases() {
        let e = explain(&case);
        let trace = case
            .0
            .trace(&Matrix::row_vector(&case.1), &Matrix::row_vector(&case.2));
        assert_eq!(e.output.cost, trace.cost);
        assert_eq!(e.output.fused, trace.fused_output);
        for (step, layer) in e.layers.iter().zip(&trace.layers) {
            assert_eq!(step.input, layer.input.row(0));
            for unit in &step.units {
                let j = unit.unit;
                assert_eq!(unit.z, layer.z[(0, j)]);
                assert_eq!(unit.a, layer.a[(0, j)]);
                assert_eq!(unit.delta, layer.delta[(0, j)]);
                assert_eq!(unit.cost_gradient, layer.grad_output[(0, j)]);
                assert_eq!(unit.bias_gradient, layer.bias_gradient[(0, j)]);
                assert_eq!(unit.weight_gradients, layer.weight_gradient.row(j));
                assert_eq!(unit.weights, layer.weight.row(j));
            }
        }
    }
}

/// δ = ∂C/∂b (BP3) and ∂C/∂w against central differences of the engine's cost.
#[test]
fn deltas_and_gradients_agree_with_finite_differences() {
    for case in cases() {
        let (net, x, y) = &case;
        let e = explain(&case);
        let (xm, ym) = (Matrix::row_vector(x), Matrix::row_vector(y));
        assert!(gradient_check(net, &xm, &ym).passed(1e-6));
        let numeric = |name: &str, index: usize| {
            let mut probe = net.clone();
            let h = 1e-6;
            let original = probe.parameter(name).unwrap().as_slice()[index];
            probe.parameter_mut(name).unwrap().as_mut_slice()[index] = original + h;
            let plus = probe.loss(&xm, &ym);
            probe.parameter_mut(name).unwrap().as_mut_slice()[index] = original - h;
            (plus - probe.loss(&xm, &ym)) / (2.0 * h)
        };
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * (a.abs() + b.abs()).max(1e-3);
        for (i, layer) in e.layers.iter().enumerate() {
            let fan_in = layer.input.len();
            for unit in &layer.units {
                let j = unit.unit;
                let bias = numeric(&format!("layers.{i}.bias"), j);
                assert!(
                    close(unit.delta, bias),
                    "δ of layer {} unit {j}: {} vs {bias}",
                    layer.layer,
                    unit.delta
                );
                for k in 0..fan_in {
                    let weight = numeric(&format!("layers.{i}.weight"), j * fan_in + k);
                    assert!(
                        close(unit.weight_gradients[k], weight),
                        "∂C/∂w layer {i} [{j}, {k}]: {} vs {weight}",
                        unit.weight_gradients[k]
                    );
                }
            }
        }
    }
}

#[test]
fn bp2_terms_sum_to_the_feedback_and_the_update_is_sgd() {
    for case in cases() {
        let e = explain(&case);
        for layer in &e.layers[..e.layers.len() - 1] {
            for unit in &layer.units {
                let sum: f64 = unit.feedback.iter().map(|t| t.product).sum();
                assert!((sum - unit.cost_gradient).abs() < 1e-15);
                let derivative = unit.activation_derivative.unwrap();
                assert!((unit.delta - unit.cost_gradient * derivative).abs() < 1e-15);
            }
        }
        for layer in &e.layers {
            for unit in &layer.units {
                assert_eq!(unit.new_bias, unit.bias - 0.5 * unit.bias_gradient);
                for k in 0..unit.weights.len() {
                    assert_eq!(
                        unit.new_weights[k],
                        unit.weights[k] - 0.5 * unit.weight_gradients[k]
                    );
                }
            }
        }
        let (x, y) = (Matrix::row_vector(&case.1), Matrix::row_vector(&case.2));
        assert_eq!(e.update.cost_after, e.network_after().loss(&x, &y));
        assert_eq!(e.update.fell, e.update.cost_after < e.update.cost_before);
    }
}

#[test]
fn the_default_company_example_lowers_the_cost() {
    let e = CompanyExample::default().explain().unwrap();
    assert_eq!(e.sizes, [2, 3, 1]);
    assert!(e.update.fell && e.update.cost_after < e.update.cost_before);
    let target = e.target[0];
    assert!(
        (e.update.prediction_after[0] - target).abs() < (e.output.prediction[0] - target).abs()
    );
}

#[test]
fn the_text_tells_the_company_story() {
    let e = CompanyExample::default().explain().unwrap();
    let plain = render_text(&e, &TextStyle::company(false));
    for needle in [
        "manager 1",
        "manager 2",
        "manager 3",
        "CEO",
        "salesperson 2",
        "BP1",
        "BP2",
        "BP3",
        "BP4",
        "weighed by how much the CEO trusts that manager",
        "fell",
    ] {
        assert!(plain.contains(needle), "missing {needle}:\n{plain}");
    }
    // Every z, a and δ printed is the explanation's own number.
    let number = backprop_teach::format::format_number;
    assert!(plain.contains(&number(e.output.cost)) && plain.contains(&number(e.update.cost_after)));
    for unit in e.layers.iter().flat_map(|l| &l.units) {
        for value in [unit.z, unit.a, unit.delta, unit.new_bias] {
            assert!(plain.contains(&number(value)), "{} missing", number(value));
        }
    }
    assert!(!plain.contains('\u{1b}'));
    let coloured = render_text(&e, &TextStyle::company(true));
    assert!(coloured.contains('\u{1b}'));
    assert_eq!(strip_ansi(&coloured), plain);
    let notation = render_text(&e, &TextStyle::default());
    assert!(notation.contains("δ¹₂") && notation.contains("w²₁₃") && !notation.contains("manager"));
}

#[test]
fn steps_continue_until_the_output_matches() {
    let options = StepsOptions::default();
    let steps = CompanyExample::default().explain_steps(&options).unwrap();
    assert!(steps.matched && !steps.records.is_empty());
    assert!((steps.final_prediction()[0] - 1.0).abs() <= options.tolerance);
    assert!(steps.cost_fell_every_step() && steps.final_cost() < steps.initial_cost);
    assert_eq!(steps.snapshots().last().unwrap().0, steps.records.len());
    let text = render_steps_text(&steps, &TextStyle::company(false));
    assert!(
        text.contains("kept changing their levels of trust until the CEO's verdict matched"),
        "{text}"
    );
    assert!(text.contains("One sale is easy"), "{text}");
    // The weights are shown as they change: the CEO's first weight at step 0 and at the end.
    let row = text
        .lines()
        .find(|line| line.trim_start().starts_with("w²₁₁ "))
        .unwrap_or_else(|| panic!("no row for w²₁₁ in:\n{text}"));
    let snapshots = steps.snapshots();
    for (_, network) in [&snapshots[0], snapshots.last().unwrap()] {
        let value = network.dense_layers()[1].weight[(0, 0)];
        let shown = backprop_teach::format::format_number(value);
        assert!(row.contains(&shown), "{shown} missing from {row}");
    }
    let capped = StepsOptions {
        max_steps: 3,
        tolerance: 1e-9,
    };
    let short = CompanyExample::default().explain_steps(&capped).unwrap();
    assert_eq!(short.records.len(), 3);
    assert!(!short.matched);
    let one = StepsOptions {
        max_steps: 1,
        tolerance: 1e-9,
    };
    let single = CompanyExample::default().explain_steps(&one).unwrap();
    let text = render_steps_text(&single, &TextStyle::company(false));
    assert!(
        text.contains("After 1 step the") && !text.contains("1 steps"),
        "{text}"
    );
}

#[test]
fn wide_layers_are_summarised() {
    let net = network(
        &[20, 12, 10],
        Cost::SoftmaxCrossEntropy,
        Activation::Relu,
        Activation::Softmax,
    );
    let x: Vec<f64> = (0..20).map(|k| (k as f64 * 0.37).sin()).collect();
    let mut y = vec![0.0; 10];
    y[4] = 1.0;
    let e = explain_step(&net, &x, &y, 0.1).unwrap();
    let text = render_text(&e, &TextStyle::default());
    assert!(
        text.contains("‖δ¹‖") && text.contains("the largest |δ|") && text.contains("‖∂C/∂w¹‖"),
        "{text}"
    );
    assert!(text.lines().count() < 40, "{text}");
    let top = &e.layers[0].summary.largest_deltas[0];
    let largest = e.layers[0]
        .units
        .iter()
        .map(|u| u.delta.abs())
        .fold(0.0, f64::max);
    assert_eq!(top.value.abs(), largest);
    assert_eq!(e.layers[0].units.len(), 12);
}

#[test]
fn json_and_html_carry_the_step() {
    let e = CompanyExample::default().explain().unwrap();
    let json = e.to_json();
    assert_eq!(
        json["layers"][1]["units"][0]["delta"].as_f64().unwrap(),
        e.layers[1].units[0].delta
    );
    assert_eq!(json["update"]["fell"], true);
    let roles = CompanyRoles::company();
    let html = render_html(&e, Some(&roles));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 3, "forward, backward, update");
    assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"));
    assert!(html.contains("manager 3"));
}

#[test]
fn bad_rows_are_errors() {
    let net = CompanyExample::default().network();
    assert!(matches!(
        explain_step(&net, &[1.0], &[1.0], 0.5),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        explain_step(&net, &[1.0, 0.0], &[1.0, 0.0], 0.5),
        Err(Error::Shape { .. })
    ));
    assert!(explain_step(&net, &[1.0, 0.0], &[1.0], 0.0).is_err());
    assert!(explain_steps(
        &net,
        &[1.0, 0.0],
        &[1.0],
        0.5,
        &StepsOptions {
            max_steps: 5,
            tolerance: -1.0
        }
    )
    .is_err());
}
