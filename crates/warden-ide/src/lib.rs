//! What an editor asks of a policy set: diagnostics, symbols, hover,
//! completion, definitions and formatting. Answers come from the same salsa
//! queries as `warden lint` (`warden-db`), so the editor shows exactly what
//! the CLI prints. Offsets here are byte offsets; the language server
//! converts to and from UTF-16 positions at its edge.

mod names;

pub use names::{Completion, CompletionKind, Symbol, SymbolKind};

use std::collections::BTreeMap;
use std::sync::Arc;
use warden_db::{Database, PolicySet, SourceFile};
use warden_diagnostics::{Diagnostic, LineIndex, TextRange};
use warden_syntax::Parse;

/// The files of a workspace, kept in the compiler database.
pub struct AnalysisHost {
    db: Database,
    files: BTreeMap<String, SourceFile>,
    schemas: Arc<BTreeMap<String, String>>,
    set: PolicySet,
}

impl Default for AnalysisHost {
    fn default() -> Self {
        let db = Database::default();
        let set = PolicySet::new(&db, Vec::new(), Arc::default());
        AnalysisHost {
            db,
            files: BTreeMap::new(),
            schemas: Arc::default(),
            set,
        }
    }
}

/// A diagnostic of one file, ready to show.
#[derive(Clone, Debug, PartialEq)]
pub struct FileDiagnostic {
    pub range: TextRange,
    pub diagnostic: Diagnostic,
}

impl AnalysisHost {
    /// A host that records which queries run (for incremental-reuse tests).
    pub fn with_query_log() -> Self {
        let db = Database::with_log();
        let set = PolicySet::new(&db, Vec::new(), Arc::default());
        AnalysisHost {
            db,
            files: BTreeMap::new(),
            schemas: Arc::default(),
            set,
        }
    }

    /// The queries executed since the last call.
    pub fn take_query_log(&self) -> Vec<String> {
        self.db.take_log()
    }

    /// Adds or updates a policy file (`path` as the editor names it).
    pub fn set_file(&mut self, path: &str, text: &str) {
        match self.files.get(path) {
            Some(&file) => {
                if &**file.text(&self.db) != text {
                    self.db.set_text(file, text);
                }
            }
            None => {
                let file = self.db.add_file(path, text);
                self.files.insert(path.to_string(), file);
                self.sync_set();
            }
        }
    }

    /// Forgets a file.
    pub fn remove_file(&mut self, path: &str) {
        if self.files.remove(path).is_some() {
            self.sync_set();
        }
    }

    /// Sets the JSON files the policies may name (schemas, data defaults), by path.
    pub fn set_schemas(&mut self, schemas: BTreeMap<String, String>) {
        self.schemas = Arc::new(schemas);
        self.db.set_schemas(self.set, Arc::clone(&self.schemas));
    }

    fn sync_set(&mut self) {
        let files: Vec<SourceFile> = self.files.values().copied().collect();
        self.db.set_files(self.set, files);
    }

    /// The paths of the files held.
    pub fn paths(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    /// The text of a file.
    pub fn text(&self, path: &str) -> Option<Arc<str>> {
        self.files.get(path).map(|f| f.text(&self.db).clone())
    }

    fn parse(&self, path: &str) -> Option<&Parse> {
        let file = *self.files.get(path)?;
        Some(warden_db::parse_file(&self.db, file))
    }

    /// Every diagnostic `warden lint` reports for the set, by file path.
    pub fn diagnostics(&self) -> BTreeMap<String, Vec<FileDiagnostic>> {
        let mut by_file: BTreeMap<String, Vec<FileDiagnostic>> = self
            .files
            .keys()
            .map(|path| (path.clone(), Vec::new()))
            .collect();
        let paths: BTreeMap<warden_diagnostics::FileId, &String> = self
            .files
            .iter()
            .map(|(path, file)| (file.id(&self.db), path))
            .collect();
        for diagnostic in warden_db::lint(&self.db, self.set) {
            if let Some(path) = paths.get(&diagnostic.primary.span.file) {
                by_file
                    .entry((*path).clone())
                    .or_default()
                    .push(FileDiagnostic {
                        range: diagnostic.primary.span.range,
                        diagnostic: diagnostic.clone(),
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
    pub fn line_index(&self, path: &str) -> Option<(LineIndex, Arc<str>)> {
        let text = self.text(path)?;
        Some((LineIndex::new(&text), text))
    }

    /// The declarations of a file.
    pub fn symbols(&self, path: &str) -> Vec<Symbol> {
        self.parse(path)
            .map(|parse| names::symbols(parse.tree()))
            .unwrap_or_default()
    }

    /// What to show when hovering at `offset`.
    pub fn hover(&self, path: &str, offset: usize) -> Option<(String, TextRange)> {
        let text = self.text(path)?;
        names::hover(&self.context(), path, &text, offset)
    }

    /// What may be typed at `offset`.
    pub fn completions(&self, path: &str, offset: usize) -> Vec<Completion> {
        let Some(text) = self.text(path) else {
            return Vec::new();
        };
        names::completions(&self.context(), path, &text, offset)
    }

    /// Where the name at `offset` is declared: a path and a range.
    pub fn definition(&self, path: &str, offset: usize) -> Option<(String, TextRange)> {
        let text = self.text(path)?;
        names::definition(&self.context(), path, &text, offset)
    }

    fn context(&self) -> names::Context<'_> {
        let compiled = warden_db::compile(&self.db, self.set);
        names::Context {
            program: &compiled.program,
            files: self
                .files
                .iter()
                .map(|(path, file)| (path.as_str(), warden_db::parse_file(&self.db, *file).tree()))
                .collect(),
        }
    }
}
