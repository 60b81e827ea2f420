//! `--shards S`, `--fast-allreduce` and `--data-distribution` in the plain (MPI-free) build,
//! through the real binary:
//! - `--shards 8` trains on the sharded path: repeatable bit for bit, and within rounding of the
//!   plain path and of 3 shards (other orders of the same additions; their bits may or may not
//!   differ, so the test asks neither);
//! - a checkpoint of a sharded run resumes sharded (the flag is recorded) and matches the
//!   uninterrupted run;
//! - `--shards 0`, `--fast-allreduce` and `--data-distribution` without MPI are usage errors
//!   (exit 2) naming the flag.

mod train_support;

use backprop::model::Model;
use std::path::Path;
use train_support::{backprop_in, model_values as values, stderr};

/// The largest difference between two weight lists, relative to the larger magnitude (at
/// least 0.01).
fn largest_relative_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&p, &q)| (p - q).abs() / p.abs().max(q.abs()).max(1e-2))
        .fold(0.0, f32::max)
}

fn weights(path: &Path) -> Vec<u32> {
    let model = Model::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    model
        .network
        .parameters()
        .into_iter()
        .flat_map(|(_, m)| m.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        .collect()
}

fn train(folder: &Path, out: &str, extra: &[&str]) -> String {
    let mut arguments = vec![
        "train",
        "-q",
        "--data",
        "moons",
        "--samples",
        "300",
        "--batch-size",
        "20",
        "--seed",
        "4",
        "--out",
        out,
    ];
    arguments.extend_from_slice(extra);
    let output = backprop_in(folder, &arguments);
    let errors = stderr(&output);
    assert!(output.status.success(), "{arguments:?}: {errors}");
    errors
}

#[test]
fn sharded_runs_repeat_bit_for_bit_and_agree_with_the_plain_path() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let said = train(dir, "a.safetensors", &["--epochs", "6", "--shards", "8"]);
    assert!(said.contains("every batch cut into 8 shards"), "{said}");
    train(dir, "b.safetensors", &["--epochs", "6", "--shards", "8"]);
    train(dir, "plain.safetensors", &["--epochs", "6"]);
    train(
        dir,
        "three.safetensors",
        &["--epochs", "6", "--shards", "3"],
    );
    let sharded = weights(&dir.join("a.safetensors"));
    assert_eq!(sharded, weights(&dir.join("b.safetensors")));
    let sharded = values(&dir.join("a.safetensors"));
    for other in ["plain.safetensors", "three.safetensors"] {
        let difference = largest_relative_difference(&sharded, &values(&dir.join(other)));
        assert!(difference < 1e-3, "8 shards against {other}: {difference}");
    }
}

#[test]
fn a_sharded_checkpoint_resumes_sharded() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    train(
        dir,
        "whole.safetensors",
        &["--epochs", "6", "--shards", "8"],
    );
    train(
        dir,
        "half.safetensors",
        &[
            "--epochs",
            "3",
            "--shards",
            "8",
            "--checkpoint",
            "ck.safetensors",
        ],
    );
    let output = backprop_in(
        dir,
        &[
            "train",
            "-q",
            "--resume",
            "ck.safetensors",
            "--epochs",
            "6",
            "--out",
            "resumed.safetensors",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        weights(&dir.join("whole.safetensors")),
        weights(&dir.join("resumed.safetensors"))
    );
}

#[test]
fn bad_shard_flags_are_usage_errors() {
    let folder = tempfile::tempdir().unwrap();
    for (flags, expected) in [
        (&["--shards", "0"][..], "--shards"),
        (&["--fast-allreduce"][..], "--fast-allreduce"),
        (
            &["--data-distribution", "broadcast"][..],
            "--data-distribution",
        ),
        (&["--data-distribution", "read"][..], "--data-distribution"),
        (
            &["--data-distribution", "scatter"][..],
            "--data-distribution",
        ),
    ] {
        let mut arguments = vec![
            "train",
            "-q",
            "--data",
            "xor-table",
            "--out",
            "m.safetensors",
        ];
        arguments.extend_from_slice(flags);
        let output = backprop_in(folder.path(), &arguments);
        let errors = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {errors}");
        assert!(errors.contains(expected), "{flags:?}: {errors}");
        assert!(!errors.contains("panicked"), "{errors}");
    }
}
