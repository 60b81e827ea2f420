//! The two error types: [`ApiError`], a refused request (status and a message naming the field,
//! sent as `{"error": "…"}`), and [`WebError`], why the server itself could not run.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// A request refused: the status and a message naming what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status (4xx, or 503 at the session cap).
    pub status: StatusCode,
    /// What was wrong, naming the field.
    pub message: String,
}

impl ApiError {
    /// A 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message });
        (self.status, Json(body)).into_response()
    }
}

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The address could not be bound (in use, not allowed, not an address of this machine).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The `host:port` asked for.
        address: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Any other I/O failure: the runtime, the listener, the signal handlers.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
}
