//! `backprop train --data FILE.csv`: string classes and categorical features end up in the
//! saved model; bad files exit 2 with `file:line:column` messages and write no model.

mod train_support;

use train_support::{
    backprop_in, fruit_csv, model_metadata, scratch, stderr, train_json, write_file,
};

#[test]
fn string_classes_and_a_category_train_and_are_saved_with_the_model() {
    let folder = scratch();
    let data = write_file(folder.path(), "fruit.csv", &fruit_csv(120));
    let (result, errors) = train_json(
        folder.path(),
        &["--data", &data, "--target", "kind", "--epochs", "60"],
    );
    assert!(
        errors.contains("120 rows, 5 features (one-hot: colour)"),
        "{errors}"
    );
    assert!(
        errors.contains("target \"kind\": 2 classes (apple"),
        "{errors}"
    );
    assert!(errors.contains("delimiter ','"), "{errors}");
    assert!(
        errors.contains("saved model.safetensors (5-64-2, 514 parameters)"),
        "{errors}"
    );
    assert_eq!(result["task"], "classification");
    assert!(result["test_accuracy"].as_f64().unwrap() >= 0.8, "{result}");
    assert!(
        result["validation_loss"].is_f64(),
        "the CSV preset validates"
    );

    let metadata = model_metadata(&folder.path().join("model.safetensors"));
    let preprocessing = &metadata["preprocessing"];
    assert_eq!(
        preprocessing["feature_names"],
        serde_json::json!([
            "size",
            "colour=blue",
            "colour=green",
            "colour=red",
            "weight"
        ])
    );
    assert_eq!(
        preprocessing["class_names"],
        serde_json::json!(["apple", "pear"])
    );
    assert_eq!(preprocessing["categorical"][0]["column"], "colour");
    assert_eq!(
        preprocessing["categorical"][0]["categories"],
        serde_json::json!(["blue", "green", "red"])
    );
    assert_eq!(preprocessing["input_scaler"]["kind"], "standard");
    assert_eq!(
        preprocessing["input_scaler"]["center"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(preprocessing["input_kind"], "tabular");
    assert_eq!(metadata["data"]["source"], data);
    assert_eq!(metadata["data"]["sha256"].as_str().unwrap().len(), 64);
    let hyperparameters = &metadata["hyperparameters"];
    assert_eq!(hyperparameters["optimizer"], "Adam");
    assert_eq!(hyperparameters["batch_size"], 32);
    assert_eq!(hyperparameters["early_stopping"], 10);
    assert_eq!(
        metadata["history"].as_array().unwrap().len() as u64,
        result["epochs_run"].as_u64().unwrap()
    );
}

#[test]
fn regression_targets_keep_their_scaler_and_header_less_files_read() {
    let folder = scratch();
    let mut text = String::new();
    for row in 0..60 {
        let x = row as f64 / 6.0;
        let noise = ((row * 7919) % 13) as f64 / 13.0 - 0.5;
        text.push_str(&format!(
            "{};{x};{}\n",
            3.0 * x + 2.0 + noise,
            (row % 5) as f64
        ));
    }
    let data = write_file(folder.path(), "line.txt", &text);
    let (result, errors) = train_json(
        folder.path(),
        &[
            "--data",
            &data,
            "--no-header",
            "--delimiter",
            ";",
            "--target",
            "0",
            "--out",
            "line.safetensors",
        ],
    );
    assert!(
        errors.contains("target \"column_0\": real values"),
        "{errors}"
    );
    assert!(errors.contains("delimiter ';'"), "{errors}");
    assert_eq!(result["task"], "regression");
    assert!(result["test_r2"].as_f64().unwrap() > 0.8, "{result}");
    let metadata = model_metadata(&folder.path().join("line.safetensors"));
    let target_scaler = &metadata["preprocessing"]["target_scaler"];
    assert_eq!(target_scaler["kind"], "standard");
    assert!(target_scaler["center"][0].as_f64().unwrap() > 5.0);
}

#[test]
fn missing_cells_can_be_dropped_or_filled() {
    let folder = scratch();
    let mut text = fruit_csv(40);
    text.push_str("3.5,,1.0,apple\n4.0,red,NA,pear\n");
    let data = write_file(folder.path(), "gaps.csv", &text);
    let (_, dropped) = train_json(
        folder.path(),
        &["--data", &data, "--missing", "drop", "--epochs", "2"],
    );
    assert!(
        dropped.contains("40 rows (2 of 42 dropped for missing cells)"),
        "{dropped}"
    );
    let (_, filled) = train_json(
        folder.path(),
        &["--data", &data, "--missing", "mean", "--epochs", "2"],
    );
    assert!(
        filled.contains("42 rows, 5 features (one-hot: colour), 2 missing cells filled"),
        "{filled}"
    );
}

#[test]
fn bad_files_exit_2_naming_the_place_and_write_no_model() {
    let folder = scratch();
    let good = fruit_csv(20);
    let mut lines: Vec<&str> = good.lines().collect();
    let one_pear_only: String = {
        let mut text = String::from("x,y\n");
        for row in 0..20 {
            text.push_str(&format!(
                "{row},{}\n",
                if row == 7 { "rare" } else { "common" }
            ));
        }
        text
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "missing.csv",
            good.replacen("\n0,", "\n,", 1),
            "missing.csv:2:1 (column \"size\"): missing value; use --missing",
        ),
        (
            "ragged.csv",
            {
                lines[3] = "1.0,red";
                lines.join("\n")
            },
            "ragged.csv:4:3: ragged row",
        ),
        (
            "word.csv",
            good.replacen("\n3.7,", "\nabc,", 1),
            ":1 (column \"size\"): expected a number, found \"abc\"",
        ),
        (
            "header.csv",
            "a,b,c\n".into(),
            "header.csv: the file has a header but no data rows",
        ),
        (
            "single.csv",
            "a\n1\n2\n".into(),
            "single.csv:1: only one column found",
        ),
        (
            "tiny.csv",
            fruit_csv(6),
            "it has 6 rows and at least 10 are needed",
        ),
        (
            "rare.csv",
            one_pear_only,
            "class \"rare\" (index 1) has 1 row(s), at least 2 are needed",
        ),
    ];
    for (name, text, expected) in cases {
        let data = write_file(folder.path(), name, &text);
        let output = backprop_in(folder.path(), &["train", "-q", "--data", &data]);
        let errors = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {errors}");
        assert!(errors.contains(expected), "{name}: {errors}");
        assert!(output.stdout.is_empty(), "{name}");
        assert!(
            !folder.path().join("model.safetensors").exists(),
            "{name} left a model file"
        );
    }
}
