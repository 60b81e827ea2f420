//! Measures the live update rate: N sessions play at once while one client per session reads
//! its event stream; reports states per second and epochs per second, per session.
//!
//! ```text
//! cargo run --release -p backprop-web --example stream_rate -- [SECONDS] [SESSIONS…]
//! ```
//!
//! Defaults: 5 seconds, for 1 and 20 sessions, each with two configurations: the default
//! (circle, [4, 2], batch 10) and the largest playground network (6 layers of 8, all seven
//! features, spiral). The server runs in this process on 127.0.0.1, on a free port.

#[path = "../tests/common/mod.rs"]
mod common;

use backprop_web::Limits;
use common::{create, delete, post, Events};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const CONFIGURATIONS: [(&str, &str); 2] = [
    ("default: circle, [4, 2], batch 10", "{}"),
    (
        "large: spiral, 6 × 8, 7 features, batch 10",
        r#"{"dataset": "spiral", "hidden": [8, 8, 8, 8, 8, 8],
            "features": ["x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2"]}"#,
    ),
];

/// The `epoch` field of a state's JSON text.
fn epoch_of(state: &str) -> u64 {
    let start = state.find(r#""epoch":"#).expect("a state has an epoch") + 8;
    let digits: String = state[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// (states, epochs) one client saw over `seconds`.
fn watch(address: std::net::SocketAddr, id: &str, seconds: f64, start: &Barrier) -> (f64, f64) {
    let path = format!("/api/sessions/{id}");
    let mut events = Events::open(address, &format!("{path}/events"));
    events.next_state();
    start.wait();
    post(address, &format!("{path}/play"), "");
    // The first state after play starts the clock. States are scanned, not parsed: the
    // client shares the CPUs with the server, and the page parses them in the browser anyway.
    let first = epoch_of(&events.next_state_text());
    let started = Instant::now();
    let mut states = 0u64;
    let mut last = first;
    while started.elapsed() < Duration::from_secs_f64(seconds) {
        last = epoch_of(&events.next_state_text());
        states += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    post(address, &format!("{path}/pause"), "");
    let epochs = last - first;
    (states as f64 / elapsed, epochs as f64 / elapsed)
}

fn main() {
    let mut arguments = std::env::args().skip(1);
    let seconds: f64 = arguments
        .next()
        .map_or(5.0, |s| s.parse().expect("SECONDS"));
    let mut counts: Vec<usize> = arguments.map(|s| s.parse().expect("SESSIONS")).collect();
    if counts.is_empty() {
        counts = vec![1, 20];
    }
    let server = common::server(Limits::default());
    let address = server.address;
    println!("| configuration | sessions | states/s per session (min / mean) | epochs/s per session (mean) |");
    println!("|---|---|---|---|");
    for (name, config) in CONFIGURATIONS {
        for &count in &counts {
            let ids: Vec<String> = (0..count).map(|_| create(address, config).0).collect();
            let start = Arc::new(Barrier::new(count));
            let clients: Vec<_> = ids
                .iter()
                .cloned()
                .map(|id| {
                    let start = Arc::clone(&start);
                    thread::spawn(move || watch(address, &id, seconds, &start))
                })
                .collect();
            let rates: Vec<(f64, f64)> = clients.into_iter().map(|c| c.join().unwrap()).collect();
            let n = rates.len() as f64;
            let min_states = rates.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
            let mean_states = rates.iter().map(|r| r.0).sum::<f64>() / n;
            let mean_epochs = rates.iter().map(|r| r.1).sum::<f64>() / n;
            println!(
                "| {name} | {count} | {min_states:.1} / {mean_states:.1} | {mean_epochs:.1} |"
            );
            for id in ids {
                delete(address, &format!("/api/sessions/{id}"));
            }
        }
    }
}
