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

/// The longest a reload waits for the files to settle.
const LONGEST_WAIT: Duration = Duration::from_secs(2);

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

/// Whether a changed path is part of the policy set: a policy file, a data
/// file, or a JSON or YAML file in a policy folder (schemas, data defaults).
/// Anything else in those folders (a decision log, an editor's swap file)
/// does not trigger a reload.
struct Relevant {
    policy_dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl Relevant {
    fn new(state: &AppState) -> Relevant {
        let absolute = |p: &std::path::Path| {
            let name = p.file_name().map(PathBuf::from).unwrap_or_default();
            let parent = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            parent
                .canonicalize()
                .map(|d| d.join(name))
                .unwrap_or_else(|_| p.to_path_buf())
        };
        let mut policy_dirs = Vec::new();
        let mut files = Vec::new();
        for path in &state.config.policy {
            match path.canonicalize() {
                Ok(dir) if dir.is_dir() => policy_dirs.push(dir),
                _ => files.push(absolute(path)),
            }
        }
        for arg in &state.config.data {
            let file = arg.split_once('=').map_or(arg.as_str(), |(_, f)| f);
            files.push(absolute(std::path::Path::new(file)));
        }
        Relevant { policy_dirs, files }
    }

    fn matches(&self, path: &std::path::Path) -> bool {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        self.files.iter().any(|f| f == path)
            || (self.policy_dirs.iter().any(|d| path.starts_with(d))
                && matches!(ext, "warden" | "json" | "yaml" | "yml"))
    }
}

/// Watches the policy and data files; reloads `state` when they change.
pub fn start(state: Arc<AppState>) -> notify::Result<Watch> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let relevant = Relevant::new(&state);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
            && event.paths.iter().any(|p| relevant.matches(p))
        {
            let _ = tx.send(());
        }
    })?;
    for (path, mode) in watched(&state) {
        watcher.watch(&path, mode)?;
    }
    let task = tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Wait out the burst, but not for ever: files that keep changing
            // are still picked up.
            let deadline = tokio::time::Instant::now() + LONGEST_WAIT;
            while tokio::time::Instant::now() < deadline
                && let Ok(Some(())) = tokio::time::timeout(QUIET, rx.recv()).await
            {}
            let _ = state.reload("file change").await;
        }
    });
    Ok(Watch {
        _watcher: watcher,
        task,
    })
}
