//! Measurements around a benchmark: the process's peak memory, the latency of one example, and
//! order statistics of timings.

use backprop::network::Network;
use backprop::{Activation, Cost, Matrix, NetworkConfig};
use std::time::Instant;

/// The process's peak resident memory in bytes (`VmHWM` in `/proc/self/status`), where Linux
/// reports it.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

/// Seconds this process's threads have spent on a CPU so far, summed over threads (the first
/// field of each `/proc/self/task/*/schedstat`, in nanoseconds), where Linux reports it. On a
/// shared machine wall time counts the time other processes hold the cores; this does not.
pub fn process_cpu_seconds() -> Option<f64> {
    let mut nanoseconds = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        nanoseconds += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(nanoseconds as f64 * 1e-9)
}

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// The q-quantile of `values` by linear interpolation between order statistics; 0 when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    let weight = position - low as f64;
    sorted[low] * (1.0 - weight) + sorted[high] * weight
}

/// Single-example inference latency of one network shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Latency {
    /// Layer sizes, input first.
    pub sizes: Vec<usize>,
    /// Median seconds per call of [`Network::forward`] on one row.
    pub median_seconds: f64,
    /// The 10th and 90th percentiles, in seconds.
    pub p10_seconds: f64,
    /// See `p10_seconds`.
    pub p90_seconds: f64,
    /// Calls timed.
    pub calls: usize,
}

/// Times `calls` single-row forward passes of a ReLU network with a softmax output of these
/// sizes (after a tenth as many untimed ones), each call timed on its own.
pub fn latency(sizes: &[usize], calls: usize) -> Latency {
    let network: Network<f32> = NetworkConfig::new(sizes, Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Relu)
        .with_seed(1)
        .init()
        .expect("a valid benchmark network");
    let input = Matrix::from_fn(1, sizes[0], |_, j| (j % 7) as f32 * 0.1);
    for _ in 0..calls / 10 + 1 {
        std::hint::black_box(network.forward(std::hint::black_box(&input)));
    }
    let times: Vec<f64> = (0..calls)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(network.forward(std::hint::black_box(&input)));
            started.elapsed().as_secs_f64()
        })
        .collect();
    Latency {
        sizes: sizes.to_vec(),
        median_seconds: median(&times),
        p10_seconds: quantile(&times, 0.1),
        p90_seconds: quantile(&times, 0.9),
        calls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_statistics() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(quantile(&[0.0, 10.0], 0.9), 9.0);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn latency_and_memory_are_measured() {
        let latency = latency(&[4, 64, 64, 2], 50);
        assert!(latency.median_seconds > 0.0 && latency.p10_seconds <= latency.p90_seconds);
        if cfg!(target_os = "linux") {
            assert!(peak_memory_bytes().unwrap() > 1 << 20);
        }
    }
}
