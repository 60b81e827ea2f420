//! Downloads from a minimal HTTP/1.1 server on 127.0.0.1 (no other network): success, wrong
//! hash, partial body, a failing first mirror, and files already present.

use backprop_data::download::{
    download, download_files, file_sha256, DownloadError, DownloadEvent, DownloadOptions,
    RemoteDataset, RemoteFile,
};
use backprop_data::DataError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// What the server answers for a path.
#[derive(Clone)]
enum Reply {
    /// 200 with the full body.
    Full(Vec<u8>),
    /// 200 announcing `length` bytes, then the body (shorter) and a closed connection.
    Partial { body: Vec<u8>, length: usize },
}

struct Server {
    base_url: String,
    hits: Arc<AtomicUsize>,
}

fn serve(routes: HashMap<String, Reply>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let routes = Arc::new(Mutex::new(routes));
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let routes = Arc::clone(&routes);
            thread::spawn(move || answer(stream, &routes));
        }
    });
    Server { base_url, hits }
}

fn answer(mut stream: TcpStream, routes: &Mutex<HashMap<String, Reply>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let reply = routes.lock().unwrap().get(&path).cloned();
    let _ = match reply {
        Some(Reply::Full(body)) => write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .and_then(|()| stream.write_all(&body)),
        Some(Reply::Partial { body, length }) => write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        )
        .and_then(|()| stream.write_all(&body)),
        None => stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        ),
    };
    let _ = stream.flush();
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn fake_files() -> Vec<(String, Vec<u8>)> {
    (0..3)
        .map(|i| {
            let body: Vec<u8> = (0..200_000u32).map(|k| (k * (i + 3) % 251) as u8).collect();
            (format!("file-{i}.gz"), body)
        })
        .collect()
}

fn table(files: &[(String, Vec<u8>)]) -> Vec<RemoteFile> {
    files
        .iter()
        .map(|(name, body)| RemoteFile::new(name.clone(), sha256_hex(body)))
        .collect()
}

fn routes_for(files: &[(String, Vec<u8>)], prefix: &str) -> HashMap<String, Reply> {
    files
        .iter()
        .map(|(name, body)| (format!("/{prefix}{name}"), Reply::Full(body.clone())))
        .collect()
}

/// Every entry of a folder (temporary files included).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn download_error(result: Result<Vec<std::path::PathBuf>, DataError>) -> DownloadError {
    match result {
        Err(DataError::Download(error)) => error,
        other => panic!("expected a download error, got {other:?}"),
    }
}

#[test]
fn downloads_and_verifies_every_file() {
    let files = fake_files();
    let server = serve(routes_for(&files, "data/"));
    let folder = tempfile::tempdir().unwrap();
    let to = folder.path().join("new").join("folder");
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    let options = DownloadOptions {
        base_urls_override: None,
        progress: Some(Box::new(move |event: &DownloadEvent<'_>| {
            if let DownloadEvent::Saved { file, .. } = event {
                log.lock().unwrap().push(file.to_string());
            }
        })),
    };
    let base = vec![format!("{}data", server.base_url)]; // no trailing slash: one is added
    let paths = download_files(&table(&files), &base, &to, &options).unwrap();
    assert_eq!(paths.len(), 3);
    for ((name, body), path) in files.iter().zip(&paths) {
        assert_eq!(path, &to.join(name));
        assert_eq!(&std::fs::read(path).unwrap(), body);
    }
    assert_eq!(entries(&to), ["file-0.gz", "file-1.gz", "file-2.gz"]);
    assert_eq!(
        *events.lock().unwrap(),
        ["file-0.gz", "file-1.gz", "file-2.gz"]
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 3);
}

#[test]
fn a_wrong_hash_leaves_nothing_behind() {
    let files = fake_files();
    let server = serve(routes_for(&files, ""));
    let folder = tempfile::tempdir().unwrap();
    let wrong = "ab".repeat(32);
    let table = [RemoteFile::new("file-0.gz", wrong.clone())];
    let error = download_error(download_files(
        &table,
        std::slice::from_ref(&server.base_url),
        folder.path(),
        &DownloadOptions::default(),
    ));
    let actual = sha256_hex(&files[0].1);
    assert!(
        matches!(&error, DownloadError::ChecksumMismatch { expected, actual: got, .. }
            if *expected == wrong && *got == actual),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("file-0.gz") && message.contains(&wrong) && message.contains(&actual));
    assert!(
        entries(folder.path()).is_empty(),
        "{:?}",
        entries(folder.path())
    );
}

#[test]
fn a_partial_body_leaves_nothing_behind() {
    let files = fake_files();
    let (name, body) = &files[0];
    let mut routes = HashMap::new();
    routes.insert(
        format!("/{name}"),
        Reply::Partial {
            body: body[..1000].to_vec(),
            length: body.len(),
        },
    );
    let server = serve(routes);
    let folder = tempfile::tempdir().unwrap();
    let error = download_error(download_files(
        &table(&files[..1]),
        std::slice::from_ref(&server.base_url),
        folder.path(),
        &DownloadOptions::default(),
    ));
    assert!(
        matches!(
            error,
            DownloadError::Truncated {
                received: 1000,
                expected: 200_000,
                ..
            } | DownloadError::Network { .. }
        ),
        "{error}"
    );
    assert!(
        entries(folder.path()).is_empty(),
        "{:?}",
        entries(folder.path())
    );
}

#[test]
fn a_failing_first_mirror_falls_back_to_the_second() {
    let files = fake_files();
    let empty = serve(HashMap::new());
    let good = serve(routes_for(&files, "mirror/"));
    let folder = tempfile::tempdir().unwrap();
    let failures = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&failures);
    let options = DownloadOptions {
        base_urls_override: None,
        progress: Some(Box::new(move |event: &DownloadEvent<'_>| {
            if let DownloadEvent::MirrorFailed { error, .. } = event {
                assert!(matches!(
                    error,
                    DownloadError::HttpStatus { status: 404, .. }
                ));
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })),
    };
    let mirrors = [empty.base_url.clone(), format!("{}mirror/", good.base_url)];
    let paths = download_files(&table(&files), &mirrors, folder.path(), &options).unwrap();
    assert_eq!(paths.len(), 3);
    assert_eq!(failures.load(Ordering::SeqCst), 3);
    assert_eq!(empty.hits.load(Ordering::SeqCst), 3);
    assert_eq!(
        entries(folder.path()),
        ["file-0.gz", "file-1.gz", "file-2.gz"]
    );
}

#[test]
fn every_mirror_failing_lists_each_failure() {
    let files = fake_files();
    let first = serve(HashMap::new());
    let second = serve(HashMap::new());
    let folder = tempfile::tempdir().unwrap();
    let mirrors = [first.base_url.clone(), second.base_url.clone()];
    let error = download_error(download_files(
        &table(&files[..1]),
        &mirrors,
        folder.path(),
        &DownloadOptions::default(),
    ));
    let DownloadError::MirrorsFailed { file, failures } = &error else {
        panic!("{error}");
    };
    assert_eq!(file, "file-0.gz");
    assert_eq!(failures.len(), 2);
    let message = error.to_string();
    assert!(
        message.contains(&first.base_url) && message.contains(&second.base_url),
        "{message}"
    );
    assert!(entries(folder.path()).is_empty());
}

#[test]
fn files_already_present_are_not_fetched_again() {
    let files = fake_files();
    let server = serve(routes_for(&files, ""));
    let folder = tempfile::tempdir().unwrap();
    for (name, body) in &files {
        std::fs::write(folder.path().join(name), body).unwrap();
    }
    let skipped = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&skipped);
    let options = DownloadOptions {
        base_urls_override: None,
        progress: Some(Box::new(move |event: &DownloadEvent<'_>| {
            if matches!(event, DownloadEvent::Skipped { .. }) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })),
    };
    let paths = download_files(
        &table(&files),
        std::slice::from_ref(&server.base_url),
        folder.path(),
        &options,
    )
    .unwrap();
    assert_eq!(paths.len(), 3);
    assert_eq!(skipped.load(Ordering::SeqCst), 3);
    assert_eq!(server.hits.load(Ordering::SeqCst), 0);

    // A present file with the wrong content is replaced.
    std::fs::write(folder.path().join("file-1.gz"), b"stale").unwrap();
    download_files(
        &table(&files),
        std::slice::from_ref(&server.base_url),
        folder.path(),
        &options,
    )
    .unwrap();
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        file_sha256(folder.path().join("file-1.gz")).unwrap(),
        sha256_hex(&files[1].1)
    );
    assert_eq!(
        entries(folder.path()),
        ["file-0.gz", "file-1.gz", "file-2.gz"]
    );
}

#[test]
fn named_data_sets_use_the_override_mirrors() {
    // The server has none of MNIST's files: every file gives a 404 from 127.0.0.1, and nothing
    // is written. (The real mirrors are never contacted.)
    let server = serve(HashMap::new());
    let folder = tempfile::tempdir().unwrap();
    let options = DownloadOptions {
        base_urls_override: Some(vec![server.base_url.clone()]),
        progress: None,
    };
    let error = download_error(download(RemoteDataset::Mnist, folder.path(), &options));
    assert!(
        matches!(&error, DownloadError::HttpStatus { status: 404, url }
            if url.ends_with("/train-images-idx3-ubyte.gz")),
        "{error}"
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
    assert!(entries(folder.path()).is_empty());
}
