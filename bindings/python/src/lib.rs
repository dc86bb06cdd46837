//! `warden._native`: the engine for Python. Documents cross as JSON text
//! (the Python side parses and prints them with its `json` module), so a
//! decision is exactly the decision JSON every other entry point gives;
//! the GIL is released while compiling, deciding and testing, so Python
//! threads decide in parallel.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::time::SystemTime;
use warden::{DecideOptions, Engine, InputLimits, PolicyFolders, Workspace};

create_exception!(
    _native,
    NativeError,
    PyException,
    "An error from the engine: (code, message, diagnostics JSON)."
);

/// The error raised to Python: its code (`E0204`), message, and the coded
/// diagnostics as JSON (a list; empty unless the policies do not compile).
fn error(code: Option<warden::Code>, message: String, diagnostics: String) -> PyErr {
    NativeError::new_err((code.map(|c| c.to_string()), message, diagnostics))
}

fn engine_error(e: warden::EngineError) -> PyErr {
    error(e.code(), e.to_string(), "[]".to_string())
}

fn decide_error(e: warden::DecideError) -> PyErr {
    error(Some(e.code()), e.to_string(), "[]".to_string())
}

/// `value` as JSON text for the Python side to parse.
fn json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| error(None, e.to_string(), "[]".to_string()))
}

fn parse_now(now: Option<&str>) -> PyResult<SystemTime> {
    match now {
        None => Ok(SystemTime::now()),
        Some(text) => warden::parse_now(text).ok_or_else(|| {
            error(
                None,
                format!("now: `{text}` is not an RFC 3339 time (2026-06-01T00:00:00Z)"),
                "[]".into(),
            )
        }),
    }
}

/// A compiled policy set and its data: immutable, shared by every thread.
#[pyclass(frozen, module = "warden._native")]
struct NativeEngine {
    engine: Engine,
    folders: PolicyFolders,
    /// The compile's warnings (lints, and files skipped: W0006) as JSON.
    warnings: String,
}

#[pymethods]
impl NativeEngine {
    /// Compiles the policies under `paths`, then merges each data document
    /// (JSON text of an object, as `--data FILE` merges a file) and each
    /// data argument (`FILE` or `NAME=FILE`, as the CLI takes them).
    #[staticmethod]
    fn compile(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        data: Vec<String>,
        data_args: Vec<String>,
    ) -> PyResult<NativeEngine> {
        py.detach(|| {
            let workspace = Workspace::read(&paths).map_err(engine_error)?;
            let mut engine = match workspace.engine() {
                Ok(engine) => engine,
                Err(e) => {
                    let warden::EngineError::Compile { diagnostics } = &e else {
                        return Err(engine_error(e));
                    };
                    let reports = workspace.reports(diagnostics);
                    let code = diagnostics.iter().find(|d| d.is_error()).map(|d| d.code);
                    let reports = serde_json::to_string(&reports).unwrap_or_else(|_| "[]".into());
                    return Err(error(code, e.to_string(), reports));
                }
            };
            for text in &data {
                let document = warden::parse_json_with("data", text.as_bytes(), &InputLimits::DATA)
                    .map_err(engine_error)?;
                engine = engine.with_data(&document).map_err(engine_error)?;
            }
            for arg in &data_args {
                engine = engine
                    .with_data_arg(arg, &InputLimits::DATA)
                    .map_err(engine_error)?;
            }
            // What `warden compile` prints as warnings: the lints, and each
            // file of the folder left out (not a regular file, a link out,
            // a name that is not UTF-8).
            let mut warnings = serde_json::to_value(workspace.reports(engine.warnings()))
                .unwrap_or_else(|_| serde_json::json!([]));
            if let Some(list) = warnings.as_array_mut() {
                for skipped in workspace.skipped() {
                    list.push(serde_json::json!({
                        "code": "W0006",
                        "severity": "warning",
                        "message": skipped.to_string(),
                        "file": skipped.path.display().to_string(),
                    }));
                }
            }
            Ok(NativeEngine {
                engine,
                folders: workspace.folders().clone(),
                warnings: warnings.to_string(),
            })
        })
    }

    /// One decision for `input` (JSON text) against `target`: the decision
    /// JSON. `budget` bounds the evaluation steps (default: the engine's);
    /// a decision out of budget is a denial, as everywhere.
    #[pyo3(signature = (target, input, now=None, explain=false, budget=None))]
    fn decide(
        &self,
        py: Python<'_>,
        target: &str,
        input: &str,
        now: Option<&str>,
        explain: bool,
        budget: Option<u64>,
    ) -> PyResult<String> {
        let now = parse_now(now)?;
        py.detach(|| {
            let defaults = DecideOptions::default();
            let options = DecideOptions {
                explain,
                budget: budget.unwrap_or(defaults.budget),
                ..defaults
            };
            let decision = self
                .engine
                .decide_text(target, input, now, &options)
                .map_err(decide_error)?;
            json(&decision)
        })
    }

    /// A manifest file (YAML or JSON) decided against the `manifest` target,
    /// as `warden check` decides it: the decision JSON.
    #[pyo3(signature = (path, now=None))]
    fn check(&self, py: Python<'_>, path: PathBuf, now: Option<&str>) -> PyResult<String> {
        let now = parse_now(now)?;
        py.detach(|| {
            let name = path.display().to_string();
            let text = warden::read_file_bounded(&path, InputLimits::INPUT.max_bytes)
                .map_err(engine_error)?;
            let document = warden::parse_document(&name, &text).map_err(engine_error)?;
            let decision = self
                .engine
                .decide("manifest", &document, now)
                .map_err(decide_error)?;
            json(&decision)
        })
    }

    /// The policy set's `test` blocks, run: the JSON of `warden test --format json`'s run.
    #[pyo3(signature = (filter=None))]
    fn run_tests(&self, py: Python<'_>, filter: Option<&str>) -> PyResult<String> {
        py.detach(|| {
            let run = self.engine.run_tests(Some(&self.folders), filter);
            json(&run)
        })
    }

    /// The compile's warnings, as JSON: coded diagnostics, and the files
    /// of the folder that were left out (W0006).
    #[getter]
    fn warnings(&self) -> String {
        self.warnings.clone()
    }

    /// The policy sources' revision (`sha256:…`), as decisions carry it.
    #[getter]
    fn revision(&self) -> String {
        self.engine.revision().to_string()
    }

    /// The targets, as JSON: `[{"name", "default_allow"}]`.
    fn targets(&self) -> PyResult<String> {
        json(&self.engine.targets())
    }

    /// The rules, as JSON: name, target, severity, control, documentation.
    fn rules(&self) -> PyResult<String> {
        json(&self.engine.rules())
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeEngine>()?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
