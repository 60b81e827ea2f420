//! Loads an MNIST-style folder and prints its shapes, class counts and load time.
//!
//! ```text
//! cargo run --release -p backprop-data --example check_mnist -- ../shared/data/mnist
//! ```

use backprop_data::mnist::load_mnist_dir;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: check_mnist DIR");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let (train, test) = match load_mnist_dir(&dir) {
        Ok(parts) => parts,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let elapsed = start.elapsed();
    for (part, data) in [("train", &train), ("test", &test)] {
        let pixels = data.features.as_slice();
        let (min, max) = pixels
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &p| {
                (lo.min(p), hi.max(p))
            });
        println!(
            "{part}: {} rows x {} features, pixels in [{min}, {max}], class counts {:?}",
            data.len(),
            data.n_features(),
            data.class_counts().unwrap_or_default()
        );
    }
    println!("loaded in {:.3} s", elapsed.as_secs_f64());
    ExitCode::SUCCESS
}
