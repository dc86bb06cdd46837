//! What every request shares: the policy set being served (swapped whole on
//! reload), the configuration, metrics and the decision log.

use crate::config::ServerConfig;
use crate::decision_log::DecisionLog;
use crate::load::{LoadError, Loaded, load};
use crate::metrics::Metrics;
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use warden::Engine;

/// The shared state, behind an `Arc`.
pub struct AppState {
    pub config: ServerConfig,
    /// The compiled policy set with its data; a reload replaces it in one step,
    /// so a request sees the old set or the new one, never a mix.
    pub engine: ArcSwap<Engine>,
    pub metrics: Metrics,
    pub log: Option<DecisionLog>,
    /// Set when shutting down: `/ready` answers 503 so traffic moves away.
    pub draining: AtomicBool,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    /// Evaluations running at once (`limits.max_evaluations`).
    pub evaluations: tokio::sync::Semaphore,
    /// The tokens callers of the decision endpoints present (`[auth]`).
    pub callers: crate::caller_auth::CallerTokens,
    /// The bundle source polled, when the set comes from one (`[bundle]`).
    pub bundle: Option<crate::bundle::BundleFeed>,
    /// The sinks the decision log is shipped to.
    pub shipping: Vec<crate::ship::ShipHandle>,
}

impl AppState {
    pub fn new(
        config: ServerConfig,
        engine: Engine,
        log: Option<DecisionLog>,
        callers: crate::caller_auth::CallerTokens,
        bundle: Option<crate::bundle::BundleFeed>,
        shipping: Vec<crate::ship::ShipHandle>,
    ) -> AppState {
        let metrics = Metrics::default();
        metrics.serving(engine.revision(), engine.bundle_revision());
        AppState {
            engine: ArcSwap::from_pointee(engine),
            metrics,
            log,
            draining: AtomicBool::new(false),
            reloading: tokio::sync::Mutex::new(()),
            evaluations: tokio::sync::Semaphore::new(config.limits.evaluations()),
            callers,
            bundle,
            shipping,
            config,
        }
    }

    /// Whether the server takes traffic.
    pub fn ready(&self) -> bool {
        !self.draining.load(Ordering::Relaxed) && !self.log.as_ref().is_some_and(|l| l.failed())
    }

    /// Recompiles the policy set and swaps it in; on failure the set being
    /// served stays, and the errors come back. Requests in flight finish on
    /// the set they started with.
    /// On success: the new revision, and the files left out of the set.
    pub async fn reload(self: &Arc<Self>, why: &str) -> Result<(String, Vec<String>), LoadError> {
        let _one_at_a_time = self.reloading.lock().await;
        let state = Arc::clone(self);
        let serving = self.engine.load_full();
        let error_before = self
            .bundle
            .as_ref()
            .and_then(|feed| feed.status().last_error.map(|e| e.message));
        let loaded = tokio::task::spawn_blocking(move || match &state.bundle {
            Some(feed) => feed.update(&state.config, Some(&serving), feed.built_at()),
            None => load(&state.config, Some(&serving)).map(Some),
        })
        .await
        .unwrap_or_else(|e| Err(LoadError::Task(e.to_string())));
        if let Some(feed) = &self.bundle {
            let status = feed.status();
            self.metrics
                .bundle_polled(status.last_result, status.last_success_seconds);
        }
        match loaded {
            // The bundle source has nothing new.
            Ok(None) => Ok((self.engine.load().revision().to_string(), Vec::new())),
            Ok(Some(Loaded { engine, skipped })) => {
                let revision = engine.revision().to_string();
                let bundle_revision = engine.bundle_revision().map(str::to_string);
                let replaced = self.engine.swap(Arc::new(engine));
                if let Some(feed) = &self.bundle {
                    feed.swapped();
                }
                tokio::spawn(release_replaced(replaced));
                self.metrics.serving(&revision, bundle_revision.as_deref());
                self.metrics
                    .reloads
                    .get_or_create(&crate::metrics::ResultLabels {
                        result: "ok".into(),
                    })
                    .inc();
                match &bundle_revision {
                    Some(bundle) => {
                        tracing::info!(%revision, %bundle, trigger = why, "bundle swapped in")
                    }
                    None => tracing::info!(%revision, trigger = why, "policy set reloaded"),
                }
                Ok((revision, skipped))
            }
            Err(e) if self.bundle.is_some() => {
                // Said once, not at every poll while it lasts: `/v1/status`
                // and the metrics show it meanwhile.
                if error_before.as_deref() != Some(e.to_string().as_str()) {
                    for d in e.diagnostics() {
                        tracing::error!(code = %d.code, file = %d.place.file, line = d.place.line, "{}", d.message);
                    }
                    tracing::error!(
                        trigger = why,
                        "no new bundle taken, the revision served stays: {e}"
                    );
                }
                Err(e)
            }
            Err(e) => {
                self.metrics
                    .reloads
                    .get_or_create(&crate::metrics::ResultLabels {
                        result: "refused".into(),
                    })
                    .inc();
                for d in e.diagnostics() {
                    tracing::error!(code = %d.code, file = %d.place.file, line = d.place.line, "{}", d.message);
                }
                tracing::error!(
                    trigger = why,
                    "reload refused, the previous policy set keeps serving: {e}"
                );
                Err(e)
            }
        }
    }
}

/// Frees a replaced policy set once the decisions still using it are done
/// (a few seconds at most; after that it is freed by the last of them), and
/// hands the freed memory back to the system: glibc's allocator keeps freed
/// heap pages otherwise, and a server that reloaded a large catalog once
/// would stay at twice its size.
async fn release_replaced(replaced: Arc<Engine>) {
    for _ in 0..100 {
        if Arc::strong_count(&replaced) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Dropping 100,000 apps' values takes a while: not on a request thread.
    let _ = tokio::task::spawn_blocking(move || {
        drop(replaced);
        trim_heap();
    })
    .await;
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap() {
    // SAFETY: `malloc_trim` returns free heap pages to the kernel; it reads
    // and changes only the allocator's own free lists, no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}
