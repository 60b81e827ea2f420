//! Helpers shared by the `train_*` integration tests: running the binary in a scratch folder,
//! writing fixtures, and reading a saved model's metadata.

#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `backprop` in `folder` (so a default `model.safetensors` lands there) with `NO_COLOR`.
pub fn backprop_in(folder: &Path, arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(arguments)
        .current_dir(folder)
        .env("NO_COLOR", "1")
        .output()
        .expect("the backprop binary runs")
}

/// Runs the binary in `folder`, asserting exit code 2 (a usage error); returns stderr.
pub fn usage_error(folder: &Path, arguments: &[&str]) -> String {
    let output = backprop_in(folder, arguments);
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{arguments:?}: {errors}");
    errors
}

/// Stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `backprop train --json -q ARGUMENTS` in `folder`, checks success, and returns the JSON
/// object and stderr.
pub fn train_json(folder: &Path, arguments: &[&str]) -> (Value, String) {
    let mut all = vec!["train", "--json", "-q"];
    all.extend_from_slice(arguments);
    let output = backprop_in(folder, &all);
    let errors = stderr(&output);
    assert!(output.status.success(), "{all:?} failed: {errors}");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    (value, errors)
}

/// Writes `text` to `folder/name` and returns the path as a string.
pub fn write_file(folder: &Path, name: &str, text: &str) -> String {
    let path = folder.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The `backprop` metadata of a saved model, as JSON, after loading it with the library (which
/// checks it).
pub fn model_metadata(path: &Path) -> Value {
    let model = backprop::model::Model::load(path).expect("the saved model loads");
    serde_json::to_value(&model.metadata).unwrap()
}

/// A scratch folder that is removed at the end of the test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// A CSV of `rows` fruit: numeric `size` and `weight`, a string `colour` and the string class
/// `kind` (pear when size + weight is large, with colour as a hint). Deterministic.
pub fn fruit_csv(rows: usize) -> String {
    let mut text = String::from("size,colour,weight,kind\n");
    for row in 0..rows {
        let size = (row * 37 % 100) as f64 / 10.0;
        let weight = (row * 53 % 100) as f64 / 20.0;
        let colour = ["red", "green", "blue"][row % 3];
        let kind = if size + weight > 7.5 { "pear" } else { "apple" };
        text.push_str(&format!("{size},{colour},{weight},{kind}\n"));
    }
    text
}

/// Runs `backprop` in `folder`, asserting success; returns stdout and stderr.
pub fn succeed(folder: &Path, arguments: &[&str]) -> (String, String) {
    let output = backprop_in(folder, arguments);
    let errors = stderr(&output);
    assert!(output.status.success(), "{arguments:?} failed: {errors}");
    (String::from_utf8(output.stdout).unwrap(), errors)
}

/// Every parameter of a saved model, in order.
pub fn model_values(path: &Path) -> Vec<f32> {
    let model = backprop::model::Model::load(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    model
        .network
        .parameters()
        .into_iter()
        .flat_map(|(_, m)| m.as_slice().to_vec())
        .collect()
}

/// One HTTP/1.1 request to 127.0.0.1:`port` on its own connection: the status and the body.
pub fn http_request(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = reply
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}
