//! Editing by hand: `POST …/parameter` sets one weight or bias and the state, losses and lens
//! follow it; a point typed in is traced like an example; the `xor-table` set is the truth table
//! in both parts; a ReLU neuron with z ≤ 0 on every training row is reported dead.

mod common;

use backprop_web::Limits;
use common::{create, get, post};
use serde_json::{json, Value};

fn parameter(address: std::net::SocketAddr, path: &str, body: Value) -> common::Reply {
    post(address, &format!("{path}/parameter"), &body.to_string())
}

#[test]
fn a_weight_and_a_bias_set_by_hand_change_the_network_and_nothing_else() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, first) = create(
        address,
        r#"{"hidden": [3], "activation": "relu", "seed": 2}"#,
    );
    let path = format!("/api/sessions/{id}");
    post(address, &format!("{path}/step"), r#"{"batches": 3}"#);
    let before = get(address, &path).json();
    let lens_before = get(address, &format!("{path}/trace?example=5")).json();

    let reply = parameter(
        address,
        &path,
        json!({"layer": 1, "neuron": 2, "input": 1, "value": 0.75}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let after = reply.json();
    assert_eq!(after["layers"][0]["weights"][2][1], 0.75);
    // Every other parameter, the counters and the running flag are as they were.
    let mut expected = before["layers"].clone();
    expected[0]["weights"][2][1] = json!(0.75);
    assert_eq!(after["layers"], expected);
    assert_eq!(
        (&after["step"], &after["epoch"]),
        (&before["step"], &before["epoch"])
    );
    assert_ne!(
        after["train_loss"], before["train_loss"],
        "losses follow the new weight"
    );
    assert_eq!(
        get(address, &path).json()["layers"],
        expected,
        "GET shows it too"
    );
    // The lens reads the edited network: neuron 2's z moved by Δw · x₂ of the example.
    let data = get(address, &format!("{path}/data")).json();
    let x2 = data["train"][5][1].as_f64().unwrap();
    let lens = get(address, &format!("{path}/trace?example=5")).json();
    let old_w = before["layers"][0]["weights"][2][1].as_f64().unwrap();
    let dz = lens["layers"][0]["z"][2].as_f64().unwrap()
        - lens_before["layers"][0]["z"][2].as_f64().unwrap();
    assert!((dz - (0.75 - old_w) * x2).abs() < 1e-4, "z moved by {dz}");

    let bias = parameter(
        address,
        &path,
        json!({"layer": 2, "neuron": 0, "value": -1.5}),
    );
    assert_eq!(bias.status, 200, "{}", bias.text());
    assert_eq!(bias.json()["layers"][1]["biases"][0], -1.5);
    assert_ne!(first["layers"], bias.json()["layers"]);
}

#[test]
fn parameter_requests_are_checked_field_by_field() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, _) = create(address, r#"{"hidden": [3]}"#);
    let path = format!("/api/sessions/{id}");
    for (body, field) in [
        (json!({"layer": 0, "neuron": 0, "value": 1}), "layer:"),
        (json!({"layer": 3, "neuron": 0, "value": 1}), "layer:"),
        (json!({"layer": 1, "neuron": 3, "value": 1}), "neuron:"),
        (
            json!({"layer": 2, "neuron": 0, "input": 3, "value": 1}),
            "input:",
        ),
        (json!({"layer": 1, "neuron": 0, "value": 1e9}), "value:"),
        (json!({"layer": 1, "neuron": 0, "value": "1"}), "value:"),
        (json!({"layer": 1, "neuron": -1, "value": 1}), "neuron:"),
        (json!({"layer": 1, "neuron": 0}), "value"),
        (
            json!({"layer": 1, "neuron": 0, "value": 1, "weight": 2}),
            "weight",
        ),
    ] {
        let message = parameter(address, &path, body.clone()).error(400);
        assert!(message.contains(field), "{body}: {message}");
    }
    let message = post(
        address,
        "/api/sessions/s-0000/parameter",
        r#"{"layer":1,"neuron":0,"value":1}"#,
    )
    .error(404);
    assert!(message.contains("s-0000"), "{message}");
    // Nothing was changed by the refused requests.
    let state = get(address, &path).json();
    let (_, fresh) = create(address, r#"{"hidden": [3]}"#);
    assert_eq!(state["layers"], fresh["layers"]);
}

#[test]
fn a_point_typed_in_is_traced_like_an_example() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, _) = create(
        address,
        r#"{"hidden": [4, 2], "activation": "sigmoid", "seed": 3}"#,
    );
    let path = format!("/api/sessions/{id}");
    let data = get(address, &format!("{path}/data")).json();
    let [x1, x2, y] = [0, 1, 2].map(|i| data["train"][9][i].as_f64().unwrap());
    let example = get(address, &format!("{path}/trace?example=9")).json();
    let typed = get(address, &format!("{path}/trace?point={x1},{x2}&target={y}")).json();
    assert_eq!(typed["examples"], json!([]));
    assert_eq!(typed["point"], json!([x1, x2, y]));
    assert_eq!(
        typed["layers"], example["layers"],
        "the same numbers as the row itself"
    );
    assert_eq!(typed["cost"], example["cost"]);
    // σ′(z) as used: sigmoid's a(1 − a), and BP2's δ = ((w)ᵀδ) ⊙ σ′(z).
    let state = get(address, &path).json();
    let hidden = &typed["layers"][1];
    let next = &typed["layers"][2];
    for j in 0..2 {
        let a = hidden["a"][j].as_f64().unwrap();
        let derivative = hidden["derivative"][j].as_f64().unwrap();
        assert!(
            (derivative - a * (1.0 - a)).abs() < 1e-6,
            "σ′ {derivative} for a {a}"
        );
        let back: f64 = (0..1)
            .map(|k| {
                state["layers"][2]["weights"][k][j].as_f64().unwrap()
                    * next["delta"][k].as_f64().unwrap()
            })
            .sum();
        let delta = hidden["delta"][j].as_f64().unwrap();
        assert!(
            (delta - back * derivative).abs() <= 1e-6 + 1e-4 * delta.abs(),
            "δ {delta} vs {back} × {derivative}"
        );
    }
    for (query, field) in [
        ("point=1,2&target=2", "target:"),
        ("point=1e9,0&target=1", "point:"),
        ("point=1&target=1", "point:"),
    ] {
        let message = get(address, &format!("{path}/trace?{query}")).error(400);
        assert!(message.starts_with(field), "{query}: {message}");
    }
}

#[test]
fn the_xor_table_and_dead_relus() {
    let server = common::server(Limits::default());
    let address = server.address;
    let message = post(address, "/api/sessions", r#"{"dataset": "xor-table"}"#).error(400);
    assert!(
        message.starts_with("batch_size:") && message.contains("4 training rows"),
        "{message}"
    );
    let (id, state) = create(
        address,
        r#"{"dataset": "xor-table", "batch_size": 4, "hidden": [3], "activation": "relu"}"#,
    );
    assert_eq!(state["heatmap"]["extent"], 1.5);
    let path = format!("/api/sessions/{id}");
    let data = get(address, &format!("{path}/data")).json();
    let table = json!([
        [0.0, 0.0, 0.0],
        [0.0, 1.0, 1.0],
        [1.0, 0.0, 1.0],
        [1.0, 1.0, 0.0]
    ]);
    assert_eq!(data["train"], table);
    assert_eq!(data["test"], table);
    // Manager 2 (neuron 1) silenced: zero weights and a negative bias make z = −1 for every row.
    for input in [0, 1] {
        parameter(
            address,
            &path,
            json!({"layer": 1, "neuron": 1, "input": input, "value": 0}),
        );
    }
    let dead = parameter(
        address,
        &path,
        json!({"layer": 1, "neuron": 1, "value": -1}),
    )
    .json();
    assert!(
        dead["dead"][0].as_array().unwrap().contains(&json!(1)),
        "{}",
        dead["dead"]
    );
    let lens = get(address, &format!("{path}/trace?batch=next")).json();
    assert_eq!(
        lens["layers"][0]["delta"][1], 0.0,
        "no error flows back through it"
    );
    assert_eq!(lens["layers"][0]["derivative"][1], 0.0);
    assert_eq!(lens["layers"][0]["weight_gradients"][1], json!([0.0, 0.0]));
    // A positive bias revives it.
    let alive = parameter(address, &path, json!({"layer": 1, "neuron": 1, "value": 1})).json();
    assert!(!alive["dead"][0].as_array().unwrap().contains(&json!(1)));
}
