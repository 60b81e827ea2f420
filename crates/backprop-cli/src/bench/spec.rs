//! What a benchmark runs: the named workloads the peers were measured on
//! (`shared/bench/peers.md`), or any other shape, batch size or optimiser.
//!
//! - **A** (Nielsen): 784-30-10, sigmoid everywhere, binary cross-entropy summed per output, plain
//!   SGD η = 0.5, batch 10.
//! - **B**: 784-128-64-10, ReLU, softmax cross-entropy; SGD η = 0.1 at batch 32 and 256, Adam
//!   η = 1e-3 at batch 32.
//! - **infer-b**: B's forward pass at batch 1000 over the inputs, plus the single-example latency
//!   of B and of a 4-64-64-2 network.
//!
//! A training step needs 2·in·out FLOPs per layer forward, 2·in·out per layer for ∂C/∂W and
//! 2·in·out per layer after the first for ∂C/∂X (B: 454,400; A: 95,880); inference the forward
//! part alone.

use super::data;
use backprop::conv::ImageShape;
use backprop::feature_layers::FeatureLayer;
use backprop::optim::{AdamConfig, OptimizerConfig, SgdConfig};
use backprop::{Activation, Cost, NetworkConfig};
use std::str::FromStr;

/// Rows of synthetic data, as MNIST's training set.
pub const ROWS: usize = 60_000;

/// Rows of the convolutional benchmark: a tenth of MNIST, so that an epoch takes seconds.
pub const LENET_ROWS: usize = 6_400;
/// A named benchmark (the peers' workloads), or a custom one.
#[derive(Clone, Debug, PartialEq)]
pub enum BenchConfig {
    /// 784-30-10 sigmoid, binary cross-entropy, SGD η = 0.5, batch 10.
    A,
    /// 784-128-64-10 ReLU, softmax cross-entropy, SGD η = 0.1, batch 32.
    BSgd32,
    /// As `BSgd32` at batch 256.
    BSgd256,
    /// As `BSgd32` with Adam η = 1e-3.
    BAdam32,
    /// B's forward pass at batch 1000, and single-example latencies.
    InferB,
    /// LeNet-style: conv 20@5×5, max-pool 2, conv 40@5×5, max-pool 2, 100, 10; ReLU, softmax
    /// cross-entropy, SGD η = 0.1, batch 64, on 1×28×28 images.
    Lenet,
    /// Any other shape, batch size or optimiser.
    Custom(BenchSpec),
}

impl BenchConfig {
    /// The names [`FromStr`] accepts.
    pub const NAMES: [&'static str; 6] = [
        "a",
        "b-sgd-32",
        "b-sgd-256",
        "b-adam-32",
        "infer-b",
        "lenet",
    ];

    /// What to run.
    pub fn spec(&self) -> BenchSpec {
        let b = |name: &str, batch_size, optimizer| BenchSpec {
            name: name.to_string(),
            ..BenchSpec::custom(&[128, 64], batch_size, optimizer)
        };
        let sgd = |rate| OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(rate));
        match self {
            BenchConfig::A => BenchSpec {
                name: "a".into(),
                sizes: vec![784, 30, 10],
                hidden_activation: Activation::Sigmoid,
                cost: Cost::BinaryCrossEntropy,
                ..BenchSpec::custom(&[30], 10, sgd(0.5))
            },
            BenchConfig::BSgd32 => b("b-sgd-32", 32, sgd(0.1)),
            BenchConfig::BSgd256 => b("b-sgd-256", 256, sgd(0.1)),
            BenchConfig::BAdam32 => b("b-adam-32", 32, AdamConfig::new().into()),
            BenchConfig::InferB => BenchSpec {
                inference: true,
                latencies: true,
                ..b("infer-b", 1000, sgd(0.1))
            },
            BenchConfig::Lenet => BenchSpec {
                name: "lenet".into(),
                features: ["conv:20:5", "maxpool:2", "conv:40:5", "maxpool:2"]
                    .iter()
                    .map(|text| FeatureLayer::parse(text, Activation::Relu).expect("a valid layer"))
                    .collect(),
                rows: LENET_ROWS,
                ..BenchSpec::custom(&[100], 64, sgd(0.1))
            },
            BenchConfig::Custom(spec) => spec.clone(),
        }
    }
}

impl FromStr for BenchConfig {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "a" => Ok(BenchConfig::A),
            "b-sgd-32" => Ok(BenchConfig::BSgd32),
            "b-sgd-256" => Ok(BenchConfig::BSgd256),
            "b-adam-32" => Ok(BenchConfig::BAdam32),
            "infer-b" => Ok(BenchConfig::InferB),
            "lenet" => Ok(BenchConfig::Lenet),
            _ => Err(format!(
                "unknown benchmark '{text}' (expected {})",
                Self::NAMES.join(", ")
            )),
        }
    }
}

/// Everything that defines a benchmark run.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchSpec {
    /// A label for reports.
    pub name: String,
    /// Dense layer sizes, 784 inputs (or the image layers' flattened output) first and 10
    /// classes last.
    pub sizes: Vec<usize>,
    /// Image layers on the 1×28×28 input before the dense layers (none for the dense
    /// benchmarks).
    pub features: Vec<FeatureLayer>,
    /// The hidden layers' activation (the output's follows from the cost).
    pub hidden_activation: Activation,
    /// The cost.
    pub cost: Cost,
    /// The optimiser.
    pub optimizer: OptimizerConfig,
    /// Examples per step (per forward call for inference).
    pub batch_size: usize,
    /// Forward passes only, no training.
    pub inference: bool,
    /// Also time single-example forward passes of these sizes and of a 4-64-64-2 network.
    pub latencies: bool,
    /// Rows of synthetic data.
    pub rows: usize,
    /// Seed of the data, the initial weights and the shuffles.
    pub seed: u64,
    /// Train on S shards per batch summed over the fixed tree ([`Sharding`](backprop::train::Sharding)), as
    /// a data-parallel run does; `None` is the plain (fused) path.
    pub shards: Option<usize>,
    /// The first layer multiplies every input value, zeros included (else a mostly-zero batch
    /// goes through its non-zeros: [`backprop::sparse_input`]).
    pub dense_input: bool,
}

impl BenchSpec {
    /// A training benchmark with these hidden layers between 784 inputs and 10 classes: ReLU,
    /// softmax cross-entropy, [`ROWS`] rows, seed 1.
    pub fn custom(hidden: &[usize], batch_size: usize, optimizer: OptimizerConfig) -> Self {
        let mut sizes = vec![data::SIDE * data::SIDE];
        sizes.extend_from_slice(hidden);
        sizes.push(data::CLASSES);
        Self {
            name: "custom".into(),
            sizes,
            features: Vec::new(),
            hidden_activation: Activation::Relu,
            cost: Cost::SoftmaxCrossEntropy,
            optimizer,
            batch_size,
            inference: false,
            latencies: false,
            rows: ROWS,
            seed: 1,
            shards: None,
            dense_input: false,
        }
    }

    /// The network to benchmark, before its seed.
    pub fn network_config(&self) -> NetworkConfig {
        let config = NetworkConfig::new(&self.sizes, self.cost)
            .with_hidden_activation(self.hidden_activation);
        if self.features.is_empty() {
            return config;
        }
        config.with_features(
            ImageShape::new(1, data::SIDE, data::SIDE),
            self.features.clone(),
        )
    }

    /// FLOPs per sample, 2 per multiply-add: a product of in·out multiply-adds per layer
    /// forward (a convolution's is positions·F·C·k·k); training adds one more per layer for
    /// ∂C/∂W and one per layer after the first for ∂C/∂X. Pooling is not counted.
    pub fn flops_per_sample(&self) -> f64 {
        let config = self.network_config();
        let mut products: Vec<f64> = Vec::new();
        if let Ok(shapes) = config.feature_shapes() {
            let mut input = ImageShape::new(1, data::SIDE, data::SIDE);
            for (layer, output) in config.features.iter().zip(shapes) {
                if let FeatureLayer::Conv { kernel, .. } = layer {
                    let patch = input.channels * kernel * kernel;
                    products.push(2.0 * (output.len() * patch) as f64);
                }
                input = output;
            }
        }
        let dense = config.sizes.clone();
        products.extend(dense.windows(2).map(|w| 2.0 * (w[0] * w[1]) as f64));
        let forward: f64 = products.iter().sum();
        if self.inference {
            forward
        } else {
            2.0 * forward + products[1..].iter().sum::<f64>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_per_sample_match_the_issue() {
        assert_eq!(BenchConfig::BSgd32.spec().flops_per_sample(), 454_400.0);
        assert_eq!(BenchConfig::A.spec().flops_per_sample(), 95_880.0);
        assert_eq!(BenchConfig::InferB.spec().flops_per_sample(), 218_368.0);
        for name in BenchConfig::NAMES {
            assert_eq!(name.parse::<BenchConfig>().unwrap().spec().name, name);
        }
        assert!("c".parse::<BenchConfig>().is_err());
        // conv1: 24·24·20 positions·filters × 25; conv2: 8·8·40 × 500; then 640·100 and 100·10.
        let lenet = BenchConfig::Lenet.spec();
        let forward = 2.0 * (11_520.0 * 25.0 + 2_560.0 * 500.0 + 64_000.0 + 1_000.0);
        let first = 2.0 * 11_520.0 * 25.0;
        assert_eq!(lenet.flops_per_sample(), 3.0 * forward - first);
    }
}
