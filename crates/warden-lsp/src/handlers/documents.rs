//! Text sync: files opened, edited and closed in the editor, and changed on
//! disk; each change is published as fresh diagnostics.

use crate::backend::Backend;
use tower_lsp_server::ls_types::*;

pub(crate) async fn did_open(backend: &Backend, params: DidOpenTextDocumentParams) {
    {
        let mut state = backend.state();
        if let Some(key) = state.key(&params.text_document.uri) {
            state.host.set_file(&key, &params.text_document.text);
            state.open.insert(key);
        }
    }
    backend.publish().await;
}

pub(crate) async fn did_change(backend: &Backend, params: DidChangeTextDocumentParams) {
    backend.forget_results();
    {
        let mut state = backend.state();
        // Full sync: the last change holds the whole text.
        if let (Some(key), Some(change)) = (
            state.key(&params.text_document.uri),
            params.content_changes.last(),
        ) {
            state.host.set_file(&key, &change.text);
        }
    }
    backend.publish().await;
}

pub(crate) async fn did_close(backend: &Backend, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    let forgotten = {
        let mut state = backend.state();
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
        backend
            .client
            .publish_diagnostics(uri, Vec::new(), None)
            .await;
    }
    backend.publish().await;
}

pub(crate) async fn did_change_watched_files(
    backend: &Backend,
    params: DidChangeWatchedFilesParams,
) {
    let mut cleared = Vec::new();
    {
        let mut state = backend.state();
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
        backend
            .client
            .publish_diagnostics(uri, Vec::new(), None)
            .await;
    }
    backend.publish().await;
}
