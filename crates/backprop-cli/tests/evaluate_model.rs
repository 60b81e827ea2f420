//! `backprop evaluate`, run as the real binary on models made by `backprop train --out`: the
//! human report, the JSON figures against the library's reports, and bad input.

mod model_commands;

use backprop::evaluation::{ClassificationReport, RegressionReport};
use backprop::model::Model;
use backprop::Matrix;
use backprop_data::csv_file::{feature_specs, load_model_input, CsvOptions};
use backprop_data::CategoricalColumn;
use model_commands::*;
use serde_json::Value;
use std::path::Path;

/// The library's view: the model's outputs for the CSV rows, read by the data crate's own
/// (whole-file) reader rather than the CLI's streaming one.
fn library_outputs(model: &Model, data: &Path) -> Matrix<f32> {
    let preprocessing = &model.metadata.preprocessing;
    let categories: Vec<CategoricalColumn> = preprocessing
        .categorical
        .iter()
        .map(|encoding| CategoricalColumn {
            name: encoding.column.clone(),
            categories: encoding.categories.clone(),
        })
        .collect();
    let specs = feature_specs(&preprocessing.feature_names, &categories).unwrap();
    let input = load_model_input(data, &specs, &CsvOptions::default()).unwrap();
    model.predict(&input.features).unwrap()
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().expect("a number") - b).abs() < 1e-12
}

#[test]
fn evaluate_reports_accuracy_per_class_scores_and_confusion_like_the_library() {
    let (_folder, data, model_path) = iris_model();
    let arguments = [
        "evaluate",
        "--model",
        model_path.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--json",
    ];
    let output = backprop(&arguments);
    let json: Value =
        serde_json::from_str(success(&arguments, &output).trim()).expect("one JSON object");
    let text = stderr(&output);
    for expected in [
        "accuracy",
        "precision",
        "recall",
        "macro avg",
        "weighted avg",
        "confusion matrix",
        "setosa",
        "virginica",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }

    let model = Model::load(&model_path).unwrap();
    let classes = model.metadata.preprocessing.class_names.clone().unwrap();
    assert_eq!(classes, SPECIES);
    let outputs = library_outputs(&model, &data);
    let predicted = outputs.argmax_rows();
    let actual: Vec<usize> = iris_rows(90)
        .iter()
        .map(|row| SPECIES.iter().position(|s| *s == row.3).unwrap())
        .collect();
    let report = ClassificationReport::new(&predicted, &actual, 3);

    assert_eq!(json["task"], "classification");
    assert_eq!(json["rows"], 90);
    assert!(close(&json["accuracy"], report.accuracy), "{json}");
    assert!(
        report.accuracy > 0.6,
        "the model learnt little: {}",
        report.accuracy
    );
    assert_eq!(json["confusion"], serde_json::json!(report.confusion));
    for (index, scores) in report.per_class.iter().enumerate() {
        let entry = &json["per_class"][index];
        assert_eq!(entry["class"], SPECIES[index]);
        assert!(
            close(&entry["precision"], scores.precision) && close(&entry["recall"], scores.recall)
        );
        assert!(close(&entry["f1"], scores.f1) && entry["support"] == scores.support);
    }
    assert!(close(&json["macro_average"]["f1"], report.macro_average.f1));
    assert!(close(
        &json["weighted_average"]["precision"],
        report.weighted_average.precision
    ));
    for fraction in ["accuracy"].map(|key| json[key].as_f64().unwrap()) {
        assert!((0.0..=1.0).contains(&fraction));
    }
}

#[test]
fn evaluate_regression_gives_mse_mae_and_r2_in_target_units() {
    let folder = tempfile::tempdir().unwrap();
    let data = write_regression(folder.path());
    let model_path = train(folder.path(), &data, "y", "regression.safetensors");
    let arguments = [
        "evaluate",
        "--model",
        model_path.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--json",
    ];
    let output = backprop(&arguments);
    let json: Value = serde_json::from_str(success(&arguments, &output).trim()).unwrap();
    assert!(stderr(&output).contains("R²"), "{}", stderr(&output));

    let model = Model::load(&model_path).unwrap();
    let predicted = library_outputs(&model, &data);
    let text = std::fs::read_to_string(&data).unwrap();
    let targets: Vec<f32> = text
        .lines()
        .skip(1)
        .map(|line| line.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    let actual = Matrix::from_vec(targets.len(), 1, targets).unwrap();
    let report = RegressionReport::new(&predicted, &actual);
    assert_eq!(json["task"], "regression");
    assert!(
        close(&json["mse"], report.mse)
            && close(&json["mae"], report.mae)
            && close(&json["r2"], report.r2),
        "{json}"
    );
}

#[test]
fn an_unknown_class_is_bad_input_naming_the_value_and_line() {
    let (folder, _data, model_path) = iris_model();
    let data = folder.path().join("odd.csv");
    std::fs::write(
        &data,
        "species,a,b,colour\nsetosa,0.1,0.2,red\ndaisy,1,2,blue\n",
    )
    .unwrap();
    let output = backprop(&[
        "evaluate",
        "--model",
        model_path.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("\"daisy\"") && text.contains("odd.csv:3"),
        "{text}"
    );
}

#[test]
fn evaluate_needs_a_target_it_can_tell_and_a_readable_model() {
    let (folder, data, model_path) = iris_model();
    let data_value = data.to_str().unwrap();
    // Two columns the model does not use: the target column the model stored ("species")
    // settles it.
    let wide = folder.path().join("wide.csv");
    let text = std::fs::read_to_string(&data).unwrap();
    let widened: String = text.lines().map(|line| format!("{line},x\n")).collect();
    std::fs::write(&wide, &widened).unwrap();
    let model_value = model_path.to_str().unwrap();
    let output = backprop(&[
        "evaluate",
        "--model",
        model_value,
        "--data",
        wide.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    // Without that column under its stored name, the target must be named.
    let renamed = folder.path().join("renamed.csv");
    std::fs::write(&renamed, widened.replacen("species", "kind", 1)).unwrap();
    let output = backprop(&[
        "evaluate",
        "--model",
        model_value,
        "--data",
        renamed.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--target"), "{}", stderr(&output));
    let output = backprop(&[
        "evaluate",
        "--model",
        model_value,
        "--data",
        renamed.to_str().unwrap(),
        "--target",
        "kind",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    let plain = folder.path().join("plain.safetensors");
    std::fs::write(&plain, plain_safetensors()).unwrap();
    let output = backprop(&[
        "evaluate",
        "--model",
        plain.to_str().unwrap(),
        "--data",
        data_value,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a backprop model"),
        "{}",
        stderr(&output)
    );
}

/// Writes an MNIST-style folder of three 2×2 images per part, labelled 0, 1, 2.
fn write_tiny_mnist(folder: &Path) {
    let images: Vec<u8> = [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2]
        .into_iter()
        .chain((0..12).map(|value| value as u8 * 20))
        .collect();
    let labels = [0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2];
    for part in ["train", "t10k"] {
        std::fs::write(folder.join(format!("{part}-images-idx3-ubyte")), &images).unwrap();
        std::fs::write(folder.join(format!("{part}-labels-idx1-ubyte")), labels).unwrap();
    }
}

#[test]
fn mnist_folders_are_evaluated_on_their_test_part_and_built_ins_whole() {
    use backprop::model::ModelMetadata;
    use backprop::{Cost, NetworkConfig, Task};
    let folder = tempfile::tempdir().unwrap();
    write_tiny_mnist(folder.path());
    let config = NetworkConfig::new(&[4, 10], Cost::SoftmaxCrossEntropy).with_seed(3);
    let mut metadata = ModelMetadata::describe(&config, Task::Classification);
    metadata.preprocessing.class_names = Some((0..10).map(|digit| digit.to_string()).collect());
    metadata.preprocessing.input_kind = "image".into();
    let model = Model::new(config.init().unwrap(), metadata).unwrap();
    let model_path = folder.path().join("digits.safetensors");
    model.save(&model_path).unwrap();
    let data = format!("mnist:{}", folder.path().display());
    let arguments = [
        "evaluate",
        "--model",
        model_path.to_str().unwrap(),
        "--data",
        &data,
        "--json",
    ];
    let output = backprop(&arguments);
    let json: Value = serde_json::from_str(success(&arguments, &output).trim()).unwrap();
    assert_eq!(json["rows"], 3);
    assert_eq!(json["per_class"].as_array().unwrap().len(), 10);
    assert!(stderr(&output).contains("t10k"), "{}", stderr(&output));
    let arguments = [
        "predict",
        "--model",
        model_path.to_str().unwrap(),
        "--input",
        &data,
    ];
    let csv = success(&arguments, &backprop(&arguments));
    assert!(
        csv.starts_with("image,prediction,p_0,") && csv.lines().count() == 4,
        "{csv}"
    );

    let xor = folder.path().join("xor.safetensors");
    let arguments = [
        "train",
        "--data",
        "xor-table",
        "--epochs",
        "5",
        "--out",
        xor.to_str().unwrap(),
        "-q",
    ];
    success(&arguments, &backprop(&arguments));
    let arguments = [
        "evaluate",
        "--model",
        xor.to_str().unwrap(),
        "--data",
        "xor-table",
        "--json",
    ];
    let output = backprop(&arguments);
    let json: Value = serde_json::from_str(success(&arguments, &output).trim()).unwrap();
    assert_eq!(json["rows"], 4);
    assert!(
        stderr(&output).contains("whole built-in set"),
        "{}",
        stderr(&output)
    );
}
