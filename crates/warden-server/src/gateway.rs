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
use unicode_normalization::UnicodeNormalization;

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

/// The path of `uri` in the one form Warden decides, with its escapes
/// decoded; or why it is refused. The app and resource decided must be the
/// ones the upstream serves, and upstreams disagree on everything beyond a
/// strict form, so anything they could read two ways is refused, not
/// resolved (`docs/server.md`, "Which paths pass"):
///
/// - `..`, `.` and empty segments (`//`);
/// - `;` anywhere in the path (`/a/..;/b` is `/b` to Tomcat, Spring, Jetty);
/// - backslashes (`/` to IIS and some frameworks), raw or encoded;
/// - any escape of a character that may be written as itself (`%2e`,
///   `%2f`, `%61`), of `%` itself (`%25`: double encoding), of a control
///   character, or of `;`, `?`, `#`, `\`;
/// - escapes that do not spell valid UTF-8 (overlong `%c0%ae`, surrogates);
/// - raw characters a request target may not hold (spaces, non-ASCII, `#`).
///
/// The query (after `?`) is not decided on and passes as it is.
pub fn canonical_path(uri: &str) -> Result<String, String> {
    if uri.contains('#') {
        return Err("a fragment (`#`) is never part of a request".into());
    }
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    if query
        .split(['&', ';'])
        .any(|pair| is_method_override(pair.split('=').next().unwrap_or_default()))
    {
        return Err(
            "a method override (`_method=` in the query) is refused: the upstream could run \
             another method than the one decided"
                .into(),
        );
    }
    if !path.starts_with('/') {
        return Err("the path must start with `/`".into());
    }
    let bytes = path.as_bytes();
    let mut decoded: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'%' => {
                let escape = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(byte) = escape else {
                    return Err("a `%` that does not start an escape `%XX`".into());
                };
                if !escape_allowed(byte) {
                    return Err(format!(
                        "`{}` encodes {}, which is refused: upstreams decode it differently",
                        &path[i..i + 3],
                        describe_byte(byte)
                    ));
                }
                decoded.push(byte);
                i += 3;
            }
            b';' => {
                return Err(
                    "`;` (path parameters, as in `/a/..;/b`) is refused: upstreams read it differently"
                        .into(),
                );
            }
            b'\\' => {
                return Err("a backslash is refused: some upstreams read it as `/`".into());
            }
            _ if raw_allowed(b) => {
                decoded.push(b);
                i += 1;
            }
            _ => {
                return Err(format!(
                    "{} must be percent-encoded in a path",
                    describe_byte(b)
                ));
            }
        }
    }
    let text = String::from_utf8(decoded).map_err(|_| {
        "the escapes do not spell valid UTF-8 (overlong and invalid sequences are refused)"
            .to_string()
    })?;
    // C1 controls (U+0080–U+009F, `%C2%85` is NEL) are line breaks to some readers.
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the escapes spell the control character U+{:04X}",
            u32::from(c)
        ));
    }
    // Look-alikes: a character that compatibility normalisation (NFKC, which
    // some frameworks and file systems apply) turns into another, such as
    // a fullwidth `．` or `／`; and any non-ASCII character but a letter or
    // a digit (format characters such as U+200B and U+202E, separators).
    if let Some(c) = text.chars().find(|&c| {
        !c.is_ascii() && (!c.is_alphanumeric() || !std::iter::once(c).nfkc().eq(std::iter::once(c)))
    }) {
        return Err(format!(
            "the escapes spell U+{:04X}, which is refused: outside ASCII only letters and digits \
             that normalise to themselves may appear (upstreams fold look-alikes of `.`, `/`, `\\`)",
            u32::from(c)
        ));
    }
    let inner = text[1..].strip_suffix('/').unwrap_or(&text[1..]);
    if !inner.is_empty()
        && inner
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(
            "empty, `.` and `..` segments are refused: the upstream would resolve them".into(),
        );
    }
    // Windows and IIS drop a segment's trailing dots and spaces (`..%20`,
    // `...` become `..`).
    if inner.split('/').any(|s| s.ends_with(['.', ' '])) {
        return Err(
            "a segment ending in `.` or a space is refused: some upstreams drop the ending \
             (`.. ` and `...` become `..`)"
                .into(),
        );
    }
    Ok(text)
}

/// Whether a query parameter's name is `_method` as some framework reads
/// it: percent-decoded once (`%5Fmethod`), `+` as a space, leading spaces
/// dropped and `.`, ` ` and `[` read as `_` (PHP), in any case.
fn is_method_override(name: &str) -> bool {
    let mut decoded = Vec::with_capacity(name.len());
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(b) => {
                decoded.push(b);
                i += 3;
            }
            None => {
                decoded.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                i += 1;
            }
        }
    }
    let start = decoded
        .iter()
        .position(|&b| b != b' ')
        .unwrap_or(decoded.len());
    let normal: Vec<u8> = decoded[start..]
        .iter()
        .map(|&b| match b {
            b'.' | b' ' | b'[' => b'_',
            b => b.to_ascii_lowercase(),
        })
        .collect();
    normal == b"_method"
}

/// Characters a path may hold as themselves (RFC 3986 `pchar` and `/`,
/// without `;`).
fn raw_allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/".contains(&b)
}

/// Bytes a path may hold only as escapes: those that cannot be written as
/// themselves, with no other meaning to a server (non-ASCII text, spaces,
/// quotes, brackets).
fn escape_allowed(b: u8) -> bool {
    b >= 0x80 || b" \"<>[]^`{|}".contains(&b)
}

fn describe_byte(b: u8) -> String {
    match b {
        b'%' => "`%` itself (double encoding)".into(),
        b'/' => "`/`".into(),
        b'.' => "`.`".into(),
        0x00..=0x1f | 0x7f => format!("the control character 0x{b:02x}"),
        0x80.. => format!("the byte 0x{b:02x}"),
        _ => format!("`{}`", b as char),
    }
}

/// Headers that ask frameworks to run another method than the request's.
const METHOD_OVERRIDE_HEADERS: &[&str] = &[
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// The one value of a header, or why the request is refused: a header given
/// twice (gateways pick different ones: nginx and Envoy the first, Envoy's
/// gRPC the last), or not UTF-8. `single`: the value is one thing (a user, a
/// flag), so a comma means two values were joined into one.
fn one_header<'h>(
    headers: &'h HeaderMap,
    name: &str,
    single: bool,
) -> Result<Option<&'h str>, Refusal> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Refusal::Malformed(format!(
            "the `{name}` header is given more than once; send it once"
        )));
    }
    let value = std::str::from_utf8(first.as_bytes())
        .map_err(|_| Refusal::Malformed(format!("the `{name}` header is not UTF-8 text")))?
        .trim();
    if single && value.contains(',') {
        return Err(Refusal::Malformed(format!(
            "the `{name}` header holds a comma: two values joined into one are refused"
        )));
    }
    Ok(Some(value).filter(|v| !v.is_empty()))
}

/// The decision input for an original request.
pub fn to_input(mapping: &GatewayMapping, original: &Original<'_>) -> Result<Json, Refusal> {
    let header = |name: &str| one_header(original.headers, name, true);
    // Every identity header is read (and checked) before any is used.
    let user = header(&mapping.user_header)?;
    let email = header(&mapping.email_header)?;
    let groups = one_header(original.headers, &mapping.groups_header, false)?;
    let mfa = header(&mapping.mfa_header)?;
    let ip = header(&mapping.ip_header)?;
    let request_id = header(&mapping.request_id_header)?;
    let app = match &mapping.app_header {
        Some(name) => header(name)?,
        None => None,
    };
    // A method override would have the upstream run another method than
    // the one decided (Rails, Spring, Express `method-override` honour them).
    for name in METHOD_OVERRIDE_HEADERS {
        if original.headers.contains_key(*name) {
            return Err(Refusal::Malformed(format!(
                "the `{name}` header (a method override) is refused: the upstream could run \
                 another method than the one decided"
            )));
        }
    }
    if !original.method.bytes().all(|b| b.is_ascii_alphabetic()) || original.method.is_empty() {
        return Err(Refusal::Malformed(format!(
            "`{}` is not an HTTP method",
            original.method.escape_default()
        )));
    }
    let path = canonical_path(original.uri).map_err(|why| {
        Refusal::Malformed(format!(
            "the path `{}` is refused: {why}",
            original.uri.escape_default()
        ))
    })?;
    let id = user.or(email).ok_or(Refusal::NoIdentity)?;
    let groups: Vec<&str> = groups
        .map(|g| {
            g.split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mfa = mfa.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
    let app_id = app
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
    if let Some(email) = email {
        principal["email"] = json!(email);
    }
    let mut context = json!({});
    if let Some(ip) = ip {
        context["ip"] = json!(ip);
    }
    if let Some(request_id) = request_id {
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
pub async fn verdict(
    state: &Arc<AppState>,
    endpoint: &'static str,
    original: Original<'_>,
) -> Verdict {
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
        mapping.target().to_string(),
        crate::routes::RequestInput::Tree(input),
        SystemTime::now(),
        false,
    )
    .await
    .map_err(crate::error::ApiError::from)
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
async fn authorize(
    state: &Arc<AppState>,
    endpoint: &'static str,
    original: Original<'_>,
) -> Response {
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
        .filter(|f| f.effect == warden::Effect::Deny)
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
    let original = |name: &str| one_header(&headers, name, true).map(|v| v.map(str::to_string));
    let (method, uri) = match (original("X-Original-Method"), original("X-Original-URI")) {
        (Ok(Some(method)), Ok(Some(uri))) => (method, uri),
        (Err(Refusal::Malformed(why)), _) | (_, Err(Refusal::Malformed(why))) => {
            return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response();
        }
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "set X-Original-Method and X-Original-URI on the auth_request subrequest\n",
            )
                .into_response();
        }
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
    fn paths_that_mean_two_things_are_refused() {
        for (good, decided) in [
            ("/", "/"),
            ("/crm-lite", "/crm-lite"),
            ("/crm-lite/", "/crm-lite/"),
            ("/crm-lite/records/7?q=1&a=..;%25", "/crm-lite/records/7"),
            ("/caf%C3%A9/x", "/café/x"),
            ("/caf%c3%a9/x", "/café/x"),
            ("/a%20b/c:d@e", "/a b/c:d@e"),
            ("/a/b.c/d", "/a/b.c/d"),
            ("/a/b?payment_method=card&methods=1", "/a/b"),
        ] {
            assert_eq!(canonical_path(good).as_deref(), Ok(decided), "{good}");
        }
        for bad in [
            "/a/.../b",
            "/a/..%20/b",
            "/a/report.",
            "/a/%EF%BC%8E%EF%BC%8E/b",
            "/a/%EF%B9%92/b",
            "/a%EF%BC%8Fb",
            "/a/%E2%80%8B/b",
            "/a/%E2%80%AE/b",
            "/a/%E2%80%A8/b",
            "/a/b?_method=DELETE",
            "/a/b?x=1&_METHOD=put",
            "/a/b?%5Fmethod=DELETE",
            "/a/b?%5fMethod=DELETE",
            "/a/b?.method=DELETE",
            "/a/b?%20_method=DELETE",
            "/lunch-poll/../crm-lite/x",
            "/lunch-poll/..;/crm-lite/x",
            "/lunch-poll;jsessionid=1/x",
            "//crm-lite",
            "/a/./b",
            "/a/%2e%2e/b",
            "/a/%2E./b",
            "/a%2Fb",
            "/a%2fb",
            "/a/%252e%252e/b",
            "/a%25",
            "/a/%c0%ae%c0%ae/b",
            "/a/%ed%a0%80",
            "/a/%ff",
            "/a/%C2%85",
            "/cmf%C2%99/x",
            "/a\\..\\b",
            "/a/%5c../b",
            "/%63rm-lite/x",
            "/a%00b",
            "/a%0d%0aX: y",
            "/a%3bb",
            "/a%3fb",
            "/a%",
            "/a%2",
            "/a%+1",
            "/a b",
            "/café",
            "/a#frag",
            "relative",
            "http://evil.example/crm-lite",
            "",
        ] {
            assert!(canonical_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identity_headers_given_twice_or_joined_are_refused() {
        let input = |pairs: &[(&'static str, &'static str)], method: &str| {
            let mut headers = HeaderMap::new();
            for (k, v) in pairs {
                headers.append(*k, HeaderValue::from_static(v));
            }
            to_input(
                &GatewayMapping::default(),
                &Original {
                    method,
                    uri: "/crm-lite/x",
                    headers: &headers,
                },
            )
        };
        let malformed = |r: Result<Json, Refusal>| matches!(r, Err(Refusal::Malformed(_)));
        assert!(input(&[("X-Auth-Request-User", "u-1")], "GET").is_ok());
        assert!(malformed(input(
            &[
                ("X-Auth-Request-User", "u-1"),
                ("X-Auth-Request-User", "u-123")
            ],
            "GET"
        )));
        assert!(malformed(input(
            &[("X-Auth-Request-User", "u-1,u-123")],
            "GET"
        )));
        assert!(malformed(input(
            &[
                ("X-Auth-Request-User", "u-1"),
                ("X-Auth-Request-Mfa", "true,false")
            ],
            "GET"
        )));
        assert!(malformed(input(
            &[
                ("X-Auth-Request-User", "u-1"),
                ("X-Auth-Request-Mfa", "true"),
                ("X-Auth-Request-Mfa", "false")
            ],
            "GET"
        )));
        assert!(malformed(input(
            &[
                ("X-Auth-Request-User", "u-1"),
                ("X-Auth-Request-Groups", "a"),
                ("X-Auth-Request-Groups", "b")
            ],
            "GET"
        )));
        assert!(malformed(input(
            &[("X-Auth-Request-User", "u-1")],
            "GET,DELETE"
        )));
        assert!(malformed(input(&[("X-Auth-Request-User", "u-1")], "")));
        // Groups are a list: a comma is how they are written.
        let ok = input(
            &[
                ("X-Auth-Request-User", "u-1"),
                ("X-Auth-Request-Groups", "a, b"),
            ],
            "GET",
        )
        .ok()
        .unwrap();
        assert_eq!(ok["principal"]["groups"], json!(["a", "b"]));
    }
}
