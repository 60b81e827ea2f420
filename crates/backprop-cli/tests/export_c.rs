//! `backprop export --format c`: the header compiled with `cc -std=c99 -Wall -Wextra -Werror
//! -pedantic` into a harness that reads raw feature rows, and its outputs compared with
//! `backprop predict` on the same rows: probabilities within 1e-5, regression values within
//! 1e-5·max(1, |y|), classes identical. Models: a softmax classifier (moons), a single-sigmoid
//! XOR network, a regression with input and target scaling (leaky ReLU), and a GELU/tanh
//! classifier with min-max scaling. A model with string columns is refused.
//!
//! Without a C compiler the comparison is skipped with a note, except under `CI=true`, where it
//! fails.

mod train_support;

use std::path::Path;
use std::process::{Command, Stdio};
use train_support::{backprop_in, scratch, stderr, write_file};

fn ok(folder: &Path, arguments: &[&str]) -> String {
    train_support::succeed(folder, arguments).0
}

/// The C compiler, or `None` (a failure under CI=true).
fn compiler() -> Option<&'static str> {
    let found = Command::new("cc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if found {
        return Some("cc");
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and there is no C compiler (cc) to check the C export with"
    );
    eprintln!("note: no C compiler (cc); the C export is not compiled here");
    None
}

/// Compiles a harness around `header` that reads CSV rows of features from stdin and prints the
/// outputs (and the class, for classifiers) with 9 significant digits.
fn build_harness(folder: &Path, header: &str, prefix: &str, classifier: bool) -> Option<String> {
    let cc = compiler()?;
    let upper = prefix.to_ascii_uppercase();
    let class = if classifier {
        format!("printf(\",%d\", {prefix}_predict_class(features));")
    } else {
        String::new()
    };
    let source = format!(
        "#include <stdio.h>\n#include <stdlib.h>\n#include \"{header}\"\n\
         int main(void)\n{{\n    static char line[1 << 16];\n\
         \x20   float features[{upper}_INPUTS], outputs[{upper}_OUTPUTS];\n\
         \x20   while (fgets(line, sizeof line, stdin)) {{\n\
         \x20       char *cursor = line;\n        int j;\n\
         \x20       for (j = 0; j < {upper}_INPUTS; ++j) {{\n\
         \x20           features[j] = strtof(cursor, &cursor);\n\
         \x20           if (*cursor == ',') {{\n                ++cursor;\n            }}\n        }}\n\
         \x20       {prefix}_predict(features, outputs);\n\
         \x20       for (j = 0; j < {upper}_OUTPUTS; ++j) {{\n\
         \x20           printf(j ? \",%.9g\" : \"%.9g\", outputs[j]);\n        }}\n\
         \x20       {class}\n        printf(\"\\n\");\n    }}\n    return 0;\n}}\n"
    );
    let harness = folder.join(format!("{prefix}_harness.c"));
    std::fs::write(&harness, source).unwrap();
    let binary = folder.join(format!("{prefix}_harness"));
    let output = Command::new(cc)
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-O2",
            "-o",
        ])
        .arg(&binary)
        .arg(&harness)
        .arg("-lm")
        .current_dir(folder)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(binary.to_str().unwrap().to_string())
}

fn run_harness(binary: &str, rows: &str) -> Vec<Vec<f64>> {
    let mut child = Command::new(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(rows.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| line.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// Trains with `arguments`, exports with `prefix`, and compares the header's outputs on `rows`
/// (raw features, one row a line) with `backprop predict`'s.
fn check_model(folder: &Path, name: &str, arguments: &[&str], rows: &[Vec<f64>], prefix: &str) {
    let model = format!("{name}.safetensors");
    let mut train = vec!["train", "-q", "--out", &model];
    train.extend_from_slice(arguments);
    ok(folder, &train);
    let header = format!("{name}.h");
    ok(
        folder,
        &[
            "export", &model, "--format", "c", "--out", &header, "--prefix", prefix,
        ],
    );
    let loaded = backprop::Model::load(&folder.join(&model)).unwrap();
    let names = &loaded.metadata.preprocessing.feature_names;
    let classifier = loaded.metadata.task == "classification";
    let body: String = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
            cells.join(",") + "\n"
        })
        .collect();
    let csv = format!("{}\n{body}", names.join(","));
    let input = write_file(folder, &format!("{name}-rows.csv"), &csv);
    let predicted = ok(folder, &["predict", "--model", &model, "--input", &input]);
    let Some(binary) = build_harness(folder, &header, prefix, classifier) else {
        return;
    };
    let from_c = run_harness(&binary, &body);
    let lines: Vec<&str> = predicted.lines().skip(1).collect();
    assert_eq!(lines.len(), rows.len());
    assert_eq!(from_c.len(), rows.len());
    for (row, (line, c)) in lines.iter().zip(&from_c).enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if classifier {
            let probabilities: Vec<f64> = cells[2..].iter().map(|v| v.parse().unwrap()).collect();
            assert_eq!(probabilities.len() + 1, c.len(), "{name} row {row}");
            for (p, q) in probabilities.iter().zip(c) {
                assert!(
                    (p - q).abs() <= 1e-5,
                    "{name} row {row}: predict {p}, C {q}"
                );
            }
            let class = c[c.len() - 1] as usize;
            let class_name = match &loaded.metadata.preprocessing.class_names {
                Some(names) => names[class].clone(),
                None => class.to_string(),
            };
            assert_eq!(cells[1], class_name, "{name} row {row}");
        } else {
            let values: Vec<f64> = cells[1..].iter().map(|v| v.parse().unwrap()).collect();
            assert_eq!(values.len(), c.len());
            for (y, q) in values.iter().zip(c) {
                assert!(
                    (y - q).abs() <= 1e-5 * y.abs().max(1.0),
                    "{name} row {row}: predict {y}, C {q}"
                );
            }
        }
    }
}

/// A grid of points over [-2, 3] × [-1.5, 2], plus far-away ones.
fn plane_rows() -> Vec<Vec<f64>> {
    let mut rows = Vec::new();
    for i in 0..9 {
        for j in 0..7 {
            rows.push(vec![-2.0 + i as f64 * 0.625, -1.5 + j as f64 * 0.5]);
        }
    }
    rows.push(vec![40.0, -35.0]);
    rows.push(vec![-1e3, 1e3]);
    rows
}

#[test]
fn the_c_header_predicts_what_backprop_predicts() {
    let folder = scratch();
    let dir = folder.path();
    check_model(
        dir,
        "moons",
        &["--data", "moons", "--activation", "tanh", "--epochs", "30"],
        &plane_rows(),
        "moons",
    );
    check_model(
        dir,
        "xor",
        &["--data", "xor-table"],
        &[
            vec![0.0, 0.0],
            vec![0.0, 1.0],
            vec![1.0, 0.0],
            vec![1.0, 1.0],
            vec![0.5, 0.25],
        ],
        "backprop",
    );
    check_model(
        dir,
        "spiral",
        &[
            "--data",
            "spiral",
            "--activation",
            "gelu",
            "--layers",
            "12,8",
            "--scale",
            "minmax",
            "--epochs",
            "20",
        ],
        &plane_rows(),
        "Spiral_Net",
    );
    let mut csv = String::from("width,height,depth,volume\n");
    for row in 0..80 {
        let (w, h, d) = (
            1.0 + (row % 7) as f64,
            2.0 + (row % 5) as f64 * 0.5,
            10.0 + (row % 3) as f64,
        );
        csv.push_str(&format!("{w},{h},{d},{}\n", 500.0 + w * h * d));
    }
    let data = write_file(dir, "boxes.csv", &csv);
    let rows: Vec<Vec<f64>> = (0..20)
        .map(|i| vec![1.0 + i as f64 * 0.3, 2.5, 9.0 + (i % 4) as f64])
        .collect();
    check_model(
        dir,
        "boxes",
        &[
            "--data",
            &data,
            "--activation",
            "leaky-relu",
            "--epochs",
            "40",
        ],
        &rows,
        "boxes",
    );
}

#[test]
fn models_the_header_cannot_express_are_refused() {
    let folder = scratch();
    let dir = folder.path();
    let data = write_file(dir, "fruit.csv", &train_support::fruit_csv(60));
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            &data,
            "--epochs",
            "1",
            "--out",
            "fruit.safetensors",
        ],
    );
    let output = backprop_in(
        dir,
        &[
            "export",
            "fruit.safetensors",
            "--format",
            "c",
            "--out",
            "fruit.h",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(errors.contains("string columns (colour)"), "{errors}");
    assert!(!dir.join("fruit.h").exists(), "no half-written header");
    let output = backprop_in(
        dir,
        &[
            "export",
            "fruit.safetensors",
            "--format",
            "c",
            "--out",
            "f.h",
            "--prefix",
            "9lives",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not a C identifier"));
}

/// `--format onnx` writes the graph atomically (onnxruntime checks it in CI:
/// `scripts/onnx-check.py`); string columns are exported too, as ai.onnx.ml one-hot encoders.
#[test]
fn onnx_export_writes_a_graph_for_models_with_string_columns() {
    let folder = scratch();
    let dir = folder.path();
    let data = write_file(dir, "fruit.csv", &train_support::fruit_csv(60));
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            &data,
            "--epochs",
            "1",
            "--out",
            "fruit.safetensors",
        ],
    );
    let output = backprop_in(
        dir,
        &[
            "export",
            "fruit.safetensors",
            "--format",
            "onnx",
            "--out",
            "fruit.onnx",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("an ONNX graph, opset 17"),
        "{}",
        stderr(&output)
    );
    let bytes = std::fs::read(dir.join("fruit.onnx")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for expected in [
        "OneHotEncoder",
        "ai.onnx.ml",
        "colour",
        "probabilities",
        "label",
    ] {
        assert!(text.contains(expected), "no {expected} in the graph");
    }
    // An output folder that does not exist: an error, and nothing written.
    let output = backprop_in(
        dir,
        &[
            "export",
            "fruit.safetensors",
            "--format",
            "onnx",
            "--out",
            "missing/fruit.onnx",
        ],
    );
    assert_ne!(output.status.code(), Some(0));
    assert!(!dir.join("missing").exists());
}
