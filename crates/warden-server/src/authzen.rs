//! AuthZEN Authorization API 1.0: `POST /access/v1/evaluation`, the batch
//! `POST /access/v1/evaluations`, and `GET /.well-known/authzen-configuration`.
//! An evaluation decides `[authzen] target` with the request as sent as its
//! input: `{subject: {type, id, properties?}, action: {name, properties?},
//! resource: {type, id, properties?}, context?}`. Nothing is flattened,
//! renamed or added, so a policy reads `req.resource.properties.ownerID`
//! and may close its records; unknown keys are left out, as the spec says
//! receivers ignore them.

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::routes::decide;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json_, json};
use std::sync::Arc;
use std::time::SystemTime;
use warden::Decision;

/// The response header carrying the id of each decision taken (for a
/// batch, one per answered item, comma-separated and in order, `-` for an
/// item answered with an error), whatever `response_context` says.
pub const DECISION_ID_HEADER: &str = "x-warden-decision-id";

/// An AuthZEN evaluation as the target's input: the four keys, each entity
/// with only the keys the spec defines, checked as the spec requires
/// (400 `bad-authzen` naming what is wrong). `request` looks a key up (for
/// a batch item: the item's, else the batch's), so each value is copied
/// once, into the input.
pub fn to_input<'r>(request: impl Fn(&str) -> Option<&'r Json_>) -> Result<Json_, ApiError> {
    let mut input = Map::new();
    for (key, required) in [
        ("subject", &["type", "id"][..]),
        ("action", &["name"][..]),
        ("resource", &["type", "id"][..]),
    ] {
        let entity = match request(key) {
            Some(Json_::Object(o)) => o,
            Some(_) => return Err(bad(format!("`{key}` must be an object"))),
            None => {
                return Err(bad(format!(
                    "an evaluation needs `subject`, `action` and `resource`; `{key}` is missing"
                )));
            }
        };
        let mut kept = Map::new();
        for field in required {
            match entity.get(*field) {
                Some(Json_::String(v)) => {
                    kept.insert((*field).into(), Json_::String(v.clone()));
                }
                Some(_) => return Err(bad(format!("`{key}.{field}` must be a string"))),
                None => return Err(bad(format!("`{key}` needs `{field}`"))),
            }
        }
        match entity.get("properties") {
            None | Some(Json_::Null) => {}
            Some(p @ Json_::Object(_)) => {
                kept.insert("properties".into(), p.clone());
            }
            Some(_) => return Err(bad(format!("`{key}.properties` must be an object"))),
        }
        input.insert(key.into(), Json_::Object(kept));
    }
    match request("context") {
        None | Some(Json_::Null) => {}
        Some(c @ Json_::Object(_)) => {
            input.insert("context".into(), c.clone());
        }
        Some(_) => return Err(bad("`context` must be an object".into())),
    }
    Ok(Json_::Object(input))
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("bad-authzen", message)
}

/// The target evaluations decide, or why AuthZEN is off.
fn target(state: &AppState) -> Result<String, ApiError> {
    state.config.authzen.target.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "authzen-off",
            "AuthZEN is off on this server: name the target it decides in warden.toml, \
             `[authzen] target = \"...\"`",
        )
    })
}

/// One evaluation's decision; `request` as [`to_input`] takes it.
async fn evaluate<'r>(
    state: &Arc<AppState>,
    target: &str,
    request: impl Fn(&str) -> Option<&'r Json_>,
) -> Result<Decision, ApiError> {
    let input = to_input(request)?;
    decide(
        state,
        "authzen",
        target.to_string(),
        crate::routes::RequestInput::Tree(input),
        SystemTime::now(),
        false,
    )
    .await
    .map_err(ApiError::from)
}

/// A decision as AuthZEN answers it: `{"decision": bool}`, with a `context`
/// (ids, revisions, obligations, the reason for a deny) only when
/// `[authzen] response_context` asks for one.
fn answer(state: &AppState, decision: &Decision) -> Json_ {
    if !state.config.authzen.response_context {
        return json!({ "decision": decision.is_allowed() });
    }
    let mut context = json!({
        "decision_id": decision.decision_id,
        "policy_revision": decision.policy_revision,
        "data_revision": decision.data_revision,
    });
    if !decision.obligations.is_empty() {
        context["obligations"] = json!(decision.obligations);
    }
    if !decision.is_allowed() {
        context["reason_user"] = json!({ "en": crate::gateway::deny_reason(decision) });
    }
    if !decision.warnings.is_empty() {
        // Say what was doubtful about an allow too (a misspelled property).
        context["warnings"] = decision
            .warnings
            .iter()
            .map(|w| json!({ "rule": w.rule, "code": w.code, "message": w.message, "path": w.input_path }))
            .collect();
    }
    json!({ "decision": decision.is_allowed(), "context": context })
}

/// The answer with the decision ids in [`DECISION_ID_HEADER`].
fn with_ids(ids: &[&str], body: Json_) -> Response {
    let mut headers = HeaderMap::new();
    if !ids.is_empty()
        && let Ok(value) = HeaderValue::from_str(&ids.join(", "))
    {
        headers.insert(DECISION_ID_HEADER, value);
    }
    (headers, Json(body)).into_response()
}

/// `POST /access/v1/evaluation`.
pub async fn evaluation_route(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let target = target(&state)?;
    let request = as_object(&body)?;
    let decision = evaluate(&state, &target, |k| request.get(k)).await?;
    Ok(with_ids(
        &[&decision.decision_id],
        answer(&state, &decision),
    ))
}

fn as_object(body: &Json_) -> Result<&Map<String, Json_>, ApiError> {
    body.as_object()
        .ok_or_else(|| bad("the request must be a JSON object".into()))
}

/// `POST /access/v1/evaluations`: each item of `evaluations` is laid over the
/// top-level subject, action, resource and context (a key an item gives
/// replaces the top-level one); `options.evaluations_semantic` may stop at
/// the first deny or the first permit. Without `evaluations`, or with an
/// empty list, it is a single evaluation and answers as one (the spec's
/// backwards-compatible form). An item that cannot be decided is a deny
/// with the error in its `context`; the others are decided.
pub async fn evaluations_route(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let target = target(&state)?;
    let top = as_object(&body)?;
    match top.get("options") {
        None | Some(Json_::Null | Json_::Object(_)) => {}
        Some(_) => return Err(bad("`options` must be an object".into())),
    }
    let semantic = match body.pointer("/options/evaluations_semantic") {
        None | Some(Json_::Null) => "execute_all",
        Some(Json_::String(s))
            if matches!(
                s.as_str(),
                "execute_all" | "deny_on_first_deny" | "permit_on_first_permit"
            ) =>
        {
            s.as_str()
        }
        Some(other) => {
            return Err(bad(format!(
                "unknown `evaluations_semantic` {other}: `execute_all`, `deny_on_first_deny` \
                 or `permit_on_first_permit`"
            )));
        }
    };
    let items = match top.get("evaluations") {
        None | Some(Json_::Null) => &[][..],
        Some(Json_::Array(items)) => items.as_slice(),
        Some(_) => return Err(bad("`evaluations` must be a list of evaluations".into())),
    };
    if items.is_empty() {
        let decision = evaluate(&state, &target, |k| top.get(k)).await?;
        return Ok(with_ids(
            &[&decision.decision_id],
            answer(&state, &decision),
        ));
    }
    let most = state.config.limits.max_batch;
    if items.len() > most {
        return Err(ApiError::bad_request(
            "batch-too-large",
            format!(
                "the batch holds {} evaluations, more than the limit of {most}; split it",
                items.len()
            ),
        ));
    }
    let mut results = Vec::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    // The request's deadline holds across the batch: once its first
    // decision is logged the request is answered whatever it takes, so the
    // items not begun by the deadline are answered with the timeout instead
    // of being decided.
    let deadline = std::time::Duration::from_millis(state.config.limits.request_timeout_ms);
    for item in items {
        if started.elapsed() >= deadline {
            results.push(json!({ "decision": false, "context": { "error": {
                "status": 408, "code": "request-timeout",
                "message": "not decided: the batch ran past `limits.request_timeout_ms`" } } }));
            ids.push("-".to_string());
            if semantic == "deny_on_first_deny" {
                break;
            }
            continue;
        }
        let decided = match item {
            Json_::Object(item) => {
                evaluate(&state, &target, |k| item.get(k).or_else(|| top.get(k))).await
            }
            _ => Err(bad("each evaluation must be an object".into())),
        };
        let allowed = match decided {
            Ok(decision) => {
                results.push(answer(&state, &decision));
                let allowed = decision.is_allowed();
                ids.push(decision.decision_id);
                allowed
            }
            // The server cannot decide at all (its log cannot be written):
            // the whole batch fails, as one evaluation would.
            Err(e) if e.status.is_server_error() => return Err(e),
            // One bad item does not sink the batch: it is denied, with why.
            Err(e) => {
                results.push(json!({ "decision": false, "context": { "error": {
                    "status": e.status.as_u16(), "code": e.code, "message": e.message } } }));
                // No decision, no id: `-` keeps the list in step with the items.
                ids.push("-".to_string());
                false
            }
        };
        if (semantic == "deny_on_first_deny" && !allowed)
            || (semantic == "permit_on_first_permit" && allowed)
        {
            break;
        }
    }
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    Ok(with_ids(&ids, json!({ "evaluations": results })))
}

/// `GET /.well-known/authzen-configuration`: where the endpoints are.
pub async fn configuration_route(
    State(state): State<Arc<AppState>>,
) -> Result<Json<Json_>, ApiError> {
    target(&state)?;
    // Set when the server starts (`base_url`, else the address it listens
    // on): a request's `Host` header names nothing here.
    let base = state.config.base_url.clone().unwrap_or_default();
    Ok(Json(json!({
        "policy_decision_point": base,
        "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
    })))
}
