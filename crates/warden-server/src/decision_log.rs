//! The decision log: one JSON line per decision, each carrying the SHA-256
//! of the line before it (`prev`) and its place in the file (`seq`), so a
//! changed, removed or reordered line breaks the chain where it happened.
//! Lines are written by one task through a buffer; shutting down drains the
//! queue and flushes, so no decision taken is lost.

use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;

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
}

/// The writer task, to be awaited on shutdown once every handle is dropped.
pub struct LogWriter(tokio::task::JoinHandle<std::io::Result<()>>);

impl LogWriter {
    /// Waits until every queued line is written and flushed.
    pub async fn finish(self) -> std::io::Result<()> {
        self.0
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

impl DecisionLog {
    /// Opens `path` for appending, continuing the chain of what it holds.
    pub async fn open(path: &Path) -> std::io::Result<(DecisionLog, LogWriter)> {
        let (prev, seq) = match last_line(path)? {
            Some(last) => {
                let seq = serde_json::from_str::<Json>(&last)
                    .ok()
                    .and_then(|r| r.get("seq").and_then(Json::as_u64))
                    .ok_or_else(|| {
                        std::io::Error::other(
                            "its last line is not a decision-log record; run `warden audit verify` on it",
                        )
                    })?;
                (line_hash(&last), seq as usize)
            }
            None => (GENESIS.to_string(), 0),
        };
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await?;
        let (tx, rx) = mpsc::channel(4_096);
        let task = tokio::spawn(write_lines(rx, BufWriter::new(file), prev, seq));
        Ok((DecisionLog { tx }, LogWriter(task)))
    }

    /// Queues a record; waits only when the queue is full.
    pub async fn append(&self, record: Map<String, Json>) {
        if self.tx.send(record).await.is_err() {
            tracing::error!("the decision log writer stopped; a decision was not logged");
        }
    }
}

/// The last line of a log, read from its end (logs grow large), or `None`
/// when there is no file or no line yet.
fn last_line(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    // A record is far smaller than this, inputs included.
    let tail = len.min(1 << 20);
    file.seek(SeekFrom::Start(len - tail))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(str::to_string))
}

async fn write_lines(
    mut rx: mpsc::Receiver<Map<String, Json>>,
    mut out: BufWriter<tokio::fs::File>,
    mut prev: String,
    mut seq: usize,
) -> std::io::Result<()> {
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        // Write what is queued, then flush once: buffered, yet on disk when idle.
        while let Some(mut record) = next {
            seq += 1;
            record.insert("seq".into(), json!(seq));
            record.insert("prev".into(), json!(prev));
            let line = serde_json::to_string(&record).map_err(std::io::Error::other)?;
            out.write_all(line.as_bytes()).await?;
            out.write_all(b"\n").await?;
            prev = line_hash(&line);
            next = rx.try_recv().ok();
        }
        out.flush().await?;
    }
    out.flush().await
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

/// Checks every line's `seq` and `prev`; the number of lines when intact.
pub fn verify(path: &Path) -> Result<usize, VerifyError> {
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
    Ok(count)
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
    let mut record = Map::new();
    for (key, value) in [
        ("timestamp", json!(decision.evaluated_at)),
        ("decision_id", json!(decision.decision_id)),
        ("principal_id", at(&["principal", "id"])),
        ("principal_type", at(&["principal", "type"])),
        ("action", at(&["action"])),
        ("resource_type", at(&["resource", "type"])),
        ("resource_id", resource_id),
        ("ip_address", at(&["context", "ip"])),
        ("outcome", json!(decision.decision)),
        ("request_id", at(&["context", "request_id"])),
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
