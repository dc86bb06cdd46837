//! `warden.toml`: everything the server can be told, with the defaults a
//! first run needs. Flags and environment variables (in the CLI) override
//! the file.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The server's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Where to serve Envoy `ext_authz` over gRPC (none: not served).
    pub grpc_addr: Option<SocketAddr>,
    /// Policy folders or files, composed into one set.
    pub policy: Vec<PathBuf>,
    /// Serve a signed bundle fetched from a URL instead (`[bundle]`):
    /// `policy` and `data` are then empty, the bundle carries both.
    pub bundle: Option<BundleSource>,
    /// Data files (`FILE`, or `NAME=FILE` for one document).
    pub data: Vec<String>,
    /// Where to append the hash-chained decision log (none: no log).
    pub decision_log: Option<PathBuf>,
    /// Bearer token for `POST /v1/reload`; without one, reload over HTTP is off.
    pub admin_token: Option<String>,
    /// Re-read the policy and data files when they change.
    pub watch: bool,
    pub limits: Limits,
    pub gateway: GatewayMapping,
    pub authzen: AuthzenConfig,
    /// Who may ask for decisions.
    pub auth: CallerAuth,
    pub log: LogConfig,
    /// Where the decision log is shipped (`[ship.http]`, `[ship.syslog]`).
    pub ship: ShipConfig,
    /// Serve HTTPS (TLS 1.3 only) with these files.
    pub tls: Option<TlsFiles>,
    /// The URL clients reach the server at (`https://pdp.acme.example`),
    /// which `/.well-known/authzen-configuration` names its endpoints
    /// under; default: the scheme and the address it listens on. Never
    /// taken from a request's `Host` header.
    pub base_url: Option<String>,
}

/// PEM files for TLS.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// When set, clients must present a certificate this CA signed.
    pub client_ca: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8181)),
            grpc_addr: None,
            policy: Vec::new(),
            bundle: None,
            data: Vec::new(),
            decision_log: None,
            admin_token: None,
            watch: true,
            limits: Limits::default(),
            gateway: GatewayMapping::default(),
            authzen: AuthzenConfig::default(),
            auth: CallerAuth::default(),
            log: LogConfig::default(),
            ship: ShipConfig::default(),
            tls: None,
            base_url: None,
        }
    }
}

/// Where the policy set comes from when it is a bundle (`warden build`),
/// and how it is trusted.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BundleSource {
    /// `http://…` or `https://…` (fetched with `If-None-Match`), or
    /// `oci://REGISTRY/REPOSITORY:TAG` (an artifact `warden bundle push`
    /// stored; its manifest digest polled).
    pub url: String,
    /// Talk plain HTTP to the OCI registry (one on loopback, or inside the
    /// cluster without TLS); HTTPS otherwise.
    pub plain_http: bool,
    /// The Ed25519 public key (PEM) bundles must be signed with; an
    /// unsigned bundle, or one another key signed, is refused.
    pub verify_key: Option<PathBuf>,
    /// Serve unsigned bundles (digests are still checked). Off by default:
    /// without `verify_key` the server does not start unless this is set.
    pub allow_unsigned: bool,
    /// How often to ask for a new bundle (`10s`, `1m`; at least 1 s).
    pub poll: String,
    /// Where the last bundle served is kept, so a restart serves it while
    /// the bundle server is down (default: not kept).
    pub cache_dir: Option<PathBuf>,
    /// A PEM file of CA certificates that an `https://` bundle server's
    /// certificate must chain to (default: the web's public roots).
    pub ca_file: Option<PathBuf>,
    /// Longest one fetch may take, in milliseconds.
    pub timeout_ms: u64,
    /// Largest bundle fetched (compressed), in bytes.
    pub max_bytes: u64,
    /// Largest bundle unpacked, in bytes.
    pub max_unpacked_bytes: u64,
}

impl Default for BundleSource {
    fn default() -> Self {
        let limits = warden_bundle::Limits::default();
        BundleSource {
            url: String::new(),
            plain_http: false,
            verify_key: None,
            allow_unsigned: false,
            poll: "10s".into(),
            cache_dir: None,
            ca_file: None,
            timeout_ms: 30_000,
            max_bytes: limits.max_archive_bytes,
            max_unpacked_bytes: limits.max_unpacked_bytes,
        }
    }
}

impl BundleSource {
    /// The poll interval, or why `poll` is not one.
    pub fn poll_interval(&self) -> Result<std::time::Duration, String> {
        let parsed: jiff::SignedDuration = self.poll.parse().map_err(|e| {
            format!(
                "the poll interval `{}` (`--poll`, `[bundle] poll`) is not a duration such as `10s` ({e})",
                self.poll.escape_default()
            )
        })?;
        let interval = std::time::Duration::try_from(parsed).map_err(|_| {
            format!(
                "the poll interval `{}` (`--poll`, `[bundle] poll`) is negative",
                self.poll.escape_default()
            )
        })?;
        if interval < std::time::Duration::from_secs(1) {
            return Err(format!(
                "the poll interval `{}` (`--poll`, `[bundle] poll`) is shorter than 1 s",
                self.poll.escape_default()
            ));
        }
        Ok(interval)
    }
}

/// Shipping the decision log: the log file is the queue, so a `decision_log`
/// is required.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShipConfig {
    pub http: Option<HttpShip>,
    pub syslog: Option<SyslogShip>,
    /// On shutdown, how long the sinks may take to receive the log's tail,
    /// in milliseconds; what is left is sent at the next start.
    pub finish_ms: u64,
}

impl Default for ShipConfig {
    fn default() -> Self {
        ShipConfig {
            http: None,
            syslog: None,
            finish_ms: 5_000,
        }
    }
}

/// Batches of gzip-compressed JSON lines, POSTed to `url`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpShip {
    pub url: String,
    /// A file holding the bearer token the sink asks for.
    pub token_file: Option<PathBuf>,
    /// CA certificates (PEM) the sink's certificate must chain to.
    pub ca_file: Option<PathBuf>,
    /// Most lines per batch.
    pub batch_lines: usize,
    /// Most bytes per batch (before compression).
    pub batch_bytes: usize,
    /// Longest one POST may take, in milliseconds.
    pub timeout_ms: u64,
    /// Longest wait between retries, in milliseconds (the first is 250 ms,
    /// doubled each time).
    pub max_backoff_ms: u64,
}

impl Default for HttpShip {
    fn default() -> Self {
        HttpShip {
            url: String::new(),
            token_file: None,
            ca_file: None,
            batch_lines: 1_000,
            batch_bytes: 1 << 20,
            timeout_ms: 10_000,
            max_backoff_ms: 30_000,
        }
    }
}

/// RFC 5424 messages to a syslog server: over TCP (octet counting), or over
/// RELP (`relp://HOST:PORT`), where the server acknowledges each message.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyslogShip {
    /// `HOST:PORT` of the syslog server's TCP input, or `relp://HOST:PORT`
    /// of its RELP input.
    pub addr: String,
    /// The APP-NAME field.
    pub app_name: String,
    /// The facility (16: local0).
    pub facility: u8,
    /// Most lines per write.
    pub batch_lines: usize,
    pub timeout_ms: u64,
    pub max_backoff_ms: u64,
}

impl Default for SyslogShip {
    fn default() -> Self {
        SyslogShip {
            addr: String::new(),
            app_name: "warden".into(),
            facility: 16,
            batch_lines: 1_000,
            timeout_ms: 10_000,
            max_backoff_ms: 30_000,
        }
    }
}

/// Bounds on what one request may cost.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Deepest JSON nesting accepted, in request bodies and data files
    /// (400 `too-deep` beyond; E0408 for a data file; at most 128).
    pub max_json_depth: usize,
    /// Largest data file (`--data`), in bytes (E0407 beyond): read at start
    /// and on every reload.
    pub max_data_bytes: usize,
    /// Most evaluations in one AuthZEN batch request (400 `batch-too-large`
    /// beyond): a small body must not buy an unbounded amount of work.
    pub max_batch: usize,
    /// Expression steps one decision may take before it fails closed.
    pub eval_budget: u64,
    /// Wall-clock time one decision may take, in milliseconds, before it
    /// fails closed (`E0505`); a safety net behind the step budget.
    pub decision_timeout_ms: u64,
    /// Costly decisions (beyond `routes::INLINE_STEPS` steps) evaluated at
    /// once, on threads apart from those that answer requests (0: one per
    /// core).
    pub max_evaluations: usize,
    /// Longest a request may take, reading included, in milliseconds.
    pub request_timeout_ms: u64,
    /// Longest a client may take to send a request's headers, in
    /// milliseconds; a slower one is disconnected (slow-loris clients).
    pub header_read_timeout_ms: u64,
    /// Requests served at once; more wait their turn.
    pub max_concurrent_requests: usize,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// After SIGTERM, how long `/ready` answers 503 before the server stops
    /// taking requests, in milliseconds (give load balancers time to notice).
    pub drain_delay_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1 << 20,
            max_json_depth: 64,
            max_data_bytes: warden::InputLimits::DATA.max_bytes,
            max_batch: 256,
            eval_budget: warden::DecideOptions::default().budget,
            decision_timeout_ms: 1_000,
            max_evaluations: 0,
            request_timeout_ms: 5_000,
            header_read_timeout_ms: 10_000,
            max_concurrent_requests: 1_024,
            max_connections: 4_096,
            drain_delay_ms: 0,
        }
    }
}

impl Limits {
    /// Decisions evaluated at once: as configured, else one per core.
    pub fn evaluations(&self) -> usize {
        match self.max_evaluations {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}

/// How a gateway's subrequest (nginx `auth_request`, Envoy `ext_authz`)
/// becomes a decision input, and how the answer goes back.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayMapping {
    /// The target decided; default `request` (the checklist's). A target
    /// named here must be in the policy set, or the server does not start;
    /// left unset, the gateway endpoints are off when the set has no
    /// `request` target.
    pub target: Option<String>,
    /// The header naming the user (`principal.id`); defaults follow oauth2-proxy.
    pub user_header: String,
    /// Used for `principal.id` when the user header is absent.
    pub email_header: String,
    /// Comma-separated groups (`principal.groups`).
    pub groups_header: String,
    /// `"true"`/`"1"` when the sign-in passed MFA (`principal.mfa`).
    pub mfa_header: String,
    /// What `principal.authenticated_via` says for a principal the proxy
    /// identified: identity headers come from the SSO proxy in front.
    pub authenticated_via: String,
    /// A header naming the app (`resource.app_id`), for gateways that set it
    /// themselves; off by default, since a client could send it. Without
    /// it the app is the path segment `app_path_segment`.
    pub app_header: Option<String>,
    /// Which segment of the original path names the app (0: the first).
    pub app_path_segment: usize,
    /// The header holding the client's address (`context.ip`), set by the
    /// gateway (nginx: `proxy_set_header X-Real-IP $remote_addr`).
    pub ip_header: String,
    /// The request id (`context.request_id`).
    pub request_id_header: String,
    /// HTTP method → action.
    pub actions: BTreeMap<String, String>,
    /// Obligations go back as headers named this prefix plus the key
    /// (`mask` → `X-Warden-Mask: email,phone`).
    pub obligation_header_prefix: String,
}

impl Default for GatewayMapping {
    fn default() -> Self {
        let actions = [
            ("GET", "read"),
            ("HEAD", "read"),
            ("OPTIONS", "read"),
            ("POST", "write"),
            ("PUT", "write"),
            ("PATCH", "write"),
            ("DELETE", "delete"),
        ]
        .into_iter()
        .map(|(m, a)| (m.to_string(), a.to_string()))
        .collect();
        GatewayMapping {
            target: None,
            user_header: "X-Auth-Request-User".into(),
            email_header: "X-Auth-Request-Email".into(),
            groups_header: "X-Auth-Request-Groups".into(),
            mfa_header: "X-Auth-Request-Mfa".into(),
            authenticated_via: "sso".into(),
            app_header: None,
            app_path_segment: 0,
            ip_header: "X-Real-IP".into(),
            request_id_header: "X-Request-Id".into(),
            actions,
            obligation_header_prefix: "X-Warden-".into(),
        }
    }
}

impl GatewayMapping {
    /// The target the gateway adapters decide.
    pub fn target(&self) -> &str {
        self.target.as_deref().unwrap_or(DEFAULT_GATEWAY_TARGET)
    }
}

/// The gateway's target when `[gateway] target` is not set.
pub const DEFAULT_GATEWAY_TARGET: &str = "request";

/// The AuthZEN endpoints (`docs/server.md`, "AuthZEN").
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthzenConfig {
    /// The target an AuthZEN evaluation decides, with the request as sent
    /// (`{subject, action, resource, context?}`) as its input. Unset: the
    /// AuthZEN endpoints are off. Set: it must be in the policy set, or the
    /// server does not start (and a reload without it is refused).
    pub target: Option<String>,
    /// Give each answer a `context` with the decision id, the revisions and,
    /// on a deny, the reason. Off by default: a client that asks for nothing
    /// gets `{"decision": true}`; the ids are in `X-Warden-Decision-Id`
    /// and the decision log either way.
    pub response_context: bool,
}

/// Caller authentication on the decision endpoints (AuthZEN, the gateway
/// adapters, `/v1/decide`, `/v1/check`, `/v1/policies`): with any token
/// configured, a request must present one, as `Authorization: Bearer
/// <token>` or in `api_key_header`. Without any, callers are not asked
/// (mutual TLS, `tls.client_ca`, may still authenticate them).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallerAuth {
    /// Accepted tokens, written in the file (prefer `tokens_file`).
    pub tokens: Vec<String>,
    /// A file of accepted tokens, one per line (`#` starts a comment line),
    /// read at start.
    pub tokens_file: Option<PathBuf>,
    /// A header that may carry the token instead of `Authorization`
    /// (`X-Api-Key`).
    pub api_key_header: Option<String>,
}

/// What the decision log keeps, and how surely.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Also log each decision's input.
    pub include_input: bool,
    /// Input paths (`principal.email`) logged as `"***"`.
    pub mask: Vec<String>,
    /// How far a decision's line must have gone before the decision is
    /// answered: `write` (to the operating system; survives the server
    /// being killed) or `fsync` (to the disk; survives a power loss).
    pub durability: Durability,
    /// With `include_input`, the largest input logged whole, in bytes (as
    /// JSON); a larger one is logged as its size and SHA-256, so one request
    /// cannot write megabytes per decision (an AuthZEN batch repeats its
    /// context in every evaluation).
    pub max_input_bytes: usize,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            include_input: false,
            mask: Vec::new(),
            durability: Durability::default(),
            max_input_bytes: 16 * 1024,
        }
    }
}

impl ServerConfig {
    /// Reads a `warden.toml`'s text; paths in it stay as written.
    pub fn from_toml(text: &str) -> Result<ServerConfig, toml::de::Error> {
        toml::from_str(text)
    }

    /// Reads a `warden.toml` file: relative paths in it (policy, data, the
    /// decision log, TLS files, the tokens file) are relative to the file's
    /// folder, wherever the server is started from.
    pub fn from_file(path: &Path) -> Result<ServerConfig, ConfigError> {
        // A regular file, read whole within its bound (a FIFO or a device
        // given as the config must not hang or fill the start).
        let text = warden::read_file_bounded(path, MAX_CONFIG_BYTES).map_err(ConfigError::Read)?;
        let mut config = ServerConfig::from_toml(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        config.resolve_relative_to(base);
        Ok(config)
    }

    /// Makes every relative path in the configuration relative to `base`.
    pub fn resolve_relative_to(&mut self, base: &Path) {
        let at = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        self.policy.iter_mut().for_each(at);
        for arg in &mut self.data {
            // `FILE` or `NAME=FILE`, split as `warden::read_data_arg` splits them.
            let (name, file) = warden::split_data_arg(arg, |whole| base.join(whole).exists());
            if Path::new(file).is_relative() {
                let joined = base.join(file).display().to_string();
                *arg = match name {
                    Some(name) => format!("{name}={joined}"),
                    None => joined,
                };
            }
        }
        if let Some(p) = &mut self.decision_log {
            at(p);
        }
        if let Some(tls) = &mut self.tls {
            at(&mut tls.cert);
            at(&mut tls.key);
            if let Some(ca) = &mut tls.client_ca {
                at(ca);
            }
        }
        if let Some(p) = &mut self.auth.tokens_file {
            at(p);
        }
        if let Some(http) = &mut self.ship.http {
            for p in [&mut http.token_file, &mut http.ca_file]
                .into_iter()
                .flatten()
            {
                at(p);
            }
        }
        if let Some(bundle) = &mut self.bundle {
            for p in [
                &mut bundle.verify_key,
                &mut bundle.cache_dir,
                &mut bundle.ca_file,
            ]
            .into_iter()
            .flatten()
            {
                at(p);
            }
        }
    }
}

/// The largest `warden.toml` read.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

/// Why a `warden.toml` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Missing, not a regular file, not UTF-8, or over `MAX_CONFIG_BYTES`.
    #[error("{0}")]
    Read(warden::EngineError),
    #[error("{}: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
}

/// How far a line must have gone before its decision is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Written to the operating system (`write`): survives the server being
    /// killed, not the machine losing power.
    #[default]
    Write,
    /// Flushed to the disk (`fdatasync`) too: survives a power loss, at the
    /// cost of one disk flush per batch.
    Fsync,
}
