//! Checkpoints, resume, signals and divergence, through the real binary:
//! - a 5-epoch run checkpointed and resumed with `--epochs 10` gives the same model file
//!   (weights bit for bit, history without timings) as a 10-epoch run, for SGD with momentum
//!   and Adam;
//! - SIGINT and SIGTERM sent to a real training process: it writes a checkpoint, says where,
//!   exits 130 / 143, and the resumed run matches the uninterrupted one;
//! - `--resume` refuses training flags and data that changed (exit 2);
//! - `inspect` shows a checkpoint's training state;
//! - divergence exits 1 naming epoch and batch, saving the last good weights when an epoch
//!   completed; `--on-divergence restore-and-halve` recovers.

mod train_support;

use backprop::model::Model;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use train_support::{backprop_in, stderr, write_file};

/// Weights (as bits) and history (without timings) of a model file.
fn fingerprint(path: &Path) -> (Vec<(String, Vec<u32>)>, Value) {
    let model = Model::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let weights = model
        .network
        .parameters()
        .into_iter()
        .map(|(name, m)| (name, m.as_slice().iter().map(|v| v.to_bits()).collect()))
        .collect();
    let mut history = serde_json::to_value(&model.metadata.history).unwrap();
    for epoch in history.as_array_mut().unwrap() {
        epoch["seconds"] = Value::from(0.0);
    }
    (weights, history)
}

fn run_ok(folder: &Path, arguments: &[&str]) -> String {
    let output = backprop_in(folder, arguments);
    let errors = stderr(&output);
    assert!(output.status.success(), "{arguments:?}: {errors}");
    errors
}

const OPTIMISERS: [&[&str]; 2] = [
    &["--optimizer", "momentum", "--learning-rate", "0.05"],
    &["--optimizer", "adam", "--learning-rate", "0.01"],
];

#[test]
fn a_five_epoch_run_resumed_to_ten_matches_a_ten_epoch_run() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    for (index, optimiser) in OPTIMISERS.iter().enumerate() {
        let base = [
            &[
                "train",
                "-q",
                "--data",
                "moons",
                "--batch-size",
                "16",
                "--dropout",
                "0.1",
            ][..],
            optimiser,
            // A step schedule, defined in steps: the same curve however many epochs.
            &["--schedule", "step:30:0.8", "--validation", "0.2"],
        ]
        .concat();
        let straight = format!("straight{index}.safetensors");
        run_ok(
            dir,
            &[&base[..], &["--epochs", "10", "--out", &straight]].concat(),
        );
        let first = format!("first{index}.safetensors");
        let checkpoint = format!("ck{index}.safetensors");
        let errors = run_ok(
            dir,
            &[
                &base[..],
                &[
                    "--epochs",
                    "5",
                    "--out",
                    &first,
                    "--checkpoint",
                    &checkpoint,
                ],
            ]
            .concat(),
        );
        assert!(
            errors.contains(&format!("checkpoint saved to {checkpoint}")),
            "{errors}"
        );
        let inspected = run_ok(dir, &["inspect", &checkpoint]);
        assert!(
            inspected.contains("training state: 5 epoch(s) complete"),
            "{inspected}"
        );
        let resumed = format!("resumed{index}.safetensors");
        run_ok(
            dir,
            &[
                "train",
                "-q",
                "--resume",
                &checkpoint,
                "--epochs",
                "10",
                "--out",
                &resumed,
            ],
        );
        assert_eq!(
            fingerprint(&dir.join(&resumed)),
            fingerprint(&dir.join(&straight))
        );
        assert_eq!(
            fingerprint(&dir.join(&resumed)).1.as_array().unwrap().len(),
            10
        );
    }
}

/// Starts a long training run, waits until its log shows `epochs` epochs, sends `signal`, and
/// returns (exit code, stderr).
fn interrupt(
    dir: &Path,
    arguments: &[&str],
    log: &str,
    epochs: usize,
    signal: &str,
) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(arguments)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let lines = std::fs::read_to_string(dir.join(log)).map_or(0, |t| t.lines().count());
        if lines >= epochs {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the signal"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn sigint_and_sigterm_checkpoint_mid_run_and_the_resumed_run_matches() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    // Momentum at 0.05 on batches of 2 sits at the edge of divergence on this network (a
    // change in the last bits of a product tipped it over): 0.02 keeps the run well inside.
    let momentum: &[&str] = &["--optimizer", "momentum", "--learning-rate", "0.02"];
    for (index, (optimiser, signal, code)) in
        [(momentum, "-INT", 130), (OPTIMISERS[1], "-TERM", 143)]
            .into_iter()
            .enumerate()
    {
        // Wide enough that an epoch takes a while: the signal lands inside the run.
        let base = [
            &[
                "train",
                "-q",
                "--data",
                "digits",
                "--layers",
                "256,256",
                "--batch-size",
                "2",
            ][..],
            &["--threads", "1", "--epochs", "4"],
            optimiser,
        ]
        .concat();
        let straight = format!("straight{index}.safetensors");
        run_ok(dir, &[&base[..], &["--out", &straight]].concat());
        let out = format!("model{index}.safetensors");
        let log = format!("log{index}.jsonl");
        let (status, errors) = interrupt(
            dir,
            &[&base[..], &["--out", &out, "--log", &log]].concat(),
            &log,
            1,
            signal,
        );
        assert_eq!(status, code, "{errors}");
        // Without --checkpoint: beside the model file.
        let checkpoint = format!("model{index}.checkpoint.safetensors");
        assert!(
            errors.contains(&format!("checkpoint saved to {checkpoint}")),
            "{errors}"
        );
        assert!(errors.contains("interrupted by SIG"), "{errors}");
        assert!(
            !dir.join(&out).exists(),
            "an interrupted run writes no model"
        );
        let inspected = run_ok(dir, &["inspect", &checkpoint]);
        assert!(inspected.contains("training state:"), "{inspected}");
        let resumed = format!("resumed{index}.safetensors");
        run_ok(
            dir,
            &["train", "-q", "--resume", &checkpoint, "--out", &resumed],
        );
        assert_eq!(
            fingerprint(&dir.join(&resumed)),
            fingerprint(&dir.join(&straight))
        );
    }
}

#[test]
fn resume_refuses_training_flags_and_changed_data() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let mut rows = String::from("x,y,label\n");
    for i in 0..60 {
        let (x, y) = (i as f64 * 0.1, (i % 7) as f64);
        rows.push_str(&format!("{x},{y},{}\n", u8::from(x + y > 4.0)));
    }
    let data = write_file(dir, "table.csv", &rows);
    let arguments = [
        "train",
        "-q",
        "--data",
        &data,
        "--epochs",
        "3",
        "--checkpoint",
        "ck.safetensors",
    ];
    run_ok(dir, &arguments);
    let output = backprop_in(
        dir,
        &[
            "train",
            "--resume",
            "ck.safetensors",
            "--learning-rate",
            "0.5",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(
        errors.contains("--learning-rate") && errors.contains("--resume takes no training flags"),
        "{errors}"
    );

    let output = backprop_in(dir, &["train", "--resume", "model.safetensors"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a checkpoint"),
        "{}",
        stderr(&output)
    );

    // Every seventh row changes: some of them are in the training part, which is hashed.
    std::fs::write(&data, rows.replace(",3,", ",2.5,")).unwrap();
    let output = backprop_in(
        dir,
        &["train", "-q", "--resume", "ck.safetensors", "--epochs", "5"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("has changed since the checkpoint"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn divergence_exits_one_with_the_last_good_weights_or_recovers() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let linear = [
        "train",
        "-q",
        "--data",
        "plane",
        "--layers",
        "none",
        "--optimizer",
        "sgd",
    ];

    let output = backprop_in(
        dir,
        &["train", "-q", "--data", "moons", "--learning-rate", "1e6"],
    );
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(errors.contains("diverged at epoch 1, batch"), "{errors}");
    assert!(errors.contains("lower --learning-rate"), "{errors}");
    assert!(errors.contains("no model was saved") && !dir.join("model.safetensors").exists());

    // Just past the stable rate: the loss passes its bound in the second epoch.
    let output = backprop_in(
        dir,
        &[
            &linear[..],
            &[
                "--learning-rate",
                "1.05",
                "--epochs",
                "30",
                "--out",
                "last.safetensors",
            ],
        ]
        .concat(),
    );
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(errors.contains("diverged at epoch 2, batch"), "{errors}");
    assert!(errors.contains("saved to last.safetensors"), "{errors}");
    let model = Model::load(&dir.join("last.safetensors")).unwrap();
    assert_eq!(model.metadata.history.len(), 1);
    assert!(model.metadata.extra.contains_key("diverged"));

    // Restore and halve: 3 → 1.5 → 0.75, then it learns the plane.
    let output = backprop_in(
        dir,
        &[
            &linear[..],
            &[
                "--learning-rate",
                "3",
                "--epochs",
                "30",
                "--on-divergence",
                "restore-and-halve",
                "--json",
            ],
        ]
        .concat(),
    );
    let errors = stderr(&output);
    assert!(output.status.success(), "{errors}");
    assert_eq!(
        errors.matches("learning rate halved").count(),
        2,
        "{errors}"
    );
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(result["test_r2"].as_f64().unwrap() > 0.99, "{result}");
}
