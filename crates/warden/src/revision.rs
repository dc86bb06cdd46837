//! Revisions: digests that name exactly what decided (the policy sources,
//! the data documents), so a decision-log line can say which ones.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// `sha256:` and the hex digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(7 + 2 * digest.len());
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The digest of a JSON document as serialized (keys in the order given),
/// computed without holding the serialized text.
pub(crate) fn digest_json(document: &serde_json::Value) -> [u8; 32] {
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hashing = Hashing(Sha256::new());
    // Writing into a hasher cannot fail.
    let _ = serde_json::to_writer(&mut hashing, document);
    hashing.0.finalize().into()
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
