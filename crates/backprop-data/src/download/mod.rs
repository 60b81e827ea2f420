//! Downloading the public MNIST and Fashion-MNIST files (`backprop data download`), verified by
//! SHA-256.
//!
//! Each file is fetched from the first mirror that serves it correctly: the body is streamed
//! into a temporary file in the destination folder while it is hashed, the temporary file is
//! fsynced, its SHA-256 is compared with the expected one, and only then is it renamed to its
//! final name. A failed, partial or corrupt download therefore leaves nothing under the final
//! name (and no temporary file). A file that is already present with the right hash is not
//! fetched again.
//!
//! `download` uses the built-in tables of [`RemoteDataset`]; `download_files` takes any table
//! of [`RemoteFile`]s and mirrors (the tests serve small files from 127.0.0.1).
//!
//! The `.gz` files are stored as served: each request says `Accept-Encoding: identity`, so no
//! server applies (and the client strips) a content encoding, and the hash checked is that of
//! the file itself.
//!
//! The catalogue ([`RemoteDataset`], [`RemoteFile`]), the errors and the check of a file on
//! disk ([`verify_file`]) are always built, so [`crate::DataError`] is the same with or without
//! downloads; fetching from the network (`download`, `download_files`) needs the cargo feature
//! `download`, which brings in the HTTP client `ureq` and which the command line turns on for
//! `backprop data download`.

use crate::DataError;
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

#[cfg(feature = "download")]
mod fetch;

#[cfg(feature = "download")]
pub use fetch::{
    download, download_files, DownloadEvent, DownloadOptions, ProgressCallback, NETWORK_TIMEOUT,
};

/// The largest file accepted from a server: 1 GiB (the largest MNIST file is under 30 MB).
pub const MAX_DOWNLOAD_BYTES: u64 = 1 << 30;

/// The size of the chunks read from the network and hashed.
const CHUNK_BYTES: usize = 64 * 1024;

/// A data set that can be downloaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RemoteDataset {
    /// MNIST handwritten digits (LeCun, Cortes, Burges).
    Mnist,
    /// Fashion-MNIST (Zalando Research), MNIST's format and file names.
    FashionMnist,
}

/// One file to download: its name (both in the mirror and on disk) and its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    /// The file name, e.g. `train-images-idx3-ubyte.gz` (no folder part).
    pub name: String,
    /// The expected SHA-256, 64 hexadecimal digits.
    pub sha256: String,
}

impl RemoteFile {
    /// A file entry from its name and SHA-256.
    pub fn new(name: impl Into<String>, sha256: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            sha256: sha256.into(),
        }
    }
}

const MNIST_FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
];

const FASHION_MNIST_FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte.gz",
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
];

const MNIST_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

const FASHION_MNIST_MIRRORS: [&str; 1] =
    ["https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"];

impl RemoteDataset {
    /// Every downloadable set.
    pub const ALL: [RemoteDataset; 2] = [RemoteDataset::Mnist, RemoteDataset::FashionMnist];

    /// The name used on the command line: `mnist` or `fashion-mnist`.
    pub fn name(&self) -> &'static str {
        match self {
            RemoteDataset::Mnist => "mnist",
            RemoteDataset::FashionMnist => "fashion-mnist",
        }
    }

    /// The four `.gz` files (training images, training labels, test images, test labels) and
    /// their SHA-256.
    pub fn files(&self) -> Vec<RemoteFile> {
        let table = match self {
            RemoteDataset::Mnist => MNIST_FILES,
            RemoteDataset::FashionMnist => FASHION_MNIST_FILES,
        };
        table
            .iter()
            .map(|(name, sha256)| RemoteFile::new(*name, *sha256))
            .collect()
    }

    /// The mirrors, tried in order; a file's URL is the mirror followed by its name.
    pub fn base_urls(&self) -> Vec<String> {
        let mirrors: &[&str] = match self {
            RemoteDataset::Mnist => &MNIST_MIRRORS,
            RemoteDataset::FashionMnist => &FASHION_MNIST_MIRRORS,
        };
        mirrors.iter().map(|url| url.to_string()).collect()
    }
}

impl fmt::Display for RemoteDataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RemoteDataset {
    type Err = DataError;

    fn from_str(name: &str) -> Result<Self, DataError> {
        RemoteDataset::ALL
            .into_iter()
            .find(|dataset| dataset.name() == name)
            .ok_or_else(|| {
                DownloadError::UnknownDataset {
                    name: name.into(),
                    expected: RemoteDataset::ALL.map(|dataset| dataset.name()).join(", "),
                }
                .into()
            })
    }
}

/// One failed attempt at one mirror.
#[derive(Debug, Clone, PartialEq)]
pub struct MirrorFailure {
    /// The URL tried.
    pub url: String,
    /// What went wrong.
    pub error: DownloadError,
}

fn join_failures(failures: &[MirrorFailure]) -> String {
    failures
        .iter()
        .map(|failure| failure.error.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a download failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DownloadError {
    /// A data set name that cannot be downloaded.
    #[error("unknown downloadable data set {name:?}; expected one of: {expected}")]
    UnknownDataset {
        /// The name as given.
        name: String,
        /// The accepted names, comma-separated.
        expected: String,
    },
    /// A file name that is empty or has a folder part.
    #[error("invalid file name {name:?} in the download table: it must be a plain name")]
    InvalidFileName {
        /// The name.
        name: String,
    },
    /// An expected hash that is not 64 hexadecimal digits.
    #[error("invalid SHA-256 {sha256:?} for {name}: expected 64 hexadecimal digits")]
    InvalidSha256 {
        /// The file.
        name: String,
        /// The hash as given.
        sha256: String,
    },
    /// No mirror to try.
    #[error("no download mirror given")]
    NoMirrors,
    /// A local file or folder could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file or folder.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP status {status}")]
    HttpStatus {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The request or the transfer failed.
    #[error("{url}: {message}")]
    Network {
        /// The URL.
        url: String,
        /// The client's message.
        message: String,
    },
    /// The connection closed before the announced length arrived.
    #[error("{url}: incomplete download: received {received} of {expected} bytes")]
    Truncated {
        /// The URL.
        url: String,
        /// Bytes received.
        received: u64,
        /// Bytes announced by Content-Length.
        expected: u64,
    },
    /// The server sends more than [`MAX_DOWNLOAD_BYTES`].
    #[error("{url}: larger than {limit} bytes; refused")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// The content's SHA-256 is not the expected one.
    #[error("{file}: SHA-256 mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// The file (a name, URL or path).
        file: String,
        /// The expected hash.
        expected: String,
        /// The hash of what was received or found.
        actual: String,
    },
    /// Every mirror failed for one file (with two or more mirrors; with one, its own error is
    /// returned).
    #[error("could not download {file} from any of {} mirrors: {}", failures.len(), join_failures(failures))]
    MirrorsFailed {
        /// The file.
        file: String,
        /// Each mirror's failure, in the order tried.
        failures: Vec<MirrorFailure>,
    },
}

fn io_error(path: &Path, error: &io::Error) -> DownloadError {
    DownloadError::Io {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

/// The SHA-256 of a file's content, as 64 lowercase hexadecimal digits.
pub fn file_sha256(path: impl AsRef<Path>) -> Result<String, DataError> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(|error| io_error(path, &error))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK_BYTES];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => hasher.update(&buffer[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(io_error(path, &error).into()),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Checks that a file's SHA-256 is `sha256` (hexadecimal, either case); a mismatch is a
/// [`DownloadError::ChecksumMismatch`] naming the file and both hashes.
pub fn verify_file(path: impl AsRef<Path>, sha256: &str) -> Result<(), DataError> {
    let path = path.as_ref();
    let actual = file_sha256(path)?;
    if actual.eq_ignore_ascii_case(sha256) {
        Ok(())
    } else {
        Err(DownloadError::ChecksumMismatch {
            file: path.display().to_string(),
            expected: sha256.to_ascii_lowercase(),
            actual,
        }
        .into())
    }
}

/// Checks a download table before anything is fetched: plain file names, 64-digit hashes.
#[cfg_attr(not(feature = "download"), allow(dead_code))]
fn check_table(files: &[RemoteFile]) -> Result<(), DownloadError> {
    for file in files {
        let name = &file.name;
        if name.is_empty()
            || name == "."
            || name == ".."
            || name.contains(['/', '\\'])
            || Path::new(name).file_name() != Some(name.as_ref())
        {
            return Err(DownloadError::InvalidFileName { name: name.clone() });
        }
        if file.sha256.len() != 64 || !file.sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(DownloadError::InvalidSha256 {
                name: name.clone(),
                sha256: file.sha256.clone(),
            });
        }
    }
    Ok(())
}

/// The URL of `name` under a mirror, with exactly one `/` between them.
pub fn file_url(base_url: &str, name: &str) -> String {
    format!("{}/{name}", base_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unknown_names_list_the_choices() {
        for dataset in RemoteDataset::ALL {
            assert_eq!(dataset.name().parse::<RemoteDataset>(), Ok(dataset));
            assert_eq!(dataset.to_string(), dataset.name());
            assert_eq!(dataset.files().len(), 4);
            assert!(check_table(&dataset.files()).is_ok());
            assert!(dataset
                .base_urls()
                .iter()
                .all(|url| url.starts_with("https://")));
        }
        let message = "emnist".parse::<RemoteDataset>().unwrap_err().to_string();
        assert_eq!(
            message,
            "unknown downloadable data set \"emnist\"; expected one of: mnist, fashion-mnist"
        );
    }

    #[test]
    fn bad_tables_are_refused() {
        let good = "0".repeat(64);
        for name in ["", ".", "..", "a/b", "a\\b", "/etc/passwd"] {
            assert_eq!(
                check_table(&[RemoteFile::new(name, good.clone())]),
                Err(DownloadError::InvalidFileName { name: name.into() })
            );
        }
        for sha256 in ["", "abc", &"g".repeat(64)] {
            assert!(matches!(
                check_table(&[RemoteFile::new("f", sha256)]),
                Err(DownloadError::InvalidSha256 { .. })
            ));
        }
    }

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(file_url("https://a/b/", "f.gz"), "https://a/b/f.gz");
        assert_eq!(file_url("https://a/b", "f.gz"), "https://a/b/f.gz");
    }

    #[test]
    fn verify_file_names_both_hashes() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(file_sha256(&path), Ok(abc.to_string()));
        assert_eq!(verify_file(&path, &abc.to_ascii_uppercase()), Ok(()));
        let wrong = "0".repeat(64);
        let message = verify_file(&path, &wrong).unwrap_err().to_string();
        assert!(
            message.contains(&wrong) && message.contains(abc),
            "{message}"
        );
    }
}
