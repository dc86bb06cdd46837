//! What an editor asks of a policy set: diagnostics, symbols, hover,
//! completion, definitions and formatting. Answers come from the same salsa
//! queries as `warden lint` (`warden-db`), so the editor shows exactly what
//! the CLI prints. Offsets here are byte offsets; the language server
//! converts to and from UTF-16 positions at its edge.

mod names;
mod run;
mod tokens;

pub use names::{Completion, CompletionKind, Symbol, SymbolKind};
pub use run::{Lens, LensKind, evaluate, run_tests};
pub use tokens::Highlight;
pub use warden_db::Cancelled;

use std::collections::BTreeMap;
use std::sync::Arc;
use warden_db::{Database, PolicySet, SourceFile};
use warden_diagnostics::{Diagnostic, LineIndex, TextRange};
use warden_syntax::Parse;

/// The files of a workspace, kept in the compiler database.
///
/// Cloning gives a snapshot: another handle on the same database, for
/// answering a request on another thread. Changing a file through the host
/// cancels every snapshot's queries (they unwind with [`Cancelled`], which
/// [`Cancelled::catch`] turns into an error) and waits until the snapshots
/// are dropped, so an answer is never computed from a mix of old and new
/// text.
#[derive(Clone)]
pub struct AnalysisHost {
    db: Database,
    files: BTreeMap<String, SourceFile>,
    schemas: Arc<warden_db::NamedFiles>,
    set: PolicySet,
}

impl Default for AnalysisHost {
    fn default() -> Self {
        Self::on(Database::default())
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
        Self::on(Database::with_log())
    }

    /// An empty workspace in `db`.
    fn on(db: Database) -> Self {
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
    pub fn set_schemas(&mut self, schemas: warden_db::NamedFiles) {
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

    pub(crate) fn parse(&self, path: &str) -> Option<&Parse> {
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

    /// What to show when hovering at `offset`: for a binding or a field,
    /// its type (and the field's doc) from the semantic table; for a
    /// declaration's name, its signature and doc.
    pub fn hover(&self, path: &str, offset: usize) -> Option<(String, TextRange)> {
        if let Some(found) = self.hover_of_meaning(path, offset) {
            return Some(found);
        }
        let text = self.text(path)?;
        names::hover(&self.context(), path, &text, offset)
    }

    fn hover_of_meaning(&self, path: &str, offset: usize) -> Option<(String, TextRange)> {
        let occurrence = self.occurrence(path, offset)?;
        if !matches!(
            occurrence.meaning,
            warden_sema::Meaning::Binding { .. } | warden_sema::Meaning::Field { .. }
        ) {
            return None;
        }
        let file = *self.files.get(path)?;
        let ty = warden_sema::type_text(
            &occurrence,
            warden_db::declarations(&self.db, self.set),
            warden_db::check_file(&self.db, self.set, file),
        )?;
        let text = self.text(path)?;
        let name = &text[occurrence.range.as_range()];
        let mut out = format!("```warden\n{name}: {ty}\n```");
        if let warden_sema::Meaning::Field { .. } = occurrence.meaning
            && let Some((declared_in, at)) = self.definition_of_meaning(path, offset)
            && let Some(doc) = self.parse(&declared_in).and_then(|parse| {
                let fields = parse.tree().record_fields();
                fields
                    .into_iter()
                    .find(|f| f.name.range == at)
                    .and_then(|f| f.doc.clone())
            })
        {
            out.push_str("\n\n");
            out.push_str(&doc);
        }
        Some((out, occurrence.range))
    }

    /// What may be typed at `offset`.
    pub fn completions(&self, path: &str, offset: usize) -> Vec<Completion> {
        let Some(text) = self.text(path) else {
            return Vec::new();
        };
        names::completions(&self.context(), path, &text, offset)
    }

    /// Where the name at `offset` is declared: a path and a range. Names
    /// the checker resolved are read from the semantic table; package paths
    /// and declarations' own names from the syntax.
    pub fn definition(&self, path: &str, offset: usize) -> Option<(String, TextRange)> {
        if let Some(found) = self.definition_of_meaning(path, offset) {
            return Some(found);
        }
        let text = self.text(path)?;
        names::definition(&self.context(), path, &text, offset)
    }

    /// What the name at `offset` means, from the semantic table.
    pub fn occurrence(&self, path: &str, offset: usize) -> Option<warden_sema::Occurrence> {
        let file = *self.files.get(path)?;
        let table = warden_db::semantic_table(&self.db, self.set, file);
        warden_sema::occurrence_at(table, offset as u32).cloned()
    }

    fn definition_of_meaning(&self, path: &str, offset: usize) -> Option<(String, TextRange)> {
        let file = *self.files.get(path)?;
        let occurrence = self.occurrence(path, offset)?;
        let span = warden_sema::definition(
            &occurrence.meaning,
            file.id(&self.db),
            warden_db::declarations(&self.db, self.set),
            warden_db::check_file(&self.db, self.set, file),
            &warden_db::compile(&self.db, self.set).program,
        )?;
        let declared_in = self
            .files
            .iter()
            .find(|(_, f)| f.id(&self.db) == span.file)?
            .0
            .clone();
        Some((declared_in, span.range))
    }

    /// Semantic highlighting of a file.
    pub fn highlights(&self, path: &str) -> Vec<(TextRange, Highlight)> {
        let Some(text) = self.text(path) else {
            return Vec::new();
        };
        tokens::highlights(&self.context(), &text)
    }

    /// Foldable ranges of a file.
    pub fn folds(&self, path: &str) -> Vec<TextRange> {
        let Some(text) = self.text(path) else {
            return Vec::new();
        };
        tokens::folds(&self.context(), path, &text)
    }

    /// The signature of the built-in called around `offset`, and the
    /// argument the cursor is in.
    pub fn signature_help(&self, path: &str, offset: usize) -> Option<(String, usize)> {
        let text = self.text(path)?;
        tokens::signature(&text, offset)
            .map(|(builtin, argument)| (builtin.doc().to_string(), argument))
    }

    /// Where the name at `offset` (a rule, type, field, function, data
    /// document, target, local binding or package) is declared and used,
    /// across the set; the declaration comes first.
    pub fn references(&self, path: &str, offset: usize) -> Vec<(String, TextRange)> {
        let Some(target) = self.definition(path, offset) else {
            return Vec::new();
        };
        let (declared_in, declared_at) = target.clone();
        let Some(text) = self.text(&declared_in) else {
            return Vec::new();
        };
        let name = text[declared_at.as_range()].to_string();
        let cx = self.context();
        if name.contains('.') {
            let texts = self
                .files
                .keys()
                .filter_map(|f| Some((f.clone(), self.text(f)?)))
                .collect();
            return names::package_uses(&cx, &texts, &name);
        }
        let mut out = vec![target.clone()];
        for file in self.files.keys() {
            let Some(text) = self.text(file) else {
                continue;
            };
            for range in tokens::occurrences(&text, &name) {
                // Keep the uses that lead back to the same declaration.
                if (file.as_str(), range) != (declared_in.as_str(), declared_at)
                    && names::definition(&cx, file, &text, range.start as usize).as_ref()
                        == Some(&target)
                {
                    out.push((file.clone(), range));
                }
            }
        }
        out
    }

    /// The edits that rename the declaration named at `offset` everywhere,
    /// or why not.
    pub fn rename(
        &self,
        path: &str,
        offset: usize,
        new_name: &str,
    ) -> Result<Vec<(String, TextRange)>, String> {
        let is_word = |name: &str| {
            name.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let is_name = |name: &str| {
            is_word(name)
                && !warden_syntax::lexer::lex(name)
                    .first()
                    .is_some_and(|t| t.kind.is_keyword())
        };
        let found = self.references(path, offset);
        let Some((declared_in, declared_at)) = found.first() else {
            return Err("there is no declaration here to rename".into());
        };
        // A package is renamed as a whole dotted path (its segments may be
        // keywords: `microapps.schema`).
        let is_package = self
            .text(declared_in)
            .is_some_and(|t| t[declared_at.as_range()].contains('.'));
        let valid = if is_package {
            new_name.split('.').all(is_word)
        } else {
            is_name(new_name)
        };
        if !valid {
            return Err(format!(
                "`{new_name}` is not a name (letters, digits and `_`, not a keyword)"
            ));
        }
        Ok(found)
    }

    /// The declarations of every file whose name contains `query`.
    pub fn workspace_symbols(&self, query: &str) -> Vec<(String, Symbol)> {
        let query = query.to_lowercase();
        self.files
            .keys()
            .flat_map(|path| {
                self.symbols(path)
                    .into_iter()
                    .filter(|s| s.name.to_lowercase().contains(&query))
                    .map(move |s| (path.clone(), s))
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
