//! Tests of the fit loop's rules between epochs.

use super::objective::sk_fit_uses_threads;
use super::tests::{data, net, penalty};
use super::*;
use backprop_tensor::pacer::Pacer;

fn fit_config(schedule: SkSchedule, tol: f64, n_iter_no_change: f64) -> SkFitConfig {
    SkFitConfig {
        batch_size: 2,
        objective: penalty(0.01),
        tol,
        n_iter_no_change,
        learning_rate_init: 0.1,
        schedule,
    }
}

fn progress() -> SkProgress {
    SkProgress {
        n_iter: 0,
        t: 0,
        best_loss: f64::INFINITY,
        no_improvement_count: 0,
        loss_curve: Vec::new(),
    }
}

/// With a tolerance no loss can meet, the count grows every epoch after the first (which
/// improves on an infinite best): the loop stops after n_iter_no_change + 2 epochs, or,
/// adaptive, divides η by 5 instead and runs on.
#[test]
fn the_stopping_rule_and_the_adaptive_rate() {
    let (x, y) = data();
    let mut order = [4, 2, 0, 1, 3];
    let mut same = |_: &mut [usize]| {};

    let sgd = SkSolver::Sgd {
        momentum: 0.9,
        nesterov: true,
    };
    let mut network = net();
    let mut optimizer = SkOptimizer::new(sgd, 0.1, &network);
    let mut state = progress();
    let config = fit_config(SkSchedule::Constant, 1e9, 2.0);
    let data = SkData::new(&x, &y);
    let stop = sk_fit(
        &mut network,
        &mut optimizer,
        data,
        SkEpochs {
            count: 10,
            order: &mut order,
            reorder: &mut same,
        },
        &config,
        &mut state,
        None,
        &mut Pacer::new(),
        &mut || true,
    );
    assert_eq!((stop, state.n_iter, state.t), (SkStop::Converged, 4, 20));
    assert_eq!(state.loss_curve.len(), 4);
    let mut network = net();
    let mut optimizer = SkOptimizer::new(sgd, 0.1, &network);
    let mut state = progress();
    let config = fit_config(SkSchedule::Adaptive, 1e9, 2.0);
    let stop = sk_fit(
        &mut network,
        &mut optimizer,
        data,
        SkEpochs {
            count: 10,
            order: &mut order,
            reorder: &mut same,
        },
        &config,
        &mut state,
        None,
        &mut Pacer::new(),
        &mut || true,
    );
    assert_eq!((stop, state.n_iter), (SkStop::EpochsDone, 10));
    // epochs 4, 7 and 10 divide the rate: 0.1 / 125
    assert!((optimizer.learning_rate - 0.1 / 125.0).abs() < 1e-15);
    let mut calls = 0;
    let mut state = progress();
    let stop = sk_fit(
        &mut network,
        &mut optimizer,
        data,
        SkEpochs {
            count: 10,
            order: &mut order,
            reorder: &mut same,
        },
        &config,
        &mut state,
        None,
        &mut Pacer::new(),
        &mut || {
            calls += 1;
            calls < 4
        },
    );
    assert_eq!((stop, state.n_iter), (SkStop::Interrupted, 3));
}

/// The loop's epochs are sk_epoch's, and invscaling sets η = η₀/(t + 1)^power_t after each.
#[test]
fn the_loop_runs_the_same_epochs_and_invscaling() {
    let (x, y) = data();
    let mut by_hand_order = [2, 1, 3, 0, 4];
    let mut rotated = by_hand_order;
    let sgd = SkSolver::Sgd {
        momentum: 0.5,
        nesterov: false,
    };
    let config = fit_config(SkSchedule::InvScaling { power_t: 0.5 }, 1e-4, 10.0);
    let mut by_hand = net();
    let mut optimizer = SkOptimizer::new(sgd, 0.1, &by_hand);
    let data = SkData::new(&x, &y);
    let mut losses = Vec::new();
    for epoch in 1..=3 {
        by_hand_order.rotate_left(1);
        losses.push(sk_epoch(
            &mut by_hand,
            &mut optimizer,
            data,
            &by_hand_order,
            2,
            config.objective,
        ));
        optimizer.learning_rate = 0.1 / ((5 * epoch + 1) as f64).sqrt();
    }
    let mut network = net();
    let mut looped = SkOptimizer::new(sgd, 0.1, &network);
    let mut state = progress();
    // each epoch rotates the order by one place, as a shuffle would change it
    let mut rotate = |o: &mut [usize]| o.rotate_left(1);
    let orders = SkEpochs {
        count: 3,
        order: &mut rotated,
        reorder: &mut rotate,
    };
    sk_fit(
        &mut network,
        &mut looped,
        data,
        orders,
        &config,
        &mut state,
        None,
        &mut Pacer::new(),
        &mut || true,
    );
    assert_eq!(state.loss_curve, losses);
    assert_eq!(
        network.dense_layers()[0].weight,
        by_hand.dense_layers()[0].weight
    );
    assert_eq!(looped.learning_rate, optimizer.learning_rate);
    assert_eq!(
        state.best_loss,
        losses.iter().cloned().fold(f64::INFINITY, f64::min)
    );
}

/// A ReLU network of `sizes` with a softmax output, initialised as every test here starts it.
fn relu_network(sizes: &[usize]) -> Network<f64> {
    use crate::{Activation, Cost, NetworkConfig};
    NetworkConfig::new(sizes, Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Relu)
        .init::<f64>()
        .unwrap()
}

/// [`relu_network`] of `sizes` on `rows` synthetic rows in batches of `batch`, fitted with Adam
/// for `epochs` on `pool` (None: the calling thread), `keep_going` asked as `sk_fit` asks it:
/// its first layer's weights, its loss curve and why the fit stopped.
fn pool_fit(
    (rows, sizes, batch): (usize, &[usize], usize),
    pool: Option<&rayon::ThreadPool>,
    epochs: usize,
    keep_going: &mut dyn FnMut() -> bool,
) -> (backprop_tensor::Matrix<f64>, Vec<f64>, SkStop) {
    use backprop_tensor::Matrix;
    let (inputs, outputs) = (sizes[0], sizes[sizes.len() - 1]);
    let x = Matrix::from_fn(rows, inputs, |i, j| ((i * 7 + j * 3) as f64 * 0.013).sin());
    let y = Matrix::from_fn(rows, outputs, |i, j| f64::from(u8::from(i % outputs == j)));
    let mut network = relu_network(sizes);
    let adam = SkSolver::Adam {
        beta_1: 0.9,
        beta_2: 0.999,
        epsilon: 1e-8,
    };
    let mut optimizer = SkOptimizer::new(adam, 1e-3, &network);
    let (mut state, mut order) = (progress(), (0..rows).collect::<Vec<_>>());
    let mut rotate = |o: &mut [usize]| o.rotate_left(7);
    let config = SkFitConfig {
        batch_size: batch,
        ..fit_config(SkSchedule::Constant, 1e-4, f64::INFINITY)
    };
    let epochs = SkEpochs {
        count: epochs,
        order: &mut order,
        reorder: &mut rotate,
    };
    let stop = sk_fit(
        &mut network,
        &mut optimizer,
        SkData::new(&x, &y),
        epochs,
        &config,
        &mut state,
        pool,
        &mut Pacer::new(),
        keep_going,
    );
    let weight = network.dense_layers()[0].weight.clone();
    (weight, state.loss_curve, stop)
}

/// The fit of `shape` on pools of 1, 2 and 3 threads gives the bits of the fit on the calling
/// thread.
fn assert_same_on_pools(shape: (usize, &[usize], usize), epochs: usize) {
    let alone = pool_fit(shape, None, epochs, &mut || true);
    assert_eq!(alone.1.len(), epochs);
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        assert!(
            pool_fit(shape, Some(&pool), epochs, &mut || true) == alone,
            "{threads} threads, {shape:?}"
        );
    }
}

/// A network too wide for row blocks whose batches split across threads: the fit on pools
/// (batch by batch under the pacer) gives the bits of the fit on the calling thread.
#[test]
fn paced_batches_on_a_pool_give_the_same_weights() {
    let shape: (usize, &[usize], usize) = (192, &[300, 96, 3], 64);
    let network = relu_network(shape.1);
    assert!(sk_uses_threads(&network, 64) && !sk_uses_row_blocks(&network));
    assert_same_on_pools(shape, 4);
}

/// Breast cancer's shape: batches worth waking a thread for.
const BREAST_CANCER: (usize, &[usize], usize) = (455, &[30, 100, 2], 200);
/// Iris's shape: a batch of 120 split only across a team that stands by already.
const IRIS: (usize, &[usize], usize) = (120, &[4, 100, 3], 120);

/// Row blocks on a pool run in stretches of epochs, with helpers or alone as the pacer
/// chooses: the bits of the fit on the calling thread for 1, 2 and 3 threads.
#[test]
fn stretches_of_row_block_epochs_on_a_pool_give_the_same_weights() {
    for shape in [BREAST_CANCER, IRIS] {
        let network = relu_network(shape.1);
        assert!(sk_fit_uses_threads(&network, shape.2) && sk_uses_row_blocks(&network));
        assert_same_on_pools(shape, 30);
    }
}

/// Iris's batches split in a stretch's team, but are not worth waking a thread for batch by
/// batch ([`sk_epoch`] called alone).
#[test]
fn small_batches_split_only_in_a_standing_team() {
    let network = relu_network(IRIS.1);
    assert!(sk_fit_uses_threads(&network, 120) && !sk_uses_threads(&network, 120));
    // A single block never splits.
    assert!(!sk_fit_uses_threads(&network, 16) && sk_fit_uses_threads(&network, 64));
}

/// `keep_going` is asked before the first stretch and between stretches: false after the
/// first answer stops the fit after one stretch, at a state a shorter fit reaches too.
#[test]
fn a_stop_between_stretches_ends_the_fit_as_a_shorter_fit_would() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut asked = 0;
    let mut once = || {
        asked += 1;
        asked == 1
    };
    let (weight, curve, stop) = pool_fit(BREAST_CANCER, Some(&pool), 100_000, &mut once);
    assert_eq!((stop, asked), (SkStop::Interrupted, 2));
    let ran = curve.len();
    assert!((1..100_000).contains(&ran), "{ran} epochs");
    let shorter = pool_fit(BREAST_CANCER, None, ran, &mut || true);
    assert!(shorter == (weight, curve, SkStop::EpochsDone));
}
