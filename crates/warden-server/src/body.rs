//! Reading a JSON request body within the limits: size, content type and
//! nesting depth, each refused with a JSON error naming what was wrong.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde_json::Value as Json;
use std::sync::Arc;

/// A request body parsed as JSON.
pub struct JsonBody(pub Json);

/// A JSON request body's bytes, read within the size limit and checked for
/// its content type, not yet parsed.
pub struct RawJsonBody(pub Bytes);

impl FromRequest<Arc<AppState>> for RawJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let limits = &state.config.limits;
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::bad_request(
                "bad-content-type",
                "send the body as JSON, with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), limits.max_body_bytes)
            .await
            .map_err(|e| {
                let too_large =
                    std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                        e.source()
                    })
                    .any(|e| e.is::<http_body_util::LengthLimitError>());
                if too_large {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body-too-large",
                        format!(
                            "the body is larger than the limit of {} bytes",
                            limits.max_body_bytes
                        ),
                    )
                } else {
                    ApiError::bad_request("bad-body", format!("the body could not be read: {e}"))
                }
            })?;
        Ok(RawJsonBody(bytes))
    }
}

impl FromRequest<Arc<AppState>> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let RawJsonBody(bytes) = RawJsonBody::from_request(req, state).await?;
        let limits = &state.config.limits;
        parse(&bytes, limits.max_body_bytes, limits.max_json_depth).map(JsonBody)
    }
}

/// Parses JSON as every other input is parsed (`warden::parse_json_with`):
/// no deeper than `max_depth` levels, and a key given twice in one object
/// refused, as the CLI refuses it.
pub fn parse(bytes: &Bytes, max_bytes: usize, max_depth: usize) -> Result<Json, ApiError> {
    // The body was read within `max_bytes`; the count of values it may hold
    // follows from that limit, not from this body's own size.
    let limits = warden::InputLimits {
        max_bytes: max_bytes.max(bytes.len()),
        max_depth,
    };
    warden::parse_json_with("body", bytes, &limits).map_err(|e| match e {
        warden::EngineError::TooDeep { limit, .. } => ApiError::bad_request(
            "too-deep",
            format!("the body nests deeper than the limit of {limit} levels"),
        ),
        warden::EngineError::Syntax { message, .. } => {
            ApiError::bad_request("bad-json", format!("the body is not valid JSON: {message}"))
        }
        other => ApiError::bad_request("bad-json", other.to_string()),
    })
}
