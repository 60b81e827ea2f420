//! The row-block path against the whole-batch one (`gemm` over the batch, the network's own
//! backward pass) on networks of every kind it takes, and its bits across thread counts.

use super::objective::{batch_gradients, SkData};
use super::row_blocks::{
    block_gradients, chunk_count, chunk_rows, handles, uses_threads, BLOCK_ROWS, CHUNK_ROWS,
};
use crate::network::Network;
use crate::{Activation, Cost, NetworkConfig};
use backprop_tensor::{Float, Matrix};

fn network<T: Float>(sizes: &[usize], cost: Cost, hidden: Activation) -> Network<T> {
    NetworkConfig::new(sizes, cost)
        .with_hidden_activation(hidden)
        .with_output_activation(cost.natural_output_activation())
        .with_seed(sizes.iter().sum::<usize>() as u64)
        .init::<T>()
        .unwrap()
}

/// Inputs in [−1, 1]; targets one-hot (softmax), 0/1 per unit (logistic) or counts (else).
fn rows<T: Float>(
    count: usize,
    inputs: usize,
    outputs: usize,
    cost: Cost,
) -> (Matrix<T>, Matrix<T>) {
    let x = Matrix::from_fn(count, inputs, |i, j| {
        T::from_f64(((i * 7 + j * 3) as f64 * 0.61).sin())
    });
    let y = Matrix::from_fn(count, outputs, |i, j| {
        T::from_f64(match cost {
            Cost::SoftmaxCrossEntropy => f64::from(u8::from((i * 5 + 1) % outputs == j)),
            Cost::BinaryCrossEntropy => f64::from(u8::from((i + j) % 3 == 0)),
            _ => ((i + 2 * j) % 4) as f64,
        })
    });
    (x, y)
}

/// Both paths over `order`'s rows; returns the largest relative difference of the gradients
/// and of the loss.
fn compare<T: Float>(
    network: &Network<T>,
    data: SkData<'_, T>,
    order: &[usize],
    poisson: bool,
) -> f64 {
    assert!(handles(network));
    let mut blocked = network.clone();
    let (block_loss, block_total) = block_gradients(&mut blocked, data, order, poisson);
    let mut whole = network.clone();
    whole.load_batch_from(data.x, order);
    let y = Matrix::from_fn(order.len(), data.y.cols(), |i, j| data.y[(order[i], j)]);
    let weights: Option<Vec<T>> = data
        .sample_weight
        .map(|w| order.iter().map(|&i| w[i]).collect());
    let (whole_loss, whole_total) =
        batch_gradients(&mut whole, &y, weights.as_deref(), poisson, None);
    assert_eq!(block_total, whole_total);
    let mut worst = (block_loss - whole_loss).abs() / whole_loss.abs().max(1e-3);
    for (b, w) in blocked.dense_layers().iter().zip(whole.dense_layers()) {
        for (b, w) in [
            (&b.weight_gradient, &w.weight_gradient),
            (&b.bias_gradient, &w.bias_gradient),
        ] {
            assert_eq!(b.shape(), w.shape());
            let scale = w
                .as_slice()
                .iter()
                .fold(1e-3f64, |m, v| m.max(v.to_f64().abs()));
            for (b, w) in b.as_slice().iter().zip(w.as_slice()) {
                worst = worst.max((b.to_f64() - w.to_f64()).abs() / scale);
            }
        }
    }
    worst
}

#[test]
fn blocks_give_the_whole_batch_gradients_for_every_output() {
    let cases = [
        (
            vec![5, 16, 12, 3],
            Cost::SoftmaxCrossEntropy,
            Activation::Tanh,
            false,
        ),
        (
            vec![4, 9, 2],
            Cost::BinaryCrossEntropy,
            Activation::Sigmoid,
            false,
        ),
        (vec![3, 7, 2], Cost::Quadratic, Activation::Relu, false),
        (vec![3, 70, 1], Cost::Quadratic, Activation::Relu, true),
        (
            vec![30, 100, 2],
            Cost::SoftmaxCrossEntropy,
            Activation::Relu,
            false,
        ),
        // activations whose σ′ needs z: the blocks keep z apart from a
        (
            vec![6, 20, 3],
            Cost::SoftmaxCrossEntropy,
            Activation::Gelu,
            false,
        ),
        (
            vec![4, 12, 2],
            Cost::BinaryCrossEntropy,
            Activation::LeakyRelu {
                negative_slope: 0.01,
            },
            false,
        ),
    ];
    for (sizes, cost, hidden, poisson) in cases {
        let (inputs, outputs) = (sizes[0], *sizes.last().unwrap());
        // 150 rows: two whole chunks and a part, the last block short; a shuffled subset.
        let order: Vec<usize> = (0..150).map(|i| (i * 37) % 161).collect();
        let weights: Vec<f64> = (0..161).map(|i| 0.25 + (i % 5) as f64).collect();
        let (x, y) = rows::<f64>(161, inputs, outputs, cost);
        let net = network::<f64>(&sizes, cost, hidden);
        for sample_weight in [None, Some(&weights[..])] {
            let data = SkData {
                x: (&x).into(),
                y: &y,
                sample_weight,
            };
            let worst = compare(&net, data, &order, poisson);
            assert!(
                worst < 1e-12,
                "{sizes:?} {cost} weights {}: {worst}",
                sample_weight.is_some()
            );
        }
        let (x, y) = rows::<f32>(161, inputs, outputs, cost);
        let net = network::<f32>(&sizes, cost, hidden);
        let worst = compare(&net, SkData::new(&x, &y), &order, poisson);
        assert!(worst < 1e-4, "{sizes:?} {cost} f32: {worst}");
    }
}

#[test]
fn wide_or_convolutional_networks_take_the_whole_batch_path() {
    assert!(!handles(&network::<f64>(
        &[300, 10, 2],
        Cost::SoftmaxCrossEntropy,
        Activation::Relu
    )));
    assert!(!handles(&network::<f64>(
        &[3, 10, 2],
        Cost::MeanSquaredError,
        Activation::Relu
    )));
    assert!(handles(&network::<f64>(
        &[256, 256, 2],
        Cost::SoftmaxCrossEntropy,
        Activation::Relu
    )));
}

#[test]
fn blocks_give_the_same_bits_for_any_thread_count() {
    let sizes = [20, 200, 10];
    let cost = Cost::SoftmaxCrossEntropy;
    let (x, y) = rows::<f32>(300, 20, 10, cost);
    let net = network::<f32>(&sizes, cost, Activation::Relu);
    let order: Vec<usize> = (0..300).rev().collect();
    assert!(
        uses_threads(&net, order.len()),
        "the batch must be large enough to split"
    );
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut copy = net.clone();
        let loss =
            pool.install(|| block_gradients(&mut copy, SkData::new(&x, &y), &order, false).0);
        let mut bits = vec![loss.to_bits()];
        for dense in copy.dense_layers() {
            bits.extend(
                dense
                    .weight_gradient
                    .as_slice()
                    .iter()
                    .map(|v| v.to_f64().to_bits()),
            );
            bits.extend(
                dense
                    .bias_gradient
                    .as_slice()
                    .iter()
                    .map(|v| v.to_f64().to_bits()),
            );
        }
        bits
    };
    let one = run(1);
    for threads in [2, 3, 4, 8] {
        assert!(run(threads) == one, "{threads} threads differ from one");
    }
}

#[test]
fn an_empty_batch_gives_zero_gradients() {
    let mut net = network::<f64>(&[3, 5, 2], Cost::SoftmaxCrossEntropy, Activation::Relu);
    let (x, y) = rows::<f64>(4, 3, 2, Cost::SoftmaxCrossEntropy);
    let (loss, total) = block_gradients(&mut net, SkData::new(&x, &y), &[], false);
    assert_eq!((loss, total), (0.0, 0.0));
    for dense in net.dense_layers() {
        assert!(dense.weight_gradient.as_slice().iter().all(|&g| g == 0.0));
        assert_eq!(dense.weight_gradient.shape(), dense.weight.shape());
    }
}

/// Chunks cover the batch in order, each whole blocks (but the last) of at most CHUNK_ROWS
/// rows, their sizes within one block of each other; a batch of 200 is 48 + 48 + 48 + 56, one
/// of 55 is 32 + 23.
#[test]
fn chunks_share_a_batch_out_evenly() {
    for rows in 1..=700_usize {
        let count = chunk_count(rows);
        // One chunk for one block, else at least two, and no more than CHUNK_ROWS needs.
        assert_eq!(count == 1, rows <= BLOCK_ROWS, "{rows} rows");
        assert!(count <= 2 || (count - 1) * CHUNK_ROWS < rows, "{rows} rows");
        let bounds: Vec<_> = (0..count).map(|i| chunk_rows(rows, count, i)).collect();
        let mut next = 0;
        for &(first, last) in &bounds {
            assert_eq!(first, next, "{rows} rows: {bounds:?}");
            assert!(
                first < last && last - first <= CHUNK_ROWS,
                "{rows}: {bounds:?}"
            );
            assert_eq!(first % BLOCK_ROWS, 0, "{rows}: {bounds:?}");
            next = last;
        }
        assert_eq!(next, rows, "{rows}: {bounds:?}");
        let blocks: Vec<_> = bounds
            .iter()
            .map(|(first, last)| (last - first).div_ceil(BLOCK_ROWS))
            .collect();
        let (least, most) = (blocks.iter().min(), blocks.iter().max());
        assert!(most.unwrap() - least.unwrap() <= 1, "{rows}: {bounds:?}");
    }
    let sizes: Vec<_> = (0..4)
        .map(|i| chunk_rows(200, 4, i))
        .map(|(first, last)| last - first)
        .collect();
    assert_eq!(sizes, [48, 48, 48, 56]);
    assert_eq!(
        (chunk_rows(55, 2, 0), chunk_rows(55, 2, 1)),
        ((0, 32), (32, 55))
    );
}
