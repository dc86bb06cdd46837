//! The engine for JavaScript (`wasm32-unknown-unknown`, wasm-bindgen): no
//! file system, no threads, no clock. Policies arrive as texts by path,
//! documents as JSON text, and the time of a decision from the caller; the
//! JavaScript wrapper (`js/warden.js`) parses what comes back and throws
//! a `WardenError` carrying the code and the coded diagnostics.

use std::time::{Duration, UNIX_EPOCH};
use warden::{DecideOptions, InputLimits, PolicySources, Workspace};
use wasm_bindgen::prelude::*;

/// An error as JSON text: `{"code", "message", "diagnostics"}`.
fn error(code: Option<warden::Code>, message: String, diagnostics: serde_json::Value) -> JsValue {
    JsValue::from_str(
        &serde_json::json!({
            "code": code.map(|c| c.to_string()),
            "message": message,
            "diagnostics": diagnostics,
        })
        .to_string(),
    )
}

fn engine_error(e: warden::EngineError) -> JsValue {
    error(e.code(), e.to_string(), serde_json::json!([]))
}

/// Policy texts by path, from a JSON object `{"path.warden": "text", ...}`
/// (paths relative to the policy folder).
fn sources(files: &str) -> Result<Workspace, JsValue> {
    let files: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(files).map_err(|e| {
            error(
                None,
                format!("files: not a JSON object of texts by path: {e}"),
                serde_json::json!([]),
            )
        })?;
    // `*.warden` files are the policies; any other file is a JSON file they
    // may name (`schema "…"`, `file("…")`), by its path.
    let (mut policies, mut named) = (Vec::new(), std::collections::BTreeMap::new());
    for (path, text) in files {
        // A file that is not text (a Buffer read without an encoding) is an
        // error: read as nothing, its rules would silently not apply.
        let Some(text) = text.as_str().map(str::to_string) else {
            return Err(error(
                None,
                format!(
                    "files: `{path}` is not a string (read files as text: readFileSync(path, 'utf8'))"
                ),
                serde_json::json!([]),
            ));
        };
        if path.ends_with(".warden") {
            policies.push((path, text));
        } else {
            named.insert(path, Ok(text));
        }
    }
    let mut workspace = Workspace::from_sources(PolicySources::from_texts(policies));
    workspace.set_named_files(named);
    Ok(workspace)
}

/// Every diagnostic of a set of policy texts, as JSON (a list of coded
/// diagnostics with places): what an editor shows as the user types.
#[wasm_bindgen]
pub fn diagnostics(files: &str) -> Result<String, JsValue> {
    let workspace = sources(files)?;
    Ok(
        serde_json::to_string(&workspace.reports(workspace.diagnostics()))
            .unwrap_or_else(|_| "[]".into()),
    )
}

/// A compiled policy set and its data.
#[wasm_bindgen]
pub struct Engine {
    engine: warden::Engine,
}

#[wasm_bindgen]
impl Engine {
    /// Compiles policy texts by path (JSON), then merges `data` (JSON text
    /// of an object: `{"catalog": {...}}` becomes `data.catalog`).
    pub fn compile(files: &str, data: Option<String>) -> Result<Engine, JsValue> {
        let workspace = sources(files)?;
        let mut engine = match workspace.engine() {
            Ok(engine) => engine,
            Err(e) => {
                let warden::EngineError::Compile { diagnostics } = &e else {
                    return Err(engine_error(e));
                };
                let code = diagnostics.iter().find(|d| d.is_error()).map(|d| d.code);
                let reports =
                    serde_json::to_value(workspace.reports(diagnostics)).unwrap_or_default();
                return Err(error(code, e.to_string(), reports));
            }
        };
        if let Some(data) = data {
            let document = warden::parse_json_with("data", data.as_bytes(), &InputLimits::DATA)
                .map_err(engine_error)?;
            engine = engine.with_data(&document).map_err(engine_error)?;
        }
        Ok(Engine { engine })
    }

    /// One decision for `input` (JSON text) against `target` at `now_ms`
    /// (milliseconds since the epoch, as `Date.now()` gives): the decision JSON.
    pub fn decide(
        &self,
        target: &str,
        input: &str,
        now_ms: f64,
        explain: bool,
    ) -> Result<String, JsValue> {
        // WebAssembly's clock type holds no time before 1970.
        let micros = (now_ms * 1000.0).round();
        if !micros.is_finite() || micros < 0.0 || !warden_ir::is_rfc3339_time(micros as i64) {
            return Err(error(
                None,
                format!(
                    "now: {now_ms} ms is not a time from 1970 to 9999 (WebAssembly takes no earlier one)"
                ),
                serde_json::json!([]),
            ));
        }
        let now = UNIX_EPOCH + Duration::from_micros(micros as u64);
        let options = DecideOptions {
            explain,
            ..DecideOptions::default()
        };
        let decision = self
            .engine
            .decide_text(target, input, now, &options)
            .map_err(|e| error(Some(e.code()), e.to_string(), serde_json::json!([])))?;
        Ok(serde_json::to_string(&decision).unwrap_or_default())
    }

    /// The policy sources' revision (`sha256:…`).
    pub fn revision(&self) -> String {
        self.engine.revision().to_string()
    }
}

/// Parses an RFC 3339 time into milliseconds since the epoch (for callers
/// that hold the corpus's `now` as text).
#[wasm_bindgen(js_name = parseTime)]
pub fn parse_time(text: &str) -> Option<f64> {
    // Read as microseconds: a time before 1970 is a number here (which
    // `decide` then refuses with a message), never a trap.
    let micros = warden_ir::parse_time(text).filter(|&m| warden_ir::is_rfc3339_time(m))?;
    Some(micros as f64 / 1000.0)
}
