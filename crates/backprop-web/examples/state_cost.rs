//! What one live update of the largest playground network costs, piece by piece: an epoch of
//! training, the state with its heat maps (and the heat maps alone), and the state's JSON.
//!
//! ```text
//! cargo run --release -p backprop-web --example state_cost
//! ```

use backprop_web::heatmap::heatmap;
use backprop_web::session::Session;
use backprop_web::state::State;
use backprop_web::{Limits, SessionConfig};
use std::time::Instant;

const REPEATS: usize = 200;

/// Milliseconds per call of `work`, over [`REPEATS`] calls.
fn time(mut work: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..REPEATS {
        work();
    }
    started.elapsed().as_secs_f64() * 1e3 / REPEATS as f64
}

fn main() {
    let config: SessionConfig = serde_json::from_str(
        r#"{"dataset": "spiral", "hidden": [8, 8, 8, 8, 8, 8],
            "features": ["x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2"]}"#,
    )
    .expect("a valid configuration");
    let mut session = Session::new(config, &Limits::default()).expect("a valid session");
    let epoch = time(|| session.step_epoch());
    let state = time(|| {
        State::of(&mut session, "s-0", true);
    });
    let maps = time(|| {
        heatmap(&session.network, &session.config.features, 5.0);
    });
    let built = State::of(&mut session, "s-0", true);
    let mut bytes = 0;
    let json = time(|| bytes = serde_json::to_string(&built).expect("plain data").len());
    println!("spiral, 6 × 8 tanh, 7 features, 250 training rows, batch 10:");
    println!("  one epoch (25 steps)   {epoch:.3} ms");
    println!("  state with heat maps   {state:.3} ms (heat maps alone {maps:.3} ms)");
    println!("  state as JSON          {json:.3} ms, {bytes} bytes");
    println!("  one update in all      {:.3} ms", epoch + state + json);
}
