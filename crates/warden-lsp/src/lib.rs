//! `warden lsp`: the language server, on stdio. Thin handlers over
//! [`warden_ide::AnalysisHost`], which answers from the same compiler
//! queries as `warden lint`; positions are converted between UTF-16 (LSP)
//! and byte offsets here, at the edge.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};
use warden_ide::{AnalysisHost, Cancelled, CompletionKind, Highlight, LensKind, SymbolKind};

/// The commands the server runs (`workspace/executeCommand`); code lenses
/// name them.
const RUN_TEST: &str = "warden.lsp.runTest";
const EVALUATE: &str = "warden.lsp.evaluate";

/// For tests of cancellation only: every request waits this many
/// milliseconds on its snapshot before it reads it, so an edit can arrive
/// while it is in flight.
const REQUEST_DELAY_VAR: &str = "WARDEN_LSP_TEST_REQUEST_DELAY_MS";

/// Serves the language server on standard input and output until `exit`.
/// `code_docs` holds `(code, markdown)`: the explanation of every diagnostic
/// code, linked from each diagnostic.
pub async fn run_stdio(code_docs: &'static [(&'static str, &'static str)]) {
    let (service, socket) = LspService::new(|client| Backend {
        client,
        state: Mutex::new(State::default()),
        results: Mutex::default(),
        code_docs,
        docs_dir: OnceLock::new(),
        lens_refresh: OnceLock::new(),
        watch_files: OnceLock::new(),
        load_warnings: Mutex::default(),
        request_delay: std::env::var(REQUEST_DELAY_VAR)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map(std::time::Duration::from_millis),
    });
    // Room for requests that wait on the user (a fixture prompt) beside the
    // ones an editor sends while typing.
    Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
        .concurrency_level(32)
        .serve(service)
        .await;
}

#[derive(Clone, Default)]
struct State {
    host: AnalysisHost,
    /// The workspace folder: files are keyed by their path below it.
    root: Option<PathBuf>,
    /// Whether the client takes completion snippets (`count(${1:xs})`).
    snippets: bool,
    /// The files open in the editor: their text comes from the editor, not
    /// from the disk.
    open: std::collections::HashSet<String>,
}

impl State {
    fn key(&self, uri: &Uri) -> Option<String> {
        let path = uri.to_file_path()?.into_owned();
        Some(match &self.root {
            Some(root) => match path.strip_prefix(root) {
                Ok(relative) => relative.to_string_lossy().replace('\\', "/"),
                Err(_) => path.to_string_lossy().into_owned(),
            },
            None => path.to_string_lossy().into_owned(),
        })
    }

    fn uri(&self, key: &str) -> Option<Uri> {
        let path = PathBuf::from(key);
        let full = match &self.root {
            Some(root) if path.is_relative() => root.join(path),
            _ => path,
        };
        Uri::from_file_path(full)
    }

    /// The file and byte offset of a position.
    fn at(&self, at: &TextDocumentPositionParams) -> Option<(String, usize)> {
        let key = self.key(&at.text_document.uri)?;
        let offset = self.offset(&key, at.position)?;
        Some((key, offset))
    }

    fn offset(&self, key: &str, position: Position) -> Option<usize> {
        let (index, text) = self.host.line_index(key)?;
        Some(index.utf16_offset(&text, position.line, position.character))
    }

    fn range(&self, key: &str, range: warden_diagnostics::TextRange) -> Option<Range> {
        let (index, text) = self.host.line_index(key)?;
        let at = |offset: u32| {
            let (line, character) = index.utf16_position(&text, offset as usize);
            Position { line, character }
        };
        Some(Range {
            start: at(range.start),
            end: at(range.end),
        })
    }

    /// Reads every policy of the workspace, and the JSON files they name;
    /// says which files could not be read (they are left out, the rest is
    /// served).
    fn load_workspace(&mut self) -> Vec<String> {
        let Some(root) = &self.root else {
            return Vec::new();
        };
        let (sources, skipped) = warden::PolicySources::from_folder_skipping_unreadable(root);
        for (path, text) in &sources.files {
            if !self.open.contains(path) {
                self.host.set_file(path, text);
            }
        }
        self.host.set_schemas(sources.schemas.clone());
        skipped
            .iter()
            .map(ToString::to_string)
            .chain(sources.skipped.iter().map(ToString::to_string))
            .collect()
    }
}

/// The semantic token types, in the order of [`Highlight`] indexes.
const LEGEND: [SemanticTokenType; 9] = [
    SemanticTokenType::KEYWORD,
    SemanticTokenType::COMMENT,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::TYPE,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::OPERATOR,
];

fn legend_index(highlight: Highlight) -> u32 {
    match highlight {
        Highlight::Keyword => 0,
        Highlight::Comment => 1,
        Highlight::String => 2,
        Highlight::Number => 3,
        Highlight::Function => 4,
        Highlight::Type => 5,
        Highlight::Property => 6,
        Highlight::Variable => 7,
        Highlight::Operator => 8,
    }
}

struct Backend {
    client: Client,
    state: Mutex<State>,
    /// What the last runs showed, for the code lens titles.
    results: Mutex<LensResults>,
    code_docs: &'static [(&'static str, &'static str)],
    /// Where the code explanations were written, for diagnostic links.
    docs_dir: OnceLock<Option<PathBuf>>,
    /// Whether the client accepts `workspace/codeLens/refresh`.
    lens_refresh: OnceLock<bool>,
    /// Whether the client can watch files for the server.
    watch_files: OnceLock<bool>,
    /// See [`REQUEST_DELAY_VAR`].
    request_delay: Option<std::time::Duration>,
    /// What loading the workspace could not read, shown once initialized.
    load_warnings: Mutex<Vec<String>>,
}

/// Code lens titles after a run: by full test name, and by target.
#[derive(Default)]
struct LensResults {
    tests: HashMap<String, String>,
    evaluations: HashMap<String, String>,
}

/// Runs a handler, mapping a cancelled query (a change arrived while it
/// ran) to `ContentModified` and any other panic to an internal error.
fn answer<T>(state: &State, handler: impl FnOnce(&State) -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(state))) {
        Ok(result) => result,
        Err(payload) if payload.is::<Cancelled>() => {
            Err(tower_lsp_server::jsonrpc::Error::content_modified())
        }
        Err(_) => Err(tower_lsp_server::jsonrpc::Error::internal_error()),
    }
}

impl Backend {
    /// Runs a request's handler on a snapshot, off the async threads, so a
    /// change is never held up by a long request: the change cancels it
    /// instead (`ContentModified`). A bug in a handler answers that request
    /// with an error instead of taking the server down.
    async fn guarded<T: Send + 'static>(
        &self,
        handler: impl FnOnce(&State) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let snapshot = self.state().clone();
        let delay = self.request_delay;
        tokio::task::spawn_blocking(move || {
            if let Some(delay) = delay {
                std::thread::sleep(delay);
            }
            answer(&snapshot, handler)
        })
        .await
        .unwrap_or_else(|_| Err(tower_lsp_server::jsonrpc::Error::internal_error()))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A handler that panicked leaves the state as it was: keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lens outcomes describe the text they ran on: an edit makes them stale.
    fn forget_results(&self) {
        let mut results = self.results.lock().unwrap_or_else(|p| p.into_inner());
        results.tests.clear();
        results.evaluations.clear();
    }

    /// Asks the client to fetch code lenses again (their titles changed).
    async fn refresh_lenses(&self) {
        if self.lens_refresh.get() == Some(&true) {
            let _ = self.client.code_lens_refresh().await;
        }
    }

    /// The set being edited as an engine (an error if it does not compile).
    async fn engine(&self) -> Result<warden::Engine> {
        self.guarded(|state| {
            state
                .host
                .engine()
                .map_err(tower_lsp_server::jsonrpc::Error::invalid_params)
        })
        .await
    }

    /// `warden.lsp.runTest [NAME]`: runs the test of that full name (all
    /// without it), shows the outcome and puts it on the lenses.
    async fn run_test(
        &self,
        arguments: Vec<serde_json::Value>,
    ) -> Result<Option<serde_json::Value>> {
        let filter = arguments
            .first()
            .and_then(|a| a.as_str())
            .map(str::to_string);
        let root = self.state().root.clone();
        // The engine is taken from a snapshot, which is then let go: an edit
        // need not wait for the tests.
        let engine = self.engine().await?;
        let run = tokio::task::spawn_blocking(move || {
            warden_ide::run_tests(&engine, root.as_deref(), filter.as_deref())
        })
        .await
        .map_err(|_| tower_lsp_server::jsonrpc::Error::internal_error())?;
        {
            let mut results = self.results.lock().unwrap_or_else(|p| p.into_inner());
            for test in &run.tests {
                results.tests.insert(test.name.clone(), test_title(test));
            }
        }
        let summary = &run.summary;
        let clean = summary.failed + summary.errors == 0;
        let mut message = format!(
            "warden: {} passed, {} failed, {} could not run",
            summary.passed, summary.failed, summary.errors
        );
        if let Some(first) = run.tests.iter().find(|t| !t.failures.is_empty()) {
            message.push_str(&format!(" — {}: {}", first.name, first.failures[0].message));
        }
        self.client
            .show_message(
                if clean {
                    MessageType::INFO
                } else {
                    MessageType::WARNING
                },
                message,
            )
            .await;
        self.refresh_lenses().await;
        Ok(serde_json::to_value(&run).ok())
    }

    /// `warden.lsp.evaluate {target, fixture?}`: decides a fixture against
    /// the target. Without `fixture` the user picks one of the fixtures the
    /// tests give that target (`window/showMessageRequest`).
    async fn evaluate(
        &self,
        arguments: Vec<serde_json::Value>,
    ) -> Result<Option<serde_json::Value>> {
        let invalid = |message: String| tower_lsp_server::jsonrpc::Error::invalid_params(message);
        let argument = arguments.into_iter().next().unwrap_or_default();
        let Some(target) = argument
            .get("target")
            .and_then(|t| t.as_str())
            .map(str::to_string)
        else {
            return Err(invalid(
                "expected {\"target\": NAME, \"fixture\"?: PATH}".into(),
            ));
        };
        let root = self
            .state()
            .root
            .clone()
            .unwrap_or_else(|| PathBuf::from("."));
        let fixture = match argument.get("fixture").and_then(|f| f.as_str()) {
            Some(given) => root.join(given),
            None => {
                let (target_for, root_for) = (target.clone(), root.clone());
                let candidates = self
                    .guarded(move |state| Ok(state.host.fixtures(&root_for, &target_for)))
                    .await?;
                if candidates.is_empty() {
                    return Err(invalid(format!(
                        "no test gives `{target}` a fixture; pass one as \"fixture\""
                    )));
                }
                let shown_root = root.canonicalize().unwrap_or_else(|_| root.clone());
                let shown = |p: &Path| {
                    p.strip_prefix(&shown_root)
                        .unwrap_or(p)
                        .display()
                        .to_string()
                };
                let actions = candidates
                    .iter()
                    .map(|p| MessageActionItem {
                        title: shown(p),
                        properties: HashMap::new(),
                    })
                    .collect();
                // A prompt left unanswered gives up after a while, so it
                // cannot hold a place in the server for ever.
                let picked = tokio::time::timeout(
                    std::time::Duration::from_secs(300),
                    self.client.show_message_request(
                        MessageType::INFO,
                        format!("Evaluate `{target}` against which fixture?"),
                        Some(actions),
                    ),
                )
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
                let Some(picked) = picked else {
                    return Ok(None);
                };
                match candidates.into_iter().find(|p| shown(p) == picked.title) {
                    Some(path) => path,
                    None => return Ok(None),
                }
            }
        };
        let shown_fixture = fixture
            .strip_prefix(&root)
            .unwrap_or(&fixture)
            .display()
            .to_string();
        let target_for = target.clone();
        let engine = self.engine().await?;
        let folder = root.clone();
        let decision = tokio::task::spawn_blocking(move || {
            warden_ide::evaluate(
                &engine,
                &folder,
                &target_for,
                &fixture,
                std::time::SystemTime::now(),
            )
        })
        .await
        .map_err(|_| tower_lsp_server::jsonrpc::Error::internal_error())?
        .map_err(invalid)?;
        let title = format!("{} · {shown_fixture}", decision_summary(&decision));
        self.results
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .evaluations
            .insert(target.clone(), title.clone());
        self.client
            .show_message(MessageType::INFO, format!("warden: {target} {title}"))
            .await;
        self.refresh_lenses().await;
        Ok(serde_json::to_value(&decision).ok())
    }

    /// Publishes every file's diagnostics (an empty list clears a file).
    async fn publish(&self) {
        let docs = self.docs_dir.get().cloned().flatten();
        let batches = self
            .guarded(move |state| {
                Ok(state
                    .host
                    .diagnostics()
                    .into_iter()
                    .filter_map(|(key, found)| {
                        let uri = state.uri(&key)?;
                        let items = found
                            .iter()
                            .filter_map(|f| to_lsp_diagnostic(state, &key, f, docs.as_deref()))
                            .collect();
                        Some((uri, items))
                    })
                    .collect::<Vec<(Uri, Vec<Diagnostic>)>>())
            })
            .await;
        let batches = match batches {
            Ok(batches) => batches,
            // A newer change arrived: its own publish follows.
            Err(e) if e.code == tower_lsp_server::jsonrpc::ErrorCode::ContentModified => return,
            Err(_) => {
                self.client
                    .log_message(MessageType::ERROR, "warden: checking the policies failed")
                    .await;
                return;
            }
        };
        for (uri, items) in batches {
            self.client.publish_diagnostics(uri, items, None).await;
        }
    }
}

/// Writes the explanation of every diagnostic code into the user's cache
/// folder (once per version), so each diagnostic can link to its page in any
/// editor, offline, for exactly the codes this binary emits.
fn write_code_docs(docs: &[(&str, &str)]) -> Option<PathBuf> {
    if docs.is_empty() {
        return None;
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = cache
        .join("warden")
        .join(env!("CARGO_PKG_VERSION"))
        .join("codes");
    std::fs::create_dir_all(&dir).ok()?;
    for (code, markdown) in docs {
        let page = dir.join(format!("{code}.md"));
        if std::fs::read_to_string(&page).ok().as_deref() != Some(*markdown) {
            std::fs::write(&page, markdown).ok()?;
        }
    }
    Some(dir)
}

/// `deny · 2 findings, 1 warning`.
fn decision_summary(decision: &warden::Decision) -> String {
    let count = |n: usize, what: &str| match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    let mut parts = vec![count(decision.findings.len(), "finding")];
    if !decision.warnings.is_empty() {
        parts.push(count(decision.warnings.len(), "warning"));
    }
    if !decision.waived.is_empty() {
        parts.push(format!("{} waived", decision.waived.len()));
    }
    format!("{} · {}", decision.decision, parts.join(", "))
}

/// A test's outcome as a lens shows it.
fn test_title(test: &warden::TestResult) -> String {
    match (&test.status, test.failures.first()) {
        (warden::TestStatus::Passed, _) => match &test.decision {
            Some(decision) => format!("✓ passed ({})", decision_summary(decision)),
            None => "✓ passed".into(),
        },
        (warden::TestStatus::Failed, Some(f)) => format!("✗ failed: {}", f.message),
        (_, Some(f)) => format!("⚠ could not run: {}", f.message),
        _ => "✗ failed".into(),
    }
}

fn symbol_kind(kind: SymbolKind) -> tower_lsp_server::ls_types::SymbolKind {
    use tower_lsp_server::ls_types::SymbolKind as Lsp;
    match kind {
        SymbolKind::Type => Lsp::STRUCT,
        SymbolKind::Target => Lsp::INTERFACE,
        SymbolKind::Data => Lsp::CONSTANT,
        SymbolKind::Rule => Lsp::CLASS,
        SymbolKind::Function => Lsp::FUNCTION,
        SymbolKind::Waiver => Lsp::EVENT,
        SymbolKind::Test => Lsp::METHOD,
    }
}

fn to_lsp_diagnostic(
    state: &State,
    key: &str,
    found: &warden_ide::FileDiagnostic,
    docs: Option<&Path>,
) -> Option<Diagnostic> {
    let d = &found.diagnostic;
    let mut message = d.message.clone();
    if !d.primary.message.is_empty() {
        message.push_str(&format!(" ({})", d.primary.message));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    Some(Diagnostic {
        range: state.range(key, found.range)?,
        severity: Some(if d.is_error() {
            DiagnosticSeverity::ERROR
        } else {
            DiagnosticSeverity::WARNING
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        code_description: docs
            // Every code has a page (the docs tests see to it), written at start.
            .map(|dir| dir.join(format!("{}.md", d.code)))
            .and_then(Uri::from_file_path)
            .map(|href| CodeDescription { href }),
        source: Some("warden".into()),
        message,
        ..Diagnostic::default()
    })
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        #[allow(deprecated, reason = "older clients send only root_uri")]
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|folders| folders.first())
            .map(|folder| folder.uri.clone())
            .or(params.root_uri)
            .and_then(|uri| uri.to_file_path().map(|p| p.into_owned()));
        // `initializationOptions: {"policy": "policies"}`: the policy folder,
        // relative to the workspace folder (an editor setting, `warden.policy`).
        let policy = params
            .initialization_options
            .as_ref()
            .and_then(|o| o.get("policy"))
            .and_then(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        let root = match (root, policy) {
            (Some(root), Some(policy)) => Some(root.join(policy)),
            (None, Some(policy)) if policy.is_absolute() => Some(policy),
            (root, _) => root,
        };
        let client = params.capabilities.clone();
        {
            let mut state = self.state();
            state.root = root;
            state.snippets = client
                .text_document
                .as_ref()
                .and_then(|t| t.completion.as_ref())
                .and_then(|c| c.completion_item.as_ref())
                .and_then(|i| i.snippet_support)
                .unwrap_or(false);
            let warnings = state.load_workspace();
            *self.load_warnings.lock().unwrap_or_else(|p| p.into_inner()) = warnings;
        }
        let _ = self.watch_files.set(
            client
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|w| w.dynamic_registration)
                .unwrap_or(false),
        );
        let _ = self.lens_refresh.set(
            client
                .workspace
                .as_ref()
                .and_then(|w| w.code_lens.as_ref())
                .and_then(|c| c.refresh_support)
                .unwrap_or(false),
        );
        // Set once, at the one `initialize` a session has.
        let _ = self.docs_dir.set(write_code_docs(self.code_docs));
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "warden".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::FULL,
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                completion_provider: Some(CompletionOptions {
                    // `"` offers a union's members where a literal is expected.
                    trigger_characters: Some(vec![".".into(), "\"".into()]),
                    ..CompletionOptions::default()
                }),
                definition_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".into(), ",".into()]),
                    ..SignatureHelpOptions::default()
                }),
                code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![RUN_TEST.into(), EVALUATE.into()],
                    ..ExecuteCommandOptions::default()
                }),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: SemanticTokensLegend {
                                token_types: LEGEND.to_vec(),
                                token_modifiers: Vec::new(),
                            },
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            ..SemanticTokensOptions::default()
                        },
                    ),
                ),
                ..ServerCapabilities::default()
            },
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let warnings =
            std::mem::take(&mut *self.load_warnings.lock().unwrap_or_else(|p| p.into_inner()));
        for warning in warnings {
            self.client
                .show_message(MessageType::WARNING, format!("warden: skipped {warning}"))
                .await;
        }
        // Policy and JSON files changed outside the editor (a branch switch,
        // a generated schema) are read again.
        if self.watch_files.get() == Some(&true) {
            let watchers = ["**/*.warden", "**/*.json"]
                .into_iter()
                .map(|glob| FileSystemWatcher {
                    glob_pattern: GlobPattern::String(glob.into()),
                    kind: None,
                })
                .collect();
            let registration = Registration {
                id: "warden-files".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions {
                    watchers,
                })
                .ok(),
            };
            let _ = self.client.register_capability(vec![registration]).await;
        }
        self.publish().await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut cleared = Vec::new();
        {
            let mut state = self.state();
            let mut schemas_changed = false;
            for change in params.changes {
                let Some(key) = state.key(&change.uri) else {
                    continue;
                };
                if key.ends_with(".json") {
                    schemas_changed = true;
                    continue;
                }
                if !key.ends_with(".warden") || state.open.contains(&key) {
                    continue;
                }
                let on_disk = change
                    .uri
                    .to_file_path()
                    .and_then(|p| warden::read_text(&p).ok());
                match on_disk {
                    Some(text) if change.typ != FileChangeType::DELETED => {
                        state.host.set_file(&key, &text)
                    }
                    _ => {
                        state.host.remove_file(&key);
                        cleared.push(change.uri);
                    }
                }
            }
            if schemas_changed {
                // The JSON files the policies name, read again.
                let _ = state.load_workspace();
            }
        }
        for uri in cleared {
            self.client.publish_diagnostics(uri, Vec::new(), None).await;
        }
        self.publish().await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        {
            let mut state = self.state();
            if let Some(key) = state.key(&params.text_document.uri) {
                state.host.set_file(&key, &params.text_document.text);
                state.open.insert(key);
            }
        }
        self.publish().await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        self.forget_results();
        {
            let mut state = self.state();
            // Full sync: the last change holds the whole text.
            if let (Some(key), Some(change)) = (
                state.key(&params.text_document.uri),
                params.content_changes.last(),
            ) {
                state.host.set_file(&key, &change.text);
            }
        }
        self.publish().await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let forgotten = {
            let mut state = self.state();
            let Some(key) = state.key(&uri) else {
                return;
            };
            state.open.remove(&key);
            // Back to what is on disk, for a file of the workspace; a file
            // outside it, or never saved, leaves the set.
            let inside = state
                .root
                .as_ref()
                .is_some_and(|root| uri.to_file_path().is_some_and(|p| p.starts_with(root)));
            let on_disk = uri
                .to_file_path()
                .filter(|_| inside)
                .and_then(|p| warden::read_text(&p).ok());
            match on_disk {
                Some(text) => {
                    state.host.set_file(&key, &text);
                    false
                }
                None => {
                    state.host.remove_file(&key);
                    true
                }
            }
        };
        if forgotten {
            // No longer in the set, so `publish` would not clear it.
            self.client.publish_diagnostics(uri, Vec::new(), None).await;
        }
        self.publish().await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        self.guarded(move |state| {
            let Some((key, offset)) = state.at(&params.text_document_position_params) else {
                return Ok(None);
            };
            Ok(state
                .host
                .hover(&key, offset)
                .map(|(markdown, range)| Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: markdown,
                    }),
                    range: state.range(&key, range),
                }))
        })
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.guarded(move |state| {
            let Some((key, offset)) = state.at(&params.text_document_position) else {
                return Ok(None);
            };
            let position = params.text_document_position.position;
            let items = state
                .host
                .completions(&key, offset)
                .into_iter()
                .map(|c| CompletionItem {
                    // A dotted name or a quoted literal replaces what was typed of it.
                    text_edit: c.replace_from.and_then(|from| {
                        let end = c.replace_to.unwrap_or(offset);
                        let range =
                            state.range(&key, warden_diagnostics::TextRange::new(from, end))?;
                        Some(CompletionTextEdit::Edit(TextEdit {
                            range: Range {
                                start: range.start,
                                end: if end == offset { position } else { range.end },
                            },
                            new_text: c.label.clone(),
                        }))
                    }),
                    filter_text: c.replace_from.map(|_| c.label.clone()),
                    insert_text: c.snippet.clone().filter(|_| state.snippets),
                    insert_text_format: c
                        .snippet
                        .as_ref()
                        .filter(|_| state.snippets)
                        .map(|_| InsertTextFormat::SNIPPET),
                    label: c.label,
                    kind: Some(match c.kind {
                        CompletionKind::EnumMember => CompletionItemKind::ENUM_MEMBER,
                        CompletionKind::Package => CompletionItemKind::MODULE,
                        CompletionKind::Field => CompletionItemKind::FIELD,
                        CompletionKind::Keyword => CompletionItemKind::KEYWORD,
                        CompletionKind::Function => CompletionItemKind::FUNCTION,
                        CompletionKind::Rule => CompletionItemKind::CLASS,
                        CompletionKind::Type => CompletionItemKind::STRUCT,
                        CompletionKind::Data => CompletionItemKind::CONSTANT,
                    }),
                    detail: c.detail,
                    documentation: c.documentation.map(|doc| {
                        Documentation::MarkupContent(MarkupContent {
                            kind: MarkupKind::Markdown,
                            value: doc,
                        })
                    }),
                    ..CompletionItem::default()
                })
                .collect();
            Ok(Some(CompletionResponse::Array(items)))
        })
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        self.guarded(move |state| {
            let Some((key, offset)) = state.at(&params.text_document_position_params) else {
                return Ok(None);
            };
            let Some((file, range)) = state.host.definition(&key, offset) else {
                return Ok(None);
            };
            Ok(state
                .uri(&file)
                .zip(state.range(&file, range))
                .map(|(uri, range)| GotoDefinitionResponse::Scalar(Location { uri, range })))
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.guarded(move |state| {
            let Some(key) = state.key(&params.text_document.uri) else {
                return Ok(None);
            };
            #[allow(deprecated, reason = "the `deprecated` field must still be filled")]
            let symbols = state
                .host
                .symbols(&key)
                .into_iter()
                .filter_map(|s| {
                    Some(DocumentSymbol {
                        name: s.name,
                        detail: None,
                        kind: symbol_kind(s.kind),
                        tags: None,
                        deprecated: None,
                        range: state.range(&key, s.range)?,
                        selection_range: state.range(&key, s.selection)?,
                        children: None,
                    })
                })
                .collect();
            Ok(Some(DocumentSymbolResponse::Nested(symbols)))
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.guarded(move |state| {
            let Some(key) = state.key(&params.text_document.uri) else {
                return Ok(None);
            };
            let Some(formatted) = state.host.format(&key) else {
                return Ok(Some(Vec::new()));
            };
            let Some((index, text)) = state.host.line_index(&key) else {
                return Ok(None);
            };
            let (line, character) = index.utf16_position(&text, text.len());
            Ok(Some(vec![TextEdit {
                range: Range {
                    start: Position::new(0, 0),
                    end: Position { line, character },
                },
                new_text: formatted,
            }]))
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.guarded(move |state| {
            let Some((key, offset)) = state.at(&params.text_document_position) else {
                return Ok(None);
            };
            let locations = state
                .host
                .references(&key, offset)
                .into_iter()
                .filter_map(|(file, range)| {
                    Some(Location {
                        uri: state.uri(&file)?,
                        range: state.range(&file, range)?,
                    })
                })
                .collect();
            Ok(Some(locations))
        })
        .await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.guarded(move |state| {
            let Some((key, offset)) = state.at(&params.text_document_position) else {
                return Ok(None);
            };
            let edits = state
                .host
                .rename(&key, offset, &params.new_name)
                .map_err(tower_lsp_server::jsonrpc::Error::invalid_params)?;
            let mut changes: std::collections::HashMap<Uri, Vec<TextEdit>> = Default::default();
            for (file, range) in edits {
                if let (Some(uri), Some(range)) = (state.uri(&file), state.range(&file, range)) {
                    changes.entry(uri).or_default().push(TextEdit {
                        range,
                        new_text: params.new_name.clone(),
                    });
                }
            }
            Ok(Some(WorkspaceEdit {
                changes: Some(changes),
                ..WorkspaceEdit::default()
            }))
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        self.guarded(move |state| {
            #[allow(deprecated, reason = "the `deprecated` field must still be filled")]
            let found = state
                .host
                .workspace_symbols(&params.query)
                .into_iter()
                .filter_map(|(file, s)| {
                    Some(SymbolInformation {
                        name: s.name,
                        kind: symbol_kind(s.kind),
                        tags: None,
                        deprecated: None,
                        location: Location {
                            uri: state.uri(&file)?,
                            range: state.range(&file, s.selection)?,
                        },
                        container_name: None,
                    })
                })
                .collect();
            Ok(Some(WorkspaceSymbolResponse::Flat(found)))
        })
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.guarded(move |state| {
            let Some(key) = state.key(&params.text_document.uri) else {
                return Ok(None);
            };
            let folds = state
                .host
                .folds(&key)
                .into_iter()
                .filter_map(|r| {
                    let range = state.range(&key, r)?;
                    Some(FoldingRange {
                        start_line: range.start.line,
                        end_line: range.end.line,
                        ..FoldingRange::default()
                    })
                })
                .collect();
            Ok(Some(folds))
        })
        .await
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        self.guarded(move |state| {
            let Some((key, offset)) = state.at(&params.text_document_position_params) else {
                return Ok(None);
            };
            Ok(state
                .host
                .signature_help(&key, offset)
                .map(|(label, argument)| SignatureHelp {
                    signatures: vec![SignatureInformation {
                        label,
                        documentation: None,
                        parameters: None,
                        active_parameter: Some(argument as u32),
                    }],
                    active_signature: Some(0),
                    active_parameter: Some(argument as u32),
                }))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.guarded(move |state| {
            let Some(key) = state.key(&params.text_document.uri) else {
                return Ok(None);
            };
            let (Some(start), Some(end)) = (
                state.offset(&key, params.range.start),
                state.offset(&key, params.range.end),
            ) else {
                return Ok(None);
            };
            let uri = params.text_document.uri.clone();
            let actions = state
                .host
                .fixes(&key, warden_diagnostics::TextRange::new(start, end))
                .into_iter()
                .map(|(title, edits)| {
                    let edits = edits
                        .into_iter()
                        .filter_map(|(range, new_text)| {
                            Some(TextEdit {
                                range: state.range(&key, range)?,
                                new_text,
                            })
                        })
                        .collect();
                    CodeActionOrCommand::CodeAction(CodeAction {
                        title,
                        kind: Some(CodeActionKind::QUICKFIX),
                        edit: Some(WorkspaceEdit {
                            changes: Some([(uri.clone(), edits)].into_iter().collect()),
                            ..WorkspaceEdit::default()
                        }),
                        ..CodeAction::default()
                    })
                })
                .collect::<Vec<_>>();
            let mut actions = actions;
            if let Some((title, range, new_text)) = state.host.test_stub(&key, start)
                && let Some(range) = state.range(&key, range)
            {
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title,
                    kind: Some(CodeActionKind::REFACTOR),
                    edit: Some(WorkspaceEdit {
                        changes: Some(
                            [(uri, vec![TextEdit { range, new_text }])]
                                .into_iter()
                                .collect(),
                        ),
                        ..WorkspaceEdit::default()
                    }),
                    ..CodeAction::default()
                }));
            }
            Ok(Some(actions))
        })
        .await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.guarded(move |state| {
            let Some(key) = state.key(&params.text_document.uri) else {
                return Ok(None);
            };
            let Some((index, text)) = state.host.line_index(&key) else {
                return Ok(None);
            };
            // Relative encoding: each token from the one before. Tokens that
            // span lines (doc comments never do; strings cannot) are skipped.
            let mut data = Vec::new();
            let (mut last_line, mut last_start) = (0, 0);
            for (range, highlight) in state.host.highlights(&key) {
                let (line, start) = index.utf16_position(&text, range.start as usize);
                let (end_line, end) = index.utf16_position(&text, range.end as usize);
                if end_line != line {
                    continue;
                }
                let delta_start = if line == last_line {
                    start - last_start
                } else {
                    start
                };
                data.push(SemanticToken {
                    delta_line: line - last_line,
                    delta_start,
                    length: end - start,
                    token_type: legend_index(highlight),
                    token_modifiers_bitset: 0,
                });
                (last_line, last_start) = (line, start);
            }
            Ok(Some(SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data,
            })))
        })
        .await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let (tests, evaluations) = {
            let results = self.results.lock().unwrap_or_else(|p| p.into_inner());
            (results.tests.clone(), results.evaluations.clone())
        };
        self.guarded(move |state| {
            let Some(key) = state.key(&params.text_document.uri) else {
                return Ok(None);
            };
            let lenses = state
                .host
                .lenses(&key)
                .into_iter()
                .filter_map(|lens| {
                    let range = state.range(&key, lens.range)?;
                    let command = match lens.kind {
                        LensKind::RunTest { test } => Command {
                            title: match tests.get(&test) {
                                Some(outcome) => format!("▶ Run test · {outcome}"),
                                None => "▶ Run test".into(),
                            },
                            command: RUN_TEST.into(),
                            arguments: Some(vec![serde_json::json!(test)]),
                        },
                        LensKind::Evaluate { target } => Command {
                            title: match evaluations.get(&target) {
                                Some(outcome) => format!("Evaluate against fixture… · {outcome}"),
                                None => "Evaluate against fixture…".into(),
                            },
                            command: EVALUATE.into(),
                            arguments: Some(vec![serde_json::json!({ "target": target })]),
                        },
                    };
                    Some(CodeLens {
                        range,
                        command: Some(command),
                        data: None,
                    })
                })
                .collect();
            Ok(Some(lenses))
        })
        .await
    }

    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> Result<Option<serde_json::Value>> {
        match params.command.as_str() {
            RUN_TEST => self.run_test(params.arguments).await,
            EVALUATE => self.evaluate(params.arguments).await,
            other => Err(tower_lsp_server::jsonrpc::Error::invalid_params(format!(
                "unknown command `{other}`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::jsonrpc::ErrorCode;

    #[test]
    fn a_cancelled_query_answers_content_modified_and_a_bug_an_internal_error() {
        let state = State::default();
        let cancelled = answer(&state, |_| -> Result<()> {
            std::panic::resume_unwind(Box::new(Cancelled::PendingWrite))
        });
        assert_eq!(cancelled.unwrap_err().code, ErrorCode::ContentModified);
        let bug = answer(&state, |_| -> Result<()> { panic!("a bug in a handler") });
        assert_eq!(bug.unwrap_err().code, ErrorCode::InternalError);
        assert_eq!(answer(&state, |_| Ok(7)).unwrap(), 7);
    }
}
