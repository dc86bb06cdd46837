//! A policy set in the compiler database: the one way sources become
//! diagnostics and an [`Engine`]. The CLI, the server and the editor all
//! load through it: files are read (or given), parsed once by the
//! database, the JSON files the parsed policies name are read inside their
//! folder, and the set is compiled by the same queries.

use crate::files::Skipped;
use crate::source::PolicySources;
use crate::{Engine, EngineError, PolicyFolders};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use warden_db::{Database, NamedFiles, PolicySet, SourceFile};
use warden_diagnostics::Diagnostic;

/// A policy set held in the compiler database, ready to compile, lint,
/// answer an editor, or become an [`Engine`]. Cloning gives a snapshot: a
/// handle on the same database for reading on another thread (an edit
/// through the original then waits until the snapshots are dropped).
#[derive(Clone)]
pub struct Workspace {
    db: Database,
    set: PolicySet,
    files: BTreeMap<String, SourceFile>,
    named: Arc<NamedFiles>,
    folders: PolicyFolders,
    skipped: Vec<Skipped>,
}

impl Default for Workspace {
    fn default() -> Self {
        Self::on(Database::default())
    }
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .field("folders", &self.folders)
            .finish_non_exhaustive()
    }
}

impl Workspace {
    /// An empty workspace whose database records which queries run (for
    /// tests of incremental reuse).
    pub fn with_query_log() -> Self {
        Self::on(Database::with_log())
    }

    fn on(db: Database) -> Self {
        let set = PolicySet::new(&db, Vec::new(), Arc::default(), false);
        Workspace {
            db,
            set,
            files: BTreeMap::new(),
            named: Arc::default(),
            folders: PolicyFolders::default(),
            skipped: Vec::new(),
        }
    }

    /// Has the checks record what each name means (the semantic table
    /// `warden_db::semantic_table` gives an editor); off by default, as a
    /// batch run has no use for it.
    pub fn record_meanings(&mut self) {
        self.db.set_meanings(self.set, true);
    }

    /// Reads every `*.warden` file below each path (or the one file a path
    /// names) as one set ([`PolicySources::from_paths`]: a path without any
    /// is an error), and the JSON files they name.
    pub fn read(paths: &[impl AsRef<Path>]) -> Result<Workspace, EngineError> {
        Ok(Self::from_sources(PolicySources::from_paths(paths)?))
    }

    /// The set of `sources`, with the JSON files its policies name read
    /// from the folders the sources came from (none for texts in memory).
    pub fn from_sources(sources: PolicySources) -> Workspace {
        let mut workspace = Workspace::default();
        for (path, text) in &sources.files {
            workspace.set_file(path, text);
        }
        workspace.folders = sources.policy_folders();
        workspace.skipped = sources.skipped;
        workspace.read_named_files();
        workspace
    }

    /// The queries executed since the last call (see [`Self::with_query_log`]).
    pub fn take_query_log(&self) -> Vec<String> {
        self.db.take_log()
    }

    /// Adds a policy file, or replaces its text.
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
                self.sync_files();
            }
        }
    }

    /// Forgets a policy file.
    pub fn remove_file(&mut self, path: &str) {
        if self.files.remove(path).is_some() {
            self.sync_files();
        }
    }

    fn sync_files(&mut self) {
        let files: Vec<SourceFile> = self.files.values().copied().collect();
        self.db.set_files(self.set, files);
    }

    /// Where the set's files are read from: the folders the JSON files its
    /// policies name, and its tests' fixtures, must stay inside.
    pub fn set_folders(&mut self, folders: PolicyFolders) {
        self.folders = folders;
    }

    /// Gives the JSON files the policies may name, by path, instead of
    /// reading them (texts held in memory).
    pub fn set_named_files(&mut self, named: NamedFiles) {
        if *self.named != named {
            self.named = Arc::new(named);
            self.db.set_schemas(self.set, Arc::clone(&self.named));
        }
    }

    /// Reads the JSON files the parsed policies name (`schema "…"`,
    /// `file("…")`), each relative to its policy file and inside the folder
    /// that holds it: a path that leads out of it (by `..`, as an absolute
    /// path, or through a symbolic link), a special file or one too large is
    /// not read, and the compiler reports why (E0209, E0309). A missing one
    /// is left out: the compiler reports it too.
    pub fn read_named_files(&mut self) {
        let mut named = NamedFiles::new();
        for (path, &file) in &self.files {
            let Some((folder, file_dir)) = self.folders.folder_of(path) else {
                continue;
            };
            let key_dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            let inside_dir = file_dir.to_string_lossy().replace('\\', "/");
            for name in warden_db::named_files(&self.db, file) {
                // Resolved as the compiler resolves it; one it refuses by
                // its text (absolute, above the folder) is not read at all.
                let (Ok(key), Ok(inside)) = (
                    warden_db::resolve_named(key_dir, name),
                    warden_db::resolve_named(&inside_dir, name),
                ) else {
                    continue;
                };
                if named.contains_key(&key) {
                    continue;
                }
                let limit = crate::InputLimits::POLICY_FILE.max_bytes;
                match crate::files::read_confined(folder, Path::new(&inside), limit) {
                    Ok(text) => {
                        named.insert(key, Ok(text));
                    }
                    Err(EngineError::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        named.insert(key, Err(e.to_string()));
                    }
                }
            }
        }
        self.set_named_files(named);
    }

    /// The paths of the JSON files read for the policies (or why they were
    /// not), relative to the policy folder.
    pub fn named_files(&self) -> impl Iterator<Item = &str> {
        self.named.keys().map(String::as_str)
    }

    /// The text of a JSON file the policies name, as read for them (or why
    /// it could not be).
    pub fn named_text(&self, path: &str) -> Option<Result<&str, &str>> {
        self.named
            .get(path)
            .map(|r| r.as_deref().map_err(String::as_str))
    }

    /// The paths of the set's files, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The text of a file.
    pub fn text(&self, path: &str) -> Option<Arc<str>> {
        self.files.get(path).map(|f| f.text(&self.db).clone())
    }

    /// Every file's path (as a user opens it) and text, sorted by path (for
    /// rendering reports).
    pub fn sources(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .map(|(path, f)| (self.shown_path(path), f.text(&self.db).to_string()))
            .collect()
    }

    /// A path of the set as a user opens it: joined to the policy folder
    /// (what [`Workspace::place`] and the rendered diagnostics show).
    pub(crate) fn shown_path(&self, path: &str) -> String {
        let joined = self.folders.root.join(path);
        let file = joined.display().to_string().replace('\\', "/");
        file.strip_prefix("./").map(str::to_string).unwrap_or(file)
    }

    /// Where the set's files were read from.
    pub fn folders(&self) -> &PolicyFolders {
        &self.folders
    }

    /// Files a folder walk left out (special files, links out of the folder).
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The compiler database and the set in it, for the editor's queries.
    pub fn database(&self) -> (&Database, PolicySet) {
        (&self.db, self.set)
    }

    /// The database input of a file.
    pub fn file(&self, path: &str) -> Option<SourceFile> {
        self.files.get(path).copied()
    }

    /// The path of a file of the set and the line and column of `offset` in it.
    pub(crate) fn line_col(
        &self,
        id: warden_diagnostics::FileId,
        offset: u32,
    ) -> Option<(&str, warden_diagnostics::LineCol)> {
        let (path, &file) = self.files.iter().find(|(_, f)| f.id(&self.db) == id)?;
        let index = warden_db::line_index(&self.db, file);
        let at = index.line_col(file.text(&self.db), offset as usize);
        Some((path.as_str(), at))
    }

    /// `sha256:` of every file's path and text, and of the JSON files they
    /// name: identifies the policy revision.
    pub fn revision(&self) -> String {
        let mut hasher = Sha256::new();
        let named = self.named.iter().map(|(path, text)| match text {
            Ok(text) => (path.as_str(), text.as_str()),
            Err(why) => (path.as_str(), why.as_str()),
        });
        let files = self
            .files
            .iter()
            .map(|(path, f)| (path.as_str(), &**f.text(&self.db)));
        for (path, text) in files.chain(named) {
            hasher.update(path.as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }

    /// The compiler's diagnostics, sorted.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &warden_db::compile(&self.db, self.set).diagnostics
    }

    /// The diagnostics and the policy-hygiene lints of `warden lint`: rules
    /// without `@control` (W0002), rules no test names (W0005).
    pub fn lint(&self) -> &[Diagnostic] {
        warden_db::lint(&self.db, self.set)
    }

    /// [`Workspace::lint`], and what depends on the time `now` (which the
    /// cached lints cannot): the set's waivers whose `until` has passed
    /// (W0004), so an expired exception shows before a decision meets it.
    pub fn lint_at(&self, now: std::time::SystemTime) -> Vec<Diagnostic> {
        let mut diagnostics = self.lint().to_vec();
        let compiled = warden_db::compile(&self.db, self.set);
        if !compiled.has_errors() {
            let now = crate::engine::micros(now);
            for waiver in compiled.program.waivers.iter().filter(|w| w.until <= now) {
                diagnostics.push(
                    Diagnostic::new(
                        warden_diagnostics::Code::W0004,
                        waiver.span,
                        format!(
                            "waiver `{}` expired on {}: the findings it waived are findings again",
                            waiver.name,
                            warden_ir::format_time(waiver.until)
                        ),
                    )
                    .with_label("past its `until` date")
                    .with_help("renew it with a new `until` and a fresh approval, or remove it and fix what it waived"),
                );
            }
            warden_diagnostics::sort(&mut diagnostics);
        }
        diagnostics
    }

    /// The set as an engine, or why not: every diagnostic, when there is an
    /// error among them.
    pub fn engine(&self) -> Result<Engine, EngineError> {
        let compiled = warden_db::compile(&self.db, self.set);
        if compiled.has_errors() {
            return Err(EngineError::Compile {
                diagnostics: compiled.diagnostics.clone(),
            });
        }
        Ok(Engine::from_program(
            compiled.program.clone(),
            compiled.tests.clone(),
            compiled.diagnostics.clone(),
            self.revision(),
        ))
    }
}
