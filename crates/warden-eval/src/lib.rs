//! The one evaluator. It walks [`warden_ir::Program`] for one input and one
//! target and returns an [`Outcome`]: findings, warnings, waived findings,
//! obligations. It depends on the IR only: no syntax, no salsa, no JSON, no
//! clock (the caller passes `now`), no IO.
//!
//! Invariant: evaluation is total. Every problem (budget exceeded, a builtin
//! failing) becomes a `deny` finding carrying an `E05xx` code: it fails closed.

mod compiled;
mod decide;
mod eval;

pub use compiled::Compiled;
pub use decide::{DataWaiver, Finding, Options, Outcome, Reason, WaivedFinding, WaiverRef, decide};
pub use eval::{EvalError, TraceEntry};
pub use warden_ir::builtins::{StringPaths, string_paths};
