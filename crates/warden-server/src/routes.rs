//! The JSON API: decide, check, policies, health, readiness, metrics, reload.

use crate::body::{JsonBody, RawJsonBody};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json_, json};
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use warden::{DecideOptions, Decision};

type Shared = State<Arc<AppState>>;

/// The input a request decides.
pub enum RequestInput {
    /// Parsed (AuthZEN, the gateway endpoints, a body that took the slow path).
    Tree(Json_),
    /// A `/v1/decide` body's `input`, as JSON text: a slice of the body, not
    /// a copy, read straight into the target's typed value.
    Text(Bytes),
}

/// One decision asked for.
struct Ask {
    target: String,
    input: RequestInput,
    now: SystemTime,
    options: DecideOptions,
    /// The body's limits, less the level of the body around a text input.
    text_limits: warden::InputLimits,
}

impl Ask {
    /// The decision within `steps`: `None` when it needs more.
    fn decide(
        &self,
        engine: &warden::Engine,
        steps: u64,
    ) -> Result<Option<Decision>, warden::DecideError> {
        let (target, now, options) = (&self.target, self.now, &self.options);
        match &self.input {
            RequestInput::Tree(json) => engine.decide_within(target, json, now, options, steps),
            RequestInput::Text(text) => engine.decide_text_within(
                target,
                input_text(text),
                &self.text_limits,
                now,
                options,
                steps,
            ),
        }
    }
}

/// Why [`decide`] gave no decision.
pub enum Refused {
    /// The input, or the target asked for: the request is wrong.
    Input(warden::DecideError),
    /// Anything else: the server is stopping, the log cannot be written.
    Api(ApiError),
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> ApiError {
        match refused {
            Refused::Input(e) => ApiError::from(e),
            Refused::Api(e) => e,
        }
    }
}

/// Decides `input` against `target` on the set being served, then counts and
/// logs the decision. Every decision the server takes goes through here.
///
/// A decision is first tried on the thread that read the request, within
/// [`INLINE_STEPS`] evaluation steps (well under a millisecond): most
/// decisions need far fewer, and are answered without a thread hop. One that
/// needs more is decided again on the blocking pool, at most
/// `limits.max_evaluations` at a time and each within
/// `limits.decision_timeout_ms`, so a costly decision never holds up the
/// threads that answer other requests (`/health` stays quick). Decisions are
/// deterministic, so the second try decides what the first would have. The
/// decision is answered only once its log line is written.
pub async fn decide(
    state: &Arc<AppState>,
    endpoint: &'static str,
    target: String,
    input: RequestInput,
    now: SystemTime,
    explain: bool,
) -> Result<Decision, Refused> {
    let started = Instant::now();
    // Read here: a decision moved to the blocking pool runs in another task.
    let request_id = REQUEST_ID.try_with(Clone::clone).ok();
    let limits = &state.config.limits;
    let options = DecideOptions {
        explain,
        budget: limits.eval_budget,
        timeout: Some(std::time::Duration::from_millis(limits.decision_timeout_ms)),
        ..DecideOptions::default()
    };
    let engine = state.engine.load_full();
    let ask = Ask {
        target,
        input,
        now,
        options,
        text_limits: input_limits(limits),
    };
    let inline = ask.decide(&engine, INLINE_STEPS).map_err(Refused::Input)?;
    let (decision, record) = match inline {
        Some(decision) => {
            let record = log_record(state, &decision, &ask, request_id.as_deref());
            (decision, record)
        }
        None => {
            let _slot = state.evaluations.acquire().await.map_err(|_| {
                Refused::Api(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "shutting-down",
                    "the server is stopping",
                ))
            })?;
            let for_log = Arc::clone(state);
            let engine = Arc::clone(&engine);
            tokio::task::spawn_blocking(move || {
                // With the whole budget, a decision is always reached.
                let decision = ask.decide(&engine, ask.options.budget)?;
                let record = decision
                    .as_ref()
                    .and_then(|d| log_record(&for_log, d, &ask, request_id.as_deref()));
                Ok::<_, warden::DecideError>((decision, record))
            })
            .await
            .map_err(|e| {
                tracing::error!("a decision failed: {e}");
                Refused::Api(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server failed on this request; it was not allowed",
                ))
            })?
            .map_err(Refused::Input)
            .and_then(|(decision, record)| match decision {
                Some(decision) => Ok((decision, record)),
                None => Err(Refused::Api(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the decision was not reached within its budget; it was not allowed",
                ))),
            })?
        }
    };
    if let (Some(log), Some(record)) = (&state.log, record) {
        // From here the decision is answered, past the request timeout too.
        let _ = COMMITTED.try_with(|c| c.store(true, std::sync::atomic::Ordering::Release));
        // A decision that cannot be logged is not given: fail closed.
        log.append(record).await.map_err(|e| {
            Refused::Api(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "decision-log",
                e.to_string(),
            ))
        })?;
    }
    state
        .metrics
        .decided(endpoint, &decision, started.elapsed().as_secs_f64());
    Ok(decision)
}

tokio::task_local! {
    /// Set once the request's decision is going to the log: from then on
    /// it is answered, however long the write takes.
    static COMMITTED: Arc<std::sync::atomic::AtomicBool>;
}

/// The request timeout (`limits.request_timeout_ms`): a request not
/// answered by then gets 408 (`request-timeout`), and is not allowed. A
/// request whose decision has gone to the decision log is let finish, so
/// the log never holds a decision its caller was told was not taken.
pub async fn request_deadline(
    State(limit): State<std::time::Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let committed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answer = COMMITTED.scope(Arc::clone(&committed), next.run(request));
    tokio::pin!(answer);
    tokio::select! {
        response = &mut answer => response,
        () = tokio::time::sleep(limit) => {
            if committed.load(std::sync::atomic::Ordering::Acquire) {
                answer.await
            } else {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "request-timeout",
                    "the request was not read and answered within `limits.request_timeout_ms`; it was not allowed",
                )
                .into_response()
            }
        }
    }
}

/// The decision's log line, when the server keeps a log.
fn log_record(
    state: &AppState,
    decision: &Decision,
    ask: &Ask,
    request_id: Option<&str>,
) -> Option<Vec<u8>> {
    let config = &state.config.log;
    state.log.as_ref().map(|_| match &ask.input {
        RequestInput::Tree(json) => crate::decision_log::record(decision, json, request_id, config),
        RequestInput::Text(text) => crate::decision_log::record_from_text(
            decision,
            input_text(text),
            &ask.text_limits,
            request_id,
            config,
        ),
    })
}

/// The text of a [`RequestInput::Text`]: made from a `&str`, so it is UTF-8.
/// Were it not, the empty text read instead is not JSON: the body would be
/// refused by the reading and then answered by the whole-body parse.
fn input_text(bytes: &Bytes) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

tokio::task_local! {
    /// The request's `X-Request-ID` (the caller's, or one made for it).
    static REQUEST_ID: String;
}

/// `X-Request-ID`: the caller's, when it is 1 to 128 visible ASCII
/// characters, else a new ULID; echoed on every response, and recorded in
/// the log line of the decision the request took.
pub async fn request_id(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let given = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| (1..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()));
    let id = given.map_or_else(|| ulid::Ulid::new().to_string(), str::to_string);
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// How many evaluation steps a decision may take on the request's own
/// thread before it is moved to the blocking pool.
pub const INLINE_STEPS: u64 = 10_000;

/// `POST /v1/decide`: `{"target", "input", "now"?, "explain"?}`.
///
/// A plain body (those four fields, a string target and time, a boolean
/// `explain`) is decided from its bytes: the input's text is read straight
/// into the target's typed value, with no JSON tree. Any other body, and any
/// body whose input that reading refuses, is parsed whole and decided the
/// usual way, which answers with the same error codes as ever.
pub async fn decide_route(
    State(state): Shared,
    RawJsonBody(bytes): RawJsonBody,
) -> Result<Json<Decision>, ApiError> {
    if let Some(plain) = PlainBody::read(&bytes, &state.config.limits) {
        match decide(
            &state,
            "decide",
            plain.target,
            RequestInput::Text(plain.input),
            plain.now,
            plain.explain,
        )
        .await
        {
            Ok(decision) => return Ok(Json(decision)),
            Err(Refused::Api(e)) => return Err(e),
            // Parsed whole below, for the error a body answers with.
            Err(Refused::Input(_)) => {}
        }
    }
    let limits = &state.config.limits;
    let mut body = crate::body::parse(&bytes, limits.max_body_bytes, limits.max_json_depth)?;
    let target = match body.get("target") {
        None | Some(Json_::Null) => "request".to_string(),
        Some(Json_::String(name)) => name.clone(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "bad-target",
                "`target` must be the name of a target, a string",
            ));
        }
    };
    let input = body
        .as_object_mut()
        .and_then(|b| b.remove("input"))
        .ok_or_else(|| ApiError::bad_request("missing-input", "the body has no `input`"))?;
    let now = match body.get("now") {
        None | Some(Json_::Null) => SystemTime::now(),
        Some(Json_::String(text)) => warden::parse_now(text).ok_or_else(|| {
            ApiError::bad_request(
                "bad-now",
                "`now` is not an RFC 3339 time with its offset (`2026-06-01T00:00:00Z`) or a date (`2026-06-01`)",
            )
        })?,
        Some(_) => return Err(ApiError::bad_request("bad-now", "`now` must be a string")),
    };
    let explain = body
        .get("explain")
        .and_then(Json_::as_bool)
        .unwrap_or(false);
    decide(
        &state,
        "decide",
        target,
        RequestInput::Tree(input),
        now,
        explain,
    )
    .await
    .map(Json)
    .map_err(ApiError::from)
}

/// The limits of an input read apart from the body around it: the body's,
/// less the body's own level.
fn input_limits(limits: &crate::config::Limits) -> warden::InputLimits {
    // A body nested deeper than one parse reads is refused whatever
    // `max_json_depth` says.
    warden::InputLimits {
        max_bytes: limits.max_body_bytes,
        max_depth: limits
            .max_json_depth
            .min(warden::InputLimits::PARSE_DEEPEST)
            .saturating_sub(1),
    }
}

/// A `/v1/decide` body in its plain shape, its input left as text.
struct PlainBody {
    target: String,
    input: Bytes,
    now: SystemTime,
    explain: bool,
}

impl PlainBody {
    /// The body's fields, when it has the plain shape; `None` for anything
    /// else (which the whole-body parse then answers).
    fn read(bytes: &Bytes, limits: &crate::config::Limits) -> Option<PlainBody> {
        // An object: the derived reader would take a list (`[target, input]`)
        // for the same fields, which the whole-body parse refuses.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        // Read apart from the body, the input must not get past a limit the
        // whole body would not: the body's own level leaves one less for the
        // input (an empty limit, none at all), and a body short enough that
        // it cannot hold the most values a body may (at most one per two
        // bytes) cannot fill the input's count either.
        let input = input_limits(limits);
        if input.max_depth == 0 || bytes.len() / 2 + 1 >= input.max_values() {
            return None;
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields<'a> {
            #[serde(default, borrow)]
            target: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow)]
            input: &'a serde_json::value::RawValue,
            #[serde(default, borrow)]
            now: Option<std::borrow::Cow<'a, str>>,
            #[serde(default)]
            explain: Option<bool>,
        }
        let fields: Fields<'_> = serde_json::from_slice(bytes).ok()?;
        let now = match &fields.now {
            None => SystemTime::now(),
            Some(text) => warden::parse_now(text)?,
        };
        // The input's place in the body: the slice shares the body's buffer.
        let text = fields.input.get();
        let start = (text.as_ptr() as usize).checked_sub(bytes.as_ptr() as usize)?;
        let input = bytes.slice(start..start.checked_add(text.len())?);
        Some(PlainBody {
            target: fields.target.as_deref().unwrap_or("request").to_string(),
            input,
            now,
            explain: fields.explain.unwrap_or(false),
        })
    }
}

/// `POST /v1/check`: `{"manifest": {...}}`.
pub async fn check_route(
    State(state): Shared,
    JsonBody(body): JsonBody,
) -> Result<Json<Decision>, ApiError> {
    let mut body = body;
    let manifest = body
        .as_object_mut()
        .and_then(|b| b.remove("manifest"))
        .ok_or_else(|| ApiError::bad_request("missing-manifest", "the body has no `manifest`"))?;
    decide(
        &state,
        "check",
        "manifest".into(),
        RequestInput::Tree(manifest),
        SystemTime::now(),
        false,
    )
    .await
    .map(Json)
    .map_err(ApiError::from)
}

/// `GET /v1/policies`: the revision, targets and rules being served.
pub async fn policies_route(State(state): Shared) -> Json<Json_> {
    let engine = state.engine.load();
    let targets: Vec<Json_> = engine
        .targets()
        .into_iter()
        .map(|t| json!({ "name": t.name, "default": if t.default_allow { "allow" } else { "deny" } }))
        .collect();
    let rules: Vec<Json_> = engine
        .rules()
        .into_iter()
        .map(|r| {
            json!({ "name": r.name, "target": r.target, "severity": r.severity,
                    "control": r.control, "doc": r.doc, "location": r.location })
        })
        .collect();
    let mut answer = json!({ "policy_revision": engine.revision(),
        "data_revision": engine.data_revision(), "targets": targets, "rules": rules });
    if let Some(bundle) = engine.bundle_revision() {
        answer["bundle_revision"] = json!(bundle);
    }
    Json(answer)
}

/// `GET /v1/status`: what an operator asks of a replica: what it serves,
/// where that came from, and whether its sources and sinks keep up.
pub async fn status_route(State(state): Shared) -> Json<Json_> {
    let engine = state.engine.load();
    Json(json!({
        "status": if state.ready() { "ready" } else { "not-ready" },
        "version": env!("CARGO_PKG_VERSION"),
        "policy_revision": engine.revision(),
        "data_revision": engine.data_revision(),
        "bundle_revision": engine.bundle_revision(),
        "bundle": state.bundle.as_ref().map(|feed| feed.status()),
        "decision_log": state.log.as_ref().map(|log| json!({ "failed": log.failed() })),
        "shipping": state.shipping.iter().map(|s| s.status()).collect::<Vec<_>>(),
    }))
}

/// `GET /health`: the process answers.
pub async fn health_route() -> Json<Json_> {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`: a policy set is loaded and the server is not shutting down.
pub async fn ready_route(State(state): Shared) -> Response {
    if state.ready() {
        let engine = state.engine.load();
        let mut answer = json!({ "status": "ready", "policy_revision": engine.revision() });
        if let Some(bundle) = engine.bundle_revision() {
            answer["bundle_revision"] = json!(bundle);
        }
        Json(answer).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining" })),
        )
            .into_response()
    }
}

/// `GET /metrics`.
pub async fn metrics_route(State(state): Shared) -> Response {
    let shipping: Vec<_> = state
        .shipping
        .iter()
        .map(|s| {
            let s = s.status();
            crate::metrics::SinkFigures {
                sink: s.sink,
                queue_depth: s.queue_depth,
                lag_seconds: s.lag_seconds,
                shipped: s.shipped,
                failures: s.failures,
            }
        })
        .collect();
    state.metrics.shipping(&shipping);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// `POST /v1/reload` with `Authorization: Bearer <admin token>`.
pub async fn reload_route(State(state): Shared, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.admin_token else {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "reload-disabled",
            "reload over HTTP is off: configure an admin token",
        )
        .into_response();
    };
    // Compared as digests in constant time, as caller tokens are: neither
    // how much of a guess matched nor the token's length may leak.
    let admin = crate::caller_auth::CallerTokens::single(token);
    if admin.admits(&headers) != crate::caller_auth::Credential::Accepted {
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad-token",
            "reload needs `Authorization: Bearer <admin token>`",
        )
        .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static(r#"Bearer realm="warden-admin""#),
        );
        return response;
    }
    match state.reload("http").await {
        Ok((revision, skipped)) => {
            let mut answer = json!({ "reloaded": true, "policy_revision": revision });
            if !skipped.is_empty() {
                answer["skipped"] = json!(skipped);
            }
            Json(answer).into_response()
        }
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "reloaded": false,
                "error": { "code": "reload-refused", "message": e.to_string() },
                "diagnostics": e.diagnostics(),
                "policy_revision": state.engine.load().revision(),
            })),
        )
            .into_response(),
    }
}

/// Counts every error answer by its code (`bad-json`, `E0401`, ...).
pub async fn count_errors(
    State(state): Shared,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    if let Some(crate::error::ErrorCode(code)) = response.extensions().get() {
        state
            .metrics
            .errors
            .get_or_create(&crate::metrics::ErrorLabels { code: code.clone() })
            .inc();
    }
    response
}
