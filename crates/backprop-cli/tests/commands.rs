//! The small commands, run as the real binary: `gradcheck`, `completions` and `--version`.

use serde_json::Value;
use std::process::{Command, Output};

fn backprop(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(arguments)
        .output()
        .expect("the binary runs")
}

#[test]
fn gradcheck_passes_on_fresh_networks_and_reports_every_layer() {
    for arguments in [
        vec!["gradcheck", "--json"],
        vec![
            "gradcheck",
            "--json",
            "--sizes",
            "5,8,8,3",
            "--activation",
            "tanh",
            "--cost",
            "ce",
            "--batch",
            "6",
        ],
        vec![
            "gradcheck",
            "--json",
            "--sizes",
            "4,6,2",
            "--activation",
            "gelu",
            "--cost",
            "bce",
        ],
    ] {
        let output = backprop(&arguments);
        assert!(
            output.status.success(),
            "{arguments:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let result: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
        assert_eq!(result["passed"], true);
        let sizes = result["sizes"].as_array().unwrap().len();
        assert_eq!(result["layers"].as_array().unwrap().len(), sizes - 1);
        for layer in result["layers"].as_array().unwrap() {
            assert!(layer["checked"].as_u64().unwrap() > 0);
        }
    }
}

#[test]
fn gradcheck_rejects_bad_sizes_with_exit_2() {
    let output = backprop(&["gradcheck", "--sizes", "3"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least two layer sizes"));
    let output = backprop(&[
        "gradcheck",
        "--sizes",
        "2,3,1",
        "--cost",
        "bce",
        "--output-activation",
        "relu",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("sigmoid"));
}

#[test]
fn completions_and_version() {
    for shell in ["bash", "zsh", "fish"] {
        let output = backprop(&["completions", shell]);
        assert!(output.status.success());
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(
            script.contains("backprop") && script.contains("gradcheck"),
            "{shell}"
        );
    }
    let output = backprop(&["--version"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("backprop ") && text.contains("matrix kernels"),
        "{text}"
    );
}
