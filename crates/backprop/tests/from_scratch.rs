//! The from-scratch example (`examples/00_backprop_from_scratch.rs`: plain `f64`, `std` only)
//! against the library: with the library's initial weights copied in, every zˡ, aˡ, δˡ,
//! ∂C/∂wˡ, ∂C/∂bˡ and the cost agree with `Network::trace` within 1e-12 relative, and one plain
//! gradient-descent step agrees with the library's SGD optimiser.

#[allow(dead_code)] // the example's `main` is not called here
#[path = "../examples/00_backprop_from_scratch.rs"]
mod from_scratch;

use backprop::optim::{Optimizer, OptimizerConfig, SgdConfig};
use backprop::{Activation, Cost, Matrix, Network, NetworkConfig};
use from_scratch::{backprop, cost, forward, update, Layer, Record};

const SEEDS: [u64; 4] = [1, 7, 42, 2024];
/// (salespeople's figures x, the CEO's target y).
const CASES: [([f64; 2], f64); 3] = [([1.0, 0.0], 1.0), ([0.3, -0.8], 0.0), ([2.5, 1.5], 0.25)];

/// |a − b| ≤ 1e-12 · max(|a|, |b|), with the smallest normal f64 as the floor (so only two
/// exact zeros pass at zero).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

#[track_caller]
fn assert_close(what: &str, ours: f64, library: f64) {
    assert!(
        close(ours, library),
        "{what}: from scratch {ours:e}, library {library:e}"
    );
}

/// The 2-3-1 company network: sigmoid managers, a sigmoid CEO, the quadratic cost.
fn company(seed: u64) -> Network<f64> {
    NetworkConfig::new(&[2, 3, 1], Cost::Quadratic)
        .with_hidden_activation(Activation::Sigmoid)
        .with_output_activation(Activation::Sigmoid)
        .with_seed(seed)
        .init::<f64>()
        .expect("a valid configuration")
}

fn row(values: &[f64]) -> Matrix<f64> {
    Matrix::from_rows(&[values]).expect("one row")
}

/// The library's weights (out × in) and biases (1 × out), as the example's plain vectors.
fn layers_of(network: &Network<f64>) -> Vec<Layer> {
    let count = network.parameters().len() / 2;
    (0..count)
        .map(|i| {
            let w = network.parameter(&format!("layers.{i}.weight")).unwrap();
            let b = network.parameter(&format!("layers.{i}.bias")).unwrap();
            assert_eq!(b.shape(), (1, w.rows()));
            Layer {
                w: (0..w.rows())
                    .map(|j| (0..w.cols()).map(|k| w[(j, k)]).collect())
                    .collect(),
                b: (0..w.rows()).map(|j| b[(0, j)]).collect(),
            }
        })
        .collect()
}

/// The example's numbers against the library's trace, every one of them.
fn compare_with_trace(seed: u64, x: [f64; 2], y: f64, layers: &[Layer]) {
    let network = company(seed);
    let trace = network.trace(&row(&x), &row(&[y]));
    let records: Vec<Record> = backprop(layers, &x, &[y]);
    assert_eq!(trace.layers.len(), records.len());
    assert!(!trace.fused_output, "quadratic cost: BP1 as written");
    for (library, ours) in trace.layers.iter().zip(&records) {
        let at = |name: &str| format!("seed {seed}, x {x:?}, layer {}: {name}", library.layer);
        assert_eq!(library.a.shape(), (1, ours.a.len()));
        for j in 0..ours.a.len() {
            assert_close(&at(&format!("z[{j}]")), ours.z[j], library.z[(0, j)]);
            assert_close(&at(&format!("a[{j}]")), ours.a[j], library.a[(0, j)]);
            let (delta, library_delta) = (ours.delta[j], library.delta[(0, j)]);
            assert_close(&at(&format!("δ[{j}]")), delta, library_delta);
            let (db, library_db) = (ours.db[j], library.bias_gradient[(0, j)]);
            assert_close(&at(&format!("∂C/∂b[{j}]")), db, library_db);
            for (k, &dw) in ours.dw[j].iter().enumerate() {
                let name = at(&format!("∂C/∂w[{j}][{k}]"));
                assert_close(&name, dw, library.weight_gradient[(j, k)]);
            }
        }
    }
    let ours = cost(&records.last().unwrap().a, &[y]);
    assert_close(&format!("seed {seed}, x {x:?}: cost"), ours, trace.cost);
}

#[test]
fn forward_pass_and_bp1_to_bp4_match_the_library_trace() {
    for seed in SEEDS {
        let layers = layers_of(&company(seed));
        for (x, y) in CASES {
            compare_with_trace(seed, x, y, &layers);
        }
    }
}

#[test]
fn one_gradient_descent_step_matches_the_library_sgd_step() {
    let eta = 0.5;
    for seed in SEEDS {
        for (x, y) in CASES {
            let (xs, ys) = (row(&x), row(&[y]));
            let mut network = company(seed);
            let mut layers = layers_of(&network);

            // The library: forward and backward (batch of one, so the batch mean is this
            // example's cost), then p ← p − η·g with plain SGD.
            let library_before = network.compute_gradients(&xs, &ys);
            let gradients = network.gradients();
            let mut optimizer = Optimizer::new(OptimizerConfig::Sgd(
                SgdConfig::default().with_learning_rate(eta),
            ))
            .unwrap();
            let names: Vec<String> = network.parameters().into_iter().map(|(n, _)| n).collect();
            optimizer.step(&mut network.parameter_refs(&names), eta);
            let library_after = network.loss(&xs, &ys);

            // From scratch: BP1–BP4, then w ← w − η ∂C/∂w.
            let records = backprop(&layers, &x, &[y]);
            let before = cost(&records.last().unwrap().a, &[y]);
            update(&mut layers, &records, eta);
            let after = cost(&forward(&layers, &x).1[layers.len()], &[y]);

            let at = format!("seed {seed}, x {x:?}");
            assert_close(&format!("{at}: cost before"), before, library_before);
            assert_close(&format!("{at}: cost after"), after, library_after);
            assert!(after < before, "{at}: the step lowers the cost");
            for (i, (record, updated)) in records.iter().zip(layers_of(&network)).enumerate() {
                let dw = gradients.get(&format!("layers.{i}.weight")).unwrap();
                let db = gradients.get(&format!("layers.{i}.bias")).unwrap();
                for j in 0..record.db.len() {
                    assert_close(&format!("{at}: layer {i} ∂C/∂b"), record.db[j], db[(0, j)]);
                    let new_b = updated.b[j];
                    assert_close(&format!("{at}: layer {i} b[{j}]"), layers[i].b[j], new_b);
                    for k in 0..record.dw[j].len() {
                        let name = format!("{at}: layer {i} w[{j}][{k}]");
                        assert_close(&name, record.dw[j][k], dw[(j, k)]);
                        assert_close(&name, layers[i].w[j][k], updated.w[j][k]);
                    }
                }
            }
        }
    }
}

/// The comparison has teeth: a weight off by one part in a billion is caught.
#[test]
fn a_weight_off_by_one_part_in_a_billion_is_caught() {
    assert!(!close(1.0, 1.0 + 1e-11) && close(1.0, 1.0 + 1e-13) && close(0.0, 0.0));
    let mut layers = layers_of(&company(1));
    layers[0].w[1][0] *= 1.0 + 1e-9;
    let caught = std::panic::catch_unwind(|| compare_with_trace(1, [1.0, 0.0], 1.0, &layers));
    assert!(caught.is_err());
}
