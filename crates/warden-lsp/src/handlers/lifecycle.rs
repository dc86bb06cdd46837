//! `initialize` and `initialized`: the workspace folder, the client's
//! capabilities, the server's, and the first diagnostics.

use crate::backend::Backend;
use crate::commands::{EVALUATE, IMPACT, RUN_TEST};
use crate::convert::LEGEND;
use std::path::PathBuf;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn initialize(backend: &Backend, params: InitializeParams) -> Result<InitializeResult> {
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
        let mut state = backend.state();
        state.root = root;
        state.snippets = client
            .text_document
            .as_ref()
            .and_then(|t| t.completion.as_ref())
            .and_then(|c| c.completion_item.as_ref())
            .and_then(|i| i.snippet_support)
            .unwrap_or(false);
        let warnings = state.load_workspace();
        *backend
            .load_warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = warnings;
    }
    let _ = backend.watch_files.set(
        client
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false),
    );
    let _ = backend.lens_refresh.set(
        client
            .workspace
            .as_ref()
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false),
    );
    // Set once, at the one `initialize` a session has.
    let _ = backend.docs_dir.set(write_code_docs(backend.code_docs));
    Ok(InitializeResult {
        server_info: Some(ServerInfo {
            name: "warden".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        capabilities: ServerCapabilities {
            text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
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
                commands: vec![RUN_TEST.into(), EVALUATE.into(), IMPACT.into()],
                ..ExecuteCommandOptions::default()
            }),
            semantic_tokens_provider: Some(
                SemanticTokensServerCapabilities::SemanticTokensOptions(SemanticTokensOptions {
                    legend: SemanticTokensLegend {
                        token_types: LEGEND.to_vec(),
                        token_modifiers: Vec::new(),
                    },
                    full: Some(SemanticTokensFullOptions::Bool(true)),
                    ..SemanticTokensOptions::default()
                }),
            ),
            ..ServerCapabilities::default()
        },
        ..InitializeResult::default()
    })
}

pub(crate) async fn initialized(backend: &Backend) {
    let warnings = std::mem::take(
        &mut *backend
            .load_warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner()),
    );
    for warning in warnings {
        backend
            .client
            .show_message(MessageType::WARNING, format!("warden: skipped {warning}"))
            .await;
    }
    // Policy and JSON files changed outside the editor (a branch switch,
    // a generated schema) are read again.
    if backend.watch_files.get() == Some(&true) {
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
        let _ = backend.client.register_capability(vec![registration]).await;
    }
    backend.publish().await;
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

/// `shutdown`: nothing to save; the `exit` that follows ends the process
/// with code 0 (an `exit` without it, 1).
pub(crate) fn shutdown(backend: &Backend) -> Result<()> {
    backend
        .shut_down
        .store(true, std::sync::atomic::Ordering::Release);
    Ok(())
}
