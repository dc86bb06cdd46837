//! The compiler database: salsa inputs for source files and policy sets, and
//! tracked queries that parse, check and compile them. The CLI, the library
//! and the language server all compile through these queries, so they report
//! byte-for-byte the same diagnostics.
//!
//! Invariant: salsa is named in this crate only. Lower crates are plain
//! functions; evaluation never touches the database (it runs on the
//! `Arc<Program>` that [`compile`] returns).

/// What a query on a database handle raises (by unwinding) when a change
/// to the inputs is waiting: catch it with `Cancelled::catch` and answer
/// again from the new revision.
pub use salsa::Cancelled;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use warden_diagnostics::{Diagnostic, FileId};
use warden_ir::Program;
use warden_sema::{SchemaLoader, SourceInput};
use warden_syntax::Parse;

/// The database. Cloning it gives another handle to the same storage (for a
/// read on another thread).
#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    /// Query executions, recorded when logging is on (tests of reuse).
    log: Option<Arc<Mutex<Vec<String>>>>,
    next_file: Arc<Mutex<u32>>,
}

#[salsa::db]
impl salsa::Database for Database {}

impl Database {
    /// A database that records which queries execute (for incremental-reuse tests).
    pub fn with_log() -> Self {
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = log.clone();
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind {
                sink.lock()
                    .expect("log lock")
                    .push(format!("{database_key:?}"));
            }
        })));
        Database {
            storage,
            log: Some(log),
            next_file: Arc::default(),
        }
    }

    /// The queries executed since the last call.
    pub fn take_log(&self) -> Vec<String> {
        self.log
            .as_ref()
            .map(|l| std::mem::take(&mut *l.lock().expect("log lock")))
            .unwrap_or_default()
    }

    /// Replaces a file's text (an editor's change).
    pub fn set_text(&mut self, file: SourceFile, text: &str) {
        use salsa::Setter;
        file.set_text(self).to(Arc::from(text));
    }

    /// Replaces the files of a set (a file opened or closed).
    pub fn set_files(&mut self, set: PolicySet, files: Vec<SourceFile>) {
        use salsa::Setter;
        set.set_files(self).to(files);
    }

    /// Whether the set's checks record what each name means.
    pub fn set_meanings(&mut self, set: PolicySet, meanings: bool) {
        use salsa::Setter;
        set.set_meanings(self).to(meanings);
    }

    /// Replaces the JSON files a set's policies may name.
    pub fn set_schemas(&mut self, set: PolicySet, schemas: Arc<NamedFiles>) {
        use salsa::Setter;
        set.set_schemas(self).to(schemas);
    }

    /// A new source file input with a fresh [`FileId`].
    pub fn add_file(&self, path: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        let id = {
            let mut next = self.next_file.lock().expect("file counter lock");
            *next += 1;
            FileId(*next - 1)
        };
        SourceFile::new(self, id, path.into(), text.into())
    }
}

/// One policy file: its path (relative to the policy folder) and text.
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(copy)]
    pub id: FileId,
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: Arc<str>,
}

/// The JSON files a policy set names (schemas, data defaults), by their
/// normalized path: the text, or why the file was not read (outside the
/// policy folder, not a regular file, too large), for the compiler to say.
pub type NamedFiles = BTreeMap<String, Result<String, String>>;

/// A policy set: its files, and the JSON Schema files they may name.
#[salsa::input(debug)]
pub struct PolicySet {
    #[returns(ref)]
    pub files: Vec<SourceFile>,
    #[returns(ref)]
    pub schemas: Arc<NamedFiles>,
    /// Whether checks record what each name means (the semantic table an
    /// editor reads); a batch run (`check`, `serve`) has no use for it.
    #[returns(copy)]
    pub meanings: bool,
}

/// Parses one file. Not compared between revisions: every edit moves offsets.
#[salsa::tracked(returns(ref), no_eq)]
pub fn parse_file(db: &dyn salsa::Database, file: SourceFile) -> Parse {
    warden_syntax::parse(file.id(db), file.text(db))
}

/// The syntax diagnostics of one file.
#[salsa::tracked(returns(ref))]
pub fn syntax_diagnostics(db: &dyn salsa::Database, file: SourceFile) -> Vec<Diagnostic> {
    parse_file(db, file).diagnostics().to_vec()
}

/// A compiled policy set and every diagnostic (syntax and semantic), sorted.
#[derive(Debug)]
pub struct Compiled {
    pub program: Arc<Program>,
    /// The set's `test` blocks: beside the program, which decisions read.
    pub tests: Arc<[warden_sema::Test]>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// The set's files as the analysis reads them.
fn source_inputs(db: &dyn salsa::Database, set: PolicySet) -> Vec<SourceInput<'_>> {
    set.files(db)
        .iter()
        .map(|&file| source_input(db, file, set.meanings(db)))
        .collect()
}

fn source_input(db: &dyn salsa::Database, file: SourceFile, meanings: bool) -> SourceInput<'_> {
    SourceInput {
        meanings,
        file: file.id(db),
        path: file.path(db).clone(),
        text: file.text(db).clone(),
        tree: parse_file(db, file).tree(),
        line_index: line_index(db, file).clone(),
    }
}

/// Where the lines of a file start: for every conversion of an offset to a
/// line and column (diagnostics, reports, the editor's positions).
#[salsa::tracked(returns(ref))]
pub fn line_index(
    db: &dyn salsa::Database,
    file: SourceFile,
) -> Arc<warden_diagnostics::LineIndex> {
    Arc::new(warden_diagnostics::LineIndex::new(file.text(db)))
}

/// What the declarations of the whole set establish (types, targets, data,
/// functions, with their positions and bodies). Runs again after every
/// edit; what files are checked against is [`environment`].
#[salsa::tracked(returns(ref), no_eq)]
pub fn declarations(db: &dyn salsa::Database, set: PolicySet) -> Arc<warden_sema::Declarations> {
    let inputs = source_inputs(db, set);
    Arc::new(warden_sema::declare(&inputs, &MapLoader(set.schemas(db))))
}

/// The position-free part of the declarations. An edit that changes no
/// name, type or signature (a function's body, a comment, text moved)
/// gives an equal value, and then no file's [`check_file`] runs again
/// because of it.
#[salsa::tracked(returns(ref))]
pub fn environment(db: &dyn salsa::Database, set: PolicySet) -> Arc<warden_sema::Environment> {
    declarations(db, set).env.clone()
}

/// The rules of the set by id, which waivers and tests name: equal after an
/// edit that renames, adds or removes no rule.
#[salsa::tracked(returns(ref))]
pub fn rule_table(db: &dyn salsa::Database, set: PolicySet) -> warden_sema::RuleTable {
    let trees: Vec<(FileId, &warden_syntax::ast::SourceFile)> = set
        .files(db)
        .iter()
        .map(|&file| (file.id(db), parse_file(db, file).tree()))
        .collect();
    warden_sema::rule_table(environment(db, set), &trees)
}

/// One file's rules, waivers and tests, checked: depends on that file, the
/// set's environment and its rule table only.
#[salsa::tracked(returns(ref), no_eq)]
pub fn check_file(
    db: &dyn salsa::Database,
    set: PolicySet,
    file: SourceFile,
) -> warden_sema::FileChecked {
    warden_sema::check_file(
        environment(db, set),
        rule_table(db, set),
        &source_input(db, file, set.meanings(db)),
    )
}

/// The JSON files a policy file names (`schema "…"`, `file("…")`), as
/// written: what the loader reads before the set is compiled.
#[salsa::tracked(returns(ref))]
pub fn named_files(db: &dyn salsa::Database, file: SourceFile) -> Vec<String> {
    let tree = parse_file(db, file).tree();
    tree.named_files().into_iter().map(str::to_string).collect()
}

/// Checks `text` as if it were `file`'s, in the set as it is: a what-if
/// (completion checks the text with a name typed at the cursor). Not a
/// query: nothing is kept.
pub fn check_text(
    db: &dyn salsa::Database,
    set: PolicySet,
    file: SourceFile,
    text: &str,
) -> warden_sema::FileChecked {
    let id = file.id(db);
    let parse = warden_syntax::parse(id, text);
    let input = SourceInput {
        meanings: true,
        file: id,
        path: file.path(db).clone(),
        text: Arc::from(text),
        tree: parse.tree(),
        line_index: Arc::new(warden_diagnostics::LineIndex::new(text)),
    };
    warden_sema::check_file(environment(db, set), rule_table(db, set), &input)
}

/// What the names of one file mean, by position: those of its declarations
/// (function bodies, type expressions) and of its rules, waivers and tests.
/// The editor reads meaning here.
#[salsa::tracked(returns(ref), no_eq)]
pub fn semantic_table(
    db: &dyn salsa::Database,
    set: PolicySet,
    file: SourceFile,
) -> Vec<warden_sema::Occurrence> {
    let mut table: Vec<warden_sema::Occurrence> = declarations(db, set)
        .occurrences
        .get(&file.id(db))
        .cloned()
        .unwrap_or_default();
    table.extend(check_file(db, set, file).occurrences.iter().cloned());
    table.sort_by_key(|o| (o.range.start, o.range.end));
    table
}

/// Checks and lowers a whole policy set: the declarations, each file's
/// check, put together into one program.
#[salsa::tracked(returns(ref), no_eq)]
pub fn compile(db: &dyn salsa::Database, set: PolicySet) -> Compiled {
    let files = set.files(db);
    let mut diagnostics = Vec::new();
    for &file in files {
        diagnostics.extend_from_slice(syntax_diagnostics(db, file));
    }
    let inputs = source_inputs(db, set);
    let declared = declarations(db, set);
    let checked: Vec<&warden_sema::FileChecked> = files
        .iter()
        .map(|&file| check_file(db, set, file))
        .collect();
    let program = warden_sema::assemble(declared, rule_table(db, set), &inputs, &checked);
    let tests = warden_sema::tests_of(&checked);
    let mut semantic = declared.diagnostics.clone();
    for file in &checked {
        semantic.extend(file.diagnostics.iter().cloned());
    }
    // A semantic error on a line the parser already flagged is usually its echo
    // (a string that never ends read as a wrong literal): show the cause only.
    let syntax_lines: Vec<(FileId, u32)> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .filter_map(|d| {
            let input = inputs.iter().find(|i| i.file == d.primary.span.file)?;
            let index = &input.line_index;
            Some((
                d.primary.span.file,
                index
                    .line_col(&input.text, d.primary.span.range.start as usize)
                    .line,
            ))
        })
        .collect();
    diagnostics.extend(semantic.into_iter().filter(|d| {
        let Some(input) = inputs.iter().find(|i| i.file == d.primary.span.file) else {
            return true;
        };
        if !syntax_lines.iter().any(|(f, _)| *f == d.primary.span.file) {
            return true;
        }
        let index = &input.line_index;
        let first = index
            .line_col(&input.text, d.primary.span.range.start as usize)
            .line;
        let last = index
            .line_col(&input.text, d.primary.span.range.end as usize)
            .line;
        !syntax_lines
            .iter()
            .any(|(f, line)| *f == d.primary.span.file && (first..=last).contains(line))
    }));
    warden_diagnostics::sort(&mut diagnostics);
    Compiled {
        program: Arc::new(program),
        tests: tests.into(),
        diagnostics,
    }
}

/// The compiler's diagnostics plus the policy-hygiene lints of `warden lint`
/// (W0002 rule without `@control`, W0005 rule no test names), sorted.
#[salsa::tracked(returns(ref))]
pub fn lint(db: &dyn salsa::Database, set: PolicySet) -> Vec<Diagnostic> {
    let compiled = compile(db, set);
    let mut diagnostics = compiled.diagnostics.clone();
    if !compiled.has_errors() {
        diagnostics.extend(warden_sema::policy_lints(
            &compiled.program,
            &compiled.tests,
        ));
        warden_diagnostics::sort(&mut diagnostics);
    }
    diagnostics
}

/// The diagnostics that concern one file of a set (what an editor shows for it).
pub fn file_diagnostics(db: &Database, set: PolicySet, file: SourceFile) -> Vec<Diagnostic> {
    let id = file.id(db);
    compile(db, set)
        .diagnostics
        .iter()
        .filter(|d| d.primary.span.file == id)
        .cloned()
        .collect()
}

/// Schema files come from the set's input, resolved against the policy file's folder.
struct MapLoader<'a>(&'a NamedFiles);

impl SchemaLoader for MapLoader<'_> {
    fn load(&self, from: &str, path: &str) -> Result<String, String> {
        let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
        let resolved = resolve_named(dir, path)?;
        match self.0.get(&resolved) {
            Some(Ok(text)) => Ok(text.clone()),
            Some(Err(why)) => Err(why.clone()),
            None => Err(format!("no file `{resolved}` in the policy folder")),
        }
    }
}

/// The path of a file a policy in folder `dir` names as `path`, relative to
/// the policy folder; refused when it is absolute or its `..` lead above
/// the folder (a policy reads files inside its folder only).
pub fn resolve_named(dir: &str, path: &str) -> Result<String, String> {
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..3) == Some(":\\") {
        return Err(format!(
            "`{path}` is an absolute path; name files relative to the policy file, inside the policy folder"
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    // The folder's own leading `..` (a set composed from `--policy ../x`)
    // are where it is, not steps out of it.
    let mut fixed = 0;
    for part in dir.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.len() == fixed => {
                parts.push("..");
                fixed += 1;
            }
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.len() == fixed {
                    return Err(format!("`{path}` leads above the policy folder"));
                }
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// Folds `a/./b/../c` to `a/c`: how schema paths named in policies are resolved.
pub fn normalize_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use salsa::Setter;

    const SCHEMA: &str = "package s\ntype M = { name: string }\ntarget manifest: M default allow\n";
    const RULES: &str =
        "package r\nimport s\nrule named on manifest as m {\n  deny when m.name == \"\"\n}\n";

    #[test]
    fn editing_one_file_reparses_only_that_file() {
        let mut db = Database::with_log();
        let a = db.add_file("s.warden", SCHEMA);
        let b = db.add_file("r.warden", RULES);
        let set = PolicySet::new(&db, vec![a, b], Arc::default(), false);
        assert!(
            !compile(&db, set).has_errors(),
            "{:?}",
            compile(&db, set).diagnostics
        );
        db.take_log();
        b.set_text(&mut db)
            .to(Arc::from(RULES.replace("\"\"", "\"x\"")));
        assert!(!compile(&db, set).has_errors());
        let log = db.take_log();
        assert!(
            log.iter().any(|q| q.starts_with("parse_file")
                && q.contains(&format!("{:?}", salsa::plumbing::AsId::as_id(&b)))),
            "{log:?}"
        );
        assert!(
            !log.iter().any(|q| q.starts_with("parse_file")
                && q.contains(&format!("{:?}", salsa::plumbing::AsId::as_id(&a)))),
            "{log:?}"
        );
    }

    #[test]
    fn incremental_result_equals_a_fresh_compile() {
        let mut db = Database::default();
        let a = db.add_file("s.warden", SCHEMA);
        let b = db.add_file("r.warden", RULES);
        let set = PolicySet::new(&db, vec![a, b], Arc::default(), false);
        let _ = compile(&db, set);
        let edited = RULES.replace("m.name", "m.nmae");
        b.set_text(&mut db).to(Arc::from(edited.as_str()));
        let incremental = compile(&db, set).diagnostics.clone();

        let fresh_db = Database::default();
        let a2 = fresh_db.add_file("s.warden", SCHEMA);
        let b2 = fresh_db.add_file("r.warden", edited.as_str());
        let set2 = PolicySet::new(&fresh_db, vec![a2, b2], Arc::default(), false);
        assert_eq!(incremental, compile(&fresh_db, set2).diagnostics);
        assert!(
            incremental
                .iter()
                .any(|d| d.code == warden_diagnostics::Code::E0102)
        );
    }
}
