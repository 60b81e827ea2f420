//! `backprop predict`, run as the real binary on a model made by `backprop train --out`:
//! columns matched by name, standard input, gzip, JSON, IDX images, and bad model files or
//! inputs. `--out` is tested in `predict_out_file.rs`.

mod model_commands;

use model_commands::*;
use serde_json::Value;
use std::io::Write;

/// The prediction rows of CSV output, without the header.
fn rows(csv: &str) -> Vec<String> {
    csv.lines().skip(1).map(str::to_string).collect()
}

#[test]
fn columns_are_matched_by_name_whatever_their_order_and_extras() {
    let (folder, data, model) = iris_model();
    let model = model.to_str().unwrap();
    let plain_arguments = [
        "predict",
        "--model",
        model,
        "--input",
        data.to_str().unwrap(),
    ];
    let plain = success(&plain_arguments, &backprop(&plain_arguments));
    assert!(
        plain.starts_with("line,prediction,p_setosa,p_versicolor,p_virginica\n"),
        "{plain}"
    );
    assert_eq!(rows(&plain).len(), 90);
    assert!(
        rows(&plain)[0].starts_with("2,"),
        "lines count from the header: {plain}"
    );

    // Shuffled columns, an extra column, the target present.
    let shuffled = folder.path().join("shuffled.csv");
    let mut text = String::from("extra,species,colour,b,a\n");
    for (a, b, colour, species) in iris_rows(90) {
        text.push_str(&format!("zz,{species},{colour},{b},{a}\n"));
    }
    std::fs::write(&shuffled, &text).unwrap();
    let arguments = [
        "predict",
        "--model",
        model,
        "--input",
        shuffled.to_str().unwrap(),
    ];
    let output = backprop(&arguments);
    assert_eq!(success(&arguments, &output), plain);
    assert!(
        stderr(&output).contains("\"extra\""),
        "the ignored column is named: {}",
        stderr(&output)
    );

    // Without the target column at all.
    let features_only = folder.path().join("features.csv");
    let text: String = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .map(|line| format!("{}\n", line.rsplit_once(',').unwrap().0))
        .collect();
    std::fs::write(&features_only, text).unwrap();
    let arguments = [
        "predict",
        "--model",
        model,
        "--input",
        features_only.to_str().unwrap(),
    ];
    assert_eq!(success(&arguments, &backprop(&arguments)), plain);

    // Standard input, plain and gzip-compressed.
    let bytes = std::fs::read(&data).unwrap();
    let arguments = ["predict", "--model", model, "--input", "-"];
    assert_eq!(
        success(&arguments, &backprop_with_stdin(&arguments, Some(&bytes))),
        plain
    );
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&bytes).unwrap();
    let gzip = encoder.finish().unwrap();
    assert_eq!(
        success(&arguments, &backprop_with_stdin(&arguments, Some(&gzip))),
        plain
    );
    let gz_file = folder.path().join("iris.csv.gz");
    std::fs::write(&gz_file, &gzip).unwrap();
    let arguments = [
        "predict",
        "--model",
        model,
        "--input",
        gz_file.to_str().unwrap(),
    ];
    assert_eq!(success(&arguments, &backprop(&arguments)), plain);
}

#[test]
fn json_output_is_one_object_agreeing_with_csv() {
    let (_folder, data, model) = iris_model();
    let model = model.to_str().unwrap();
    let csv_arguments = [
        "predict",
        "--model",
        model,
        "--input",
        data.to_str().unwrap(),
    ];
    let csv = success(&csv_arguments, &backprop(&csv_arguments));
    let arguments = [
        "predict",
        "--model",
        model,
        "--input",
        data.to_str().unwrap(),
        "--format",
        "json",
    ];
    let json: Value =
        serde_json::from_str(&success(&arguments, &backprop(&arguments))).expect("one JSON object");
    assert_eq!(json["task"], "classification");
    assert_eq!(json["classes"], serde_json::json!(SPECIES));
    let predictions = json["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 90);
    for (row, prediction) in rows(&csv).iter().zip(predictions) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(prediction["line"].as_u64().unwrap().to_string(), cells[0]);
        assert_eq!(prediction["prediction"], cells[1]);
        let p: f32 = cells[2].parse().unwrap();
        assert_eq!(
            prediction["probabilities"]["setosa"].as_f64().unwrap() as f32,
            p
        );
    }
}

#[test]
fn long_inputs_stream_in_chunks_with_their_line_numbers() {
    let (folder, _data, model) = iris_model();
    let long = folder.path().join("long.csv");
    let mut text = String::from("a,b,colour\r\n");
    for index in 0..10_000 {
        text.push_str(&format!(
            "{},{},{}\r\n",
            index % 7,
            -(index % 5),
            if index % 2 == 0 { "red" } else { "blue" }
        ));
        if index == 5_000 {
            text.push_str("\r\n");
        }
    }
    std::fs::write(&long, text).unwrap();
    let arguments = [
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        long.to_str().unwrap(),
    ];
    let csv = success(&arguments, &backprop(&arguments));
    let lines: Vec<u64> = rows(&csv)
        .iter()
        .map(|row| row.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(lines.len(), 10_000);
    assert_eq!(
        (lines[0], lines[5_000], lines[5_001], lines[9_999]),
        (2, 5_002, 5_004, 10_002)
    );
}

#[test]
fn idx_images_are_predicted_by_index() {
    let (folder, _data, model) = iris_model();
    // Three 2×2 images: the iris model takes 4 inputs.
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2];
    bytes.extend((0..12).map(|value| value as u8 * 20));
    let images = folder.path().join("images-idx3-ubyte");
    std::fs::write(&images, bytes).unwrap();
    let arguments = [
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        images.to_str().unwrap(),
    ];
    let csv = success(&arguments, &backprop(&arguments));
    assert!(csv.starts_with("image,prediction,"), "{csv}");
    assert_eq!(rows(&csv).len(), 3);
}

#[test]
fn a_missing_feature_column_is_bad_input_naming_it() {
    let (folder, _data, model) = iris_model();
    let input = folder.path().join("no-b.csv");
    std::fs::write(&input, "a,colour,species\n1,red,setosa\n").unwrap();
    let output = backprop(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing column \"b\""),
        "{}",
        stderr(&output)
    );
}

#[test]
fn damaged_or_foreign_model_files_are_bad_input() {
    let (folder, data, model) = iris_model();
    let bytes = std::fs::read(&model).unwrap();
    let truncated = folder.path().join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let garbage = folder.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a model").unwrap();
    let plain = folder.path().join("plain.safetensors");
    std::fs::write(&plain, plain_safetensors()).unwrap();
    for (file, expected) in [
        (&truncated, "truncated.safetensors"),
        (&garbage, "garbage.safetensors"),
        (&plain, "not a backprop model"),
    ] {
        let output = backprop(&[
            "predict",
            "--model",
            file.to_str().unwrap(),
            "--input",
            data.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains(expected),
            "{expected:?} missing: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
}
