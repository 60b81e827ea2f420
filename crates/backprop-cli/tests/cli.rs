//! End-to-end tests of the `backprop` binary: presets that must learn, output streams, the
//! log file, determinism across runs and thread counts, and exit codes for bad input.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `backprop` with these arguments and `NO_COLOR` set, in Cargo's scratch folder for
/// integration tests (where `train` writes its default `model.safetensors`).
fn backprop(arguments: &[&str]) -> Output {
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&folder).unwrap();
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(arguments)
        .current_dir(folder)
        .env("NO_COLOR", "1")
        .output()
        .expect("the backprop binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs with `--json`, checks success and exactly one JSON object on stdout, and returns it.
fn train_json(arguments: &[&str]) -> (Value, String) {
    let mut all = vec!["train", "--json"];
    all.extend_from_slice(arguments);
    let output = backprop(&all);
    let errors = stderr(&output);
    assert!(output.status.success(), "{all:?} failed: {errors}");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON line on stdout: {stdout}"
    );
    let value = serde_json::from_str(&stdout).expect("stdout is JSON");
    (value, errors)
}

/// The epoch lines of stderr.
fn epoch_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.starts_with("epoch "))
        .collect()
}

/// The number after `loss ` on an epoch line.
fn loss_of(line: &str) -> f64 {
    let after = line
        .split("  loss ")
        .nth(1)
        .expect("an epoch line has a loss");
    after
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .expect("the loss is a number")
}

/// A fresh path in Cargo's scratch folder for integration tests.
fn scratch_file(name: &str) -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// The JSON object without wall-clock timings.
fn without_timings(mut value: Value) -> Value {
    let object = value.as_object_mut().unwrap();
    object.remove("seconds");
    object.remove("samples_per_second");
    for record in object["history"].as_array_mut().unwrap() {
        record.as_object_mut().unwrap().remove("seconds");
    }
    value
}

#[test]
fn xor_table_preset_learns_the_truth_table_with_falling_loss() {
    let (result, errors) = train_json(&["--data", "xor-table"]);
    assert!(errors.contains("2-3-1"), "{errors}");
    assert!(
        errors.contains("both the training and the test set"),
        "{errors}"
    );
    let lines = epoch_lines(&errors);
    assert!(
        (20..=50).contains(&lines.len()),
        "{} epoch lines",
        lines.len()
    );
    let (first, last) = (loss_of(lines[0]), loss_of(lines[lines.len() - 1]));
    assert!(last < first / 10.0, "loss {first} → {last}");
    assert_eq!(result["test_accuracy"], 1.0);
    assert_eq!(result["layer_sizes"], serde_json::json!([2, 3, 1]));
    assert_eq!(result["test_is_training_data"], true);
    // The log-free history still holds every epoch.
    assert_eq!(
        result["history"].as_array().unwrap().len(),
        result["epochs_run"]
    );
}

#[test]
fn default_digits_reach_95_percent() {
    let (result, errors) = train_json(&["-q"]);
    assert_eq!(result["dataset"], "digits");
    assert_eq!(result["layer_sizes"], serde_json::json!([64, 64, 10]));
    let accuracy = result["test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.95, "test accuracy {accuracy}: {errors}");
    assert!(result["samples_per_second"].as_f64().unwrap() > 0.0);
}

#[test]
fn plane_regression_reports_r2_in_original_units() {
    let (result, _) = train_json(&["--data", "plane", "-q"]);
    assert_eq!(result["task"], "regression");
    let r2 = result["test_r2"].as_f64().unwrap();
    assert!(r2 > 0.9, "R² {r2}");
    assert!(result["test_mae"].as_f64().unwrap() >= 0.0);
    assert!(result.get("test_accuracy").is_none());
}

#[test]
fn log_file_gets_one_json_line_per_epoch() {
    let path = scratch_file("epochs.jsonl");
    let path_text = path.to_str().unwrap();
    let arguments = [
        "--data",
        "circle",
        "--epochs",
        "7",
        "--validation",
        "0.2",
        "--log",
        path_text,
        "-q",
    ];
    let (result, _) = train_json(&arguments);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7);
    for (index, line) in lines.iter().enumerate() {
        let record: Value = serde_json::from_str(line).expect("each line is JSON");
        assert_eq!(record["epoch"], index + 1);
        assert!(
            record["loss"].is_f64() && record["val_loss"].is_f64(),
            "{line}"
        );
    }
    assert!(result["validation_loss"].is_f64());
    let _ = std::fs::remove_file(path);
}

#[test]
fn quiet_prints_no_epoch_lines_but_the_result() {
    let output = backprop(&["train", "--data", "moons", "--epochs", "5", "-q"]);
    assert!(output.status.success());
    let errors = stderr(&output);
    assert!(epoch_lines(&errors).is_empty(), "{errors}");
    assert!(
        errors.lines().any(|line| line.starts_with("test ")),
        "{errors}"
    );
    assert!(!errors.contains('\u{1b}'), "no ANSI escapes: {errors}");
    assert!(
        output.stdout.is_empty(),
        "stdout stays empty without --json"
    );
}

#[test]
fn early_stopping_takes_a_validation_part_and_says_so() {
    let (result, errors) = train_json(&["--data", "circle", "--early-stopping", "2", "-q"]);
    assert!(errors.contains("--validation 0.1"), "{errors}");
    assert!(result["validation_loss"].is_f64());
    assert!(result["rows"]["validation"].as_u64().unwrap() > 0);
}

#[test]
fn same_seed_gives_identical_numbers_across_runs_and_thread_counts() {
    let base = ["--epochs", "3", "--layers", "256,128", "--seed", "7", "-q"];
    let run = |threads: &str| {
        let mut arguments = base.to_vec();
        arguments.extend_from_slice(&["--threads", threads]);
        without_timings(train_json(&arguments).0)
    };
    let one = run("1");
    assert_eq!(one, run("1"));
    assert_eq!(one, run("2"));
    let plain = without_timings(train_json(&base).0);
    assert_eq!(one, plain);
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--data", "circles"],
            "not a built-in set nor an existing file",
        ),
        (&["--data", "no-such-train.csv"], "no-such-train.csv: "),
        (&["--activation", "swish"], "unknown activation 'swish'"),
        (
            &["--activation", "softmax"],
            "softmax is only supported on the output layer",
        ),
        (&["--layers", "3,x"], "\"x\" is not a layer width"),
        (
            &["--test-split", "1.5"],
            "test fraction must be strictly between 0 and 1",
        ),
        (&["--batch-size", "0"], "--batch-size"),
        (&["--data", "plane", "--cost", "bce"], "needs class labels"),
        (
            &["--data", "plane", "--task", "classify"],
            "needs class labels",
        ),
        (
            &["--optimizer", "adam", "--momentum", "0.5"],
            "--momentum applies to",
        ),
        (
            &["--data", "xor-table", "--validation", "0.2"],
            "at least 10 are needed",
        ),
        (&["--schedule", "linear"], "unknown schedule"),
        (&["--learning-rate", "-1"], "learning_rate = -1"),
        (&["--dropout", "1"], "dropout must be in [0, 1)"),
    ];
    for (arguments, expected) in cases {
        let mut all = vec!["train", "-q", "--epochs", "1"];
        all.extend_from_slice(arguments);
        let output = backprop(&all);
        let errors = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}: {errors}");
        assert!(errors.contains(expected), "{arguments:?}: {errors}");
        assert!(output.stdout.is_empty(), "{arguments:?}");
    }
}

#[test]
fn divergence_exits_1_naming_epoch_and_batch() {
    let output = backprop(&[
        "train",
        "--data",
        "plane",
        "--learning-rate",
        "1e30",
        "--optimizer",
        "sgd",
        "--json",
    ]);
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{errors}");
    assert!(errors.contains("diverged at epoch 1, batch"), "{errors}");
    assert!(errors.contains("lower --learning-rate"), "{errors}");
    assert!(output.stdout.is_empty());
}

#[test]
fn an_unwritable_log_file_exits_1() {
    let folder = scratch_file("no-such-folder");
    let path = folder.join("log.jsonl");
    let output = backprop(&[
        "train",
        "--data",
        "xor-table",
        "-q",
        "--log",
        path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot create log file"));
}
