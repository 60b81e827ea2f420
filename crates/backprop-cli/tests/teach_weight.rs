//! One weight, followed by the real binary: `explain --weight` writes out the chain rule and
//! must land on the trace's ∂C/∂w; `plot --what weight-curve` draws the cost against that
//! weight and reports backprop's slope beside a central difference; an unreachable target is
//! warned about; `draw` names a 2-3-1 model's roles, writes values and arrowheads.

mod model_commands;

use backprop::Matrix;
use backprop_teach::CompanyExample;
use model_commands::{backprop, stderr, success};

/// The number after the last `= ` of `line` (up to the next space or the end).
fn last_value(line: &str) -> f64 {
    let tail = line.rsplit("= ").next().unwrap();
    tail.split([' ', ',', ';'])
        .next()
        .unwrap()
        .trim_end_matches('.')
        .parse()
        .unwrap_or_else(|_| panic!("no number at the end of {line:?}"))
}

#[test]
fn the_chain_rule_for_one_weight_matches_the_trace() {
    let example = CompanyExample::default();
    let network = example.network();
    let x = Matrix::row_vector(&example.signals);
    let y = Matrix::row_vector(&[example.result]);
    let trace = network.trace(&x, &y);
    // The CEO's weight on manager 2, and a manager's weight on a salesperson (through BP2).
    for (name, layer, row, column, through) in [
        ("layers.1.weight[0,1]", 1, 0, 1, "(C = ½(a − y)²"),
        ("layers.0.weight[1, 0]", 0, 1, 0, "BP2"),
    ] {
        let arguments = ["explain", "--weight", name];
        let text = success(&arguments, &backprop(&arguments));
        assert!(
            text.contains(through),
            "{name}: {through:?} missing in\n{text}"
        );
        let product = text
            .lines()
            .find(|line| line.trim_start().starts_with("∂C/∂w") && line.contains(" × "))
            .unwrap_or_else(|| panic!("no product line in\n{text}"));
        let traced = trace.layers[layer].weight_gradient[(row, column)];
        let printed = last_value(product);
        assert!(
            (printed - traced).abs() <= 0.5e-4 + 1e-12,
            "{name}: printed {printed}, trace {traced}\n{text}"
        );
        // The JSON carries the factors, whose product is the trace's gradient.
        let json_arguments = ["explain", "--weight", name, "--json"];
        let json: serde_json::Value =
            serde_json::from_str(success(&json_arguments, &backprop(&json_arguments)).trim())
                .unwrap();
        let factor = |key: &str| json[key].as_f64().unwrap();
        let chained = factor("cost_gradient") * factor("activation_derivative") * factor("input");
        assert!(
            (chained - traced).abs() < 1e-12,
            "{name}: {chained} vs {traced}"
        );
        assert!((factor("gradient") - traced).abs() < 1e-15);
    }
    for bad in [
        "layers.1.bias[0]",
        "layers.2.weight[0,0]",
        "layers.1.weight[1,0]",
        "layers.0.weight[0,2]",
        "weight",
    ] {
        let output = backprop(&["explain", "--weight", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(stderr(&output).contains("--weight"), "{}", stderr(&output));
    }
}

#[test]
fn a_target_a_sigmoid_cannot_reach_is_warned_about() {
    let arguments = ["explain", "--result", "1.5", "--steps", "3"];
    let output = backprop(&arguments);
    let text = success(&arguments, &output);
    assert!(
        stderr(&output)
            .contains("--result: the target 1.5000 lies outside what a sigmoid output can give"),
        "{}",
        stderr(&output)
    );
    assert!(text.contains("After 3 steps"), "{text}");
    let fine = backprop(&["explain", "--result", "1"]);
    assert!(!stderr(&fine).contains("warning"), "{}", stderr(&fine));
}

#[test]
fn the_weight_curve_tangent_is_the_central_difference() {
    let folder = tempfile::tempdir().unwrap();
    let model = folder.path().join("xor.safetensors");
    let path = model.to_str().unwrap();
    let train = [
        "train",
        "--data",
        "xor-table",
        "--epochs",
        "30",
        "--out",
        path,
        "-q",
    ];
    success(&train, &backprop(&train));
    let picture = folder.path().join("curve.svg");
    let arguments = [
        "plot",
        path,
        "--what",
        "weight-curve",
        "--weight",
        "layers.0.weight[1,0]",
        "--out",
        picture.to_str().unwrap(),
    ];
    let output = backprop(&arguments);
    success(&arguments, &output);
    let said = stderr(&output);
    let line = said
        .lines()
        .find(|line| line.contains("by backprop"))
        .unwrap_or_else(|| panic!("{said}"));
    let number = |before: &str| -> f64 {
        let head = line.split(before).next().unwrap();
        head.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let (backprop_slope, numeric) = (number(" by backprop"), number(" by central"));
    assert!(backprop_slope != 0.0, "{line}");
    assert!(
        (backprop_slope - numeric).abs() <= 1e-6 + 1e-4 * backprop_slope.abs(),
        "{line}"
    );
    let svg = std::fs::read_to_string(&picture).unwrap();
    assert!(svg.contains("tangent") && svg.contains("nudge") && svg.contains("(backprop)"));
    let png = folder.path().join("curve.png");
    let arguments = [
        "plot",
        path,
        "--what",
        "weight-curve",
        "--weight",
        "layers.0.weight[1,0]",
        "--out",
        png.to_str().unwrap(),
    ];
    success(&arguments, &backprop(&arguments));
    for bad in [
        vec!["plot", path, "--what", "weight-curve", "--out", "x.svg"],
        vec![
            "plot",
            path,
            "--what",
            "weight-curve",
            "--weight",
            "layers.5.weight[0,0]",
            "--out",
            "x.svg",
        ],
        vec![
            "plot",
            path,
            "--what",
            "loss",
            "--weight",
            "layers.0.weight[0,0]",
            "--out",
            "x.svg",
        ],
    ] {
        let output = backprop(&bad);
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        assert!(stderr(&output).contains("--weight"), "{}", stderr(&output));
    }
}

#[test]
fn draw_names_a_company_shaped_model_and_writes_values_and_arrows() {
    let folder = tempfile::tempdir().unwrap();
    let model = folder.path().join("xor.safetensors");
    let path = model.to_str().unwrap();
    let train = [
        "train",
        "--data",
        "xor-table",
        "--epochs",
        "5",
        "--out",
        path,
        "-q",
    ];
    success(&train, &backprop(&train));
    let svg_path = folder.path().join("net.svg");
    let arguments = [
        "draw",
        path,
        "--values",
        "--out",
        svg_path.to_str().unwrap(),
    ];
    success(&arguments, &backprop(&arguments));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.contains("manager 2") && svg.contains(">CEO<"), "{svg}");
    assert_eq!(svg.matches("<polygon").count(), 9, "one arrowhead per line");
    let loaded = backprop::model::Model::load(&model).unwrap();
    let w = f64::from(loaded.network.parameter("layers.1.weight").unwrap()[(0, 1)]);
    assert!(
        svg.contains(&format!(">{:.2}<", w)),
        "the value {w:.2} on its line"
    );
    let arguments = ["explain", "--model", path, "--input", "1,0"];
    let text = success(&arguments, &backprop(&arguments));
    assert!(text.contains("The company network (2-3-1)") && text.contains("manager 3"));

    // The backward pass: δ on the nodes, heads only on the lines δ flows back along (the CEO
    // to the managers); no δ reaches the salespeople.
    let backward = folder.path().join("backward.svg");
    let arguments = ["draw", "--backward", "--out", backward.to_str().unwrap()];
    success(&arguments, &backprop(&arguments));
    let svg = std::fs::read_to_string(&backward).unwrap();
    assert!(svg.contains("the backward pass"), "{svg}");
    assert_eq!(svg.matches("<polygon").count(), 3, "{svg}");
    let explanation = CompanyExample::default().explain().unwrap();
    let delta = explanation.layers[1].units[0].delta;
    assert!(
        svg.contains(&format!(">{delta:.3}<")),
        "the CEO's δ {delta:.3}"
    );
    let refused = backprop(&["draw", path, "--backward", "--out", "x.svg"]);
    assert_eq!(refused.status.code(), Some(2));
    // The explained step's page has the backward picture between the forward one and the update.
    let page = folder.path().join("step.html");
    let arguments = ["explain", "--html", page.to_str().unwrap()];
    success(&arguments, &backprop(&arguments));
    let html = std::fs::read_to_string(&page).unwrap();
    let (forward, back, update) = (
        html.find(">The forward pass<").unwrap(),
        html.find(">The backward pass<").unwrap(),
        html.find(">The update<").unwrap(),
    );
    assert!(forward < back && back < update);
}

#[test]
fn a_batch_of_sales_pulling_one_weight_both_ways_is_settled_by_the_mean() {
    let arguments = ["explain", "--batch"];
    let text = success(&arguments, &backprop(&arguments));
    assert!(
        text.contains("would pull") && text.contains("uses their mean"),
        "{text}"
    );
    let arguments = [
        "explain",
        "--batch",
        "--weight",
        "layers.1.weight[0,1]",
        "--json",
    ];
    let json: serde_json::Value =
        serde_json::from_str(success(&arguments, &backprop(&arguments)).trim()).unwrap();
    let pulls: Vec<f64> = json["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["gradient"].as_f64().unwrap())
        .collect();
    assert_eq!(pulls.len(), 4);
    assert!(pulls.iter().any(|g| *g < 0.0) && pulls.iter().any(|g| *g > 0.0));
    let mean = pulls.iter().sum::<f64>() / 4.0;
    assert!((mean - json["batch_gradient"].as_f64().unwrap()).abs() < 1e-12);
    for bad in [
        vec!["explain", "--batch", "--weight", "layers.1.weight[2,0]"],
        vec!["explain", "--batch", "--model", "m.safetensors"],
    ] {
        assert_eq!(backprop(&bad).status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn the_company_learns_xor_from_the_four_sales_as_one_batch() {
    let arguments = ["explain", "--batch", "--steps", "20000", "--json"];
    let json: serde_json::Value =
        serde_json::from_str(success(&arguments, &backprop(&arguments)).trim()).unwrap();
    let costs = json["costs"].as_array().unwrap();
    let first = costs[0]["cost"].as_f64().unwrap();
    let last = costs.last().unwrap()["cost"].as_f64().unwrap();
    assert_eq!(costs.last().unwrap()["step"], 20000);
    assert!(last < first / 100.0, "{first} → {last}");
    let after: Vec<f64> = json["verdicts_after"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (verdict, target) in after.iter().zip([0.0, 1.0, 1.0, 0.0]) {
        assert!((verdict - target).abs() < 0.1, "{after:?}");
    }
    let text = success(
        &["explain", "--batch", "--steps", "1"],
        &backprop(&["explain", "--batch", "--steps", "1"]),
    );
    assert!(text.contains("1 plain gradient-descent step (η"), "{text}");
    let refused = backprop(&[
        "explain",
        "--batch",
        "--steps",
        "3",
        "--weight",
        "layers.1.weight[0,0]",
    ]);
    assert_eq!(refused.status.code(), Some(2));
}
