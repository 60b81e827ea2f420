//! Fuzz target: the command line's streaming CSV reader (`predict`, `evaluate`) on arbitrary
//! bytes must return rows or a bad-input error, never panic. The entry function is shared with
//! the corpus replay test (`fuzz/entries/csv_stream.rs`).
#![no_main]
#![allow(dead_code)]

#[path = "../../crates/backprop-cli/src/csv_input.rs"]
mod csv_input;
#[path = "../../crates/backprop-cli/src/csv_stream.rs"]
mod csv_stream;
#[path = "../../crates/backprop-cli/src/csv_text.rs"]
mod csv_text;
#[path = "../../crates/backprop-cli/src/exit.rs"]
mod exit;

#[path = "../entries/csv_stream.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
