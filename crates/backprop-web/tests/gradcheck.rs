//! `GET /api/sessions/{id}/gradcheck?layer=L&neuron=J`: backprop against centred finite
//! differences for one neuron's incoming weights and bias on the next batch, in f64; it leaves
//! the session as it was and names the field of a bad query.

mod common;

use backprop_web::Limits;
use common::{create, get, post};

#[test]
fn a_neuron_passes_the_gradient_check_on_the_next_batch() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, _) = create(
        address,
        r#"{"hidden": [5, 3], "activation": "tanh", "regularization": "l1", "regularization_rate": 0.01, "seed": 6}"#,
    );
    let path = format!("/api/sessions/{id}");
    post(address, &format!("{path}/step"), r#"{"batches": 30}"#);
    let before = get(address, &path).json();
    let check = get(address, &format!("{path}/gradcheck?layer=2&neuron=1")).json();
    let lens = get(address, &format!("{path}/trace?batch=next")).json();
    assert_eq!(check["examples"], lens["examples"], "the next batch");
    let rows = check["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "5 weights and the bias");
    assert_eq!(rows[2]["input"], 2);
    assert!(rows[5].get("input").is_none());
    for (k, row) in rows.iter().enumerate() {
        let error = row["relative_error"].as_f64().unwrap();
        assert!(error < 1e-4, "row {k}: {row}");
        // The f64 gradient and the lens's f32 one agree to f32 precision.
        let lens_gradient = if k < 5 {
            lens["layers"][1]["weight_gradients"][1][k]
                .as_f64()
                .unwrap()
        } else {
            lens["layers"][1]["bias_gradients"][1].as_f64().unwrap()
        };
        let backprop = row["backprop"].as_f64().unwrap();
        assert!(
            (backprop - lens_gradient).abs() <= 1e-4 * backprop.abs() + 1e-6,
            "row {k}: {backprop} vs {lens_gradient}"
        );
    }
    assert!(check["max_relative_error"].as_f64().unwrap() < 1e-4);
    assert_eq!(
        get(address, &path).json()["step"],
        before["step"],
        "nothing changed"
    );
    for (query, field) in [
        ("layer=4&neuron=0", "layer:"),
        ("layer=1&neuron=5", "neuron:"),
        ("layer=1", "neuron:"),
        ("neuron=1", "layer:"),
        ("layer=x&neuron=1", "layer:"),
        ("layer=1&neuron=0&batch=2", "batch:"),
    ] {
        let message = get(address, &format!("{path}/gradcheck?{query}")).error(400);
        assert!(message.starts_with(field), "{query}: {message}");
    }
}
