//! Replays the fuzz corpus of the model-file reader (`fuzz/corpus/model`)
//! as plain tests on stable: every input goes through the same entry function the cargo-fuzz
//! target calls (`fuzz/entries/*.rs`), which panics only on a bug.

#[path = "../../../fuzz/entries/model.rs"]
mod model_entry;

use std::path::{Path, PathBuf};

/// The files of one target's corpus, sorted.
fn corpus(target: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `entry` on every file, naming the file of any panic.
fn replay(target: &str, entry: fn(&[u8])) {
    let files = corpus(target);
    assert!(!files.is_empty(), "the {target} corpus is empty");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        if std::panic::catch_unwind(|| entry(&bytes)).is_err() {
            panic!(
                "fuzz input {} makes the {target} reader panic",
                file.display()
            );
        }
    }
}

#[test]
fn model_corpus_replays_without_panics() {
    replay("model", model_entry::run);
}
