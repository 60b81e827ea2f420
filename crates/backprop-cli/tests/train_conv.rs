//! Convolutional networks through the real binary: `--layers` with image layers on the built-in
//! digits (1×8×8) and on a CSV of images read with `--input-shape`; every command that reads a
//! model (inspect, evaluate, predict, gradcheck, export) handles the new layers; checkpoints
//! resume to the same weights; thread counts give the same bits; bad layer lists and shapes
//! are usage errors that say what to write.

mod train_support;

use train_support::{
    backprop_in, model_metadata, model_values, scratch, stderr, succeed as ok, train_json,
    usage_error, write_file,
};

const DIGIT_LAYERS: &str = "conv:4:3:1:same,maxpool:2,conv:6:3,dropout:0.1,16";

#[test]
fn a_convolutional_network_trains_on_digits_and_every_command_reads_it() {
    let folder = scratch();
    let dir = folder.path();
    let (json, _) = train_json(
        dir,
        &[
            "--data",
            "digits",
            "--layers",
            DIGIT_LAYERS,
            "--epochs",
            "15",
            "--out",
            "conv.safetensors",
        ],
    );
    let accuracy = json["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.85, "test accuracy {accuracy}");
    assert_eq!(
        json["architecture"],
        "1x8x8 → conv:4:3:1:same → maxpool:2 → conv:6:3:1:valid → dropout:0.1 → 24-16-10"
    );
    let metadata = model_metadata(&dir.join("conv.safetensors"));
    let architecture = &metadata["architecture"];
    assert_eq!(
        architecture["input_shape"],
        serde_json::json!({"channels": 1, "height": 8, "width": 8})
    );
    assert_eq!(architecture["features"][0]["kind"], "conv");
    assert_eq!(architecture["features"][1]["kind"], "maxpool");
    // 8×8 → same 8×8 → pool 4×4 → conv 2×2 with 6 planes.
    assert_eq!(architecture["sizes"], serde_json::json!([24, 16, 10]));

    let (_, inspected) = ok(dir, &["inspect", "conv.safetensors"]);
    assert!(
        inspected.contains("1x8x8 → conv:4:3:1:same → maxpool:2 → conv:6:3:1:valid"),
        "{inspected}"
    );
    let words = inspected.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("layers.0 4×1×3×3 relu"), "{inspected}");
    assert!(words.contains("layers.2 6×4×3×3 relu"), "{inspected}");
    assert!(words.contains("layers.4 16×24 relu"), "{inspected}");
    assert!(words.contains("layers.5 10×16 softmax"), "{inspected}");

    let (_, evaluated) = ok(
        dir,
        &[
            "evaluate",
            "--model",
            "conv.safetensors",
            "--data",
            "digits",
        ],
    );
    assert!(evaluated.contains("accuracy"), "{evaluated}");

    let header: Vec<String> = (0..64).map(|i| format!("p{i}")).collect();
    let rows: Vec<String> = (0..3)
        .map(|r| {
            (0..64)
                .map(|c| ((r * 7 + c * 3) % 17).to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let input = write_file(
        dir,
        "rows.csv",
        &format!("{}\n{}\n", header.join(","), rows.join("\n")),
    );
    let (predicted, _) = ok(
        dir,
        &["predict", "--model", "conv.safetensors", "--input", &input],
    );
    assert_eq!(predicted.lines().count(), 4, "{predicted}");

    let (_, checked) = ok(dir, &["gradcheck", "--model", "conv.safetensors"]);
    assert!(
        checked.contains("layers.0:") && checked.contains("layers.2:"),
        "{checked}"
    );
    assert!(checked.contains("passed"), "{checked}");

    let output = backprop_in(
        dir,
        &[
            "export",
            "--model",
            "conv.safetensors",
            "--format",
            "c",
            "--out",
            "m.h",
        ],
    );
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("--format onnx"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.join("m.h").exists());
    ok(
        dir,
        &[
            "export",
            "--model",
            "conv.safetensors",
            "--format",
            "onnx",
            "--out",
            "m.onnx",
        ],
    );
    assert!(std::fs::metadata(dir.join("m.onnx")).unwrap().len() > 1000);

    // plot shows dense networks only: it refuses rather than leave layers out. (draw,
    // explain and report show the image layers: tests/teach_conv.rs.)
    let errors = usage_error(
        dir,
        &[
            "plot",
            "conv.safetensors",
            "--what",
            "loss",
            "--out",
            "p.svg",
        ],
    );
    assert!(errors.contains("shows dense networks only"), "{errors}");
}

#[test]
fn a_resumed_convolutional_run_matches_a_straight_one_and_threads_change_no_bit() {
    let folder = scratch();
    let dir = folder.path();
    let base = ["train", "-q", "--data", "digits", "--layers", DIGIT_LAYERS];
    ok(
        dir,
        &[
            &base[..],
            &["--epochs", "4", "--out", "straight.safetensors"],
        ]
        .concat(),
    );
    ok(
        dir,
        &[
            &base[..],
            &["--epochs", "2", "--out", "half.safetensors"],
            &["--checkpoint", "ck.safetensors"],
        ]
        .concat(),
    );
    ok(
        dir,
        &[
            "train",
            "-q",
            "--resume",
            "ck.safetensors",
            "--epochs",
            "4",
            "--out",
            "resumed.safetensors",
        ],
    );
    let straight = model_values(&dir.join("straight.safetensors"));
    assert_eq!(straight, model_values(&dir.join("resumed.safetensors")));
    ok(
        dir,
        &[
            &base[..],
            &[
                "--epochs",
                "4",
                "--threads",
                "1",
                "--out",
                "one.safetensors",
            ],
        ]
        .concat(),
    );
    assert_eq!(straight, model_values(&dir.join("one.safetensors")));
}

/// A CSV of 2×3×3 images: the class is which plane is brighter.
fn plane_csv(rows: usize) -> String {
    let mut header: Vec<String> = (0..18).map(|i| format!("x{i}")).collect();
    header.push("label".into());
    let mut text = header.join(",") + "\n";
    for row in 0..rows {
        let bright = row % 2;
        let values: Vec<String> = (0..18)
            .map(|i| {
                let plane = i / 9;
                let base = if plane == bright { 0.8 } else { 0.2 };
                format!("{:.2}", base + ((row * 7 + i * 5) % 10) as f64 / 50.0)
            })
            .collect();
        text.push_str(&format!(
            "{},{}\n",
            values.join(","),
            ["dim", "bright"][bright]
        ));
    }
    text
}

#[test]
fn csv_rows_become_images_with_input_shape() {
    let folder = scratch();
    let dir = folder.path();
    let csv = write_file(dir, "planes.csv", &plane_csv(80));
    let (json, _) = train_json(
        dir,
        &[
            "--data",
            &csv,
            "--layers",
            "conv:3:2,avgpool:2,4",
            "--input-shape",
            "2x3x3",
            "--learning-rate",
            "0.05",
            "--epochs",
            "40",
            "--early-stopping",
            "0",
            "--out",
            "planes.safetensors",
        ],
    );
    assert!(json["test_accuracy"].as_f64().unwrap() > 0.9, "{json}");
    let metadata = model_metadata(&dir.join("planes.safetensors"));
    assert_eq!(
        metadata["architecture"]["input_shape"],
        serde_json::json!({"channels": 2, "height": 3, "width": 3})
    );
    // With an input shape the pixels stay as they are (--scale defaults to none).
    assert!(
        metadata["preprocessing"]["input_scaler"].is_null(),
        "{metadata}"
    );

    let errors = usage_error(dir, &["train", "--data", &csv, "--layers", "conv:3:2,4"]);
    assert!(errors.contains("give --input-shape CxHxW"), "{errors}");
    let errors = usage_error(
        dir,
        &[
            "train",
            "--data",
            &csv,
            "--layers",
            "conv:3:2,4",
            "--input-shape",
            "2x3x4",
        ],
    );
    assert!(
        errors.contains("--input-shape 2x3x4 makes 24 values per row, but the data has 18"),
        "{errors}"
    );
    let errors = usage_error(dir, &["train", "--data", &csv, "--input-shape", "2x3"]);
    assert!(errors.contains("CxHxW"), "{errors}");
}

#[test]
fn bad_layer_lists_say_what_to_write() {
    let folder = scratch();
    let dir = folder.path();
    let cases = [
        ("10,conv:2:3", "comes after a dense layer"),
        ("conv:2", "conv:FILTERS:KERNEL[:STRIDE[:same|valid]]"),
        ("conv:2:3:1:full", "'same' or 'valid'"),
        ("pool:2,10", "maxpool:SIZE"),
        ("dropout:1.5,10", "[0, 1)"),
        ("conv:2:9,10", "layer 1 (conv:2:9:1:valid) on a 1x8x8 image"),
        ("conv:2:3:2:same,10", "'same' padding needs stride 1"),
    ];
    for (layers, expected) in cases {
        let errors = usage_error(dir, &["train", "--data", "digits", "--layers", layers]);
        assert!(errors.contains(expected), "--layers {layers}: {errors}");
    }
}

#[test]
fn augment_shift_adds_four_shifted_copies_of_each_training_image() {
    let folder = scratch();
    let dir = folder.path();
    let (plain, _) = train_json(
        dir,
        &[
            "--data",
            "digits",
            "--epochs",
            "1",
            "--out",
            "a.safetensors",
        ],
    );
    let (shifted, errors) = train_json(
        dir,
        &[
            "--data",
            "digits",
            "--epochs",
            "1",
            "--augment",
            "shift",
            "--out",
            "b.safetensors",
        ],
    );
    let rows = |json: &serde_json::Value, part: &str| json["rows"][part].as_u64().unwrap();
    assert_eq!(rows(&shifted, "train"), 5 * rows(&plain, "train"));
    assert_eq!(rows(&shifted, "test"), rows(&plain, "test"));
    assert!(errors.contains("four one-pixel shifts"), "{errors}");
    let metadata = model_metadata(&dir.join("b.safetensors"));
    assert_eq!(metadata["hyperparameters"]["augment"], "shift");
    // A table has no image shape unless it is given one.
    let csv = write_file(dir, "planes.csv", &plane_csv(20));
    let errors = usage_error(dir, &["train", "--data", &csv, "--augment", "shift"]);
    assert!(errors.contains("give --input-shape CxHxW"), "{errors}");
}

#[test]
fn dropout_between_dense_widths_counts_in_the_names_and_every_model_command_reads_it() {
    let folder = scratch();
    let dir = folder.path();
    let (json, _) = train_json(
        dir,
        &[
            "--data",
            "digits",
            "--layers",
            "conv:4:3,maxpool:2,24,dropout:0.3,12",
            "--epochs",
            "4",
            "--out",
            "d.safetensors",
        ],
    );
    assert_eq!(
        json["architecture"],
        "1x8x8 → conv:4:3:1:valid → maxpool:2 → 36-24-dropout:0.3-12-10"
    );
    let metadata = model_metadata(&dir.join("d.safetensors"));
    assert_eq!(
        metadata["architecture"]["hidden_dropout"],
        serde_json::json!([0.3, 0.0])
    );
    let (_, inspected) = ok(dir, &["inspect", "d.safetensors"]);
    let words = inspected.split_whitespace().collect::<Vec<_>>().join(" ");
    // conv (0), maxpool (1), 24 (2), dropout (3), 12 (4), output (5).
    assert!(words.contains("layers.2 24×36 relu"), "{inspected}");
    assert!(words.contains("layers.4 12×24 relu"), "{inspected}");
    assert!(words.contains("layers.5 10×12 softmax"), "{inspected}");
    ok(
        dir,
        &["evaluate", "--model", "d.safetensors", "--data", "digits"],
    );
    ok(
        dir,
        &["gradcheck", "--model", "d.safetensors", "--data", "digits"],
    );
    // Dropout after every hidden layer and between chosen ones at once is refused.
    let errors = usage_error(
        dir,
        &[
            "train",
            "--data",
            "digits",
            "--layers",
            "24,dropout:0.3,12",
            "--dropout",
            "0.2",
        ],
    );
    assert!(errors.contains("give one of the two"), "{errors}");
    let errors = usage_error(
        dir,
        &[
            "train",
            "--data",
            "digits",
            "--layers",
            "24,dropout:0.3,dropout:0.1",
        ],
    );
    assert!(errors.contains("one dropout entry at most"), "{errors}");
}
