//! Semantic analysis: packages and imports, name resolution, types and
//! schemas, flow typing of optionals, recursion checks, attributes — and the
//! lowering of a checked policy set to [`warden_ir::Program`].
//!
//! Pure functions over parsed files: no salsa, no IO (JSON Schema files come
//! through [`SchemaLoader`]), no evaluation. Analysis always returns a program
//! and every diagnostic; a program with errors must never be evaluated.

mod builtins;
mod check;
mod collect;
mod consts;
mod index;
mod lints;
mod schema;
mod types;

pub use lints::policy_lints;
use std::sync::Arc;
use warden_diagnostics::{Diagnostic, FileId};
use warden_ir::Program;
use warden_syntax::ast::SourceFile;

/// One parsed policy file handed to the analysis.
pub struct SourceInput<'a> {
    pub file: FileId,
    /// The path shown to users, relative to the policy folder.
    pub path: String,
    pub text: Arc<str>,
    pub tree: &'a SourceFile,
}

/// Reads the JSON Schema files that `schema "…"` types name.
pub trait SchemaLoader {
    /// The text of `path`, resolved against the policy file `from`.
    fn load(&self, from: &str, path: &str) -> Result<String, String>;
}

/// A loader for policy sets that name no schema files.
pub struct NoSchemas;

impl SchemaLoader for NoSchemas {
    fn load(&self, _from: &str, path: &str) -> Result<String, String> {
        Err(format!("no schema files are available here (`{path}`)"))
    }
}

/// Checks a whole policy set and lowers it. The program is meaningful only
/// when no diagnostic is an error.
pub fn analyze(
    files: &[SourceInput<'_>],
    schemas: &dyn SchemaLoader,
) -> (Program, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let program = collect::Analysis::run(files, schemas, &mut diagnostics);
    warden_diagnostics::sort(&mut diagnostics);
    (program, diagnostics)
}
