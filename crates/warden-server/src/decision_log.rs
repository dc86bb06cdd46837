//! The decision log: one JSON line per decision, each carrying the SHA-256
//! of the line before it (`prev`) and its place in the file (`seq`), so a
//! changed, removed or reordered line breaks the chain where it happened.
//!
//! A decision is answered only after its line is written (group commit): one
//! writer thread takes every record queued, writes them in one call, makes
//! them as durable as configured (`write`: in the operating system, which
//! survives the process being killed; `fsync`: on the disk, which survives
//! the machine losing power), then releases every request of the batch. A
//! write that fails is cut back off the file, so no torn line stays behind;
//! the requests of that batch are refused, the server is not ready, and the
//! writer probes for space every second until writing works again. On open,
//! a torn last line (a crash in the middle of a write) is moved aside and the
//! chain resumes after the last whole line.

use crate::config::{Durability, LogConfig};
pub use crate::log_line::{LogLine, Scalar};
use serde_json::value::RawValue;
use serde_json::{Value as Json, json};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The `prev` of the first line.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// `sha256:` and the hex digest of a line (without its newline).
pub fn line_hash(line: &[u8]) -> String {
    warden::sha256_text(line)
}

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct DecisionLog {
    tx: mpsc::Sender<Message>,
    failed: Arc<AtomicBool>,
    committed: Arc<Committed>,
    path: PathBuf,
}

/// How far the log is written for good: readers (the shippers) take lines
/// only below `length`, never a line of a write that may still be cut back.
#[derive(Debug, Default)]
pub struct Committed {
    /// Bytes of whole, written lines.
    pub length: std::sync::atomic::AtomicU64,
    /// The `seq` of the last of them.
    pub seq: std::sync::atomic::AtomicU64,
}

/// What the writer is sent.
enum Message {
    Record(Pending),
    /// Write what is queued, then stop.
    Close,
}

/// A record waiting for its line to be written.
struct Pending {
    /// The record as a JSON object, without its `seq` and `prev`.
    record: Vec<u8>,
    written: oneshot::Sender<Result<(), LogFailed>>,
}

/// Why a decision could not be logged: it must not be answered.
#[derive(Clone, Debug, thiserror::Error)]
pub enum LogFailed {
    /// The writer has stopped (the server is shutting down).
    #[error("the decision log is closed")]
    Stopped,
    /// The write failed (a full disk, an I/O error); it was cut back off.
    #[error("the decision log cannot be written: {0}")]
    Write(String),
}

/// The writer thread, to be finished on shutdown.
pub struct LogWriter {
    thread: std::thread::JoinHandle<std::io::Result<Head>>,
    tx: mpsc::Sender<Message>,
}

/// The end of the chain: how many lines, and the hash of the last one.
/// Recorded elsewhere (the server logs it on shutdown), it makes a changed
/// or truncated tail detectable too (`warden audit verify --head`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: usize,
    pub hash: String,
}

impl LogWriter {
    /// Takes no more lines, writes every queued one, flushes; the head.
    pub async fn finish(self) -> std::io::Result<Head> {
        let _ = self.tx.send(Message::Close).await;
        tokio::task::spawn_blocking(move || {
            self.thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the log writer panicked")))
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// What opening a log found at its end.
#[derive(Debug)]
struct Opened {
    head: Head,
    /// The length of the file's whole lines.
    length: u64,
    /// A torn last line that was moved aside: its length and where it went.
    recovered: Option<(u64, PathBuf)>,
}

impl DecisionLog {
    /// Opens `path` for appending, continuing the chain of what it holds.
    pub async fn open(
        path: &Path,
        durability: Durability,
    ) -> std::io::Result<(DecisionLog, LogWriter)> {
        let owned = path.to_path_buf();
        let (file, opened) = tokio::task::spawn_blocking(move || open_log(&owned))
            .await
            .map_err(std::io::Error::other)??;
        if let Some((bytes, aside)) = &opened.recovered {
            tracing::warn!(
                bytes,
                saved = %aside.display(),
                "the decision log ended in a torn line (a write cut short by a crash); \
                 it was moved aside and the chain resumes after the last whole line"
            );
        }
        let (tx, rx) = mpsc::channel(16_384);
        let failed = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(Committed::default());
        committed.length.store(opened.length, Ordering::Release);
        committed
            .seq
            .store(opened.head.seq as u64, Ordering::Release);
        let writer = Writer {
            committed: Arc::clone(&committed),
            file,
            length: opened.length,
            head: opened.head,
            durability,
            failed: Arc::clone(&failed),
            recovered: opened.recovered,
            dirty: false,
            last_probe: None,
        };
        let thread = std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || writer.run(rx))?;
        Ok((
            DecisionLog {
                tx: tx.clone(),
                failed,
                committed,
                path: path.to_path_buf(),
            },
            LogWriter { thread, tx },
        ))
    }

    /// Queues a record and waits until its line is written (as durably as
    /// configured). An error means the decision is not logged, and must not
    /// be answered.
    /// `record` is a JSON object as [`record`] makes it: serialized by the
    /// caller, so the one writer thread only chains and writes.
    pub async fn append(&self, record: Vec<u8>) -> Result<(), LogFailed> {
        let (written, done) = oneshot::channel();
        self.tx
            .send(Message::Record(Pending { record, written }))
            .await
            .map_err(|_| LogFailed::Stopped)?;
        done.await.unwrap_or(Err(LogFailed::Stopped))
    }

    /// Whether writing fails (the server is then not ready).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// How far the log is written for good.
    pub fn committed(&self) -> Arc<Committed> {
        Arc::clone(&self.committed)
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens the log, repairing a torn tail: the chain's head and the length of
/// its whole lines. Only a regular file has a past to continue: a FIFO or a
/// device is written as it is.
fn open_log(path: &Path) -> std::io::Result<(File, Opened)> {
    // Only a regular file: a FIFO without a reader would block every
    // decision (and shutdown) once its buffer fills, and a device keeps no
    // chain to continue.
    let not_regular = || {
        std::io::Error::other(
            "it is not a regular file (a FIFO, a device or a socket); \
             name a file, and ship it to a SIEM from there",
        )
    };
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        return Err(not_regular());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    // One writer per log: a second server appending to it would break the
    // chain, and cutting back a failed write to its own idea of the length
    // would erase what the other had answered.
    // SAFETY: flock on a descriptor this function owns.
    if unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    } != 0
    {
        let e = std::io::Error::last_os_error();
        return Err(if e.kind() == std::io::ErrorKind::WouldBlock {
            std::io::Error::other(
                "another process is writing it (another `warden serve`?); \
                 give each server its own log",
            )
        } else {
            e
        });
    }
    let genesis = Head {
        seq: 0,
        hash: GENESIS.to_string(),
    };
    let len = file.metadata()?.len();
    let (whole, last) = last_whole_line(&mut file, len)?;
    let mut recovered = None;
    if whole < len {
        // A torn tail: the bytes after the last newline were never a whole
        // line, so no decision was answered on them (a line is answered
        // only once written whole). Kept beside the log for the record.
        file.seek(SeekFrom::Start(whole))?;
        let mut torn = Vec::new();
        (&mut file).take(len - whole).read_to_end(&mut torn)?;
        let stamp = jiff::Timestamp::now().as_second();
        let aside = PathBuf::from(format!("{}.torn-{stamp}", path.display()));
        std::fs::write(&aside, &torn)?;
        file.set_len(whole)?;
        file.sync_all()?;
        recovered = Some((len - whole, aside));
    }
    let head = match last {
        Some(line) => {
            let seq = serde_json::from_slice::<Json>(&line)
                .ok()
                .and_then(|r| r.get("seq").and_then(Json::as_u64))
                .ok_or_else(|| {
                    std::io::Error::other(
                        "its last line is not a decision-log record; run `warden audit verify` on it",
                    )
                })?;
            Head {
                seq: seq as usize,
                hash: line_hash(&line),
            }
        }
        None => genesis,
    };
    file.seek(SeekFrom::End(0))?;
    Ok((
        file,
        Opened {
            head,
            length: whole,
            recovered,
        },
    ))
}

/// The length up to and including the last newline of a file of `len`
/// bytes, and the last whole line before it (without its newline), read from
/// the end: logs grow large.
fn last_whole_line(file: &mut File, len: u64) -> std::io::Result<(u64, Option<Vec<u8>>)> {
    let Some(newline) = last_newline_before(file, len)? else {
        return Ok((0, None));
    };
    let start = last_newline_before(file, newline)?.map_or(0, |p| p + 1);
    let mut line = vec![0; (newline - start) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut line)?;
    Ok((newline + 1, Some(line)))
}

/// The offset of the last newline before `end`, searched backwards.
pub(crate) fn last_newline_before(file: &mut File, end: u64) -> std::io::Result<Option<u64>> {
    const CHUNK: u64 = 64 * 1024;
    // A record is far smaller than this, inputs included: past it the end
    // of the file is not a log.
    const LONGEST_LINE: u64 = 64 << 20;
    let mut chunk = vec![0; CHUNK as usize];
    let mut at = end;
    while at > 0 {
        if end - at > LONGEST_LINE {
            return Err(std::io::Error::other(
                "its last line is longer than 64 MiB; it is not a decision log",
            ));
        }
        let step = CHUNK.min(at);
        at -= step;
        let buf = &mut chunk[..step as usize];
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(buf)?;
        if let Some(i) = buf.iter().rposition(|b| *b == b'\n') {
            return Ok(Some(at + i as u64));
        }
    }
    Ok(None)
}

/// The writer thread's state.
struct Writer {
    file: File,
    committed: Arc<Committed>,
    /// The length of the file's whole lines: where a failed write is cut back to.
    length: u64,
    head: Head,
    durability: Durability,
    failed: Arc<AtomicBool>,
    /// A torn tail moved aside at open, noted in the next record.
    recovered: Option<(u64, PathBuf)>,
    /// A write failed and the file may hold part of it beyond `length`.
    dirty: bool,
    /// When writing was last tried while failed.
    last_probe: Option<std::time::Instant>,
}

/// Most records one write takes.
const BATCH: usize = 4_096;

/// How often a failed log is tried again when no decision asks.
const PROBE: Duration = Duration::from_secs(1);

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Message>) -> std::io::Result<Head> {
        let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
        // A torn tail moved aside at open is recorded in the chain at once,
        // in a line of its own, so the record survives even if no decision
        // follows before the server stops.
        if self.recovered.is_some() {
            let (written, _) = oneshot::channel();
            let record = serde_json::to_vec(&json!({
                "timestamp": jiff::Timestamp::now().to_string(),
                "event": "recovered",
            }))
            .unwrap_or_else(|_| b"{}".to_vec());
            if let Err(e) = self.write_batch(&[Pending { record, written }]) {
                tracing::error!("the decision log's repair could not be recorded: {e}");
            }
        }
        let mut closing = false;
        loop {
            // While failed, wake now and then to see whether writing works
            // again, so the server becomes ready without traffic.
            let first = if closing {
                rx.try_recv().ok()
            } else if self.failed.load(Ordering::Relaxed) {
                match rx.try_recv() {
                    Ok(message) => Some(message),
                    Err(mpsc::error::TryRecvError::Disconnected) => None,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        std::thread::sleep(PROBE / 10);
                        if self.last_probe.is_none_or(|t| t.elapsed() >= PROBE) {
                            self.last_probe = Some(std::time::Instant::now());
                            self.probe();
                        }
                        continue;
                    }
                }
            } else {
                rx.blocking_recv()
            };
            let mut next = first;
            while batch.len() < BATCH {
                match next {
                    Some(Message::Record(pending)) => batch.push(pending),
                    Some(Message::Close) => {
                        // Nothing new is taken; what is queued is still written.
                        closing = true;
                        rx.close();
                    }
                    None => break,
                }
                next = rx.try_recv().ok();
            }
            match next {
                Some(Message::Record(pending)) => batch.push(pending),
                Some(Message::Close) => {
                    closing = true;
                    rx.close();
                }
                None => {}
            }
            if batch.is_empty() {
                if closing || rx.is_closed() && rx.is_empty() {
                    break;
                }
                continue;
            }
            let result = self.write_batch(&batch);
            for pending in batch.drain(..) {
                let _ = pending.written.send(result.clone());
            }
        }
        if self.dirty {
            let _ = self.cut_back();
        }
        self.file.sync_data()?;
        Ok(self.head)
    }

    /// Writes the batch's lines in one call; on failure, cuts them back off.
    fn write_batch(&mut self, batch: &[Pending]) -> Result<(), LogFailed> {
        if self.dirty {
            self.cut_back().map_err(|e| self.fail(e))?;
        }
        let mut head = self.head.clone();
        let mut bytes = Vec::with_capacity(batch.len() * 512);
        for (i, pending) in batch.iter().enumerate() {
            head.seq += 1;
            let start = bytes.len();
            // `{…}` becomes `{…,"seq":N,"prev":"…"}`: the fields the chain
            // adds come last, as inserting them into the map would put them.
            let record = pending.record.as_slice();
            let body = match record.strip_suffix(b"}") {
                Some(body) if record.starts_with(b"{") => body,
                _ => {
                    return Err(
                        self.fail(std::io::Error::other("a log record is not a JSON object"))
                    );
                }
            };
            bytes.extend_from_slice(body);
            if body.len() > 1 {
                bytes.push(b',');
            }
            bytes.extend_from_slice(
                format!("\"seq\":{},\"prev\":\"{}\"", head.seq, head.hash).as_bytes(),
            );
            if i == 0
                && let Some((torn, aside)) = &self.recovered
            {
                let recovered =
                    json!({ "torn_bytes": torn, "saved_to": aside.display().to_string() });
                bytes.extend_from_slice(b",\"recovered\":");
                serde_json::to_writer(&mut bytes, &recovered).map_err(|e| self.fail(e.into()))?;
            }
            bytes.push(b'}');
            head.hash = line_hash(&bytes[start..]);
            bytes.push(b'\n');
        }
        let written = self
            .file
            .write_all(&bytes)
            .and_then(|()| match self.durability {
                Durability::Write => Ok(()),
                Durability::Fsync => self.file.sync_data(),
            });
        match written {
            Ok(()) => {
                self.length += bytes.len() as u64;
                self.head = head;
                self.committed
                    .seq
                    .store(self.head.seq as u64, Ordering::Release);
                self.committed.length.store(self.length, Ordering::Release);
                self.recovered = None;
                if self.failed.swap(false, Ordering::Relaxed) {
                    tracing::info!("the decision log is written again; decisions are answered");
                }
                Ok(())
            }
            Err(e) => {
                self.dirty = true;
                let failure = self.fail(e);
                // Cut back now, so no torn line stays behind even if the
                // server stops before the next write.
                if self.cut_back().is_ok() {
                    self.dirty = false;
                }
                Err(failure)
            }
        }
    }

    /// Truncates the file to its whole lines.
    fn cut_back(&mut self) -> std::io::Result<()> {
        self.file.set_len(self.length)?;
        self.file.seek(SeekFrom::Start(self.length))?;
        self.dirty = false;
        Ok(())
    }

    fn fail(&self, e: std::io::Error) -> LogFailed {
        if !self.failed.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "writing the decision log failed: {e}; decisions are refused until it can be written"
            );
        }
        LogFailed::Write(e.to_string())
    }

    /// Whether a line could be written now: reserves room for a batch past
    /// the end of the file, then gives it back.
    fn probe(&mut self) {
        let room = reserve(&self.file, self.length, 64 * 1024);
        let cut = self.cut_back();
        if room.is_ok() && cut.is_ok() && self.failed.swap(false, Ordering::Relaxed) {
            tracing::info!("the decision log can be written again; decisions are answered");
        }
    }
}

/// Allocates `len` bytes of disk past `offset` (fails as a write would:
/// no space, a size limit, an I/O error).
fn reserve(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return Err(std::io::Error::other("the log is too large"));
    };
    // SAFETY: a plain system call on a descriptor this file owns.
    match unsafe { libc::posix_fallocate(file.as_raw_fd(), offset, len) } {
        0 => Ok(()),
        // File systems without fallocate: fall back to writing.
        libc::EOPNOTSUPP | libc::EINVAL => {
            let mut probe = file;
            probe.write_all(&vec![b' '; len as usize])
        }
        errno => Err(std::io::Error::from_raw_os_error(errno)),
    }
}

/// Why a log does not verify: the first line where the chain breaks.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{path}` is not a regular file (a folder, a FIFO, a device or a socket is no decision log)"
    )]
    NotAFile { path: PathBuf },
    #[error("line {line}: {why}")]
    Broken { line: usize, why: String },
    /// The last line was cut short (a crash in the middle of a write, a
    /// full disk): the lines before it form an intact chain.
    #[error(
        "line {line}: truncated: the last {bytes} byte(s) are not a whole line (a write cut short \
         by a crash or a full disk; never answered); the chain before it is intact up to line {} \
         (head {})", .intact.seq, .intact.hash
    )]
    Truncated {
        line: usize,
        bytes: usize,
        intact: Head,
    },
}

/// Checks every line's `seq` and `prev`, reading the file as a stream (in
/// constant memory, whatever its size); the chain's head when intact.
pub fn verify(path: &Path) -> Result<Verified, VerifyError> {
    let reading = walk(path, true, |_, _| {})?;
    if let Some(first) = reading.breaks.into_iter().next() {
        return Err(VerifyError::Broken {
            line: first.line,
            why: first.why,
        });
    }
    if let Some(bytes) = reading.truncated {
        return Err(VerifyError::Truncated {
            line: reading.head.seq + 1,
            bytes,
            intact: reading.head,
        });
    }
    Ok(Verified {
        head: reading.head,
        events: reading.events,
    })
}

/// The largest input a line logs whole, whatever `log.max_input_bytes`
/// says: a line stays well within [`LONGEST_LINE`], which its readers hold.
pub const LONGEST_LOGGED_INPUT: usize = 8 * 1024 * 1024;

/// The longest line [`read`] takes whole: a longer one is a break, skipped
/// without being held in memory.
pub const LONGEST_LINE: usize = 16 * 1024 * 1024;

/// The most breaks [`read`] lists; the rest are counted.
pub const LISTED_BREAKS: usize = 100;

/// One line where the chain does not hold.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Break {
    /// Its line number, from 1.
    pub line: usize,
    pub why: String,
}

/// What reading a whole log found: every whole line was read, whether or
/// not its link to the line before holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// The last whole line: its number and hash.
    pub head: Head,
    /// Lines that record an event of the log itself (a repair).
    pub events: usize,
    /// The first [`LISTED_BREAKS`] lines whose link does not hold.
    pub breaks: Vec<Break>,
    /// How many breaks there were in all.
    pub break_count: usize,
    /// The last line was cut short: its length in bytes.
    pub truncated: Option<usize>,
    /// The SHA-256 of every byte read: of the whole file, as [`read`]
    /// reads to its end.
    pub file_sha256: String,
    /// The hash of the first line: two logs that share it are parts of one
    /// chain (a copy, a backup, a log and its prefix).
    pub first_line: Option<String>,
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: sha2::Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads every line of a decision log as a stream (in constant memory),
/// checking each line's link to the one before and handing each whole JSON
/// object to `visit` with whether its link holds. A break does not stop
/// the reading: the chain is followed again from the line after it, so
/// one changed line costs one break, and every break is reported.
pub fn read(path: &Path, visit: impl FnMut(&LogLine, bool)) -> Result<Reading, VerifyError> {
    walk(path, false, visit)
}

fn walk(
    path: &Path,
    stop_at_break: bool,
    mut visit: impl FnMut(&LogLine, bool),
) -> Result<Reading, VerifyError> {
    let io = |source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Opened without waiting: a FIFO put in the file's place is refused.
    let file = warden::open_regular_file(path).map_err(|e| match e {
        warden::EngineError::NotAFile { .. } => VerifyError::NotAFile {
            path: path.to_path_buf(),
        },
        warden::EngineError::Io { source, .. } => io(source),
        other => io(std::io::Error::other(other.to_string())),
    })?;
    let mut reader = BufReader::with_capacity(
        256 * 1024,
        Hashing {
            inner: file,
            hasher: sha2::Sha256::default(),
        },
    );
    let mut reading = Reading {
        head: Head {
            seq: 0,
            hash: GENESIS.to_string(),
        },
        events: 0,
        breaks: Vec::new(),
        break_count: 0,
        truncated: None,
        file_sha256: String::new(),
        first_line: None,
    };
    // What the next line's `seq` should be: its number, unless lines were
    // removed or repeated before it (then the chain is followed from there).
    let mut expected_seq = 1u64;
    let mut line: Vec<u8> = Vec::new();
    loop {
        line.clear();
        let (read, whole, too_long) = read_line_within(&mut reader, &mut line).map_err(io)?;
        if read == 0 {
            break;
        }
        let number = reading.head.seq + 1;
        // A tail too long to be a line is not a write cut short (the server
        // would not start on it): it is a break.
        if !whole && !too_long {
            reading.truncated = Some(read);
            break;
        }
        let why = if too_long {
            Some(format!(
                "is longer than {} MiB: not a line the log writes",
                LONGEST_LINE >> 20
            ))
        } else {
            match LogLine::parse(&line) {
                Err(e) => Some(format!("{e}: the line was changed")),
                Ok(record) => {
                    let why = link_fault(&record, number, expected_seq, &reading.head.hash);
                    if let Some(seq) = record.seq.as_u64() {
                        expected_seq = seq;
                    }
                    if record.event.0 {
                        reading.events += 1;
                    }
                    visit(&record, why.is_none());
                    why
                }
            }
        };
        if let Some(why) = why {
            reading.break_count += 1;
            if reading.breaks.len() < LISTED_BREAKS {
                reading.breaks.push(Break { line: number, why });
            }
            if stop_at_break {
                return Ok(reading);
            }
        }
        expected_seq = expected_seq.saturating_add(1);
        reading.head = Head {
            seq: number,
            // A line too long to hold is hashed as nothing: the next link breaks too.
            hash: if too_long {
                String::new()
            } else {
                line_hash(&line)
            },
        };
        if number == 1 && !too_long {
            reading.first_line = Some(reading.head.hash.clone());
        }
    }
    use sha2::Digest;
    reading.file_sha256 = warden::sha256_hex(&reader.into_inner().hasher.finalize());
    Ok(reading)
}

/// Why `record`, line `number`, does not follow the line before (whose
/// hash is `prev`), or `None` when it does.
fn link_fault(record: &LogLine, number: usize, expected_seq: u64, prev: &str) -> Option<String> {
    let seq = record.seq.as_u64();
    if seq != Some(expected_seq) {
        return Some(match seq {
            Some(seq) if seq > expected_seq => format!(
                "holds decision {seq}, expected {expected_seq}: {} line(s) before it were removed",
                seq - expected_seq
            ),
            Some(seq) => format!(
                "holds decision {seq}, expected {expected_seq}: lines were reordered or repeated"
            ),
            None => "has no `seq`: the line was changed".to_string(),
        });
    }
    if record.prev.as_str() != Some(prev) {
        return Some(if number == 1 {
            "does not start the chain: lines before it were removed".to_string()
        } else {
            format!("does not follow line {}: that line was changed", number - 1)
        });
    }
    None
}

/// Reads one line into `line` (without its newline), holding at most
/// [`LONGEST_LINE`] bytes of it: the bytes read, whether the line ended in a
/// newline, and whether it was longer than what was held.
fn read_line_within(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
) -> std::io::Result<(usize, bool, bool)> {
    let mut read = 0;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((read, false, too_long));
        }
        let (chunk, ends) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], true),
            None => (available, false),
        };
        if !too_long && line.len() + chunk.len() <= LONGEST_LINE {
            line.extend_from_slice(chunk);
        } else {
            too_long = true;
            line.clear();
        }
        let used = chunk.len() + usize::from(ends);
        read += used;
        reader.consume(used);
        if ends {
            return Ok((read, true, too_long));
        }
    }
}

/// An intact log: the head of its chain, and how many of its lines record
/// an event of the log itself (a repair) rather than a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub head: Head,
    pub events: usize,
}

/// The longest string an audit field keeps (in characters); a longer one is
/// cut and ends in `…` and the SHA-256 of the whole (two long ids that
/// share a beginning stay apart).
const AUDIT_FIELD_CHARS: usize = 256;

/// `value` as an audit field: a scalar (a long string cut), or `null` for a
/// list or an object.
fn audit_scalar(value: &Json) -> Json {
    match value {
        Json::String(s) if s.chars().count() > AUDIT_FIELD_CHARS => {
            let mut cut: String = s.chars().take(AUDIT_FIELD_CHARS).collect();
            // `line_hash` is the SHA-256 of the bytes it is given.
            cut.push_str(&format!("…({})", line_hash(s.as_bytes())));
            Json::String(cut)
        }
        Json::Array(_) | Json::Object(_) => Json::Null,
        other => other.clone(),
    }
}

/// The deepest input a line logs whole: a line must stay within what one
/// JSON parse reads for `warden audit verify` and the next start to read it;
/// the line is one level more, and one more is kept to spare.
const DEEPEST_LOGGED_INPUT: usize = warden::InputLimits::PARSE_DEEPEST - 2;

/// How many levels of lists and objects `value` nests (a scalar: 0).
fn nesting(value: &Json) -> usize {
    match value {
        Json::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        Json::Object(entries) => 1 + entries.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}

/// The input fields an audit record reads ([`record`]); [`record_from_text`]
/// reads only these from a request's text.
const AUDIT_PATHS: &[&[&str]] = &[
    &["principal", "id"],
    &["principal", "type"],
    &["subject", "id"],
    &["subject", "type"],
    &["action"],
    &["action", "name"],
    &["resource", "type"],
    &["resource", "id"],
    &["resource", "app_id"],
    &["resource", "properties", "app_id"],
    &["context", "ip"],
    &["context", "request_id"],
];

/// One decision's log line, in the order its fields are written.
#[derive(serde::Serialize)]
struct Line<'a> {
    /// When it was logged; `evaluated_at` is the time the decision was
    /// taken for, which a caller of /v1/decide may have chosen.
    timestamp: String,
    evaluated_at: &'a str,
    decision_id: &'a str,
    principal_id: Json,
    principal_type: Json,
    action: Json,
    resource_type: Json,
    resource_id: Json,
    /// The micro app asked about: the input's `resource.app_id` (an AuthZEN
    /// resource's `properties.app_id`), which `warden report` counts by.
    #[serde(skip_serializing_if = "Json::is_null")]
    app_id: Json,
    ip_address: Json,
    outcome: warden::Verdict,
    /// The target decided: with the logged input, what `warden diff
    /// --decision-log` replays.
    target: &'a str,
    request_id: Json,
    /// The `X-Request-ID` of the HTTP request that asked.
    http_request_id: Option<&'a str>,
    rules: Vec<&'a str>,
    /// Of those, the rules whose deny findings decided a denial: what
    /// `warden report` counts denials by control with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    deny_rules: Vec<&'a str>,
    policy_revision: &'a str,
    data_revision: &'a str,
    /// The signed bundle that decided, when serving one (`--bundle`).
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle_revision: Option<&'a str>,
    /// With `log.include_input`: the input (masked), already serialized.
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<Box<RawValue>>,
}

/// The audit record of one decision: who did what to which resource, the
/// outcome, the rules that decided it, and the policy and data revisions;
/// serialized once, as a JSON object, for [`DecisionLog::append`].
pub fn record(
    decision: &warden::Decision,
    input: &Json,
    http_request_id: Option<&str>,
    config: &LogConfig,
) -> Vec<u8> {
    let (include_input, mask) = (config.include_input, config.mask.as_slice());
    // An audit field is a short scalar: a string is cut to `AUDIT_FIELD_CHARS`
    // and anything else (a list, an object) is not copied, so a request
    // cannot write more than a few hundred bytes per line through them.
    let at = |path: &[&str]| -> Json {
        debug_assert!(
            AUDIT_PATHS.contains(&path),
            "{path:?} is read from text too"
        );
        let mut value = input;
        for key in path {
            match value.get(key) {
                Some(v) => value = v,
                None => return Json::Null,
            }
        }
        audit_scalar(value)
    };
    // The request target names its caller `principal`; AuthZEN, `subject`.
    let who = |field: &'static str| -> (String, Json) {
        match at(&["principal", field]) {
            Json::Null => (format!("subject.{field}"), at(&["subject", field])),
            found => (format!("principal.{field}"), found),
        }
    };
    let (id_path, principal_id) = who("id");
    let (type_path, principal_type) = who("type");
    // A request's action is a name; AuthZEN's, an object with one.
    let (action_path, action) = match at(&["action"]) {
        Json::Null => ("action.name", at(&["action", "name"])),
        name => ("action", name),
    };
    let subject = decision.findings.iter().find_map(|f| f.subject.clone());
    let resource_id = match at(&["resource", "id"]) {
        Json::Null => subject.map_or(Json::Null, |s| audit_scalar(&Json::from(s))),
        id => id,
    };
    // An audit field copied from a masked input path is masked too.
    // Masking a path masks everything under it: `principal` masks
    // `principal.id` too.
    let masked = |path: &str, value: Json| {
        let under = |m: &String| {
            path == m
                || path
                    .strip_prefix(m.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        if mask.iter().any(under) && !value.is_null() {
            json!("***")
        } else {
            value
        }
    };
    let logged_input = include_input.then(|| {
        let mut logged = input.clone();
        for path in mask {
            mask_path(&mut logged, path);
        }
        // A JSON value always serializes.
        let text = serde_json::to_string(&logged).unwrap_or_default();
        let omitted = if text.len() > config.max_input_bytes.min(LONGEST_LOGGED_INPUT) {
            Some("larger than log.max_input_bytes")
        } else if nesting(&logged) > DEEPEST_LOGGED_INPUT {
            Some("nested deeper than a log line can hold")
        } else {
            None
        };
        let text = match omitted {
            None => text,
            Some(why) => json!({ "omitted": why,
                    "bytes": text.len(), "sha256": line_hash(text.as_bytes()) })
            .to_string(),
        };
        RawValue::from_string(text).ok()
    });
    let line = Line {
        timestamp: jiff::Timestamp::now().to_string(),
        evaluated_at: &decision.evaluated_at,
        decision_id: &decision.decision_id,
        principal_id: masked(&id_path, principal_id),
        principal_type: masked(&type_path, principal_type),
        action: masked(action_path, action),
        resource_type: masked("resource.type", at(&["resource", "type"])),
        resource_id: masked("resource.id", resource_id),
        app_id: match at(&["resource", "app_id"]) {
            Json::Null => masked(
                "resource.properties.app_id",
                at(&["resource", "properties", "app_id"]),
            ),
            id => masked("resource.app_id", id),
        },
        ip_address: masked("context.ip", at(&["context", "ip"])),
        outcome: decision.decision,
        target: &decision.target,
        request_id: masked("context.request_id", at(&["context", "request_id"])),
        http_request_id,
        rules: rule_names(decision.findings.iter()),
        deny_rules: rule_names(
            decision
                .findings
                .iter()
                .filter(|f| f.effect == warden::Effect::Deny),
        ),
        policy_revision: &decision.policy_revision,
        data_revision: &decision.data_revision,
        bundle_revision: decision.bundle_revision.as_deref(),
        input: logged_input.flatten(),
    };
    // Strings and JSON values always serialize.
    serde_json::to_vec(&line).unwrap_or_else(|_| b"{}".to_vec())
}

/// The rules of `findings`, each once: a decision can hold thousands of
/// findings of one rule (they come grouped by rule).
fn rule_names<'a>(findings: impl Iterator<Item = &'a warden::FindingReport>) -> Vec<&'a str> {
    let mut rules: Vec<&str> = findings.map(|f| &*f.rule).collect();
    rules.dedup();
    rules
}

/// [`record`] for an input given as JSON text (a `/v1/decide` body's): only
/// the fields the record reads are taken from the text, unless the whole
/// input is logged. The text was read as the decision's input, so it is
/// JSON within the limits given.
pub fn record_from_text(
    decision: &warden::Decision,
    input: &str,
    limits: &warden::InputLimits,
    http_request_id: Option<&str>,
    config: &LogConfig,
) -> Vec<u8> {
    let input = if config.include_input {
        warden::parse_json_with("input", input.as_bytes(), limits)
    } else {
        warden::parse_json_paths("input", input.as_bytes(), limits, AUDIT_PATHS)
    }
    .unwrap_or(Json::Null);
    record(decision, &input, http_request_id, config)
}

/// Replaces the value at `a.b.c` with `"***"` when it is there.
fn mask_path(value: &mut Json, path: &str) {
    let mut here = value;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        let Some(next) = here.get_mut(key) else {
            return;
        };
        if keys.peek().is_none() {
            *next = json!("***");
            return;
        }
        here = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_only_paths_that_exist() {
        let mut v = json!({ "principal": { "email": "a@b", "id": "u1" } });
        mask_path(&mut v, "principal.email");
        mask_path(&mut v, "principal.phone.number");
        assert_eq!(v, json!({ "principal": { "email": "***", "id": "u1" } }));
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("warden-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_last_whole_line_is_found_from_the_end() {
        let dir = scratch("tail");
        let path = dir.join("log");
        for (text, whole, last) in [
            ("", 0, None),
            ("a\n", 2, Some("a")),
            ("a\nbb\n", 5, Some("bb")),
            ("a\nbb\ncc", 5, Some("bb")),
            ("torn", 0, None),
            ("a\n\n", 3, Some("")),
        ] {
            std::fs::write(&path, text).unwrap();
            let mut file = File::open(&path).unwrap();
            let (w, l) = last_whole_line(&mut file, text.len() as u64).unwrap();
            assert_eq!(w, whole, "{text:?}");
            assert_eq!(l.as_deref(), last.map(str::as_bytes), "{text:?}");
        }
        // Lines longer than one chunk.
        let long = "x".repeat(200_000);
        std::fs::write(&path, format!("{long}\n{long}\n{long}")).unwrap();
        let mut file = File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let (w, l) = last_whole_line(&mut file, len).unwrap();
        assert_eq!(w, 2 * 200_001);
        assert_eq!(l.unwrap().len(), 200_000);
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[cfg(test)]
mod audit_field_tests {
    use super::{audit_scalar, record, record_from_text};
    use crate::config::LogConfig;
    use serde_json::{Value as Json, json};

    /// A decision to log, whatever it decided.
    fn decision() -> warden::Decision {
        let engine = warden::Engine::from_sources(warden::PolicySources::from_texts([(
            "p.warden",
            "package p\ntarget request: { ... } default allow\n",
        )]))
        .expect("compiles");
        engine
            .decide("request", &json!({}), std::time::SystemTime::now())
            .expect("decides")
    }

    #[test]
    fn masking_a_path_masks_the_audit_fields_under_it() {
        let decision = decision();
        let input = json!({ "principal": { "id": "u-1", "type": "user" },
                            "action": "read",
                            "resource": { "type": "record", "id": "r-1", "app_id": "crm" },
                            "context": { "ip": "10.0.0.1", "request_id": "q" } });
        let config = LogConfig {
            mask: vec!["principal".into(), "resource".into(), "context.ip".into()],
            ..LogConfig::default()
        };
        let line: Json = serde_json::from_slice(&record(&decision, &input, None, &config)).unwrap();
        for field in [
            "principal_id",
            "principal_type",
            "resource_type",
            "resource_id",
            "app_id",
            "ip_address",
        ] {
            assert_eq!(line[field], "***", "{field}: {line}");
        }
        // A mask names whole keys: `context.ip` does not mask `context.ipv6`,
        // nor `principal` a `principals` field.
        assert_eq!(line["request_id"], "q");
        assert_eq!(line["action"], "read");
    }

    #[test]
    fn a_line_from_text_is_the_line_from_the_tree() {
        let decision = decision();
        let long = "A".repeat(300);
        let inputs = [
            json!({}),
            json!({ "principal": { "id": "u-1", "type": "user", "mfa": true },
                    "action": "read",
                    "resource": { "type": "record", "id": 7, "tags": [1, 2] },
                    "context": { "ip": "10.0.0.1", "request_id": "r", "deep": { "a": [[{}]] } } }),
            json!({ "subject": { "id": long, "type": ["x"] }, "action": { "name": "write", "x": 1 } }),
            json!({ "principal": "u", "action": ["read"], "resource": null, "context": 2.5 }),
            json!({ "principal": { "id": { "nested": "no" } }, "resource": { "id": -3 } }),
            json!([1, { "principal": { "id": "u" } }]),
        ];
        let masked = LogConfig {
            mask: vec!["principal.id".into(), "resource.id".into()],
            ..LogConfig::default()
        };
        let whole = LogConfig {
            include_input: true,
            mask: vec!["context.ip".into()],
            ..LogConfig::default()
        };
        for config in [LogConfig::default(), masked, whole] {
            for input in &inputs {
                let line = |bytes: Vec<u8>| {
                    let mut line: Json = serde_json::from_slice(&bytes).expect("JSON");
                    line.as_object_mut().expect("object").remove("timestamp");
                    line
                };
                let from_tree = line(record(&decision, input, Some("h"), &config));
                let text = serde_json::to_string_pretty(input).unwrap();
                let limits = warden::InputLimits::INPUT;
                let from_text = line(record_from_text(
                    &decision,
                    &text,
                    &limits,
                    Some("h"),
                    &config,
                ));
                assert_eq!(from_tree, from_text, "{input}");
            }
        }
    }

    #[test]
    fn audit_fields_are_short_scalars() {
        assert_eq!(audit_scalar(&json!("read")), json!("read"));
        let long = audit_scalar(&json!("A".repeat(900_000)));
        let other = audit_scalar(&json!("A".repeat(900_001)));
        assert!(long.as_str().unwrap().starts_with(&"A".repeat(256)));
        assert!(long.as_str().unwrap().chars().count() < 350, "{long}");
        assert_ne!(long, other, "cut ids that share a beginning stay apart");
        assert_eq!(
            audit_scalar(&json!({ "name": "x", "pad": "A" })),
            json!(null)
        );
        assert_eq!(audit_scalar(&json!([1, 2])), json!(null));
        assert_eq!(audit_scalar(&json!(3)), json!(3));
    }

    #[test]
    fn an_input_too_deep_for_a_line_is_logged_by_its_digest() {
        let decision = decision();
        let whole = LogConfig {
            include_input: true,
            ..LogConfig::default()
        };
        let nested = |levels: usize| -> Json {
            let text = format!("{}0{}", "[".repeat(levels), "]".repeat(levels));
            serde_json::from_str(&text).unwrap()
        };
        for levels in [1, 100, 125, 126, 127] {
            let line = record(&decision, &nested(levels), None, &whole);
            // Every line reads back, as `warden audit verify` reads it.
            let line: Json = serde_json::from_slice(&line).expect("a line reads back");
            let omitted = line["input"]["omitted"].as_str();
            assert_eq!(
                omitted.is_some(),
                levels > 125,
                "{levels} levels: {omitted:?}"
            );
        }
    }
}
