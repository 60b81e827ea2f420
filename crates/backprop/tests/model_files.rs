//! Model files: round trips, and every way a file can be wrong refused with a clear error that
//! names the file, never a panic.
//!
//! - save → load gives bit-identical parameters, an equal config and equal metadata;
//! - foreign and damaged files: plain safetensors without metadata, a newer format version,
//!   missing, misshapen, F64, unknown and non-finite tensors, inconsistent preprocessing;
//! - checkpoint tensors `optimizer.*` are skipped by a model reader and returned on request;
//! - truncation at every byte, random bytes and random byte flips never panic;
//! - saving is atomic: failed saves leave nothing behind and never damage an existing file.

mod model_support;

use backprop::model::{
    AffineScaler, Model, ModelError, ModelMetadata, NamedTensor, MAX_MODEL_FILE_BYTES,
};
use backprop::{Activation, Cost, Error, Matrix, NetworkConfig, Task};
use model_support::{
    assemble, assemble_model, classifier, metadata_json, raw_inputs, regressor, tensors_of,
    RawTensor,
};
use proptest::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// The error message of reading `bytes`, which must fail.
fn refusal(bytes: &[u8]) -> String {
    match Model::from_bytes(bytes, "suspect.safetensors") {
        Ok(_) => panic!("the file was accepted"),
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.contains("suspect.safetensors"),
                "the message does not name the file: {message}"
            );
            message
        }
    }
}

/// Reads a model built from `model`'s tensors after `edit`, with its metadata after `edit_json`.
fn edited(
    model: &Model,
    edit: impl FnOnce(&mut Vec<RawTensor>),
    edit_json: impl FnOnce(&mut serde_json::Value),
) -> Vec<u8> {
    let mut tensors = tensors_of(model);
    edit(&mut tensors);
    let mut json = metadata_json(model);
    edit_json(&mut json);
    assemble_model(&tensors, &json)
}

fn files_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn assert_bit_identical(a: &Model, b: &Model) {
    let (pa, pb) = (a.network.parameters(), b.network.parameters());
    assert_eq!(pa.len(), pb.len());
    for ((na, ma), (nb, mb)) in pa.iter().zip(&pb) {
        assert_eq!(na, nb);
        assert_eq!(ma.shape(), mb.shape(), "{na}");
        let bits = |m: &Matrix<f32>| m.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(ma), bits(mb), "{na} differs");
    }
}

#[test]
fn save_then_load_is_bit_identical() {
    for model in [classifier(), regressor()] {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("model.safetensors");
        model.save(&path).unwrap();
        assert_eq!(files_in(folder.path()), ["model.safetensors"]);
        let loaded = Model::load(&path).unwrap();
        assert_bit_identical(&model, &loaded);
        assert_eq!(loaded.metadata, model.metadata);
        assert_eq!(loaded.network.config(), model.network.config());
        let x = raw_inputs(9, 77);
        assert_eq!(loaded.predict(&x).unwrap(), model.predict(&x).unwrap());
        // Writing again gives the same bytes, and overwriting works.
        assert_eq!(std::fs::read(&path).unwrap(), model.to_bytes().unwrap());
        loaded.save(&path).unwrap();
        assert_eq!(files_in(folder.path()), ["model.safetensors"]);
    }
}

/// A saved model gets the permissions of any newly created file (0666 less the umask), not
/// the private 0600 of the temporary file it was written through.
#[cfg(unix)]
#[test]
fn a_saved_model_has_the_permissions_of_a_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let folder = tempfile::tempdir().unwrap();
    let mode = |name: &str| {
        let metadata = std::fs::metadata(folder.path().join(name)).unwrap();
        metadata.permissions().mode() & 0o777
    };
    std::fs::File::create(folder.path().join("plain")).unwrap();
    classifier()
        .save(&folder.path().join("model.safetensors"))
        .unwrap();
    assert_eq!(mode("model.safetensors"), mode("plain"));
}

#[test]
fn metadata_is_plain_json_under_the_backprop_key() {
    let model = classifier();
    let bytes = model.to_bytes().unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let map = header.metadata().as_ref().unwrap();
    assert_eq!(map.keys().collect::<Vec<_>>(), ["backprop"]);
    let json: serde_json::Value = serde_json::from_str(&map["backprop"]).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(
        json["architecture"]["sizes"],
        serde_json::json!([3, 8, 6, 5, 3])
    );
    assert_eq!(
        json["architecture"]["activations"],
        serde_json::json!(["tanh", "relu", "gelu", "softmax"])
    );
    assert_eq!(json["cost"], "cross-entropy");
    assert_eq!(json["task"], "classification");
    assert_eq!(json["preprocessing"]["input_scaler"]["kind"], "standard");
    assert_eq!(json["history"].as_array().unwrap().len(), 4);
    assert_eq!(json["history"][0]["epoch"], 1);
    assert_eq!(json["data"]["sha256"].as_str().unwrap().len(), 64);
    assert!(json["created_by"]
        .as_str()
        .unwrap()
        .starts_with("backprop "));
    let safetensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let weight = safetensors.tensor("layers.0.weight").unwrap();
    assert_eq!(weight.shape(), [8, 3]);
    assert_eq!(weight.dtype(), safetensors::Dtype::F32);
    assert_eq!(safetensors.tensor("layers.3.bias").unwrap().shape(), [3]);
}

#[test]
fn history_summaries_follow_the_training_history() {
    let model = classifier();
    let history = &model.metadata.history;
    assert_eq!(
        history.iter().map(|h| h.epoch).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(history
        .iter()
        .all(|h| h.accuracy.is_some() && h.mae.is_none()));
    assert!(history.iter().all(|h| h.validation_loss.is_none()));
    assert!(history[3].step > history[0].step);
    let regression = regressor();
    assert!(regression.metadata.history.iter().all(|h| h.r2.is_some()));
}

#[test]
fn leaky_relu_slope_huber_and_uniform_round_trip() {
    let config = NetworkConfig::new(&[2, 4, 1], Cost::Huber { delta: 0.25 })
        .with_hidden_activation(Activation::LeakyRelu {
            negative_slope: 0.123_456_789,
        })
        .with_initialization("uniform:-0.3:0.7".parse().unwrap())
        .with_dropout(0.2)
        .with_regularization(backprop::Regularization::l2_nielsen(0.5, 100))
        .with_seed(99);
    let model = Model::new(
        config.init().unwrap(),
        ModelMetadata::describe(&config, Task::Regression),
    )
    .unwrap();
    let loaded = Model::from_bytes(&model.to_bytes().unwrap(), "x").unwrap();
    assert_eq!(loaded.network.config(), &config);
    assert_bit_identical(&model, &loaded);
}

#[test]
fn predict_applies_the_scalers() {
    let model = regressor();
    let x = raw_inputs(5, 8);
    let input = model.metadata.preprocessing.input_scaler.as_ref().unwrap();
    let target = model.metadata.preprocessing.target_scaler.as_ref().unwrap();
    let by_hand = target.inverse_transform(&model.network.forward(&input.transform(&x)));
    assert_eq!(model.predict(&x).unwrap(), by_hand);
    let scaler = AffineScaler::standard(vec![1.0, 2.0], vec![2.0, 4.0]);
    let m = Matrix::<f32>::from_rows(&[[3.0, 10.0]]).unwrap();
    assert_eq!(scaler.transform(&m).as_slice(), [1.0, 2.0]);
    assert_eq!(scaler.inverse_transform(&scaler.transform(&m)), m);
    let wrong = Matrix::<f32>::zeros(2, 4);
    assert!(matches!(model.predict(&wrong), Err(Error::Shape { .. })));
}

#[test]
fn a_safetensors_file_without_backprop_metadata_is_not_a_backprop_model() {
    let model = classifier();
    let tensors = tensors_of(&model);
    for metadata in [
        None,
        Some(HashMap::from([("format".to_string(), "pt".to_string())])),
    ] {
        let message = refusal(&assemble(&tensors, metadata));
        assert!(
            message.starts_with("not a backprop model: suspect.safetensors (a safetensors file without backprop metadata)"),
            "{message}"
        );
    }
    // An empty safetensors file, as `safetensors.numpy.save_file({})` writes.
    assert!(refusal(&assemble(&[], None)).contains("not a backprop model"));
}

#[test]
fn a_newer_format_version_is_refused_by_name() {
    let model = classifier();
    let bytes = edited(&model, |_| {}, |json| json["format_version"] = 2.into());
    assert_eq!(
        refusal(&bytes),
        "suspect.safetensors: written by a newer backprop (format version 2); this build reads version 1"
    );
    // Even when the rest of the metadata is unrecognisable.
    let bytes = assemble_model(
        &tensors_of(&model),
        &serde_json::json!({"format_version": 7, "layers": "new style"}),
    );
    assert!(refusal(&bytes).contains("format version 7"));
    for bad in [
        serde_json::json!(0),
        serde_json::json!("1"),
        serde_json::json!(-1),
    ] {
        let bytes = edited(&model, |_| {}, |json| json["format_version"] = bad);
        assert!(refusal(&bytes).contains("invalid backprop metadata"));
    }
}

#[test]
fn missing_tensors_are_named() {
    let model = classifier();
    let bytes = edited(&model, |t| t.retain(|t| t.name != "layers.2.bias"), |_| {});
    let message = refusal(&bytes);
    assert!(
        message.contains("tensor layers.2.bias is missing"),
        "{message}"
    );
}

#[test]
fn wrong_shapes_name_tensor_expected_and_found() {
    let model = classifier();
    let bytes = edited(
        &model,
        |t| {
            let w = t.iter_mut().find(|t| t.name == "layers.1.weight").unwrap();
            w.shape.reverse();
        },
        |_| {},
    );
    let message = refusal(&bytes);
    assert!(
        message
            .contains("tensor layers.1.weight has shape [8, 6], but the architecture needs [6, 8]"),
        "{message}"
    );
    // A bias stored as a 1 × out matrix is not PyTorch's layout either.
    let bytes = edited(
        &model,
        |t| {
            let b = t.iter_mut().find(|t| t.name == "layers.0.bias").unwrap();
            b.shape = vec![1, 8];
        },
        |_| {},
    );
    assert!(refusal(&bytes).contains("[1, 8], but the architecture needs [8]"));
    // Sizes that disagree with the tensors.
    let bytes = edited(
        &model,
        |_| {},
        |json| {
            json["architecture"]["sizes"] = serde_json::json!([3, 8, 6, 5, 4]);
            json["preprocessing"]["class_names"] = serde_json::Value::Null;
        },
    );
    let message = refusal(&bytes);
    assert!(
        message.contains("layers.3.weight has shape [3, 5]"),
        "{message}"
    );
}

#[test]
fn parameters_must_be_f32() {
    let model = classifier();
    let bytes = edited(
        &model,
        |t| {
            let w = t.iter_mut().find(|t| t.name == "layers.0.weight").unwrap();
            let values: Vec<f64> = w
                .bytes
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
                .collect();
            *w = RawTensor::f64("layers.0.weight", &w.shape, &values);
        },
        |_| {},
    );
    let message = refusal(&bytes);
    assert!(
        message.contains("tensor layers.0.weight has dtype F64"),
        "{message}"
    );
}

#[test]
fn unknown_tensors_are_refused_and_optimizer_tensors_tolerated() {
    let model = classifier();
    for name in [
        "layers.4.weight",
        "layers.0.running_mean",
        "embedding",
        "layers.00.bias",
    ] {
        let bytes = edited(
            &model,
            |t| t.push(RawTensor::f32(name, &[2], &[1.0, 2.0])),
            |_| {},
        );
        let message = refusal(&bytes);
        assert!(
            message.contains(&format!("unexpected tensor {name}")),
            "{message}"
        );
    }
    // optimizer.* (of any dtype, even non-finite) is skipped by a model reader, and the
    // checkpoint's training state in the metadata is tolerated and kept.
    let bytes = edited(
        &model,
        |t| {
            t.push(RawTensor::f32(
                "optimizer.adam.m.layers.0.weight",
                &[8, 3],
                &[f32::NAN; 24],
            ));
            t.push(RawTensor::f64("optimizer.step", &[1], &[12.0]));
        },
        |json| json["training"] = serde_json::json!({"epoch": 3, "step": 12}),
    );
    let loaded = Model::from_bytes(&bytes, "checkpoint").unwrap();
    assert_bit_identical(&model, &loaded);
    assert_eq!(loaded.metadata.extra["training"]["step"], 12);
    // Asked for, the optimizer tensors come back (they must then be F32).
    assert!(Model::from_bytes_with_extras(&bytes, "checkpoint")
        .unwrap_err()
        .to_string()
        .contains("optimizer.step has dtype F64"));
}

#[test]
fn optimizer_tensors_round_trip_through_save_with() {
    let model = regressor();
    let extra = vec![
        NamedTensor {
            name: "optimizer.adam.m.layers.0.weight".into(),
            shape: vec![7, 3],
            values: (0..21).map(|v| v as f32 * 0.5).collect(),
        },
        NamedTensor {
            name: "optimizer.adam.v.layers.0.bias".into(),
            shape: vec![7],
            values: vec![0.25; 7],
        },
    ];
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("checkpoint.safetensors");
    model.save_with(&path, &extra).unwrap();
    let (loaded, extras) = Model::load_with_extras(&path).unwrap();
    assert_bit_identical(&model, &loaded);
    assert_eq!(extras, extra);
    assert_bit_identical(&model, &Model::load(&path).unwrap());
    // Extra tensors must be optimizer.* and fit their shapes.
    for bad in [
        NamedTensor {
            name: "layers.9.weight".into(),
            shape: vec![1],
            values: vec![1.0],
        },
        NamedTensor {
            name: "optimizer.x".into(),
            shape: vec![2],
            values: vec![1.0],
        },
    ] {
        let message = model.to_bytes_with(&[bad]).unwrap_err().to_string();
        assert!(message.contains("cannot write this model"), "{message}");
    }
}

#[test]
fn non_finite_parameters_are_refused() {
    let model = classifier();
    for (value, shown) in [
        (f32::NAN, "NaN"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
    ] {
        let bytes = edited(
            &model,
            |t| {
                let b = t.iter_mut().find(|t| t.name == "layers.2.bias").unwrap();
                b.bytes[8..12].copy_from_slice(&value.to_le_bytes());
            },
            |_| {},
        );
        let message = refusal(&bytes);
        assert!(
            message.contains(&format!(
                "tensor layers.2.bias holds {shown} at flat index 2"
            )),
            "{message}"
        );
    }
    // And a model with a NaN weight cannot be written either.
    let mut broken = model.clone();
    broken
        .network
        .parameter_mut("layers.0.weight")
        .unwrap()
        .as_mut_slice()[0] = f32::NAN;
    assert!(broken.to_bytes().is_err());
}

/// An edit of the metadata JSON.
type JsonEdit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn metadata_must_fit_the_network() {
    let model = classifier();
    let cases: Vec<(&str, JsonEdit)> = vec![
        (
            "at least an input and an output",
            Box::new(|j| j["architecture"]["sizes"] = serde_json::json!([3])),
        ),
        (
            "zero width",
            Box::new(|j| j["architecture"]["sizes"] = serde_json::json!([3, 0, 6, 5, 3])),
        ),
        (
            "unknown activation 'swish'",
            Box::new(|j| j["architecture"]["activations"][1] = "swish".into()),
        ),
        (
            "activations were given",
            Box::new(|j| j["architecture"]["activations"] = serde_json::json!(["relu", "softmax"])),
        ),
        ("cost", Box::new(|j| j["cost"] = "hinge".into())),
        (
            "neither classification nor regression",
            Box::new(|j| j["task"] = "ranking".into()),
        ),
        (
            "2 feature names for 3 network inputs",
            Box::new(|j| j["preprocessing"]["feature_names"] = serde_json::json!(["a", "b"])),
        ),
        (
            "2 class names for 3 output units",
            Box::new(|j| j["preprocessing"]["class_names"] = serde_json::json!(["a", "b"])),
        ),
        (
            "the input scaler has 2 center values for 3 columns",
            Box::new(|j| {
                j["preprocessing"]["input_scaler"]["center"] = serde_json::json!([0.0, 1.0])
            }),
        ),
        (
            "scale of column 1 is 0",
            Box::new(|j| j["preprocessing"]["input_scaler"]["scale"][1] = 0.0.into()),
        ),
        (
            "kind is 'robust'",
            Box::new(|j| j["preprocessing"]["input_scaler"]["kind"] = "robust".into()),
        ),
        (
            "a classification model has a target scaler",
            Box::new(|j| {
                j["preprocessing"]["target_scaler"] =
                    serde_json::json!({"kind": "standard", "center": [0, 0, 0], "scale": [1, 1, 1]})
            }),
        ),
        (
            "input kind 'audio'",
            Box::new(|j| j["preprocessing"]["input_kind"] = "audio".into()),
        ),
        (
            "not 64 lowercase hex digits",
            Box::new(|j| j["data"]["sha256"] = "abc".into()),
        ),
        (
            "missing field `seed`",
            Box::new(|j| {
                j.as_object_mut().unwrap().remove("seed");
            }),
        ),
        (
            "invalid type",
            Box::new(|j| j["architecture"]["sizes"] = "3,8,3".into()),
        ),
        (
            "dropout",
            Box::new(|j| j["architecture"]["dropout"] = 1.5.into()),
        ),
    ];
    for (expected, edit) in cases {
        let bytes = edited(&model, |_| {}, |json| edit(json));
        let message = refusal(&bytes);
        assert!(message.contains("invalid backprop metadata"), "{message}");
        assert!(
            message.contains(expected),
            "expected '{expected}' in: {message}"
        );
    }
    // Metadata that is not JSON at all.
    let map = HashMap::from([("backprop".to_string(), "{not json".to_string())]);
    assert!(refusal(&assemble(&tensors_of(&model), Some(map))).contains("not JSON"));
}

#[test]
fn a_single_sigmoid_unit_takes_two_class_names() {
    let config = NetworkConfig::new(&[2, 3, 1], Cost::BinaryCrossEntropy).with_seed(1);
    let mut metadata = ModelMetadata::describe(&config, Task::Classification);
    metadata.preprocessing.class_names = Some(vec!["no".into(), "yes".into()]);
    let model = Model::new(config.init().unwrap(), metadata.clone()).unwrap();
    let loaded = Model::from_bytes(&model.to_bytes().unwrap(), "binary").unwrap();
    assert_eq!(loaded.metadata, metadata);
    metadata.preprocessing.class_names = Some(vec!["no".into(), "yes".into(), "maybe".into()]);
    let message = Model::new(config.init().unwrap(), metadata)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("3 class names for 1 output units"),
        "{message}"
    );
}

#[test]
fn model_new_refuses_metadata_describing_another_network() {
    let config = NetworkConfig::new(&[2, 3, 1], Cost::MeanSquaredError).with_seed(1);
    let other = config.clone().with_seed(2);
    let message = Model::new(
        config.init().unwrap(),
        ModelMetadata::describe(&other, Task::Regression),
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("the metadata describes"), "{message}");
    let mut metadata = ModelMetadata::describe(&config, Task::Regression);
    metadata.extra.insert("seed".into(), 3.into());
    assert!(Model::new(config.init().unwrap(), metadata).is_err());
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = regressor().to_bytes().unwrap();
    for cut in 0..bytes.len() {
        let error = Model::from_bytes(&bytes[..cut], "cut").unwrap_err();
        assert!(matches!(error, Error::Model(_)), "cut at {cut}: {error}");
    }
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("cut.safetensors");
    for cut in [0, 3, 8, 9, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let message = Model::load(&path).unwrap_err().to_string();
        assert!(message.contains("cut.safetensors"), "{message}");
    }
    // Trailing garbage is refused too.
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 4]);
    assert!(Model::from_bytes(&longer, "long").is_err());
}

#[test]
fn a_huge_declared_header_is_refused_before_reading_it() {
    let mut bytes = (u64::MAX / 2).to_le_bytes().to_vec();
    bytes.extend_from_slice(&[b'{'; 92]);
    let message = refusal(&bytes);
    assert!(
        message.contains(&format!(
            "the header length says {} bytes, but only 92 bytes follow it",
            u64::MAX / 2
        )),
        "{message}"
    );
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("huge.safetensors");
    std::fs::write(&path, &bytes).unwrap();
    assert!(Model::load(&path)
        .unwrap_err()
        .to_string()
        .contains("but only 92 bytes"));
}

#[test]
fn files_over_the_size_limit_are_refused_unread() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("big.safetensors");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: no disk space is used and nothing is read.
    file.set_len(MAX_MODEL_FILE_BYTES + 1).unwrap();
    let error = Model::load(&path).unwrap_err();
    assert!(
        matches!(error, Error::Model(ModelError::TooLarge { size, .. }) if size == MAX_MODEL_FILE_BYTES + 1),
        "{error}"
    );
}

#[test]
fn missing_files_and_folders_are_io_errors_naming_the_path() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("absent.safetensors");
    let message = Model::load(&path).unwrap_err().to_string();
    assert!(
        message.contains("absent.safetensors: cannot open the model file"),
        "{message}"
    );
    let message = Model::load(folder.path()).unwrap_err().to_string();
    assert!(message.contains("cannot"), "{message}");
}

#[test]
fn failed_saves_leave_nothing_behind() {
    let model = regressor();
    let folder = tempfile::tempdir().unwrap();
    // A folder that does not exist.
    let path = folder.path().join("absent").join("model.safetensors");
    let message = model.save(&path).unwrap_err().to_string();
    assert!(
        message.contains("cannot create a temporary file"),
        "{message}"
    );
    assert!(!folder.path().join("absent").exists());
    // A "folder" that is a file.
    let file = folder.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    assert!(model.save(&file.join("model.safetensors")).is_err());
    assert_eq!(files_in(folder.path()), ["plain"]);
}

#[test]
fn a_failed_save_never_damages_the_existing_file() {
    let good = regressor();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("model.safetensors");
    good.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();

    // An invalid model is refused before anything is written.
    let mut broken = classifier();
    broken
        .network
        .parameter_mut("layers.1.bias")
        .unwrap()
        .as_mut_slice()[0] = f32::NAN;
    assert!(broken.save(&path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(files_in(folder.path()), ["model.safetensors"]);

    // The rename fails (the target is a non-empty folder): the temporary file is removed.
    let blocked = folder.path().join("blocked.safetensors");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("inside"), b"x").unwrap();
    let message = classifier().save(&blocked).unwrap_err().to_string();
    assert!(
        message.contains("cannot rename the temporary file into place"),
        "{message}"
    );
    assert_eq!(
        files_in(folder.path()),
        ["blocked.safetensors", "model.safetensors"]
    );

    // The temporary file cannot be created, for any user, root included: its folder is a
    // regular file, or a folder of /proc, where no file can be made. Nothing is left behind
    // and the existing model is untouched.
    let plain_file = folder.path().join("not-a-folder");
    std::fs::write(&plain_file, b"x").unwrap();
    let mut unwritable = vec![plain_file.join("model.safetensors")];
    if cfg!(target_os = "linux") {
        unwritable.push(std::path::PathBuf::from("/proc/self/model.safetensors"));
    }
    for target in unwritable {
        let message = classifier().save(&target).unwrap_err().to_string();
        assert!(
            message.contains("cannot create a temporary file"),
            "{}: {message}",
            target.display()
        );
        assert!(!target.exists());
    }
    assert_eq!(std::fs::read(&plain_file).unwrap(), b"x");
    assert_eq!(
        files_in(folder.path()),
        ["blocked.safetensors", "model.safetensors", "not-a-folder"]
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        prop_assert!(Model::from_bytes(&bytes, "random").is_err());
    }

    #[test]
    fn random_headers_never_panic(length in 0u64..400, body in "[ -~]{0,300}") {
        let mut bytes = length.to_le_bytes().to_vec();
        bytes.extend_from_slice(body.as_bytes());
        let _ = Model::from_bytes(&bytes, "random header");
    }

    #[test]
    fn flipped_bytes_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = small_model_bytes();
        for (index, value) in flips {
            let i = index.index(bytes.len());
            bytes[i] = value;
        }
        let _ = Model::from_bytes(&bytes, "flipped");
    }
}

fn small_model_bytes() -> Vec<u8> {
    let config = NetworkConfig::new(&[2, 2, 1], Cost::MeanSquaredError).with_seed(4);
    Model::new(
        config.init().unwrap(),
        ModelMetadata::describe(&config, Task::Regression),
    )
    .unwrap()
    .to_bytes()
    .unwrap()
}
