//! More than two classes: `"classes": K` (3 to 5) for gaussian and spiral gives one softmax
//! unit per class with cross-entropy; the heat map carries the winning class and each unit's
//! map; the δ lens works per output unit; two classes stay as they were.

mod common;

use backprop_web::Limits;
use common::{create, get, post, request};
use serde_json::json;

#[test]
fn three_classes_make_a_softmax_network_traced_per_output_unit() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, state) = create(
        address,
        r#"{"dataset": "spiral", "classes": 3, "hidden": [5]}"#,
    );
    assert_eq!(state["classes"], 3);
    let output = &state["layers"][1];
    assert_eq!(output["activation"], "softmax");
    assert_eq!(output["biases"].as_array().unwrap().len(), 3);
    let heatmap = &state["heatmap"];
    let winner = heatmap["winner"].as_array().unwrap();
    assert_eq!(winner.len(), 2500);
    assert!(winner.iter().all(|class| class.as_u64().unwrap() < 3));
    let units = heatmap["output_units"].as_array().unwrap();
    assert_eq!(units.len(), 3);
    // The output map holds the winner's probability: the largest of the three.
    assert!(heatmap["output"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p.as_f64().unwrap() >= 1.0 / 3.0 - 1e-4));

    let path = format!("/api/sessions/{id}");
    let data = get(address, &format!("{path}/data")).json();
    let labels: Vec<u64> = data["train"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[2].as_f64().unwrap() as u64)
        .collect();
    for class in 0..3 {
        assert!(
            labels.iter().filter(|&&label| label == class).count() > 70,
            "class {class}"
        );
    }
    // BP1 with softmax and cross-entropy, fused: δ = a − y (one-hot y), per output unit.
    let lens = get(address, &format!("{path}/trace?example=4")).json();
    let last = &lens["layers"][1];
    assert_eq!(last["equation"], "BP1");
    assert_eq!(
        last["derivative"],
        json!([]),
        "softmax has no elementwise σ′"
    );
    for unit in 0..3 {
        let a = last["a"][unit].as_f64().unwrap();
        let y = if labels[4] == unit as u64 { 1.0 } else { 0.0 };
        let delta = last["delta"][unit].as_f64().unwrap();
        assert!(
            (delta - (a - y)).abs() < 1e-6,
            "unit {unit}: δ {delta}, a − y {}",
            a - y
        );
    }
    let typed = get(address, &format!("{path}/trace?point=1,2&target=2")).json();
    assert_eq!(typed["layers"][1]["delta"].as_array().unwrap().len(), 3);
    for target in ["1.5", "3", "-1"] {
        let message = get(address, &format!("{path}/trace?point=1,2&target={target}")).error(400);
        assert!(message.starts_with("target:"), "{target}: {message}");
    }
    let stepped = post(address, &format!("{path}/step"), r#"{"epochs": 2}"#).json();
    assert_eq!(stepped["epoch"], 2);
    let message = request(
        address,
        "PATCH",
        &path,
        Some("application/json"),
        br#"{"classes": 4}"#,
    )
    .error(409);
    assert!(message.starts_with("classes:"), "{message}");
}

#[test]
fn classes_are_checked_and_two_stay_as_before() {
    let server = common::server(Limits::default());
    let address = server.address;
    for (body, part) in [
        (
            r#"{"dataset": "circle", "classes": 3}"#,
            "gaussian and spiral",
        ),
        (r#"{"dataset": "spiral", "classes": 6}"#, "2..=5"),
        (r#"{"dataset": "gaussian", "classes": 1}"#, "2..=5"),
    ] {
        let message = post(address, "/api/sessions", body).error(400);
        assert!(
            message.starts_with("classes:") && message.contains(part),
            "{body}: {message}"
        );
    }
    let (_, two) = create(address, r#"{"dataset": "gaussian", "classes": 2}"#);
    let (_, default) = create(address, r#"{"dataset": "gaussian"}"#);
    assert_eq!(two["layers"], default["layers"]);
    assert_eq!(two["classes"], 2);
    assert!(two["heatmap"].get("winner").is_none());
    assert_eq!(two["layers"][2]["activation"], "sigmoid");
    let (_, five) = create(address, r#"{"dataset": "gaussian", "classes": 5}"#);
    assert_eq!(five["layers"][2]["biases"].as_array().unwrap().len(), 5);
}
