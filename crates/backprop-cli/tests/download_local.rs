//! `backprop data download`, against a small HTTP server on 127.0.0.1 (no network needed).
//!
//! The served files are fakes, so their SHA-256 cannot match MNIST's: the binary is tested on
//! the failure path (exit 1, a message naming the file, nothing left under the final name),
//! and a successful verified download through the library's `download_files`, whose file table
//! can be given.

use backprop::model::sha256_hex;
use backprop_data::{download_files, DownloadOptions, RemoteFile};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

/// Serves `body` for every GET on a local port, one request per connection, from a thread
/// that lives as long as the test process. Returns the base URL.
fn serve(body: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            // Read the request line and headers up to the blank line.
            while reader.read_line(&mut line).is_ok_and(|read| read > 0) {
                if line == "\r\n" || line == "\n" {
                    break;
                }
                line.clear();
            }
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    format!("http://{address}/")
}

#[test]
fn a_wrong_hash_exits_1_naming_the_file_and_leaves_nothing() {
    let url = serve(b"not really mnist");
    let folder = tempfile::tempdir().unwrap();
    let to = folder.path().join("mnist");
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args([
            "data",
            "download",
            "mnist",
            "--to",
            to.to_str().unwrap(),
            "--mirror",
            &url,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("train-images-idx3-ubyte.gz") && text.contains("SHA-256"),
        "{text}"
    );
    let left: Vec<_> = std::fs::read_dir(&to)
        .map(|entries| entries.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn unknown_data_sets_are_bad_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(["data", "download", "emnist", "--to", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn verified_files_land_under_their_names_through_the_library() {
    const BODY: &[u8] = b"a small verified file";
    let url = serve(BODY);
    let folder = tempfile::tempdir().unwrap();
    let files = [
        RemoteFile::new("one.gz", sha256_hex(BODY)),
        RemoteFile::new("two.gz", sha256_hex(BODY)),
    ];
    let paths = download_files(&files, &[url], folder.path(), &DownloadOptions::default()).unwrap();
    assert_eq!(paths.len(), 2);
    for path in paths {
        assert_eq!(std::fs::read(path).unwrap(), BODY);
    }
    let mut names: Vec<String> = std::fs::read_dir(folder.path())
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["one.gz", "two.gz"]);
}
