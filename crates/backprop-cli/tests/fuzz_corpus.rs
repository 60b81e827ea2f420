//! Replays the fuzz corpora of the command line's value parsers (`fuzz/corpus/cli_parse`) and
//! of its streaming CSV reader for `predict` and `evaluate` (`fuzz/corpus/csv_stream`) as
//! plain tests on stable: every input goes through the same entry function the cargo-fuzz
//! target calls (`fuzz/entries/*.rs`), which panics only on a bug. The entries call the
//! `backprop_cli` library and `backprop_data`, as the fuzz crate does.

#[path = "../../../fuzz/entries/cli_parse.rs"]
mod cli_parse_entry;
#[path = "../../../fuzz/entries/csv_stream.rs"]
mod csv_stream_entry;

#[path = "../../../fuzz/entries/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn cli_parse_corpus_replays_without_panics() {
    replay("cli_parse", cli_parse_entry::run);
}

#[test]
fn csv_stream_corpus_replays_without_panics() {
    replay("csv_stream", csv_stream_entry::run);
}
