//! kill -9 at any moment, even in the middle of writing a checkpoint, leaves the previous
//! checkpoint whole: a real training process that writes a checkpoint every epoch is killed
//! again and again at random moments (and restarted with `--resume` from what is there), and
//! after every kill `inspect` reads the checkpoint.
//!
//! Slow (tens of seconds): ignored by `cargo test`; CI runs `scripts/kill9.sh`, and
//! `cargo test -p backprop-cli --test kill9 -- --ignored` runs this.

use backprop::SeededRng;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backprop"));
    command.env("NO_COLOR", "1");
    command
}

#[test]
#[ignore = "slow: kills a real training process 25 times; run by scripts/kill9.sh in CI"]
fn kill_nine_never_leaves_a_broken_checkpoint() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let checkpoint = dir.join("ck.safetensors");
    let mut rng = SeededRng::new(2024);
    let mut loads = 0;
    let mut steps_seen = std::collections::BTreeSet::new();
    for round in 0..25 {
        let mut command = binary();
        command
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if checkpoint.exists() {
            command.args(["train", "-q", "--resume", "ck.safetensors"]);
        } else {
            command.args([
                "train",
                "-q",
                "--data",
                "digits",
                "--layers",
                "256,256",
                "--batch-size",
                "64",
                "--epochs",
                "100000",
                "--checkpoint-every",
                "1",
                "--checkpoint",
                "ck.safetensors",
                "--threads",
                "1",
            ]);
        }
        let mut child = command.spawn().unwrap();
        // Anywhere from before the first write to many writes in.
        let wait = 50 + (rng.uniform() * 1500.0) as u64;
        std::thread::sleep(Duration::from_millis(wait));
        assert!(
            child.try_wait().unwrap().is_none(),
            "round {round}: the run ended by itself"
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if checkpoint.exists() {
            let output = binary()
                .args(["inspect", "--json", checkpoint.to_str().unwrap()])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "round {round}: {text}");
            let state = text
                .lines()
                .find(|line| line.starts_with("training state:"))
                .unwrap_or_else(|| panic!("round {round}: no training state in {text}"));
            steps_seen.insert(state.to_string());
            loads += 1;
        }
    }
    assert!(loads >= 20, "only {loads} kills found a checkpoint");
    assert!(
        steps_seen.len() >= 10,
        "the checkpoint hardly moved: {steps_seen:?}"
    );
    remove_leftovers(dir);
}

/// Temporary files of writes cut short by the kills stay behind (hidden, `.tmp`); they are not
/// the checkpoint and nothing reads them.
fn remove_leftovers(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
}
