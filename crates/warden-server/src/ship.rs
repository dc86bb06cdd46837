//! Shipping the decision log to a SIEM: the log file itself is the
//! disk-backed queue. Each sink reads the log from where it last
//! delivered (a cursor kept beside the log: byte offset, `seq` and hash of
//! the last line delivered), sends the next lines exactly as written (so
//! the hash chain verifies at the other end too), and moves its cursor only
//! once the sink has taken them. A sink that is down is retried with
//! exponential backoff; decisions are still answered meanwhile (their lines
//! wait in the log), and a restart, even after `kill -9`, resumes from the
//! cursor.
//!
//! Two sinks: HTTP (each batch one gzip-compressed JSON-lines POST, with an
//! `Idempotency-Key` so a batch sent again after a lost answer is taken
//! once), and syslog (RFC 5424 over TCP, octet-counted frames, RFC 6587).

use crate::decision_log::{Committed, GENESIS, line_hash};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a sink has delivered up to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Cursor {
    /// The byte offset after the last line delivered.
    offset: u64,
    /// Its `seq` (0: none yet).
    seq: u64,
    /// Its hash: the `prev` the next line must carry.
    hash: String,
    /// Where the batch being sent ends: after a restart the same lines go
    /// again as one batch, under the same `Idempotency-Key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sending_until: Option<u64>,
}

impl Cursor {
    fn start() -> Cursor {
        Cursor {
            offset: 0,
            seq: 0,
            hash: GENESIS.to_string(),
            sending_until: None,
        }
    }
}

/// A run of whole lines read from the log, ready to send.
pub struct Batch {
    /// The lines as written, each with its newline.
    pub bytes: Vec<u8>,
    /// Where each line starts in `bytes`, and its `seq`.
    pub lines: Vec<(usize, u64)>,
    /// The hash of the last line.
    pub last_hash: String,
    /// When the first line was written (its `timestamp`).
    pub first_written: Option<jiff::Timestamp>,
}

impl Batch {
    /// Each line without its newline, with its `seq`.
    pub fn each(&self) -> impl Iterator<Item = (&[u8], u64)> {
        self.lines.iter().enumerate().map(|(i, &(start, seq))| {
            let end = self
                .lines
                .get(i + 1)
                .map_or(self.bytes.len(), |&(next, _)| next);
            (&self.bytes[start..end - 1], seq)
        })
    }

    fn first_seq(&self) -> u64 {
        self.lines.first().map_or(0, |l| l.1)
    }

    fn last_seq(&self) -> u64 {
        self.lines.last().map_or(0, |l| l.1)
    }
}

/// Where lines go.
pub trait Sink: Send {
    /// `http` or `syslog`.
    fn kind(&self) -> &'static str;
    /// The URL or address, for the status.
    fn target(&self) -> String;
    /// Delivers a batch; `Ok` only once the sink has taken every line.
    fn send(&mut self, batch: &Batch) -> Result<(), String>;
}

/// What `/v1/status` and the metrics say of one sink.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ShipStatus {
    pub sink: &'static str,
    pub target: String,
    /// The `seq` of the last line delivered.
    pub shipped_seq: u64,
    /// The `seq` of the last line written to the log.
    pub logged_seq: u64,
    /// Lines written but not yet delivered.
    pub queue_depth: u64,
    /// How long the oldest line not yet delivered has waited, in seconds.
    pub lag_seconds: f64,
    /// Lines delivered since the server started.
    pub shipped: u64,
    /// Failed attempts since the server started.
    pub failures: u64,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    /// When the oldest line not yet delivered was written.
    #[serde(skip)]
    pending_since: Option<jiff::Timestamp>,
}

/// How a shipper batches and retries.
#[derive(Clone, Debug)]
pub struct Pace {
    pub batch_lines: usize,
    pub batch_bytes: usize,
    /// How often the log is looked at when there is nothing to send.
    pub idle: Duration,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

/// A running shipper.
pub struct Shipper {
    handle: ShipHandle,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What reads a shipper's status (`/v1/status`, `/metrics`).
#[derive(Clone)]
pub struct ShipHandle {
    status: Arc<Mutex<ShipStatus>>,
    committed: Arc<Committed>,
}

impl Shipper {
    /// Starts shipping `log` to `sink`, from the cursor kept in `cursor_path`.
    pub fn start(
        log: &Path,
        cursor_path: PathBuf,
        committed: Arc<Committed>,
        sink: Box<dyn Sink>,
        pace: Pace,
    ) -> std::io::Result<Shipper> {
        let status = Arc::new(Mutex::new(ShipStatus {
            sink: sink.kind(),
            target: sink.target(),
            ..ShipStatus::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut run = Run {
            log: log.to_path_buf(),
            cursor_path,
            committed: Arc::clone(&committed),
            sink,
            pace,
            status: Arc::clone(&status),
            stop: Arc::clone(&stop),
        };
        let thread = std::thread::Builder::new()
            .name(format!("ship-{}", run.sink.kind()))
            .spawn(move || run.run())?;
        Ok(Shipper {
            handle: ShipHandle { status, committed },
            stop,
            thread: Some(thread),
        })
    }

    /// What reads its status.
    pub fn handle(&self) -> ShipHandle {
        self.handle.clone()
    }

    /// The sink's status now.
    pub fn status(&self) -> ShipStatus {
        self.handle.status()
    }

    /// Delivers what the log holds, for at most `within`, then stops.
    pub async fn finish(mut self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.status().queue_depth > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        let left = self.status().queue_depth;
        if left > 0 {
            tracing::warn!(
                sink = self.status().sink,
                left,
                "stopping with lines not yet delivered; they are sent at the next start"
            );
        }
    }
}

impl ShipHandle {
    /// The sink's status now.
    pub fn status(&self) -> ShipStatus {
        let mut status = lock(&self.status).clone();
        status.logged_seq = self.committed.seq.load(Ordering::Acquire);
        status.queue_depth = status.logged_seq.saturating_sub(status.shipped_seq);
        status.lag_seconds = match (status.queue_depth, status.pending_since) {
            (0, _) | (_, None) => 0.0,
            (_, Some(since)) => {
                (jiff::Timestamp::now().as_millisecond() - since.as_millisecond()).max(0) as f64
                    / 1000.0
            }
        };
        status
    }
}

fn lock(status: &Mutex<ShipStatus>) -> std::sync::MutexGuard<'_, ShipStatus> {
    status.lock().unwrap_or_else(|p| p.into_inner())
}

/// The shipper thread's state.
struct Run {
    log: PathBuf,
    cursor_path: PathBuf,
    committed: Arc<Committed>,
    sink: Box<dyn Sink>,
    pace: Pace,
    status: Arc<Mutex<ShipStatus>>,
    stop: Arc<AtomicBool>,
}

/// The longest line read: a record is far smaller (the writer's bound).
const LONGEST_LINE: u64 = 64 << 20;

impl Run {
    fn run(&mut self) {
        let mut cursor = self.load_cursor();
        lock(&self.status).shipped_seq = cursor.seq;
        let mut backoff = self.pace.first_backoff;
        let mut pending: Option<Batch> = None;
        while !self.stop.load(Ordering::SeqCst) {
            if pending.is_none() {
                match self.read_batch(&cursor) {
                    Ok(Some(batch)) => {
                        lock(&self.status).pending_since = batch.first_written;
                        cursor.sending_until = Some(cursor.offset + batch.bytes.len() as u64);
                        if let Err(e) = self.save_cursor(&cursor) {
                            tracing::warn!(
                                "cannot save the shipping cursor `{}`: {e}",
                                self.cursor_path.display()
                            );
                        }
                        pending = Some(batch);
                    }
                    Ok(None) => {
                        self.sleep(self.pace.idle);
                        continue;
                    }
                    Err(_) if cursor.sending_until.is_some() => {
                        // A batch kept from before a restart that the log
                        // no longer ends a line at: read afresh.
                        cursor.sending_until = None;
                        continue;
                    }
                    Err(e) => {
                        self.failed(&format!("reading the decision log: {e}"));
                        self.sleep(backoff);
                        backoff = (backoff * 2).min(self.pace.max_backoff);
                        continue;
                    }
                }
            }
            let Some(batch) = &pending else { continue };
            match self.sink.send(batch) {
                Ok(()) => {
                    cursor = Cursor {
                        offset: cursor.offset + batch.bytes.len() as u64,
                        seq: batch.last_seq(),
                        hash: batch.last_hash.clone(),
                        sending_until: None,
                    };
                    if let Err(e) = self.save_cursor(&cursor) {
                        tracing::warn!(
                            "cannot save the shipping cursor `{}`: {e}; a restart sends these lines again",
                            self.cursor_path.display()
                        );
                    }
                    let mut status = lock(&self.status);
                    status.shipped_seq = cursor.seq;
                    status.shipped += batch.lines.len() as u64;
                    status.last_success = Some(jiff::Timestamp::now().to_string());
                    status.last_error = None;
                    status.pending_since = None;
                    drop(status);
                    pending = None;
                    backoff = self.pace.first_backoff;
                }
                Err(e) => {
                    self.failed(&e);
                    // A tenth more or less at random: replicas that lost the
                    // same sink do not all come back at the same instant.
                    let spread = backoff.as_millis() as u64 / 10;
                    let jitter = if spread == 0 {
                        0
                    } else {
                        u64::from(ulid::Ulid::new().random() as u32) % (2 * spread)
                    };
                    self.sleep(
                        backoff - Duration::from_millis(spread) + Duration::from_millis(jitter),
                    );
                    backoff = (backoff * 2).min(self.pace.max_backoff);
                }
            }
        }
    }

    /// Sleeps up to `how_long`, waking early to stop.
    fn sleep(&self, how_long: Duration) {
        let until = Instant::now() + how_long;
        while !self.stop.load(Ordering::SeqCst) {
            let Some(left) = until.checked_duration_since(Instant::now()) else {
                return;
            };
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    fn failed(&self, why: &str) {
        let mut status = lock(&self.status);
        status.failures += 1;
        if status.last_error.as_deref() != Some(why) {
            tracing::warn!(sink = status.sink, target = %status.target, "shipping the decision log: {why}; retrying");
        }
        status.last_error = Some(why.to_string());
    }

    /// The cursor kept, or the start of the log. A cursor past the end of
    /// the log, or whose line the log no longer holds (the log was replaced),
    /// starts over: lines may then be sent twice, never skipped. The `seq`
    /// is the line's own, whatever the cursor file says.
    fn load_cursor(&self) -> Cursor {
        let kept = warden::read_file_bounded(&self.cursor_path, 64 << 10)
            .ok()
            .and_then(|text| serde_json::from_str::<Cursor>(&text).ok());
        let Some(cursor) = kept else {
            return Cursor::start();
        };
        if cursor.offset == 0 {
            // Nothing delivered yet; a first batch may be in flight.
            return Cursor {
                sending_until: cursor.sending_until,
                ..Cursor::start()
            };
        }
        let line = self.line_before(cursor.offset).ok().flatten();
        let seq = line
            .as_ref()
            .filter(|line| line_hash(line) == cursor.hash)
            .and_then(|line| {
                serde_json::from_slice::<serde_json::Value>(line)
                    .ok()?
                    .get("seq")?
                    .as_u64()
            });
        match seq {
            Some(seq) => Cursor { seq, ..cursor },
            None => {
                tracing::warn!(
                    "the decision log no longer holds the last line shipped (it was replaced or cut); shipping it from its start"
                );
                Cursor::start()
            }
        }
    }

    /// The whole line that ends just before `offset` (without its newline).
    fn line_before(&self, offset: u64) -> std::io::Result<Option<Vec<u8>>> {
        let mut file = std::fs::File::open(&self.log)?;
        if offset == 0 || file.metadata()?.len() < offset {
            return Ok(None);
        }
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(offset - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            return Ok(None);
        }
        let start =
            crate::decision_log::last_newline_before(&mut file, offset - 1)?.map_or(0, |p| p + 1);
        let mut line = vec![0; (offset - 1 - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut line)?;
        Ok(Some(line))
    }

    fn save_cursor(&self, cursor: &Cursor) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(cursor).unwrap_or_default();
        warden::replace_file(&self.cursor_path, |file| file.write_all(&bytes))
    }

    /// The next lines after `cursor`, up to the committed end of the log.
    fn read_batch(&self, cursor: &Cursor) -> std::io::Result<Option<Batch>> {
        let committed = self.committed.length.load(Ordering::Acquire);
        // A batch begun before a restart is sent again whole, as it was.
        let resent = cursor
            .sending_until
            .filter(|until| *until > cursor.offset && *until <= committed);
        let end = resent.unwrap_or(committed);
        if cursor.offset >= end {
            return Ok(None);
        }
        let mut file = std::fs::File::open(&self.log)?;
        file.seek(SeekFrom::Start(cursor.offset))?;
        let mut reader = BufReader::new(file.take(end - cursor.offset));
        let mut batch = Batch {
            bytes: Vec::new(),
            lines: Vec::new(),
            last_hash: cursor.hash.clone(),
            first_written: None,
        };
        let mut expected_prev = cursor.hash.clone();
        while resent.is_some()
            || (batch.lines.len() < self.pace.batch_lines
                && (batch.bytes.len() < self.pace.batch_bytes || batch.lines.is_empty()))
        {
            let start = batch.bytes.len();
            let n = (&mut reader)
                .take(LONGEST_LINE)
                .read_until(b'\n', &mut batch.bytes)?;
            if n == 0 {
                break;
            }
            if batch.bytes.last() != Some(&b'\n') {
                // Committed bytes always end a line: this is not the log
                // the writer writes.
                return Err(std::io::Error::other(
                    "a line without its end below the committed length",
                ));
            }
            let line = &batch.bytes[start..batch.bytes.len() - 1];
            let record: serde_json::Value = serde_json::from_slice(line)
                .map_err(|e| std::io::Error::other(format!("a line that is not JSON: {e}")))?;
            let seq = record.get("seq").and_then(|s| s.as_u64()).unwrap_or(0);
            let prev = record.get("prev").and_then(|p| p.as_str()).unwrap_or("");
            if prev != expected_prev {
                tracing::warn!(
                    seq,
                    "the decision log's chain breaks before this line; it is shipped as it is (`warden audit verify` names the break)"
                );
            }
            if batch.lines.is_empty() {
                batch.first_written = record
                    .get("timestamp")
                    .and_then(|t| t.as_str())
                    .and_then(|t| t.parse().ok());
            }
            expected_prev = line_hash(line);
            batch.lines.push((start, seq));
        }
        if batch.lines.is_empty() {
            return Ok(None);
        }
        batch.last_hash = expected_prev;
        Ok(Some(batch))
    }
}

/// The HTTP sink: one POST per batch, the lines gzip-compressed.
pub struct HttpSink {
    url: String,
    /// This machine's name and the log's path.
    replica: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl HttpSink {
    pub fn new(
        url: &str,
        log: &Path,
        token: Option<String>,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<HttpSink, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("`{}` is not an http(s) URL", url.escape_default()));
        }
        // No redirect is followed: a POST answered 302 and followed by a GET
        // that answers 200 (a login page) would count lines as delivered.
        let agent = crate::http_client::agent(ca_file, timeout, 0)?;
        let replica: String = format!(
            "{}:{}",
            hostname().unwrap_or_else(|| "-".into()),
            log.display()
        )
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(256)
        .collect();
        Ok(HttpSink {
            replica,
            url: url.to_string(),
            agent,
            token,
        })
    }
}

impl Sink for HttpSink {
    fn kind(&self) -> &'static str {
        "http"
    }

    fn target(&self) -> String {
        self.url.clone()
    }

    fn send(&mut self, batch: &Batch) -> Result<(), String> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&batch.bytes).map_err(|e| e.to_string())?;
        let body = gz.finish().map_err(|e| e.to_string())?;
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/x-ndjson")
            .header("Content-Encoding", "gzip")
            // The same lines are the same key: a sink that took a batch whose
            // answer was lost drops it when it comes again.
            .header("Idempotency-Key", &batch.last_hash)
            .header("X-Warden-First-Seq", batch.first_seq().to_string())
            .header("X-Warden-Last-Seq", batch.last_seq().to_string())
            // Each replica's log is a chain of its own: this says which.
            .header("X-Warden-Replica", &self.replica);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request
            .send(&body[..])
            .map_err(|e| format!("{}: {e}", self.url))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("{} answered HTTP {status}", self.url))
        }
    }
}

/// The syslog sink: RFC 5424 messages over TCP, octet-counted (RFC 6587),
/// the decision line as the message, its `seq` as structured data.
pub struct SyslogSink {
    addr: String,
    /// RELP (acknowledged) rather than plain TCP.
    relp: bool,
    /// The next RELP transaction number.
    txnr: u32,
    app_name: String,
    hostname: String,
    /// `facility * 8 + severity` (informational).
    priority: u8,
    /// PROCID: this replica's log, named for good (a hash of the host and
    /// the log's path), so a syslog server can keep each chain apart.
    replica: String,
    stream: Option<std::net::TcpStream>,
    timeout: Duration,
    /// When the send under way must be done by: each send, its connect,
    /// writes and RELP answers included, within `timeout`.
    deadline: Instant,
}

impl SyslogSink {
    pub fn new(
        addr: &str,
        log: &Path,
        app_name: &str,
        facility: u8,
        timeout: Duration,
    ) -> Result<SyslogSink, String> {
        if facility > 23 {
            return Err(format!("facility {facility} is not 0-23"));
        }
        let printable =
            |s: &str| !s.is_empty() && s.len() <= 48 && s.bytes().all(|b| (33..=126).contains(&b));
        if !printable(app_name) {
            return Err(format!(
                "app name `{}` is not 1-48 printable ASCII characters",
                app_name.escape_default()
            ));
        }
        let hostname = hostname()
            .filter(|h| printable(h))
            .unwrap_or_else(|| "-".into());
        let (relp, addr) = match addr.strip_prefix("relp://") {
            Some(rest) => (true, rest),
            None => (false, addr.strip_prefix("tcp://").unwrap_or(addr)),
        };
        let replica = warden::sha256_text(format!("{hostname}:{}", log.display()).as_bytes())
            ["sha256:".len()..]
            .chars()
            .take(12)
            .collect();
        Ok(SyslogSink {
            replica,
            relp,
            txnr: 1,
            addr: addr.to_string(),
            app_name: app_name.to_string(),
            hostname,
            priority: facility * 8 + 6,
            stream: None,
            timeout,
            deadline: Instant::now(),
        })
    }

    fn connect(&mut self) -> Result<&mut std::net::TcpStream, String> {
        if self.stream.is_none() {
            use std::net::ToSocketAddrs;
            let addr = self
                .addr
                .to_socket_addrs()
                .map_err(|e| format!("{}: {e}", self.addr))?
                .next()
                .ok_or_else(|| format!("{}: no address", self.addr))?;
            let left = self
                .deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| format!("{}: timed out", self.addr))?;
            let stream = std::net::TcpStream::connect_timeout(&addr, left)
                .map_err(|e| format!("{}: {e}", self.addr))?;
            let _ = stream.set_nodelay(true);
            self.stream = Some(stream);
            if self.relp {
                self.txnr = 1;
                let offer = format!(
                    "relp_version=0\nrelp_software=warden,{},https://example.invalid/warden\ncommands=syslog",
                    env!("CARGO_PKG_VERSION")
                );
                let mut frame = Vec::new();
                let open = self.relp_frame(&mut frame, "open", offer.as_bytes());
                let answer = self.relp_exchange(&frame, &[open]);
                if let Err(e) = answer {
                    self.stream = None;
                    return Err(format!("{}: opening the RELP session: {e}", self.addr));
                }
            }
        } else if !self.relp && peer_closed(self.stream.as_ref().expect("connected")) {
            // A syslog server that went away leaves the socket writable for
            // a while: lines written into it would be lost. Reconnect.
            self.stream = None;
            return self.connect();
        }
        Ok(self.stream.as_mut().expect("connected"))
    }

    /// Appends a RELP frame (`TXNR COMMAND LEN DATA\n`) with the next
    /// transaction number, which it returns.
    fn relp_frame(&mut self, out: &mut Vec<u8>, command: &str, data: &[u8]) -> u32 {
        let txnr = self.txnr;
        out.extend_from_slice(format!("{txnr} {command} {}", data.len()).as_bytes());
        if !data.is_empty() {
            out.push(b' ');
            out.extend_from_slice(data);
        }
        out.push(b'\n');
        // 1 to 999,999,999, then 1 again (RELP).
        self.txnr = if txnr >= 999_999_999 { 1 } else { txnr + 1 };
        txnr
    }

    /// Writes `frames` and reads an answer for each transaction of
    /// `txnrs`, which must be `200`: only then did the server take the
    /// messages. An answer to no transaction sent is an error.
    fn relp_exchange(&mut self, frames: &[u8], txnrs: &[u32]) -> Result<(), String> {
        let until = self.deadline;
        let stream = self.stream.as_ref().ok_or("not connected")?;
        let mut io = Deadline { stream, until };
        io.write_all(frames).map_err(|e| e.to_string())?;
        let mut outstanding: std::collections::HashSet<u32> = txnrs.iter().copied().collect();
        let mut reader = BufReader::new(io);
        while !outstanding.is_empty() {
            let (txnr, command, data) = read_relp_frame(&mut reader)?;
            match command.as_str() {
                "rsp" if outstanding.contains(&txnr) => {
                    let ok = data.starts_with(b"200")
                        && matches!(data.get(3), None | Some(b' ' | b'\n'));
                    if !ok {
                        return Err(format!(
                            "the server answered `{}`",
                            String::from_utf8_lossy(&data[..data.len().min(200)]).escape_default()
                        ));
                    }
                    outstanding.remove(&txnr);
                }
                "rsp" => {
                    return Err(format!(
                        "an answer to transaction {txnr}, which was not sent"
                    ));
                }
                "serverclose" => return Err("the server closed the session".into()),
                other => {
                    return Err(format!(
                        "unexpected RELP command `{}`",
                        other.escape_default()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A connection read and written within a deadline: each call gets what is
/// left of it (a server that answers a byte at a time cannot stretch one
/// send past the timeout).
struct Deadline<'a> {
    stream: &'a std::net::TcpStream,
    until: Instant,
}

impl Deadline<'_> {
    fn left(&self) -> std::io::Result<Duration> {
        self.until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"))
    }
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        (&*self.stream).read(buf)
    }
}

impl Write for Deadline<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        (&*self.stream).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink for SyslogSink {
    fn kind(&self) -> &'static str {
        "syslog"
    }

    fn target(&self) -> String {
        if self.relp {
            format!("relp://{}", self.addr)
        } else {
            self.addr.clone()
        }
    }

    fn send(&mut self, batch: &Batch) -> Result<(), String> {
        self.deadline = Instant::now() + self.timeout;
        let mut messages = Vec::with_capacity(batch.lines.len());
        for (line, seq) in batch.each() {
            let at = serde_json::from_slice::<serde_json::Value>(line)
                .ok()
                .and_then(|r| {
                    r.get("timestamp")?
                        .as_str()?
                        .parse::<jiff::Timestamp>()
                        .ok()
                })
                .unwrap_or_else(jiff::Timestamp::now);
            let mut message = format!(
                "<{}>1 {} {} {} {} decision [warden@32473 seq=\"{seq}\"] ",
                self.priority,
                at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
                self.hostname,
                self.app_name,
                self.replica,
            )
            .into_bytes();
            message.extend_from_slice(line);
            messages.push(message);
        }
        let addr = self.addr.clone();
        let sent = self
            .connect()
            .map(|_| ())
            .and_then(|()| self.deliver(&messages, &addr));
        if sent.is_err() {
            // A broken connection is not reused: the batch goes again on a new one.
            self.stream = None;
        }
        sent
    }
}

impl SyslogSink {
    /// Writes the messages on the open connection; with RELP, waits for
    /// each to be answered `200`.
    fn deliver(&mut self, messages: &[Vec<u8>], addr: &str) -> Result<(), String> {
        if self.relp {
            // At most RELP_WINDOW messages unanswered at a time.
            for window in messages.chunks(RELP_WINDOW) {
                let mut frames = Vec::new();
                let txnrs: Vec<u32> = window
                    .iter()
                    .map(|message| self.relp_frame(&mut frames, "syslog", message))
                    .collect();
                self.relp_exchange(&frames, &txnrs)
                    .map_err(|e| format!("{addr}: {e}"))?;
            }
            return Ok(());
        }
        let mut frames = Vec::new();
        for message in messages {
            frames.extend_from_slice(format!("{} ", message.len()).as_bytes());
            frames.extend_from_slice(message);
        }
        let stream = self.stream.as_ref().ok_or("not connected")?;
        Deadline {
            stream,
            until: self.deadline,
        }
        .write_all(&frames)
        .map_err(|e| format!("{addr}: {e}"))
    }
}

/// Messages sent before their answers are read (RELP's window).
const RELP_WINDOW: usize = 128;
/// The largest RELP answer read.
const RELP_ANSWER_BYTES: usize = 64 << 10;

/// Reads one RELP frame: its transaction number, command and data.
fn read_relp_frame(reader: &mut impl BufRead) -> Result<(u32, String, Vec<u8>), String> {
    let mut field = |what: &str, longest: usize| -> Result<String, String> {
        let mut bytes = Vec::new();
        loop {
            let mut byte = [0u8; 1];
            reader
                .read_exact(&mut byte)
                .map_err(|e| format!("reading the answer: {e}"))?;
            match byte[0] {
                b' ' | b'\n' if !bytes.is_empty() => {
                    bytes.push(byte[0]);
                    break;
                }
                b if b.is_ascii_graphic() && bytes.len() < longest => bytes.push(b),
                _ => return Err(format!("a malformed RELP {what}")),
            }
        }
        String::from_utf8(bytes).map_err(|_| format!("a malformed RELP {what}"))
    };
    let txnr: u32 = field("transaction number", 9)?
        .trim_end()
        .parse()
        .map_err(|_| "a malformed RELP transaction number".to_string())?;
    let command = field("command", 32)?;
    let length = field("length", 9)?;
    let ended = length.ends_with('\n');
    let length: usize = length
        .trim_end()
        .parse()
        .map_err(|_| "a malformed RELP length".to_string())?;
    if length > RELP_ANSWER_BYTES {
        return Err(format!("a RELP answer of {length} bytes"));
    }
    let mut data = vec![0; length];
    if length > 0 {
        if ended {
            return Err("a malformed RELP frame".into());
        }
        reader
            .read_exact(&mut data)
            .map_err(|e| format!("reading the answer: {e}"))?;
        let mut trailer = [0u8; 1];
        reader
            .read_exact(&mut trailer)
            .map_err(|e| format!("reading the answer: {e}"))?;
        if trailer[0] != b'\n' {
            return Err("a RELP frame without its end".into());
        }
    } else if !ended {
        let mut trailer = [0u8; 1];
        let _ = reader.read_exact(&mut trailer);
    }
    Ok((txnr, command.trim_end().to_string(), data))
}

/// Whether the other end has closed the connection (a read would return
/// its end at once).
fn peer_closed(stream: &std::net::TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let closed = match stream.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    closed
}

/// This machine's name.
fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: `gethostname` writes at most `len` bytes into the buffer given.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8(buf[..end].to_vec()).ok()
}
