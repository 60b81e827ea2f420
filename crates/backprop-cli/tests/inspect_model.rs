//! `backprop inspect` and `backprop gradcheck MODEL`, run as the real binary on a model made by
//! `backprop train --out`, and on a checkpoint written with the library.

mod model_commands;

use backprop::model::{Model, NamedTensor};
use model_commands::*;
use serde_json::Value;

#[test]
fn inspect_shows_sizes_provenance_and_history() {
    let (_folder, _data, model) = iris_model();
    let path = model.to_str().unwrap();
    for arguments in [vec!["inspect", path], vec!["inspect", "--model", path]] {
        let output = backprop(&arguments);
        success(&arguments, &output);
        let text = stderr(&output);
        for expected in [
            "4-64-3",
            "parameters",
            "layers.0",
            "‖weight‖",
            "provenance",
            "iris.csv",
            "history: 30 epochs",
            "setosa",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
        assert!(text.contains("backprop model"), "{text}");
    }
    let arguments = ["inspect", path, "--json"];
    let json: Value =
        serde_json::from_str(success(&arguments, &backprop(&arguments)).trim()).unwrap();
    let loaded = Model::load(&model).unwrap();
    assert_eq!(json["parameter_count"], loaded.network.parameter_count());
    assert_eq!(
        json["metadata"]["architecture"]["sizes"],
        serde_json::json!([4, 64, 3])
    );
    assert_eq!(json["metadata"]["history"].as_array().unwrap().len(), 30);
    assert_eq!(json["checkpoint"], false);
    assert_eq!(json["layer_norms"].as_array().unwrap().len(), 2);
}

#[test]
fn inspect_reads_checkpoints_and_lists_their_optimiser_tensors() {
    let (folder, _data, model) = iris_model();
    let loaded = Model::load(&model).unwrap();
    let checkpoint = folder.path().join("checkpoint.safetensors");
    let moments = NamedTensor {
        name: "optimizer.layers.0.weight.exp_avg".into(),
        shape: vec![64, 4],
        values: vec![0.5; 256],
    };
    loaded.save_with(&checkpoint, &[moments]).unwrap();
    let path = checkpoint.to_str().unwrap();
    let output = backprop(&["inspect", path]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("checkpoint") && text.contains("optimizer.layers.0.weight.exp_avg [64, 4]"),
        "{text}"
    );
    let arguments = ["inspect", "--model", path, "--json"];
    let json: Value =
        serde_json::from_str(success(&arguments, &backprop(&arguments)).trim()).unwrap();
    assert_eq!(json["checkpoint"], true);
    assert_eq!(
        json["optimizer_tensors"][0]["name"],
        "optimizer.layers.0.weight.exp_avg"
    );
    // predict reads a checkpoint as a model.
    let data = write_iris(folder.path());
    let output = backprop(&[
        "predict",
        "--model",
        path,
        "--input",
        data.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn inspect_refuses_what_is_not_a_backprop_model() {
    let folder = tempfile::tempdir().unwrap();
    let plain = folder.path().join("plain.safetensors");
    std::fs::write(&plain, plain_safetensors()).unwrap();
    let output = backprop(&["inspect", plain.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a backprop model"),
        "{}",
        stderr(&output)
    );
    let output = backprop(&["inspect"]);
    assert_eq!(output.status.code(), Some(2));
    let output = backprop(&["inspect", "a.safetensors", "--model", "b.safetensors"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "positional and --model together are refused"
    );
}

#[test]
fn gradcheck_passes_on_a_model_with_its_data_or_random_rows() {
    let (_folder, data, model) = iris_model();
    let path = model.to_str().unwrap();
    let data = data.to_str().unwrap();
    for arguments in [
        vec!["gradcheck", path, "--json"],
        vec![
            "gradcheck",
            "--model",
            path,
            "--data",
            data,
            "--batch",
            "6",
            "--json",
        ],
    ] {
        let output = backprop(&arguments);
        let json: Value =
            serde_json::from_str(success(&arguments, &output).trim()).expect("one JSON object");
        assert_eq!(json["passed"], true, "{json}");
        assert_eq!(json["sizes"], serde_json::json!([4, 64, 3]));
        assert_eq!(json["layers"].as_array().unwrap().len(), 2);
        assert!(stderr(&output).contains("passed"), "{}", stderr(&output));
    }
    let output = backprop(&["gradcheck", path, "--sizes", "2,3,1"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a model brings its own sizes"
    );
    let output = backprop(&["gradcheck", "--data", data]);
    assert_eq!(output.status.code(), Some(2), "--data needs a model");
}
