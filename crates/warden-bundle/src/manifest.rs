//! `manifest.json` and `manifest.sig`: what a bundle holds, and who vouches
//! for it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The format this version writes and reads.
pub const FORMAT: &str = "warden-bundle/1";
/// The manifest's path in the archive.
pub const MANIFEST: &str = "manifest.json";
/// The signature's path in the archive.
pub const SIGNATURE: &str = "manifest.sig";

/// What a bundle holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// `sha256:` over the format, the data entries and every file's path
    /// and digest ([`Manifest::content_revision`]): the same content is the
    /// same revision, whenever it was built.
    pub revision: String,
    /// When it was built (RFC 3339); not part of the revision.
    pub built_at: String,
    /// The folder of the policy files, relative to the bundle (`policy`).
    pub policy: String,
    /// The data files, in the order they are merged.
    pub data: Vec<DataEntry>,
    /// Every file of the bundle but the manifest and its signature: its
    /// path and `sha256:` digest.
    pub files: BTreeMap<String, String>,
}

/// One data file: `--data NAME=FILE` (a document named `NAME`) or `--data
/// FILE` (a file of documents by name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataEntry {
    /// The document's name, when the file is one document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The file, relative to the bundle (`data/…`).
    pub file: String,
}

/// What the revision is computed over, in this order.
#[derive(Serialize)]
struct RevisionInput<'a> {
    format: &'a str,
    policy: &'a str,
    data: &'a [DataEntry],
    files: &'a BTreeMap<String, String>,
}

impl Manifest {
    /// When it was built, read from `built_at`.
    pub fn built_time(&self) -> Option<jiff::Timestamp> {
        Self::parse_time(&self.built_at)
    }

    /// A `built_at` as a time.
    pub fn parse_time(text: &str) -> Option<jiff::Timestamp> {
        text.parse().ok()
    }

    /// The revision the manifest's content gives.
    pub fn content_revision(&self) -> String {
        let input = RevisionInput {
            format: &self.format,
            policy: &self.policy,
            data: &self.data,
            files: &self.files,
        };
        // Strings, lists and sorted maps always serialize.
        let bytes = serde_json::to_vec(&input).unwrap_or_default();
        sha256(&bytes)
    }
}

/// `manifest.sig`: an Ed25519 signature over the bytes of `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    /// `ed25519`.
    pub algorithm: String,
    /// The id of the key that signed ([`crate::key_id`]): which key a
    /// verifier needs.
    pub key_id: String,
    /// The signature's 64 bytes, base64.
    pub signature: String,
}

/// `sha256:` and the hex digest of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    warden::sha256_text(bytes)
}
