//! The δ lens reports the library's numbers: its z, a, δ and gradients equal
//! `Network::trace` on the same weights and example, and its updates equal the change a real
//! step makes. Sessions are deterministic: the same configuration and seed give the same state.

mod common;

use backprop::{Activation, Cost, Network, NetworkConfig, Regularization};
use backprop_tensor::Matrix;
use backprop_web::features::{feature_matrix, Feature};
use backprop_web::Limits;
use common::{create, get, post};
use serde_json::Value;

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn matrix(value: &Value) -> Vec<Vec<f32>> {
    value.as_array().unwrap().iter().map(floats).collect()
}

/// A network with the state's weights (f32 JSON numbers read back exactly).
fn network_of(state: &Value, config: NetworkConfig) -> Network<f32> {
    let mut network = config.init::<f32>().unwrap();
    for (index, layer) in state["layers"].as_array().unwrap().iter().enumerate() {
        let weights = matrix(&layer["weights"]);
        let weight = network
            .parameter_mut(&format!("layers.{index}.weight"))
            .unwrap();
        *weight = Matrix::from_rows(&weights).unwrap();
        let bias = network
            .parameter_mut(&format!("layers.{index}.bias"))
            .unwrap();
        *bias = Matrix::row_vector(&floats(&layer["biases"]));
    }
    network
}

#[test]
fn the_lens_is_the_library_trace_and_its_updates_a_real_step() {
    let server = common::server(Limits::default());
    let address = server.address;
    let config = r#"{"dataset": "xor", "hidden": [5, 3], "activation": "relu",
        "features": ["x1", "x2", "x1_x2"], "optimizer": "adam", "learning_rate": 0.01,
        "regularization": "l2", "regularization_rate": 0.3, "batch_size": 7, "seed": 4}"#;
    let (id, _) = create(address, config);
    let path = format!("/api/sessions/{id}");
    // A few steps first, so that Adam has state and the weights have moved.
    post(address, &format!("{path}/step"), r#"{"batches": 5}"#);
    let state = get(address, &path).json();
    let data = get(address, &format!("{path}/data")).json();
    let train = data["train"].as_array().unwrap();
    let example = 17;
    let lens = get(address, &format!("{path}/trace?example={example}")).json();
    assert_eq!(lens["examples"], serde_json::json!([example]));

    let row = floats(&train[example]);
    let features = [Feature::X1, Feature::X2, Feature::X1X2];
    let x = feature_matrix(&[[row[0], row[1]]], &features);
    let y = Matrix::from_rows(&[[row[2]]]).unwrap();
    let training_rows = train.len();
    let network_config = NetworkConfig::new(&[3, 5, 3, 1], Cost::BinaryCrossEntropy)
        .with_hidden_activation(Activation::Relu)
        .with_regularization(Regularization::l2_nielsen(0.3, training_rows));
    let network = network_of(&state, network_config);
    let trace = network.trace(&x, &y);
    assert_eq!(lens["cost"].as_f64().unwrap(), trace.cost);
    assert_eq!(floats(&lens["input"]), x.as_slice());
    for (reported, expected) in lens["layers"].as_array().unwrap().iter().zip(&trace.layers) {
        let equation = if expected.layer == 3 { "BP1" } else { "BP2" };
        assert_eq!(reported["equation"], equation);
        assert_eq!(floats(&reported["z"]), expected.z.as_slice());
        assert_eq!(floats(&reported["a"]), expected.a.as_slice());
        assert_eq!(floats(&reported["delta"]), expected.delta.as_slice());
        let gradients = matrix(&reported["weight_gradients"]);
        let rows = expected.weight_gradient.rows();
        assert_eq!(gradients.len(), rows);
        for (j, gradient) in gradients.iter().enumerate() {
            assert_eq!(gradient.as_slice(), expected.weight_gradient.row(j));
        }
        assert_eq!(
            floats(&reported["bias_gradients"]),
            expected.bias_gradient.as_slice()
        );
    }

    // The batch lens's updates are the change the next step makes.
    let before = get(address, &path).json();
    let lens = get(address, &format!("{path}/trace?batch=next")).json();
    assert_eq!(lens["examples"].as_array().unwrap().len(), 7);
    let after = post(address, &format!("{path}/step"), r#"{"batches": 1}"#).json();
    let mut moved = 0;
    for ((reported, old), new) in lens["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(before["layers"].as_array().unwrap())
        .zip(after["layers"].as_array().unwrap())
    {
        let updates = matrix(&reported["weight_updates"]);
        let (old_w, new_w) = (matrix(&old["weights"]), matrix(&new["weights"]));
        for j in 0..updates.len() {
            for k in 0..updates[j].len() {
                assert_eq!(updates[j][k], new_w[j][k] - old_w[j][k], "w[{j}][{k}]");
                moved += usize::from(updates[j][k] != 0.0);
            }
        }
        let (old_b, new_b) = (floats(&old["biases"]), floats(&new["biases"]));
        for (j, update) in floats(&reported["bias_updates"]).iter().enumerate() {
            assert_eq!(*update, new_b[j] - old_b[j], "b[{j}]");
        }
        // For a batch, δ is the batch cost's ∂C/∂z: by BP3 it equals the bias gradient.
        assert_eq!(
            floats(&reported["delta"]),
            floats(&reported["bias_gradients"])
        );
    }
    assert!(moved > 10, "the step moved only {moved} weights");
    // Tracing changed nothing: the same trace twice.
    let again = get(address, &format!("{path}/trace?example={example}")).json();
    let twice = get(address, &format!("{path}/trace?example={example}")).json();
    assert_eq!(again, twice);
}

#[test]
fn the_same_configuration_and_seed_give_the_same_state() {
    let server = common::server(Limits::default());
    let address = server.address;
    let config = r#"{"dataset": "spiral", "noise": 0.2, "hidden": [6, 6],
        "optimizer": "momentum", "regularization": "l1", "regularization_rate": 0.001,
        "seed": 11}"#;
    let run = |config: &str| {
        let (id, _) = create(address, config);
        let path = format!("/api/sessions/{id}");
        post(address, &format!("{path}/step"), r#"{"epochs": 3}"#);
        let mut state = post(address, &format!("{path}/step"), r#"{"batches": 7}"#).json();
        state["id"] = Value::Null;
        state
    };
    let first = run(config);
    assert_eq!(first["step"], 3 * 25 + 7);
    assert_eq!(first, run(config));
    assert_ne!(first, run(&config.replace("11", "12")));
    // Reset with the creation seed starts the same run again.
    let (id, _) = create(address, config);
    let path = format!("/api/sessions/{id}");
    post(address, &format!("{path}/step"), r#"{"epochs": 2}"#);
    post(address, &format!("{path}/reset"), r#"{"seed": 11}"#);
    post(address, &format!("{path}/step"), r#"{"epochs": 3}"#);
    let mut state = post(address, &format!("{path}/step"), r#"{"batches": 7}"#).json();
    state["id"] = Value::Null;
    assert_eq!(first, state);
}
