//! `--data mnist:DIR` on tiny IDX folders written by the test: Nielsen's preset runs, and
//! truncated or mismatched files exit 2 without writing a model.

mod train_support;

use std::path::Path;
use train_support::{backprop_in, model_metadata, scratch, stderr, train_json};

/// An IDX image file: `count` images of 28×28 whose ink depends on the label.
fn images(labels: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 3];
    bytes.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&28u32.to_be_bytes());
    bytes.extend_from_slice(&28u32.to_be_bytes());
    for (index, &label) in labels.iter().enumerate() {
        for pixel in 0..784usize {
            let (row, column) = (pixel / 28, pixel % 28);
            let ink = row / 3 == usize::from(label) && (column + index) % 5 != 0;
            bytes.push(if ink { 255 } else { 0 });
        }
    }
    bytes
}

/// An IDX label file.
fn label_file(labels: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 1];
    bytes.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    bytes.extend_from_slice(labels);
    bytes
}

/// Writes the four files: `train` and `test` rows, labels cycling through 0–9.
fn write_mnist(folder: &Path, train: usize, test: usize) {
    let labels = |count: usize| (0..count).map(|i| (i % 10) as u8).collect::<Vec<u8>>();
    let (train_labels, test_labels) = (labels(train), labels(test));
    std::fs::create_dir_all(folder).unwrap();
    std::fs::write(
        folder.join("train-images-idx3-ubyte"),
        images(&train_labels),
    )
    .unwrap();
    std::fs::write(
        folder.join("train-labels-idx1-ubyte"),
        label_file(&train_labels),
    )
    .unwrap();
    std::fs::write(folder.join("t10k-images-idx3-ubyte"), images(&test_labels)).unwrap();
    std::fs::write(
        folder.join("t10k-labels-idx1-ubyte"),
        label_file(&test_labels),
    )
    .unwrap();
}

#[test]
fn nielsen_preset_runs_an_epoch_on_a_tiny_folder() {
    let folder = scratch();
    write_mnist(&folder.path().join("digits"), 100, 20);
    let (result, errors) = train_json(
        folder.path(),
        &[
            "--data",
            "mnist:digits",
            "--preset",
            "nielsen",
            "--epochs",
            "1",
        ],
    );
    assert!(
        errors.contains("100 training and 20 test images"),
        "{errors}"
    );
    assert_eq!(result["layer_sizes"], serde_json::json!([784, 30, 10]));
    assert_eq!(result["cost"], "quadratic");
    assert_eq!(result["output_activation"], "sigmoid");
    assert_eq!(result["batch_size"], 10);
    assert_eq!(result["learning_rate"], 3.0);
    assert_eq!(result["rows"]["test"], 20);
    assert_eq!(result["epochs_run"], 1);
    let metadata = model_metadata(&folder.path().join("model.safetensors"));
    assert_eq!(metadata["preprocessing"]["input_kind"], "image");
    assert!(metadata["preprocessing"]["input_scaler"].is_null());
    assert_eq!(metadata["architecture"]["initialization"], "normal");
}

/// The model records the SHA-256 of its training part: the one taken while loading when the
/// training part is the whole training file, and the one taken after a validation split
/// otherwise; both are `Dataset::sha256` of what was trained on.
#[test]
fn the_recorded_data_hash_is_that_of_the_training_part() {
    let folder = scratch();
    write_mnist(&folder.path().join("digits"), 100, 20);
    let (train, _) = backprop_data::load_mnist_dir(&folder.path().join("digits")).unwrap();
    let hash = |extra: &[&str]| {
        let mut arguments = vec!["--data", "mnist:digits", "--epochs", "1", "--layers", "8"];
        arguments.extend_from_slice(extra);
        train_json(folder.path(), &arguments);
        let metadata = model_metadata(&folder.path().join("model.safetensors"));
        metadata["data"]["sha256"].as_str().unwrap().to_string()
    };
    assert_eq!(hash(&[]), train.sha256());
    let validated = hash(&["--validation", "0.2"]);
    assert_ne!(validated, train.sha256());
    assert_eq!(validated.len(), 64);
}

/// Spoils one file of a folder.
type Damage = fn(&Path);

#[test]
fn truncated_mismatched_or_missing_files_exit_2() {
    let folder = scratch();
    let cases: [(&str, Damage, &str); 3] = [
        (
            "truncated",
            |dir| {
                let path = dir.join("train-images-idx3-ubyte");
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
            },
            "train-images-idx3-ubyte",
        ),
        (
            "mismatched",
            |dir| {
                let labels: Vec<u8> = (0..99).map(|i| (i % 10) as u8).collect();
                std::fs::write(dir.join("train-labels-idx1-ubyte"), label_file(&labels)).unwrap();
            },
            "holds 30 images but",
        ),
        (
            "missing",
            |dir| std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte")).unwrap(),
            "no test labels file",
        ),
    ];
    for (name, damage, expected) in cases {
        let dir = folder.path().join(name);
        write_mnist(&dir, 30, 10);
        damage(&dir);
        let spec = format!("mnist:{name}");
        let output = backprop_in(folder.path(), &["train", "-q", "--data", &spec]);
        let errors = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {errors}");
        assert!(errors.contains(expected), "{name}: {errors}");
        assert!(!folder.path().join("model.safetensors").exists(), "{name}");
    }
}
