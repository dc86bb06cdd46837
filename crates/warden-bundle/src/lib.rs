//! Signed policy bundles: one file that carries a policy set and its data
//! from the place it is built to every replica that serves it.
//!
//! A bundle is a gzip-compressed tar archive (the format OPA bundles and OCI
//! layers use) holding:
//!
//! - `policy/…`: the policy files and the JSON files they name, exactly the
//!   files the compiler read (nothing else from the folder);
//! - `data/…`: the data files, one per `--data`;
//! - `manifest.json`: the format, the **revision** (a SHA-256 over the file
//!   digests and the data names, so the same content is the same revision
//!   whenever and wherever it is built), each file's SHA-256 and the build
//!   time;
//! - `manifest.sig` (when signed): an Ed25519 signature over the exact bytes
//!   of `manifest.json`, with the signing key's id.
//!
//! Reading never trusts the archive: it is read within [`Limits`] (its size,
//! each file's and all files' size, how many, how long a path), every path
//! must be a plain relative one (no `..`, no absolute path, no link, device
//! or second copy of a name), every file must be listed in the manifest with
//! its digest and every listed file present, and the revision must be the
//! one its content gives. Only then is a signature checked, and only a
//! bundle that passed is unpacked where a server reads it. See
//! `docs/deployment.md`.

mod archive;
mod keys;
mod manifest;

pub use archive::{Built, Bundle, Limits, Unpacked, build, read};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use keys::{KeyPair, generate_key_pair, key_id, read_signing_key, read_verifying_key};
pub use manifest::{DataEntry, FORMAT, MANIFEST, Manifest, SIGNATURE, SignatureFile};

/// Why a bundle could not be built, read, verified or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The policy set or a data file did not load.
    #[error("{0}")]
    Engine(#[from] warden::EngineError),
    /// The policy set does not compile: a bundle is never built from it.
    #[error("the policies do not compile ({errors} error(s)); run `warden compile` to see them")]
    Compile {
        /// How many errors.
        errors: usize,
    },
    /// The archive is not one this version reads, or breaks a rule.
    #[error("not a valid bundle: {0}")]
    Invalid(String),
    /// The archive is larger than a limit allows.
    #[error("the bundle is too large: {0}")]
    TooLarge(String),
    /// A file's content is not the one the manifest lists.
    #[error("`{path}` does not match its digest in the manifest (tampered or corrupted)")]
    Digest {
        /// The file.
        path: String,
    },
    /// The bundle carries no signature, and one is required.
    #[error("the bundle is not signed, and a verify key is configured")]
    Unsigned,
    /// The signature is not one the verify key made over this manifest.
    #[error("the signature does not verify with key {expected} (signed by {signed_by})")]
    BadSignature {
        /// The verify key's id.
        expected: String,
        /// The key id the signature names.
        signed_by: String,
    },
    /// The bundle was built before the one being served: an old bundle
    /// replayed is not a way back.
    #[error(
        "the bundle was built at {built_at}, before the one served (built at {newest}); to roll back, build the old policies again"
    )]
    Older {
        /// When it was built.
        built_at: String,
        /// When the one served was built.
        newest: String,
    },
    /// A key file is not an Ed25519 key in PEM.
    #[error("{path}: {why}")]
    Key {
        /// The key file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
}

impl BundleError {
    /// The permanent code this error is rendered with.
    pub fn code(&self) -> warden::Code {
        use warden::Code;
        match self {
            BundleError::Io { .. } => Code::E0601,
            BundleError::Engine(_) | BundleError::Compile { .. } => Code::E0602,
            BundleError::Invalid(_) => Code::E0603,
            BundleError::TooLarge(_) => Code::E0604,
            BundleError::Digest { .. } => Code::E0605,
            BundleError::Unsigned => Code::E0606,
            BundleError::BadSignature { .. } => Code::E0607,
            BundleError::Older { .. } => Code::E0609,
            BundleError::Key { .. } => Code::E0608,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> BundleError {
        BundleError::Io {
            path: path.to_string(),
            source,
        }
    }
}
