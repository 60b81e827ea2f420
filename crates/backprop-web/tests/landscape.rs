//! `GET /api/sessions/{id}/landscape`: the cost over a plane through the current weights, along
//! the top two principal directions of the weight snapshots, with the optimiser's path on it;
//! random filter-normalised directions before there is a path; bounded grid.

mod common;

use backprop_web::Limits;
use common::{create, get, post};

#[test]
fn the_landscape_has_the_current_cost_at_its_centre_and_the_path_on_it() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, _) = create(address, r#"{"seed": 4}"#);
    let path = format!("/api/sessions/{id}");
    let fresh = get(address, &format!("{path}/landscape")).json();
    assert_eq!(fresh["directions"], "random", "one snapshot: no path yet");
    assert_eq!(fresh["resolution"], 21);
    assert_eq!(fresh["path"].as_array().unwrap().len(), 0);

    post(address, &format!("{path}/step"), r#"{"epochs": 30}"#);
    let state = get(address, &path).json();
    let land = get(address, &format!("{path}/landscape?resolution=11")).json();
    assert_eq!(land["directions"], "pca");
    assert_eq!(
        land["rows"], 250,
        "the default 250 training rows, all of them"
    );
    let loss: Vec<f64> = land["loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(loss.len(), 121);
    // The centre is the current weights: the training loss the state reports.
    let centre = loss[5 * 11 + 5];
    let train = state["train_loss"].as_f64().unwrap();
    assert!(
        (centre - train).abs() < 1e-5 * train.max(1.0),
        "{centre} vs {train}"
    );
    let points = land["path"].as_array().unwrap();
    assert_eq!(points.len(), 31, "epochs 0 to 30");
    assert_eq!(land["epochs"][0], 0);
    assert_eq!(land["epochs"][30], 30);
    // The last snapshot is the current weights: the origin of the plane.
    let last = &points[30];
    assert!(
        last[0].as_f64().unwrap().abs() < 1e-4 && last[1].as_f64().unwrap().abs() < 1e-4,
        "{last}"
    );
    // Every point of the path lies inside the plane drawn, and the start is higher than the end.
    let extent = land["extent"].as_f64().unwrap();
    assert!(points
        .iter()
        .all(|p| p[0].as_f64().unwrap().abs() <= extent && p[1].as_f64().unwrap().abs() <= extent));
    assert!(loss.iter().all(|v| v.is_finite()));
    assert!(
        loss.iter().any(|&v| v > centre),
        "the current weights are not the highest point"
    );
    for (query, field) in [
        ("resolution=2", "resolution:"),
        ("resolution=52", "resolution:"),
        ("resolution=x", "resolution:"),
        ("size=3", "resolution:"),
    ] {
        let message = get(address, &format!("{path}/landscape?{query}")).error(400);
        assert!(message.starts_with(field), "{query}: {message}");
    }
    assert_eq!(
        get(address, &path).json()["step"],
        state["step"],
        "nothing changed"
    );
}
