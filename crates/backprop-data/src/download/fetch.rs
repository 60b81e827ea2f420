//! Fetching files over HTTP(S) with `ureq` (the cargo feature `download`): each file from the
//! first mirror that serves it correctly, streamed through the workspace's atomic writer
//! ([`backprop_tensor::atomic_file`]) while it is hashed, and renamed into place only once its
//! SHA-256 matches.

use super::{check_table, file_sha256, file_url, MirrorFailure, RemoteDataset, RemoteFile};
use super::{io_error, DownloadError, CHUNK_BYTES, MAX_DOWNLOAD_BYTES};
use crate::DataError;
use backprop_tensor::atomic_file::AtomicFile;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long to wait for a connection, and then for each read, before trying the next mirror.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(30);

/// What a download is doing, reported to [`DownloadOptions::progress`].
#[derive(Debug)]
pub enum DownloadEvent<'a> {
    /// The file is already present with the right hash; it is not fetched.
    Skipped {
        /// The file name.
        file: &'a str,
        /// Where it is.
        path: &'a Path,
    },
    /// A request is about to be sent.
    Started {
        /// The file name.
        file: &'a str,
        /// The URL.
        url: &'a str,
    },
    /// More bytes arrived (reported once per chunk).
    Progress {
        /// The file name.
        file: &'a str,
        /// Bytes received so far.
        received: u64,
        /// The announced length, when the server gave one.
        total: Option<u64>,
    },
    /// A mirror failed; the next one (if any) is tried.
    MirrorFailed {
        /// The file name.
        file: &'a str,
        /// The URL.
        url: &'a str,
        /// What went wrong.
        error: &'a DownloadError,
    },
    /// The file was verified and saved under its final name.
    Saved {
        /// The file name.
        file: &'a str,
        /// Where it is.
        path: &'a Path,
    },
}

/// A function told of each [`DownloadEvent`].
pub type ProgressCallback = Box<dyn Fn(&DownloadEvent<'_>) + Send + Sync>;

/// Settings of [`download`] and [`download_files`].
#[derive(Default)]
pub struct DownloadOptions {
    /// Mirrors to use instead of the data set's own, in order.
    pub base_urls_override: Option<Vec<String>>,
    /// Called for each [`DownloadEvent`].
    pub progress: Option<ProgressCallback>,
}

impl fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("base_urls_override", &self.base_urls_override)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}

impl DownloadOptions {
    fn report(&self, event: DownloadEvent<'_>) {
        if let Some(progress) = &self.progress {
            progress(&event);
        }
    }
}

/// True for `http://` URLs on the loopback interface, which never go through a proxy.
fn is_loopback(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    ["127.0.0.1", "localhost", "[::1]"].iter().any(|host| {
        rest.strip_prefix(host)
            .is_some_and(|after| after.is_empty() || after.starts_with([':', '/']))
    })
}

fn agent_for(url: &str) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .timeout_connect(Some(NETWORK_TIMEOUT))
        .timeout_recv_response(Some(NETWORK_TIMEOUT))
        .timeout_per_read(Some(NETWORK_TIMEOUT));
    if is_loopback(url) {
        config = config.proxy(None);
    }
    config.build().into()
}

fn network_error(url: &str, error: ureq::Error) -> DownloadError {
    match error {
        ureq::Error::StatusCode(status) => DownloadError::HttpStatus {
            url: url.into(),
            status,
        },
        other => DownloadError::Network {
            url: url.into(),
            message: other.to_string(),
        },
    }
}

/// Why one mirror failed: `Remote` errors move on to the next mirror, `Local` ones (the
/// destination folder cannot be written) stop the download.
enum Attempt {
    Remote(DownloadError),
    Local(DownloadError),
}

/// Fetches one file from one URL into a temporary file in `to`, verifies it and renames it;
/// when verification fails, dropping the uncommitted file removes it.
fn fetch(
    url: &str,
    file: &RemoteFile,
    to: &Path,
    options: &DownloadOptions,
) -> Result<PathBuf, Attempt> {
    let remote = |error| Attempt::Remote(error);
    let local = |error| Attempt::Local(error);
    options.report(DownloadEvent::Started {
        file: &file.name,
        url,
    });
    let response = agent_for(url)
        .get(url)
        .header("Accept-Encoding", "identity")
        .call()
        .map_err(|error| remote(network_error(url, error)))?;
    let total = response.body().content_length();
    if total.is_some_and(|total| total > MAX_DOWNLOAD_BYTES) {
        return Err(remote(DownloadError::TooLarge {
            url: url.into(),
            limit: MAX_DOWNLOAD_BYTES,
        }));
    }
    let destination = to.join(&file.name);
    let mut temporary = AtomicFile::create(&destination)
        .map_err(|error| local(io_error(&error.path, &error.source)))?;
    let mut reader = response.into_body().into_reader();
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut received: u64 = 0;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(remote(match total {
                    Some(expected) if received < expected => DownloadError::Truncated {
                        url: url.into(),
                        received,
                        expected,
                    },
                    _ => DownloadError::Network {
                        url: url.into(),
                        message: error.to_string(),
                    },
                }))
            }
        };
        received += read as u64;
        if received > MAX_DOWNLOAD_BYTES {
            return Err(remote(DownloadError::TooLarge {
                url: url.into(),
                limit: MAX_DOWNLOAD_BYTES,
            }));
        }
        temporary
            .write_all(&buffer[..read])
            .map_err(|error| local(io_error(temporary.temporary_path(), &error)))?;
        hasher.update(&buffer[..read]);
        options.report(DownloadEvent::Progress {
            file: &file.name,
            received,
            total,
        });
    }
    if let Some(expected) = total.filter(|&expected| expected != received) {
        return Err(remote(DownloadError::Truncated {
            url: url.into(),
            received,
            expected,
        }));
    }
    let actual = hex::encode(hasher.finalize());
    if !actual.eq_ignore_ascii_case(&file.sha256) {
        return Err(remote(DownloadError::ChecksumMismatch {
            file: format!("{} (from {url})", file.name),
            expected: file.sha256.to_ascii_lowercase(),
            actual,
        }));
    }
    // The writer names the temporary file when syncing fails, the final name when renaming.
    temporary
        .commit()
        .map_err(|error| local(io_error(&error.path, &error.source)))?;
    Ok(destination)
}

/// True when `path` exists and already has the expected hash.
fn already_present(path: &Path, sha256: &str) -> Result<bool, DownloadError> {
    if !path.is_file() {
        return Ok(false);
    }
    match file_sha256(path) {
        Ok(actual) => Ok(actual.eq_ignore_ascii_case(sha256)),
        Err(DataError::Download(error)) => Err(error),
        Err(other) => Err(DownloadError::Io {
            path: path.display().to_string(),
            message: other.to_string(),
        }),
    }
}

fn download_one(
    file: &RemoteFile,
    base_urls: &[String],
    to: &Path,
    options: &DownloadOptions,
) -> Result<PathBuf, DownloadError> {
    let destination = to.join(&file.name);
    if already_present(&destination, &file.sha256)? {
        options.report(DownloadEvent::Skipped {
            file: &file.name,
            path: &destination,
        });
        return Ok(destination);
    }
    let mut failures = Vec::new();
    for base_url in base_urls {
        let url = file_url(base_url, &file.name);
        match fetch(&url, file, to, options) {
            Ok(path) => {
                options.report(DownloadEvent::Saved {
                    file: &file.name,
                    path: &path,
                });
                return Ok(path);
            }
            Err(Attempt::Local(error)) => return Err(error),
            Err(Attempt::Remote(error)) => {
                options.report(DownloadEvent::MirrorFailed {
                    file: &file.name,
                    url: &url,
                    error: &error,
                });
                failures.push(MirrorFailure { url, error });
            }
        }
    }
    match failures.len() {
        0 => Err(DownloadError::NoMirrors),
        1 => Err(failures.remove(0).error),
        _ => Err(DownloadError::MirrorsFailed {
            file: file.name.clone(),
            failures,
        }),
    }
}

/// Downloads each file of `files` into the folder `to` (created if missing), trying the
/// mirrors `base_urls` in order, and returns the files' paths in the order of `files`.
///
/// A file already present with the right SHA-256 is kept as it is. The table is checked
/// before anything is fetched. The first file that no mirror serves correctly ends the
/// download with an error; the files saved before it stay.
pub fn download_files(
    files: &[RemoteFile],
    base_urls: &[String],
    to: &Path,
    options: &DownloadOptions,
) -> Result<Vec<PathBuf>, DataError> {
    check_table(files)?;
    if base_urls.is_empty() {
        return Err(DownloadError::NoMirrors.into());
    }
    std::fs::create_dir_all(to).map_err(|error| io_error(to, &error))?;
    let mut paths = Vec::with_capacity(files.len());
    for file in files {
        paths.push(download_one(file, base_urls, to, options)?);
    }
    Ok(paths)
}

/// Downloads a data set's four `.gz` files into `to` from its mirrors (or
/// `options.base_urls_override`), verified by SHA-256; see [`download_files`].
pub fn download(
    dataset: RemoteDataset,
    to: &Path,
    options: &DownloadOptions,
) -> Result<Vec<PathBuf>, DataError> {
    let base_urls = options
        .base_urls_override
        .clone()
        .unwrap_or_else(|| dataset.base_urls());
    download_files(&dataset.files(), &base_urls, to, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_mirrors_is_refused_before_any_request() {
        let good = "0".repeat(64);
        let folder = tempfile::tempdir().unwrap();
        let error = download_files(
            &[RemoteFile::new("f", good)],
            &[],
            folder.path(),
            &DownloadOptions::default(),
        );
        assert_eq!(error, Err(DownloadError::NoMirrors.into()));
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:8080/x"));
        assert!(is_loopback("http://localhost/x"));
        assert!(is_loopback("http://[::1]:1/"));
        assert!(!is_loopback("http://127.0.0.1.example.com/"));
        assert!(!is_loopback("https://example.com/"));
    }
}
