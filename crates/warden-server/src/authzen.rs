//! AuthZEN Authorization API 1.0: `POST /access/v1/evaluation`, the batch
//! `POST /access/v1/evaluations`, and `GET /.well-known/authzen-configuration`.
//! Subject, action, resource and context map onto the request target:
//! `principal` is the subject (its properties merged in), `action` the
//! action's name, `resource` the resource with its properties (`app_id` from
//! the properties, else the resource id), `context` as given.

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::routes::decide;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value as Json_, json};
use std::sync::Arc;
use std::time::SystemTime;

/// An AuthZEN request as the request target's input.
pub fn to_input(request: &Json_) -> Result<Json_, ApiError> {
    let object = |key: &str| -> Result<Map<String, Json_>, ApiError> {
        match request.get(key) {
            Some(Json_::Object(o)) => Ok(o.clone()),
            Some(_) => Err(ApiError::bad_request(
                "bad-authzen",
                format!("`{key}` must be an object"),
            )),
            None => Err(ApiError::bad_request(
                "bad-authzen",
                format!(
                    "an evaluation needs `subject`, `action` and `resource`; `{key}` is missing"
                ),
            )),
        }
    };
    let with_properties = |mut entity: Map<String, Json_>| {
        if let Some(Json_::Object(properties)) = entity.remove("properties") {
            for (k, v) in properties {
                entity.entry(k).or_insert(v);
            }
        }
        entity
    };
    let principal = with_properties(object("subject")?);
    let mut resource = with_properties(object("resource")?);
    if !resource.contains_key("app_id")
        && let Some(id) = resource.get("id").cloned()
    {
        resource.insert("app_id".into(), id);
    }
    let action = object("action")?
        .get("name")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("bad-authzen", "`action` needs a `name`"))?;
    let mut input = json!({ "principal": principal, "action": action, "resource": resource });
    if let Some(context) = request.get("context").filter(|c| !c.is_null()) {
        input["context"] = context.clone();
    }
    Ok(input)
}

/// One evaluation: `{"decision": bool, "context": {...}}`.
async fn evaluate(state: &Arc<AppState>, request: &Json_) -> Result<Json_, ApiError> {
    let input = to_input(request)?;
    let target = state.config.gateway.target.clone();
    let decision = decide(state, "authzen", target, input, SystemTime::now(), false).await?;
    let mut context = json!({
        "decision_id": decision.decision_id,
        "policy_revision": decision.policy_revision,
        "data_revision": decision.data_revision,
    });
    if !decision.obligations.is_empty() {
        context["obligations"] = json!(decision.obligations);
    }
    if !decision.is_allowed() {
        context["reason_user"] = json!({ "en": crate::gateway::deny_reason(&decision) });
    }
    Ok(json!({ "decision": decision.is_allowed(), "context": context }))
}

/// `POST /access/v1/evaluation`.
pub async fn evaluation_route(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    evaluate(&state, &body).await.map(Json)
}

/// `POST /access/v1/evaluations`: each item of `evaluations` is laid over the
/// top-level subject, action, resource and context; `options.evaluations_semantic`
/// may stop at the first deny or the first permit.
pub async fn evaluations_route(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Json_>, ApiError> {
    let semantic = body
        .pointer("/options/evaluations_semantic")
        .and_then(Json_::as_str)
        .unwrap_or("execute_all");
    if ![
        "execute_all",
        "deny_on_first_deny",
        "permit_on_first_permit",
    ]
    .contains(&semantic)
    {
        return Err(ApiError::bad_request(
            "bad-authzen",
            format!("unknown `evaluations_semantic` `{semantic}`"),
        ));
    }
    let items = match body.get("evaluations") {
        None | Some(Json_::Null) => None,
        Some(Json_::Array(items)) => Some(items),
        Some(_) => {
            return Err(ApiError::bad_request(
                "bad-authzen",
                "`evaluations` must be a list of evaluations",
            ));
        }
    };
    let Some(items) = items else {
        // Without a list it is a single evaluation.
        return Ok(Json(
            json!({ "evaluations": [evaluate(&state, &body).await?] }),
        ));
    };
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
    let mut results = Vec::new();
    for item in items {
        let mut request = Map::new();
        for key in ["subject", "action", "resource", "context"] {
            if let Some(v) = item.get(key).or_else(|| body.get(key)) {
                request.insert(key.into(), v.clone());
            }
        }
        let result = match evaluate(&state, &Json_::Object(request)).await {
            Ok(result) => result,
            // One bad item does not sink the batch: it is denied, with why.
            Err(e) => {
                json!({ "decision": false, "context": { "error": { "code": e.code, "message": e.message } } })
            }
        };
        let allowed = result["decision"] == true;
        results.push(result);
        if (semantic == "deny_on_first_deny" && !allowed)
            || (semantic == "permit_on_first_permit" && allowed)
        {
            break;
        }
    }
    Ok(Json(json!({ "evaluations": results })))
}

/// `GET /.well-known/authzen-configuration`: where the endpoints are.
pub async fn configuration_route(State(state): State<Arc<AppState>>) -> Json<Json_> {
    // Set when the server starts (`base_url`, else the address it listens
    // on): a request's `Host` header names nothing here.
    let base = state.config.base_url.clone().unwrap_or_default();
    Json(json!({
        "policy_decision_point": base,
        "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
    }))
}
