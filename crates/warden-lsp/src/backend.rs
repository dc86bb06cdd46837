//! The server's state between requests, and how a request runs: on a
//! snapshot, off the async threads, cancelled by the next change.

use crate::convert::to_lsp_diagnostic;
use crate::state::State;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use warden_ide::Cancelled;

pub(crate) struct Backend {
    pub(crate) client: Client,
    pub(crate) state: Mutex<State>,
    /// What the last runs showed, for the code lens titles.
    pub(crate) results: Mutex<LensResults>,
    pub(crate) code_docs: &'static [(&'static str, &'static str)],
    /// Where the code explanations were written, for diagnostic links.
    pub(crate) docs_dir: OnceLock<Option<PathBuf>>,
    /// Whether the client accepts `workspace/codeLens/refresh`.
    pub(crate) lens_refresh: OnceLock<bool>,
    /// Whether the client can watch files for the server.
    pub(crate) watch_files: OnceLock<bool>,
    /// See [`REQUEST_DELAY_VAR`].
    pub(crate) request_delay: Option<std::time::Duration>,
    /// What loading the workspace could not read, shown once initialized.
    pub(crate) load_warnings: Mutex<Vec<String>>,
    /// Set by `shutdown`: whether `exit` came after it (exit code 0) or not (1).
    pub(crate) shut_down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Code lens titles after a run: by full test name, and by target.
#[derive(Default)]
pub(crate) struct LensResults {
    pub(crate) tests: HashMap<String, String>,
    pub(crate) evaluations: HashMap<String, String>,
    /// "Decisions vs main": by target.
    pub(crate) impacts: HashMap<String, String>,
}

/// Runs a handler, mapping a cancelled query (a change arrived while it
/// ran) to `ContentModified` and any other panic to an internal error.
pub(crate) fn answer<T>(state: &State, handler: impl FnOnce(&State) -> Result<T>) -> Result<T> {
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
    pub(crate) async fn guarded<T: Send + 'static>(
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

    /// Runs a request handler of `handlers/` on a snapshot (see [`Backend::guarded`]).
    pub(crate) async fn on<P: Send + 'static, R: Send + 'static>(
        &self,
        params: P,
        handler: fn(&State, P) -> Result<R>,
    ) -> Result<R> {
        self.guarded(move |state| handler(state, params)).await
    }

    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A handler that panicked leaves the state as it was: keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lens outcomes describe the text they ran on: an edit makes them stale.
    pub(crate) fn forget_results(&self) {
        let mut results = self.results.lock().unwrap_or_else(|p| p.into_inner());
        results.tests.clear();
        results.evaluations.clear();
        results.impacts.clear();
    }

    /// Asks the client to fetch code lenses again (their titles changed).
    pub(crate) async fn refresh_lenses(&self) {
        if self.lens_refresh.get() == Some(&true) {
            let _ = self.client.code_lens_refresh().await;
        }
    }

    /// The set being edited as an engine (an error if it does not compile).
    pub(crate) async fn engine(&self) -> Result<warden::Engine> {
        self.guarded(|state| {
            state
                .host
                .engine()
                .map_err(tower_lsp_server::jsonrpc::Error::invalid_params)
        })
        .await
    }

    pub(crate) async fn publish(&self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;
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
