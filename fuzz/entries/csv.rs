//! Fuzz entry for the CSV reader (`backprop_data::csv_file`), shared by the cargo-fuzz target
//! `csv` and the corpus replay test in `crates/backprop-data/tests/fuzz_corpus.rs`.
//!
//! The first byte chooses the options (header or not, delimiter, missing-cell policy, task,
//! target column, a `.gz` name); the rest is the file. The loader must return a data set or a
//! proper error, never panic, and a data set it returns must be consistent. A data set that
//! loads is then read again as a model's input with its own feature columns, the way `predict`
//! reads a new file.

use backprop_data::csv_file::{feature_specs, parse_csv, read_model_input};
use backprop_data::{CsvOptions, MissingPolicy, TargetColumn, TaskHint};

/// The options encoded by one byte, and the name the bytes go by.
pub fn options(selector: u8) -> (CsvOptions, &'static str) {
    let delimiter = match selector & 0b11 {
        0 => None,
        1 => Some(b','),
        2 => Some(b';'),
        _ => Some(b'\t'),
    };
    let missing = match (selector >> 2) & 0b11 {
        1 => MissingPolicy::Drop,
        2 => MissingPolicy::Mean,
        _ => MissingPolicy::Error,
    };
    let task = match (selector >> 4) & 0b11 {
        1 => Some(TaskHint::Classify),
        2 => Some(TaskHint::Regress),
        _ => None,
    };
    let target = match selector >> 6 {
        1 => Some(TargetColumn::Index(0)),
        2 => Some(TargetColumn::Name("y".into())),
        _ => None,
    };
    let options = CsvOptions {
        target,
        has_header: selector % 7 != 3,
        delimiter,
        missing,
        task,
        // Leave out the first column now and then (the target, when it is column 0: an error).
        ignore: if selector % 11 == 5 {
            vec![TargetColumn::Index(0)]
        } else {
            Vec::new()
        },
        features: None,
    };
    let name = if selector % 5 == 4 {
        "fuzz.csv.gz"
    } else {
        "fuzz.csv"
    };
    (options, name)
}

/// Runs the CSV reader on one fuzz input; panics only on a bug.
pub fn run(input: &[u8]) {
    let Some((&selector, bytes)) = input.split_first() else {
        return;
    };
    let (options, name) = options(selector);
    let data = match parse_csv(bytes, name, &options) {
        Ok(data) => data,
        Err(error) => {
            assert!(!error.to_string().is_empty(), "an error without a message");
            return;
        }
    };
    assert_eq!(
        data.features.rows(),
        data.len(),
        "rows of features and targets"
    );
    assert_eq!(
        data.features.cols(),
        data.feature_names.len(),
        "feature names"
    );
    assert!(
        data.features
            .as_slice()
            .iter()
            .all(|value| value.is_finite()),
        "a non-finite feature was accepted"
    );
    let Ok(specs) = feature_specs(&data.feature_names, &data.categories) else {
        panic!("the loader's own feature names do not make feature columns");
    };
    if let Ok(input) = read_model_input(bytes, name, &specs, &options) {
        assert_eq!(
            input.features.cols(),
            data.features.cols(),
            "model input width"
        );
        assert_eq!(
            input.features.rows(),
            input.lines.len(),
            "model input lines"
        );
    }
}
