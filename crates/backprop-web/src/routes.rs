//! The HTTP routes: the page and its assets, and the JSON API under `/api` (see the crate's
//! README and `API.md`).
//!
//! Every refusal is `{"error": "…"}` with its status: axum's own rejections (a body over the
//! cap, a missing content type, an unknown route or method) are replaced by such replies, so a
//! client always gets JSON it can show. Session work (building data, training steps, traces,
//! states) runs on tokio's blocking pool, never on the threads that serve requests.

use crate::config::{parse_json, ConfigPatch, SessionConfig};
use crate::registry::{lock, Handle, Registry};
use crate::trace::{lens, LensRows};
use crate::{assets, stream, ApiError};
use axum::body::Bytes;
use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, Path, RawQuery, Request, State,
};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;

type Shared = State<Arc<Registry>>;

/// The whole application: page, assets and API, sharing `registry`.
pub fn router(registry: Arc<Registry>) -> Router {
    let body_limit = registry.limits.max_upload_bytes;
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/style.css", get(assets::style))
        .route("/api/limits", get(limits))
        .route("/api/sessions", post(create))
        .route(
            "/api/sessions/{id}",
            get(state).delete(remove).patch(patch_session),
        )
        .route("/api/sessions/{id}/data", get(data))
        .route("/api/sessions/{id}/play", post(play))
        .route("/api/sessions/{id}/pause", post(pause))
        .route("/api/sessions/{id}/step", post(step))
        .route("/api/sessions/{id}/reset", post(reset))
        .route("/api/sessions/{id}/trace", get(trace))
        .route("/api/sessions/{id}/parameter", post(parameter))
        .route("/api/sessions/{id}/gradcheck", get(gradcheck))
        .route("/api/sessions/{id}/landscape", get(landscape))
        .route("/api/sessions/{id}/events", get(events))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(registry)
}

/// The `{id}` of a session route; a path that cannot be decoded is a JSON 400 like the rest.
pub struct SessionId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SessionId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Self(id))
            .map_err(|rejection| ApiError::bad_request(format!("id: {}", rejection.body_text())))
    }
}

/// A request body: JSON (or empty), within the size cap.
pub struct JsonBody(pub Bytes);

impl FromRequest<Arc<Registry>> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Arc<Registry>) -> Result<Self, ApiError> {
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is over the upload cap (see GET /api/limits: max_upload_bytes)",
            )
        };
        // A declared length over the cap is refused before any of the body is read.
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > state.limits.max_upload_bytes as u64) {
            return Err(too_large());
        }
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap_or("?").to_owned());
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    ApiError::bad_request(format!("the request body: {}", rejection.body_text()))
                }
            })?;
        let is_json = content_type.as_deref().is_some_and(|value| {
            let essence = value.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json")
        });
        if !bytes.is_empty() && !is_json {
            return Err(ApiError::bad_request(format!(
                "content-type: the body must be sent as application/json, got {}",
                content_type.as_deref().unwrap_or("none")
            )));
        }
        Ok(Self(bytes))
    }
}

/// A reply that is already JSON text.
fn json_text(status: StatusCode, json: Arc<str>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json.to_string(),
    )
        .into_response()
}

/// Runs session work on the blocking pool; a panic there is a 500, not a dead server.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server failed on this request (a bug); the session may be unusable",
        ))
    })
}

async fn limits(State(registry): Shared) -> Response {
    let mut reply = serde_json::to_value(&registry.limits).expect("limits are plain data");
    reply["sessions_live"] = registry.len().into();
    Json(reply).into_response()
}

async fn create(State(registry): Shared, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let config = SessionConfig::from_json(&body, &registry.limits)?;
    let handle = blocking(move || registry.create(config)).await?;
    let json = format!(r#"{{"id":{:?},"state":{}}}"#, handle.id, handle.latest());
    Ok(json_text(StatusCode::CREATED, json.into()))
}

async fn state(State(registry): Shared, SessionId(id): SessionId) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    Ok(json_text(StatusCode::OK, handle.latest()))
}

/// `PATCH /api/sessions/{id}`: settings changed without a new network (see [`ConfigPatch`]).
async fn patch_session(
    State(registry): Shared,
    SessionId(id): SessionId,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    let patch: ConfigPatch = parse_json(&body)?;
    change_and_publish(handle, move |handle| {
        let mut session = lock(&handle.session);
        let next = patch.applied_to(&session.config, &registry.limits)?;
        session.patch(next, &registry.limits)
    })
    .await
}

async fn data(State(registry): Shared, SessionId(id): SessionId) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    let json = blocking(move || {
        let session = lock(&handle.session);
        let data = &session.data;
        // Serialised from the f32 rows themselves, so the numbers are as short as they can be.
        #[derive(serde::Serialize)]
        struct Reply {
            task: crate::data::Task,
            train: Vec<[f32; 3]>,
            test: Vec<[f32; 3]>,
        }
        let reply = Reply {
            task: data.task,
            train: data.train.rows(),
            test: data.test.rows(),
        };
        Ok(serde_json::to_string(&reply).expect("rows are plain data"))
    })
    .await?;
    Ok(json_text(StatusCode::OK, json.into()))
}

/// Publishes the state after `change` and replies with it.
async fn change_and_publish(
    handle: Arc<Handle>,
    change: impl FnOnce(&Handle) -> Result<(), ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let json = blocking(move || {
        change(&handle)?;
        Ok(handle.publish())
    })
    .await?;
    Ok(json_text(StatusCode::OK, json))
}

async fn play(State(registry): Shared, SessionId(id): SessionId) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    stream::play(&handle);
    change_and_publish(handle, |_| Ok(())).await
}

async fn pause(State(registry): Shared, SessionId(id): SessionId) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    stream::pause(&handle);
    change_and_publish(handle, |_| Ok(())).await
}

/// `POST …/step`: how far to train.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRequest {
    batches: Option<usize>,
    epochs: Option<usize>,
}

async fn step(
    State(registry): Shared,
    SessionId(id): SessionId,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    let request: StepRequest = if body.is_empty() {
        StepRequest {
            batches: Some(1),
            epochs: None,
        }
    } else {
        parse_json(&body)?
    };
    let limits = &registry.limits;
    let (most_batches, most_epochs) = (limits.max_step_batches, limits.max_step_epochs);
    let work = match request {
        StepRequest {
            batches: Some(batches),
            epochs: None,
        } if (1..=most_batches).contains(&batches) => Ok((batches, 0)),
        StepRequest {
            batches: Some(batches),
            epochs: None,
        } => Err(format!(
            "batches: must be in 1..={most_batches}, got {batches}"
        )),
        StepRequest {
            batches: None,
            epochs: Some(epochs),
        } if (1..=most_epochs).contains(&epochs) => Ok((0, epochs)),
        StepRequest {
            batches: None,
            epochs: Some(epochs),
        } => Err(format!(
            "epochs: must be in 1..={most_epochs}, got {epochs}"
        )),
        _ => Err("batches: give either batches or epochs, not both or neither".into()),
    };
    let (batches, epochs) = work.map_err(ApiError::bad_request)?;
    change_and_publish(handle, move |handle| {
        let mut session = lock(&handle.session);
        for _ in 0..batches {
            if session.diverged() {
                break;
            }
            session.step_batch();
        }
        for _ in 0..epochs {
            session.step_epoch();
        }
        Ok(())
    })
    .await
}

/// `POST …/reset`: an optional new seed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    seed: Option<u64>,
}

async fn reset(
    State(registry): Shared,
    SessionId(id): SessionId,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    let request: ResetRequest = if body.is_empty() {
        ResetRequest::default()
    } else {
        parse_json(&body)?
    };
    change_and_publish(handle, move |handle| {
        lock(&handle.session).reset(request.seed)
    })
    .await
}

/// `POST …/parameter`: one weight (`input` given) or bias (`input` absent) set by hand.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterRequest {
    layer: usize,
    neuron: usize,
    input: Option<usize>,
    value: f64,
}

/// The largest |value| a parameter may be set to by hand.
const MAX_PARAMETER: f64 = 1000.0;

async fn parameter(
    State(registry): Shared,
    SessionId(id): SessionId,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    let request: ParameterRequest = parse_json(&body)?;
    if !(request.value.is_finite() && request.value.abs() <= MAX_PARAMETER) {
        return Err(ApiError::bad_request(format!(
            "value: must be a number in -{MAX_PARAMETER}..={MAX_PARAMETER}, got {}",
            request.value
        )));
    }
    change_and_publish(handle, move |handle| {
        lock(&handle.session).set_parameter(
            request.layer,
            request.neuron,
            request.input,
            request.value as f32,
        )
    })
    .await
}

/// The trace query: `example=I`, `batch=next` or `point=X1,X2&target=Y`.
fn lens_rows(query: Option<&str>) -> Result<LensRows, ApiError> {
    let fail = |message: &str| ApiError::bad_request(message.to_owned());
    let pairs: Vec<(&str, &str)> = query
        .unwrap_or("")
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| part.split_once('=').unwrap_or((part, "")))
        .collect();
    match pairs.as_slice() {
        [("example", index)] => index.parse().map(LensRows::Example).map_err(|_| {
            fail(&format!(
                "example: must be a training-row index (0, 1, …), got {index:?}"
            ))
        }),
        [("batch", "next")] => Ok(LensRows::NextBatch),
        [("point", point), ("target", target)] | [("target", target), ("point", point)] => {
            let coordinates: Vec<Result<f32, _>> = point
                .split(',')
                .map(|part| part.trim().parse::<f32>())
                .collect();
            let (x1, x2) = match coordinates.as_slice() {
                [Ok(x1), Ok(x2)] => (*x1, *x2),
                _ => {
                    return Err(fail(&format!(
                        "point: must be two numbers x1,x2, got {point:?}"
                    )))
                }
            };
            let target = target
                .parse::<f32>()
                .map_err(|_| fail(&format!("target: must be a number, got {target:?}")))?;
            Ok(LensRows::Point { x1, x2, target })
        }
        [("batch", other)] => Err(fail(&format!(
            "batch: only \"next\" is known, got {other:?}"
        ))),
        _ => Err(fail(
            "example: the query must be example=I (a training row), batch=next, or \
             point=X1,X2&target=Y (a point typed in)",
        )),
    }
}

async fn trace(
    State(registry): Shared,
    SessionId(id): SessionId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    let rows = lens_rows(query.as_deref())?;
    let json = blocking(move || {
        let session = lock(&handle.session);
        let lens = lens(&session, rows)?;
        Ok(serde_json::to_string(&lens).expect("a trace is plain data"))
    })
    .await?;
    Ok(json_text(StatusCode::OK, json.into()))
}

/// The gradient-check query: `layer=L&neuron=J` (any order).
fn check_target(query: Option<&str>) -> Result<(usize, usize), ApiError> {
    let (mut layer, mut neuron) = (None, None);
    for part in query
        .unwrap_or("")
        .split('&')
        .filter(|part| !part.is_empty())
    {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let number = || {
            value.parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!("{key}: must be a number (0, 1, …), got {value:?}"))
            })
        };
        match key {
            "layer" => layer = Some(number()?),
            "neuron" => neuron = Some(number()?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "{other}: unknown; the query is layer=L&neuron=J"
                )))
            }
        }
    }
    match (layer, neuron) {
        (Some(layer), Some(neuron)) => Ok((layer, neuron)),
        (None, _) => Err(ApiError::bad_request(
            "layer: missing; the query is layer=L&neuron=J",
        )),
        (_, None) => Err(ApiError::bad_request(
            "neuron: missing; the query is layer=L&neuron=J",
        )),
    }
}

async fn gradcheck(
    State(registry): Shared,
    SessionId(id): SessionId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    let (layer, neuron) = check_target(query.as_deref())?;
    let json = blocking(move || {
        let session = lock(&handle.session);
        let check = crate::gradcheck::gradient_check(&session, layer, neuron)?;
        Ok(serde_json::to_string(&check).expect("a check is plain data"))
    })
    .await?;
    Ok(json_text(StatusCode::OK, json.into()))
}

/// `GET …/landscape?resolution=N` (N optional, 3..=51, 21 when left out).
async fn landscape(
    State(registry): Shared,
    SessionId(id): SessionId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    let resolution = match query.as_deref().unwrap_or("").split_once('=') {
        None if query.as_deref().unwrap_or("").is_empty() => 21,
        Some(("resolution", value)) => value.parse().map_err(|_| {
            ApiError::bad_request(format!("resolution: must be a number, got {value:?}"))
        })?,
        _ => {
            return Err(ApiError::bad_request(
                "resolution: the query is resolution=N or nothing",
            ))
        }
    };
    let json = blocking(move || {
        let session = lock(&handle.session);
        let landscape = crate::landscape::landscape(&session, resolution)?;
        Ok(serde_json::to_string(&landscape).expect("a landscape is plain data"))
    })
    .await?;
    Ok(json_text(StatusCode::OK, json.into()))
}

async fn events(State(registry): Shared, SessionId(id): SessionId) -> Result<Response, ApiError> {
    let handle = registry.get(&id)?;
    Ok(stream::events(&handle, &registry).into_response())
}

async fn remove(State(registry): Shared, SessionId(id): SessionId) -> Result<StatusCode, ApiError> {
    registry.remove(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn no_route(request: Request) -> ApiError {
    ApiError::not_found(format!(
        "no route {} {}",
        request.method(),
        request.uri().path()
    ))
}

async fn wrong_method(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_queries() {
        assert_eq!(lens_rows(Some("example=3")).unwrap(), LensRows::Example(3));
        assert_eq!(lens_rows(Some("batch=next")).unwrap(), LensRows::NextBatch);
        assert_eq!(
            lens_rows(Some("point=1,-0.5&target=1")).unwrap(),
            LensRows::Point {
                x1: 1.0,
                x2: -0.5,
                target: 1.0
            }
        );
        for (query, field) in [
            ("point=1&target=1", "point:"),
            ("point=1,a&target=1", "point:"),
            ("point=1,2&target=x", "target:"),
        ] {
            let message = lens_rows(Some(query)).unwrap_err().message;
            assert!(message.starts_with(field), "{query}: {message}");
        }
        for bad in [
            None,
            Some("example=-1"),
            Some("batch=2"),
            Some("example=1&batch=next"),
        ] {
            assert_eq!(lens_rows(bad).unwrap_err().status, StatusCode::BAD_REQUEST);
        }
    }
}
