//! Replays the fuzz corpus of the model-file reader (`fuzz/corpus/model`)
//! as plain tests on stable: every input goes through the same entry function the cargo-fuzz
//! target calls (`fuzz/entries/*.rs`), which panics only on a bug.

#[path = "../../../fuzz/entries/model.rs"]
mod model_entry;

#[path = "../../../fuzz/entries/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn model_corpus_replays_without_panics() {
    replay("model", model_entry::run);
}
