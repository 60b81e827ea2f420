//! Many sessions at once: 20 playing and streaming together without an error, the session cap,
//! `DELETE` freeing a slot, and the reaper freeing sessions nobody uses.

mod common;

use backprop_web::Limits;
use common::{create, delete, get, post, Events};
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn twenty_sessions_play_stream_step_trace_and_go() {
    let server = common::server(Limits {
        max_sessions: 20,
        ..Limits::default()
    });
    let address = server.address;
    let datasets = [
        "circle",
        "xor",
        "gaussian",
        "spiral",
        "moons",
        "plane",
        "multi-gaussian",
    ];
    let ids: Vec<String> = (0..20)
        .map(|i| {
            let config = serde_json::json!({
                "dataset": datasets[i % datasets.len()],
                "hidden": [8, 8, 8, 8, 8, 8],
                "features": ["x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2"],
                "seed": i,
            });
            create(address, &config.to_string()).0
        })
        .collect();
    // The cap: one more is refused, with JSON.
    let message = post(address, "/api/sessions", "{}").error(503);
    assert!(message.contains("20 sessions"), "{message}");

    let workers: Vec<_> = ids
        .iter()
        .cloned()
        .map(|id| {
            thread::spawn(move || {
                let path = format!("/api/sessions/{id}");
                let mut events = Events::open(address, &format!("{path}/events"));
                let first = events.next_state();
                assert_eq!(first["id"], id.as_str());
                let play = post(address, &format!("{path}/play"), "");
                assert_eq!(play.status, 200, "{}", play.text());
                assert_eq!(play.json()["running"], true);
                let mut steps = Vec::new();
                for _ in 0..10 {
                    let state = events.next_state();
                    assert_eq!(state["layers"].as_array().unwrap().len(), 7);
                    assert_eq!(state["heatmap"]["neurons"].as_array().unwrap().len(), 6);
                    steps.push(state["step"].as_u64().unwrap());
                }
                assert!(steps.windows(2).all(|w| w[0] <= w[1]), "{steps:?}");
                assert!(steps.last() > steps.first(), "{steps:?}");
                let paused = post(address, &format!("{path}/pause"), "");
                assert_eq!(paused.status, 200);
                assert_eq!(paused.json()["running"], false);
                // Nothing trains after the pause reply: three steps later it is 3 steps on.
                let paused_at = paused.json()["step"].as_u64().unwrap();
                let stepped = post(address, &format!("{path}/step"), r#"{"batches": 3}"#);
                assert_eq!(stepped.status, 200, "{}", stepped.text());
                assert_eq!(stepped.json()["step"], paused_at + 3);
                let trace = get(address, &format!("{path}/trace?batch=next"));
                assert_eq!(trace.status, 200, "{}", trace.text());
                assert_eq!(trace.json()["layers"].as_array().unwrap().len(), 7);
                let data = get(address, &format!("{path}/data")).json();
                assert!(data["train"].as_array().unwrap().len() > 100);
                let reset = post(address, &format!("{path}/reset"), r#"{"seed": 5}"#);
                assert_eq!(reset.json()["step"], 0);
                assert_eq!(delete(address, &path).status, 204);
                get(address, &path).error(404);
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a session's client failed");
    }
    // Every slot is free again.
    let again: Vec<String> = (0..20).map(|_| create(address, "{}").0).collect();
    post(address, "/api/sessions", "{}").error(503);
    assert_eq!(
        delete(address, &format!("/api/sessions/{}", again[3])).status,
        204
    );
    create(address, "{}");
}

#[test]
fn the_stream_sends_each_change_while_paused() {
    let server = common::server(Limits::default());
    let address = server.address;
    let (id, _) = create(address, "{}");
    let path = format!("/api/sessions/{id}");
    let mut events = Events::open(address, &format!("{path}/events"));
    assert_eq!(events.next_state()["step"], 0);
    post(address, &format!("{path}/step"), r#"{"batches": 2}"#);
    assert_eq!(events.next_state()["step"], 2);
    post(address, &format!("{path}/step"), r#"{"epochs": 1}"#);
    let state = events.next_state();
    assert_eq!(
        (state["step"].as_u64(), state["epoch"].as_u64()),
        (Some(25), Some(1))
    );
    post(address, &format!("{path}/reset"), "");
    assert_eq!(events.next_state()["step"], 0);
}

#[test]
fn idle_sessions_are_freed_but_streamed_ones_stay() {
    let server = common::server(Limits {
        idle_seconds: 1,
        ..Limits::default()
    });
    let address = server.address;
    let live = || {
        get(address, "/api/limits").json()["sessions_live"]
            .as_u64()
            .unwrap()
    };
    let wait_for = |count: u64| {
        let started = Instant::now();
        while live() != count {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "still {} live",
                live()
            );
            thread::sleep(Duration::from_millis(200));
        }
    };
    create(address, "{}");
    let (watched, _) = create(address, "{}");
    assert_eq!(live(), 2);
    let mut events = Events::open(address, &format!("/api/sessions/{watched}/events"));
    events.next_state();
    // The unwatched one goes after a second or so; the watched one stays while its stream is
    // open (seen again well after the idle time).
    wait_for(1);
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        get(address, &format!("/api/sessions/{watched}")).status,
        200
    );
    // A closed tab: the server notices at the next keep-alive comment, then the idle clock runs.
    drop(events);
    wait_for(0);
}
