//! `warden lsp`: the language server, on stdio. Thin handlers over
//! [`warden_ide::AnalysisHost`], which answers from the same compiler
//! queries as `warden lint`; positions are converted between UTF-16 (LSP)
//! and byte offsets here, at the edge.

use std::path::PathBuf;
use std::sync::Mutex;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};
use warden_ide::{AnalysisHost, CompletionKind, Highlight, SymbolKind};

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
}

impl Backend {
    /// Runs a request's handler; a bug in it answers that request with an
    /// error instead of taking the server down.
    fn guarded<T>(&self, handler: impl FnOnce(&State) -> Result<T>) -> Result<T> {
        let state = self.state();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&state)))
            .unwrap_or_else(|_| Err(tower_lsp_server::jsonrpc::Error::internal_error()))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A handler that panicked leaves the state as it was: keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes every file's diagnostics (an empty list clears a file).
    async fn publish(&self) {
        let batches = self.guarded(|state| {
            Ok(state
                .host
                .diagnostics()
                .into_iter()
                .filter_map(|(key, found)| {
                    let uri = state.uri(&key)?;
                    let items = found
                        .iter()
                        .filter_map(|f| to_lsp_diagnostic(state, &key, f))
                        .collect();
                    Some((uri, items))
                })
                .collect::<Vec<(Uri, Vec<Diagnostic>)>>())
        });
        let Ok(batches) = batches else {
            self.client
                .log_message(MessageType::ERROR, "warden: checking the policies failed")
                .await;
            return;
        };
        for (uri, items) in batches {
            self.client.publish_diagnostics(uri, items, None).await;
        }
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
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".into(), ",".into()]),
                    ..SignatureHelpOptions::default()
                }),
                code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
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
        self.guarded(|state| {
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
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.guarded(|state| {
            let Some((key, offset)) = state.at(&params.text_document_position) else {
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
        })
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        self.guarded(|state| {
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
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.guarded(|state| {
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
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.guarded(|state| {
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
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.guarded(|state| {
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
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.guarded(|state| {
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
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        self.guarded(|state| {
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
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.guarded(|state| {
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
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        self.guarded(|state| {
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
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.guarded(|state| {
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
                .collect();
            Ok(Some(actions))
        })
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.guarded(|state| {
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
    }
}
