//! Fuzz entry for the streaming CSV reader of `predict` and `evaluate`
//! (`backprop_data::tabular::ModelInputStream`), shared by the cargo-fuzz target `csv_stream`
//! and the corpus replay test in `crates/backprop-cli/tests/fuzz_corpus.rs`. Errors go through
//! the command line's mapping (`backprop_cli::exit::CliError`), whose exit code is checked.
//!
//! The reader opens files, so the bytes after the first are written to a scratch file, named
//! `.csv.gz` when the first byte is odd. The model's columns are `a` and `b` (numeric) and
//! `c` (categorical: `x`, `y`); the target is `y`, or column 0 when the first byte has bit 1
//! set. The rows are read in chunks of 1 to 4 rows (bits 2 and 3). Every error must be a bad-input
//! error (exit 2): the scratch file itself can always be read.

use backprop_cli::exit::CliError;
use backprop_data::csv_file::FeatureSpec;
use backprop_data::tabular::ModelInputStream;
use backprop_data::TargetColumn;
use std::path::PathBuf;

/// The scratch file for this process.
fn scratch(gzip: bool) -> PathBuf {
    let suffix = if gzip { "csv.gz" } else { "csv" };
    std::env::temp_dir().join(format!("backprop-fuzz-{}.{suffix}", std::process::id()))
}

/// Runs the streaming reader on one fuzz input; panics only on a bug.
pub fn run(input: &[u8]) {
    let Some((&selector, bytes)) = input.split_first() else {
        return;
    };
    let path = scratch(selector & 1 == 1);
    std::fs::write(&path, bytes).expect("the scratch file can be written");
    let specs = [
        FeatureSpec::Numeric { name: "a".into() },
        FeatureSpec::Numeric { name: "b".into() },
        FeatureSpec::Categorical {
            name: "c".into(),
            categories: vec!["x".into(), "y".into()],
        },
    ];
    let target = if selector & 2 == 0 {
        TargetColumn::Name("y".into())
    } else {
        TargetColumn::Index(0)
    };
    let chunk_rows = 1 + usize::from((selector >> 2) & 3);
    let result = (|| {
        let mut input = ModelInputStream::open(&path, &specs)?;
        let with_target = input.set_targets(std::slice::from_ref(&target)).is_ok();
        while let Some(chunk) = input.next_chunk(chunk_rows)? {
            let rows = chunk.lines.len();
            assert!(rows >= 1 && rows <= chunk_rows, "chunk of {rows} rows");
            assert_eq!(chunk.features.rows(), rows);
            assert_eq!(chunk.features.cols(), 4, "a, b and c's two categories");
            assert!(chunk
                .features
                .as_slice()
                .iter()
                .all(|value| value.is_finite()));
            if with_target {
                assert_eq!(chunk.targets.len(), rows, "one target cell per row");
            }
        }
        let _ = input.warnings();
        Ok::<(), backprop_data::tabular::TabularError>(())
    })();
    let _ = std::fs::remove_file(&path);
    if let Err(error) = result {
        assert!(error.is_bad_input(), "not bad input: {error}");
        let error = CliError::from(error);
        assert_eq!(error.exit_code(), 2, "bad input must exit 2: {error}");
        assert!(!error.to_string().is_empty());
    }
}
