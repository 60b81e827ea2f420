//! `PATCH /api/sessions/{id}` changes settings without a new network: weights, epoch and step
//! stay, the new setting acts from the next step, structural fields are a 409 naming the field,
//! and `reset` (replay) keeps the PATCHed settings while restoring the first weights bit for bit.

mod common;

use backprop_web::Limits;
use common::{create, get, post, request};
use serde_json::{json, Value};

fn patch(address: std::net::SocketAddr, path: &str, body: &str) -> common::Reply {
    request(
        address,
        "PATCH",
        path,
        Some("application/json"),
        body.as_bytes(),
    )
}

/// The SGD update the lens reports for weight [0][0][0] divided by its gradient: −η.
fn rate_of(lens: &Value) -> f64 {
    let update = lens["layers"][0]["weight_updates"][0][0].as_f64().unwrap();
    let gradient = lens["layers"][0]["weight_gradients"][0][0]
        .as_f64()
        .unwrap();
    -update / gradient
}

#[test]
fn a_learning_rate_change_keeps_the_network_and_acts_at_once() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, first) = create(address, r#"{"seed": 3}"#);
    let path = format!("/api/sessions/{id}");
    post(address, &format!("{path}/step"), r#"{"batches": 40}"#);
    let before = get(address, &path).json();
    assert!(
        (rate_of(&get(address, &format!("{path}/trace?example=2")).json()) - 0.03).abs() < 1e-4
    );

    let reply = patch(address, &path, r#"{"learning_rate": 0.3}"#);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let after = reply.json();
    for field in ["epoch", "step", "layers", "history", "train_loss"] {
        assert_eq!(after[field], before[field], "{field} kept");
    }
    let lens = get(address, &format!("{path}/trace?example=2")).json();
    assert!(
        (rate_of(&lens) - 0.3).abs() < 1e-3,
        "the step now uses 0.3: {}",
        rate_of(&lens)
    );
    let stepped = post(address, &format!("{path}/step"), r#"{"batches": 1}"#).json();
    assert_eq!(stepped["step"], before["step"].as_u64().unwrap() + 1);

    // Replay: reset without a seed restores the first weights bit for bit, the new rate kept.
    let replay = post(address, &format!("{path}/reset"), "").json();
    assert_eq!(replay["layers"], first["layers"]);
    assert_eq!(
        (replay["epoch"].as_u64(), replay["step"].as_u64()),
        (Some(0), Some(0))
    );
    let lens = get(address, &format!("{path}/trace?example=2")).json();
    assert!(
        (rate_of(&lens) - 0.3).abs() < 1e-3,
        "replay keeps 0.3: {}",
        rate_of(&lens)
    );
}

#[test]
fn noise_and_share_make_new_data_from_the_same_seed_and_keep_the_weights() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, _) = create(address, r#"{"dataset": "spiral", "seed": 5}"#);
    let path = format!("/api/sessions/{id}");
    post(address, &format!("{path}/step"), r#"{"batches": 7}"#);
    let before = get(address, &path).json();
    let data = get(address, &format!("{path}/data")).json();
    let after = patch(address, &path, r#"{"noise": 0.2, "train_share": 0.7}"#).json();
    assert_eq!(after["layers"], before["layers"]);
    assert_eq!(after["step"], before["step"]);
    let new_data = get(address, &format!("{path}/data")).json();
    assert_ne!(new_data["train"], data["train"]);
    assert_eq!(new_data["train"].as_array().unwrap().len(), 350);
    // The same as a new session made with those settings from the start.
    let (other, _) = create(
        address,
        r#"{"dataset": "spiral", "seed": 5, "noise": 0.2, "train_share": 0.7}"#,
    );
    assert_eq!(
        get(address, &format!("/api/sessions/{other}/data")).json(),
        new_data
    );
    // Training goes on, on the new rows.
    let stepped = post(address, &format!("{path}/step"), r#"{"epochs": 1}"#).json();
    assert!(stepped["epoch"].as_u64().unwrap() >= 1);
}

#[test]
fn structural_changes_are_conflicts_and_bad_values_are_refused() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, first) = create(address, "{}");
    let path = format!("/api/sessions/{id}");
    for (body, field) in [
        (json!({"hidden": [3]}), "hidden:"),
        (json!({"activation": "relu"}), "activation:"),
        (json!({"features": ["x1"]}), "features:"),
        (json!({"dataset": "xor"}), "dataset:"),
        (json!({"seed": 9}), "seed:"),
        (json!({"learning_rate": 0.1, "hidden": [2]}), "hidden:"),
    ] {
        let message = patch(address, &path, &body.to_string()).error(409);
        assert!(message.starts_with(field), "{body}: {message}");
    }
    for (body, field) in [
        (json!({"learning_rate": -1}), "learning_rate:"),
        (json!({"optimizer": "lbfgs"}), "optimizer:"),
        (json!({"batch_size": 400}), "batch_size:"),
        (json!({"noise": 0.9}), "noise:"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let message = patch(address, &path, &body.to_string()).error(400);
        assert!(message.contains(field), "{body}: {message}");
    }
    // The unchanged structural values are accepted with the rest.
    let same = patch(address, &path, r#"{"hidden": [4, 2], "optimizer": "adam"}"#);
    assert_eq!(same.status, 200, "{}", same.text());
    assert_eq!(same.json()["layers"], first["layers"]);
    patch(address, "/api/sessions/s-0000000000000000", "{}").error(404);
}
