//! Serving a signed bundle (`warden build`) fetched over HTTP(S): the
//! policy set and its data come from one URL that every replica polls.
//!
//! Each poll asks with `If-None-Match` (a `304` costs nothing); a new bundle
//! is read within its limits, its digests and revision checked, its
//! signature verified, then unpacked, compiled and swapped in whole. Any
//! failure on the way leaves the revision being served in place and is
//! shown in `/v1/status` and the metrics. The last bundle served is kept in
//! `cache_dir` (when set), so a restart while the bundle server is down
//! still serves it.

use crate::config::{BundleSource, ServerConfig};
use crate::load::{LoadError, Loaded, load_from};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use warden_bundle::BundleError;
use warden_bundle::VerifyingKey;

/// The file the last bundle served is kept in, in `cache_dir`.
const CACHED: &str = "bundle.tar.gz";
/// The longest ETag kept (a server could send megabytes).
const ETAG_BYTES: usize = 512;

/// Why the bundle source cannot be used at all (the server does not start).
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("[bundle] {0}")]
    Config(String),
    #[error("[bundle] {0}")]
    Key(#[from] BundleError),
}

/// A bundle fetched, or why not.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot fetch {url}: {why}")]
    Transport { url: String, why: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{0}")]
    Bundle(#[from] BundleError),
}

impl FetchError {
    /// The code `/v1/status` and the metrics give: the bundle error's
    /// permanent code, or `fetch-failed`.
    pub fn code(&self) -> String {
        match self {
            FetchError::Bundle(e) => e.code().to_string(),
            _ => "fetch-failed".into(),
        }
    }
}

/// What a server said identifies the bundle it sent.
#[derive(Clone, Debug)]
enum Validator {
    ETag(String),
    LastModified(String),
}

/// What a poll found.
enum Fetched {
    /// `304 Not Modified`.
    NotModified,
    /// A bundle's bytes, with the ETag to ask with next time.
    Bundle {
        bytes: Vec<u8>,
        etag: Option<Validator>,
    },
}

/// What `/v1/status` says of the bundle source.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FeedStatus {
    /// The URL polled.
    pub source: String,
    /// The bundle revision being served.
    pub revision: Option<String>,
    /// When that bundle was built.
    pub built_at: Option<String>,
    /// The key that signed it (none: unsigned, with `allow_unsigned`).
    pub signed_by: Option<String>,
    /// Whether it was read from `cache_dir` at start (the source failed).
    pub from_cache: bool,
    /// When the last poll ran (RFC 3339).
    pub last_fetch: Option<String>,
    /// What it found: `updated`, `not-modified`, `unchanged` (a new ETag,
    /// the same revision), `failed` (no bundle came) or `refused` (one came
    /// and was not served).
    pub last_result: Option<&'static str>,
    /// When a poll last succeeded (anything but `failed` and `refused`).
    pub last_success: Option<String>,
    /// The last poll's error, when it failed or refused.
    pub last_error: Option<StatusError>,
    /// The validator the next poll sends: the ETag (`If-None-Match`), else
    /// the `Last-Modified` date (`If-Modified-Since`).
    #[serde(skip)]
    etag: Option<Validator>,
    /// The last successful poll, as seconds since the epoch (for metrics).
    #[serde(skip)]
    pub last_success_seconds: Option<i64>,
    /// The validator of the bundle last refused, and why: asked with, so an
    /// unchanged refused bundle is not downloaded again.
    #[serde(skip)]
    refused: Option<(Validator, StatusError)>,
}

/// An error as `/v1/status` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct StatusError {
    pub code: String,
    pub message: String,
}

/// Polls one bundle source.
pub struct BundleFeed {
    source: BundleSource,
    poll: Duration,
    agent: ureq::Agent,
    /// The registry, for an `oci://` source.
    oci: Option<crate::oci::OciSource>,
    key: Option<VerifyingKey>,
    limits: warden_bundle::Limits,
    /// Where bundles are unpacked while loading (removed after).
    work_dir: PathBuf,
    /// Removed when the feed is dropped (no `cache_dir` given).
    temporary: bool,
    status: Mutex<FeedStatus>,
    /// A bundle loaded and about to be swapped in.
    staged: Mutex<Option<(OpenBundle, Option<Validator>)>>,
    /// Held while the feed lives ([`lock_folder`]).
    _lock: std::fs::File,
}

/// Removes the temporary work folders (`warden-bundle-PID-…`) of servers
/// that are gone (killed before they could remove their own).
fn sweep_dead_servers_folders() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("warden-bundle-")
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 sends nothing; it asks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        // A folder whose lock is held is in use, whatever its name says (a
        // process in another PID namespace sharing this /tmp).
        if gone && lock_folder(&entry.path()).is_ok() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Takes the work folder for this process alone (`flock` on `.lock` in it).
fn lock_folder(dir: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".lock"))?;
    // SAFETY: flock on a descriptor this function owns.
    let locked = unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    };
    if locked != 0 {
        let e = std::io::Error::last_os_error();
        return Err(if e.kind() == std::io::ErrorKind::WouldBlock {
            std::io::Error::other(
                "another `warden serve` uses this folder; give each server its own cache_dir",
            )
        } else {
            e
        });
    }
    Ok(file)
}

impl Drop for BundleFeed {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.work_dir);
        }
    }
}

impl BundleFeed {
    /// Checks the `[bundle]` settings and reads the verify key and CA file.
    pub fn new(source: &BundleSource) -> Result<BundleFeed, FeedError> {
        let url = source.url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://") || crate::oci::is_oci(url))
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(FeedError::Config(format!(
                "url `{}` is neither an http(s) URL nor an oci:// reference",
                url.escape_default()
            )));
        }
        let timeout = Duration::from_millis(source.timeout_ms.max(1));
        let oci = if crate::oci::is_oci(url) {
            Some(
                crate::oci::OciSource::new(
                    url,
                    source.plain_http,
                    source.ca_file.as_deref(),
                    timeout,
                )
                .map_err(FeedError::Config)?,
            )
        } else {
            None
        };
        let poll = source.poll_interval().map_err(FeedError::Config)?;
        let key = match &source.verify_key {
            Some(path) => Some(warden_bundle::read_verifying_key(path)?),
            None if source.allow_unsigned => None,
            None => {
                return Err(FeedError::Config(
                    "no verify key: give `--verify-key FILE` (`[bundle] verify_key`), or, to \
                     serve bundles nobody signed, `--allow-unsigned-bundles` \
                     (`[bundle] allow_unsigned = true`)"
                        .into(),
                ));
            }
        };
        let agent = crate::http_client::agent(source.ca_file.as_deref(), timeout, 5)
            .map_err(FeedError::Config)?;
        let (work_dir, temporary) = match &source.cache_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    FeedError::Config(format!("cache_dir `{}`: {e}", dir.display()))
                })?;
                (dir.clone(), false)
            }
            None => {
                sweep_dead_servers_folders();
                let dir = std::env::temp_dir().join(format!(
                    "warden-bundle-{}-{}",
                    std::process::id(),
                    ulid::Ulid::new()
                ));
                std::fs::create_dir(&dir)
                    .map_err(|e| FeedError::Config(format!("`{}`: {e}", dir.display())))?;
                (dir, true)
            }
        };
        // One server per folder: another's start would sweep away what this
        // one is unpacking, and two would replace each other's kept bundle.
        let lock = lock_folder(&work_dir)
            .map_err(|e| FeedError::Config(format!("cache_dir `{}`: {e}", work_dir.display())))?;
        Ok(BundleFeed {
            _lock: lock,
            poll,
            agent,
            oci,
            key,
            limits: warden_bundle::Limits {
                max_archive_bytes: source.max_bytes,
                max_unpacked_bytes: source.max_unpacked_bytes,
                ..warden_bundle::Limits::default()
            },
            work_dir,
            temporary,
            staged: Mutex::new(None),
            status: Mutex::new(FeedStatus {
                source: url.to_string(),
                ..FeedStatus::default()
            }),
            source: source.clone(),
        })
    }

    /// How often to poll.
    pub fn poll_interval(&self) -> Duration {
        self.poll
    }

    /// What `/v1/status` shows.
    pub fn status(&self) -> FeedStatus {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FeedStatus> {
        // A panic while holding it leaves a status that is still whole.
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the source for a bundle newer than the ETag held.
    fn fetch(&self, etag: Option<&Validator>) -> Result<Fetched, FetchError> {
        if let Some(oci) = &self.oci {
            return self.fetch_oci(oci, etag);
        }
        let url = &self.source.url;
        let transport = |e: ureq::Error| FetchError::Transport {
            url: url.clone(),
            why: e.to_string(),
        };
        let mut request = self.agent.get(url);
        match etag {
            Some(Validator::ETag(tag)) => request = request.header("If-None-Match", tag),
            Some(Validator::LastModified(date)) => {
                request = request.header("If-Modified-Since", date);
            }
            None => {}
        }
        let mut response = request.call().map_err(transport)?;
        let status = response.status().as_u16();
        if status == 304 && etag.is_some() {
            return Ok(Fetched::NotModified);
        }
        if status != 200 {
            return Err(FetchError::Status {
                url: url.clone(),
                status,
            });
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| v.len() <= ETAG_BYTES)
                .map(str::to_string)
        };
        let etag = header("etag")
            .map(Validator::ETag)
            .or_else(|| header("last-modified").map(Validator::LastModified));
        let limit = self.limits.max_archive_bytes;
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| FetchError::Transport {
                url: url.clone(),
                why: e.to_string(),
            })?;
        if bytes.len() as u64 > limit {
            return Err(
                BundleError::TooLarge(format!("the archive is larger than {limit} bytes")).into(),
            );
        }
        Ok(Fetched::Bundle { bytes, etag })
    }

    /// [`BundleFeed::fetch`] from a registry: the manifest's digest is the
    /// validator.
    fn fetch_oci(
        &self,
        oci: &crate::oci::OciSource,
        held: Option<&Validator>,
    ) -> Result<Fetched, FetchError> {
        let held = match held {
            Some(Validator::ETag(digest)) => Some(digest.as_str()),
            _ => None,
        };
        match oci.pull_if_changed(held, self.limits.max_archive_bytes) {
            Ok(None) => Ok(Fetched::NotModified),
            Ok(Some((bytes, digest))) => Ok(Fetched::Bundle {
                bytes,
                etag: Some(Validator::ETag(digest)),
            }),
            Err(why) => Err(FetchError::Transport {
                url: self.source.url.clone(),
                why,
            }),
        }
    }

    /// Reads, checks and verifies a bundle, unpacking it into a new folder
    /// of the work folder.
    fn open(&self, bytes: &[u8]) -> Result<OpenBundle, BundleError> {
        let dir = self
            .work_dir
            .join(format!("unpacking-{}", ulid::Ulid::new()));
        let bundle = warden_bundle::read(bytes, &self.limits, self.key.as_ref(), Some(&dir))?;
        let unpacked = warden_bundle::Unpacked::of(bundle.manifest(), &dir);
        Ok(OpenBundle {
            revision: bundle.manifest().revision.clone(),
            built_at: bundle.manifest().built_at.clone(),
            // Only a key this server verified with is named.
            signed_by: bundle.verified_by().map(str::to_string),
            unpacked,
        })
    }

    /// Compiles an opened bundle with the server's settings.
    fn load(
        &self,
        config: &ServerConfig,
        open: &OpenBundle,
        previous: Option<&warden::Engine>,
    ) -> Result<Loaded, LoadError> {
        let loaded = load_from(
            config,
            std::slice::from_ref(&open.unpacked.policy),
            &open.unpacked.data,
            previous,
        );
        let _ = std::fs::remove_dir_all(&open.unpacked.dir);
        let mut loaded = loaded?;
        loaded.engine = loaded.engine.with_bundle_revision(&open.revision);
        Ok(loaded)
    }

    /// Keeps `bytes` as the last bundle served (replaced in one step).
    fn keep(&self, bytes: &[u8]) {
        if self.temporary {
            return;
        }
        let kept = warden::replace_file(&self.work_dir.join(CACHED), |file| {
            std::io::Write::write_all(file, bytes)
        });
        if let Err(e) = kept {
            tracing::warn!(
                "cannot keep the bundle in `{}`: {e}",
                self.work_dir.display()
            );
        }
    }

    /// Records a poll's outcome: its error's code and message, if any.
    fn record(&self, result: &'static str, error: Option<StatusError>) {
        let now = jiff::Timestamp::now();
        let mut status = self.lock();
        status.last_fetch = Some(now.to_string());
        status.last_result = Some(result);
        if error.is_none() {
            status.last_success = Some(now.to_string());
            status.last_success_seconds = Some(now.as_second());
        }
        status.last_error = error;
    }

    fn serving(&self, open: &OpenBundle, etag: Option<Validator>, from_cache: bool) {
        let mut status = self.lock();
        status.revision = Some(open.revision.clone());
        status.built_at = Some(open.built_at.clone());
        status.signed_by = open.signed_by.clone();
        status.from_cache = from_cache;
        status.etag = etag;
    }

    /// Notes a bundle about to be swapped in; [`BundleFeed::swapped`]
    /// makes the status say it once it serves, not a moment before.
    fn stage(&self, open: OpenBundle, etag: Option<Validator>) {
        *self.staged.lock().unwrap_or_else(|p| p.into_inner()) = Some((open, etag));
    }

    /// The staged bundle now serves.
    pub fn swapped(&self) {
        let staged = self.staged.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((open, etag)) = staged {
            self.serving(&open, etag, false);
        }
    }

    /// The first policy set: the source's bundle, else the one kept in
    /// `cache_dir` (the source's error stays in the status), else why
    /// neither could be served.
    pub fn first(&self, config: &ServerConfig) -> Result<Loaded, LoadError> {
        let cached = self.work_dir.join(CACHED);
        let kept = if self.temporary {
            None
        } else {
            self.read_kept(&cached)
        };
        // The kept bundle is the floor: one older than it is not served.
        let floor = kept
            .as_deref()
            .and_then(|bytes| {
                warden_bundle::read(bytes, &self.limits, self.key.as_ref(), None).ok()
            })
            .and_then(|bundle| bundle.manifest().built_time());
        let source_error = match self.update(config, None, floor) {
            Ok(Some(loaded)) => return Ok(loaded),
            Ok(None) => LoadError::Bundle("the bundle source sent no bundle".into()),
            Err(e) => e,
        };
        let Some(bytes) = kept else {
            return Err(source_error);
        };
        tracing::error!(
            "{source_error}; serving the bundle kept in `{}`",
            cached.display()
        );
        let kept = |e: &dyn std::fmt::Display| {
            LoadError::Bundle(format!("{source_error}; and the kept bundle: {e}"))
        };
        let open = self.open(&bytes).map_err(|e| kept(&e))?;
        let loaded = self.load(config, &open, None).map_err(|e| kept(&e))?;
        self.serving(&open, None, true);
        Ok(loaded)
    }

    /// One poll, or the first fetch (`serving` none: no ETag is sent):
    /// `Ok(None)` when there is nothing new to serve, `Ok(Some)` with the
    /// new set, or why a new bundle was not served. The status says which.
    pub fn update(
        &self,
        config: &ServerConfig,
        serving: Option<&warden::Engine>,
        floor: Option<jiff::Timestamp>,
    ) -> Result<Option<Loaded>, LoadError> {
        let status_error = |e: &dyn std::fmt::Display, code: String| StatusError {
            code,
            message: e.to_string(),
        };
        // Asked with the validator of the bundle last refused, if any: a
        // refused bundle that has not changed is not fetched again, and
        // stays refused for the same reason.
        let (held, refused_before) = match serving {
            Some(_) => {
                let status = self.lock();
                let refused = status.refused.clone();
                // Only a strong validator names one body: a refused
                // bundle's date would hide a later one given the same date.
                let held = refused
                    .as_ref()
                    .map(|(v, _)| v.clone())
                    .filter(|v| matches!(v, Validator::ETag(_)))
                    .or_else(|| status.etag.clone());
                (held, refused)
            }
            None => (None, None),
        };
        let (bytes, etag) = match self.fetch(held.as_ref()) {
            Ok(Fetched::NotModified) => {
                if let Some((_, error)) = refused_before {
                    let message = error.message.clone();
                    self.record("refused", Some(error));
                    return Err(LoadError::Bundle(message));
                }
                self.record("not-modified", None);
                return Ok(None);
            }
            Ok(Fetched::Bundle { bytes, etag }) => (bytes, etag),
            Err(e) => {
                let result = if matches!(e, FetchError::Bundle(_)) {
                    "refused"
                } else {
                    "failed"
                };
                self.record(result, Some(status_error(&e, e.code())));
                return Err(LoadError::Fetch(e.to_string()));
            }
        };
        // A refusal for what the bundle is (invalid, unsigned, older, not
        // compiling) is remembered with its validator; one for what this
        // machine lacked a moment (a file it could not write) is not: the
        // next poll tries the bundle again.
        let refuse = |error: StatusError, intrinsic: bool| {
            let mut status = self.lock();
            status.refused = etag
                .clone()
                .filter(|_| intrinsic)
                .map(|v| (v, error.clone()));
            drop(status);
            self.record("refused", Some(error));
        };
        let open = match self.open(&bytes) {
            Ok(open) => open,
            Err(e) => {
                let intrinsic = !matches!(e, BundleError::Io { .. });
                refuse(status_error(&e, e.code().to_string()), intrinsic);
                return Err(LoadError::Fetch(e.to_string()));
            }
        };
        // No going back: a bundle built before the one served (or kept) is
        // an old one replayed. To roll back, build the old policies again.
        // And no bundle from the future: one would hold every later bundle
        // back (a build machine with a wrong clock).
        let built = warden_bundle::Manifest::parse_time(&open.built_at);
        let soon = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_mins(5))
            .ok();
        if let (Some(built), Some(soon)) = (built, soon)
            && built > soon
        {
            let _ = std::fs::remove_dir_all(&open.unpacked.dir);
            let e = BundleError::Invalid(format!(
                "it was built at {}, more than 5 minutes from now: the building machine's clock is wrong",
                open.built_at
            ));
            refuse(status_error(&e, e.code().to_string()), true);
            return Err(LoadError::Fetch(e.to_string()));
        }
        if let (Some(floor), Some(built)) = (floor, built)
            && built < floor
        {
            let _ = std::fs::remove_dir_all(&open.unpacked.dir);
            let e = BundleError::Older {
                built_at: open.built_at.clone(),
                newest: floor.to_string(),
            };
            refuse(status_error(&e, e.code().to_string()), true);
            return Err(LoadError::Fetch(e.to_string()));
        }
        self.lock().refused = None;
        if serving.and_then(|s| s.bundle_revision()) == Some(open.revision.as_str()) {
            let _ = std::fs::remove_dir_all(&open.unpacked.dir);
            self.lock().etag = etag;
            self.record("unchanged", None);
            return Ok(None);
        }
        match self.load(config, &open, serving) {
            Ok(loaded) => {
                self.keep(&bytes);
                if serving.is_some() {
                    self.stage(open, etag);
                } else {
                    self.serving(&open, etag, false);
                }
                self.record("updated", None);
                Ok(Some(loaded))
            }
            Err(e) => {
                let code = e
                    .diagnostics()
                    .first()
                    .map_or_else(|| "load-failed".to_string(), |d| d.code.to_string());
                // Everything but a failure to read a file is the bundle's.
                let intrinsic = !matches!(
                    e,
                    LoadError::Engine(warden::EngineError::Io { .. }) | LoadError::Task(_)
                );
                refuse(status_error(&e, code), intrinsic);
                Err(e)
            }
        }
    }

    /// When the bundle being served was built: no older one is taken.
    pub fn built_at(&self) -> Option<jiff::Timestamp> {
        self.lock()
            .built_at
            .as_deref()
            .and_then(warden_bundle::Manifest::parse_time)
    }

    /// The bytes of the bundle kept in `cache_dir`, if there is one.
    fn read_kept(&self, cached: &Path) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        std::fs::File::open(cached)
            .and_then(|file| {
                file.take(self.limits.max_archive_bytes + 1)
                    .read_to_end(&mut bytes)
            })
            .ok()?;
        Some(bytes)
    }

    /// Removes what earlier runs left in the work folder: bundles half
    /// unpacked, a kept bundle half written (a `kill -9` in the middle).
    pub fn sweep(&self) {
        let Ok(entries) = std::fs::read_dir(&self.work_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("unpacking-") {
                let _ = std::fs::remove_dir_all(entry.path());
            } else if name.starts_with(&format!(".{CACHED}.partial-")) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// The work folder.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }
}

/// A bundle checked and unpacked, ready to compile.
struct OpenBundle {
    revision: String,
    built_at: String,
    signed_by: Option<String>,
    unpacked: warden_bundle::Unpacked,
}
