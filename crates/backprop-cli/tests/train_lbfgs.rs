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
