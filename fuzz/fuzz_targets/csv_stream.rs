//! Fuzz target: the streaming CSV reader of `predict` and `evaluate` on arbitrary bytes must
//! return rows or a bad-input error, never panic. The entry function is shared with
//! the corpus replay test (`fuzz/entries/csv_stream.rs`).
#![no_main]

#[path = "../entries/csv_stream.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
