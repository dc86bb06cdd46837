//! `warden fleet status URL...`: one line per replica, from its
//! `/v1/status`, so an operator sees at a glance which replicas lag.

use crate::{Failure, print_out};
use serde_json::{Value as Json, json};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub(crate) enum FleetCommand {
    /// Ask each replica for its `/v1/status`: what it serves, whether its
    /// bundle source and log sinks keep up. Exit 1 when one is not `ok`:
    /// it lags, its bundle fetch or its log shipping fails, it is not ready,
    /// or it does not answer.
    Status {
        /// Each replica's base URL (`http://10.0.0.7:8181`).
        #[arg(required = true, value_name = "URL")]
        urls: Vec<String>,
        /// `text` (default) or `json`.
        #[arg(long, value_enum, default_value = "text")]
        format: crate::bundle::VerifyFormat,
        /// How long to wait for each replica, in milliseconds.
        #[arg(long, default_value_t = 5_000)]
        timeout_ms: u64,
    },
}

/// The largest status answer read.
const STATUS_BYTES: u64 = 1 << 20;

/// One replica's answer, or why there is none.
fn ask(agent: &ureq::Agent, base: &str) -> Result<Json, String> {
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err("not a URL: give it with http:// or https://".into());
    }
    let url = format!("{}/v1/status", base.trim_end_matches('/'));
    let mut response = agent.get(&url).call().map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    let text = response
        .body_mut()
        .with_config()
        .limit(STATUS_BYTES)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("not a status: {e}"))
}

/// What a replica serves: its bundle revision, else its policy revision.
fn serving(status: &Json) -> Option<&str> {
    status["bundle_revision"]
        .as_str()
        .or_else(|| status["policy_revision"].as_str())
}

/// `sha256:0123456789ab` for a table.
fn short(revision: &str) -> String {
    revision.chars().take(19).collect()
}

/// A replica's text as a terminal may show it: no control characters (a
/// hostile replica's escape sequences), at most `longest` characters.
fn shown(text: &str, longest: usize) -> String {
    text.chars()
        .take(longest)
        .map(|c| {
            // Control characters, and the invisible ones that reorder or
            // hide text (bidirectional overrides, zero-width characters).
            let hiding = matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}' | '\u{feff}');
            if c.is_control() || hiding { '?' } else { c }
        })
        .collect()
}

/// When a replica says its bundle was built; none for a time to come (a
/// replica's clock, or its claim, is not believed past a few minutes ahead).
fn built_at(status: &Json) -> Option<jiff::Timestamp> {
    let at: jiff::Timestamp = status["bundle"]["built_at"].as_str()?.parse().ok()?;
    let soon = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_mins(5))
        .ok()?;
    (at <= soon).then_some(at)
}

pub(crate) fn status(
    urls: &[String],
    format: crate::bundle::VerifyFormat,
    timeout_ms: u64,
) -> Result<ExitCode, Failure> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(timeout_ms.max(1))))
        .http_status_as_error(false)
        .build()
        .into();
    // Replicas are asked at once: one that hangs costs its timeout, not the sum.
    let answers: Vec<Result<Json, String>> = std::thread::scope(|scope| {
        let asking: Vec<_> = urls
            .iter()
            .map(|url| {
                let agent = agent.clone();
                scope.spawn(move || ask(&agent, url))
            })
            .collect();
        asking
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("the request failed".into()))
            })
            .collect()
    });
    // The newest revision: the one built last, else the one most replicas serve.
    let newest = answers
        .iter()
        .filter_map(|a| a.as_ref().ok())
        .max_by_key(|s| {
            let built = built_at(s);
            let agree = answers
                .iter()
                .filter_map(|a| a.as_ref().ok())
                .filter(|o| serving(o) == serving(s))
                .count();
            (built, agree)
        })
        .and_then(serving)
        .map(str::to_string);
    let mut rows = Vec::new();
    let mut healthy = true;
    for (url, answer) in urls.iter().zip(&answers) {
        let row = match answer {
            Err(why) => {
                healthy = false;
                json!({ "url": url, "state": "unreachable", "error": why })
            }
            Ok(status) => {
                let revision = serving(status);
                let lags = newest.is_some() && revision != newest.as_deref();
                let ready = status["status"] == "ready";
                let bundle = &status["bundle"];
                let sinks = status["shipping"].as_array().cloned().unwrap_or_default();
                // The slowest sink's queue: each sink takes the same lines.
                let queue = sinks
                    .iter()
                    .filter_map(|s| s["queue_depth"].as_u64())
                    .max()
                    .unwrap_or(0);
                let ship_error = sinks.iter().find_map(|s| {
                    let error = s["last_error"].as_str()?;
                    Some(format!("{}: {error}", s["sink"].as_str().unwrap_or("sink")))
                });
                let lag = status["shipping"].as_array().map_or(0.0, |s| {
                    s.iter()
                        .filter_map(|s| s["lag_seconds"].as_f64())
                        .fold(0.0, f64::max)
                });
                let fetch = bundle["last_result"].as_str();
                let state = if !ready {
                    "not-ready"
                } else if lags {
                    "lags"
                } else if matches!(fetch, Some("failed" | "refused")) {
                    "fetch-failing"
                } else if ship_error.is_some() {
                    "ship-failing"
                } else {
                    "ok"
                };
                healthy &= state == "ok";
                json!({
                    "url": url,
                    "state": state,
                    "revision": revision,
                    "bundle_source": bundle["source"],
                    "last_fetch": bundle["last_result"],
                    "fetch_error": bundle["last_error"]["message"],
                    "ship_error": ship_error,
                    "ship_queue": queue,
                    "ship_lag_seconds": lag,
                })
            }
        };
        rows.push(row);
    }
    match format {
        crate::bundle::VerifyFormat::Json => {
            print_out(&json!({ "newest": newest, "replicas": rows }).to_string())
        }
        crate::bundle::VerifyFormat::Text => {
            let width = urls.iter().map(String::len).max().unwrap_or(0).max(7);
            let mut out = format!(
                "{:<width$}  {:<13}  {:<19}  {:<14}  {:>10}  {:>8}  ERROR\n",
                "REPLICA", "STATE", "REVISION", "LAST FETCH", "SHIP QUEUE", "SHIP LAG"
            );
            for row in &rows {
                let text = |key: &str| shown(row[key].as_str().unwrap_or("-"), 200);
                let error = row["error"]
                    .as_str()
                    .or_else(|| row["fetch_error"].as_str())
                    .or_else(|| row["ship_error"].as_str())
                    .unwrap_or("");
                let (queue, lag) =
                    match (row["ship_queue"].as_u64(), row["ship_lag_seconds"].as_f64()) {
                        (Some(queue), Some(lag)) => (queue.to_string(), format!("{lag:.1}s")),
                        _ => ("-".to_string(), "-".to_string()),
                    };
                out.push_str(&format!(
                    "{:<width$}  {:<13}  {:<19}  {:<14}  {:>10}  {:>8}  {}\n",
                    text("url"),
                    text("state"),
                    short(&text("revision")),
                    text("last_fetch"),
                    queue,
                    lag,
                    shown(error, 240),
                ));
            }
            if let Some(newest) = &newest {
                out.push_str(&format!("newest revision: {}", shown(newest, 80)));
            }
            print_out(out.trim_end());
        }
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
