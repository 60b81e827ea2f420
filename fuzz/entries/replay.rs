//! Replaying a fuzz target's corpus as a plain test on stable, shared by the `fuzz_corpus.rs`
//! tests of the three crates (included with `#[path]`): every file of `fuzz/corpus/<target>/`
//! goes through the entry function the cargo-fuzz target calls, which panics only on a bug.

use std::path::{Path, PathBuf};

/// The files of one target's corpus, sorted. The path is relative to the including crate's
/// folder, `crates/<name>`.
pub fn corpus(target: &str) -> Vec<PathBuf> {
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

/// Runs `entry` on every file of the corpus, naming the file of any panic.
pub fn replay(target: &str, entry: fn(&[u8])) {
    let files = corpus(target);
    assert!(!files.is_empty(), "the {target} corpus is empty");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        if std::panic::catch_unwind(|| entry(&bytes)).is_err() {
            panic!(
                "fuzz input {} makes the {target} entry panic",
                file.display()
            );
        }
    }
}
