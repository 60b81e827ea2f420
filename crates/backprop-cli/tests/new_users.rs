//! Where new users got stuck, tried through the real binary: an untrained model from
//! `--epochs 0`, `--no-shuffle`, every optimiser hyper-parameter as a flag and in a config file
//! (recorded in the model and the checkpoint), value lists that start with a minus sign,
//! unscaled regression targets, `--scale` with `--init-from`, a resumed run's header, `inspect`
//! on a plain-SGD checkpoint, optimiser buffers in their parameter's shape, and a real CSV with
//! IDs, free text and missing cells (`--ignore`, `--features`, stored fill values applied by
//! `predict` and `evaluate`).

mod train_support;

use serde_json::Value;
use train_support::{
    backprop_in, model_metadata, model_values as weights, scratch, stderr, succeed as ok,
    train_json, usage_error, write_file,
};

#[test]
fn epochs_zero_saves_the_initialised_model_and_reports_its_metrics() {
    let folder = scratch();
    let dir = folder.path();
    let (json, _) = train_json(
        dir,
        &[
            "--data",
            "moons",
            "--epochs",
            "0",
            "--out",
            "zero.safetensors",
        ],
    );
    assert!(json["test_accuracy"].as_f64().is_some(), "{json}");
    assert_eq!(json["epochs"], 0, "{json}");
    // The same seed's first epoch starts from exactly these weights.
    train_json(
        dir,
        &[
            "--data",
            "moons",
            "--epochs",
            "1",
            "--out",
            "one.safetensors",
        ],
    );
    let metadata = model_metadata(&dir.join("zero.safetensors"));
    let sizes: Vec<usize> = metadata["architecture"]["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|size| size.as_u64().unwrap() as usize)
        .collect();
    // Seed 0's initial weights for these sizes (PyTorch's initialisation draws the same
    // numbers whatever the activations).
    let untrained: backprop::Network<f32> =
        backprop::NetworkConfig::new(&sizes, backprop::Cost::SoftmaxCrossEntropy)
            .with_seed(0)
            .init()
            .unwrap();
    let initial: Vec<f32> = untrained
        .parameters()
        .into_iter()
        .flat_map(|(_, m)| m.as_slice().to_vec())
        .collect();
    let zero = weights(&dir.join("zero.safetensors"));
    assert_eq!(zero, initial);
    assert_ne!(
        zero,
        weights(&dir.join("one.safetensors")),
        "one epoch moves them"
    );
    assert_eq!(metadata["hyperparameters"]["epochs_run"], 0);
    // A resumed run goes on training: --epochs 0 is refused.
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            "moons",
            "--epochs",
            "1",
            "--checkpoint-every",
            "1",
            "--out",
            "ck.safetensors",
        ],
    );
    let errors = usage_error(
        dir,
        &[
            "train",
            "--resume",
            "ck.checkpoint.safetensors",
            "--epochs",
            "0",
        ],
    );
    assert!(errors.contains("--epochs 0"), "{errors}");
}

#[test]
fn no_shuffle_takes_the_rows_in_order_and_is_recorded() {
    let folder = scratch();
    let dir = folder.path();
    let common = ["--data", "moons", "--epochs", "3", "--batch-size", "16"];
    let run = |out: &str, extra: &[&str]| {
        let mut arguments = common.to_vec();
        arguments.extend_from_slice(&["--out", out]);
        arguments.extend_from_slice(extra);
        train_json(dir, &arguments);
        weights(&dir.join(out))
    };
    let shuffled = run("s.safetensors", &[]);
    let in_order = run("o.safetensors", &["--no-shuffle"]);
    let again = run("o2.safetensors", &["--no-shuffle", "--seed", "0"]);
    assert_eq!(in_order, again);
    assert_ne!(shuffled, in_order, "--no-shuffle changed nothing");
    let metadata = model_metadata(&dir.join("o.safetensors"));
    assert_eq!(metadata["hyperparameters"]["shuffle"], false);
    let (_, header) = ok(
        dir,
        &[
            "train",
            "--data",
            "moons",
            "--epochs",
            "1",
            "--no-shuffle",
            "--out",
            "h.safetensors",
        ],
    );
    assert!(header.contains("no shuffling"), "{header}");
}

#[test]
fn optimiser_hyper_parameters_from_flags_and_config_files_are_recorded() {
    let folder = scratch();
    let dir = folder.path();
    let out = |name: &str| dir.join(name);
    let (_, header) = ok(
        dir,
        &[
            "train",
            "--data",
            "moons",
            "--epochs",
            "1",
            "--optimizer",
            "adam",
            "--betas",
            "0.8,0.95",
            "--eps",
            "1e-6",
            "--out",
            "adam.safetensors",
        ],
    );
    assert!(
        header.contains("betas 0.8,0.95") && header.contains("eps 0.000001"),
        "{header}"
    );
    let hyper = &model_metadata(&out("adam.safetensors"))["hyperparameters"];
    assert_eq!(hyper["betas"], serde_json::json!([0.8, 0.95]));
    assert_eq!(hyper["eps"], 1e-6);
    // The same from a config file, and RMSprop's α and centring, recorded in a checkpoint.
    let config = write_file(
        dir,
        "run.toml",
        "optimizer = \"rmsprop\"\nrmsprop-alpha = 0.9\ncentered = true\neps = 1e-5\n",
    );
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            "moons",
            "--epochs",
            "2",
            "--config",
            &config,
            "--checkpoint-every",
            "1",
            "--out",
            "rms.safetensors",
        ],
    );
    for file in ["rms.safetensors", "rms.checkpoint.safetensors"] {
        let hyper = &model_metadata(&out(file))["hyperparameters"];
        assert_eq!(
            (&hyper["alpha"], &hyper["centered"], &hyper["eps"]),
            (&Value::from(0.9), &Value::from(true), &Value::from(1e-5)),
            "{file}: {hyper}"
        );
    }
    // Centred RMSprop keeps a gradient average: its buffers are in the checkpoint, each in its
    // parameter's shape (as `optimizer.state` in PyTorch).
    let (stdout, _) = ok(dir, &["inspect", "rms.checkpoint.safetensors", "--json"]);
    let inspected: Value = serde_json::from_str(stdout.trim()).unwrap();
    let tensors = inspected["optimizer_tensors"].as_array().unwrap();
    let shape = |name: &str| {
        tensors
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {tensors:?}"))["shape"]
            .clone()
    };
    let hidden = model_metadata(&out("rms.safetensors"))["architecture"]["sizes"][1].clone();
    assert_eq!(
        shape("optimizer.layers.0.weight.grad_avg"),
        serde_json::json!([hidden, 2])
    );
    assert_eq!(
        shape("optimizer.layers.0.bias.square_avg"),
        serde_json::json!([hidden])
    );
    // Dampening for SGD with momentum; a flag its optimiser has no use for is a usage error.
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            "moons",
            "--epochs",
            "1",
            "--optimizer",
            "momentum",
            "--dampening",
            "0.5",
            "--out",
            "sgd.safetensors",
        ],
    );
    assert_eq!(
        model_metadata(&out("sgd.safetensors"))["hyperparameters"]["dampening"],
        0.5
    );
    let errors = usage_error(
        dir,
        &[
            "train",
            "--data",
            "moons",
            "--optimizer",
            "sgd",
            "--betas",
            "0.9,0.99",
        ],
    );
    assert!(
        errors.contains("--betas applies to adam and adamw"),
        "{errors}"
    );
    // The resumed run's header names the epochs it will reach, not the original run's.
    let (_, resumed) = ok(
        dir,
        &[
            "train",
            "--resume",
            "rms.checkpoint.safetensors",
            "--epochs",
            "5",
        ],
    );
    assert!(resumed.contains("5 epochs"), "{resumed}");
}

#[test]
fn inspect_calls_a_plain_sgd_checkpoint_a_checkpoint() {
    let folder = scratch();
    let dir = folder.path();
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            "moons",
            "--epochs",
            "1",
            "--optimizer",
            "sgd",
            "--checkpoint-every",
            "1",
            "--out",
            "m.safetensors",
        ],
    );
    let (_, text) = ok(dir, &["inspect", "m.checkpoint.safetensors"]);
    assert!(text.contains("backprop checkpoint"), "{text}");
    let (stdout, _) = ok(dir, &["inspect", "m.checkpoint.safetensors", "--json"]);
    let json: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["checkpoint"], true);
    let (stdout, _) = ok(dir, &["inspect", "m.safetensors", "--json"]);
    let json: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["checkpoint"], false);
}

#[test]
fn value_lists_may_start_with_a_minus_sign() {
    let folder = scratch();
    let dir = folder.path();
    let (stdout, _) = ok(
        dir,
        &["explain", "--signals", "-0.5,2", "--result", "-1", "--json"],
    );
    let json: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["input"], serde_json::json!([-0.5, 2.0]));
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            "plane",
            "--epochs",
            "1",
            "--out",
            "plane.safetensors",
        ],
    );
    let (stdout, _) = ok(
        dir,
        &[
            "explain",
            "--model",
            "plane.safetensors",
            "--input",
            "-0.5,1",
            "--target-values",
            "-1",
            "--json",
        ],
    );
    let json: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["input"].as_array().unwrap().len(), 2);
    ok(
        dir,
        &[
            "draw",
            "plane.safetensors",
            "--out",
            "p.svg",
            "--input",
            "-0.5,1",
        ],
    );
}

#[test]
fn regression_targets_can_stay_unscaled_and_scale_must_match_init_from() {
    let folder = scratch();
    let dir = folder.path();
    let mut csv = String::from("x,y\n");
    for row in 0..60 {
        let x = row as f64 / 10.0;
        csv.push_str(&format!("{x},{}\n", 1000.0 + 3.0 * x));
    }
    let data = write_file(dir, "line.csv", &csv);
    let (json, header) = train_json(
        dir,
        &[
            "--data",
            &data,
            "--target-scale",
            "none",
            "--epochs",
            "2",
            "--out",
            "raw.safetensors",
        ],
    );
    assert!(json["test_r2"].as_f64().is_some(), "{json}");
    let metadata = model_metadata(&dir.join("raw.safetensors"));
    assert!(
        metadata["preprocessing"]["target_scaler"].is_null(),
        "{metadata}"
    );
    assert_eq!(metadata["hyperparameters"]["target_scale"], "none");
    let _ = header;
    let (_, header) = ok(
        dir,
        &[
            "train",
            "--data",
            &data,
            "--target-scale",
            "none",
            "--epochs",
            "1",
            "--out",
            "r2.safetensors",
        ],
    );
    assert!(header.contains("--target-scale none"), "{header}");
    // The default stays standard.
    train_json(
        dir,
        &["--data", &data, "--epochs", "1", "--out", "std.safetensors"],
    );
    let metadata = model_metadata(&dir.join("std.safetensors"));
    assert_eq!(
        metadata["preprocessing"]["target_scaler"]["kind"],
        "standard"
    );
    // --scale with --init-from: accepted when it matches the model's, refused otherwise.
    train_json(
        dir,
        &[
            "--data",
            &data,
            "--init-from",
            "std.safetensors",
            "--scale",
            "standard",
            "--epochs",
            "1",
            "--out",
            "tuned.safetensors",
        ],
    );
    let errors = usage_error(
        dir,
        &[
            "train",
            "--data",
            &data,
            "--init-from",
            "std.safetensors",
            "--scale",
            "minmax",
        ],
    );
    assert!(errors.contains("--scale minmax does not match"), "{errors}");
    let errors = usage_error(
        dir,
        &[
            "train",
            "--data",
            &data,
            "--init-from",
            "std.safetensors",
            "--target-scale",
            "none",
        ],
    );
    assert!(
        errors.contains("--target-scale none does not match"),
        "{errors}"
    );
}

/// A penguins-like table: an ID and a comment column, a date, NA cells.
fn penguins() -> String {
    let mut text = String::from(
        "studyName,Sample Number,Species,Individual ID,Date Egg,Culmen Length (mm),Flipper Length (mm),Sex,Comments\n",
    );
    for i in 0..90usize {
        let species = ["Adelie", "Gentoo", "Chinstrap"][i % 3];
        let culmen = [38.8, 47.5, 48.8][i % 3] + (i % 7) as f64 * 0.3;
        let flipper = [190.0, 217.0, 196.0][i % 3] + (i % 5) as f64;
        let culmen = if i % 17 == 0 {
            "NA".to_string()
        } else {
            format!("{culmen:.1}")
        };
        let sex = ["MALE", "FEMALE", "NA"][i % 4 % 3];
        let comment = if i % 4 == 0 {
            format!("nest {i} observed")
        } else {
            "NA".into()
        };
        text.push_str(&format!(
            "PAL0708,{},{species},N{i}A{},2007-11-{:02},{culmen},{flipper},{sex},{comment}\n",
            i + 1,
            i % 2 + 1,
            i % 28 + 1
        ));
    }
    text
}

#[test]
fn a_real_csv_with_ids_free_text_and_missing_cells() {
    let folder = scratch();
    let dir = folder.path();
    let data = write_file(dir, "penguins.csv", &penguins());
    // The raw table: the ID column is named in a warning that suggests --ignore.
    let (_, errors) = ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            &data,
            "--target",
            "Species",
            "--missing",
            "mean",
            "--epochs",
            "1",
            "--out",
            "raw.safetensors",
        ],
    );
    assert!(
        errors.contains("column \"Individual ID\" holds 90 distinct strings")
            && errors.contains("--ignore \"Individual ID\""),
        "{errors}"
    );
    assert!(!errors.contains("\"Sex\" holds"), "{errors}");
    // --ignore by names and an index, or --features: the same inputs.
    let ignore = "studyName,1,Individual ID,Date Egg,Comments";
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            &data,
            "--target",
            "Species",
            "--missing",
            "mean",
            "--ignore",
            ignore,
            "--epochs",
            "30",
            "--out",
            "m.safetensors",
        ],
    );
    let metadata = model_metadata(&dir.join("m.safetensors"));
    assert_eq!(
        metadata["preprocessing"]["feature_names"],
        serde_json::json!([
            "Culmen Length (mm)",
            "Flipper Length (mm)",
            "Sex=FEMALE",
            "Sex=MALE"
        ])
    );
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            &data,
            "--target",
            "Species",
            "--missing",
            "mean",
            "--features",
            "Culmen Length (mm),Flipper Length (mm),Sex",
            "--epochs",
            "1",
            "--out",
            "f.safetensors",
        ],
    );
    assert_eq!(
        model_metadata(&dir.join("f.safetensors"))["preprocessing"]["feature_names"],
        metadata["preprocessing"]["feature_names"]
    );
    // The fill values are stored: the culmen column's mean over the rows read, Sex's mode.
    let fills = metadata["preprocessing"]["missing_fill"]
        .as_array()
        .unwrap();
    let fill = |column: &str| {
        fills
            .iter()
            .find(|f| f["column"] == column)
            .unwrap_or_else(|| panic!("{fills:?}"))["value"]
            .clone()
    };
    let culmen: Vec<f64> = (0..90usize)
        .filter(|i| i % 17 != 0)
        .map(|i| [38.8, 47.5, 48.8][i % 3] + (i % 7) as f64 * 0.3)
        .map(|v| format!("{v:.1}").parse::<f64>().unwrap())
        .collect();
    let mean = culmen.iter().sum::<f64>() / culmen.len() as f64;
    assert!((fill("Culmen Length (mm)").as_f64().unwrap() - mean).abs() < 1e-3);
    assert_eq!(fill("Sex"), "MALE");
    // predict and evaluate fill rows with missing cells as training did, and say so.
    let new = write_file(
        dir,
        "new.csv",
        "Culmen Length (mm),Flipper Length (mm),Sex,Species\nNA,217,FEMALE,Gentoo\n38.9,190,NA,Adelie\n",
    );
    let (predictions, errors) = ok(
        dir,
        &["predict", "--model", "m.safetensors", "--input", &new],
    );
    assert_eq!(predictions.lines().count(), 3, "{predictions}");
    assert!(
        errors.contains("\"Culmen Length (mm)\": 1 missing cell(s) filled"),
        "{errors}"
    );
    assert!(
        errors.contains("\"Sex\": 1 missing cell(s) filled"),
        "{errors}"
    );
    // The filled row predicts as the row with the fill written in.
    let written = write_file(
        dir,
        "written.csv",
        &format!(
            "Culmen Length (mm),Flipper Length (mm),Sex,Species\n{},217,FEMALE,Gentoo\n",
            fill("Culmen Length (mm)")
        ),
    );
    let (same, _) = ok(
        dir,
        &["predict", "--model", "m.safetensors", "--input", &written],
    );
    let probabilities = |text: &str| {
        text.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .skip(2)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(probabilities(&predictions), probabilities(&same));
    let (_, errors) = ok(
        dir,
        &["evaluate", "--model", "m.safetensors", "--data", &new],
    );
    assert!(errors.contains("missing cell(s) filled"), "{errors}");
    // A model trained without --missing mean still refuses missing cells, naming the cell.
    ok(
        dir,
        &[
            "train",
            "-q",
            "--data",
            &data,
            "--target",
            "Species",
            "--missing",
            "drop",
            "--features",
            "Culmen Length (mm),Flipper Length (mm)",
            "--epochs",
            "1",
            "--out",
            "d.safetensors",
        ],
    );
    let output = backprop_in(
        dir,
        &["predict", "--model", "d.safetensors", "--input", &new],
    );
    assert_ne!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("new.csv:2"), "{}", stderr(&output));
    // Bad column choices are usage errors naming the column.
    let errors = usage_error(
        dir,
        &[
            "train", "--data", &data, "--target", "Species", "--ignore", "Beak",
        ],
    );
    assert!(errors.contains("--ignore: no column \"Beak\""), "{errors}");
    let errors = usage_error(
        dir,
        &[
            "train",
            "--data",
            &data,
            "--target",
            "Species",
            "--features",
            "Species,Sex",
        ],
    );
    assert!(
        errors.contains("--features names the target column"),
        "{errors}"
    );
}
