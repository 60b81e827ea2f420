//! `backprop serve --model MODEL`, the prediction server, through the real binary: 64 clients
//! at once, each answer equal to `backprop predict` on the same rows; `records` by column name,
//! string columns and missing cells filled as the model stores them; `GET /v1/model` and
//! `/healthz`; bad bodies, wrong types, too many rows, unknown columns (400) and a body over
//! the limit (413); SIGTERM ends it with exit 143.

mod train_support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use train_support::{backprop_in, http_request as request, scratch, stderr, write_file};

fn ok(folder: &Path, arguments: &[&str]) -> String {
    train_support::succeed(folder, arguments).0
}

/// Starts the server on a free port; returns the child and the port.
fn start(folder: &Path, arguments: &[&str]) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .arg("serve")
        .args(arguments)
        .args(["--port", "0"])
        .current_dir(folder)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    lines.read_line(&mut line).unwrap();
    let port = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, port)
}

fn post(port: u16, body: &Value) -> (u16, Value) {
    let (status, text) = request(port, "POST", "/v1/predict", &body.to_string());
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn stop(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait().unwrap().code(), Some(143));
}

/// `backprop predict`'s CSV for `rows` under `header`: (class or value, probabilities).
fn predicted(folder: &Path, model: &str, header: &str, rows: &[String]) -> Vec<(String, Vec<f64>)> {
    let input = write_file(
        folder,
        "rows.csv",
        &format!("{header}\n{}\n", rows.join("\n")),
    );
    let text = ok(folder, &["predict", "--model", model, "--input", &input]);
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let numbers = cells[2..].iter().map(|v| v.parse().unwrap()).collect();
            (cells[1].to_string(), numbers)
        })
        .collect()
}

#[test]
fn many_clients_get_what_predict_gives() {
    let folder = scratch();
    let dir = folder.path();
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            "moons",
            "--epochs",
            "20",
            "--out",
            "moons.safetensors",
        ],
    );
    let points: Vec<(f64, f64)> = (0..64)
        .map(|i| (-1.5 + 0.05 * i as f64, 1.0 - 0.03 * i as f64))
        .collect();
    let rows: Vec<String> = points.iter().map(|(x, y)| format!("{x},{y}")).collect();
    let expected = predicted(dir, "moons.safetensors", "x1,x2", &rows);
    let (child, port) = start(dir, &["--model", "moons.safetensors"]);
    let (status, health) = request(port, "GET", "/healthz", "");
    assert_eq!((status, health.as_str()), (200, "ok"));
    let (status, description) = request(port, "GET", "/v1/model", "");
    assert_eq!(status, 200);
    let description: Value = serde_json::from_str(&description).unwrap();
    assert_eq!(description["columns"][1]["name"], "x2");
    assert_eq!(description["classes"], json!(["0", "1"]));
    // 64 clients at once, each with its own few rows.
    let clients: Vec<_> = (0..64)
        .map(|client| {
            let points = points.clone();
            std::thread::spawn(move || {
                let mine: Vec<usize> = (0..4).map(|k| (client + 16 * k) % 64).collect();
                let body = json!({ "rows": mine.iter().map(|&i| [points[i].0, points[i].1]).collect::<Vec<_>>() });
                let (status, answer) = post(port, &body);
                assert_eq!(status, 200, "{answer}");
                (mine, answer)
            })
        })
        .collect();
    for client in clients {
        let (mine, answer) = client.join().unwrap();
        for (k, &i) in mine.iter().enumerate() {
            assert_eq!(answer["predictions"][k], expected[i].0.as_str(), "row {i}");
            for (class, p) in expected[i].1.iter().enumerate() {
                let q = answer["probabilities"][k][class].as_f64().unwrap();
                assert!((p - q).abs() <= 1e-6, "row {i}: predict {p}, server {q}");
            }
        }
    }
    // Bad requests: 400 naming what is wrong; a body past the limit: 413.
    let bad = [
        (
            json!({"rows": [[0.5, "x"]]}),
            "row 0, column \"x2\": expected a finite number",
        ),
        (
            json!({"rows": [[0.5]]}),
            "row 0: 1 value(s), but the model reads 2 column(s)",
        ),
        (
            json!({"records": [{"x1": 1, "wingspan": 2}]}),
            "unknown column \"wingspan\"",
        ),
        (
            json!({"records": [{"x1": 1}]}),
            "record 0, column \"x2\": missing value",
        ),
        (json!({"lines": []}), "expected \"rows\""),
        (json!([1, 2]), "expected an object"),
    ];
    for (body, expected) in bad {
        let (status, answer) = post(port, &body);
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(expected),
            "{body}: {answer}"
        );
    }
    let (status, answer) = request(port, "POST", "/v1/predict", "{not json");
    assert_eq!(status, 400, "{answer}");
    stop(child);
    // Limits from flags.
    let (child, port) = start(
        dir,
        &[
            "--model",
            "moons.safetensors",
            "--max-rows",
            "3",
            "--max-body-bytes",
            "200",
        ],
    );
    let (status, answer) = post(port, &json!({"rows": [[0, 0], [0, 1], [1, 0], [1, 1]]}));
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("at most 3"),
        "{answer}"
    );
    let long: Vec<[f64; 2]> = (0..3)
        .map(|i| [i as f64 * 0.123456789, 0.987654321])
        .collect();
    let mut body = json!({ "rows": long }).to_string();
    body.push_str(&" ".repeat(200));
    let (status, _) = request(port, "POST", "/v1/predict", &body);
    assert_eq!(status, 413);
    stop(child);
}

#[test]
fn records_with_string_columns_and_missing_cells() {
    let folder = scratch();
    let dir = folder.path();
    let mut csv = String::from("size,colour,weight,kind\n");
    for row in 0..90usize {
        let size = (row * 37 % 100) as f64 / 10.0;
        let weight = if row % 11 == 0 {
            "NA".to_string()
        } else {
            format!("{}", (row * 53 % 100) as f64 / 20.0)
        };
        let colour = ["red", "green", "blue"][row % 3];
        let kind = if size > 5.0 { "pear" } else { "apple" };
        csv.push_str(&format!("{size},{colour},{weight},{kind}\n"));
    }
    let data = write_file(dir, "fruit.csv", &csv);
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            &data,
            "--missing",
            "mean",
            "--epochs",
            "5",
            "--out",
            "fruit.safetensors",
        ],
    );
    let rows = [
        "7.5,green,NA".to_string(),
        "1.0,red,3.5".to_string(),
        "4.0,purple,1.0".to_string(),
    ];
    let expected = predicted(dir, "fruit.safetensors", "size,colour,weight", &rows);
    let (child, port) = start(dir, &["--model", "fruit.safetensors"]);
    let body = json!({"records": [
        {"size": 7.5, "colour": "green", "weight": null},
        {"colour": "red", "weight": 3.5, "size": 1.0},
        {"size": 4.0, "colour": "purple", "weight": 1.0},
    ]});
    let (status, answer) = post(port, &body);
    assert_eq!(status, 200, "{answer}");
    for (k, (class, probabilities)) in expected.iter().enumerate() {
        assert_eq!(answer["predictions"][k], class.as_str());
        for (j, p) in probabilities.iter().enumerate() {
            let q = answer["probabilities"][k][j].as_f64().unwrap();
            assert!((p - q).abs() <= 1e-6, "row {k}: predict {p}, server {q}");
        }
    }
    let warnings = answer["warnings"].to_string();
    assert!(
        warnings.contains("\\\"weight\\\": 1 missing cell(s) filled"),
        "{warnings}"
    );
    assert!(
        warnings.contains("\\\"colour\\\": 1 cell(s) hold categories not seen"),
        "{warnings}"
    );
    // The same rows as arrays in the model's column order.
    let (status, same) = post(
        port,
        &json!({"rows": [[7.5, "green", null], [1.0, "red", 3.5], [4.0, "purple", 1.0]]}),
    );
    assert_eq!(status, 200);
    assert_eq!(same["probabilities"], answer["probabilities"]);
    stop(child);
}

#[test]
fn without_a_model_file_serve_refuses_clearly() {
    let folder = scratch();
    let output = backprop_in(
        folder.path(),
        &["serve", "--model", "absent.safetensors", "--port", "0"],
    );
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("absent.safetensors"),
        "{}",
        stderr(&output)
    );
}
