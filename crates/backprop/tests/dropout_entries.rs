//! Dropout written between dense layers (`--layers 32,dropout:0.3,16`): each entry counts in
//! the tensor names as every entry of `--layers` does, drops units only in training, follows
//! the seed bit for bit on any thread count, and survives a model file.

use backprop::model::{Model, ModelMetadata};
use backprop::{
    Activation, Cost, Matrix, Network, NetworkConfig, SeededRng, Task, Trainer, TrainingConfig,
};

fn config(hidden_dropout: Vec<f64>) -> NetworkConfig {
    NetworkConfig::new(&[6, 12, 8, 3], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Relu)
        .with_hidden_dropout(hidden_dropout)
        .with_seed(5)
}

fn data() -> (Matrix<f32>, Matrix<f32>) {
    let mut rng = SeededRng::with_stream(9, 1);
    let x: Matrix<f32> = Matrix::random_normal(96, 6, 0.0, 1.0, &mut rng);
    let y = Matrix::from_fn(96, 3, |row, col| {
        let class = usize::from(x[(row, 0)] > 0.0) + usize::from(x[(row, 1)] > 0.5);
        if class == col {
            1.0
        } else {
            0.0
        }
    });
    (x, y)
}

fn trained(hidden_dropout: Vec<f64>, threads: usize) -> Network<f32> {
    let (x, y) = data();
    let mut network: Network<f32> = config(hidden_dropout).init().unwrap();
    let training = TrainingConfig {
        epochs: 3,
        batch_size: 16,
        seed: 5,
        ..TrainingConfig::default()
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| {
            Trainer::new(training)
                .unwrap()
                .fit(
                    &mut network,
                    &x,
                    &y,
                    None,
                    &mut |_: &backprop::train::TrainingEvent<'_>| {},
                )
                .unwrap()
        });
    network
}

#[test]
fn each_dropout_entry_counts_in_the_tensor_names() {
    let network: Network<f32> = config(vec![0.5, 0.0]).init().unwrap();
    let names: Vec<String> = network.parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.2.weight",
            "layers.2.bias",
            "layers.3.weight",
            "layers.3.bias"
        ]
    );
    assert_eq!(network.config().dense_tensor_index(1), 2);
    // After the second hidden layer instead: the output layer moves.
    let later: Network<f32> = config(vec![0.0, 0.25]).init().unwrap();
    let names: Vec<String> = later.parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names[2..4], ["layers.1.weight", "layers.1.bias"]);
    assert_eq!(names[4..], ["layers.3.weight", "layers.3.bias"]);
    // Same draws as the network without dropout: the entries hold no weights.
    let plain: Network<f32> = config(Vec::new()).init().unwrap();
    let values = |n: &Network<f32>| -> Vec<Vec<f32>> {
        n.parameters()
            .into_iter()
            .map(|(_, m)| m.as_slice().to_vec())
            .collect()
    };
    assert_eq!(values(&network), values(&plain));
}

#[test]
fn the_entries_drop_units_in_training_only_and_follow_the_seed_on_any_thread_count() {
    let (x, _) = data();
    let with = trained(vec![0.5, 0.0], 1);
    let without = trained(Vec::new(), 1);
    let bits = |n: &Network<f32>| -> Vec<u32> {
        n.parameters()
            .into_iter()
            .flat_map(|(_, m)| m.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            .collect()
    };
    assert_ne!(
        bits(&with),
        bits(&without),
        "the dropout entry changed training"
    );
    for threads in [2, 3] {
        assert_eq!(
            bits(&trained(vec![0.5, 0.0], threads)),
            bits(&with),
            "{threads} threads"
        );
    }
    // Inference is deterministic: no unit is dropped.
    assert_eq!(with.forward(&x), with.forward(&x));
}

#[test]
fn a_model_file_keeps_the_entries_and_bad_settings_are_refused() {
    let network = trained(vec![0.0, 0.3], 1);
    let metadata = ModelMetadata::describe(network.config(), Task::Classification);
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("m.safetensors");
    Model::new(network.clone(), metadata)
        .unwrap()
        .save(&path)
        .unwrap();
    let loaded = Model::load(&path).unwrap();
    assert_eq!(loaded.network.config().hidden_dropout, vec![0.0, 0.3]);
    let (x, _) = data();
    assert_eq!(loaded.network.forward(&x), network.forward(&x));

    let refused = |c: NetworkConfig| c.init::<f32>().unwrap_err().to_string();
    assert!(refused(config(vec![0.5, 0.0]).with_dropout(0.2)).contains("give one of the two"));
    assert!(refused(config(vec![1.0])).contains("[0, 1)"));
    assert!(refused(config(vec![0.1, 0.1, 0.1])).contains("2 hidden layers"));
}
