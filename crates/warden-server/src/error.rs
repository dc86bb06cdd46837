//! Errors a request can end in, each answered as JSON with the status a
//! client can act on: never a dropped connection, never a crash.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use warden::{DecideError, PathError};

/// An answer other than a decision: `{"error": {"code", "message", "errors"?}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// A permanent code (`E0401`) or a short name (`bad-json`).
    pub code: String,
    pub message: String,
    /// Every bad path, when the input did not match its type.
    pub errors: Vec<PathError>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [PathError],
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            errors: Vec::new(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl From<DecideError> for ApiError {
    fn from(e: DecideError) -> ApiError {
        let status = match e {
            DecideError::MissingData { .. } => StatusCode::SERVICE_UNAVAILABLE,
            DecideError::UnknownTarget { .. }
            | DecideError::InputMismatch { .. }
            | DecideError::Unreadable(_) => StatusCode::BAD_REQUEST,
        };
        let code = e.code().to_string();
        let message = e.to_string();
        let errors = match e {
            DecideError::InputMismatch { errors, .. } => errors,
            _ => Vec::new(),
        };
        ApiError {
            status,
            code,
            message,
            errors,
        }
    }
}

/// Marks an error response with its code, for the metrics.
#[derive(Clone, Debug)]
pub struct ErrorCode(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: &self.code,
                message: &self.message,
                errors: &self.errors,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}
