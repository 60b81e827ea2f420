//! Fuzz entry for the IDX reader (`backprop_data::idx`, plain or gzip), shared by the
//! cargo-fuzz target `idx` and the corpus replay test in
//! `crates/backprop-data/tests/fuzz_corpus.rs`.
//!
//! The bytes are read as a whole IDX file (gzip when they start with `1f 8b`) with a 16 MiB cap
//! after decompression. An array that parses must hold exactly the values its header declares;
//! it is then paired as images or labels with a matching array, as `mnist:` does.

use backprop_data::idx::{images_and_labels, parse_idx_maybe_gzip, IdxArray};

/// The cap after decompression: small, so that a gzip bomb fails fast instead of filling
/// memory.
pub const LIMIT: usize = 16 << 20;

/// Runs the IDX reader on one fuzz input; panics only on a bug.
pub fn run(bytes: &[u8]) {
    let array = match parse_idx_maybe_gzip(bytes, "fuzz.idx", LIMIT) {
        Ok(array) => array,
        Err(error) => {
            assert!(!error.to_string().is_empty(), "an error without a message");
            return;
        }
    };
    let declared: usize = array.dims.iter().product();
    assert!(
        !array.dims.is_empty() && array.dims.len() <= 4,
        "dimensions"
    );
    assert_eq!(
        array.data.len(),
        declared,
        "values held against values declared"
    );
    let count = array.dims[0];
    let other = |dims: Vec<usize>| IdxArray {
        data: vec![0; dims.iter().product()],
        dims,
        source_name: "other.idx".into(),
    };
    match array.dims.len() {
        3 => {
            let labels = other(vec![count]);
            let data = images_and_labels(array.clone(), labels, "fuzz").expect("zero labels fit");
            assert_eq!(data.len(), count);
            assert!(data
                .features
                .as_slice()
                .iter()
                .all(|pixel| (0.0..=1.0).contains(pixel)));
        }
        1 => {
            let images = other(vec![count, 1, 1]);
            let valid = array.data.iter().all(|&label| label <= 9);
            let result = images_and_labels(images, array.clone(), "fuzz");
            assert_eq!(
                result.is_ok(),
                valid,
                "labels 0 to 9 and only those are accepted"
            );
        }
        _ => {}
    }
    // The array as both images and labels: an error or a data set, never a panic.
    let _ = images_and_labels(array.clone(), array, "fuzz");
}
