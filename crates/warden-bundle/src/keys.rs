//! Ed25519 key pairs in the PEM files OpenSSL writes and reads: the private
//! key as PKCS#8 (`openssl genpkey -algorithm ed25519`), the public key as
//! SubjectPublicKeyInfo (`openssl pkey -pubout`).

use crate::BundleError;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::path::Path;

/// The largest key file read: a PEM key is a few hundred bytes.
const KEY_FILE_BYTES: usize = 16 << 10;

/// A new key pair, as PEM text.
pub struct KeyPair {
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`): keep it secret.
    pub private_pem: String,
    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`): give it to
    /// the servers.
    pub public_pem: String,
    /// The public key's id ([`key_id`]).
    pub key_id: String,
}

/// A fresh key pair from the operating system's random source.
pub fn generate_key_pair() -> Result<KeyPair, BundleError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| BundleError::Key {
        path: "(random source)".into(),
        why: e.to_string(),
    })?;
    let key = SigningKey::from_bytes(&secret);
    let why = |e: &dyn std::fmt::Display| BundleError::Key {
        path: "(new key)".into(),
        why: e.to_string(),
    };
    // PKCS#8 v1 (the secret alone), which OpenSSL reads; the v2 form with
    // the public key beside it, which `SigningKey` writes, it does not.
    let private_pem = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: secret,
        public_key: None,
    }
    .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
    .map_err(|e| why(&e))?
    .to_string();
    secret.fill(0);
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| why(&e))?;
    Ok(KeyPair {
        private_pem,
        public_pem,
        key_id: key_id(&key.verifying_key()),
    })
}

/// A public key's id: `sha256:` of its 32 bytes, shortened to 16 hex digits.
pub fn key_id(key: &VerifyingKey) -> String {
    let full = crate::manifest::sha256(key.as_bytes());
    full[..7 + 16].to_string()
}

fn read_key_file(path: &Path) -> Result<String, BundleError> {
    warden::read_file_bounded(path, KEY_FILE_BYTES).map_err(|e| BundleError::Key {
        path: path.display().to_string(),
        why: e.to_string(),
    })
}

/// Reads a private key (PKCS#8 PEM).
pub fn read_signing_key(path: &Path) -> Result<SigningKey, BundleError> {
    let text = read_key_file(path)?;
    SigningKey::from_pkcs8_pem(&text).map_err(|e| BundleError::Key {
        path: path.display().to_string(),
        why: format!("not an Ed25519 private key in PKCS#8 PEM ({e})"),
    })
}

/// Reads a public key (SubjectPublicKeyInfo PEM).
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, BundleError> {
    let text = read_key_file(path)?;
    VerifyingKey::from_public_key_pem(&text).map_err(|e| BundleError::Key {
        path: path.display().to_string(),
        why: format!("not an Ed25519 public key in PEM ({e})"),
    })
}
