//! The prediction server as a library: `prediction::spawn` on a model built in memory answers
//! `POST /v1/predict` with the model's own `predict`, for a regressor with several targets.

use backprop::model::{Model, ModelMetadata};
use backprop::{Cost, Matrix, NetworkConfig, Task};
use backprop_web::prediction::{spawn, PredictionLimits, ServedModel};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

fn post(address: std::net::SocketAddr, body: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = reply.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap())
}

#[test]
fn a_spawned_server_answers_with_the_models_predictions() {
    let network = NetworkConfig::new(&[3, 5, 2], Cost::MeanSquaredError)
        .with_seed(4)
        .init()
        .unwrap();
    let metadata = ModelMetadata::describe(network.config(), Task::Regression);
    let model = Model::new(network, metadata).unwrap();
    let rows = [[0.5f32, -1.0, 2.0], [0.0, 0.25, -0.75]];
    let expected = model.predict(&Matrix::from_rows(&rows).unwrap()).unwrap();
    let served = ServedModel::new(model, "in memory").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = spawn(listener, served, PredictionLimits::default()).unwrap();
    let (status, answer) = post(server.address, &json!({ "rows": rows }).to_string());
    assert_eq!(status, 200, "{answer}");
    for row in 0..2 {
        for target in 0..2 {
            let value = answer["predictions"][row][target].as_f64().unwrap();
            assert_eq!(
                value as f32,
                expected[(row, target)],
                "row {row}, target {target}"
            );
        }
    }
    let (status, answer) = post(server.address, "{\"rows\": [[1, 2]]}");
    assert_eq!(status, 400);
    assert!(answer["error"]
        .as_str()
        .unwrap()
        .contains("row 0: 2 value(s)"));
    server.stop().unwrap();
}

#[test]
fn the_quick_numeric_path_reads_exactly_what_the_general_path_reads() {
    let network = NetworkConfig::new(&[3, 4, 2], Cost::MeanSquaredError)
        .with_seed(9)
        .init()
        .unwrap();
    let metadata = ModelMetadata::describe(network.config(), Task::Regression);
    let served = ServedModel::new(Model::new(network, metadata).unwrap(), "in memory").unwrap();
    assert_eq!(served.multiply_adds_per_row(), 3 * 4 + 4 * 2);

    let body = r#"{"rows": [[1, -2.5, 3e-2], [0, 0.1, 1e30]]}"#;
    let quick = served.encode_numeric_body(body.as_bytes(), 10).unwrap();
    let tree: Value = serde_json::from_str(body).unwrap();
    let Value::Array(rows) = &tree["rows"] else {
        unreachable!()
    };
    let general = served.encode(rows, false).unwrap();
    assert_eq!(quick.shape(), (2, 3));
    assert_eq!(quick.as_slice(), general.features.as_slice());

    // Everything else goes to the general path, which words the error or fills the cell.
    for other in [
        r#"{"rows": [[1, null, 3]]}"#,
        r#"{"rows": [[1, "2", 3]]}"#,
        r#"{"rows": [[1, 2]]}"#,
        r#"{"rows": [[1, 2, 1e39]]}"#,
        r#"{"rows": [[1, 2, 3]], "extra": 1}"#,
        r#"{"records": [{"a": 1}]}"#,
        r#"{"rows": [[1, 2, 3], [4, 5, 6]]}"#,
    ] {
        let max_rows = if other.contains("[4, 5, 6]") { 1 } else { 10 };
        assert!(
            served
                .encode_numeric_body(other.as_bytes(), max_rows)
                .is_none(),
            "{other}"
        );
    }
}
