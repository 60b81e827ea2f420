//! `backprop train --optimizer lbfgs`, run as the real binary: full-batch L-BFGS lowers the
//! loss, writes a model that `predict` runs, and refuses the flags it has no use for.

mod train_support;

use train_support::{
    backprop_in, fruit_csv, model_metadata, scratch, stderr, train_json, write_file,
};

#[test]
fn lbfgs_lowers_the_loss_and_saves_a_model_that_predicts() {
    let folder = scratch();
    let (result, _) = train_json(
        folder.path(),
        &[
            "--data",
            "moons",
            "--samples",
            "300",
            "--layers",
            "16",
            "--activation",
            "tanh",
            "--optimizer",
            "lbfgs",
            "--epochs",
            "60",
            "--seed",
            "3",
            "--out",
            "m.safetensors",
        ],
    );
    assert_eq!(result["optimizer"], "lbfgs");
    let history = result["history"].as_array().unwrap();
    assert!(
        !history.is_empty() && history.len() <= 60,
        "{}",
        history.len()
    );
    let loss = |index: usize| history[index]["loss"].as_f64().unwrap();
    let (first, last) = (loss(0), loss(history.len() - 1));
    assert!(last < 0.5 * first, "{first} → {last}");
    // Each iteration's line search accepts only a lower loss.
    assert!((1..history.len()).all(|i| loss(i) <= loss(i - 1)));
    assert!(result["test_accuracy"].as_f64().unwrap() > 0.9, "{result}");
    assert_eq!(
        result["batch_size"], 240,
        "full batch: the 80 % training part"
    );

    let model = folder.path().join("m.safetensors");
    assert_eq!(
        model_metadata(&model)["hyperparameters"]["optimizer"],
        "lbfgs"
    );
    let input = write_file(folder.path(), "in.csv", "x1,x2\n0.0,0.5\n1.0,-0.5\n");
    let output = backprop_in(
        folder.path(),
        &["predict", "--model", "m.safetensors", "--input", &input],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn lbfgs_regresses_a_csv_target() {
    let folder = scratch();
    let data = write_file(folder.path(), "fruit.csv", &fruit_csv(120));
    let (result, _) = train_json(
        folder.path(),
        &[
            "--data",
            &data,
            "--target",
            "weight",
            "--layers",
            "8",
            "--optimizer",
            "lbfgs",
            "--epochs",
            "40",
            "--out",
            "r.safetensors",
        ],
    );
    let history = result["history"].as_array().unwrap();
    let first = history[0]["loss"].as_f64().unwrap();
    let last = history[history.len() - 1]["loss"].as_f64().unwrap();
    assert!(last < first, "{first} → {last}");
}

#[test]
fn flags_that_do_not_apply_to_lbfgs_are_refused() {
    let folder = scratch();
    for flag in [
        &["--learning-rate", "0.1"][..],
        &["--batch-size", "16"],
        &["--momentum", "0.9"],
        &["--schedule", "cosine"],
        &["--dropout", "0.2"],
        &["--early-stopping", "3"],
    ] {
        let mut arguments = vec!["train", "-q", "--data", "xor-table", "--optimizer", "lbfgs"];
        arguments.extend_from_slice(flag);
        let output = backprop_in(folder.path(), &arguments);
        let errors = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{flag:?}: {errors}");
        assert!(
            errors.contains(flag[0]) && errors.contains("lbfgs"),
            "{flag:?}: {errors}"
        );
    }
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
}

#[test]
fn sigterm_between_iterations_saves_the_model_reached_and_exits_143() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let folder = scratch();
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args([
            "train",
            "-q",
            "--data",
            "spiral",
            "--samples",
            "4000",
            "--layers",
            "64,64",
            "--optimizer",
            "lbfgs",
            "--epochs",
            "100000",
            "--log",
            "log.jsonl",
            "--out",
            "m.safetensors",
        ])
        .current_dir(folder.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(folder.path().join("log.jsonl"))
        .map_or(0, |text| text.lines().count())
        < 2
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the signal"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(143), "{errors}");
    assert!(errors.contains("stopped by SIGTERM"), "{errors}");
    let metadata = model_metadata(&folder.path().join("m.safetensors"));
    assert_eq!(metadata["hyperparameters"]["optimizer"], "lbfgs");
}
