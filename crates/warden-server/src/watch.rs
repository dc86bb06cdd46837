//! Reloading when a policy or data file changes on disk. Editors save in
//! bursts (write a temporary file, rename it, touch metadata), so events are
//! gathered until the folder has been quiet for a moment, then one reload runs.

use crate::state::AppState;
use notify::{RecursiveMode, Watcher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long the files must stay unchanged before a reload.
const QUIET: Duration = Duration::from_millis(250);

/// The folders to watch: each policy folder (recursively), and the folder of
/// each policy file and data file (editors replace files, so a watch on the
/// file itself would be lost at the first save).
fn watched(state: &AppState) -> Vec<(PathBuf, RecursiveMode)> {
    let parent = |p: &std::path::Path| {
        p.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf)
    };
    let mut out = Vec::new();
    for path in &state.config.policy {
        if path.is_dir() {
            out.push((path.clone(), RecursiveMode::Recursive));
        } else {
            out.push((parent(path), RecursiveMode::NonRecursive));
        }
    }
    for arg in &state.config.data {
        let file = arg.split_once('=').map_or(arg.as_str(), |(_, f)| f);
        out.push((
            parent(std::path::Path::new(file)),
            RecursiveMode::NonRecursive,
        ));
    }
    out
}

/// A running watch: the watcher, and the task that reloads.
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Watch {
    /// Stops watching; the task lets go of the state.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Watches the policy and data files; reloads `state` when they change.
pub fn start(state: Arc<AppState>) -> notify::Result<Watch> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            let _ = tx.send(());
        }
    })?;
    for (path, mode) in watched(&state) {
        watcher.watch(&path, mode)?;
    }
    let task = tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Wait out the burst.
            while let Ok(Some(())) = tokio::time::timeout(QUIET, rx.recv()).await {}
            let _ = state.reload("file change").await;
        }
    });
    Ok(Watch {
        _watcher: watcher,
        task,
    })
}
