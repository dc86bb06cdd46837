//! The decision corpus format, shared by the runner that goes through the
//! library and the one that goes through the `warden` binary, so both check
//! the very same expectations.
//!
//! A suite is `tests/decisions/<suite>/` with the policy set in `policy/` and
//! one case per `cases/*.json`:
//!
//! ```json
//! { "note": "why this case exists", "target": "request", "now": "2026-06-01T00:00:00Z",
//!   "input": { ... }, "data": { ... }, "explain": false }
//! ```
//!
//! The expected outcome sits beside the case as `<case>.decision` (the
//! decision JSON without its volatile fields, or `error <code>` and the
//! message); `UPDATE_EXPECT=1` rewrites it.

use serde::Deserialize;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub note: String,
    pub target: String,
    pub now: String,
    pub input: Json,
    #[serde(default)]
    pub data: Option<Json>,
    /// Data files relative to the suite folder.
    #[serde(default)]
    pub data_files: Vec<String>,
    #[serde(default)]
    pub explain: bool,
}

impl Case {
    pub fn load(path: &Path) -> Case {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a decision case: {e}", path.display()))
    }
}

/// The suite folder of a case file (`<suite>/cases/x.json` → `<suite>`).
pub fn suite_dir(case: &Path) -> PathBuf {
    case.parent()
        .and_then(Path::parent)
        .expect("cases live in <suite>/cases/")
        .to_path_buf()
}

/// The expectation file beside a case.
pub fn expectation_path(case: &Path) -> PathBuf {
    std::path::absolute(case.with_extension("decision")).expect("absolute path")
}

/// The decision JSON as the corpus compares it: volatile fields removed.
pub fn project_decision(mut decision: Json) -> String {
    if let Json::Object(map) = &mut decision {
        map.remove("decision_id");
        map.remove("policy_revision");
        map.remove("data_revision");
    }
    serde_json::to_string_pretty(&decision).expect("JSON prints") + "\n"
}

/// An input that could not be decided, as the corpus compares it.
pub fn project_error(code: &str, message: &str) -> String {
    format!("error {code}\n{message}\n")
}
