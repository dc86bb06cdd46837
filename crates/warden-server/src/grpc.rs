//! Envoy `ext_authz` over gRPC (`envoy.service.auth.v3.Authorization/Check`),
//! the mode service meshes use. The check request's HTTP attributes go
//! through the same `[gateway]` mapping as the HTTP adapters.

use crate::gateway::Original;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use envoy_types::ext_authz::v3::pb::{
    Authorization, AuthorizationServer, CheckRequest, CheckResponse, HttpStatusCode,
};
use envoy_types::ext_authz::v3::{
    CheckResponseExt, DeniedHttpResponseBuilder, OkHttpResponseBuilder,
};
use futures_util::FutureExt;
use std::sync::Arc;

/// The gRPC authorization service.
pub struct Authz {
    pub state: Arc<AppState>,
}

pub fn service(state: Arc<AppState>) -> AuthorizationServer<Authz> {
    AuthorizationServer::new(Authz { state })
}

#[tonic::async_trait]
impl Authorization for Authz {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        // The caller's token, when `[auth]` asks for one (Envoy sends it
        // with `grpc_service.initial_metadata`).
        let credential = self
            .state
            .callers
            .admits(&request.metadata().clone().into_headers());
        if credential != crate::caller_auth::Credential::Accepted {
            return Err(tonic::Status::unauthenticated(
                "this service needs a caller token: `authorization: Bearer <token>` metadata",
            ));
        }
        let check = request.into_inner();
        let Some(http) = check
            .attributes
            .and_then(|a| a.request)
            .and_then(|r| r.http)
        else {
            return Err(tonic::Status::invalid_argument(
                "the check request carries no HTTP attributes",
            ));
        };
        // With `encode_raw_headers`, Envoy sends each header as it came
        // (a header given twice is seen twice, and refused); otherwise it
        // joins repeated headers with commas, which single-valued identity
        // headers refuse too. Pseudo-headers (`:path`) are not headers here.
        let mut headers = HeaderMap::new();
        match &http.header_map {
            Some(raw) => {
                for header in &raw.headers {
                    let value = if header.raw_value.is_empty() {
                        header.value.as_bytes()
                    } else {
                        &header.raw_value
                    };
                    if let (Ok(k), Ok(v)) = (
                        HeaderName::try_from(header.key.as_str()),
                        HeaderValue::from_bytes(value),
                    ) {
                        headers.append(k, v);
                    }
                }
            }
            None => {
                for (key, value) in &http.headers {
                    if let (Ok(k), Ok(v)) = (
                        HeaderName::try_from(key.as_str()),
                        HeaderValue::from_str(value),
                    ) {
                        headers.append(k, v);
                    }
                }
            }
        }
        let decided = crate::gateway::verdict(
            &self.state,
            "envoy-grpc",
            Original {
                method: &http.method,
                uri: &http.path,
                headers: &headers,
            },
        );
        // A bug while deciding denies; it never drops Envoy's stream.
        let Ok(verdict) = std::panic::AssertUnwindSafe(decided).catch_unwind().await else {
            return Ok(tonic::Response::new(CheckResponse::with_status(
                tonic::Status::internal("the server failed on this request; it was not allowed"),
            )));
        };
        let response = if verdict.status == axum::http::StatusCode::OK {
            let mut ok = OkHttpResponseBuilder::new();
            for (name, value) in verdict.headers {
                ok.add_header(name, value, None, false);
            }
            let mut response = CheckResponse::with_status(tonic::Status::ok("allowed"));
            response.set_http_response(ok.build());
            response
        } else {
            let (grpc_status, http_status) = match verdict.status.as_u16() {
                401 => (
                    tonic::Status::unauthenticated(verdict.body.trim()),
                    HttpStatusCode::Unauthorized,
                ),
                400 => (
                    tonic::Status::invalid_argument(verdict.body.trim()),
                    HttpStatusCode::BadRequest,
                ),
                _ => (
                    tonic::Status::permission_denied(verdict.body.trim()),
                    HttpStatusCode::Forbidden,
                ),
            };
            let mut denied = DeniedHttpResponseBuilder::new();
            denied.set_http_status(http_status);
            for (name, value) in verdict.headers {
                denied.add_header(name, value, None, false);
            }
            denied.set_body(verdict.body);
            let mut response = CheckResponse::with_status(grpc_status);
            response.set_http_response(denied.build());
            response
        };
        Ok(tonic::Response::new(response))
    }
}

/// Serves the gRPC service on `incoming` until told to stop.
pub async fn serve<S>(
    mut builder: tonic::transport::Server,
    service: AuthorizationServer<Authz>,
    incoming: impl futures_util::Stream<Item = Result<crate::listen::Conn<S>, std::io::Error>>
    + Send
    + 'static,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<(), tonic::transport::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    builder
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, crate::wait_for_stop(stopped))
        .await
}
