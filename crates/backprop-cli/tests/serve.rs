//! `backprop serve`: the real binary on a free port, the page and the API answering, a clean
//! stop on SIGINT (exit 130) and SIGTERM (143), and exit 1 when the port is taken.

mod train_support;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use train_support::http_request as request;

/// Starts `backprop serve` with `arguments`; returns the child and its stderr lines.
fn serve(arguments: &[&str]) -> (Child, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .arg("serve")
        .args(arguments)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the backprop binary runs");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    (child, stderr)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn serves_the_page_and_the_api_then_stops_on_signals() {
    for (name, code) in [("-INT", 130), ("-TERM", 143)] {
        let (mut child, mut stderr) = serve(&["--port", "0"]);
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let port: u16 = line
            .trim()
            .strip_prefix("backprop playground: http://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        let (status, page) = request(port, "GET", "/", "");
        assert_eq!(status, 200);
        assert!(page.contains("<html"));
        let (status, body) = request(port, "POST", "/api/sessions", r#"{"dataset": "moons"}"#);
        assert_eq!(status, 201, "{body}");
        assert!(body.contains(r#""id":"s-"#), "{body}");
        let (status, body) = request(port, "POST", "/api/sessions", r#"{"noise": 9}"#);
        assert_eq!(status, 400, "{body}");
        signal(&child, name);
        let exit = child.wait().unwrap();
        assert_eq!(exit.code(), Some(code));
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        assert!(rest.contains("stopped"), "{rest}");
    }
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (mut child, mut stderr) = serve(&["--port", &port]);
    let exit = child.wait().unwrap();
    let mut text = String::new();
    stderr.read_to_string(&mut text).unwrap();
    assert_eq!(exit.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{text}"
    );
}
