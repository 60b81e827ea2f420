//! The model file is readable without backprop: `scripts/model_predict.py` (numpy and PyPI's
//! `safetensors`) reproduces `Model::predict` within 1e-5 (relative to magnitudes above 1) for
//! a tanh/relu/gelu/softmax classifier with a standard scaler, a leaky-relu regressor with input
//! and target scalers, and a single-sigmoid binary classifier.
//!
//! When `python3` or its packages are missing, the test prints a note and passes, except under
//! `CI=true`, where a missing tool fails it (CI installs them with `pip install safetensors
//! numpy`): nothing is skipped silently there.

mod model_support;

use backprop::model::{AffineScaler, Model, ModelMetadata};
use backprop::{Cost, Matrix, NetworkConfig, Task};
use model_support::{classifier, raw_inputs, regressor};
use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/model_predict.py")
}

fn python_ready() -> bool {
    let missing = match Command::new("python3")
        .args(["-c", "import safetensors, numpy"])
        .output()
    {
        Ok(output) if output.status.success() => return true,
        Ok(output) => format!(
            "`import safetensors, numpy` failed ({}). Install with `pip install safetensors numpy`.",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(error) => format!("python3 cannot run ({error})"),
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and the Python check cannot run: {missing}"
    );
    eprintln!("note: skipping the Python check; {missing}");
    false
}

/// Runs the script, asserting success, and returns its stdout.
fn run_script(arguments: &[&Path]) -> String {
    let output = Command::new("python3")
        .arg(script())
        .args(arguments)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "model_predict.py failed: {stderr}");
    if !stderr.is_empty() {
        eprintln!("{stderr}");
    }
    String::from_utf8(output.stdout).unwrap()
}

/// The first `width` columns of the script's CSV output, after its header.
fn parse_predictions(stdout: &str, width: usize) -> Vec<Vec<f64>> {
    stdout
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .take(width)
                .map(|cell| cell.parse::<f64>().unwrap())
                .collect()
        })
        .collect()
}

fn csv_rows(x: &Matrix<f32>) -> String {
    (0..x.rows())
        .map(|i| {
            let cells: Vec<String> = x.row(i).iter().map(|v| f64::from(*v).to_string()).collect();
            cells.join(",") + "\n"
        })
        .collect()
}

fn assert_close(python: &[Vec<f64>], rust: &Matrix<f32>, what: &str) {
    assert_eq!(python.len(), rust.rows(), "{what}: row count");
    for (i, row) in python.iter().enumerate() {
        assert_eq!(row.len(), rust.cols(), "{what}: row {i} width");
        for (j, &p) in row.iter().enumerate() {
            let r = f64::from(rust[(i, j)]);
            assert!(
                (p - r).abs() <= 1e-5 * p.abs().max(1.0),
                "{what}: row {i}, output {j}: Python {p}, Rust {r}"
            );
        }
    }
}

fn binary_classifier() -> Model {
    let config = NetworkConfig::new(&[3, 4, 1], Cost::BinaryCrossEntropy).with_seed(21);
    let mut metadata = ModelMetadata::describe(&config, Task::Classification);
    metadata.preprocessing.class_names = Some(vec!["no".into(), "yes".into()]);
    metadata.preprocessing.input_scaler = Some(AffineScaler::standard(
        vec![5.0, -3.0, 100.0],
        vec![2.0, 0.5, 30.0],
    ));
    Model::new(config.init().unwrap(), metadata).unwrap()
}

#[test]
fn python_predictions_match_rust() {
    if !python_ready() {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    for (name, model) in [
        ("classifier", classifier()),
        ("regressor", regressor()),
        ("binary", binary_classifier()),
    ] {
        let model_path = folder.path().join(format!("{name}.safetensors"));
        model.save(&model_path).unwrap();
        let x = raw_inputs(25, 1234);
        let input_path = folder.path().join(format!("{name}.csv"));
        std::fs::write(&input_path, csv_rows(&x)).unwrap();
        let expected = model.predict(&x).unwrap();
        let stdout = run_script(&[&model_path, &input_path]);
        assert_close(
            &parse_predictions(&stdout, expected.cols()),
            &expected,
            name,
        );
        let header = stdout.lines().next().unwrap();
        if name == "classifier" {
            assert_eq!(header, "small,medium,large,predicted");
        }

        // With a header: columns matched by name, in another order, a target column ignored.
        let names = &model.metadata.preprocessing.feature_names;
        let mut text = format!("target,{},{},{}\n", names[2], names[0], names[1]);
        for i in 0..x.rows() {
            let cell = |j: usize| f64::from(x[(i, j)]).to_string();
            text += &format!("7,{},{},{}\n", cell(2), cell(0), cell(1));
        }
        let named_path = folder.path().join(format!("{name}-named.csv"));
        std::fs::write(&named_path, text).unwrap();
        let stdout = run_script(&[&model_path, &named_path]);
        assert_close(
            &parse_predictions(&stdout, expected.cols()),
            &expected,
            name,
        );

        let stdout = run_script(&[&model_path, Path::new("--self-test")]);
        assert_eq!(stdout.lines().count(), 6, "{stdout}");
    }

    // The script refuses a plain safetensors file like the library does.
    let plain = folder.path().join("plain.safetensors");
    let bytes = safetensors::serialize(
        Vec::<(String, safetensors::tensor::TensorView<'_>)>::new(),
        None,
    )
    .unwrap();
    std::fs::write(&plain, bytes).unwrap();
    let output = Command::new("python3")
        .arg(script())
        .arg(&plain)
        .arg("--self-test")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a backprop model"));
}
