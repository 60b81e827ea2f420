//! Fuzz target: the csv reader on arbitrary bytes must return Ok or a proper error, never
//! panic. The entry function is shared with the corpus replay test (`fuzz/entries/csv.rs`).
#![no_main]

#[path = "../entries/csv.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
