//! The value of `--data`: a built-in set, an MNIST-style folder or a CSV file.
//!
//! | value | meaning |
//! | --- | --- |
//! | a built-in name (`digits`, `circle`, …) | [`DataSpec::BuiltIn`] (names win over files) |
//! | `mnist:DIR` | [`DataSpec::Mnist`]: the four IDX files in `DIR` |
//! | `FILE.csv`, `FILE.csv.gz` (any case) | [`DataSpec::Csv`], whether or not it exists yet |
//! | any other existing file that is not IDX | [`DataSpec::Csv`] |
//!
//! An IDX file or a folder given without `mnist:` is an error that says to write `mnist:DIR`;
//! anything else is an error listing the built-ins and the file formats.
//!
//! ```
//! use backprop_data::{BuiltIn, DataSpec};
//! use std::path::PathBuf;
//!
//! assert_eq!("spiral".parse(), Ok(DataSpec::BuiltIn(BuiltIn::Spiral)));
//! assert_eq!("mnist:data/mnist".parse(), Ok(DataSpec::Mnist(PathBuf::from("data/mnist"))));
//! assert_eq!("iris.csv.gz".parse(), Ok(DataSpec::Csv(PathBuf::from("iris.csv.gz"))));
//! assert!("no-such-set".parse::<DataSpec>().is_err());
//! ```

use crate::idx::{GZIP_MAGIC, MAX_DIMENSIONS, UNSIGNED_BYTE_TYPE};
use crate::BuiltIn;
use flate2::read::MultiGzDecoder;
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The prefix of an MNIST-style folder in a `--data` value.
pub const MNIST_PREFIX: &str = "mnist:";

/// Where a run's data comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataSpec {
    /// A built-in set.
    BuiltIn(BuiltIn),
    /// A folder holding MNIST's four IDX files (`mnist:DIR`).
    Mnist(PathBuf),
    /// A CSV file, plain or gzip-compressed.
    Csv(PathBuf),
}

/// Why a `--data` value was not understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataSpecError {
    /// Neither a built-in name, nor `mnist:DIR`, nor a CSV path, nor an existing file.
    #[error(
        "unknown data {value:?}: not a built-in set nor an existing file; expected one of: {builtins}, or mnist:DIR (a folder of MNIST IDX files), or FILE.csv / FILE.csv.gz"
    )]
    Unknown {
        /// The value as given.
        value: String,
        /// The built-in names, comma-separated.
        builtins: String,
    },
    /// `mnist:` with nothing after it.
    #[error("mnist: needs a folder, as in mnist:data/mnist")]
    EmptyMnistFolder,
    /// An IDX file given on its own.
    #[error("{path} is an IDX file; pass the folder holding the four MNIST files as mnist:DIR")]
    IdxFile {
        /// The file.
        path: String,
    },
    /// A folder given without `mnist:`.
    #[error("{path} is a folder; for MNIST IDX files write mnist:{path}")]
    Folder {
        /// The folder.
        path: String,
    },
}

impl fmt::Display for DataSpec {
    /// The value that parses back to this spec (paths shown lossily when not UTF-8).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSpec::BuiltIn(builtin) => write!(f, "{builtin}"),
            DataSpec::Mnist(dir) => write!(f, "{MNIST_PREFIX}{}", dir.display()),
            DataSpec::Csv(path) => write!(f, "{}", path.display()),
        }
    }
}

/// True for names ending `.csv` or `.csv.gz`, in any case.
fn has_csv_extension(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.ends_with(".csv") || lower.ends_with(".csv.gz")
}

/// True when the file (decompressed if it starts with the gzip magic) opens with an IDX
/// header of unsigned bytes: `00 00 08 n`, 1 ≤ n ≤ 4. Reads at most a few bytes.
fn looks_like_idx(path: &Path) -> bool {
    fn first_four(reader: impl Read) -> Option<[u8; 4]> {
        let mut head = [0u8; 4];
        reader.take(4).read_exact(&mut head).ok()?;
        Some(head)
    }
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let mut magic = [0u8; 2];
    if file.read_exact(&mut magic).is_err() {
        return false;
    }
    let rest = std::io::Cursor::new(magic).chain(file);
    let head = if magic == GZIP_MAGIC {
        first_four(MultiGzDecoder::new(rest))
    } else {
        first_four(rest)
    };
    matches!(head, Some([0, 0, UNSIGNED_BYTE_TYPE, n]) if (1..=MAX_DIMENSIONS).contains(&usize::from(n)))
}

impl FromStr for DataSpec {
    type Err = DataSpecError;

    fn from_str(value: &str) -> Result<Self, DataSpecError> {
        if let Ok(builtin) = value.parse::<BuiltIn>() {
            return Ok(DataSpec::BuiltIn(builtin));
        }
        if let Some(dir) = value.strip_prefix(MNIST_PREFIX) {
            if dir.is_empty() {
                return Err(DataSpecError::EmptyMnistFolder);
            }
            return Ok(DataSpec::Mnist(PathBuf::from(dir)));
        }
        let path = Path::new(value);
        if has_csv_extension(value) {
            return Ok(DataSpec::Csv(path.to_path_buf()));
        }
        if path.is_dir() {
            return Err(DataSpecError::Folder { path: value.into() });
        }
        if path.is_file() {
            if looks_like_idx(path) {
                return Err(DataSpecError::IdxFile { path: value.into() });
            }
            return Ok(DataSpec::Csv(path.to_path_buf()));
        }
        Err(DataSpecError::Unknown {
            value: value.into(),
            builtins: BuiltIn::ALL.map(|builtin| builtin.name()).join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_mnist_and_csv_names() {
        for builtin in BuiltIn::ALL {
            let spec: DataSpec = builtin.name().parse().unwrap();
            assert_eq!(spec, DataSpec::BuiltIn(builtin));
            assert_eq!(spec.to_string().parse::<DataSpec>(), Ok(spec));
        }
        let spec: DataSpec = "mnist:/tmp/x y".parse().unwrap();
        assert_eq!(spec, DataSpec::Mnist("/tmp/x y".into()));
        assert_eq!(spec.to_string(), "mnist:/tmp/x y");
        assert_eq!(
            "DATA.CSV".parse(),
            Ok(DataSpec::Csv(PathBuf::from("DATA.CSV")))
        );
        assert_eq!(
            "mnist:".parse::<DataSpec>(),
            Err(DataSpecError::EmptyMnistFolder)
        );
    }

    #[test]
    fn unknown_values_list_the_choices() {
        let message = "no/such/file.txt"
            .parse::<DataSpec>()
            .unwrap_err()
            .to_string();
        for expected in [
            "\"no/such/file.txt\"",
            "digits",
            "multi-gaussian",
            "mnist:DIR",
            ".csv.gz",
        ] {
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn existing_files_folders_and_idx_files() {
        use std::io::Write;
        let folder = tempfile::tempdir().unwrap();
        let text = folder.path().join("table.txt");
        std::fs::write(&text, "a,b\n1,2\n").unwrap();
        let text_value = text.to_str().unwrap();
        assert_eq!(text_value.parse(), Ok(DataSpec::Csv(text.clone())));

        let idx = folder.path().join("train-images-idx3-ubyte");
        std::fs::write(&idx, [0, 0, 8, 1, 0, 0, 0, 1, 5]).unwrap();
        let error = idx.to_str().unwrap().parse::<DataSpec>().unwrap_err();
        assert!(matches!(error, DataSpecError::IdxFile { .. }), "{error}");

        let gz = folder.path().join("labels.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&[0, 0, 8, 1, 0, 0, 0, 1, 5]).unwrap();
        std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
        let error = gz.to_str().unwrap().parse::<DataSpec>().unwrap_err();
        assert!(matches!(error, DataSpecError::IdxFile { .. }), "{error}");

        let dir = folder.path().to_str().unwrap();
        let error = dir.parse::<DataSpec>().unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{dir} is a folder; for MNIST IDX files write mnist:{dir}")
        );
    }
}
