//! Warden: a typed policy language and its engine.
//!
//! Compile a policy set once, then decide many inputs against it, from any
//! number of threads:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = warden::Engine::from_dir("policies")?;
//! let input = serde_json::json!({"principal": {"id": "u-1"}, "action": "read"});
//! let decision = engine.decide("request", &input, std::time::SystemTime::now())?;
//! println!("{}", serde_json::to_string_pretty(&decision)?);
//! # Ok(()) }
//! ```
//!
//! [`Engine`] is `Send + Sync`; share it behind an `Arc` and swap it whole to
//! reload. Every decision has the JSON shape of [`Decision`].
//!
//! Large data and inputs that arrive as text are read in one pass, with no
//! JSON tree in between: [`Engine::with_data_arg`] streams a data file from
//! disk (and [`Engine::with_data_arg_reusing`] shares an unchanged file's
//! values with the engine it replaces), [`Engine::decide_text`] decides JSON
//! text:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = warden::Engine::from_dir("policies")?
//!     .with_data_arg("catalog=catalog.json", &warden::InputLimits::DATA)?;
//! let body = r#"{"principal": {"id": "u-1"}, "action": "read"}"#;
//! let decision = engine.decide_text(
//!     "request",
//!     body,
//!     std::time::SystemTime::now(),
//!     &warden::DecideOptions::default(),
//! )?;
//! # let _ = decision;
//! # Ok(()) }
//! ```
//!
//! A server that decides small requests on the thread that read them, and
//! moves the rest elsewhere, asks [`Engine::decide_text_within`] (or
//! [`Engine::decide_within`] for a parsed input) for a decision within a
//! number of steps: `None` means it needs more, and deciding again with the
//! whole budget reaches the same decision.
//!
//! Rules run compiled: each rule's conditions become nodes once, when the
//! engine is built. [`DecideOptions::tree_walk`] runs the tree walker
//! instead; the two give the same decision at the same cost in steps, and an
//! explained decision always walks the tree.

#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

mod base;
mod data;
mod decision;
mod document;
mod engine;
mod error;
mod files;
mod limits;
mod report;
mod revision;
mod source;
mod testing;
mod workspace;

pub use base::{BaseCheckout, checkout_base};
pub use decision::{
    Decision, FindingReport, Location, TraceStep, UNDECLARED_FIELD_RULE, Verdict, WaiverReport,
};
pub use document::{
    Document, Positions, parse_document, parse_document_with, parse_json_paths, parse_json_with,
    read_data_arg, read_data_arg_with, split_data_arg,
};
pub use engine::{DecideOptions, Engine, RuleInfo, TargetInfo, WaiverInfo, micros, parse_now};
pub use error::{DecideError, EngineError, PathError};
pub use files::{
    Skipped, Walk, confined, files_below, open_regular_file, read_file_bounded, read_stdin_bounded,
    read_text, replace_file, shown_text,
};
pub use limits::InputLimits;
pub use report::{DiagnosticReport, Place, RelatedPlace};
pub use revision::{hex as sha256_hex, sha256_text};
pub use source::PolicySources;
pub use testing::{
    ClauseCoverage, Coverage, PolicyFolders, RuleCoverage, TestCase, TestFailure, TestResult,
    TestRun, TestStatus, TestSummary, read_fixture,
};
pub use warden_diagnostics::{Code, Diagnostic, Severity as DiagnosticSeverity};
pub use warden_ir::{CostBound, Effect, Severity, UndeclaredFields};
pub use workspace::Workspace;
