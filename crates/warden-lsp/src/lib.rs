//! `warden lsp`: the language server, on stdio. Thin handlers over
//! [`warden_ide::AnalysisHost`], which answers from the same compiler
//! queries as `warden lint`; positions are converted between UTF-16 (LSP)
//! and byte offsets here, at the edge.

use std::path::PathBuf;
use std::sync::Mutex;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};
use warden_ide::{AnalysisHost, CompletionKind, SymbolKind};

/// Serves the language server on standard input and output until `exit`.
pub async fn run_stdio() {
    let (service, socket) = LspService::new(|client| Backend {
        client,
        state: Mutex::new(State::default()),
    });
    Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
        .serve(service)
        .await;
}

#[derive(Default)]
struct State {
    host: AnalysisHost,
    /// The workspace folder: files are keyed by their path below it.
    root: Option<PathBuf>,
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

    /// Reads every policy of the workspace, and the JSON files they name.
    fn load_workspace(&mut self) {
        let Some(root) = &self.root else {
            return;
        };
        let Ok(sources) = warden::PolicySources::from_path(root) else {
            return;
        };
        for (path, text) in &sources.files {
            self.host.set_file(path, text);
        }
        self.host.set_schemas(sources.schemas.clone());
    }
}

struct Backend {
    client: Client,
    state: Mutex<State>,
}

impl Backend {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A handler that panicked leaves the state as it was: keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes every file's diagnostics (an empty list clears a file).
    async fn publish(&self) {
        let batches: Vec<(Uri, Vec<Diagnostic>)> = {
            let state = self.state();
            state
                .host
                .diagnostics()
                .into_iter()
                .filter_map(|(key, found)| {
                    let uri = state.uri(&key)?;
                    let items = found
                        .iter()
                        .filter_map(|f| to_lsp_diagnostic(&state, &key, f))
                        .collect();
                    Some((uri, items))
                })
                .collect()
        };
        for (uri, items) in batches {
            self.client.publish_diagnostics(uri, items, None).await;
        }
    }
}

fn to_lsp_diagnostic(
    state: &State,
    key: &str,
    found: &warden_ide::FileDiagnostic,
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
        {
            let mut state = self.state();
            state.root = root;
            state.load_workspace();
        }
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
                    trigger_characters: Some(vec![".".into()]),
                    ..CompletionOptions::default()
                }),
                definition_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                ..ServerCapabilities::default()
            },
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
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
            }
        }
        self.publish().await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
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
        {
            let mut state = self.state();
            let Some(key) = state.key(&params.text_document.uri) else {
                return;
            };
            // Back to what is on disk; a file that was never saved goes.
            let on_disk = params
                .text_document
                .uri
                .to_file_path()
                .and_then(|p| std::fs::read_to_string(p).ok());
            match on_disk {
                Some(text) => state.host.set_file(&key, &text),
                None => state.host.remove_file(&key),
            }
        }
        self.publish().await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let state = self.state();
        let at = &params.text_document_position_params;
        let Some(key) = state.key(&at.text_document.uri) else {
            return Ok(None);
        };
        let Some(offset) = state.offset(&key, at.position) else {
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
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let state = self.state();
        let at = &params.text_document_position;
        let Some(key) = state.key(&at.text_document.uri) else {
            return Ok(None);
        };
        let Some(offset) = state.offset(&key, at.position) else {
            return Ok(None);
        };
        let items = state
            .host
            .completions(&key, offset)
            .into_iter()
            .map(|c| CompletionItem {
                label: c.label,
                kind: Some(match c.kind {
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
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let state = self.state();
        let at = &params.text_document_position_params;
        let Some(key) = state.key(&at.text_document.uri) else {
            return Ok(None);
        };
        let Some(offset) = state.offset(&key, at.position) else {
            return Ok(None);
        };
        let Some((file, range)) = state.host.definition(&key, offset) else {
            return Ok(None);
        };
        Ok(state
            .uri(&file)
            .zip(state.range(&file, range))
            .map(|(uri, range)| GotoDefinitionResponse::Scalar(Location { uri, range })))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let state = self.state();
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
                    kind: match s.kind {
                        SymbolKind::Type => tower_lsp_server::ls_types::SymbolKind::STRUCT,
                        SymbolKind::Target => tower_lsp_server::ls_types::SymbolKind::INTERFACE,
                        SymbolKind::Data => tower_lsp_server::ls_types::SymbolKind::CONSTANT,
                        SymbolKind::Rule => tower_lsp_server::ls_types::SymbolKind::CLASS,
                        SymbolKind::Function => tower_lsp_server::ls_types::SymbolKind::FUNCTION,
                        SymbolKind::Waiver => tower_lsp_server::ls_types::SymbolKind::EVENT,
                        SymbolKind::Test => tower_lsp_server::ls_types::SymbolKind::METHOD,
                    },
                    tags: None,
                    deprecated: None,
                    range: state.range(&key, s.range)?,
                    selection_range: state.range(&key, s.selection)?,
                    children: None,
                })
            })
            .collect();
        Ok(Some(DocumentSymbolResponse::Nested(symbols)))
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let state = self.state();
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
    }
}
