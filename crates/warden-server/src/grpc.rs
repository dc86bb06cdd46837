//! Envoy `ext_authz` over gRPC (`envoy.service.auth.v3.Authorization/Check`),
//! the mode service meshes use. The check request's HTTP attributes go
//! through the same `[gateway]` mapping as the HTTP adapters.

use crate::gateway::{Original, to_input};
use crate::routes::decide;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use envoy_types::ext_authz::v3::pb::{
    Authorization, AuthorizationServer, CheckRequest, CheckResponse, HttpStatusCode,
};
use envoy_types::ext_authz::v3::{
    CheckResponseExt, DeniedHttpResponseBuilder, OkHttpResponseBuilder,
};
use std::sync::Arc;
use std::time::SystemTime;

/// The gRPC authorization service.
pub struct Authz {
    pub state: Arc<AppState>,
}

pub fn service(state: Arc<AppState>) -> AuthorizationServer<Authz> {
    AuthorizationServer::new(Authz { state })
}

fn denied(status: tonic::Status, http: HttpStatusCode, body: String) -> CheckResponse {
    let mut denied = DeniedHttpResponseBuilder::new();
    denied.set_http_status(http).set_body(body);
    let mut response = CheckResponse::with_status(status);
    response.set_http_response(denied.build());
    response
}

#[tonic::async_trait]
impl Authorization for Authz {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
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
        let mut headers = HeaderMap::new();
        for (key, value) in &http.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::try_from(key.as_str()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(k, v);
            }
        }
        let state = &self.state;
        let mapping = &state.config.gateway;
        let original = Original {
            method: &http.method,
            uri: &http.path,
            headers: &headers,
        };
        let Some(input) = to_input(mapping, &original) else {
            return Ok(tonic::Response::new(denied(
                tonic::Status::unauthenticated("no identity"),
                HttpStatusCode::Unauthorized,
                "no identity: sign in through the SSO proxy\n".into(),
            )));
        };
        let decision = match decide(
            state,
            "envoy-grpc",
            &mapping.target,
            &input,
            SystemTime::now(),
            false,
        )
        .await
        {
            Ok(decision) => decision,
            // Fail closed.
            Err(e) => {
                return Ok(tonic::Response::new(denied(
                    tonic::Status::permission_denied(e.message.clone()),
                    HttpStatusCode::Forbidden,
                    format!("deny: {}\n", e.message),
                )));
            }
        };
        let decision_header = ("x-warden-decision-id", decision.decision_id.clone());
        if decision.is_allowed() {
            let mut ok = OkHttpResponseBuilder::new();
            ok.add_header(decision_header.0, decision_header.1, None, false);
            for (name, value) in crate::gateway::obligation_headers(mapping, &decision) {
                ok.add_header(name, value, None, false);
            }
            let mut response = CheckResponse::with_status(tonic::Status::ok("allowed"));
            response.set_http_response(ok.build());
            Ok(tonic::Response::new(response))
        } else {
            let why = crate::gateway::deny_reason(&decision);
            let mut denied_response = DeniedHttpResponseBuilder::new();
            denied_response
                .set_http_status(HttpStatusCode::Forbidden)
                .add_header(decision_header.0, decision_header.1, None, false)
                .set_body(format!("deny: {why}\n"));
            let mut response = CheckResponse::with_status(tonic::Status::permission_denied(why));
            response.set_http_response(denied_response.build());
            Ok(tonic::Response::new(response))
        }
    }
}
