//! IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed.
//!
//! An IDX file is a big-endian header followed by the values, row-major:
//!
//! | bytes | meaning |
//! | --- | --- |
//! | 0, 1 | always `0x00 0x00` |
//! | 2 | the value type: `0x08` unsigned byte is the one supported here (MNIST's) |
//! | 3 | the number of dimensions, 1 to 4 |
//! | 4 … | each dimension's size, a big-endian `u32` |
//! | then | exactly the product of the sizes, one byte per value |
//!
//! Every length is checked before anything is allocated from it: the header's declared size
//! must equal the bytes that actually follow it (fewer is "truncated", more is "trailing
//! bytes"), the product of the sizes is overflow-checked, and a gzip file is decompressed into a
//! buffer that grows only as bytes arrive, with a cap ([`MAX_DECOMPRESSED_BYTES`]) so that a
//! gzip bomb cannot exhaust memory. Peak memory is about the decompressed file plus, in
//! [`images_and_labels`], its `f32` copy.
//!
//! [`images_and_labels`] turns an image file (n, rows, cols) and a label file (n) into a
//! [`Dataset`] with pixels scaled to [0, 1] (p / 255), features named `px{row}_{col}` and
//! classes `"0"` to `"9"`.
//!
//! ```
//! use backprop_data::idx::{images_and_labels, parse_idx};
//!
//! // Two 1×2 images and their labels.
//! let images = parse_idx(&[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 51, 0], "images").unwrap();
//! let labels = parse_idx(&[0, 0, 8, 1, 0, 0, 0, 2, 7, 3], "labels").unwrap();
//! assert_eq!(images.dims, [2, 1, 2]);
//! let data = images_and_labels(images, labels, "tiny").unwrap();
//! assert_eq!(data.features.as_slice(), &[0.0, 1.0, 0.2, 0.0]);
//! assert_eq!(data.labels(), Some(&[7, 3][..]));
//! assert_eq!(data.feature_names, ["px0_0", "px0_1"]);
//! ```

use crate::content_hash::ContentHasher;
use crate::{idx_cache, DataError, Dataset, Targets};
use backprop_tensor::Matrix;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The largest file, after decompression, that [`read_idx_file`] accepts: 1 GiB (MNIST's
/// largest file is 47 MB).
pub const MAX_DECOMPRESSED_BYTES: usize = 1 << 30;

/// The largest number of dimensions an IDX file may declare.
pub const MAX_DIMENSIONS: usize = 4;

/// The IDX type code of unsigned bytes, the only value type supported.
pub const UNSIGNED_BYTE_TYPE: u8 = 0x08;

/// The number of classes of an MNIST-style label file (digits 0 to 9).
pub const MNIST_CLASSES: usize = 10;

/// The two bytes that open every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why an IDX file, or a pair of them, could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IdxError {
    /// The file could not be opened or read.
    #[error("cannot read {source_name}: {message}")]
    Io {
        /// The file.
        source_name: String,
        /// The operating system's message.
        message: String,
    },
    /// The gzip stream is damaged.
    #[error("{source_name}: not a valid gzip stream: {message}")]
    Gzip {
        /// The file.
        source_name: String,
        /// The decoder's message.
        message: String,
    },
    /// The (decompressed) file is larger than the cap.
    #[error("{source_name}: larger than {limit} bytes after decompression; refused")]
    TooLarge {
        /// The file.
        source_name: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// Fewer bytes than the fixed part of the header (or than its dimension sizes).
    #[error("{source_name}: not an IDX file: {length} bytes is too short for its header ({needed} bytes)")]
    HeaderTooShort {
        /// The file.
        source_name: String,
        /// Bytes in the file.
        length: usize,
        /// Bytes the header needs.
        needed: usize,
    },
    /// The first two bytes are not zero.
    #[error("{source_name}: not an IDX file: it starts with 0x{first:02x} 0x{second:02x}, expected 0x00 0x00")]
    BadMagic {
        /// The file.
        source_name: String,
        /// The first byte.
        first: u8,
        /// The second byte.
        second: u8,
    },
    /// A value type other than unsigned byte.
    #[error("{source_name}: IDX value type 0x{type_code:02x} ({type_name}) is not supported; only 0x08 (unsigned byte) is")]
    UnsupportedType {
        /// The file.
        source_name: String,
        /// The type byte.
        type_code: u8,
        /// Its name in the IDX specification, or `"unknown"`.
        type_name: &'static str,
    },
    /// A number of dimensions outside 1 to [`MAX_DIMENSIONS`].
    #[error("{source_name}: the header declares {count} dimensions; 1 to 4 are supported")]
    BadDimensionCount {
        /// The file.
        source_name: String,
        /// The declared count.
        count: usize,
    },
    /// A dimension of size zero.
    #[error("{source_name}: dimension {index} has size 0 (dimensions {dims:?})")]
    ZeroDimension {
        /// The file.
        source_name: String,
        /// Which dimension (from 0).
        index: usize,
        /// All declared sizes.
        dims: Vec<usize>,
    },
    /// The product of the dimensions does not fit in memory addresses.
    #[error("{source_name}: the dimensions {dims:?} declare more values than can be addressed")]
    SizeOverflow {
        /// The file.
        source_name: String,
        /// All declared sizes.
        dims: Vec<usize>,
    },
    /// The file holds fewer data bytes than its header declares.
    #[error(
        "{source_name}: truncated: header declares {declared} bytes of data, file holds {held}"
    )]
    Truncated {
        /// The file.
        source_name: String,
        /// Data bytes declared by the header.
        declared: usize,
        /// Data bytes present.
        held: usize,
    },
    /// The file holds more data bytes than its header declares.
    #[error("{source_name}: {extra} trailing bytes after the {declared} bytes of data the header declares")]
    TrailingBytes {
        /// The file.
        source_name: String,
        /// Data bytes declared by the header.
        declared: usize,
        /// Bytes beyond them.
        extra: usize,
    },
    /// An image file that is not 3-D (count, rows, columns).
    #[error("{source_name}: an image file must have 3 dimensions (count, rows, columns), it has {dims:?}")]
    NotImages {
        /// The file.
        source_name: String,
        /// Its dimensions.
        dims: Vec<usize>,
    },
    /// A label file that is not 1-D.
    #[error("{source_name}: a label file must have 1 dimension (count), it has {dims:?}")]
    NotLabels {
        /// The file.
        source_name: String,
        /// Its dimensions.
        dims: Vec<usize>,
    },
    /// The image and label files disagree on the number of examples.
    #[error("{images_source} holds {images} images but {labels_source} holds {labels} labels")]
    CountMismatch {
        /// The image file.
        images_source: String,
        /// Its number of images.
        images: usize,
        /// The label file.
        labels_source: String,
        /// Its number of labels.
        labels: usize,
    },
    /// A label outside 0 to 9.
    #[error("{source_name}: label {index} is {value}; labels must be 0 to 9")]
    BadLabel {
        /// The label file.
        source_name: String,
        /// The first bad label's index.
        index: usize,
        /// Its value.
        value: u8,
    },
    /// A folder given as `mnist:DIR` that is not a folder.
    #[error("mnist:{folder}: not a folder")]
    NotAFolder {
        /// The folder as given.
        folder: String,
    },
    /// One of the four standard MNIST files is missing from a folder.
    #[error("mnist:{folder}: no {part} file; looked for {}", looked_for.join(", "))]
    MissingFile {
        /// The folder.
        folder: String,
        /// `"training images"`, `"training labels"`, `"test images"` or `"test labels"`.
        part: &'static str,
        /// The file names tried, in order.
        looked_for: Vec<String>,
    },
}

/// The values of one IDX file: its dimensions and its bytes, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The size of each dimension (1 to 4 of them, none zero).
    pub dims: Vec<usize>,
    /// The values, row-major; exactly the product of `dims` bytes.
    pub data: Vec<u8>,
    /// Where the array came from (a path or a caller-chosen name), for error messages.
    pub source_name: String,
}

/// The name of an IDX value type, as in the format's specification.
fn type_name(type_code: u8) -> &'static str {
    match type_code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0b => "16-bit integer",
        0x0c => "32-bit integer",
        0x0d => "32-bit float",
        0x0e => "64-bit float",
        _ => "unknown",
    }
}

/// The dimensions and the header's length, after checking the header against the file's
/// length. Allocates nothing but the (at most four) dimensions.
fn parse_header(bytes: &[u8], source_name: &str) -> Result<(Vec<usize>, usize), IdxError> {
    const FIXED: usize = 4;
    if bytes.len() < FIXED {
        return Err(IdxError::HeaderTooShort {
            source_name: source_name.into(),
            length: bytes.len(),
            needed: FIXED,
        });
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(IdxError::BadMagic {
            source_name: source_name.into(),
            first: bytes[0],
            second: bytes[1],
        });
    }
    let type_code = bytes[2];
    if type_code != UNSIGNED_BYTE_TYPE {
        return Err(IdxError::UnsupportedType {
            source_name: source_name.into(),
            type_code,
            type_name: type_name(type_code),
        });
    }
    let count = usize::from(bytes[3]);
    if !(1..=MAX_DIMENSIONS).contains(&count) {
        return Err(IdxError::BadDimensionCount {
            source_name: source_name.into(),
            count,
        });
    }
    let header_length = FIXED + 4 * count;
    if bytes.len() < header_length {
        return Err(IdxError::HeaderTooShort {
            source_name: source_name.into(),
            length: bytes.len(),
            needed: header_length,
        });
    }
    let mut dims = Vec::with_capacity(count);
    for chunk in bytes[FIXED..header_length].chunks_exact(4) {
        let size = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let Ok(size) = usize::try_from(size) else {
            return Err(IdxError::SizeOverflow {
                source_name: source_name.into(),
                dims,
            });
        };
        dims.push(size);
    }
    if let Some(index) = dims.iter().position(|&size| size == 0) {
        return Err(IdxError::ZeroDimension {
            source_name: source_name.into(),
            index,
            dims,
        });
    }
    let Some(declared) = dims
        .iter()
        .try_fold(1usize, |product, &size| product.checked_mul(size))
    else {
        return Err(IdxError::SizeOverflow {
            source_name: source_name.into(),
            dims,
        });
    };
    let held = bytes.len() - header_length;
    if held < declared {
        return Err(IdxError::Truncated {
            source_name: source_name.into(),
            declared,
            held,
        });
    }
    if held > declared {
        return Err(IdxError::TrailingBytes {
            source_name: source_name.into(),
            declared,
            extra: held - declared,
        });
    }
    Ok((dims, header_length))
}

/// Parses the bytes of an (uncompressed) IDX file; `source_name` names it in error messages.
///
/// The header is checked against the length of `bytes` before the data is copied, so a header
/// that declares more than the file holds fails without allocating.
pub fn parse_idx(bytes: &[u8], source_name: &str) -> Result<IdxArray, DataError> {
    let (dims, header_length) = parse_header(bytes, source_name)?;
    Ok(IdxArray {
        dims,
        data: bytes[header_length..].to_vec(),
        source_name: source_name.into(),
    })
}

/// Like [`parse_idx`], but takes the bytes by value and reuses their buffer for the data.
fn parse_idx_owned(mut bytes: Vec<u8>, source_name: &str) -> Result<IdxArray, DataError> {
    let (dims, header_length) = parse_header(&bytes, source_name)?;
    bytes.drain(..header_length);
    Ok(IdxArray {
        dims,
        data: bytes,
        source_name: source_name.into(),
    })
}

fn io_error(source_name: &str, error: &io::Error) -> IdxError {
    IdxError::Io {
        source_name: source_name.into(),
        message: error.to_string(),
    }
}

/// Reads all of `reader` into a buffer that grows as bytes arrive, failing once more than
/// `limit` bytes have arrived.
fn read_bounded(
    reader: impl Read,
    limit: usize,
    source_name: &str,
    in_gzip: bool,
) -> Result<Vec<u8>, IdxError> {
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut bytes)
        .map_err(|error| match error.kind() {
            io::ErrorKind::InvalidInput
            | io::ErrorKind::InvalidData
            | io::ErrorKind::UnexpectedEof
                if in_gzip =>
            {
                IdxError::Gzip {
                    source_name: source_name.into(),
                    message: error.to_string(),
                }
            }
            _ => io_error(source_name, &error),
        })?;
    if bytes.len() > limit {
        return Err(IdxError::TooLarge {
            source_name: source_name.into(),
            limit,
        });
    }
    Ok(bytes)
}

/// The whole content of a file, decompressed when it starts with the gzip magic bytes
/// (`1f 8b`, whatever its name), refused beyond `limit` bytes (after decompression).
///
/// The buffer grows only as bytes arrive: nothing is reserved from a size the file declares.
pub fn read_maybe_gzip(path: &Path, limit: usize) -> Result<Vec<u8>, DataError> {
    let source_name = path.display().to_string();
    let mut file = File::open(path).map_err(|error| io_error(&source_name, &error))?;
    let mut prefix = [0u8; 2];
    let mut filled = 0;
    while filled < prefix.len() {
        match file.read(&mut prefix[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(io_error(&source_name, &error).into()),
        }
    }
    let reader = io::Cursor::new(prefix[..filled].to_vec()).chain(file);
    let bytes = if prefix[..filled] == GZIP_MAGIC {
        read_bounded(MultiGzDecoder::new(reader), limit, &source_name, true)?
    } else {
        read_bounded(reader, limit, &source_name, false)?
    };
    Ok(bytes)
}

/// Parses the bytes of an IDX file, plain or gzip-compressed (recognised by its first two
/// bytes), refusing more than `limit` bytes after decompression. This is what
/// [`read_idx_file_with_limit`] does once the file is read; the fuzz target and the corpus
/// replay test call it on arbitrary bytes.
pub fn parse_idx_maybe_gzip(
    bytes: &[u8],
    source_name: &str,
    limit: usize,
) -> Result<IdxArray, DataError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let data = read_bounded(MultiGzDecoder::new(bytes), limit, source_name, true)?;
        parse_idx_owned(data, source_name)
    } else if bytes.len() > limit {
        Err(IdxError::TooLarge {
            source_name: source_name.into(),
            limit,
        }
        .into())
    } else {
        parse_idx(bytes, source_name)
    }
}

/// Reads an IDX file, plain or gzip-compressed (recognised by its first two bytes), with the
/// default cap of [`MAX_DECOMPRESSED_BYTES`].
pub fn read_idx_file(path: impl AsRef<Path>) -> Result<IdxArray, DataError> {
    read_idx_file_with_limit(path, MAX_DECOMPRESSED_BYTES)
}

/// Reads an IDX file, plain or gzip-compressed, refusing more than `limit` bytes after
/// decompression.
pub fn read_idx_file_with_limit(
    path: impl AsRef<Path>,
    limit: usize,
) -> Result<IdxArray, DataError> {
    read_idx_file_cached(path.as_ref(), limit, idx_cache::cache_folder().as_deref())
}

/// [`read_idx_file_with_limit`] with the decompressed-file cache in `cache` (none when `None`).
fn read_idx_file_cached(
    path: &Path,
    limit: usize,
    cache: Option<&Path>,
) -> Result<IdxArray, DataError> {
    let source_name = path.display().to_string();
    let cached = match cache {
        Some(folder) => read_through_cache(path, folder, limit, &source_name)?,
        None => None,
    };
    let bytes = match cached {
        Some(bytes) => bytes,
        None => read_maybe_gzip(path, limit)?,
    };
    parse_idx_owned(bytes, &source_name)
}

/// The content of a file of at least [`idx_cache::MIN_CACHED_BYTES`], decompressed through
/// the cache in `folder` when it is gzip; `None` (read it the usual way) for a smaller or
/// unreadable file, which the usual way then reports.
fn read_through_cache(
    path: &Path,
    folder: &Path,
    limit: usize,
    source_name: &str,
) -> Result<Option<Vec<u8>>, DataError> {
    let Ok(metadata) = std::fs::metadata(path) else {
        return Ok(None);
    };
    let size = metadata.len();
    if size < idx_cache::MIN_CACHED_BYTES as u64 || size > limit as u64 {
        return Ok(None);
    }
    let Ok(compressed) = std::fs::read(path) else {
        return Ok(None);
    };
    if !compressed.starts_with(&GZIP_MAGIC) {
        return Ok(Some(compressed));
    }
    if let Some(bytes) = idx_cache::lookup(folder, &compressed, limit) {
        return Ok(Some(bytes));
    }
    let bytes = read_bounded(
        MultiGzDecoder::new(&compressed[..]),
        limit,
        source_name,
        true,
    )?;
    idx_cache::store(folder, &compressed, &bytes);
    Ok(Some(bytes))
}

/// The feature names of `rows`×`cols` images, row-major: `px{row}_{col}`, e.g. `px0_0`,
/// `px0_1`, …, `px27_27` for MNIST.
pub fn pixel_feature_names(rows: usize, cols: usize) -> Vec<String> {
    (0..rows)
        .flat_map(|row| (0..cols).map(move |col| format!("px{row}_{col}")))
        .collect()
}

/// A classification data set from an image file (count, rows, columns) and a label file
/// (count) with labels 0 to 9.
///
/// Pixels become `f32` in [0, 1] (p / 255), one row per image, row-major; features are named
/// by [`pixel_feature_names`]; the classes are `"0"` to `"9"`; the data set is called `name`.
pub fn images_and_labels(
    images: IdxArray,
    labels: IdxArray,
    name: &str,
) -> Result<Dataset, DataError> {
    convert_images(images, labels, name, false).map(|(data, _)| data)
}

/// [`images_and_labels`], and the data set's [`Dataset::sha256`], hashed on a second thread
/// from the pixels while this one converts them (hashing MNIST's 188 MB of `f32` takes about as
/// long as converting them, so the two together take about as long as one).
pub fn images_and_labels_hashed(
    images: IdxArray,
    labels: IdxArray,
    name: &str,
) -> Result<(Dataset, String), DataError> {
    let (data, hash) = convert_images(images, labels, name, true)?;
    Ok((data, hash.expect("asked for")))
}

fn convert_images(
    images: IdxArray,
    labels: IdxArray,
    name: &str,
    hash: bool,
) -> Result<(Dataset, Option<String>), DataError> {
    let [count, rows, cols] = images.dims[..] else {
        return Err(IdxError::NotImages {
            source_name: images.source_name,
            dims: images.dims,
        }
        .into());
    };
    let [label_count] = labels.dims[..] else {
        return Err(IdxError::NotLabels {
            source_name: labels.source_name,
            dims: labels.dims,
        }
        .into());
    };
    if count != label_count {
        return Err(IdxError::CountMismatch {
            images_source: images.source_name,
            images: count,
            labels_source: labels.source_name,
            labels: label_count,
        }
        .into());
    }
    if let Some((index, &value)) = labels
        .data
        .iter()
        .enumerate()
        .find(|(_, &value)| usize::from(value) >= MNIST_CLASSES)
    {
        return Err(IdxError::BadLabel {
            source_name: labels.source_name,
            index,
            value,
        }
        .into());
    }
    // Both products were checked when the files were parsed (count·rows·cols fits in usize).
    let pixels_per_image = rows * cols;
    let IdxArray { data: pixels, .. } = images;
    debug_assert_eq!(
        pixels.len(),
        count * pixels_per_image,
        "checked when the file was parsed"
    );
    let targets = Targets::Classes {
        labels: labels
            .data
            .iter()
            .map(|&label| usize::from(label))
            .collect(),
        class_names: (0..MNIST_CLASSES).map(|class| class.to_string()).collect(),
    };
    let feature_names = pixel_feature_names(rows, cols);
    let to_unit = |pixel: &u8| f32::from(*pixel) / 255.0;
    let (features, hash) = std::thread::scope(|scope| {
        // The same values as the matrix below, converted again a chunk at a time into a buffer
        // that stays in cache, so that hashing never waits for the conversion.
        let hasher = hash.then(|| {
            scope.spawn(|| {
                let mut hasher = ContentHasher::new();
                let mut buffer = Vec::with_capacity(HASH_CHUNK);
                for chunk in pixels.chunks(HASH_CHUNK) {
                    buffer.clear();
                    buffer.extend(chunk.iter().map(to_unit));
                    hasher.f32s(&buffer);
                }
                hasher
            })
        });
        // On transparent huge pages: about a hundred page faults for MNIST's 188 MB instead of
        // 46,000, and the training gather's random rows stay within the TLB's reach.
        let features =
            Matrix::from_iter_huge_pages(count, pixels_per_image, pixels.iter().map(to_unit));
        let hash = hasher.map(|hasher| {
            let mut hasher = hasher
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            hasher.targets(&targets);
            hasher.finish(&feature_names)
        });
        (features, hash)
    });
    drop(pixels);
    Ok((Dataset::new(name, features, feature_names, targets)?, hash))
}

/// Pixels converted and hashed at a time by [`images_and_labels_hashed`]'s second thread.
const HASH_CHUNK: usize = 1 << 14;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0, 0, 8, dims.len() as u8];
        for dim in dims {
            bytes.extend_from_slice(&dim.to_be_bytes());
        }
        bytes.extend_from_slice(data);
        bytes
    }

    fn idx_error(result: Result<IdxArray, DataError>) -> IdxError {
        match result {
            Err(DataError::Idx(error)) => error,
            other => panic!("expected an IDX error, got {other:?}"),
        }
    }

    #[test]
    fn header_is_checked_before_the_data_is_copied() {
        // 60000×28×28 declared, 10 bytes held: the length check in `parse_header` fails before
        // `to_vec` is reached, so nothing of the declared 47 MB is allocated.
        let bytes = idx(&[60000, 28, 28], &[0; 10]);
        assert_eq!(
            parse_header(&bytes, "f"),
            Err(IdxError::Truncated {
                source_name: "f".into(),
                declared: 47_040_000,
                held: 10
            })
        );
    }

    #[test]
    fn owned_parse_reuses_the_buffer() {
        let bytes = idx(&[2, 2], &[1, 2, 3, 4]);
        let array = parse_idx_owned(bytes, "f").unwrap();
        assert_eq!(array.dims, [2, 2]);
        assert_eq!(array.data, [1, 2, 3, 4]);
    }

    #[test]
    fn type_names_are_given_for_every_specified_type() {
        let error = idx_error(parse_idx(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0], "f"));
        assert_eq!(
            error.to_string(),
            "f: IDX value type 0x0d (32-bit float) is not supported; only 0x08 (unsigned byte) is"
        );
        assert_eq!(type_name(0x42), "unknown");
    }

    /// A gzip file large enough to cache reads the same with the cache empty, filled or
    /// damaged, and the cache folder then holds one entry.
    #[test]
    fn a_cached_gzip_file_reads_the_same_as_an_uncached_one() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        // Incompressible pixels, so that the compressed file passes the cache's size floor.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let pixels: Vec<u8> = (0..1200 * 1000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let plain = idx(&[1200, 1000], &pixels);
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&plain).unwrap();
        let compressed = encoder.finish().unwrap();
        assert!(compressed.len() >= idx_cache::MIN_CACHED_BYTES);
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("images.gz");
        std::fs::write(&file, &compressed).unwrap();
        let cache = folder.path().join("cache");
        let uncached = read_idx_file_cached(&file, MAX_DECOMPRESSED_BYTES, None).unwrap();
        assert_eq!(uncached.data, pixels);
        for _ in 0..2 {
            let cached = read_idx_file_cached(&file, MAX_DECOMPRESSED_BYTES, Some(&cache));
            assert_eq!(cached.unwrap(), uncached);
        }
        let entries: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
        assert_eq!(entries.len(), 1, "one entry, no temporary files left");
        let entry = entries[0].as_ref().unwrap().path();
        assert_eq!(entry, idx_cache::entry_path(&cache, &compressed));
        std::fs::write(&entry, b"damaged").unwrap();
        let after_damage = read_idx_file_cached(&file, MAX_DECOMPRESSED_BYTES, Some(&cache));
        assert_eq!(after_damage.unwrap(), uncached);
        // The limit still holds when the bytes come from the cache.
        let limited = read_idx_file_cached(&file, plain.len() - 1, Some(&cache));
        assert!(matches!(idx_error(limited), IdxError::TooLarge { .. }));
    }

    #[test]
    fn gzip_detection_ignores_the_extension() {
        use std::io::Write;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("plain-name");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&idx(&[3], &[1, 2, 3])).unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        assert_eq!(read_idx_file(&path).unwrap().data, [1, 2, 3]);
        // A one-byte and an empty file are too short, not a crash.
        std::fs::write(&path, [0x1f]).unwrap();
        assert!(matches!(
            idx_error(read_idx_file(&path)),
            IdxError::HeaderTooShort { length: 1, .. }
        ));
        std::fs::write(&path, []).unwrap();
        assert!(matches!(
            idx_error(read_idx_file(&path)),
            IdxError::HeaderTooShort { length: 0, .. }
        ));
    }

    #[test]
    fn bytes_in_memory_are_read_plain_or_gzip_within_the_limit() {
        use std::io::Write;
        let plain = idx(&[3], &[1, 2, 3]);
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&plain).unwrap();
        let gzip = encoder.finish().unwrap();
        for bytes in [&plain, &gzip] {
            assert_eq!(
                parse_idx_maybe_gzip(bytes, "f", 64).unwrap().data,
                [1, 2, 3]
            );
            let too_large = parse_idx_maybe_gzip(bytes, "f", plain.len() - 1);
            assert!(
                matches!(idx_error(too_large), IdxError::TooLarge { limit, .. } if limit == plain.len() - 1)
            );
        }
        let mut cut = gzip.clone();
        cut.truncate(gzip.len() - 4);
        assert!(matches!(
            idx_error(parse_idx_maybe_gzip(&cut, "f", 64)),
            IdxError::Gzip { .. }
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_idx(&bytes, "arbitrary");
        }

        #[test]
        fn arbitrary_payloads_behind_a_valid_prefix_never_panic(
            ndims in 0u8..6,
            rest in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = vec![0, 0, 8, ndims];
            bytes.extend_from_slice(&rest);
            if let Ok(array) = parse_idx(&bytes, "arbitrary") {
                prop_assert_eq!(array.data.len(), array.dims.iter().product::<usize>());
            }
        }

        #[test]
        fn any_parsed_pair_converts_or_errors_without_panic(
            images in proptest::collection::vec(any::<u8>(), 0..40),
            labels in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let mut image_bytes = vec![0, 0, 8, 3];
            image_bytes.extend_from_slice(&images);
            let mut label_bytes = vec![0, 0, 8, 1];
            label_bytes.extend_from_slice(&labels);
            if let (Ok(images), Ok(labels)) =
                (parse_idx(&image_bytes, "i"), parse_idx(&label_bytes, "l"))
            {
                if let Ok(data) = images_and_labels(images, labels, "p") {
                    prop_assert!(data.features.as_slice().iter().all(|p| (0.0..=1.0).contains(p)));
                }
            }
        }
    }
}
