//! `warden lsp`: the language server, on stdio. Thin handlers over
//! [`warden_ide::AnalysisHost`], which answers from the same compiler
//! queries as `warden lint`; positions are converted between UTF-16 (LSP)
//! and byte offsets here, at the edge.
//!
//! `lib.rs` is the routing table: one line a request or notification,
//! handled in `handlers/<request>.rs`; `commands/` holds what
//! `workspace/executeCommand` runs, `convert.rs` the LSP shapes of
//! Warden's answers, `state.rs` the snapshot a request reads.

mod backend;
mod commands;
mod convert;
mod handlers;
mod state;
mod transport;

use backend::Backend;
use handlers::*;
use state::State;
use std::sync::{Mutex, OnceLock};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{LanguageServer, LspService, Server};

/// For tests of cancellation only: every request waits this many
/// milliseconds on its snapshot before it reads it, so an edit can arrive
/// while it is in flight.
const REQUEST_DELAY_VAR: &str = "WARDEN_LSP_TEST_REQUEST_DELAY_MS";

/// Serves the language server on standard input and output until `exit`
/// (or the end of the input). `code_docs` holds `(code, markdown)`: the
/// explanation of every diagnostic code, linked from each diagnostic.
/// Whether `shutdown` came first: the process then exits 0, else 1, as the
/// protocol asks.
pub async fn run_stdio(code_docs: &'static [(&'static str, &'static str)]) -> bool {
    let shut_down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&shut_down);
    let (service, socket) = LspService::new(move |client| Backend {
        shut_down: flag,
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
    // The server reads and writes through `transport`, which checks every
    // frame first (tower-lsp-server stops at the first it cannot decode).
    let (to_server, server_input) = tokio::io::duplex(1 << 16);
    let (server_output, from_server) = tokio::io::duplex(1 << 16);
    let (to_client, frames) = tokio::sync::mpsc::channel(16);
    let input = tokio::spawn(transport::forward_input(
        tokio::io::stdin(),
        to_server,
        to_client.clone(),
    ));
    tokio::spawn(transport::forward_server(from_server, to_client));
    let output = tokio::spawn(transport::write_client(frames, tokio::io::stdout()));
    // Room for requests that wait on the user (a fixture prompt) beside the
    // ones an editor sends while typing.
    Server::new(server_input, server_output, socket)
        .concurrency_level(32)
        .serve(service)
        .await;
    // `exit` ends the server before the client's stream ends.
    input.abort();
    let _ = output.await;
    shut_down.load(std::sync::atomic::Ordering::Acquire)
}

/// A request answered from a snapshot by a plain handler: one line each.
macro_rules! on_snapshot {
    ($($method:ident($params:ty) -> $answer:ty => $handler:path;)*) => {
        $(async fn $method(&self, params: $params) -> Result<$answer> {
            self.on(params, $handler).await
        })*
    };
}

#[rustfmt::skip]
impl LanguageServer for Backend {
    async fn initialize(&self, p: InitializeParams) -> Result<InitializeResult> { lifecycle::initialize(self, p) }
    async fn initialized(&self, _: InitializedParams) { lifecycle::initialized(self).await }
    async fn shutdown(&self) -> Result<()> { lifecycle::shutdown(self) }
    async fn did_open(&self, p: DidOpenTextDocumentParams) { documents::did_open(self, p).await }
    async fn did_change(&self, p: DidChangeTextDocumentParams) { documents::did_change(self, p).await }
    async fn did_close(&self, p: DidCloseTextDocumentParams) { documents::did_close(self, p).await }
    async fn did_change_watched_files(&self, p: DidChangeWatchedFilesParams) { documents::did_change_watched_files(self, p).await }
    async fn code_lens(&self, p: CodeLensParams) -> Result<Option<Vec<CodeLens>>> { code_lens::code_lens(self, p).await }
    async fn execute_command(&self, p: ExecuteCommandParams) -> Result<Option<serde_json::Value>> { commands::execute(self, p).await }
    on_snapshot! {
        hover(HoverParams) -> Option<Hover> => hover::hover;
        completion(CompletionParams) -> Option<CompletionResponse> => completion::completion;
        goto_definition(GotoDefinitionParams) -> Option<GotoDefinitionResponse> => definition::goto_definition;
        references(ReferenceParams) -> Option<Vec<Location>> => references::references;
        rename(RenameParams) -> Option<WorkspaceEdit> => rename::rename;
        document_symbol(DocumentSymbolParams) -> Option<DocumentSymbolResponse> => document_symbol::document_symbol;
        symbol(WorkspaceSymbolParams) -> Option<WorkspaceSymbolResponse> => workspace_symbol::symbol;
        formatting(DocumentFormattingParams) -> Option<Vec<TextEdit>> => formatting::formatting;
        folding_range(FoldingRangeParams) -> Option<Vec<FoldingRange>> => folding_range::folding_range;
        signature_help(SignatureHelpParams) -> Option<SignatureHelp> => signature_help::signature_help;
        code_action(CodeActionParams) -> Option<CodeActionResponse> => code_action::code_action;
        semantic_tokens_full(SemanticTokensParams) -> Option<SemanticTokensResult> => semantic_tokens::semantic_tokens_full;
    }
}
