//! The prediction server behind `backprop serve --model MODEL`: a trained model answering over
//! HTTP.
//!
//! - `POST /v1/predict` with `{"rows": [[…], …]}` (the model's raw input columns in order) or
//!   `{"records": [{"column": value, …}, …]}` → `{"predictions": […]}`: class names for a
//!   classifier, with `"probabilities": [[…]]` in class order; numbers for a regressor (arrays
//!   of numbers with several targets). `"warnings"` counts unseen categories and filled cells.
//! - `GET /v1/model`: architecture, input columns, classes, provenance.
//! - `GET /healthz`: `ok`.
//!
//! Bad requests get a 400 naming the row and column; a body over the byte limit gets 413, more
//! rows than the row limit 400. Each request runs its own forward pass: a small one (up to
//! [`INLINE_MULTIPLY_ADDS`]) right on the async worker, since handing it to another thread costs
//! more than it does; a larger one on the blocking pool, so that it never stalls the others.
//! The common body, numbers only in `rows`, is read straight into the input matrix; any other
//! body goes through a JSON tree, which words the errors.

mod model;

pub use model::{EncodedRows, ServedModel};

use crate::server::{runtime, signal_stop, RunningServer, Stopped};
use crate::{ApiError, WebError};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long a stopping server waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The largest forward pass (multiply-adds, all rows) run on the async worker itself: about
/// 50 µs of work, a few MNIST rows through a 784-256-128-10 network.
pub const INLINE_MULTIPLY_ADDS: usize = 1 << 20;

/// The prediction server's caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PredictionLimits {
    /// The largest request body, in bytes (413 past it).
    pub max_body_bytes: usize,
    /// The most rows in one request (400 past it).
    pub max_rows: usize,
}

impl Default for PredictionLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 << 20,
            max_rows: 10_000,
        }
    }
}

struct Service {
    model: ServedModel,
    limits: PredictionLimits,
}

/// The routes, over `model`.
pub fn router(model: ServedModel, limits: PredictionLimits) -> Router {
    let body_limit = limits.max_body_bytes;
    let service = Arc::new(Service { model, limits });
    Router::new()
        .route("/v1/predict", post(predict))
        .route("/v1/model", get(describe))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(service)
}

async fn predict(
    State(service): State<Arc<Service>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let max_rows = service.limits.max_rows;
    if let Some(features) = service.model.encode_numeric_body(&body, max_rows) {
        let encoded = EncodedRows {
            features,
            warnings: Vec::new(),
        };
        return run(service, encoded.features.rows(), move |model| {
            respond(model, &encoded)
        })
        .await;
    }
    let request: Value = serde_json::from_slice(&body)
        .map_err(|error| ApiError::bad_request(format!("the body is not JSON: {error}")))?;
    let Value::Object(mut fields) = request else {
        return Err(ApiError::bad_request(
            "expected an object with \"rows\" or \"records\"",
        ));
    };
    let (rows, records) = match (fields.remove("rows"), fields.remove("records")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give \"rows\" or \"records\", not both",
            ))
        }
        (Some(rows), None) => (rows, false),
        (None, Some(records)) => (records, true),
        (None, None) => {
            return Err(ApiError::bad_request(
                "expected \"rows\": [[…], …] or \"records\": [{…}, …]",
            ))
        }
    };
    if let Some(unknown) = fields.keys().next() {
        return Err(ApiError::bad_request(format!(
            "unknown field {unknown:?}; a request has \"rows\" or \"records\""
        )));
    }
    let Value::Array(rows) = rows else {
        return Err(ApiError::bad_request(
            "\"rows\" and \"records\" are arrays, one entry per row",
        ));
    };
    if rows.len() > max_rows {
        return Err(ApiError::bad_request(format!(
            "{} rows in one request; at most {max_rows} (--max-rows)",
            rows.len()
        )));
    }
    run(service, rows.len(), move |model| {
        respond(model, &model.encode(&rows, records)?)
    })
    .await
}

/// Runs `work` (a request's forward pass over `rows` rows) where it costs least: inline when
/// small, on the blocking pool otherwise.
async fn run(
    service: Arc<Service>,
    rows: usize,
    work: impl FnOnce(&ServedModel) -> Result<Json<Value>, ApiError> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let multiply_adds = rows.saturating_mul(service.model.multiply_adds_per_row());
    if multiply_adds <= INLINE_MULTIPLY_ADDS {
        return work(&service.model);
    }
    tokio::task::spawn_blocking(move || work(&service.model))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the prediction failed"))?
}

/// The response to one request's encoded rows.
fn respond(model: &ServedModel, encoded: &EncodedRows) -> Result<Json<Value>, ApiError> {
    let outputs = model.predict(&encoded.features)?;
    let mut response = serde_json::Map::new();
    if model.is_classifier() {
        let labels: Vec<&str> = outputs
            .argmax_rows()
            .into_iter()
            .map(|class| model.classes.get(class).map_or("", String::as_str))
            .collect();
        let probabilities: Vec<&[f32]> = (0..outputs.rows()).map(|row| outputs.row(row)).collect();
        response.insert("predictions".into(), json!(labels));
        response.insert("probabilities".into(), json!(probabilities));
    } else if outputs.cols() == 1 {
        response.insert("predictions".into(), json!(outputs.as_slice()));
    } else {
        let values: Vec<&[f32]> = (0..outputs.rows()).map(|row| outputs.row(row)).collect();
        response.insert("predictions".into(), json!(values));
    }
    if !encoded.warnings.is_empty() {
        response.insert("warnings".into(), json!(encoded.warnings));
    }
    Ok(Json(Value::Object(response)))
}

async fn describe(State(service): State<Arc<Service>>) -> Json<Value> {
    let model = &service.model;
    let metadata = &model.model.metadata;
    Json(json!({
        "model": model.name,
        "task": metadata.task,
        "architecture": {
            "sizes": metadata.architecture.sizes,
            "activations": metadata.architecture.activations,
            "cost": metadata.cost,
        },
        "columns": model.columns_json(),
        "classes": if model.is_classifier() { json!(model.classes) } else { Value::Null },
        "provenance": {
            "data": metadata.data.source,
            "sha256": metadata.data.sha256,
            "rows": metadata.data.rows,
            "seed": metadata.seed,
            "created_by": metadata.created_by,
            "format_version": metadata.format_version,
        },
        "limits": {
            "max_body_bytes": service.limits.max_body_bytes,
            "max_rows": service.limits.max_rows,
        },
    }))
}

/// Binds `host:port`, calls `on_listening`, and serves `model` until SIGINT or SIGTERM; requests
/// in flight then get up to 5 s to finish. Returns which signal stopped it.
pub fn serve(
    host: &str,
    port: u16,
    model: ServedModel,
    limits: PredictionLimits,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<Stopped, WebError> {
    let runtime = runtime()?;
    let stopped = runtime.block_on(async {
        let (listener, bound) = crate::server::bind(host, port).await?;
        let signals = signal_stop()?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let app = router(model, limits);
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let stopped = signals.await;
                    let _ = sender.send(stopped);
                })
                .await
        });
        on_listening(bound);
        let stopped = receiver.await.unwrap_or(Stopped::Interrupt);
        // The listener is closed; requests in flight are drained, for a while.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
        Ok(stopped)
    });
    runtime.shutdown_timeout(Duration::from_millis(100));
    stopped
}

/// Serves `model` on `listener` (already bound) from a new thread, for tests and tools.
pub fn spawn(
    listener: std::net::TcpListener,
    model: ServedModel,
    limits: PredictionLimits,
) -> Result<RunningServer, WebError> {
    let app = router(model, limits);
    crate::server::spawn_router(listener, app)
}
