//! The bad-input catalogue (`tests/fixtures/bad/` at the repository root): every case in
//! `cases.toml` runs the real binary and must exit with its code (2 bad input, 1 runtime
//! failure), say its expected text on stderr, never panic or print a backtrace, and leave no
//! file behind, neither in the empty folder it runs in nor in the fixtures folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The catalogue folder.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/bad")
}

/// Every path under `folder`, recursively.
fn listing(folder: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            found.insert(path);
        }
    }
    found
}

/// One case from `cases.toml`.
struct Case {
    name: String,
    args: Vec<String>,
    exit: i32,
    stderr: String,
    /// Simulates a full disk: the file-size limit (`ulimit -f`, 512-byte blocks) with SIGXFSZ
    /// ignored, so that a write past it fails with EFBIG instead of killing the process.
    file_size_blocks: Option<i64>,
    /// Where standard output goes (e.g. `/dev/full`); a pipe by default.
    stdout: Option<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("cases.toml")).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    let string = |value: &toml::Value| value.as_str().unwrap().to_string();
    table["case"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| Case {
            name: string(&case["name"]),
            args: case["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(string)
                .collect(),
            exit: i32::try_from(case["exit"].as_integer().unwrap()).unwrap(),
            stderr: string(&case["stderr"]),
            file_size_blocks: case
                .get("file_size_blocks")
                .map(|v| v.as_integer().unwrap()),
            stdout: case.get("stdout").map(string),
        })
        .collect()
}

/// Runs one case; returns what went wrong, if anything.
fn run(case: &Case, bad: &Path) -> Option<String> {
    let folder = tempfile::tempdir().unwrap();
    let args: Vec<String> = case
        .args
        .iter()
        .map(|arg| arg.replace("{bad}", bad.to_str().unwrap()))
        .collect();
    let binary = env!("CARGO_BIN_EXE_backprop");
    let mut command = match case.file_size_blocks {
        Some(blocks) => {
            let mut shell = Command::new("sh");
            shell
                .arg("-c")
                .arg(format!(
                    "ulimit -f {blocks} && trap '' XFSZ && exec \"$0\" \"$@\""
                ))
                .arg(binary);
            shell
        }
        None => Command::new(binary),
    };
    command
        .args(&args)
        .current_dir(folder.path())
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    match &case.stdout {
        Some(path) => command.stdout(std::fs::OpenOptions::new().write(true).open(path).unwrap()),
        None => command.stdout(Stdio::piped()),
    };
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();
    if output.status.code() != Some(case.exit) {
        problems.push(format!("exit {:?}, expected {}", output.status, case.exit));
    }
    if !stderr.contains(&case.stderr) {
        problems.push(format!("stderr lacks {:?}", case.stderr));
    }
    for banned in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        if stderr.contains(banned) {
            problems.push(format!("stderr says {banned:?}"));
        }
    }
    let left = listing(folder.path());
    if !left.is_empty() {
        problems.push(format!("files left behind: {left:?}"));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} ({}): {}\n--- stderr:\n{stderr}",
            case.name,
            args.join(" "),
            problems.join("; ")
        )
    })
}

#[test]
fn every_bad_input_fails_cleanly() {
    let bad = fixtures().canonicalize().unwrap();
    let before = listing(&bad);
    let cases = cases();
    assert!(cases.len() >= 30, "the catalogue holds at least 30 cases");
    let failures: Vec<String> = cases.iter().filter_map(|case| run(case, &bad)).collect();
    assert_eq!(
        listing(&bad),
        before,
        "a case wrote into the fixtures folder"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn case_names_are_unique_and_fixtures_exist() {
    let bad = fixtures();
    let mut names = BTreeSet::new();
    for case in cases() {
        assert!(
            names.insert(case.name.clone()),
            "duplicate case {}",
            case.name
        );
        for arg in &case.args {
            let Some(rest) = arg.split("{bad}/").nth(1) else {
                continue;
            };
            let path = bad.join(rest.split('/').next().unwrap());
            assert!(
                path.exists(),
                "{}: no fixture {}",
                case.name,
                path.display()
            );
        }
    }
}

/// The counterpart of the catalogue's `flag-batch-larger-than-data`: a batch size the user did
/// not ask for (the preset's 10) on 8 training rows is one full batch, not an error.
#[test]
fn preset_batch_larger_than_data_is_one_full_batch() {
    let folder = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args([
            "train",
            "--data",
            "spiral",
            "--samples",
            "10",
            "--preset",
            "nielsen",
        ])
        .args(["--epochs", "1"])
        .current_dir(folder.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("batch 8 (full batch)"), "{stderr}");
}
