//! Reading a model allocates nothing from a declared count before the bytes behind it exist:
//! a counting allocator records the largest single allocation while hostile files are read.
//! (One test in its own binary, so no other test's allocations are counted.)

mod model_support;

use backprop::model::Model;
use model_support::{assemble_model, classifier, metadata_json, tensors_of};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

struct Counting;

static RECORDING: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if RECORDING.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if RECORDING.load(Ordering::Relaxed) {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The largest single allocation `f` makes.
fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.store(0, Ordering::SeqCst);
    RECORDING.store(true, Ordering::SeqCst);
    f();
    RECORDING.store(false, Ordering::SeqCst);
    LARGEST.load(Ordering::SeqCst)
}

#[test]
fn hostile_files_do_not_make_large_allocations() {
    const LIMIT: usize = 64 * 1024;

    // A 100-byte file whose 8-byte prefix declares a header of u64::MAX/2 bytes.
    let mut huge_header = (u64::MAX / 2).to_le_bytes().to_vec();
    huge_header.extend_from_slice(&[b' '; 92]);
    let largest = largest_allocation(|| {
        assert!(Model::from_bytes(&huge_header, "huge").is_err());
    });
    assert!(largest < LIMIT, "largest allocation {largest} bytes");

    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("huge.safetensors");
    std::fs::write(&path, &huge_header).unwrap();
    let largest = largest_allocation(|| {
        let message = Model::load(&path).unwrap_err().to_string();
        assert!(message.contains("header length"), "{message}");
    });
    assert!(largest < LIMIT, "largest allocation {largest} bytes");

    // Metadata declaring four 100 000 × 100 000 layers (160 GB of weights) over the
    // few real tensors of a small model: refused from the tensors' shapes before the network
    // is built.
    let model = classifier();
    let mut json = metadata_json(&model);
    json["architecture"]["sizes"] = serde_json::json!(vec![100_000; 5]);
    json["architecture"]["activations"] = serde_json::json!(["relu", "relu", "relu", "identity"]);
    json["cost"] = "mse".into();
    json["task"] = "regression".into();
    json["preprocessing"]["class_names"] = serde_json::Value::Null;
    json["preprocessing"]["input_scaler"] = serde_json::Value::Null;
    json["preprocessing"]["feature_names"] = serde_json::Value::Array(vec!["f".into(); 100_000]);
    let bytes = assemble_model(&tensors_of(&model), &json);
    let largest = largest_allocation(|| {
        let message = Model::from_bytes(&bytes, "giant").unwrap_err().to_string();
        assert!(
            message.contains("layers.0.weight has shape [8, 3]"),
            "{message}"
        );
    });
    // The header itself (about 0.5 MB of feature names) is parsed; nothing near 40 GB is asked for.
    assert!(
        largest < 8 * bytes.len(),
        "largest allocation {largest} bytes for a {}-byte file",
        bytes.len()
    );
}
