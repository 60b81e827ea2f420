//! Replays the fuzz corpora of the command line's value parsers (`fuzz/corpus/cli_parse`) and
//! of its streaming CSV reader for `predict` and `evaluate` (`fuzz/corpus/csv_stream`) as
//! plain tests on stable: every input goes through the same entry function the cargo-fuzz
//! target calls (`fuzz/entries/*.rs`), which panics only on a bug.

#[path = "../src/parse.rs"]
#[allow(dead_code)]
mod parse;

#[path = "../src/csv_input.rs"]
#[allow(dead_code)]
mod csv_input;
#[path = "../src/csv_stream.rs"]
#[allow(dead_code)]
mod csv_stream;
#[path = "../src/csv_text.rs"]
#[allow(dead_code)]
mod csv_text;
#[path = "../src/exit.rs"]
#[allow(dead_code)]
mod exit;

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
