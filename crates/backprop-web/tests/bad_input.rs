//! Bad requests get the right status and a JSON error naming the field, and nothing a client
//! sends (garbage, truncated requests, oversized bodies) stops the server from answering.

mod common;

use backprop_web::Limits;
use common::{create, delete, get, post, raw, request};
use std::io::Write;
use std::net::TcpStream;

/// Each body is refused with 400 and an error that starts with the field's name.
#[test]
fn every_configuration_field_is_checked() {
    let server = common::server(Limits::default());
    let address = server.address;
    let cases = [
        (r#"{"dataset": "moon"}"#, "dataset"),
        (r#"{"dataset": 3}"#, "dataset"),
        (r#"{"dataset": "csv"}"#, "csv"),
        (r#"{"csv": "a,b,c\n"}"#, "csv"),
        (r#"{"samples": 9}"#, "samples"),
        (r#"{"samples": 2001}"#, "samples"),
        (r#"{"samples": 1.5}"#, "samples"),
        (r#"{"noise": -0.1}"#, "noise"),
        (r#"{"noise": 0.51}"#, "noise"),
        (r#"{"noise": "a lot"}"#, "noise"),
        (r#"{"train_share": 0.05}"#, "train_share"),
        (r#"{"train_share": 0.95}"#, "train_share"),
        (r#"{"batch_size": 0}"#, "batch_size"),
        (r#"{"batch_size": 251}"#, "batch_size"),
        (r#"{"features": []}"#, "features"),
        (r#"{"features": ["x3"]}"#, "features[0]"),
        (r#"{"features": ["x1", "x1"]}"#, "features"),
        (r#"{"features": "x1"}"#, "features"),
        (r#"{"hidden": [1, 1, 1, 1, 1, 1, 1, 1, 1]}"#, "hidden"),
        (r#"{"hidden": [4, 17]}"#, "hidden[1]"),
        (r#"{"hidden": [0]}"#, "hidden[0]"),
        (r#"{"hidden": [-1]}"#, "hidden[0]"),
        (r#"{"activation": "swish"}"#, "activation"),
        (r#"{"learning_rate": 0}"#, "learning_rate"),
        (r#"{"learning_rate": 10.5}"#, "learning_rate"),
        (r#"{"optimizer": "lbfgs"}"#, "optimizer"),
        (r#"{"regularization": "l3"}"#, "regularization"),
        (r#"{"regularization_rate": -1}"#, "regularization_rate"),
        (r#"{"regularization_rate": 11}"#, "regularization_rate"),
        (r#"{"seed": -1}"#, "seed"),
        (r#"{"seed": 18446744073709551616}"#, "seed"),
        (r#"{"epochs_per_update": 0}"#, "epochs_per_update"),
        (r#"{"epochs_per_update": 101}"#, "epochs_per_update"),
        (r#"{"colour": "red"}"#, "colour"),
    ];
    for (body, field) in cases {
        let message = post(address, "/api/sessions", body).error(400);
        assert!(
            message.starts_with(&format!("{field}:")) || message.contains(field),
            "{body}: {message}"
        );
    }
    // Every failure above left the server as it was: a good request still works.
    create(address, "{}");
}

#[test]
fn bad_csv_uploads_name_line_and_column() {
    let server = common::server(Limits::default());
    let address = server.address;
    let mut text = String::from("x,y,label\n");
    for i in 0..20 {
        text.push_str(&format!("{i},{},{}\n", i * 2, ["a", "b"][i % 2]));
    }
    let body = |csv: &str| serde_json::json!({"dataset": "csv", "csv": csv, "batch_size": 5});
    let good = post(address, "/api/sessions", &body(&text).to_string());
    assert_eq!(good.status, 201, "{}", good.text());
    let broken = text.replace("7,14,b", "7,fourteen,b");
    let message = post(address, "/api/sessions", &body(&broken).to_string()).error(400);
    assert!(
        message.starts_with("csv:") && message.contains(":9:2") && message.contains("\"y\""),
        "{message}"
    );
    let ragged = text.replace("7,14,b", "7,b");
    let message = post(address, "/api/sessions", &body(&ragged).to_string()).error(400);
    assert!(
        message.starts_with("csv:") && message.contains("ragged"),
        "{message}"
    );
    let message = post(address, "/api/sessions", &body("x,y,label\n").to_string()).error(400);
    assert!(message.starts_with("csv:"), "{message}");
    let three = text.replace(",a\n", ",c\n").replacen(",c\n", ",a\n", 3);
    let message = post(address, "/api/sessions", &body(&three).to_string()).error(400);
    assert!(message.contains("3 classes"), "{message}");
}

#[test]
fn malformed_bodies_content_types_and_sizes() {
    let limits = Limits::default();
    let server = common::server(limits.clone());
    let address = server.address;
    let sessions = "/api/sessions";
    for body in ["{", "[]", "null", "{} {}", "\u{0}", "{\"noise\" 1}"] {
        let message = post(address, sessions, body).error(400);
        assert!(message.contains("JSON body"), "{body:?}: {message}");
    }
    let message = post(address, sessions, "{\"noise\": }").error(400);
    assert!(message.starts_with("noise:"), "{message}");
    let reply = request(address, "POST", sessions, Some("text/plain"), b"{}");
    assert!(reply.error(400).starts_with("content-type:"));
    let reply = request(address, "POST", sessions, None, b"{}");
    assert!(reply.error(400).starts_with("content-type:"));
    let reply = request(
        address,
        "POST",
        sessions,
        Some("application/json; charset=utf-8"),
        b"{}",
    );
    assert_eq!(reply.status, 201);
    // Over the cap: 413, whether the body is JSON or not.
    let big = format!(
        r#"{{"dataset": "csv", "csv": "{}"}}"#,
        "1".repeat(limits.max_upload_bytes)
    );
    post(address, sessions, &big).error(413);
    let huge_declared = format!(
        "POST {sessions} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{{"
    );
    raw(address, huge_declared.as_bytes()).error(413);
    // No declared length: the body is cut off at the cap while it is read.
    let chunk = "1".repeat(64 * 1024);
    let mut chunked = format!(
        "POST {sessions} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    for _ in 0..(limits.max_upload_bytes / chunk.len() + 2) {
        chunked.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    chunked.push_str("0\r\n\r\n");
    raw(address, chunked.as_bytes()).error(413);
    create(address, "{}");
}

#[test]
fn routes_methods_ids_and_session_requests() {
    let server = common::server(Limits::default());
    let address = server.address;
    let limits = get(address, "/api/limits").json();
    assert_eq!(limits["max_sessions"], 64);
    assert_eq!(limits["max_layers"], 8);
    assert_eq!(limits["max_neurons"], 16);
    assert_eq!(limits["max_upload_bytes"], 1 << 20);
    get(address, "/api/nowhere").error(404);
    get(address, "/api/sessions/s-0000000000000000").error(404);
    post(address, "/api/sessions/nope/step", "{}").error(404);
    get(address, "/api/sessions/nope/trace?example=0").error(404);
    get(address, "/api/sessions/nope/events").error(404);
    delete(address, "/api/sessions/nope").error(404);
    assert!(get(address, "/api/sessions/%FF%FE")
        .error(400)
        .starts_with("id:"));
    request(address, "PUT", "/api/sessions", None, b"").error(405);
    request(address, "GET", "/api/sessions", None, b"").error(405);
    request(address, "POST", "/api/limits", None, b"").error(405);

    let (id, _) = create(address, r#"{"batch_size": 25}"#);
    let path = |tail: &str| format!("/api/sessions/{id}{tail}");
    for body in [
        r#"{"batches": 0}"#,
        r#"{"batches": 10001}"#,
        r#"{"epochs": 0}"#,
        r#"{"epochs": 1001}"#,
        r#"{"batches": 1, "epochs": 1}"#,
        r#"{}"#,
        r#"{"batch": 1}"#,
        r#"{"batches": "one"}"#,
        r#"{"batches": -1}"#,
        "[1]",
    ] {
        let message = post(address, &path("/step"), body).error(400);
        assert!(
            message.starts_with("batches:")
                || message.starts_with("epochs:")
                || message.contains("batch")
                || message.contains("JSON body"),
            "{body}: {message}"
        );
    }
    post(address, &path("/reset"), r#"{"seed": "x"}"#).error(400);
    post(address, &path("/reset"), r#"{"seeds": 1}"#).error(400);
    for query in [
        "",
        "?example=250",
        "?example=-1",
        "?example=x",
        "?batch=last",
        "?example=1&batch=next",
        "?row=1",
    ] {
        let message = get(address, &path(&format!("/trace{query}"))).error(400);
        assert!(
            message.starts_with("example:") || message.starts_with("batch:"),
            "{message}"
        );
    }
    // None of that changed the session.
    let state = get(address, &path("")).json();
    assert_eq!(
        (state["epoch"].as_u64(), state["step"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(get(address, &path("/trace?example=249")).status, 200);
    assert_eq!(post(address, &path("/step"), "").json()["step"], 1);
}

#[test]
fn garbage_and_truncated_requests_do_not_stop_the_server() {
    let server = common::server(Limits::default());
    let address = server.address;
    let garbage: [&[u8]; 6] = [
        b"\x00\x01\x02\xff\xfe garbage\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"POST /api/sessions HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"GET /api/limits HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n",
        b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        &[b'A'; 100_000],
    ];
    for bytes in garbage {
        let mut stream = TcpStream::connect(address).unwrap();
        // The server may close the connection before it read everything: that is fine.
        let _ = stream.write_all(bytes);
        drop(stream);
    }
    // Truncated: a body promised but cut off, and a head never finished.
    for bytes in [
        &b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"noise\""[..],
        &b"GET /api/lim"[..],
    ] {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.write_all(bytes).unwrap();
        drop(stream);
    }
    let reply = get(address, "/api/limits");
    assert_eq!(reply.status, 200);
    let (id, _) = create(address, "{}");
    assert_eq!(get(address, &format!("/api/sessions/{id}")).status, 200);
    let page = get(address, "/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.text().contains("<html"));
    assert_eq!(
        get(address, "/app.js").header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        get(address, "/style.css").header("content-type"),
        Some("text/css; charset=utf-8")
    );
}
