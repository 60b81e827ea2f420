//! Fuzz entry for the model-file reader (`backprop::model`, safetensors plus the `backprop`
//! metadata), shared by the cargo-fuzz target `model` and the corpus replay test in
//! `crates/backprop/tests/fuzz_corpus.rs`.
//!
//! A file that loads must predict on a row of its input width and survive a write and a
//! re-read with the same parameters.

use backprop::model::Model;
use backprop_tensor::Matrix;

/// Runs the model reader on one fuzz input; panics only on a bug.
pub fn run(bytes: &[u8]) {
    let with_extras = Model::from_bytes_with_extras(bytes, "fuzz.safetensors");
    let model = match Model::from_bytes(bytes, "fuzz.safetensors") {
        Ok(model) => model,
        Err(error) => {
            assert!(!error.to_string().is_empty(), "an error without a message");
            return;
        }
    };
    // Skipping `optimizer.*` tensors can only make a file easier to read, not harder.
    if let Ok((other, _)) = &with_extras {
        assert_eq!(other.network.parameters(), model.network.parameters());
    }
    let width = model.network.input_width();
    let row = Matrix::from_fn(1, width, |_, _| 0.0f32);
    if let Ok(prediction) = model.predict(&row) {
        assert_eq!(prediction.rows(), 1);
    }
    let written = model.to_bytes().expect("a model that loads can be written");
    let again = Model::from_bytes(&written, "rewritten").expect("a written model loads");
    assert_eq!(again.network.parameters(), model.network.parameters());
}
