//! Gateway adapters: nginx `auth_request` (`/v1/authz/nginx`) and Envoy
//! `ext_authz` in HTTP service mode (`/v1/authz/envoy/...`). Both build the
//! request input from the subrequest's headers, method and path through the
//! `[gateway]` mapping, and answer 200 (allow), 403 (deny) or 401 (no
//! identity), with the decision id and obligations as headers.

use crate::config::GatewayMapping;
use crate::routes::decide;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::time::SystemTime;

/// The original request, as the gateway describes it.
pub struct Original<'a> {
    pub method: &'a str,
    /// The path and query of the original request.
    pub uri: &'a str,
    pub headers: &'a HeaderMap,
}

/// The decision input for an original request, or `None` when the request
/// carries no identity.
pub fn to_input(mapping: &GatewayMapping, original: &Original<'_>) -> Option<Json> {
    let header = |name: &str| -> Option<&str> {
        original
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let id = header(&mapping.user_header).or_else(|| header(&mapping.email_header))?;
    let groups: Vec<&str> = header(&mapping.groups_header)
        .map(|g| {
            g.split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mfa = header(&mapping.mfa_header)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
    let path = original.uri.split(['?', '#']).next().unwrap_or("/");
    let app_id = header(&mapping.app_header)
        .map(str::to_string)
        .or_else(|| path.split('/').find(|s| !s.is_empty()).map(str::to_string))
        .unwrap_or_default();
    let action = mapping
        .actions
        .get(&original.method.to_ascii_uppercase())
        .cloned()
        .unwrap_or_else(|| original.method.to_ascii_lowercase());
    let mut principal = json!({
        "id": id,
        "type": "user",
        "groups": groups,
        "authenticated_via": mapping.authenticated_via,
        "mfa": mfa,
    });
    if let Some(email) = header(&mapping.email_header) {
        principal["email"] = json!(email);
    }
    let mut context = json!({});
    if let Some(ip) = header("X-Forwarded-For")
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .or_else(|| header("X-Real-IP"))
    {
        context["ip"] = json!(ip);
    }
    if let Some(request_id) = header(&mapping.request_id_header) {
        context["request_id"] = json!(request_id);
    }
    Some(json!({
        "principal": principal,
        "action": action,
        "resource": { "type": "http", "app_id": app_id, "id": path },
        "context": context,
    }))
}

/// Decides an original request and answers the gateway.
async fn authorize(state: &AppState, endpoint: &str, original: Original<'_>) -> Response {
    let mapping = &state.config.gateway;
    let Some(input) = to_input(mapping, &original) else {
        return (
            StatusCode::UNAUTHORIZED,
            [("WWW-Authenticate", "Bearer")],
            "no identity: sign in through the SSO proxy\n",
        )
            .into_response();
    };
    match decide(
        state,
        endpoint,
        &mapping.target,
        &input,
        SystemTime::now(),
        false,
    )
    .await
    {
        Ok(decision) => {
            let status = if decision.is_allowed() {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            let mut headers = HeaderMap::new();
            if let Ok(id) = HeaderValue::from_str(&decision.decision_id) {
                headers.insert("X-Warden-Decision-Id", id);
            }
            for (name, value) in obligation_headers(mapping, &decision) {
                if let (Ok(name), Ok(value)) =
                    (HeaderName::try_from(name), HeaderValue::from_str(&value))
                {
                    headers.insert(name, value);
                }
            }
            let body = if decision.is_allowed() {
                "allow\n".to_string()
            } else {
                format!("deny: {}\n", deny_reason(&decision))
            };
            (status, headers, body).into_response()
        }
        // Fail closed: an input the policies cannot decide is not allowed.
        Err(e) => {
            tracing::warn!(code = %e.code, "gateway request not decided: {}", e.message);
            (StatusCode::FORBIDDEN, format!("deny: {}\n", e.message)).into_response()
        }
    }
}

/// The obligations of an allow decision as headers: `X-Warden-Mask: email,phone`.
pub fn obligation_headers(
    mapping: &GatewayMapping,
    decision: &warden::Decision,
) -> Vec<(String, String)> {
    decision
        .obligations
        .iter()
        .map(|(key, value)| {
            (
                format!("{}{}", mapping.obligation_header_prefix, header_case(key)),
                header_value(value),
            )
        })
        .collect()
}

/// Why a decision denied: its deny messages, else its reason.
pub fn deny_reason(decision: &warden::Decision) -> String {
    let why: Vec<&str> = decision
        .findings
        .iter()
        .filter(|f| f.effect == "deny")
        .filter_map(|f| f.message.as_deref())
        .collect();
    if why.is_empty() {
        decision.reason.clone().unwrap_or_default()
    } else {
        why.join("; ")
    }
}

/// `mask` → `Mask`, `step_up_mfa` → `Step-Up-Mfa`.
fn header_case(key: &str) -> String {
    key.split(['_', '-'])
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A list as `a,b`; a string as itself; anything else as JSON.
fn header_value(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Array(items) => items.iter().map(header_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// `GET|POST /v1/authz/nginx`: the original method and URI come in
/// `X-Original-Method` and `X-Original-URI`.
pub async fn nginx_route(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let original_method = headers
        .get("X-Original-Method")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(method.as_str())
        .to_string();
    let original_uri = headers
        .get("X-Original-URI")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uri.to_string());
    authorize(
        &state,
        "nginx",
        Original {
            method: &original_method,
            uri: &original_uri,
            headers: &headers,
        },
    )
    .await
}

/// `/v1/authz/envoy/...`: Envoy sends the original method, and the original
/// path after its `path_prefix`.
pub async fn envoy_route(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let full = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string());
    let original = full
        .strip_prefix("/v1/authz/envoy")
        .filter(|rest| !rest.is_empty())
        .unwrap_or("/")
        .to_string();
    authorize(
        &state,
        "envoy",
        Original {
            method: method.as_str(),
            uri: &original,
            headers: &headers,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obligations_become_headers() {
        assert_eq!(header_case("mask"), "Mask");
        assert_eq!(header_case("step_up_mfa"), "Step-Up-Mfa");
        assert_eq!(header_value(&json!(["email", "phone"])), "email,phone");
        assert_eq!(header_value(&json!(300)), "300");
    }

    #[test]
    fn oauth2_proxy_headers_map_onto_the_request_target() {
        let mut headers = HeaderMap::new();
        headers.insert("X-Auth-Request-User", HeaderValue::from_static("u-123"));
        headers.insert(
            "X-Auth-Request-Groups",
            HeaderValue::from_static("sales, ops"),
        );
        headers.insert(
            "X-Forwarded-For",
            HeaderValue::from_static("10.1.2.3, 10.0.0.1"),
        );
        let input = to_input(
            &GatewayMapping::default(),
            &Original {
                method: "GET",
                uri: "/crm-lite/records/7?fields=email",
                headers: &headers,
            },
        )
        .expect("an identity");
        assert_eq!(input["principal"]["id"], "u-123");
        assert_eq!(input["principal"]["groups"], json!(["sales", "ops"]));
        assert_eq!(input["principal"]["mfa"], false);
        assert_eq!(input["action"], "read");
        assert_eq!(input["resource"]["app_id"], "crm-lite");
        assert_eq!(input["resource"]["id"], "/crm-lite/records/7");
        assert_eq!(input["context"]["ip"], "10.1.2.3");
        let anonymous = to_input(
            &GatewayMapping::default(),
            &Original {
                method: "GET",
                uri: "/",
                headers: &HeaderMap::new(),
            },
        );
        assert!(anonymous.is_none());
    }
}
