//! `--out`, `--config` and `--init-from`: where the model goes, settings from a TOML file, and
//! fine-tuning from a saved model.

mod train_support;

use train_support::{
    backprop_in, fruit_csv, model_metadata, scratch, stderr, train_json, write_file,
};

#[test]
fn out_in_a_missing_folder_exits_non_zero_and_leaves_nothing() {
    let folder = scratch();
    let target = folder.path().join("no-such-folder").join("m.safetensors");
    let output = backprop_in(
        folder.path(),
        &[
            "train",
            "-q",
            "--data",
            "xor-table",
            "--out",
            target.to_str().unwrap(),
        ],
    );
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{errors}");
    assert!(errors.contains("does not exist"), "{errors}");
    assert!(!target.exists() && !folder.path().join("no-such-folder").exists());
    assert!(!folder.path().join("model.safetensors").exists());
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
}

#[test]
fn config_file_values_are_used_and_flags_override_them() {
    let folder = scratch();
    let config = write_file(
        folder.path(),
        "run.toml",
        "data = \"circle\"\nlayers = [4, 3]\nlearning_rate = 0.01\nepochs = 3\nseed = 5\n\
         out = \"from-config.safetensors\"\n",
    );
    let (result, _) = train_json(folder.path(), &["--config", &config, "--epochs", "2"]);
    assert_eq!(result["dataset"], "circle");
    assert_eq!(result["layer_sizes"], serde_json::json!([2, 4, 3, 2]));
    assert_eq!(result["learning_rate"], 0.01);
    assert_eq!(result["seed"], 5);
    assert_eq!(result["epochs_run"], 2, "the flag wins over the file");
    assert!(folder.path().join("from-config.safetensors").exists());

    let bad = write_file(folder.path(), "bad.toml", "data = \"circle\"\nepoks = 3\n");
    let output = backprop_in(folder.path(), &["train", "-q", "--config", &bad]);
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{errors}");
    assert!(errors.contains("bad.toml: unknown key `epoks`"), "{errors}");
}

/// The loss of the first and of the last epoch in a `--json` result's history.
fn first_and_last_loss(result: &serde_json::Value) -> (f64, f64) {
    let history = result["history"].as_array().unwrap();
    let loss = |index: usize| history[index]["loss"].as_f64().unwrap();
    (loss(0), loss(history.len() - 1))
}

#[test]
fn init_from_continues_from_the_saved_weights_and_refuses_another_width() {
    let folder = scratch();
    let data = write_file(folder.path(), "fruit.csv", &fruit_csv(120));
    let fixed = ["--early-stopping", "0", "--validation", "0", "--seed", "3"];
    let mut first = vec![
        "--data",
        data.as_str(),
        "--epochs",
        "40",
        "--out",
        "first.safetensors",
    ];
    first.extend_from_slice(&fixed);
    let (original, _) = train_json(folder.path(), &first);
    let (fresh_first, original_last) = first_and_last_loss(&original);

    let mut again = vec![
        "--data",
        data.as_str(),
        "--epochs",
        "2",
        "--init-from",
        "first.safetensors",
        "--out",
        "second.safetensors",
    ];
    again.extend_from_slice(&fixed);
    let (tuned, errors) = train_json(folder.path(), &again);
    assert!(errors.contains("fine-tuning first.safetensors"), "{errors}");
    let (tuned_first, _) = first_and_last_loss(&tuned);
    assert!(
        tuned_first <= original_last * 1.5 && tuned_first < fresh_first / 2.0,
        "fine-tuning starts at {tuned_first}; the original ended at {original_last} and began \
         at {fresh_first}"
    );
    let before = model_metadata(&folder.path().join("first.safetensors"));
    let after = model_metadata(&folder.path().join("second.safetensors"));
    assert_eq!(
        after["preprocessing"]["input_scaler"], before["preprocessing"]["input_scaler"],
        "the model's scaling is kept, not refitted"
    );
    assert_eq!(after["hyperparameters"]["init_from"], "first.safetensors");

    let mut wider = fruit_csv(40).replace("weight,kind", "weight,age,kind");
    wider = wider
        .lines()
        .enumerate()
        .map(|(row, line)| match (row, line.rsplit_once(',')) {
            (0, _) | (_, None) => format!("{line}\n"),
            (_, Some((head, kind))) => format!("{head},{row},{kind}\n"),
        })
        .collect();
    let wider_data = write_file(folder.path(), "wider.csv", &wider);
    let output = backprop_in(
        folder.path(),
        &[
            "train",
            "-q",
            "--data",
            &wider_data,
            "--init-from",
            "first.safetensors",
            "--out",
            "x.safetensors",
        ],
    );
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{errors}");
    assert!(errors.contains("does not fit the model"), "{errors}");
    assert!(errors.contains("\"age\""), "{errors}");
    assert!(!folder.path().join("x.safetensors").exists());

    let output = backprop_in(
        folder.path(),
        &[
            "train",
            "-q",
            "--data",
            &data,
            "--init-from",
            "first.safetensors",
            "--layers",
            "8",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("come from the model"),
        "{}",
        stderr(&output)
    );
}
