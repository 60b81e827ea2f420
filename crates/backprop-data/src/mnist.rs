//! MNIST-style folders (`--data mnist:DIR`): the four standard IDX files, training and test
//! (`t10k`), each plain or gzip-compressed.
//!
//! For each part, the names tried in order are, e.g. for the training images:
//! `train-images-idx3-ubyte`, `train-images-idx3-ubyte.gz`, `train-images.idx3-ubyte`,
//! `train-images.idx3-ubyte.gz` (the dotted form is how the canonical gzip headers name them).
//! Fashion-MNIST uses the same names, so its folder loads the same way.
//!
//! The `t10k` files are the test part. Pixels are scaled to [0, 1] and left there.

use crate::idx::{images_and_labels, images_and_labels_hashed, read_idx_file, IdxError};
use crate::{DataError, Dataset};
use std::path::{Path, PathBuf};

/// The standard stem of each of the four files (without `.gz`), in the order training images,
/// training labels, test images, test labels.
pub const MNIST_FILE_STEMS: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

const PARTS: [&str; 4] = [
    "training images",
    "training labels",
    "test images",
    "test labels",
];

/// The file names tried for a standard stem, in order: plain, `.gz`, and the same with a dot
/// before `idx` (`train-images.idx3-ubyte`).
pub fn candidate_names(stem: &str) -> Vec<String> {
    let dotted = stem.replacen("-idx", ".idx", 1);
    let mut names = vec![stem.to_string(), format!("{stem}.gz")];
    if dotted != stem {
        names.push(dotted.clone());
        names.push(format!("{dotted}.gz"));
    }
    names
}

/// The path of one of the four files in `dir`, or an error listing the names tried.
fn find_file(dir: &Path, stem: &str, part: &'static str) -> Result<PathBuf, IdxError> {
    let names = candidate_names(stem);
    names
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| IdxError::MissingFile {
            folder: dir.display().to_string(),
            part,
            looked_for: names,
        })
}

/// The four files of an MNIST-style folder, in the order of [`MNIST_FILE_STEMS`]; an error
/// names the first that is missing and every name tried for it.
pub fn find_mnist_files(dir: &Path) -> Result<[PathBuf; 4], DataError> {
    if !dir.is_dir() {
        return Err(IdxError::NotAFolder {
            folder: dir.display().to_string(),
        }
        .into());
    }
    let mut paths: [PathBuf; 4] = Default::default();
    for ((path, stem), part) in paths.iter_mut().zip(MNIST_FILE_STEMS).zip(PARTS) {
        *path = find_file(dir, stem, part)?;
    }
    Ok(paths)
}

/// The data set name for a folder: its last component (e.g. `"mnist"`), or `"mnist"` when it
/// has none (such as `.` or `/`).
fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .and_then(|name| name.to_str())
        .filter(|name| !name.is_empty() && *name != "." && *name != "..")
        .map_or_else(|| "mnist".to_string(), str::to_string)
}

/// Loads an MNIST-style folder: the training part and the test part (the `t10k` files), both
/// named after the folder, pixels in [0, 1].
pub fn load_mnist_dir(dir: &Path) -> Result<(Dataset, Dataset), DataError> {
    let (train, test, _) = load(dir, false)?;
    Ok((train, test))
}

/// [`load_mnist_dir`], and the training part's [`Dataset::sha256`], hashed while its pixels
/// are converted ([`images_and_labels_hashed`]).
pub fn load_mnist_dir_hashed(dir: &Path) -> Result<(Dataset, Dataset, String), DataError> {
    let (train, test, hash) = load(dir, true)?;
    Ok((train, test, hash.expect("asked for")))
}

fn load(dir: &Path, hash: bool) -> Result<(Dataset, Dataset, Option<String>), DataError> {
    let [train_images, train_labels, test_images, test_labels] = find_mnist_files(dir)?;
    let name = folder_name(dir);
    let read = |images: &Path, labels: &Path| Ok((read_idx_file(images)?, read_idx_file(labels)?));
    // The test part loads on a second thread while this one loads the (six times larger)
    // training part: inflating and converting are single-threaded and independent.
    let (train, test) = std::thread::scope(|scope| {
        let test = scope.spawn(|| {
            read(&test_images, &test_labels)
                .and_then(|(images, labels)| images_and_labels(images, labels, &name))
        });
        let train = read(&train_images, &train_labels).and_then(|(images, labels)| {
            if hash {
                let (data, hash) = images_and_labels_hashed(images, labels, &name)?;
                Ok((data, Some(hash)))
            } else {
                Ok((images_and_labels(images, labels, &name)?, None))
            }
        });
        (train, test.join())
    });
    let test = test.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let (train, hash) = train?;
    Ok((train, test?, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_cover_plain_gzip_and_dotted_names() {
        assert_eq!(
            candidate_names("t10k-labels-idx1-ubyte"),
            [
                "t10k-labels-idx1-ubyte",
                "t10k-labels-idx1-ubyte.gz",
                "t10k-labels.idx1-ubyte",
                "t10k-labels.idx1-ubyte.gz"
            ]
        );
    }

    #[test]
    fn folder_names() {
        assert_eq!(folder_name(Path::new("/data/fashion")), "fashion");
        assert_eq!(folder_name(Path::new(".")), "mnist");
        assert_eq!(folder_name(Path::new("/")), "mnist");
    }
}
