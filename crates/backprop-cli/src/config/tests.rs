//! Unit tests of the plan: presets, flags that win, and the checks made before loading.

use super::*;
use crate::args::{Cli, Command};
use backprop_data::BuiltIn;
use clap::Parser;

fn plan(flags: &[&str]) -> Result<TrainPlan, CliError> {
    let cli = Cli::try_parse_from(["backprop", "train"].iter().chain(flags)).unwrap();
    let Command::Train(arguments) = cli.command else {
        panic!("expected the train command")
    };
    TrainPlan::from_args(*arguments)
}

#[test]
fn presets_fill_in_and_flags_win() {
    let company = plan(&["--data", "xor-table"]).unwrap();
    assert_eq!(company.hidden_layers, vec![3]);
    assert_eq!(
        company.cost_for(Task::Classification).unwrap().0,
        Cost::BinaryCrossEntropy
    );
    assert_eq!(company.test_split, None);
    assert_eq!(company.batch_size, None);
    let changed = plan(&["--data", "xor-table", "--layers", "4", "--epochs", "5"]).unwrap();
    assert_eq!((changed.hidden_layers, changed.epochs), (vec![4], 5));
    let digits = plan(&[]).unwrap();
    assert!(matches!(
        digits.source,
        DataSource::BuiltIn {
            builtin: BuiltIn::Digits,
            ..
        }
    ));
    assert_eq!(digits.test_split, Some(0.2));
    assert_eq!((digits.validation, digits.early_stopping), (None, None));
    assert_eq!(
        digits.cost_for(Task::Classification).unwrap().0,
        Cost::SoftmaxCrossEntropy
    );
    assert_eq!(digits.output.model, PathBuf::from(DEFAULT_MODEL_FILE));
}

#[test]
fn csv_files_take_the_tabular_preset_and_mnist_its_own() {
    let csv = plan(&["--data", "iris.csv.gz"]).unwrap();
    assert_eq!(csv.preset.name, "tabular");
    assert_eq!(csv.validation, Some(0.2));
    assert_eq!(csv.early_stopping, Some(10));
    assert_eq!(csv.scale, ScalerKind::Standard);
    let off = plan(&["--data", "iris.csv", "--early-stopping", "0"]).unwrap();
    assert_eq!(off.early_stopping, None);
    let mnist = plan(&["--data", "mnist:/no/such/folder"]).unwrap();
    assert_eq!(mnist.hidden_layers, vec![192, 96]);
    assert_eq!((mnist.scale, mnist.test_split), (ScalerKind::None, None));
    assert!(matches!(mnist.schedule, ScheduleSpec::Cosine { .. }));
    assert_eq!(mnist.initialization, Initialization::HeUniform);
    assert_eq!(mnist.warmup, 400);
    // The warm-up comes with the preset's schedule: another schedule starts without one,
    // unless --warmup asks for it.
    let constant = plan(&["--data", "mnist:x", "--schedule", "constant"]).unwrap();
    assert_eq!(constant.warmup, 0);
    let both = plan(&[
        "--data",
        "mnist:x",
        "--schedule",
        "constant",
        "--warmup",
        "7",
    ])
    .unwrap();
    assert_eq!(both.warmup, 7);
    let conv = plan(&["--data", "mnist:x", "--preset", "mnist-conv"]).unwrap();
    assert_eq!(conv.warmup, 0);
    assert_eq!(conv.initialization, Initialization::PytorchDefault);
}

#[test]
fn nielsen_presets_and_explicit_flags() {
    let book = plan(&["--data", "mnist:x", "--preset", "nielsen"]).unwrap();
    assert_eq!(book.hidden_layers, vec![30]);
    assert_eq!(book.optimizer.learning_rate(), 3.0);
    assert_eq!(book.batch_size, Some(10));
    assert_eq!(book.initialization, Initialization::StandardNormal);
    assert_eq!(
        book.cost_for(Task::Classification).unwrap(),
        (Cost::Quadratic, Some(Activation::Sigmoid))
    );
    let second = plan(&["--data", "mnist:x", "--preset", "nielsen2", "--epochs", "2"]).unwrap();
    assert_eq!((second.l2_nielsen, second.epochs), (5.0, 2));
    assert_eq!(
        second.cost_for(Task::Classification).unwrap(),
        (Cost::BinaryCrossEntropy, Some(Activation::Sigmoid))
    );
    let mse = plan(&["--preset", "nielsen", "--cost", "mse"]).unwrap();
    assert_eq!(
        mse.cost_for(Task::Classification).unwrap(),
        (Cost::MeanSquaredError, None)
    );
}

#[test]
fn another_optimizer_gets_its_own_default_rate() {
    let sgd = plan(&["--optimizer", "sgd"]).unwrap();
    assert_eq!(sgd.optimizer.learning_rate(), 0.1);
    let rmsprop = plan(&["--data", "circle", "--optimizer", "rmsprop"]).unwrap();
    assert_eq!(rmsprop.optimizer.learning_rate(), 0.01);
    let adam = plan(&["--data", "circle"]).unwrap();
    assert_eq!(adam.optimizer.learning_rate(), 0.03);
}

#[test]
fn early_stopping_defaults_validation_and_says_so() {
    let plan = plan(&["--early-stopping", "3"]).unwrap();
    assert_eq!(plan.validation, Some(EARLY_STOPPING_VALIDATION));
    assert!(plan.notes.iter().any(|n| n.contains("--validation 0.1")));
}

#[test]
fn invalid_combinations_are_usage_errors() {
    for flags in [
        &["--data", "plane", "--task", "classify"][..],
        &["--data", "plane", "--cost", "bce"],
        &["--optimizer", "adam", "--momentum", "0.5"],
        &["--learning-rate", "-1"],
        &["--optimizer", "nesterov", "--momentum", "0"],
        &["--data", "nope"],
        &["--init-from", "m.safetensors", "--layers", "8"],
        &["--init-from", "m.safetensors", "--activation", "tanh"],
        &["--early-stopping", "3", "--validation", "0"],
    ] {
        let error = plan(flags).unwrap_err();
        assert_eq!(error.exit_code(), 2, "{flags:?}: {error}");
    }
    let error = plan(&["--init-from", "m.safetensors", "--layers", "8"]).unwrap_err();
    assert!(error.to_string().contains("come from the model"), "{error}");
}
