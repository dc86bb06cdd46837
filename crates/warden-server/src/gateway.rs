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

/// Why a gateway's request could not be turned into a decision input.
pub enum Refusal {
    /// No identity header: the caller must sign in (401).
    NoIdentity,
    /// The request cannot be decided as sent (400): a path that is not in
    /// normal form (`..`, `//`, encoded separators), or a missing header.
    Malformed(String),
}

/// The path of `uri` in normal form, or `None` when it is not: the app and
/// resource decided must be the ones the upstream will serve, so `..`, `.`,
/// empty segments and encoded dots or slashes are refused, not resolved.
pub fn normal_path(uri: &str) -> Option<&str> {
    let path = uri.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return None;
    }
    let lower = path.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c", "\\"]
        .iter()
        .any(|bad| lower.contains(bad))
    {
        return None;
    }
    let inner = path[1..].strip_suffix('/').unwrap_or(&path[1..]);
    let bad_segment = !inner.is_empty()
        && inner
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    (!bad_segment).then_some(path)
}

/// The decision input for an original request.
pub fn to_input(mapping: &GatewayMapping, original: &Original<'_>) -> Result<Json, Refusal> {
    let header = |name: &str| -> Option<&str> {
        original
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let id = header(&mapping.user_header)
        .or_else(|| header(&mapping.email_header))
        .ok_or(Refusal::NoIdentity)?;
    let path = normal_path(original.uri).ok_or_else(|| {
        Refusal::Malformed(format!(
            "the path `{}` is not in normal form (`..`, `.`, `//` or encoded separators)",
            original.uri
        ))
    })?;
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
    let app_id = mapping
        .app_header
        .as_deref()
        .and_then(header)
        .map(str::to_string)
        .or_else(|| {
            path.split('/')
                .filter(|s| !s.is_empty())
                .nth(mapping.app_path_segment)
                .map(str::to_string)
        })
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
    if let Some(ip) = header(&mapping.ip_header) {
        context["ip"] = json!(ip);
    }
    if let Some(request_id) = header(&mapping.request_id_header) {
        context["request_id"] = json!(request_id);
    }
    Ok(json!({
        "principal": principal,
        "action": action,
        "resource": { "type": "http", "app_id": app_id, "id": path },
        "context": context,
    }))
}

/// What a gateway is told.
pub struct Verdict {
    pub status: StatusCode,
    /// Header names (lower case) and values: the decision id and obligations.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Decides an original request: the one path both the HTTP adapters and
/// the gRPC service take. Anything that cannot be decided is refused.
pub async fn verdict(state: &AppState, endpoint: &str, original: Original<'_>) -> Verdict {
    let refuse = |status: StatusCode, body: String| Verdict {
        status,
        headers: Vec::new(),
        body,
    };
    let mapping = &state.config.gateway;
    let input = match to_input(mapping, &original) {
        Ok(input) => input,
        Err(Refusal::NoIdentity) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "no identity: sign in through the SSO proxy\n".into(),
            );
        }
        Err(Refusal::Malformed(why)) => return refuse(StatusCode::BAD_REQUEST, format!("{why}\n")),
    };
    let decision = match decide(
        state,
        endpoint,
        &mapping.target,
        &input,
        SystemTime::now(),
        false,
    )
    .await
    {
        Ok(decision) => decision,
        // Fail closed: an input the policies cannot decide is not allowed.
        Err(e) => {
            tracing::warn!(code = %e.code, "gateway request not decided: {}", e.message);
            return refuse(StatusCode::FORBIDDEN, format!("deny: {}\n", e.message));
        }
    };
    let mut headers = vec![(
        "x-warden-decision-id".to_string(),
        decision.decision_id.clone(),
    )];
    if !decision.is_allowed() {
        return Verdict {
            status: StatusCode::FORBIDDEN,
            headers,
            body: format!("deny: {}\n", deny_reason(&decision)),
        };
    }
    for (name, value) in obligation_headers(mapping, &decision) {
        // An obligation the gateway cannot be given cannot be honoured.
        if HeaderName::try_from(name.as_str()).is_err() || HeaderValue::from_str(&value).is_err() {
            tracing::error!(obligation = %name, "an obligation cannot be sent as a header; denied");
            return Verdict {
                status: StatusCode::FORBIDDEN,
                headers,
                body: format!("deny: the obligation `{name}` cannot be sent as a header\n"),
            };
        }
        headers.push((name.to_ascii_lowercase(), value));
    }
    Verdict {
        status: StatusCode::OK,
        headers,
        body: "allow\n".into(),
    }
}

/// Answers an HTTP gateway.
async fn authorize(state: &AppState, endpoint: &str, original: Original<'_>) -> Response {
    let verdict = verdict(state, endpoint, original).await;
    let mut headers = HeaderMap::new();
    for (name, value) in &verdict.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    if verdict.status == StatusCode::UNAUTHORIZED {
        headers.insert("www-authenticate", HeaderValue::from_static("Bearer"));
    }
    (verdict.status, headers, verdict.body).into_response()
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
/// `X-Original-Method` and `X-Original-URI`; without them nothing can be
/// decided (a missing method must not be taken for a read).
pub async fn nginx_route(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let original = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (Some(method), Some(uri)) = (original("X-Original-Method"), original("X-Original-URI"))
    else {
        return (
            StatusCode::BAD_REQUEST,
            "set X-Original-Method and X-Original-URI on the auth_request subrequest\n",
        )
            .into_response();
    };
    authorize(
        &state,
        "nginx",
        Original {
            method: &method,
            uri: &uri,
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
            HeaderValue::from_static("6.6.6.6, 10.0.0.1"),
        );
        headers.insert("X-Real-IP", HeaderValue::from_static("10.1.2.3"));
        let input = to_input(
            &GatewayMapping::default(),
            &Original {
                method: "GET",
                uri: "/crm-lite/records/7?fields=email",
                headers: &headers,
            },
        )
        .ok()
        .expect("an identity");
        assert_eq!(input["principal"]["id"], "u-123");
        assert_eq!(input["principal"]["groups"], json!(["sales", "ops"]));
        assert_eq!(input["principal"]["mfa"], false);
        assert_eq!(input["action"], "read");
        assert_eq!(input["resource"]["app_id"], "crm-lite");
        assert_eq!(input["resource"]["id"], "/crm-lite/records/7");
        assert_eq!(
            input["context"]["ip"], "10.1.2.3",
            "the gateway's header, not the client's"
        );
        let anonymous = to_input(
            &GatewayMapping::default(),
            &Original {
                method: "GET",
                uri: "/",
                headers: &HeaderMap::new(),
            },
        );
        assert!(matches!(anonymous, Err(Refusal::NoIdentity)));
    }

    #[test]
    fn paths_not_in_normal_form_are_refused() {
        for good in ["/", "/crm-lite", "/crm-lite/", "/crm-lite/records/7?q=1"] {
            assert!(normal_path(good).is_some(), "{good}");
        }
        for bad in [
            "/lunch-poll/../crm-lite/x",
            "//crm-lite",
            "/a/./b",
            "/a/%2e%2e/b",
            "/a%2Fb",
            "relative",
        ] {
            assert!(normal_path(bad).is_none(), "{bad}");
        }
    }
}
