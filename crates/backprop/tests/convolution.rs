//! Convolution and pooling layers, checked three ways:
//! - against a direct reference written from the definitions (a convolution as four nested
//!   sums over filters, channels and kernel offsets, pooling by windows, every gradient by the
//!   chain rule written out element by element), for outputs and one batch's gradients;
//! - against central finite differences (`gradient_check`) over strides, paddings, channel
//!   counts, activations, both poolings and dropout among the image layers;
//! - by training: bit-identical for 1, 2 and 3 threads, and a small network learns to tell
//!   horizontal from vertical strokes.

use backprop::conv::{ImageShape, Padding};
use backprop::feature_layers::FeatureLayer;
use backprop::optim::{AdamConfig, OptimizerConfig, SgdConfig};
use backprop::train::Silent;
use backprop::{
    gradient_check, Activation, Cost, Matrix, Model, ModelMetadata, Network, NetworkConfig,
    SeededRng, Task, Trainer, TrainingConfig,
};
use backprop_tensor::matmul::{runs_in_parallel, Transpose};

fn layers(spec: &[&str], activation: Activation) -> Vec<FeatureLayer> {
    spec.iter()
        .map(|text| FeatureLayer::parse(text, activation).unwrap())
        .collect()
}

fn config(
    shape: ImageShape,
    spec: &[&str],
    activation: Activation,
    dense: &[usize],
) -> NetworkConfig {
    let mut sizes = vec![0];
    sizes.extend_from_slice(dense);
    NetworkConfig::new(&sizes, Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(activation)
        .with_features(shape, layers(spec, activation))
}

fn random(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    let mut rng = SeededRng::new(seed);
    Matrix::random_uniform(rows, cols, -1.0, 1.0, &mut rng)
}

fn one_hot(rows: usize, classes: usize) -> Matrix<f64> {
    Matrix::from_fn(rows, classes, |r, c| f64::from(u8::from(r % classes == c)))
}

// ---------------------------------------------------------------------------------------------
// The direct reference

/// x[b, c, i, j] of a batch laid out one example per row, (C, H, W) order; zero outside.
fn pixel(x: &Matrix<f64>, shape: ImageShape, b: usize, c: usize, i: isize, j: isize) -> f64 {
    if i < 0 || j < 0 || i as usize >= shape.height || j as usize >= shape.width {
        return 0.0;
    }
    x[(b, c * shape.plane() + i as usize * shape.width + j as usize)]
}

/// z[b, f, i, j] = b_f + Σ_{c,u,v} W[f, c, u, v] x[b, c, s·i + u − p, s·j + v − p].
fn reference_conv(
    x: &Matrix<f64>,
    shape: ImageShape,
    weight: &Matrix<f64>,
    bias: &Matrix<f64>,
    (kernel, stride, pad): (usize, usize, usize),
    out: ImageShape,
) -> Matrix<f64> {
    Matrix::from_fn(x.rows(), out.len(), |b, o| {
        let f = o / out.plane();
        let (i, j) = ((o % out.plane()) / out.width, o % out.width);
        let mut sum = bias[(0, f)];
        for c in 0..shape.channels {
            for u in 0..kernel {
                for v in 0..kernel {
                    let y = (stride * i + u) as isize - pad as isize;
                    let x_ = (stride * j + v) as isize - pad as isize;
                    let w = weight[(f, c * kernel * kernel + u * kernel + v)];
                    sum += w * pixel(x, shape, b, c, y, x_);
                }
            }
        }
        sum
    })
}

#[test]
fn a_convolution_and_its_gradients_match_the_direct_reference() {
    // Both layouts of X̂ are covered: patches of 9 to 27 values and of 72 and 75.
    assert!((28..=72).contains(&backprop::conv::POSITION_MAJOR_PATCH));
    for (stride, padding, channels, kernel) in [
        (1, Padding::Valid, 1, 3),
        (2, Padding::Valid, 3, 3),
        (1, Padding::Same, 2, 3),
        (3, Padding::Valid, 2, 3),
        (2, Padding::Valid, 1, 5),
        // 8 channels of 3 × 3, 3 of 5 × 5: patches that X̂ holds one per row.
        (1, Padding::Valid, 8, 3),
        (1, Padding::Same, 8, 3),
        (2, Padding::Valid, 8, 3),
        (1, Padding::Valid, 3, 5),
        (1, Padding::Same, 3, 5),
    ] {
        // 27 examples: several of the forward pass's groups of examples, the last one short.
        for batch in [5, 27] {
            let shape = ImageShape::new(channels, 7, 6);
            let spec = format!("conv:4:{kernel}:{stride}:{}", padding.name());
            let mut net: Network<f64> = config(shape, &[&spec], Activation::Tanh, &[3])
                .with_seed(5)
                .init()
                .unwrap();
            let (x, y) = (random(batch, shape.len(), 9), one_hot(batch, 3));
            let conv = net.layers()[0].as_convolution().unwrap().clone();
            let out = conv.output_shape();
            let pad = padding.amounts(kernel).0;
            // Forward: z from the definition, then tanh and the dense layer.
            let z = reference_conv(
                &x,
                shape,
                &conv.weight,
                &conv.bias,
                (kernel, stride, pad),
                out,
            );
            let a = z.map(f64::tanh);
            let dense = net.dense_layers()[0].clone();
            let logits = {
                let mut l = a.matmul_transpose(&dense.weight);
                l.add_row_to_each_row(&dense.bias);
                l
            };
            let probabilities = Activation::Softmax.forward(&logits);
            let forward = net.forward(&x);
            for (got, want) in forward.as_slice().iter().zip(probabilities.as_slice()) {
                assert!(
                    (got - want).abs() < 1e-12,
                    "stride {stride} {padding:?} k {kernel} C {channels}: {got} vs {want}"
                );
            }
            // Backward by the chain rule, element by element. Mean cost over the batch.
            let n = x.rows() as f64;
            let delta_out = probabilities.sub(&y).scale(1.0 / n);
            let grad_a = delta_out.matmul(&dense.weight);
            let delta = Matrix::from_fn(a.rows(), a.cols(), |r, c| {
                grad_a[(r, c)] * (1.0 - a[(r, c)] * a[(r, c)])
            });
            let mut grad_w = Matrix::zeros(conv.weight.rows(), conv.weight.cols());
            let mut grad_b = Matrix::zeros(1, conv.weight.rows());
            for b in 0..x.rows() {
                for o in 0..out.len() {
                    let f = o / out.plane();
                    let (i, j) = ((o % out.plane()) / out.width, o % out.width);
                    let d = delta[(b, o)];
                    grad_b[(0, f)] += d;
                    for c in 0..channels {
                        for u in 0..kernel {
                            for v in 0..kernel {
                                let yy = (stride * i + u) as isize - pad as isize;
                                let xx = (stride * j + v) as isize - pad as isize;
                                let w = (f, (c * kernel + u) * kernel + v);
                                grad_w[w] += d * pixel(&x, shape, b, c, yy, xx);
                            }
                        }
                    }
                }
            }
            let (_, gradients) = net.backward(&x, &y);
            let close = |got: &Matrix<f64>, want: &Matrix<f64>, what: &str| {
                assert_eq!(got.shape(), want.shape(), "{what}");
                for (g, w) in got.as_slice().iter().zip(want.as_slice()) {
                    assert!(
                        (g - w).abs() < 1e-12,
                        "stride {stride} {padding:?} k {kernel} C {channels} {what}: {g} vs {w}"
                    );
                }
            };
            // The training pass keeps z and a = σ(z) for the backward pass.
            let trained = net.layers()[0].as_convolution().unwrap();
            close(trained.z(), &z, "z");
            close(&trained.a(), &a, "a");
            close(&trained.delta(), &delta, "δ");
            close(gradients.get("layers.0.weight").unwrap(), &grad_w, "∂C/∂W");
            close(gradients.get("layers.0.bias").unwrap(), &grad_b, "∂C/∂b");
        }
    }
}

#[test]
fn the_gradient_reaching_the_input_is_the_full_correlation_with_flipped_kernels() {
    // Two convolutions: the first one's gradients need δ carried back through the second, which
    // is ∂C/∂x of the second, Σ_f Σ_{u,v} δ[f, i − u, j − v] W[f, c, u, v].
    let shape = ImageShape::new(2, 8, 8);
    let net: Network<f64> = config(
        shape,
        &["conv:3:3:1:same", "conv:2:3:2:valid"],
        Activation::Sigmoid,
        &[4],
    )
    .with_seed(2)
    .init()
    .unwrap();
    let report = gradient_check(&net, &random(3, shape.len(), 4), &one_hot(3, 4));
    assert!(report.max_error() < 1e-6, "{report:?}");
    assert_eq!(report.layers.len(), 3);
    assert_eq!(report.skipped(), 0);
    // col2im adds the patches' gradients back for a group of examples at a time: a batch of 19
    // (two whole groups and a short one) gives the mean of the 19 one-example gradients.
    let (x, y) = (random(19, shape.len(), 6), one_hot(19, 4));
    let (_, batch) = net.clone().backward(&x, &y);
    let row = |m: &Matrix<f64>, r: usize| Matrix::from_vec(1, m.cols(), m.row(r).to_vec()).unwrap();
    let singles: Vec<_> = (0..19)
        .map(|r| net.clone().backward(&row(&x, r), &row(&y, r)).1)
        .collect();
    for name in ["layers.0.weight", "layers.0.bias", "layers.1.weight"] {
        let got = batch.get(name).unwrap();
        for (index, &g) in got.as_slice().iter().enumerate() {
            let mean = singles
                .iter()
                .map(|s| s.get(name).unwrap().as_slice()[index])
                .sum::<f64>()
                / 19.0;
            assert!(
                (g - mean).abs() <= 1e-12 * (1.0 + mean.abs()),
                "{name}[{index}]: {g} vs {mean}"
            );
        }
    }
}

/// Every activation's a = σ(z) as the layer reports it after a training pass, whether its
/// forward pass keeps a (sigmoid, tanh) or recomputes it from z for the report (the rest).
#[test]
fn the_reported_activations_are_sigma_of_z_for_every_activation() {
    let shape = ImageShape::new(2, 6, 6);
    for activation in Activation::ELEMENTWISE {
        let mut net: Network<f64> = config(shape, &["conv:3:3"], activation, &[2])
            .with_seed(4)
            .init()
            .unwrap();
        let (x, y) = (random(4, shape.len(), 8), one_hot(4, 2));
        net.backward(&x, &y);
        let conv = net.layers()[0].as_convolution().unwrap();
        let (z, a) = (conv.z(), conv.a());
        assert_eq!(a.shape(), z.shape(), "{activation}");
        for (&a, &z) in a.as_slice().iter().zip(z.as_slice()) {
            let want = activation.forward(&Matrix::row_vector(&[z]))[(0, 0)];
            assert_eq!(a.to_bits(), want.to_bits(), "{activation}: σ({z})");
        }
    }
}

/// With long patches (64 values or more) a ReLU convolution followed by max-pooling sums its
/// weight gradient, and the gradient it hands back to its input, over the pooling winners
/// alone (δ is zero elsewhere), in another order than the products over every position the
/// layers one at a time take: the same gradients within rounding, in `f64` (a product then a
/// sum per value) and in `f32` (fused multiply-adds on an AVX-512 CPU), and the gradient check
/// passes. The first layer's gradients depend on the input gradient of the second.
#[test]
fn with_long_patches_the_gradients_sum_over_the_winners_alone() {
    let cases: [(&[&str], ImageShape); 3] = [
        // 8 channels of 3 × 3 and 5 of 3 × 3 (same padding): patches of 72 and 45 values, so
        // the first layer takes the winners' sum and the second the products.
        (
            &["conv:5:3", "maxpool:2", "conv:7:3:1:same", "maxpool:2"],
            ImageShape::new(8, 10, 11),
        ),
        // 27 values, then 8 channels of 5 × 5 with same padding (200): the second layer's
        // input gradient from the winners, runs clipped at every border.
        (
            &["conv:8:3", "maxpool:2", "conv:6:5:1:same", "maxpool:2"],
            ImageShape::new(3, 13, 14),
        ),
        // 18 values, then 9 channels of 3 × 3 at stride 2 (81).
        (
            &["conv:9:3", "maxpool:2", "conv:4:3:2", "maxpool:2"],
            ImageShape::new(2, 20, 21),
        ),
    ];
    for (fused, shape) in cases {
        // The same layers with the identity between each convolution and its pooling, which
        // makes the network take them one at a time.
        let apart: Vec<&str> = fused
            .iter()
            .flat_map(|&layer| {
                if layer.starts_with("conv") {
                    vec![layer, "dropout:0"]
                } else {
                    vec![layer]
                }
            })
            .collect();
        for batch in [2, 13] {
            let x = random(batch, shape.len(), 91).map(|v| v - 0.2);
            let y = one_hot(batch, 3);
            let gradients = |stack: &[&str], check: bool| {
                let mut net: Network<f64> = config(shape, stack, Activation::Relu, &[3])
                    .with_seed(8)
                    .init()
                    .unwrap();
                let (_, gradients) = net.backward(&x, &y);
                if check {
                    let report = gradient_check(&net, &x, &y);
                    assert!(
                        report.passed_within_resolution(1e-6, 1e-9),
                        "{stack:?}: {report:?}"
                    );
                }
                let mut narrow: Network<f32> = config(shape, stack, Activation::Relu, &[3])
                    .with_seed(8)
                    .init()
                    .unwrap();
                let (_, narrow_gradients) = narrow.backward(&x.cast(), &y.cast());
                let all = |entries: Vec<(String, Matrix<f64>)>| -> Vec<Matrix<f64>> {
                    entries.into_iter().map(|(_, gradient)| gradient).collect()
                };
                let narrow_entries = narrow_gradients
                    .entries
                    .into_iter()
                    .map(|(name, gradient)| (name, gradient.cast::<f64>()))
                    .collect();
                (all(gradients.entries), all(narrow_entries))
            };
            let ((wide, narrow), (wide_apart, narrow_apart)) =
                (gradients(fused, true), gradients(&apart, false));
            assert_eq!(wide.len(), 6);
            for (tolerance, one_pass, one_by_one) in
                [(1e-12, &wide, &wide_apart), (1e-4, &narrow, &narrow_apart)]
            {
                for (index, (a, b)) in one_pass.iter().zip(one_by_one).enumerate() {
                    assert_eq!(a.shape(), b.shape());
                    let scale = b.as_slice().iter().fold(1e-3f64, |m, v| m.max(v.abs()));
                    for (p, q) in a.as_slice().iter().zip(b.as_slice()) {
                        assert!(
                            (p - q).abs() <= tolerance * scale,
                            "{fused:?}, batch {batch}, gradient {index}: {p} vs {q}"
                        );
                    }
                }
            }
            assert!(wide[0].as_slice().iter().any(|&g| g != 0.0));
        }
    }
}

/// A ReLU convolution followed by max-pooling goes back in one pass; a `dropout:0` between them
/// (the identity) makes the network take the layers one at a time. Both must give the same
/// gradients, bit for bit, and pass the gradient check.
#[test]
fn a_relu_convolution_and_its_max_pooling_go_back_as_the_layers_one_by_one_would() {
    let fused: &[&str] = &["conv:4:3", "maxpool:2", "conv:9:3", "maxpool:2"];
    let apart: &[&str] = &[
        "conv:4:3",
        "dropout:0",
        "maxpool:2",
        "conv:9:3",
        "dropout:0",
        "maxpool:2",
    ];
    let shape = ImageShape::new(2, 11, 12);
    // Batches of 3 and 21 examples; inputs of both signs, so that whole windows are ≤ 0
    // (their winner's σ′ is 0) and ties among zeros go to the first.
    for batch in [3, 21] {
        let x = random(batch, shape.len(), 77).map(|v| v - 0.3);
        let y = one_hot(batch, 3);
        let gradients = |stack: &[&str]| {
            let mut net: Network<f64> = config(shape, stack, Activation::Relu, &[3])
                .with_seed(4)
                .init()
                .unwrap();
            let (_, gradients) = net.backward(&x, &y);
            let report = gradient_check(&net, &x, &y);
            assert!(
                report.passed_within_resolution(1e-6, 1e-9),
                "{stack:?}: {report:?}"
            );
            gradients
                .entries
                .into_iter()
                .map(|(_, gradient)| gradient)
                .collect::<Vec<_>>()
        };
        let (one_pass, one_by_one) = (gradients(fused), gradients(apart));
        assert_eq!(one_pass.len(), 6);
        for (a, b) in one_pass.iter().zip(&one_by_one) {
            assert_eq!(a.shape(), b.shape());
            for (p, q) in a.as_slice().iter().zip(b.as_slice()) {
                assert_eq!(p.to_bits(), q.to_bits(), "batch {batch}: {p} vs {q}");
            }
        }
        assert!(one_pass[0].as_slice().iter().any(|&g| g != 0.0));
    }
}

#[test]
fn every_layer_passes_the_gradient_check() {
    let activations = Activation::ELEMENTWISE;
    let stacks: [&[&str]; 6] = [
        &["conv:3:3", "maxpool:2"],
        &["conv:2:3:2", "avgpool:2"],
        &["conv:3:3:1:same", "maxpool:2", "conv:2:2"],
        &["conv:2:4:1:same", "dropout:0.3", "avgpool:3"],
        &["maxpool:2", "conv:2:2:1:valid"],
        &["conv:4:1", "maxpool:3"],
    ];
    for (index, stack) in stacks.iter().enumerate() {
        let activation = activations[index % activations.len()];
        // 8 channels make the 3 × 3 and 4 × 4 patches long enough to be laid out by position.
        for channels in [1, 3, 8] {
            let shape = ImageShape::new(channels, 7, 9);
            let net: Network<f64> = config(shape, stack, activation, &[5, 3])
                .with_seed(index as u64)
                .init()
                .unwrap();
            let x = random(4, shape.len(), 30 + index as u64);
            let report = gradient_check(&net, &x, &one_hot(4, 3));
            let label = format!("{stack:?} {activation} {channels} channel(s)");
            assert!(
                report.passed_within_resolution(1e-6, 1e-9),
                "{label}: {report:?}"
            );
            assert!(report.checked() > report.skipped(), "{label}: {report:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pooling rules

#[test]
fn max_pooling_gives_ties_to_the_first_maximum_and_lets_nan_through() {
    let shape = ImageShape::new(1, 2, 4);
    let mut net: Network<f64> = config(shape, &["maxpool:2"], Activation::Relu, &[2])
        .with_seed(0)
        .init()
        .unwrap();
    // Window 1 ties (5 at (0,0) and (1,1)); window 2 holds a NaN.
    let x = Matrix::from_rows(&[[5.0, 1.0, 2.0, f64::NAN, 0.0, 5.0, 3.0, 1.0]]).unwrap();
    let pool = net.layers()[0].clone();
    let pooled = pool.infer(&x);
    assert_eq!(pooled[(0, 0)], 5.0);
    assert!(pooled[(0, 1)].is_nan());
    // The gradient of the tie reaches only the first 5 (index 0), not the one at index 5.
    let x = Matrix::from_rows(&[[5.0, 1.0, 2.0, 4.0, 0.0, 5.0, 3.0, 1.0]]).unwrap();
    let y = Matrix::from_rows(&[[1.0, 0.0]]).unwrap();
    let _ = net.backward(&x, &y);
    let backprop::Layer::Pool(pool) = &mut net.layers()[0].clone() else {
        panic!("a pooling layer")
    };
    assert_eq!(pool.winners(&x), vec![0, 3]);
}

#[test]
fn pooling_floors_its_output_as_pytorch_does() {
    let net: Network<f32> = config(
        ImageShape::new(2, 7, 5),
        &["avgpool:2"],
        Activation::Relu,
        &[3],
    )
    .init()
    .unwrap();
    assert_eq!(net.config().sizes[0], 2 * 3 * 2);
    let x = Matrix::from_fn(1, 70, |_, c| c as f32);
    let pooled = net.layers()[0].infer(&x);
    // Channel 0, window rows 0-1, columns 0-1: (0 + 1 + 5 + 6) / 4.
    assert_eq!(pooled[(0, 0)], 3.0);
    // Channel 1 starts at 35: (35 + 36 + 40 + 41) / 4.
    assert_eq!(pooled[(0, 6)], 38.0);
}

// ---------------------------------------------------------------------------------------------
// Names, shapes, files, errors

#[test]
fn names_count_every_entry_and_weights_have_pytorch_shapes() {
    let config = config(
        ImageShape::new(1, 28, 28),
        &[
            "conv:20:5",
            "maxpool:2",
            "conv:40:5",
            "maxpool:2",
            "dropout:0.5",
        ],
        Activation::Relu,
        &[100, 10],
    );
    assert_eq!(config.sizes, vec![40 * 4 * 4, 100, 10]);
    let shapes = config.parameter_shapes();
    let expected: Vec<(String, Vec<usize>)> = [
        ("layers.0.weight", vec![20, 1, 5, 5]),
        ("layers.0.bias", vec![20]),
        ("layers.2.weight", vec![40, 20, 5, 5]),
        ("layers.2.bias", vec![40]),
        ("layers.5.weight", vec![100, 640]),
        ("layers.5.bias", vec![100]),
        ("layers.6.weight", vec![10, 100]),
        ("layers.6.bias", vec![10]),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), s))
    .collect();
    assert_eq!(shapes, expected);
    let net: Network<f32> = config.init().unwrap();
    let names: Vec<String> = net.parameters().into_iter().map(|(n, _)| n).collect();
    let expected_names: Vec<String> = expected.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, expected_names);
    assert_eq!(net.input_width(), 784);
    assert_eq!(
        net.parameter_count(),
        20 * 25 + 20 + 40 * 500 + 40 + 640 * 100 + 100 + 100 * 10 + 10
    );
}

#[test]
fn a_convolutional_model_file_round_trips() {
    let config = config(
        ImageShape::new(1, 8, 8),
        &["conv:3:3:1:same", "maxpool:2", "conv:4:3"],
        Activation::Relu,
        &[10],
    )
    .with_seed(3);
    let network: Network<f32> = config.init().unwrap();
    let mut metadata = ModelMetadata::describe(&config, Task::Classification);
    metadata.preprocessing.input_kind = "image".into();
    let model = Model::new(network.clone(), metadata).unwrap();
    let bytes = model.to_bytes().unwrap();
    let back = Model::from_bytes(&bytes, "memory").unwrap();
    assert_eq!(back.network.config(), &config);
    assert_eq!(back.network.parameters(), network.parameters());
    let x = Matrix::from_fn(2, 64, |r, c| ((r * 64 + c) % 7) as f32 / 7.0);
    assert_eq!(back.network.forward(&x), network.forward(&x));
    // The weight tensor is stored (F, C, k, k).
    let header_length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_length]).unwrap();
    assert!(
        header.contains(r#""layers.0.weight":{"dtype":"F32","shape":[3,1,3,3]"#),
        "{header}"
    );
}

#[test]
fn layers_that_do_not_fit_the_image_are_refused_with_the_layer_named() {
    let message = |spec: &[&str]| {
        config(ImageShape::new(1, 8, 8), spec, Activation::Relu, &[2])
            .validate()
            .unwrap_err()
            .to_string()
    };
    assert!(message(&["conv:2:9"]).contains("layer 1 (conv:2:9:1:valid)"));
    assert!(message(&["conv:2:3", "maxpool:7"]).contains("layer 2 (maxpool:7)"));
    assert!(message(&["conv:2:3:2:same"]).contains("'same' padding needs stride 1"));
    assert!(FeatureLayer::parse("conv:0:3", Activation::Relu)
        .unwrap_err()
        .contains("at least 1"));
    assert!(FeatureLayer::parse("pool:2", Activation::Relu)
        .unwrap_err()
        .contains("maxpool:SIZE"));
    assert!(FeatureLayer::parse("conv:2:3:1:full", Activation::Relu)
        .unwrap_err()
        .contains("'same' or 'valid'"));
}

// ---------------------------------------------------------------------------------------------
// Training

/// 6×6 images of one horizontal or one vertical stroke (class 0 or 1), with noise.
fn strokes(count: usize, seed: u64) -> (Matrix<f32>, Matrix<f32>) {
    let mut rng = SeededRng::new(seed);
    let mut x = Matrix::zeros(count, 36);
    let mut y = Matrix::zeros(count, 2);
    for r in 0..count {
        let class = r % 2;
        let line = (rng.uniform() * 6.0) as usize % 6;
        for k in 0..6 {
            let (i, j) = if class == 0 { (line, k) } else { (k, line) };
            x[(r, i * 6 + j)] = 1.0;
        }
        for c in 0..36 {
            x[(r, c)] += (rng.uniform() as f32 - 0.5) * 0.4;
        }
        y[(r, class)] = 1.0;
    }
    (x, y)
}

fn train_strokes(optimizer: OptimizerConfig, epochs: usize) -> Network<f32> {
    let (x, y) = strokes(192, 1);
    let mut net: Network<f32> = config(
        ImageShape::new(1, 6, 6),
        &["conv:4:3", "maxpool:2", "dropout:0.1"],
        Activation::Relu,
        &[2],
    )
    .with_seed(4)
    .init()
    .unwrap();
    let training = TrainingConfig {
        epochs,
        batch_size: 16,
        optimizer,
        seed: 4,
        ..TrainingConfig::default()
    };
    Trainer::new(training)
        .unwrap()
        .fit(&mut net, &x, &y, None, &mut Silent)
        .unwrap();
    net
}

#[test]
fn a_small_convolutional_network_learns_strokes() {
    let adam = OptimizerConfig::Adam(AdamConfig::new().with_learning_rate(0.02));
    let net = train_strokes(adam, 30);
    let (x, y) = strokes(200, 77);
    let predicted = net.forward(&x).argmax_rows();
    let truth = y.argmax_rows();
    let right = predicted.iter().zip(&truth).filter(|(p, t)| p == t).count();
    assert!(right >= 196, "{right} of 200 held-out images right");
}

/// Two epochs on random 1×28×28 images, batch 64: shapes whose products the GEMM wrapper
/// splits across threads.
fn train_images(optimizer: OptimizerConfig) -> Vec<(String, Matrix<f32>)> {
    let mut rng = SeededRng::new(8);
    let x: Matrix<f32> = Matrix::random_uniform(128, 784, 0.0, 1.0, &mut rng);
    let y = Matrix::from_fn(128, 10, |r, c| f32::from(u8::from(r % 10 == c)));
    let mut net: Network<f32> = config(
        ImageShape::new(1, 28, 28),
        &[
            "conv:8:5",
            "maxpool:2",
            "conv:16:5",
            "maxpool:2",
            "dropout:0.2",
        ],
        Activation::Relu,
        &[32, 10],
    )
    .with_seed(6)
    .init()
    .unwrap();
    let training = TrainingConfig {
        epochs: 2,
        batch_size: 64,
        optimizer,
        seed: 6,
        ..TrainingConfig::default()
    };
    Trainer::new(training)
        .unwrap()
        .fit(&mut net, &x, &y, None, &mut Silent)
        .unwrap();
    net.parameters()
        .into_iter()
        .map(|(n, m)| (n, m.clone()))
        .collect()
}

#[test]
fn one_two_and_three_threads_train_bit_identical_weights() {
    // The first convolution's product at batch 64: 64·24·24 positions × 8 filters × 25.
    assert!(runs_in_parallel(
        64 * 576,
        8,
        25,
        Transpose::No,
        Transpose::Yes
    ));
    for optimizer in [
        OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(0.05)),
        OptimizerConfig::Adam(AdamConfig::new().with_learning_rate(0.01)),
    ] {
        let runs: Vec<Vec<(String, Matrix<f32>)>> = [1, 2, 3]
            .into_iter()
            .map(|threads| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| train_images(optimizer.clone()))
            })
            .collect();
        assert_eq!(runs[0], runs[1], "{} at 1 and 2 threads", optimizer.name());
        assert_eq!(runs[0], runs[2], "{} at 1 and 3 threads", optimizer.name());
    }
}

#[test]
fn large_batches_are_inferred_in_pieces_with_the_same_results() {
    let shape = ImageShape::new(2, 6, 6);
    let net: Network<f64> = config(shape, &["conv:3:3", "maxpool:2"], Activation::Relu, &[4])
        .with_seed(2)
        .init()
        .unwrap();
    // More than two pieces of INFERENCE_ROWS rows, the last one short.
    let rows = 2 * backprop::conv::INFERENCE_ROWS + 37;
    let x = random(rows, shape.len(), 12);
    let whole = net.forward(&x);
    let (z, a) = net.output_with_logits(&x);
    assert_eq!(whole.shape(), (rows, 4));
    assert_eq!(a, whole);
    assert_eq!(z.shape(), (rows, 4));
    for row in [0, 255, 256, 511, 512, rows - 1] {
        let alone = net.forward(&x.select_rows(&[row]));
        for (got, want) in whole.row(row).iter().zip(alone.row(0)) {
            assert!((got - want).abs() < 1e-12, "row {row}: {got} vs {want}");
        }
    }
}
