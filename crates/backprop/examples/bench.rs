//! Runs one of the library's throughput benchmarks (`backprop::bench`) and prints its report:
//!
//! ```text
//! cargo run --release -p backprop --example bench -- b-sgd-32 [THREADS [EPOCHS]]
//! ```
//!
//! CONFIG is a, b-sgd-32, b-sgd-256, b-adam-32 or infer-b; THREADS defaults to 2, EPOCHS (timed,
//! after one warm-up epoch) to 3. The `backprop bench` command is the full front end.

use backprop::bench::{run, BenchConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let config: BenchConfig = arguments
        .first()
        .map_or("b-sgd-32", String::as_str)
        .parse()?;
    let threads = arguments.get(1).map_or(Ok(2), |t| t.parse())?;
    let epochs = arguments.get(2).map_or(Ok(3), |e| e.parse())?;
    println!("{}", run(&config, threads, epochs)?);
    Ok(())
}
