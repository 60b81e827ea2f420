//! `backprop explain`, `backprop draw` and `backprop compare`, run as the real binary; the
//! numbers are checked against the library's own teaching API.

mod model_commands;

use backprop_teach::CompanyExample;
use model_commands::{backprop, stderr, stdout, success};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A 2-3-1 model trained on the XOR truth table by the real `backprop train`.
fn xor_model(folder: &Path, name: &str, seed: &str) -> PathBuf {
    let path = folder.join(name);
    let text = path.to_str().unwrap();
    let arguments = [
        "train",
        "--data",
        "xor-table",
        "--seed",
        seed,
        "--out",
        text,
        "-q",
    ];
    success(&arguments, &backprop(&arguments));
    path
}

/// Asserts that two JSON values agree, numbers to 1e-12 relative.
fn assert_json_close(found: &Value, expected: &Value, at: &str) {
    match (found, expected) {
        (Value::Number(found), Value::Number(expected)) => {
            let (found, expected) = (found.as_f64().unwrap(), expected.as_f64().unwrap());
            assert!(
                (found - expected).abs() <= 1e-12 * expected.abs().max(1.0),
                "{at}: {found} ≠ {expected}"
            );
        }
        (Value::Array(found), Value::Array(expected)) => {
            assert_eq!(found.len(), expected.len(), "{at}: lengths differ");
            for (index, (found, expected)) in found.iter().zip(expected).enumerate() {
                assert_json_close(found, expected, &format!("{at}[{index}]"));
            }
        }
        (Value::Object(found), Value::Object(expected)) => {
            assert_eq!(
                found.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "{at}: keys differ"
            );
            for (key, expected) in expected {
                assert_json_close(&found[key], expected, &format!("{at}.{key}"));
            }
        }
        _ => assert_eq!(found, expected, "{at}"),
    }
}

#[test]
fn explain_tells_the_company_step_and_the_cost_falls() {
    let text = success(&["explain"], &backprop(&["explain"]));
    for expected in ["manager 1", "manager 2", "manager 3", "CEO", "fell"] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains('\u{1b}'), "no colour when piped:\n{text}");
}

#[test]
fn explain_json_matches_the_library() {
    let arguments = ["explain", "--json"];
    let json: Value = serde_json::from_str(success(&arguments, &backprop(&arguments)).trim())
        .expect("one JSON object");
    let expected = CompanyExample::default().explain().unwrap().to_json();
    assert_json_close(&json, &expected, "explain");
}

#[test]
fn explain_flags_change_the_example() {
    let arguments = [
        "explain",
        "--json",
        "--seed",
        "3",
        "--signals",
        "0.2,-1",
        "--result",
        "0",
        "--learning-rate",
        "0.5",
    ];
    let json: Value =
        serde_json::from_str(success(&arguments, &backprop(&arguments)).trim()).unwrap();
    let example = CompanyExample {
        seed: 3,
        signals: [0.2, -1.0],
        result: 0.0,
        learning_rate: 0.5,
    };
    assert_json_close(&json, &example.explain().unwrap().to_json(), "explain");
    for bad in [
        vec!["explain", "--signals", "1,2,3"],
        vec!["explain", "--learning-rate", "-1"],
        vec!["explain", "--input", "1,2"],
    ] {
        assert_eq!(backprop(&bad).status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn explain_steps_repeat_until_the_prediction_matches() {
    let folder = tempfile::tempdir().unwrap();
    let html = folder.path().join("steps.html");
    let arguments = [
        "explain",
        "--steps",
        "10000",
        "--signals",
        "1,0.5",
        "--html",
        html.to_str().unwrap(),
    ];
    let text = success(&arguments, &backprop(&arguments));
    let ending: Vec<&str> = text.trim_end().lines().rev().take(3).collect();
    assert!(
        ending.iter().any(|line| line.contains("matched")),
        "no \"matched\" at the end of:\n{text}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg"), "the page holds diagrams");
}

#[test]
fn explain_traces_a_model_file() {
    let folder = tempfile::tempdir().unwrap();
    let model = xor_model(folder.path(), "m.safetensors", "0");
    let path = model.to_str().unwrap();
    let arguments = ["explain", "--model", path, "--input", "1,0"];
    let text = success(&arguments, &backprop(&arguments));
    assert!(text.contains("2-3-1") && text.contains("z¹₁"), "{text}");
    let arguments = [
        "explain",
        "--model",
        path,
        "--input",
        "1,0",
        "--target-values",
        "0",
        "--json",
    ];
    let json: Value =
        serde_json::from_str(success(&arguments, &backprop(&arguments)).trim()).unwrap();
    assert_eq!(json["target"], serde_json::json!([0.0]));
    let wrong_width = ["explain", "--model", path, "--input", "1,0,1"];
    assert_eq!(backprop(&wrong_width).status.code(), Some(2));
    let no_input = ["explain", "--model", path];
    assert_eq!(backprop(&no_input).status.code(), Some(2));
}

#[test]
fn draw_writes_one_line_per_weight_and_the_change() {
    let folder = tempfile::tempdir().unwrap();
    let model = xor_model(folder.path(), "m.safetensors", "0");
    let other = xor_model(folder.path(), "other.safetensors", "1");
    let svg_path = folder.path().join("net.svg");
    let out = svg_path.to_str().unwrap();
    let path = model.to_str().unwrap();
    for arguments in [
        vec!["draw", path, "--out", out],
        vec!["draw", "--model", path, "--out", out, "--input", "1,0"],
    ] {
        success(&arguments, &backprop(&arguments));
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        assert_eq!(svg.matches("<line").count(), 2 * 3 + 3, "{svg}");
    }
    let change_path = folder.path().join("change.svg");
    let arguments = [
        "draw",
        path,
        "--before",
        other.to_str().unwrap(),
        "--out",
        change_path.to_str().unwrap(),
    ];
    success(&arguments, &backprop(&arguments));
    let change = std::fs::read_to_string(&change_path).unwrap();
    assert!(change.contains("<svg") && change != std::fs::read_to_string(&svg_path).unwrap());
    let company_path = folder.path().join("company.svg");
    let arguments = ["draw", "--out", company_path.to_str().unwrap()];
    success(&arguments, &backprop(&arguments));
    let company = std::fs::read_to_string(&company_path).unwrap();
    assert!(company.contains("manager 2") && company.contains("CEO"));
}

#[test]
fn draw_writes_png_and_refuses_other_formats_and_missing_models() {
    let folder = tempfile::tempdir().unwrap();
    let png = folder.path().join("net.png");
    let arguments = ["draw", "--out", png.to_str().unwrap()];
    success(&arguments, &backprop(&arguments));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG signature");
    let jpeg = folder.path().join("net.jpg");
    let output = backprop(&["draw", "--out", jpeg.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("must end in .svg or .png"),
        "{}",
        stderr(&output)
    );
    assert!(!jpeg.exists());
    let missing = folder.path().join("missing.safetensors");
    let svg = folder.path().join("net.svg");
    let missing_text = missing.to_str().unwrap();
    for arguments in [
        vec!["draw", missing_text, "--out", svg.to_str().unwrap()],
        vec!["explain", "--model", missing_text, "--input", "1,0"],
    ] {
        let output = backprop(&arguments);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}");
        assert!(stderr(&output).contains("missing.safetensors"));
    }
    assert!(!svg.exists());
}

#[test]
fn compare_quick_prints_the_table_and_writes_the_plot() {
    let folder = tempfile::tempdir().unwrap();
    let plot = folder.path().join("compare.svg");
    let arguments = ["compare", "--quick", "--plot", plot.to_str().unwrap()];
    let output = backprop(&arguments);
    let text = success(&arguments, &output);
    assert!(text.contains("Brute force against backprop"), "{text}");
    assert!(text.contains("backprop"), "{text}");
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("<svg"));
    assert!(stdout(&output).lines().count() > 5, "a table:\n{text}");
}
