//! IDX parsing, reading (plain and gzip), image/label pairing and MNIST folders, on tiny files
//! made here (the real MNIST is not needed).

use backprop_data::idx::{
    images_and_labels, images_and_labels_hashed, parse_idx, read_idx_file,
    read_idx_file_with_limit, IdxArray, IdxError,
};
use backprop_data::mnist::{load_mnist_dir, load_mnist_dir_hashed};
use backprop_data::DataError;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::Path;

fn idx(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    for dim in dims {
        bytes.extend_from_slice(&dim.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn idx_error<T: std::fmt::Debug>(result: Result<T, DataError>) -> IdxError {
    match result {
        Err(DataError::Idx(error)) => error,
        other => panic!("expected an IDX error, got {other:?}"),
    }
}

/// `n` images of 2×3 pixels (pixel values i·10 + k) and labels `i % 10`.
fn tiny_pair(n: u32) -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..n)
        .flat_map(|i| (0..6).map(move |k| ((i * 10 + k) % 256) as u8))
        .collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    (idx(8, &[n, 2, 3], &pixels), idx(8, &[n], &labels))
}

#[test]
fn parses_a_plain_array() {
    let array = parse_idx(&idx(8, &[2, 3], &[1, 2, 3, 4, 5, 6]), "a").unwrap();
    assert_eq!(
        array,
        IdxArray {
            dims: vec![2, 3],
            data: vec![1, 2, 3, 4, 5, 6],
            source_name: "a".into()
        }
    );
}

#[test]
fn reads_plain_and_gzip_files_alike() {
    let folder = tempfile::tempdir().unwrap();
    let bytes = idx(8, &[4], &[9, 8, 7, 6]);
    let plain = folder.path().join("labels-idx1-ubyte");
    let gz = folder.path().join("labels-idx1-ubyte.gz");
    std::fs::write(&plain, &bytes).unwrap();
    std::fs::write(&gz, gzip(&bytes)).unwrap();
    let from_plain = read_idx_file(&plain).unwrap();
    let from_gz = read_idx_file(&gz).unwrap();
    assert_eq!(from_plain.dims, from_gz.dims);
    assert_eq!(from_plain.data, from_gz.data);
    assert_eq!(from_gz.source_name, gz.display().to_string());
}

#[test]
fn a_damaged_gzip_stream_is_a_clear_error() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("broken.gz");
    let mut bytes = gzip(&idx(8, &[100], &[3; 100]));
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&path, &bytes).unwrap();
    let error = idx_error(read_idx_file(&path));
    assert!(matches!(error, IdxError::Gzip { .. }), "{error}");
}

#[test]
fn a_missing_file_names_its_path() {
    let error = idx_error(read_idx_file("/no/such/dir/train-images-idx3-ubyte"));
    assert!(matches!(error, IdxError::Io { .. }));
    assert!(error
        .to_string()
        .contains("/no/such/dir/train-images-idx3-ubyte"));
}

#[test]
fn wrong_magic_is_refused() {
    let mut bytes = idx(8, &[1], &[0]);
    bytes[0] = 0x50; // "PK…": a zip file, say.
    bytes[1] = 0x4b;
    let error = idx_error(parse_idx(&bytes, "f"));
    assert_eq!(
        error.to_string(),
        "f: not an IDX file: it starts with 0x50 0x4b, expected 0x00 0x00"
    );
}

#[test]
fn unsupported_types_are_named() {
    let error = idx_error(parse_idx(&idx(0x0b, &[1], &[0, 0]), "f"));
    assert!(
        matches!(
            error,
            IdxError::UnsupportedType {
                type_code: 0x0b,
                type_name: "16-bit integer",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("0x0b (16-bit integer)"));
}

#[test]
fn dimension_counts_outside_one_to_four_are_refused() {
    for count in [0u8, 5, 255] {
        let mut bytes = vec![0, 0, 8, count];
        bytes.extend_from_slice(&[0; 40]);
        assert_eq!(
            idx_error(parse_idx(&bytes, "f")),
            IdxError::BadDimensionCount {
                source_name: "f".into(),
                count: usize::from(count)
            }
        );
    }
}

#[test]
fn zero_sized_dimensions_are_refused() {
    let error = idx_error(parse_idx(&idx(8, &[3, 0, 2], &[]), "f"));
    assert_eq!(
        error,
        IdxError::ZeroDimension {
            source_name: "f".into(),
            index: 1,
            dims: vec![3, 0, 2]
        }
    );
}

#[test]
fn short_headers_are_refused() {
    for length in 0..4 {
        let error = idx_error(parse_idx(&[0, 0, 8, 3][..length], "f"));
        assert!(
            matches!(error, IdxError::HeaderTooShort { needed: 4, .. }),
            "{error}"
        );
    }
    // Three dimensions declared, only two sizes present.
    let bytes = &idx(8, &[1, 1, 1], &[])[..12];
    let error = idx_error(parse_idx(bytes, "f"));
    assert_eq!(
        error,
        IdxError::HeaderTooShort {
            source_name: "f".into(),
            length: 12,
            needed: 16
        }
    );
}

#[test]
fn truncated_payloads_say_what_was_declared_and_held() {
    let error = idx_error(parse_idx(&idx(8, &[2, 3], &[1, 2, 3, 4]), "f"));
    assert_eq!(
        error.to_string(),
        "f: truncated: header declares 6 bytes of data, file holds 4"
    );
}

#[test]
fn a_declared_size_the_file_cannot_hold_fails_without_allocating_it() {
    // MNIST's full training header in front of ten bytes. The declared size is compared with the
    // bytes actually present before any buffer is made for the data (see `parse_header`), so
    // this does not allocate 47 MB.
    let bytes = idx(8, &[60000, 28, 28], &[0; 10]);
    assert_eq!(
        idx_error(parse_idx(&bytes, "f")),
        IdxError::Truncated {
            source_name: "f".into(),
            declared: 47_040_000,
            held: 10
        }
    );
    // Also through the file reader (plain and gzip).
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("x.gz");
    std::fs::write(&path, gzip(&bytes)).unwrap();
    assert!(matches!(
        idx_error(read_idx_file(&path)),
        IdxError::Truncated { held: 10, .. }
    ));
    // The largest header there is: four dimensions of 2³²−1.
    let bytes = idx(8, &[u32::MAX; 4], &[1, 2, 3]);
    let error = idx_error(parse_idx(&bytes, "f"));
    assert!(
        matches!(
            error,
            IdxError::SizeOverflow { .. } | IdxError::Truncated { .. }
        ),
        "{error}"
    );
}

#[cfg(target_pointer_width = "64")]
#[test]
fn a_product_of_dimensions_that_overflows_is_refused() {
    // (2³²−1)³ > 2⁶⁴.
    let bytes = idx(8, &[u32::MAX, u32::MAX, u32::MAX], &[0; 8]);
    assert_eq!(
        idx_error(parse_idx(&bytes, "f")),
        IdxError::SizeOverflow {
            source_name: "f".into(),
            dims: vec![u32::MAX as usize; 3]
        }
    );
}

#[test]
fn trailing_bytes_are_refused() {
    let error = idx_error(parse_idx(&idx(8, &[2], &[1, 2, 3]), "f"));
    assert_eq!(
        error.to_string(),
        "f: 1 trailing bytes after the 2 bytes of data the header declares"
    );
}

#[test]
fn decompression_stops_at_the_cap() {
    // A gzip bomb in miniature: 1 MB of zeros compresses to about a kilobyte.
    let bomb = gzip(&idx(8, &[1_000_000], &vec![0; 1_000_000]));
    assert!(bomb.len() < 5_000);
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("bomb.gz");
    std::fs::write(&path, &bomb).unwrap();
    assert_eq!(
        idx_error(read_idx_file_with_limit(&path, 64 * 1024)),
        IdxError::TooLarge {
            source_name: path.display().to_string(),
            limit: 64 * 1024
        }
    );
    // The cap applies to plain files too; exactly at the cap is accepted.
    let plain = folder.path().join("plain");
    std::fs::write(&plain, idx(8, &[4], &[1, 2, 3, 4])).unwrap();
    assert!(read_idx_file_with_limit(&plain, 12).is_ok());
    assert!(matches!(
        idx_error(read_idx_file_with_limit(&plain, 11)),
        IdxError::TooLarge { limit: 11, .. }
    ));
    assert!(read_idx_file(&path).is_ok());
}

#[test]
fn images_and_labels_make_a_scaled_data_set() {
    let (images, labels) = tiny_pair(3);
    let data = images_and_labels(
        parse_idx(&images, "images").unwrap(),
        parse_idx(&labels, "labels").unwrap(),
        "tiny",
    )
    .unwrap();
    assert_eq!(
        (data.len(), data.n_features(), data.n_classes()),
        (3, 6, Some(10))
    );
    assert_eq!(data.name, "tiny");
    assert_eq!(data.labels(), Some(&[0, 1, 2][..]));
    assert_eq!(
        data.feature_names,
        ["px0_0", "px0_1", "px0_2", "px1_0", "px1_1", "px1_2"]
    );
    let names: Vec<String> = (0..10).map(|c| c.to_string()).collect();
    assert_eq!(data.class_names(), Some(&names[..]));
    assert_eq!(data.features[(1, 2)], 12.0 / 255.0);
    assert!(data
        .features
        .as_slice()
        .iter()
        .all(|p| (0.0..=1.0).contains(p)));
    // 0 and 255 map to exactly 0 and 1.
    let images = parse_idx(&idx(8, &[1, 1, 2], &[0, 255]), "i").unwrap();
    let labels = parse_idx(&idx(8, &[1], &[9]), "l").unwrap();
    let data = images_and_labels(images, labels, "x").unwrap();
    assert_eq!(data.features.as_slice(), &[0.0, 1.0]);
}

#[test]
fn image_and_label_counts_must_agree() {
    let (images, _) = tiny_pair(3);
    let (_, labels) = tiny_pair(2);
    let error = idx_error(images_and_labels(
        parse_idx(&images, "train-images").unwrap(),
        parse_idx(&labels, "train-labels").unwrap(),
        "x",
    ));
    assert_eq!(
        error.to_string(),
        "train-images holds 3 images but train-labels holds 2 labels"
    );
}

#[test]
fn labels_must_be_digits() {
    let (images, _) = tiny_pair(4);
    let labels = idx(8, &[4], &[1, 9, 10, 200]);
    let error = idx_error(images_and_labels(
        parse_idx(&images, "i").unwrap(),
        parse_idx(&labels, "labels").unwrap(),
        "x",
    ));
    assert_eq!(
        error.to_string(),
        "labels: label 2 is 10; labels must be 0 to 9"
    );
}

#[test]
fn shapes_must_be_images_and_labels() {
    let flat = parse_idx(&idx(8, &[2, 6], &[0; 12]), "flat").unwrap();
    let labels = parse_idx(&idx(8, &[2], &[0, 1]), "labels").unwrap();
    let error = idx_error(images_and_labels(flat, labels.clone(), "x"));
    assert!(matches!(error, IdxError::NotImages { .. }), "{error}");
    let (images, _) = tiny_pair(2);
    let images = parse_idx(&images, "i").unwrap();
    let error = idx_error(images_and_labels(images.clone(), images, "x"));
    assert!(matches!(error, IdxError::NotLabels { .. }), "{error}");
    let _ = labels;
}

fn write_folder(dir: &Path, names: [&str; 4], compress: bool) {
    let (train_images, train_labels) = tiny_pair(12);
    let (test_images, test_labels) = tiny_pair(5);
    for (name, bytes) in names
        .iter()
        .zip([train_images, train_labels, test_images, test_labels])
    {
        let bytes = if compress { gzip(&bytes) } else { bytes };
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn check_loaded(dir: &Path) {
    let (train, test) = load_mnist_dir(dir).unwrap();
    // The hash taken while loading is the data set's own, and the data the same.
    let (hashed_train, hashed_test, hash) = load_mnist_dir_hashed(dir).unwrap();
    assert_eq!((&hashed_train, &hashed_test), (&train, &test));
    assert_eq!(hash, train.sha256());
    assert_eq!((train.len(), test.len()), (12, 5));
    assert_eq!(train.n_features(), 6);
    assert_eq!(
        train.class_counts().unwrap(),
        [2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
    );
    assert_eq!(test.labels(), Some(&[0, 1, 2, 3, 4][..]));
}

#[test]
fn mnist_folder_with_gzip_files() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("mnist");
    std::fs::create_dir(&dir).unwrap();
    write_folder(
        &dir,
        [
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ],
        true,
    );
    check_loaded(&dir);
    assert_eq!(load_mnist_dir(&dir).unwrap().0.name, "mnist");
}

#[test]
fn mnist_folder_with_plain_files() {
    let folder = tempfile::tempdir().unwrap();
    write_folder(
        folder.path(),
        [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ],
        false,
    );
    check_loaded(folder.path());
}

#[test]
fn mnist_folder_with_dotted_names() {
    let folder = tempfile::tempdir().unwrap();
    write_folder(
        folder.path(),
        [
            "train-images.idx3-ubyte",
            "train-labels.idx1-ubyte.gz",
            "t10k-images.idx3-ubyte.gz",
            "t10k-labels.idx1-ubyte",
        ],
        false,
    );
    check_loaded(folder.path());
}

#[test]
fn a_missing_mnist_file_lists_the_names_tried() {
    let folder = tempfile::tempdir().unwrap();
    write_folder(
        folder.path(),
        [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "unrelated",
        ],
        false,
    );
    let message = idx_error(load_mnist_dir(folder.path())).to_string();
    assert!(message.contains("no test labels file"), "{message}");
    for name in [
        "t10k-labels-idx1-ubyte",
        "t10k-labels-idx1-ubyte.gz",
        "t10k-labels.idx1-ubyte",
        "t10k-labels.idx1-ubyte.gz",
    ] {
        assert!(message.contains(name), "{message}");
    }
    let error = idx_error(load_mnist_dir(&folder.path().join("absent")));
    assert!(matches!(error, IdxError::NotAFolder { .. }), "{error}");
}

#[test]
fn mnist_folder_with_mismatched_counts_names_both_files() {
    let folder = tempfile::tempdir().unwrap();
    write_folder(
        folder.path(),
        [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ],
        false,
    );
    let (_, labels) = tiny_pair(11);
    std::fs::write(folder.path().join("train-labels-idx1-ubyte"), labels).unwrap();
    let message = idx_error(load_mnist_dir(folder.path())).to_string();
    assert!(
        message.contains("train-images-idx3-ubyte holds 12 images")
            && message.contains("train-labels-idx1-ubyte holds 11 labels"),
        "{message}"
    );
}

/// Images larger than one piece of the hashing thread (2¹⁴ pixels), with a ragged last piece:
/// the hash taken while converting is [`Dataset::sha256`] of the result, and it changes with a
/// pixel or a label.
#[test]
fn hashing_while_converting_gives_the_data_sets_hash() {
    let (count, rows, cols) = (7u32, 61u32, 83u32);
    let pixels: Vec<u8> = (0..count * rows * cols)
        .map(|i| (i * 37 % 256) as u8)
        .collect();
    let labels: Vec<u8> = (0..count).map(|i| (i * 3 % 10) as u8).collect();
    let parse = |pixels: &[u8], labels: &[u8]| {
        (
            parse_idx(&idx(0x08, &[count, rows, cols], pixels), "images").unwrap(),
            parse_idx(&idx(0x08, &[count], labels), "labels").unwrap(),
        )
    };
    let (images, label_array) = parse(&pixels, &labels);
    let plain = images_and_labels(images.clone(), label_array.clone(), "p").unwrap();
    let (data, hash) = images_and_labels_hashed(images, label_array, "p").unwrap();
    assert_eq!(data, plain);
    assert_eq!(hash, plain.sha256());
    let mut changed_pixel = pixels.clone();
    changed_pixel[(count * rows * cols - 1) as usize] ^= 1;
    let mut changed_label = labels.clone();
    changed_label[0] = 9;
    for (pixels, labels) in [(&changed_pixel, &labels), (&pixels, &changed_label)] {
        let (images, labels) = parse(pixels, labels);
        let (other, other_hash) = images_and_labels_hashed(images, labels, "p").unwrap();
        assert_ne!(other_hash, hash);
        assert_eq!(other_hash, other.sha256());
    }
}
