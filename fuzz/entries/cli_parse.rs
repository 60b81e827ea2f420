//! Fuzz entry for the command line's parsers of numbers and lists
//! (`backprop_cli::parse`), shared by the cargo-fuzz target `cli_parse` and the corpus replay
//! test in `crates/backprop-cli/tests/fuzz_corpus.rs`.
//!
//! Every parser gets the same text. Whatever a parser accepts must satisfy its contract, and
//! names that print themselves must parse back to the same thing.

use backprop::{Activation, Cost, Initialization};
use backprop_cli::parse;
use backprop_data::{BuiltIn, TargetColumn};
use std::fmt::Display;
use std::str::FromStr;

/// `text` parsed, printed, parsed again and printed again gives the same text.
fn round_trips<T: FromStr + Display>(text: &str) {
    if let Ok(value) = text.parse::<T>() {
        let printed = value.to_string();
        let Ok(again) = printed.parse::<T>() else {
            panic!("{text:?} parsed and printed as {printed:?}, which does not parse");
        };
        assert_eq!(again.to_string(), printed, "from {text:?}");
    }
}

/// Runs every parser on one fuzz input; panics only on a bug.
pub fn run(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let text = text.as_ref();
    match parse::parse_layers(text) {
        Ok(layers) => assert!(layers
            .0
            .iter()
            .all(|&width| (1..=parse::MAX_LAYER_WIDTH).contains(&width))),
        Err(message) => assert!(!message.is_empty()),
    }
    if let Ok(schedule) = parse::parse_schedule(text) {
        let printed = schedule.to_string();
        let again = parse::parse_schedule(&printed).expect("a printed schedule parses");
        assert_eq!(again.to_string(), printed);
    }
    if let Ok(byte) = parse::parse_delimiter(text) {
        assert!(byte.is_ascii() && !matches!(byte, b'"' | b'\n' | b'\r'));
    }
    if let Some(values) = parse::parse_finite_numbers(text) {
        assert!(!values.is_empty() && values.iter().all(|value| value.is_finite()));
    }
    if let Some(sizes) = parse::parse_layer_sizes(text, 4096) {
        assert!(sizes.len() >= 2 && sizes.iter().all(|&size| (1..=4096).contains(&size)));
    }
    let _ = parse::parse_activation(text);
    let _ = parse::parse_cost(text);
    let _ = parse::parse_initialization(text);
    round_trips::<Activation>(text);
    round_trips::<Cost>(text);
    round_trips::<Initialization>(text);
    round_trips::<BuiltIn>(text);
    if let Ok(TargetColumn::Name(name)) = text.parse::<TargetColumn>() {
        assert_eq!(name, text.trim());
    }
    for part in text.split(',') {
        let _ = part.trim().parse::<f64>();
    }
}
