//! Semantic analysis: packages and imports, name resolution, types and
//! schemas, flow typing of optionals, recursion checks, attributes — and the
//! lowering of a checked policy set to [`warden_ir::Program`].
//!
//! Pure functions over parsed files: no salsa, no IO (JSON Schema files come
//! through [`SchemaLoader`]), no evaluation. Analysis always returns a program
//! and every diagnostic; a program with errors must never be evaluated.

mod assemble;
mod check;
mod consts;
mod declare;
mod env;
mod graph;
mod index;
mod lints;
mod lower;
mod messages;
mod rule_table;
mod semantic;
mod suite;

pub use assemble::{assemble, tests_of};
pub use declare::{Declarations, declare, is_base_type};
pub use env::Environment;
pub use lints::policy_lints;
pub use lower::{FileChecked, check_file};
pub use rule_table::{RuleTable, rule_table};
pub use semantic::{
    Meaning, Occurrence, Positions, definition, file_types, occurrence_at, occurrence_ending_at,
    type_text,
};
use std::sync::Arc;
pub use suite::{Expectation, Test, TestInput, apply_patches};
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
    /// Where its lines start (the database's `line_index` query).
    pub line_index: Arc<warden_diagnostics::LineIndex>,
    /// Record what its names mean ([`Occurrence`]s: the table an editor
    /// reads). A batch run leaves it off and keeps no table.
    pub meanings: bool,
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
///
/// The passes, which a database can run and keep apart ([`declare`] for the
/// set, [`rule_table`], [`check_file`] for each file, [`assemble`]), so an
/// edit re-checks only the files it can change: a file's check reads the
/// position-free [`Environment`] and [`RuleTable`], never another file.
pub fn analyze(
    files: &[SourceInput<'_>],
    schemas: &dyn SchemaLoader,
) -> (Program, Vec<Diagnostic>) {
    let declarations = declare(files, schemas);
    let trees: Vec<(FileId, &SourceFile)> = files.iter().map(|f| (f.file, f.tree)).collect();
    let table = rule_table(&declarations.env, &trees);
    let checked: Vec<FileChecked> = files
        .iter()
        .map(|file| check_file(&declarations.env, &table, file))
        .collect();
    let program = assemble(
        &declarations,
        &table,
        files,
        &checked.iter().collect::<Vec<_>>(),
    );
    let mut diagnostics = declarations.diagnostics.clone();
    for file in &checked {
        diagnostics.extend(file.diagnostics.iter().cloned());
    }
    warden_diagnostics::sort(&mut diagnostics);
    (program, diagnostics)
}
