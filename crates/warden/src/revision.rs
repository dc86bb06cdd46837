//! Revisions: digests that name exactly what decided (the policy sources,
//! the data documents), so a decision-log line can say which ones.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// `sha256:` and the hex digest of `bytes`: how every digest is written
/// (revisions, decision-log lines, bundle files).
pub fn sha256_text(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `sha256:` and the hex digest.
pub fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(7 + 2 * digest.len());
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A SHA-256 that bytes are written into.
pub(crate) struct Hashing(Sha256);

impl Hashing {
    pub(crate) fn new() -> Hashing {
        Hashing(Sha256::new())
    }
    pub(crate) fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The digest of a JSON document as serialized (keys in the order given),
/// computed without holding the serialized text. A document loaded by
/// streaming gets the same digest from the loader's echo.
pub(crate) fn digest_json(document: &serde_json::Value) -> [u8; 32] {
    let mut hashing = Hashing::new();
    // Writing into a hasher cannot fail.
    let _ = serde_json::to_writer(&mut hashing, document);
    hashing.finish()
}

/// `sha256:` over each document's name and digest, in name order.
pub(crate) fn data_revision(digests: &BTreeMap<String, [u8; 32]>) -> String {
    let mut hasher = Sha256::new();
    for (name, digest) in digests {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(digest);
    }
    hex(&hasher.finalize())
}
