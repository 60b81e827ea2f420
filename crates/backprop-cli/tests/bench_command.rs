//! `backprop bench` through the real binary, on few rows so it stays quick: the JSON object's
//! figures hang together (median of the timed epochs, GFLOP/s from the FLOPs per sample, the
//! fraction of the measured peak), named and custom configurations, and bad flags exit 2.

use serde_json::Value;
use std::process::{Command, Output};

fn backprop(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(arguments)
        .env("NO_COLOR", "1")
        .output()
        .expect("the backprop binary runs")
}

/// Runs `bench --json` on `rows` rows of synthetic data and returns the JSON object.
fn bench_json(rows: &str, arguments: &[&str]) -> Value {
    let mut all = vec!["bench", "--json", "--rows", rows, "--threads", "2"];
    all.extend_from_slice(arguments);
    let output = backprop(&all);
    assert!(
        output.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(&stdout).unwrap()
}

fn number(value: &Value, key: &str) -> f64 {
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

#[test]
fn named_configuration_reports_consistent_figures() {
    let report = bench_json("640", &["--config", "b-sgd-32", "--epochs", "3"]);
    assert_eq!(report["name"], "b-sgd-32");
    assert_eq!(report["batch_size"], 32);
    assert_eq!(report["threads"], 2);
    let epochs: Vec<f64> = report["epoch_samples_per_second"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(epochs.len(), 3);
    let samples_per_second = number(&report, "samples_per_second");
    assert_eq!(samples_per_second, median(&epochs));
    assert!(samples_per_second > 0.0);
    assert_eq!(number(&report, "flops_per_sample"), 454_400.0);
    let gflops = number(&report, "gflops");
    assert!((gflops - samples_per_second * 454_400.0 / 1e9).abs() <= 1e-9 * gflops.max(1.0));
    let peak = number(&report, "gemm_peak_gflops");
    assert!(peak > 0.0);
    assert!((number(&report, "fraction_of_peak") - gflops / peak).abs() < 1e-12);
    assert!(number(&report, "final_loss").is_finite());
}

#[test]
fn custom_shapes_and_optimisers_and_inference() {
    let report = bench_json(
        "640",
        &[
            "--layers",
            "16,8",
            "--batch-size",
            "64",
            "--optimizer",
            "adam",
            "--epochs",
            "1",
        ],
    );
    assert_eq!(report["batch_size"], 64);
    assert!(report["name"].as_str().unwrap().contains("784-16-8-10"));
    // Forward 2·(784·16 + 16·8 + 8·10), twice for ∂C/∂W, once more past the first layer.
    let products = [784.0 * 16.0, 16.0 * 8.0, 8.0 * 10.0].map(|p: f64| 2.0 * p);
    let expected = 2.0 * products.iter().sum::<f64>() + products[1] + products[2];
    // Batches of 64 of the 16 %-dense images take the first layer through the non-zeros:
    // its forward product and ∂C/∂W count only the multiply-adds done.
    assert_eq!(report["sparse_input"], true);
    let done = number(&report, "flops_per_sample");
    let first_layer = 2.0 * products[0];
    let (low, high) = (expected - 0.9 * first_layer, expected - 0.75 * first_layer);
    assert!(low < done && done < high, "{done} not in {low}..{high}");
    let dense = bench_json(
        "640",
        &[
            "--layers",
            "16,8",
            "--batch-size",
            "64",
            "--epochs",
            "1",
            "--dense-input",
        ],
    );
    assert_eq!(dense["sparse_input"], false);
    assert_eq!(number(&dense, "flops_per_sample"), expected);

    // Inference: batches of 1000 rows through the non-zeros, and every value with
    // --dense-input (2·(784·128 + 128·64 + 64·10) FLOPs a row).
    let inference = bench_json("2000", &["--config", "infer-b", "--epochs", "1"]);
    assert_eq!(inference["name"], "infer-b");
    assert_eq!(inference["sparse_input"], true);
    let (all, first_layer) = (218_368.0, 2.0 * 784.0 * 128.0);
    let done = number(&inference, "flops_per_sample");
    let (low, high) = (all - 0.9 * first_layer, all - 0.75 * first_layer);
    assert!(low < done && done < high, "{done} not in {low}..{high}");
    let dense = bench_json(
        "2000",
        &["--config", "infer-b", "--epochs", "1", "--dense-input"],
    );
    assert_eq!(dense["name"], "infer-b --dense-input");
    assert_eq!(dense["sparse_input"], false);
    assert_eq!(number(&dense, "flops_per_sample"), all);
    let latencies = inference["latencies"].as_array().unwrap();
    assert_eq!(latencies.len(), 2);
    assert_eq!(latencies[1]["sizes"], serde_json::json!([4, 64, 64, 2]));
    assert!(inference["final_loss"].is_null());
}

#[test]
fn bad_flags_exit_with_usage_errors() {
    for (arguments, expected) in [
        (vec!["bench", "--config", "c"], "unknown benchmark"),
        (vec!["bench", "--epochs", "0"], "--epochs"),
        (vec!["bench", "--layers", "0"], "at least 1 unit"),
        (
            vec!["bench", "--rows", "10", "--batch-size", "32"],
            "larger than the 10 rows",
        ),
        (
            vec!["bench", "--config", "infer-b", "--optimizer", "adam"],
            "do not apply to infer-b",
        ),
        (
            vec!["bench", "--learning-rate", "-1", "--rows", "100"],
            "learning",
        ),
    ] {
        let output = backprop(&arguments);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}: {stderr}");
        assert!(stderr.contains(expected), "{arguments:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{arguments:?}: {stderr}");
    }
}
