//! Shared by the tests of the commands that use a model (`evaluate`, `predict`, `inspect`,
//! `gradcheck MODEL`): small CSV fixtures written to a temporary folder, models made by the
//! real `backprop train --out`, and a way to run the binary.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The class names of the classification fixture, in sorted order.
pub const SPECIES: [&str; 3] = ["setosa", "versicolor", "virginica"];

/// Runs `backprop` with these arguments.
pub fn backprop(arguments: &[&str]) -> Output {
    backprop_with_stdin(arguments, None)
}

/// Runs `backprop`, feeding `input` on standard input.
pub fn backprop_with_stdin(arguments: &[&str], input: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(arguments)
        .env("NO_COLOR", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the backprop binary runs");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(input).expect("stdin takes the input");
    }
    child.wait_with_output().expect("the binary finishes")
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts success and returns stdout.
pub fn success(arguments: &[&str], output: &Output) -> String {
    assert!(
        output.status.success(),
        "{arguments:?} failed ({:?}): {}",
        output.status,
        stderr(output)
    );
    stdout(output)
}

/// A tiny deterministic generator (a 64-bit LCG), so fixtures need no RNG crate.
pub struct Lcg(u64);

impl Lcg {
    /// A uniform draw in [0, 1).
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One row of the classification fixture: (a, b, colour, species).
pub fn iris_rows(count: usize) -> Vec<(String, String, &'static str, &'static str)> {
    let mut random = Lcg(7);
    (0..count)
        .map(|row| {
            let class = row % 3;
            let a = class as f64 * 2.0 + random.next() - 0.5;
            let b = -(class as f64) + random.next() - 0.5;
            let colour = if random.next() < 0.5 { "red" } else { "blue" };
            (format!("{a:.3}"), format!("{b:.3}"), colour, SPECIES[class])
        })
        .collect()
}

/// Writes the classification fixture (`a,b,colour,species`, 90 rows) and returns its path.
pub fn write_iris(folder: &Path) -> PathBuf {
    let mut text = String::from("a,b,colour,species\n");
    for (a, b, colour, species) in iris_rows(90) {
        text.push_str(&format!("{a},{b},{colour},{species}\n"));
    }
    let path = folder.join("iris.csv");
    std::fs::write(&path, text).expect("the fixture is written");
    path
}

/// Writes the regression fixture (`x1,x2,y` with y = 3·x1 − x2 + 0.1, 60 rows).
pub fn write_regression(folder: &Path) -> PathBuf {
    let mut random = Lcg(11);
    let mut text = String::from("x1,x2,y\n");
    for _ in 0..60 {
        let (x1, x2) = (random.next(), random.next());
        text.push_str(&format!("{x1:.4},{x2:.4},{:.4}\n", 3.0 * x1 - x2 + 0.1));
    }
    let path = folder.join("regression.csv");
    std::fs::write(&path, text).expect("the fixture is written");
    path
}

/// Trains a model on `data` with the real binary and returns the model file's path.
pub fn train(folder: &Path, data: &Path, target: &str, name: &str) -> PathBuf {
    let out = folder.join(name);
    let arguments = [
        "train",
        "--data",
        data.to_str().unwrap(),
        "--target",
        target,
        "--epochs",
        "30",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    success(&arguments, &backprop(&arguments));
    assert!(out.is_file(), "train --out wrote no model");
    out
}

/// A folder with the classification fixture and a model trained on it.
pub fn iris_model() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let data = write_iris(folder.path());
    let model = train(folder.path(), &data, "species", "model.safetensors");
    (folder, data, model)
}

/// A valid safetensors file with one tensor and no backprop metadata.
pub fn plain_safetensors() -> Vec<u8> {
    let header = br#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&1.0f32.to_le_bytes());
    bytes
}

/// The files in a folder, sorted.
pub fn files_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("the folder lists")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}
