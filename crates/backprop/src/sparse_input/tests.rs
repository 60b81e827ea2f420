use super::*;
use crate::dense::{Dense, Descent};
use crate::layer::{LayerOps, Mode};
use crate::sklearn::{sk_epoch, SkData, SkObjective, SkOptimizer, SkSolver};
use crate::{Activation, Cost, NetworkConfig};
use backprop_tensor::SeededRng;

/// rows × cols with about `density` of the values non-zero (uniform in (0, 1]).
fn mostly_zero(rows: usize, cols: usize, density: f64, seed: u64) -> Matrix<f64> {
    let mut rng = SeededRng::new(seed);
    let noise = Matrix::<f64>::random_uniform(rows, cols, 0.0, 1.0, &mut rng);
    let values = noise
        .as_slice()
        .iter()
        .map(|&u| if u < density { u / density } else { 0.0 })
        .collect();
    Matrix::from_vec(rows, cols, values).unwrap()
}

fn layer(sparse: bool) -> Dense<f64> {
    let weight = Matrix::from_fn(16, 300, |i, j| ((i * 300 + j) as f64 * 0.013).sin() * 0.1);
    let bias = Matrix::from_fn(1, 16, |_, j| j as f64 * 0.01);
    let mut layer = Dense::new(weight, bias, Activation::Tanh);
    layer.set_sparse_input(sparse);
    layer
}

fn assert_close(a: &Matrix<f64>, b: &Matrix<f64>, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}");
    for (x, y) in a.as_slice().iter().zip(b.as_slice()) {
        assert!(
            (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
            "{what}: {x} vs {y}"
        );
    }
}

/// Forward and BP1–BP4 of one layer on `x`, with ∂C/∂a given.
fn pass(layer: &mut Dense<f64>, x: &Matrix<f64>) {
    let grad_output = Matrix::from_fn(x.rows(), 16, |i, j| ((i + 2 * j) as f64 * 0.7).cos());
    layer.forward(x, Mode::Train);
    layer.hidden_delta(&grad_output);
}

#[test]
fn a_mostly_zero_batch_gives_the_dense_products() {
    let x = mostly_zero(80, 300, 0.15, 1);
    let (mut dense, mut sparse) = (layer(false), layer(true));
    for layer in [&mut dense, &mut sparse] {
        pass(layer, &x);
        layer.parameter_gradients();
    }
    assert!(sparse.used_sparse_input() && !dense.used_sparse_input());
    let (d, s) = (dense.cache().unwrap(), sparse.cache().unwrap());
    assert_close(&s.z, &d.z, "z");
    assert_close(&s.a, &d.a, "a");
    assert_close(&sparse.weight_gradient, &dense.weight_gradient, "∂C/∂W");
    assert_close(&sparse.bias_gradient, &dense.bias_gradient, "∂C/∂b");
    assert!(sparse.weight_gradient.max_abs() > 0.0);
}

#[test]
fn the_fused_steps_give_the_dense_steps() {
    let x = mostly_zero(64, 300, 0.2, 2);
    // An element-wise rule with state: m ← 0.9m + g, w ← w − 0.1m.
    let (mut dense, mut sparse) = (layer(false), layer(true));
    for layer in [&mut dense, &mut sparse] {
        let mut momentum = vec![0.01; 16 * 300];
        pass(layer, &x);
        layer.parameter_gradients_updating([&mut momentum, &mut [], &mut []], |w, g, [m, _, _]| {
            for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                *m = 0.9 * *m + g;
                *w -= 0.1 * *m;
            }
        });
    }
    assert!(sparse.used_sparse_input());
    assert_close(&sparse.weight, &dense.weight, "W after the rule");
    // The plain SGD step with an L2 scaling.
    let descent = Descent {
        learning_rate: 0.05,
        weight_scale: 0.99,
    };
    for layer in [&mut dense, &mut sparse] {
        pass(layer, &x);
        layer.fused_sgd_update(descent);
        assert_eq!(layer.weight_gradient.shape(), (0, 0), "no stale gradient");
    }
    assert_close(&sparse.weight, &dense.weight, "W after SGD");
    assert_close(&sparse.bias, &dense.bias, "b after SGD");
}

#[test]
fn dense_short_or_large_batches_take_gemm() {
    let cases = [
        (80, 300, 0.6),
        (MIN_ROWS - 1, 300, 0.1),
        (MAX_VALUES / 300 + 1, 300, 0.1),
    ];
    for (rows, cols, density) in cases {
        let x = mostly_zero(rows, cols, density, 3);
        let (mut dense, mut sparse) = (layer(false), layer(true));
        for layer in [&mut dense, &mut sparse] {
            pass(layer, &x);
            layer.parameter_gradients();
        }
        assert!(!sparse.used_sparse_input(), "{rows} × {cols} at {density}");
        assert_eq!(
            sparse.weight_gradient, dense.weight_gradient,
            "the same product, the same bits"
        );
    }
    let narrow = Matrix::from_fn(8, 10, |i, j| f64::from(u8::from((i + j) % 7 == 0)));
    assert!(
        !looks_sparse((&narrow).into()),
        "fewer than {MIN_INPUTS} inputs"
    );
    assert!(looks_sparse((&mostly_zero(500, 300, 0.2, 4)).into()));
    assert!(!looks_sparse((&mostly_zero(500, 300, 0.5, 4)).into()));
}

/// scikit-learn's epochs on mostly-zero rows take the sparse path, with the same bits on any
/// thread count.
#[test]
fn sklearn_epochs_on_mostly_zero_rows_give_the_same_bits_on_any_pool() {
    let x = mostly_zero(300, 400, 0.15, 5);
    let y = Matrix::from_fn(300, 3, |i, j| f64::from(u8::from(i % 3 == j)));
    let fit = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut network = NetworkConfig::new(&[400, 32, 3], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Relu)
            .init::<f64>()
            .unwrap();
        let solver = SkSolver::Adam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
        };
        let mut optimizer = SkOptimizer::new(solver, 0.01, &network);
        let order: Vec<usize> = (0..300).rev().collect();
        let objective = SkObjective {
            alpha: 1e-3,
            poisson: false,
        };
        let losses: Vec<f64> = (0..3)
            .map(|_| {
                pool.install(|| {
                    sk_epoch(
                        &mut network,
                        &mut optimizer,
                        SkData::new(&x, &y),
                        &order,
                        100,
                        objective,
                    )
                })
            })
            .collect();
        assert!(network.dense_layers()[0].used_sparse_input());
        (losses, network.dense_layers()[0].weight.clone())
    };
    let alone = fit(1);
    assert!(
        alone.0[2] < alone.0[0],
        "training lowers the loss: {:?}",
        alone.0
    );
    for threads in [2, 3, 4, 8] {
        assert_eq!(fit(threads), alone, "{threads} threads");
    }
}

/// Inference's product takes the non-zeros exactly where [`takes_sparse_path`] says, and gives
/// the product `gemm` gives.
#[test]
fn inference_takes_the_non_zeros_where_a_batch_qualifies() {
    let weight = layer(false).weight;
    let transposed = AlignedRows::from_transpose(&weight);
    let cases = [
        (80, 300, 0.15, true),
        (MIN_ROWS, 300, 0.25, true),
        (80, 300, 0.6, false),
        (MIN_ROWS - 1, 300, 0.1, false),
        (MAX_VALUES / 300 + 1, 300, 0.1, false),
    ];
    for (rows, cols, density, expected) in cases {
        let x = mostly_zero(rows, cols, density, 7);
        let mut z = Matrix::zeros(0, 0);
        let took = infer_product((&x).into(), || &transposed, &mut z);
        let what = format!("{rows} × {cols} at {density}");
        assert_eq!(took, expected, "{what}");
        assert_eq!(takes_sparse_path((&x).into()), expected, "{what}");
        if took {
            assert_close(&z, &x.matmul_transpose(&weight), &what);
        } else {
            assert_eq!(z.shape(), (0, 0), "{what}: z untouched");
        }
    }
}

/// A network's inference over mostly-zero rows: through the non-zeros (the default) it gives
/// what every value gives, in `forward`, `output_with_logits` and `forward_rows`, with the same
/// bits on any thread count; with sparse inference off it is `gemm`'s, bit for bit.
#[test]
fn inference_on_mostly_zero_rows_gives_the_dense_outputs_on_any_pool() {
    // 700 rows: forward_rows' blocks of 256, 256 and 188, each through the non-zeros.
    let x = mostly_zero(700, 300, 0.15, 6);
    assert!(takes_sparse_path((&x).into()));
    let sparse = NetworkConfig::new(&[300, 40, 3], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Relu)
        .with_seed(3)
        .init::<f64>()
        .unwrap();
    let mut dense = sparse.clone();
    dense.set_sparse_inference(false);
    let outputs = |network: &crate::Network<f64>, threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let rows = network
                .forward_rows(x.as_slice(), crate::RowsOutput::Logits, true)
                .unwrap();
            (network.forward(&x), network.output_with_logits(&x).0, rows)
        })
    };
    let alone = outputs(&sparse, 1);
    let every_value = outputs(&dense, 1);
    assert_close(&alone.0, &every_value.0, "forward");
    assert_close(&alone.1, &every_value.1, "logits");
    assert_close(&alone.2, &every_value.2, "forward_rows");
    assert_close(
        &alone.2,
        &alone.1,
        "forward_rows against output_with_logits",
    );
    let first = &dense.dense_layers()[0];
    let mut by_gemm = x.matmul_transpose(&first.weight);
    first
        .activation
        .add_bias_and_forward_in_place(&mut by_gemm, &first.bias);
    assert_eq!(
        first.infer(&x),
        by_gemm,
        "sparse inference off: gemm's bits"
    );
    for threads in [2, 3, 4, 8] {
        assert_eq!(outputs(&sparse, threads), alone, "{threads} threads");
    }
}
