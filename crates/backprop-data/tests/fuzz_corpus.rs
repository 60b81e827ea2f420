//! Replays the fuzz corpora of the CSV and IDX readers (`fuzz/corpus/csv`, `fuzz/corpus/idx`)
//! as plain tests on stable: every input goes through the same entry function the cargo-fuzz
//! target calls (`fuzz/entries/*.rs`), which panics only on a bug.

#[path = "../../../fuzz/entries/csv.rs"]
mod csv_entry;
#[path = "../../../fuzz/entries/idx.rs"]
mod idx_entry;

#[path = "../../../fuzz/entries/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn csv_corpus_replays_without_panics() {
    replay("csv", csv_entry::run);
}

#[test]
fn idx_corpus_replays_without_panics() {
    replay("idx", idx_entry::run);
}
