//! Caller authentication on the decision endpoints: a bearer token or an API
//! key from the configuration (`[auth]`), compared in constant time; 401 with
//! `WWW-Authenticate` otherwise, as AuthZEN 1.0 asks of a PDP ("Sender
//! Authentication Failure").

use crate::config::CallerAuth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The tokens callers may present, kept as SHA-256 digests: comparing
/// digests of equal length takes the same time whatever the guess, and no
/// token's length leaks.
#[derive(Default)]
pub struct CallerTokens {
    digests: Vec<[u8; 32]>,
    header: Option<HeaderName>,
}

/// Why the `[auth]` section cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// The tokens file cannot be read: missing, not a regular file, not UTF-8.
    #[error("the tokens file: {0}")]
    TokensFile(warden::EngineError),
    #[error("`[auth] api_key_header` `{0}` is not a header name")]
    Header(String),
    #[error(
        "{whence}: a token is empty or holds spaces, control or non-ASCII characters (no header carries them); a token is one word of visible ASCII on a line of its own (a `#` starts a comment only at the start of a line)"
    )]
    BadToken { whence: String },
    #[error(
        "`[auth] api_key_header` is set but no token is configured: every caller would be refused"
    )]
    HeaderWithoutTokens,
    #[error(
        "the tokens file `{}` holds no token: callers would not be asked for one; put a token in it, or remove `tokens_file`",
        .0.display()
    )]
    NoTokensInFile(std::path::PathBuf),
    #[error("the tokens file `{}` is larger than {MAX_TOKENS_FILE} bytes", .0.display())]
    TokensFileTooLarge(std::path::PathBuf),
}

/// The largest tokens file read.
const MAX_TOKENS_FILE: u64 = 1 << 20;

/// Whether a token can be presented at all: a header carries visible ASCII,
/// and what is sent is trimmed, so a configured token with a space, a
/// control or a non-ASCII character could never match.
pub fn sendable(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

impl CallerTokens {
    /// The tokens `[auth]` configures (none: callers are not asked).
    pub fn from_config(auth: &CallerAuth) -> Result<CallerTokens, AuthConfigError> {
        // Each token with where it was written, for a message that names it.
        let mut tokens: Vec<(String, String)> = auth
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), format!("`[auth] tokens`, item {}", i + 1)))
            .collect();
        if let Some(path) = &auth.tokens_file {
            // A regular file only (a FIFO would hang the start), read whole
            // or refused (a cut could leave a shorter token that is accepted).
            let text =
                warden::read_file_bounded(path, MAX_TOKENS_FILE as usize).map_err(|e| match e {
                    warden::EngineError::TooLarge { .. } => {
                        AuthConfigError::TokensFileTooLarge(path.clone())
                    }
                    other => AuthConfigError::TokensFile(other),
                })?;
            let before = tokens.len();
            // A byte-order mark is not part of the first token.
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            tokens.extend(
                text.lines()
                    .enumerate()
                    .map(|(i, l)| (l.trim(), i + 1))
                    .filter(|(l, _)| !l.is_empty() && !l.starts_with('#'))
                    .map(|(l, n)| (l.to_string(), format!("{}:{n}", path.display()))),
            );
            // An empty file (a secret mount that failed, every token
            // revoked) must not turn authentication off.
            if tokens.len() == before {
                return Err(AuthConfigError::NoTokensInFile(path.clone()));
            }
        }
        if let Some((_, whence)) = tokens.iter().find(|(t, _)| !sendable(t)) {
            return Err(AuthConfigError::BadToken {
                whence: whence.clone(),
            });
        }
        let header = match &auth.api_key_header {
            Some(name) => Some(
                HeaderName::try_from(name.as_str())
                    .map_err(|_| AuthConfigError::Header(name.clone()))?,
            ),
            None => None,
        };
        if header.is_some() && tokens.is_empty() {
            return Err(AuthConfigError::HeaderWithoutTokens);
        }
        Ok(CallerTokens {
            digests: tokens
                .iter()
                .map(|(t, _)| Sha256::digest(t).into())
                .collect(),
            header,
        })
    }

    /// One token, as `Authorization: Bearer` only (the admin token).
    pub fn single(token: &str) -> CallerTokens {
        CallerTokens {
            digests: vec![Sha256::digest(token).into()],
            header: None,
        }
    }

    /// Whether callers must present a token.
    pub fn required(&self) -> bool {
        !self.digests.is_empty()
    }

    /// Whether `headers` carry an accepted token (always, when none is
    /// required).
    pub fn admits(&self, headers: &HeaderMap) -> Credential {
        if !self.required() {
            return Credential::Accepted;
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            });
        let key = self
            .header
            .as_ref()
            .and_then(|h| headers.get(h))
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let presented: Vec<&str> = bearer.into_iter().chain(key).collect();
        if presented.is_empty() {
            return Credential::Missing;
        }
        let digests: Vec<[u8; 32]> = presented
            .iter()
            .map(|p| Sha256::digest(p.as_bytes()).into())
            .collect();
        // Every configured token is compared with every presented one, so
        // the time taken does not say which (or whether one) matched.
        let mut matched = subtle::Choice::from(0);
        for given in &digests {
            for accepted in &self.digests {
                matched |= given.ct_eq(accepted);
            }
        }
        if bool::from(matched) {
            Credential::Accepted
        } else {
            Credential::Refused
        }
    }
}

/// What a request's credentials came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential {
    Accepted,
    /// No token was presented.
    Missing,
    /// A token was presented and none matched.
    Refused,
}

/// The 401 answer, JSON as every error of the JSON endpoints.
pub fn unauthorized(credential: &Credential, api_key_header: Option<&HeaderName>) -> Response {
    let (challenge, message) = match credential {
        Credential::Refused => (
            r#"Bearer realm="warden", error="invalid_token""#,
            "the token presented is not one this server accepts".to_string(),
        ),
        _ => (
            r#"Bearer realm="warden""#,
            match api_key_header {
                Some(h) => format!(
                    "this endpoint needs a caller token: `Authorization: Bearer <token>` or `{h}: <token>`"
                ),
                None => {
                    "this endpoint needs a caller token: `Authorization: Bearer <token>`".into()
                }
            },
        ),
    };
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// Middleware on the decision endpoints: a request without an accepted
/// token is answered 401 before anything else reads it.
pub async fn require_caller(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match state.callers.admits(request.headers()) {
        Credential::Accepted => next.run(request).await,
        other => unauthorized(&other, state.callers.header.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(list: &[&str], header: Option<&str>) -> CallerTokens {
        CallerTokens::from_config(&CallerAuth {
            tokens: list.iter().map(|t| t.to_string()).collect(),
            tokens_file: None,
            api_key_header: header.map(str::to_string),
        })
        .unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::try_from(*k).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn a_bearer_token_or_the_api_key_header_admits_and_nothing_else_does() {
        let callers = tokens(&["s3cret-one", "two"], Some("x-api-key"));
        let admits = |pairs: &[(&str, &str)]| callers.admits(&headers(pairs));
        assert_eq!(
            admits(&[("authorization", "Bearer s3cret-one")]),
            Credential::Accepted
        );
        assert_eq!(
            admits(&[("authorization", "bearer two")]),
            Credential::Accepted
        );
        assert_eq!(admits(&[("x-api-key", "two")]), Credential::Accepted);
        assert_eq!(admits(&[]), Credential::Missing);
        assert_eq!(
            admits(&[("authorization", "Basic s3cret-one")]),
            Credential::Missing
        );
        assert_eq!(
            admits(&[("authorization", "Bearer s3cret-on")]),
            Credential::Refused
        );
        assert_eq!(
            admits(&[("authorization", "Bearer s3cret-one2")]),
            Credential::Refused
        );
        assert_eq!(admits(&[("x-api-key", "")]), Credential::Refused);
    }

    #[test]
    fn without_tokens_every_caller_is_admitted_and_bad_settings_are_refused() {
        assert_eq!(
            tokens(&[], None).admits(&headers(&[])),
            Credential::Accepted
        );
        let refused = |auth: CallerAuth| CallerTokens::from_config(&auth).is_err();
        assert!(refused(CallerAuth {
            tokens: vec!["has space".into()],
            ..CallerAuth::default()
        }));
        assert!(refused(CallerAuth {
            tokens: vec![],
            tokens_file: None,
            api_key_header: Some("x-api-key".into()),
        }));
        assert!(refused(CallerAuth {
            tokens: vec!["t".into()],
            tokens_file: None,
            api_key_header: Some("bad header".into()),
        }));
    }

    #[test]
    fn a_token_no_header_can_carry_is_refused() {
        for token in ["tökén", "a b", "x\u{200b}", ""] {
            let auth = CallerAuth {
                tokens: vec![token.to_string()],
                ..CallerAuth::default()
            };
            let error = CallerTokens::from_config(&auth)
                .err()
                .map(|e| e.to_string());
            assert!(
                error.as_deref().is_some_and(|e| e.contains("item 1")),
                "{token:?}: {error:?}"
            );
        }
    }

    #[test]
    fn a_bad_line_of_the_tokens_file_is_named_and_a_bom_is_not_a_token() {
        let dir = std::env::temp_dir().join(format!("warden-tokens-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("callers.tokens");
        std::fs::write(
            &file,
            "\u{feff}good-1\r\n# a comment\r\n\r\nbad-2 # trailing\n",
        )
        .unwrap();
        let auth = CallerAuth {
            tokens_file: Some(file.clone()),
            ..CallerAuth::default()
        };
        let error = CallerTokens::from_config(&auth).err().unwrap().to_string();
        assert!(
            error.starts_with(&format!("{}:4:", file.display())),
            "{error}"
        );
        std::fs::write(&file, "\u{feff}good-1\r\n# a comment\r\n").unwrap();
        let callers = CallerTokens::from_config(&auth).unwrap();
        assert_eq!(
            callers.admits(&headers(&[("authorization", "Bearer good-1")])),
            Credential::Accepted
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_empty_or_oversized_tokens_file_is_refused_not_ignored() {
        let dir = std::env::temp_dir().join(format!("warden-tokens-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("callers.tokens");
        let auth = CallerAuth {
            tokens_file: Some(file.clone()),
            ..CallerAuth::default()
        };
        for text in ["", "# all revoked\n\n"] {
            std::fs::write(&file, text).unwrap();
            assert!(matches!(
                CallerTokens::from_config(&auth),
                Err(AuthConfigError::NoTokensInFile(_))
            ));
        }
        std::fs::write(&file, "t".repeat(MAX_TOKENS_FILE as usize + 1)).unwrap();
        assert!(matches!(
            CallerTokens::from_config(&auth),
            Err(AuthConfigError::TokensFileTooLarge(_))
        ));
        // A FIFO is refused at once, not waited on.
        std::fs::remove_file(&file).unwrap();
        let made = std::process::Command::new("mkfifo").arg(&file).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(matches!(
                CallerTokens::from_config(&auth),
                Err(AuthConfigError::TokensFile(_))
            ));
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
