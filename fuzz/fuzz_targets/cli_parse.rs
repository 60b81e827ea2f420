//! Fuzz target: the command line's parsers of numbers and lists (`--layers`, `--schedule`,
//! `--delimiter`, `--input`, `--sizes`, `--data`, `--target`, names) on arbitrary text must
//! return Ok or an error message, never panic. The entry function is shared with the corpus
//! replay test (`fuzz/entries/cli_parse.rs`).
#![no_main]

#[path = "../entries/cli_parse.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::run(data));
