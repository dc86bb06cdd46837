//! What an editor asks of a policy set: diagnostics, symbols, hover,
//! completion, definitions and formatting. Answers come from the same salsa
//! queries as `warden lint` (`warden-db`), so the editor shows exactly what
//! the CLI prints. Offsets here are byte offsets; the language server
//! converts to and from UTF-16 positions at its edge.

mod complete;
mod highlight;
mod hover;
mod navigate;
mod run;
mod symbols;

pub use complete::{Completion, CompletionKind};
pub use highlight::Highlight;
pub use run::{Impact, Lens, LensKind, evaluate, impact, run_tests};
pub use symbols::{Symbol, SymbolKind};
pub use warden_db::Cancelled;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use warden::Workspace;
use warden_db::{Database, PolicySet, SourceFile};
use warden_diagnostics::{Diagnostic, LineIndex, TextRange};
use warden_syntax::Parse;

/// The files of a workspace, kept in the compiler database by the
/// facade's [`warden::Workspace`] (the loader the CLI and the server use).
///
/// Cloning gives a snapshot: another handle on the same database, for
/// answering a request on another thread. Changing a file through the host
/// cancels every snapshot's queries (they unwind with [`Cancelled`], which
/// [`Cancelled::catch`] turns into an error) and waits until the snapshots
/// are dropped, so an answer is never computed from a mix of old and new
/// text.
#[derive(Clone)]
pub struct AnalysisHost {
    workspace: Workspace,
}

impl Default for AnalysisHost {
    fn default() -> Self {
        AnalysisHost::on(Workspace::default())
    }
}

/// A diagnostic of one file, ready to show.
#[derive(Clone, Debug, PartialEq)]
pub struct FileDiagnostic {
    pub range: TextRange,
    pub diagnostic: Diagnostic,
    /// Its secondary labels: the file, the range and what the label says.
    pub related: Vec<(String, TextRange, String)>,
}

impl AnalysisHost {
    /// A host that records which queries run (for incremental-reuse tests).
    pub fn with_query_log() -> Self {
        AnalysisHost::on(Workspace::with_query_log())
    }

    /// The editor's queries read what each name means: the workspace's
    /// checks record it.
    fn on(mut workspace: Workspace) -> Self {
        workspace.record_meanings();
        AnalysisHost { workspace }
    }

    /// The queries executed since the last call.
    pub fn take_query_log(&self) -> Vec<String> {
        self.workspace.take_query_log()
    }

    /// Adds or updates a policy file (`path` as the editor names it).
    pub fn set_file(&mut self, path: &str, text: &str) {
        self.workspace.set_file(path, text);
    }

    /// Forgets a file.
    pub fn remove_file(&mut self, path: &str) {
        self.workspace.remove_file(path);
    }

    /// Reads the JSON files the policies name (schemas, data defaults)
    /// inside `root`, the workspace folder, as `warden check` reads them.
    pub fn read_named_files(&mut self, root: &Path) {
        self.workspace
            .set_folders(warden::PolicyFolders::single(root));
        self.workspace.read_named_files();
    }

    pub(crate) fn db(&self) -> &Database {
        self.workspace.database().0
    }

    pub(crate) fn set(&self) -> PolicySet {
        self.workspace.database().1
    }

    pub(crate) fn file(&self, path: &str) -> Option<SourceFile> {
        self.workspace.file(path)
    }

    /// The paths of the files held.
    pub fn paths(&self) -> Vec<String> {
        self.workspace.paths().map(str::to_string).collect()
    }

    /// The text of a file.
    pub fn text(&self, path: &str) -> Option<Arc<str>> {
        self.workspace.text(path)
    }

    pub(crate) fn parse(&self, path: &str) -> Option<&Parse> {
        Some(warden_db::parse_file(self.db(), self.file(path)?))
    }

    /// What the names of a file mean, in order: its semantic table.
    pub(crate) fn table(&self, path: &str) -> &[warden_sema::Occurrence] {
        match self.file(path) {
            Some(file) => warden_db::semantic_table(self.db(), self.set(), file),
            None => &[],
        }
    }

    /// What the name at `offset` means, from the semantic table.
    pub fn occurrence(&self, path: &str, offset: usize) -> Option<warden_sema::Occurrence> {
        warden_sema::occurrence_at(self.table(path), offset as u32).cloned()
    }

    /// The set's declarations (the environment and where things are).
    pub(crate) fn declarations(&self) -> &warden_sema::Declarations {
        warden_db::declarations(self.db(), self.set())
    }

    /// A file's check (for the record types it made).
    pub(crate) fn checked(&self, path: &str) -> Option<&warden_sema::FileChecked> {
        Some(warden_db::check_file(
            self.db(),
            self.set(),
            self.file(path)?,
        ))
    }

    pub(crate) fn program(&self) -> &warden_ir::Program {
        &warden_db::compile(self.db(), self.set()).program
    }

    /// The path of a file of the set, by id.
    pub(crate) fn path_of(&self, id: warden_diagnostics::FileId) -> Option<&str> {
        self.workspace
            .paths()
            .find(|path| self.file(path).is_some_and(|f| f.id(self.db()) == id))
    }

    /// Every diagnostic `warden lint` reports for the set, by file path.
    pub fn diagnostics(&self) -> BTreeMap<String, Vec<FileDiagnostic>> {
        let mut by_file: BTreeMap<String, Vec<FileDiagnostic>> = self
            .workspace
            .paths()
            .map(|path| (path.to_string(), Vec::new()))
            .collect();
        let paths: BTreeMap<warden_diagnostics::FileId, &str> = self
            .workspace
            .paths()
            .filter_map(|path| Some((self.file(path)?.id(self.db()), path)))
            .collect();
        for diagnostic in self.workspace.lint() {
            if let Some(path) = paths.get(&diagnostic.primary.span.file) {
                by_file
                    .entry((*path).to_string())
                    .or_default()
                    .push(FileDiagnostic {
                        range: diagnostic.primary.span.range,
                        diagnostic: diagnostic.clone(),
                        related: diagnostic
                            .secondary
                            .iter()
                            .filter_map(|label| {
                                let path = paths.get(&label.span.file)?;
                                Some((path.to_string(), label.span.range, label.message.clone()))
                            })
                            .collect(),
                    });
            }
        }
        by_file
    }

    /// The file in canonical layout, or `None` when it has syntax errors or
    /// is already formatted.
    pub fn format(&self, path: &str) -> Option<String> {
        let text = self.text(path)?;
        let formatted = warden_syntax::format_source(&text).ok()?;
        (formatted != *text).then_some(formatted)
    }

    /// The line index of a file, for position conversions.
    pub fn line_index(&self, path: &str) -> Option<(Arc<LineIndex>, Arc<str>)> {
        let file = self.file(path)?;
        let index = warden_db::line_index(self.db(), file).clone();
        Some((index, file.text(self.db()).clone()))
    }

    /// The declarations of a file.
    pub fn symbols(&self, path: &str) -> Vec<Symbol> {
        self.parse(path)
            .map(|parse| symbols::symbols(parse.tree()))
            .unwrap_or_default()
    }

    /// The declarations of every file whose name contains `query`.
    pub fn workspace_symbols(&self, query: &str) -> Vec<(String, Symbol)> {
        let query = query.to_lowercase();
        self.workspace
            .paths()
            .flat_map(|path| {
                self.symbols(path)
                    .into_iter()
                    .filter(|s| s.name.to_lowercase().contains(&query))
                    .map(move |s| (path.to_string(), s))
            })
            .collect()
    }

    /// Quick fixes for the diagnostics of `path` that touch `range`: the
    /// suggested spelling for a did-you-mean, a `@control` for a rule
    /// without one. Each is a title and its edits (range, new text).
    pub fn fixes(&self, path: &str, range: TextRange) -> Vec<(String, Vec<(TextRange, String)>)> {
        let Some(found) = self.diagnostics().remove(path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for f in found {
            let overlaps = f.range.start <= range.end && range.start <= f.range.end;
            if !overlaps {
                continue;
            }
            if let Some(suggestion) = f
                .diagnostic
                .help
                .as_deref()
                .and_then(|h| h.strip_prefix("did you mean `"))
                .and_then(|h| h.split_once('`'))
                .map(|(name, _)| name.to_string())
            {
                out.push((
                    format!("Change to `{suggestion}`"),
                    vec![(f.range, suggestion)],
                ));
            }
            if f.diagnostic.code == warden_diagnostics::Code::W0002 {
                // Above the rule's first line (its attributes included).
                let start = self
                    .symbols(path)
                    .into_iter()
                    .find(|s| {
                        s.selection == f.range
                            || s.range.start <= f.range.start && f.range.end <= s.range.end
                    })
                    .map_or(f.range.start, |s| s.range.start);
                let text = self.text(path).unwrap_or_default();
                let line_start = text[..start as usize].rfind('\n').map_or(0, |i| i + 1);
                out.push((
                    "Add `@control(\"…\")`".to_string(),
                    vec![(
                        TextRange::new(line_start, line_start),
                        "@control(\"TODO\")\n".to_string(),
                    )],
                ));
            }
        }
        out
    }
}
