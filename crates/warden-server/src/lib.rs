//! `warden serve`: the HTTP decision server gateways query.
//!
//! One compiled policy set (a [`warden::Engine`]) serves every request; a
//! reload compiles a new one beside it and swaps it in whole, so no request
//! is dropped and none sees half a policy set. See `docs/server.md`.

mod authzen;
mod body;
pub mod config;
pub mod decision_log;
mod error;
mod gateway;
mod grpc;
mod listen;
mod metrics;
mod routes;
mod state;
mod watch;

pub use config::ServerConfig;
pub use state::{AppState, LoadError, load};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{any, get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("cannot open the decision log `{path}`: {source}")]
    DecisionLog {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(#[from] listen::TlsError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Every route, with the limits of `state.config`.
pub fn router(state: Arc<AppState>) -> Router {
    let limits = &state.config.limits;
    let layers = ServiceBuilder::new()
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(limits.request_timeout_ms),
        ))
        .layer(ConcurrencyLimitLayer::new(limits.max_concurrent_requests));
    Router::new()
        .route("/v1/decide", post(routes::decide_route))
        .route("/v1/check", post(routes::check_route))
        .route("/v1/policies", get(routes::policies_route))
        .route("/v1/reload", post(routes::reload_route))
        .route("/health", get(routes::health_route))
        .route("/ready", get(routes::ready_route))
        .route("/metrics", get(routes::metrics_route))
        .route("/access/v1/evaluation", post(authzen::evaluation_route))
        .route("/access/v1/evaluations", post(authzen::evaluations_route))
        .route(
            "/.well-known/authzen-configuration",
            get(authzen::configuration_route),
        )
        .route(
            "/v1/authz/nginx",
            get(gateway::nginx_route).post(gateway::nginx_route),
        )
        .route("/v1/authz/envoy", any(gateway::envoy_route))
        .route("/v1/authz/envoy/{*original}", any(gateway::envoy_route))
        .fallback(|| async {
            error::ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
        })
        .layer(layers)
        .with_state(state)
}

/// Compiles the policy set, opens the decision log, listens, and serves until
/// SIGTERM or SIGINT; SIGHUP reloads. `on_listening` is told the scheme and
/// address (useful with port 0). Queued decision-log lines are written
/// before it returns.
pub async fn run(
    config: ServerConfig,
    on_listening: impl Fn(&str, SocketAddr),
) -> Result<(), ServerError> {
    let startup = config.clone();
    let engine = tokio::task::spawn_blocking(move || load(&startup))
        .await
        .map_err(|e| ServerError::Io(std::io::Error::other(e)))??;
    let (log, writer) = match &config.decision_log {
        Some(path) => {
            let (log, writer) = decision_log::DecisionLog::open(path)
                .await
                .map_err(|source| ServerError::DecisionLog {
                    path: path.display().to_string(),
                    source,
                })?;
            (Some(log), Some(writer))
        }
        None => (None, None),
    };
    let tls = match &config.tls {
        Some(files) => Some(listen::tls_config(
            &files.cert,
            &files.key,
            files.client_ca.as_deref(),
        )?),
        None => None,
    };
    let bind = |addr: SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })
    };
    let listener = bind(config.addr).await?;
    let grpc_listener = match config.grpc_addr {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let max_connections = config.limits.max_connections;
    let state = Arc::new(AppState::new(config, engine, log));
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(addr = %local, %scheme, revision = %state.engine.load().revision(), "serving decisions");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let grpc = match grpc_listener {
        Some(grpc_listener) => {
            let grpc_local = grpc_listener.local_addr()?;
            tracing::info!(addr = %grpc_local, "serving Envoy ext_authz over gRPC");
            on_listening("grpc", grpc_local);
            let service = grpc::service(Arc::clone(&state));
            let stopped = stopped.clone();
            Some(tokio::spawn(async move {
                tonic::transport::Server::builder()
                    .add_service(service)
                    .serve_with_incoming_shutdown(
                        tonic::transport::server::TcpIncoming::from(grpc_listener),
                        wait_for_stop(stopped),
                    )
                    .await
            }))
        }
        None => None,
    };
    on_listening(scheme, local);
    let signals = tokio::spawn(stop_on_signal(Arc::clone(&state), stop));

    let hangups = tokio::spawn(reload_on_sighup(Arc::clone(&state)));
    let watch = if state.config.watch {
        match watch::start(Arc::clone(&state)) {
            Ok(watcher) => Some(watcher),
            Err(e) => {
                tracing::warn!(
                    "cannot watch the policy files ({e}); reload with SIGHUP or POST /v1/reload"
                );
                None
            }
        }
    } else {
        None
    };
    match tls {
        Some(tls) => {
            serve_on(
                listen::tls(listener, max_connections, tls)?,
                &state,
                stopped,
            )
            .await?;
        }
        None => serve_on(listen::plain(listener, max_connections)?, &state, stopped).await?,
    }
    if let Some(grpc) = grpc
        && let Ok(Err(e)) = grpc.await
    {
        tracing::error!("the gRPC server stopped with an error: {e}");
    }
    signals.abort();
    let _ = signals.await;
    hangups.abort();
    let _ = hangups.await;
    if let Some(watch) = watch {
        watch.stop().await;
    }
    drop(state);
    if let Some(writer) = writer {
        let head = writer.finish().await?;
        // Recorded here, the head makes a changed or cut tail detectable
        // (`warden audit verify --head`).
        tracing::info!(lines = head.seq, head = %head.hash, "decision log closed");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serves each connection with HTTP/1.1 or HTTP/2 until told to stop, then
/// lets the connections in flight finish (for at most `DRAIN`).
async fn serve_on<S>(
    mut incoming: listen::Incoming<S>,
    state: &Arc<AppState>,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    const DRAIN: Duration = Duration::from_secs(30);
    let app = router(Arc::clone(state));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(
            state.config.limits.header_read_timeout_ms,
        ));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = wait_for_stop(stopped);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            conn = incoming.next() => {
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                let connection = builder
                    .serve_connection_with_upgrades(TokioIo::new(conn), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            () = &mut stop => break,
        }
    }
    drop(incoming);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN:?}; closing them");
    }
    Ok(())
}

/// Resolves once the server is told to stop.
async fn wait_for_stop(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

async fn reload_on_sighup(state: Arc<AppState>) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        tracing::warn!("cannot listen for SIGHUP; reload with POST /v1/reload");
        return;
    };
    while hangups.recv().await.is_some() {
        let _ = state.reload("SIGHUP").await;
    }
}

/// SIGTERM or SIGINT: stop being ready, finish the requests in flight.
async fn stop_on_signal(state: Arc<AppState>, stop: tokio::sync::watch::Sender<bool>) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    state.draining.store(true, Ordering::Relaxed);
    tracing::info!("shutting down: finishing the requests in flight");
    let _ = stop.send(true);
}
