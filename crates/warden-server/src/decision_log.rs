//! The decision log: one JSON line per decision, each carrying the SHA-256
//! of the line before it (`prev`) and its place in the file (`seq`), so a
//! changed, removed or reordered line breaks the chain where it happened.
//! Lines are written by one task through a buffer; shutting down drains the
//! queue and flushes, so no decision taken is lost.

use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, oneshot};

/// The `prev` of the first line.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// `sha256:` and the hex digest of a line (without its newline).
pub fn line_hash(line: &str) -> String {
    let digest = Sha256::digest(line.as_bytes());
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct DecisionLog {
    tx: mpsc::Sender<Map<String, Json>>,
    failed: Arc<AtomicBool>,
}

/// A decision that could not be logged: the writer stopped (a write failed,
/// or the server is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the decision log is not being written")]
pub struct LogStopped;

/// The writer task, to be finished on shutdown.
pub struct LogWriter {
    task: tokio::task::JoinHandle<std::io::Result<Head>>,
    close: oneshot::Sender<()>,
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
        let _ = self.close.send(());
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

impl DecisionLog {
    /// Opens `path` for appending, continuing the chain of what it holds.
    pub async fn open(path: &Path) -> std::io::Result<(DecisionLog, LogWriter)> {
        let head = match last_line(path)? {
            Some(last) => {
                let seq = serde_json::from_str::<Json>(&last)
                    .ok()
                    .and_then(|r| r.get("seq").and_then(Json::as_u64))
                    .ok_or_else(|| {
                        std::io::Error::other(
                            "its last line is not a decision-log record (a write cut short?); \
                             run `warden audit verify` on it, then remove that line",
                        )
                    })?;
                Head {
                    seq: seq as usize,
                    hash: line_hash(&last),
                }
            }
            None => Head {
                seq: 0,
                hash: GENESIS.to_string(),
            },
        };
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await?;
        let (tx, rx) = mpsc::channel(4_096);
        let (close, closed) = oneshot::channel();
        let failed = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(write_lines(
            rx,
            closed,
            BufWriter::new(file),
            head,
            Arc::clone(&failed),
        ));
        Ok((DecisionLog { tx, failed }, LogWriter { task, close }))
    }

    /// Queues a record; waits only when the queue is full. An error means
    /// the decision is not logged, and must not be acted on.
    pub async fn append(&self, record: Map<String, Json>) -> Result<(), LogStopped> {
        self.tx.send(record).await.map_err(|_| LogStopped)
    }

    /// Whether a write failed (the server is then not ready).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }
}

/// The last line of a log, read from its end (logs grow large), or `None`
/// when there is no file or no line yet. Only a regular file is read: a
/// FIFO or a device has no past to continue.
fn last_line(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::{Read, Seek, SeekFrom};
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            tracing::warn!("the decision log is not a regular file: its chain starts afresh");
            return Ok(None);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    // A record is far smaller than this, inputs included.
    let tail = len.min(1 << 20);
    file.seek(SeekFrom::Start(len - tail))?;
    let mut bytes = Vec::new();
    file.take(tail).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(str::to_string))
}

async fn write_lines(
    mut rx: mpsc::Receiver<Map<String, Json>>,
    mut closed: oneshot::Receiver<()>,
    mut out: BufWriter<tokio::fs::File>,
    mut head: Head,
    failed: Arc<AtomicBool>,
) -> std::io::Result<Head> {
    let result = async {
        loop {
            let first = tokio::select! {
                record = rx.recv() => record,
                _ = &mut closed => {
                    // No new lines; the queued ones are still written below.
                    rx.close();
                    rx.recv().await
                }
            };
            let Some(first) = first else { break };
            let mut next = Some(first);
            // Write what is queued, then flush once: buffered, yet on disk when idle.
            while let Some(mut record) = next {
                head.seq += 1;
                record.insert("seq".into(), json!(head.seq));
                record.insert("prev".into(), json!(head.hash));
                let line = serde_json::to_string(&record).map_err(std::io::Error::other)?;
                out.write_all(line.as_bytes()).await?;
                out.write_all(b"\n").await?;
                head.hash = line_hash(&line);
                next = rx.try_recv().ok();
            }
            out.flush().await?;
        }
        out.flush().await?;
        Ok(head)
    }
    .await;
    if let Err(e) = &result {
        failed.store(true, Ordering::Relaxed);
        tracing::error!(
            "writing the decision log failed: {e}; decisions are refused until it is fixed"
        );
    }
    result
}

/// Why a log does not verify: the first line where the chain breaks.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("line {line}: {why}")]
    Broken { line: usize, why: String },
}

/// Checks every line's `seq` and `prev`; the chain's head when intact.
pub fn verify(path: &Path) -> Result<Head, VerifyError> {
    let text = std::fs::read_to_string(path).map_err(|source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut prev = GENESIS.to_string();
    let mut count = 0;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let broken = |why: String| VerifyError::Broken { line: number, why };
        let record: Map<String, Json> = serde_json::from_str(line)
            .map_err(|e| broken(format!("not a JSON object ({e}): the line was changed")))?;
        let seq = record.get("seq").and_then(Json::as_u64);
        if seq != Some(number as u64) {
            let why = match seq {
                Some(seq) if seq > number as u64 => format!(
                    "holds decision {seq}, expected {number}: {} line(s) before it were removed",
                    seq - number as u64
                ),
                Some(seq) => {
                    format!(
                        "holds decision {seq}, expected {number}: lines were reordered or repeated"
                    )
                }
                None => "has no `seq`: the line was changed".to_string(),
            };
            return Err(broken(why));
        }
        if record.get("prev").and_then(Json::as_str) != Some(prev.as_str()) {
            let why = if number == 1 {
                "does not start the chain: lines before it were removed".to_string()
            } else {
                format!("does not follow line {}: that line was changed", number - 1)
            };
            return Err(broken(why));
        }
        prev = line_hash(line);
        count = number;
    }
    Ok(Head {
        seq: count,
        hash: prev,
    })
}

/// The audit record of one decision: who did what to which resource, the
/// outcome, the rules that decided it and the policy revision.
pub fn record(
    decision: &warden::Decision,
    input: &Json,
    include_input: bool,
    mask: &[String],
) -> Map<String, Json> {
    let at = |path: &[&str]| -> Json {
        let mut value = input;
        for key in path {
            match value.get(key) {
                Some(v) => value = v,
                None => return Json::Null,
            }
        }
        value.clone()
    };
    let subject = decision.findings.iter().find_map(|f| f.subject.clone());
    let resource_id = match at(&["resource", "id"]) {
        Json::Null => subject.map_or(Json::Null, Json::from),
        id => id,
    };
    let rules: Vec<&str> = decision.findings.iter().map(|f| f.rule.as_str()).collect();
    // An audit field copied from a masked input path is masked too.
    let masked = |path: &str, value: Json| {
        if mask.iter().any(|m| m == path) && !value.is_null() {
            json!("***")
        } else {
            value
        }
    };
    let mut record = Map::new();
    for (key, value) in [
        // When it was logged; `evaluated_at` is the time the decision was
        // taken for, which a caller of /v1/decide may have chosen.
        ("timestamp", json!(jiff::Timestamp::now().to_string())),
        ("evaluated_at", json!(decision.evaluated_at)),
        ("decision_id", json!(decision.decision_id)),
        (
            "principal_id",
            masked("principal.id", at(&["principal", "id"])),
        ),
        (
            "principal_type",
            masked("principal.type", at(&["principal", "type"])),
        ),
        ("action", masked("action", at(&["action"]))),
        (
            "resource_type",
            masked("resource.type", at(&["resource", "type"])),
        ),
        ("resource_id", masked("resource.id", resource_id)),
        ("ip_address", masked("context.ip", at(&["context", "ip"]))),
        ("outcome", json!(decision.decision)),
        (
            "request_id",
            masked("context.request_id", at(&["context", "request_id"])),
        ),
        ("rules", json!(rules)),
        ("policy_revision", json!(decision.policy_revision)),
    ] {
        record.insert(key.into(), value);
    }
    if include_input {
        let mut logged = input.clone();
        for path in mask {
            mask_path(&mut logged, path);
        }
        record.insert("input".into(), logged);
    }
    record
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
}
