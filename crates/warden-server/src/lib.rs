//! `warden serve`: the HTTP decision server gateways query.
//!
//! One compiled policy set (a [`warden::Engine`]) serves every request; a
//! reload compiles a new one beside it and swaps it in whole, so no request
//! is dropped and none sees half a policy set. See `docs/server.md`.

mod authzen;
mod body;
pub mod bundle;
pub mod caller_auth;
pub mod config;
pub mod decision_log;
mod error;
mod gateway;
mod grpc;
mod http_client;
pub(crate) mod listen;
mod load;
pub mod log_line;
mod metrics;
pub mod oci;
mod routes;
pub mod ship;
mod state;
mod watch;

pub use config::ServerConfig;
pub use gateway::canonical_path;
pub use load::{LoadError, load};
pub use state::AppState;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{any, get, post};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;

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
    Auth(#[from] caller_auth::AuthConfigError),
    #[error("{0}")]
    Bundle(#[from] bundle::FeedError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Every route, with the limits of `state.config`.
pub fn router(state: Arc<AppState>) -> Router {
    let limits = &state.config.limits;
    let layers = ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            Duration::from_millis(limits.request_timeout_ms),
            routes::request_deadline,
        ))
        .layer(ConcurrencyLimitLayer::new(limits.max_concurrent_requests));
    // The endpoints that decide (or show what is decided) ask callers for
    // a token when `[auth]` configures any.
    let deciding = Router::new()
        .route("/v1/decide", post(routes::decide_route))
        .route("/v1/check", post(routes::check_route))
        .route("/v1/policies", get(routes::policies_route))
        .route("/access/v1/evaluation", post(authzen::evaluation_route))
        .route("/access/v1/evaluations", post(authzen::evaluations_route))
        .route(
            "/v1/authz/nginx",
            get(gateway::nginx_route).post(gateway::nginx_route),
        )
        .route("/v1/authz/envoy", any(gateway::envoy_route))
        // `/` of the app behind Envoy: the wildcard matches no empty rest.
        .route("/v1/authz/envoy/", any(gateway::envoy_route))
        .route("/v1/authz/envoy/{*original}", any(gateway::envoy_route))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            caller_auth::require_caller,
        ));
    Router::new()
        .merge(deciding)
        .route("/v1/reload", post(routes::reload_route))
        .route("/health", get(routes::health_route))
        .route("/ready", get(routes::ready_route))
        .route("/v1/status", get(routes::status_route))
        .route("/metrics", get(routes::metrics_route))
        .route(
            "/.well-known/authzen-configuration",
            get(authzen::configuration_route),
        )
        .fallback(|| async {
            error::ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
        })
        .layer(layers)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            routes::count_errors,
        ))
        // A bug in a handler answers 500 (the gateways then deny), never a dropped connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                axum::response::IntoResponse::into_response(error::ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server failed on this request; it was not allowed",
                ))
            },
        ))
        // Outermost: every answer carries it, a refusal or a panic's too.
        .layer(axum::middleware::from_fn(routes::request_id))
        .with_state(state)
}

/// `base_url` as the discovery document writes it, or why it cannot be one:
/// `http(s)://` and a host, no query, fragment, space or control character.
fn checked_base_url(url: &str) -> Result<String, ServerError> {
    let trimmed = url.trim_end_matches('/');
    let host = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    let fine = host.is_some_and(|h| !h.is_empty())
        && !trimmed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'));
    if fine {
        Ok(trimmed.to_string())
    } else {
        Err(ServerError::Io(std::io::Error::other(format!(
            "base_url `{}` is not an http(s) URL without query or fragment",
            url.escape_default()
        ))))
    }
}

/// Compiles the policy set, opens the decision log, listens, and serves until
/// SIGTERM or SIGINT; SIGHUP reloads. `on_listening` is told the scheme and
/// address (useful with port 0). Queued decision-log lines are written
/// before it returns.
pub async fn run(
    config: ServerConfig,
    on_listening: impl Fn(&str, SocketAddr),
) -> Result<(), ServerError> {
    let callers = caller_auth::CallerTokens::from_config(&config.auth)?;
    let feed = match &config.bundle {
        Some(source) => {
            if !config.policy.is_empty() || !config.data.is_empty() {
                return Err(ServerError::Bundle(bundle::FeedError::Config(
                    "a bundle carries the policies and data: give either `policy`/`data` \
                     (`--policy`, `--data`) or `[bundle]` (`--bundle`), not both"
                        .into(),
                )));
            }
            let feed = bundle::BundleFeed::new(source)?;
            feed.sweep();
            Some(feed)
        }
        None => None,
    };
    let startup = config.clone();
    let (engine, feed) = tokio::task::spawn_blocking(move || match feed {
        Some(feed) => (feed.first(&startup), Some(feed)),
        None => (load(&startup, None), None),
    })
    .await
    .map_err(|e| ServerError::Io(std::io::Error::other(e)))?;
    let engine = engine?.engine;
    // Past a file-size limit (`ulimit -f`) a write should fail (EFBIG), which
    // the decision log handles (decisions refused, the write cut back, ready
    // again once it fits), rather than the signal killing the server.
    // SAFETY: setting a signal's disposition to "ignore" has no handler to race.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let (log, writer) = match &config.decision_log {
        Some(path) => {
            let (log, writer) = decision_log::DecisionLog::open(path, config.log.durability)
                .await
                .map_err(|source| ServerError::DecisionLog {
                    path: path.display().to_string(),
                    source,
                })?;
            (Some(log), Some(writer))
        }
        None => (None, None),
    };
    let shippers = start_shipping(&config, log.as_ref())?;
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
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut config = config;
    config.base_url = Some(match config.base_url.take() {
        Some(url) => checked_base_url(&url)?,
        None => format!("{scheme}://{local}"),
    });
    let handles = shippers.iter().map(ship::Shipper::handle).collect();
    let state = Arc::new(AppState::new(config, engine, log, callers, feed, handles));
    if let Some(feed) = &state.bundle {
        let status = feed.status();
        state
            .metrics
            .bundle_polled(status.last_result, status.last_success_seconds);
    }
    announce_surfaces(&state);
    let limits = state.config.limits.clone();
    let first_byte = Duration::from_millis(limits.header_read_timeout_ms);
    {
        let engine = state.engine.load();
        match engine.bundle_revision() {
            Some(bundle) => tracing::info!(addr = %local, %scheme, bundle_revision = %bundle,
                policy_revision = %engine.revision(), "serving decisions"),
            None => tracing::info!(addr = %local, %scheme, policy_revision = %engine.revision(),
                "serving decisions"),
        }
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = Arc::new(stop);
    // Signal handlers are in place before the address is announced: a
    // SIGTERM sent as soon as the server says it listens still drains it.
    let terminate = [
        tokio::signal::unix::SignalKind::terminate(),
        tokio::signal::unix::SignalKind::interrupt(),
    ]
    .map(|kind| tokio::signal::unix::signal(kind).ok());
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();

    let grpc = match grpc_listener {
        Some(grpc_listener) => {
            let grpc_local = grpc_listener.local_addr()?;
            tracing::info!(addr = %grpc_local, "serving Envoy ext_authz over gRPC");
            on_listening("grpc", grpc_local);
            let builder = tonic::transport::Server::builder()
                .concurrency_limit_per_connection(limits.max_concurrent_requests)
                .timeout(Duration::from_millis(limits.request_timeout_ms))
                .http2_keepalive_interval(Some(Duration::from_secs(30)))
                .http2_keepalive_timeout(Some(Duration::from_secs(10)));
            let service = grpc::service(Arc::clone(&state));
            let serving = match tls.clone() {
                Some(tls) => tokio::spawn(grpc::serve(
                    builder,
                    service,
                    listen::tls(grpc_listener, limits.max_connections, tls)?.into_stream(),
                    stopped.clone(),
                )),
                None => tokio::spawn(grpc::serve(
                    builder,
                    service,
                    listen::plain(grpc_listener, limits.max_connections, first_byte)?.into_stream(),
                    stopped.clone(),
                )),
            };
            // If gRPC stops on its own, everything stops: half a server is not served.
            let stop = Arc::clone(&stop);
            Some(tokio::spawn(async move {
                let result = serving.await;
                let _ = stop.send(true);
                result
            }))
        }
        None => None,
    };
    on_listening(scheme, local);
    let signals = tokio::spawn(stop_on_signal(
        Arc::clone(&state),
        Arc::clone(&stop),
        terminate,
    ));
    let hangups = tokio::spawn(reload_on_sighup(Arc::clone(&state), hangup));
    let polls = tokio::spawn(poll_bundle(Arc::clone(&state)));
    let watch = if state.config.watch && state.bundle.is_none() {
        match watch::start(Arc::clone(&state)) {
            Ok(watch) => Some(watch),
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
            let incoming = listen::tls(listener, limits.max_connections, tls)?;
            serve_on(incoming, &state, stopped).await?;
        }
        None => {
            let incoming = listen::plain(listener, limits.max_connections, first_byte)?;
            serve_on(incoming, &state, stopped).await?;
        }
    }
    // HTTP stopped (by a signal, or because gRPC did): stop gRPC too.
    let _ = stop.send(true);
    if let Some(grpc) = grpc {
        match grpc.await {
            Ok(Ok(Err(e))) => tracing::error!("the gRPC server stopped with an error: {e}"),
            Ok(Err(e)) | Err(e) => tracing::error!("the gRPC server failed: {e}"),
            Ok(Ok(Ok(()))) => {}
        }
    }
    for task in [signals, hangups, polls] {
        task.abort();
        let _ = task.await;
    }
    if let Some(watch) = watch {
        watch.stop().await;
    }
    let state_ship_finish_ms = state.config.ship.finish_ms;
    drop(state);
    if let Some(writer) = writer {
        let head = writer.finish().await?;
        // Recorded here, the head makes a changed or cut tail detectable
        // (`warden audit verify --head`).
        tracing::info!(lines = head.seq, head = %head.hash, "decision log closed");
    }
    // Every line is written: the sinks get what they can of it in a few
    // seconds; the rest waits in the log for the next start.
    for shipper in shippers {
        shipper
            .finish(Duration::from_millis(state_ship_finish_ms))
            .await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Starts a shipper for each sink configured (`[ship.http]`, `[ship.syslog]`).
fn start_shipping(
    config: &ServerConfig,
    log: Option<&decision_log::DecisionLog>,
) -> Result<Vec<ship::Shipper>, ServerError> {
    let (http, syslog) = (&config.ship.http, &config.ship.syslog);
    if http.is_none() && syslog.is_none() {
        return Ok(Vec::new());
    }
    let bad = |why: String| ServerError::Io(std::io::Error::other(why));
    let Some(log) = log else {
        return Err(bad(
            "shipping needs a decision log (`--decision-log FILE`): the log is the queue \
             that keeps every line until its sink has taken it"
                .into(),
        ));
    };
    let mut shippers = Vec::new();
    let cursor = |kind: &str| PathBuf::from(format!("{}.ship-{kind}.cursor", log.path().display()));
    if let Some(http) = http {
        let token = match &http.token_file {
            Some(path) => Some(
                warden::read_file_bounded(path, 64 << 10)
                    .map_err(|e| bad(format!("[ship.http] token_file: {e}")))?
                    .trim()
                    .to_string(),
            ),
            None => None,
        };
        let sink = ship::HttpSink::new(
            &http.url,
            log.path(),
            token,
            http.ca_file.as_deref(),
            Duration::from_millis(http.timeout_ms.max(1)),
        )
        .map_err(|e| bad(format!("[ship.http] {e}")))?;
        let pace = ship::Pace {
            batch_lines: http.batch_lines.max(1),
            batch_bytes: http.batch_bytes.max(1),
            idle: Duration::from_millis(100),
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_millis(http.max_backoff_ms.max(250)),
        };
        shippers.push(ship::Shipper::start(
            log.path(),
            cursor("http"),
            log.committed(),
            Box::new(sink),
            pace,
        )?);
    }
    if let Some(syslog) = syslog {
        let sink = ship::SyslogSink::new(
            &syslog.addr,
            log.path(),
            &syslog.app_name,
            syslog.facility,
            Duration::from_millis(syslog.timeout_ms.max(1)),
        )
        .map_err(|e| bad(format!("[ship.syslog] {e}")))?;
        let pace = ship::Pace {
            batch_lines: syslog.batch_lines.max(1),
            batch_bytes: 1 << 20,
            idle: Duration::from_millis(100),
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_millis(syslog.max_backoff_ms.max(250)),
        };
        shippers.push(ship::Shipper::start(
            log.path(),
            cursor("syslog"),
            log.committed(),
            Box::new(sink),
            pace,
        )?);
    }
    Ok(shippers)
}

/// Polls the bundle source, when there is one, every `poll` interval (a
/// tenth of it more or less at random, so replicas started together do not
/// ask at the same instant).
async fn poll_bundle(state: Arc<AppState>) {
    let Some(feed) = &state.bundle else {
        return;
    };
    let interval = feed.poll_interval();
    loop {
        let spread = interval.as_millis() as u64 / 10;
        let jitter = if spread == 0 {
            0
        } else {
            u64::from(ulid::Ulid::new().random() as u32) % (2 * spread)
        };
        let wait = interval - Duration::from_millis(spread) + Duration::from_millis(jitter);
        tokio::time::sleep(wait).await;
        let _ = state.reload("poll").await;
    }
}

/// Says at start which decision surfaces are on, and which target each decides.
fn announce_surfaces(state: &AppState) {
    let engine = state.engine.load();
    let gateway = state.config.gateway.target();
    if engine.has_target(gateway) {
        tracing::info!(target = gateway, "gateway adapters (nginx, Envoy) on");
    } else if state.config.authzen.target.is_some() {
        // An AuthZEN decision point: the gateway adapters are not wanted.
        tracing::info!(
            target = gateway,
            "gateway adapters off: the policy set has no `{gateway}` target"
        );
    } else {
        tracing::warn!(
            target = gateway,
            "gateway adapters off: the policy set has no `{gateway}` target; name one with `[gateway] target`"
        );
    }
    match &state.config.authzen.target {
        Some(target) => tracing::info!(target = %target, "AuthZEN endpoints on"),
        None => tracing::info!(
            "AuthZEN endpoints off: name the target they decide with `[authzen] target`"
        ),
    }
    if state.callers.required() {
        tracing::info!("callers of the decision endpoints must present a token (`[auth]`)");
    }
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
    // An HTTP/2 connection that stops answering pings is closed.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
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
pub(crate) async fn wait_for_stop(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

async fn reload_on_sighup(state: Arc<AppState>, hangups: Option<tokio::signal::unix::Signal>) {
    let Some(mut hangups) = hangups else {
        tracing::warn!("cannot listen for SIGHUP; reload with POST /v1/reload");
        return;
    };
    while hangups.recv().await.is_some() {
        let _ = state.reload("SIGHUP").await;
    }
}

/// SIGTERM or SIGINT: stop being ready, finish the requests in flight.
async fn stop_on_signal(
    state: Arc<AppState>,
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    signals: [Option<tokio::signal::unix::Signal>; 2],
) {
    let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
        match signal {
            Some(mut signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let [terminate, interrupt] = signals;
    tokio::select! {
        () = wait(interrupt) => {}
        () = wait(terminate) => {}
    }
    state.draining.store(true, Ordering::Relaxed);
    // Load balancers see /ready fail before the listener goes away.
    let delay = Duration::from_millis(state.config.limits.drain_delay_ms);
    if !delay.is_zero() {
        tracing::info!("not ready; stopping in {delay:?}");
        tokio::time::sleep(delay).await;
    }
    tracing::info!("shutting down: finishing the requests in flight");
    let _ = stop.send(true);
}

#[cfg(test)]
mod tests {
    use super::checked_base_url;

    #[test]
    fn a_base_url_is_http_or_https_with_a_host_and_nothing_after_its_path() {
        assert_eq!(
            checked_base_url("https://pdp.acme.example/").unwrap(),
            "https://pdp.acme.example"
        );
        assert_eq!(
            checked_base_url("http://10.0.0.5:8181/pdp").unwrap(),
            "http://10.0.0.5:8181/pdp"
        );
        for bad in [
            "pdp.acme.example",
            "ftp://x",
            "https://",
            "https://a b",
            "https://a?x=1",
            "https://a#f",
            "https://a\nb",
        ] {
            assert!(checked_base_url(bad).is_err(), "{bad:?}");
        }
    }
}
