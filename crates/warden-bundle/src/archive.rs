//! Writing a bundle, and reading one within bounds.

use crate::manifest::{DataEntry, FORMAT, MANIFEST, Manifest, SIGNATURE, SignatureFile, sha256};
use crate::{BundleError, key_id};
use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Bounds on reading a bundle: it comes over the network, and is not
/// trusted until it has been read whole and its digests checked.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The compressed archive, in bytes.
    pub max_archive_bytes: u64,
    /// All files unpacked, in bytes (a gzip bomb stops here).
    pub max_unpacked_bytes: u64,
    /// Entries in the archive (files and folders).
    pub max_entries: usize,
    /// A path in the archive, in bytes.
    pub max_path_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_archive_bytes: 256 << 20,
            max_unpacked_bytes: 1 << 30,
            max_entries: 10_000,
            max_path_bytes: 1_024,
        }
    }
}

/// The largest `manifest.json` read (a few hundred bytes per file).
const MANIFEST_BYTES: u64 = 8 << 20;
/// The largest `manifest.sig` read.
const SIGNATURE_BYTES: u64 = 4 << 10;
/// The deepest path in a bundle.
const PATH_DEPTH: usize = 32;
/// Where the policy files are, in a bundle.
const POLICY_DIR: &str = "policy";

/// A bundle read and checked: its manifest first (and, when [`read`] was
/// given a key, its signature by that key, before any other file is read),
/// then every file listed in it with the digest it has, and the revision its
/// content gives.
#[derive(Debug)]
pub struct Bundle {
    manifest: Manifest,
    signature: Option<SignatureFile>,
    verified_by: Option<String>,
    unpacked: Option<PathBuf>,
}

/// Where a read bundle's files were unpacked: what a server loads.
#[derive(Clone, Debug)]
pub struct Unpacked {
    /// The folder holding everything.
    pub dir: PathBuf,
    /// The policy folder.
    pub policy: PathBuf,
    /// The data files as `--data` arguments (`NAME=FILE` or `FILE`).
    pub data: Vec<String>,
}

impl Bundle {
    /// What the bundle holds.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The signature, when there is one.
    pub fn signature(&self) -> Option<&SignatureFile> {
        self.signature.as_ref()
    }

    /// The id of the key the signature was verified with ([`read`] given a
    /// key); none when it was not checked.
    pub fn verified_by(&self) -> Option<&str> {
        self.verified_by.as_deref()
    }

    /// Where the files were unpacked ([`read`] with a folder).
    pub fn unpacked(&self) -> Option<Unpacked> {
        Some(Unpacked::of(&self.manifest, self.unpacked.as_ref()?))
    }
}

impl Unpacked {
    /// The files of `manifest` unpacked in `dir`.
    pub fn of(manifest: &Manifest, dir: &Path) -> Unpacked {
        let data = manifest
            .data
            .iter()
            .map(|entry| {
                let file = dir.join(&entry.file).display().to_string();
                match &entry.name {
                    Some(name) => format!("{name}={file}"),
                    None => file,
                }
            })
            .collect();
        Unpacked {
            policy: dir.join(&manifest.policy),
            dir: dir.to_path_buf(),
            data,
        }
    }
}

/// Stops a reader past `limit` bytes, with an error naming what it read.
struct Bounded<R> {
    inner: R,
    left: u64,
    what: &'static str,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(TooLarge(format!(
                "{} is larger than {} bytes",
                self.what, self.limit
            ))));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A limit reached inside a reader, carried out through `std::io::Error`.
#[derive(Debug)]
struct TooLarge(String);
impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for TooLarge {}

/// An I/O error from reading the archive, as a bundle error: a limit the
/// reader reached, or a broken archive.
fn archive_error(e: std::io::Error) -> BundleError {
    if let Some(limit) = e.get_ref().and_then(|i| i.downcast_ref::<TooLarge>()) {
        return BundleError::TooLarge(limit.0.clone());
    }
    BundleError::Invalid(format!("cannot read the archive: {e}"))
}

/// A path in the archive as the bundle may hold it: UTF-8, relative, plain
/// names only (no `..`, `.`, empty part, backslash or control character),
/// at most `PATH_DEPTH` deep. A folder's trailing `/` is dropped.
fn checked_path(raw: &[u8], limits: &Limits) -> Result<String, BundleError> {
    let shown = || {
        String::from_utf8_lossy(raw)
            .chars()
            .take(200)
            .collect::<String>()
    };
    let invalid =
        |why: &str| BundleError::Invalid(format!("the path `{}` {why}", shown().escape_default()));
    if raw.len() > limits.max_path_bytes {
        return Err(invalid(&format!(
            "is longer than {} bytes",
            limits.max_path_bytes
        )));
    }
    let text = std::str::from_utf8(raw).map_err(|_| invalid("is not UTF-8"))?;
    let text = text.strip_suffix('/').unwrap_or(text);
    if text.starts_with('/') {
        return Err(invalid("is absolute"));
    }
    let parts: Vec<&str> = text.split('/').collect();
    if parts.len() > PATH_DEPTH {
        return Err(invalid(&format!("is more than {PATH_DEPTH} folders deep")));
    }
    for part in &parts {
        if part.is_empty() || *part == "." || *part == ".." {
            return Err(invalid("is not a plain relative path"));
        }
        if part.chars().any(|c| c.is_control() || c == '\\') {
            return Err(invalid("holds a control character or a backslash"));
        }
    }
    Ok(text.to_string())
}

/// Reads a bundle from `archive` within `limits`. `manifest.json` must come
/// first (then `manifest.sig`, if any): it is parsed and its revision
/// checked, and with `key` its signature is verified, before any other
/// entry is read; every later entry must be a file the manifest lists, with
/// the digest it lists. With `unpack_to` (a folder that must not exist yet),
/// files are written there as they are read, so nothing an unverified or
/// unlisted entry holds is ever written. On any error the folder is removed.
pub fn read(
    archive: impl Read,
    limits: &Limits,
    key: Option<&VerifyingKey>,
    unpack_to: Option<&Path>,
) -> Result<Bundle, BundleError> {
    if let Some(dir) = unpack_to {
        std::fs::create_dir(dir).map_err(|e| BundleError::io(dir.display(), e))?;
    }
    let read = read_entries(archive, limits, key, unpack_to);
    if read.is_err()
        && let Some(dir) = unpack_to
    {
        let _ = std::fs::remove_dir_all(dir);
    }
    read
}

fn read_entries(
    archive: impl Read,
    limits: &Limits,
    key: Option<&VerifyingKey>,
    unpack_to: Option<&Path>,
) -> Result<Bundle, BundleError> {
    let compressed = Bounded {
        inner: archive,
        left: limits.max_archive_bytes,
        what: "the archive",
        limit: limits.max_archive_bytes,
    };
    // The whole stream unpacked, headers included, is bounded too: a second
    // wall behind the per-file checks below.
    let headers = 1_024 * (limits.max_entries as u64 + 2);
    let unpacked = Bounded {
        inner: flate2::read::GzDecoder::new(compressed),
        left: limits.max_unpacked_bytes.saturating_add(headers),
        what: "the unpacked archive",
        limit: limits.max_unpacked_bytes.saturating_add(headers),
    };
    let mut tar = tar::Archive::new(unpacked);
    let mut unpacked_left = limits.max_unpacked_bytes;
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut folders: BTreeSet<String> = BTreeSet::new();
    let mut manifest: Option<Manifest> = None;
    let mut manifest_bytes = Vec::new();
    let mut signature: Option<SignatureFile> = None;
    // Whether the signature has been looked at (the first entry after the
    // manifest and its signature settles it).
    let mut authenticated: Option<Option<String>> = None;
    let mut entries = 0usize;
    // Raw: the tar reader would read a long-name or PAX entry whole, before
    // anything here could look at its size; a GNU long name is read here,
    // within the path limit, and the rest of those extensions refused.
    let mut long_name: Option<Vec<u8>> = None;
    for entry in tar.entries().map_err(archive_error)?.raw(true) {
        let mut entry = entry.map_err(archive_error)?;
        entries += 1;
        if entries > limits.max_entries {
            return Err(BundleError::TooLarge(format!(
                "more than {} entries",
                limits.max_entries
            )));
        }
        let kind = entry.header().entry_type();
        if kind.is_gnu_longname() {
            let size = entry.header().size().map_err(archive_error)?;
            if size > limits.max_path_bytes as u64 + 1 || long_name.is_some() {
                return Err(BundleError::Invalid(format!(
                    "a long name of {size} bytes (at most {})",
                    limits.max_path_bytes
                )));
            }
            let mut name = Vec::new();
            (&mut entry)
                .take(size)
                .read_to_end(&mut name)
                .map_err(archive_error)?;
            while name.last() == Some(&0) {
                name.pop();
            }
            long_name = Some(name);
            entries -= 1;
            continue;
        }
        if kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions()
        {
            return Err(BundleError::Invalid(format!(
                "a {kind:?} entry; a bundle holds plain entries only (`warden build` writes them)"
            )));
        }
        let raw_path = match long_name.take() {
            Some(name) => name,
            None => entry.path_bytes().into_owned(),
        };
        let path = checked_path(&raw_path, limits)?;
        if kind.is_dir() {
            if files.contains_key(&path) {
                return Err(BundleError::Invalid(format!(
                    "`{path}` is both a file and a folder"
                )));
            }
            folders.insert(path);
            continue;
        }
        if !kind.is_file() && kind != tar::EntryType::Continuous {
            return Err(BundleError::Invalid(format!(
                "`{path}` is not a regular file ({kind:?}); a bundle holds files only"
            )));
        }
        let at_top = path == MANIFEST || path == SIGNATURE;
        if !at_top && !path.starts_with(&format!("{POLICY_DIR}/")) && !path.starts_with("data/") {
            return Err(BundleError::Invalid(format!(
                "`{path}` is outside `{POLICY_DIR}/` and `data/`"
            )));
        }
        if files.contains_key(&path) || folders.contains(&path) {
            return Err(BundleError::Invalid(format!(
                "`{path}` is in the archive twice"
            )));
        }
        // A file where another path needs a folder (`a` and `a/b`).
        let mut ancestor = path.as_str();
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            if files.contains_key(parent) {
                return Err(BundleError::Invalid(format!(
                    "`{parent}` is both a file and a folder"
                )));
            }
            folders.insert(parent.to_string());
            ancestor = parent;
        }
        let size = entry.header().size().map_err(archive_error)?;
        if size > unpacked_left {
            return Err(BundleError::TooLarge(format!(
                "its files hold more than {} bytes",
                limits.max_unpacked_bytes
            )));
        }
        let mut bounded = Bounded {
            inner: &mut entry,
            left: unpacked_left,
            what: "the unpacked files",
            limit: limits.max_unpacked_bytes,
        };
        if at_top {
            let limit = if path == MANIFEST {
                MANIFEST_BYTES
            } else {
                SIGNATURE_BYTES
            };
            let mut bytes = Vec::new();
            (&mut bounded)
                .take(limit + 1)
                .read_to_end(&mut bytes)
                .map_err(archive_error)?;
            if bytes.len() as u64 > limit {
                return Err(BundleError::TooLarge(format!(
                    "`{path}` is larger than {limit} bytes"
                )));
            }
            unpacked_left -= bytes.len() as u64;
            files.insert(path.clone(), String::new());
            if path == MANIFEST {
                if entries != 1 {
                    return Err(BundleError::Invalid(format!(
                        "`{MANIFEST}` is not the first entry of the archive"
                    )));
                }
                let parsed = parse_manifest(&bytes)?;
                check_manifest(&parsed, limits)?;
                manifest = Some(parsed);
                manifest_bytes = bytes;
            } else {
                if entries != 2 {
                    return Err(BundleError::Invalid(format!(
                        "`{SIGNATURE}` does not follow `{MANIFEST}`"
                    )));
                }
                signature = Some(parse_signature(&bytes)?);
            }
            continue;
        }
        let Some(listed) = &manifest else {
            return Err(BundleError::Invalid(format!(
                "`{MANIFEST}` is not the first entry of the archive"
            )));
        };
        if authenticated.is_none() {
            authenticated = Some(authenticate(&manifest_bytes, signature.as_ref(), key)?);
        }
        let Some(expected) = listed.files.get(&path) else {
            return Err(BundleError::Invalid(format!(
                "`{path}` is in the archive but not in the manifest"
            )));
        };
        let expected = expected.clone();
        let mut hasher = HashingWriter {
            hasher: Sha256::new(),
            file: match unpack_to {
                Some(dir) => Some(create_file(dir, &path)?),
                None => None,
            },
            write_failed: None,
            written: 0,
        };
        let copied = std::io::copy(&mut bounded, &mut hasher);
        if let Some(e) = hasher.write_failed.take() {
            return Err(BundleError::io(&path, e));
        }
        copied.map_err(archive_error)?;
        unpacked_left -= hasher.written;
        if let Some(file) = hasher.file.take() {
            file.sync_all().map_err(|e| BundleError::io(&path, e))?;
        }
        let digest = warden::sha256_hex(&hasher.hasher.finalize());
        if digest != expected {
            return Err(BundleError::Digest { path });
        }
        files.insert(path, digest);
    }
    let manifest = manifest
        .ok_or_else(|| BundleError::Invalid(format!("there is no `{MANIFEST}` in the archive")))?;
    let verified_by = match authenticated {
        Some(verified_by) => verified_by,
        None => authenticate(&manifest_bytes, signature.as_ref(), key)?,
    };
    files.remove(MANIFEST);
    files.remove(SIGNATURE);
    if let Some(missing) = manifest.files.keys().find(|p| !files.contains_key(*p)) {
        return Err(BundleError::Invalid(format!(
            "`{}` is in the manifest but not in the archive",
            missing
                .chars()
                .take(200)
                .collect::<String>()
                .escape_default()
        )));
    }
    Ok(Bundle {
        manifest,
        signature,
        verified_by,
        unpacked: unpack_to.map(Path::to_path_buf),
    })
}

/// `manifest.sig` as read: Ed25519, and a key id of the form keys have.
fn parse_signature(bytes: &[u8]) -> Result<SignatureFile, BundleError> {
    let signature: SignatureFile = serde_json::from_slice(bytes)
        .map_err(|e| BundleError::Invalid(format!("`{SIGNATURE}` is not a signature file: {e}")))?;
    if signature.algorithm != "ed25519" {
        return Err(BundleError::Invalid(format!(
            "`{SIGNATURE}` uses the algorithm `{}`; only `ed25519` is read",
            signature
                .algorithm
                .chars()
                .take(40)
                .collect::<String>()
                .escape_default()
        )));
    }
    let id_is_hex = signature
        .key_id
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !id_is_hex {
        return Err(BundleError::Invalid(format!(
            "`{SIGNATURE}` names the key `{}`, not a key id (`sha256:` and 16 hex digits)",
            signature
                .key_id
                .chars()
                .take(40)
                .collect::<String>()
                .escape_default()
        )));
    }
    Ok(signature)
}

/// With a key, whether it signed the manifest: the key's id when it did.
fn authenticate(
    manifest_bytes: &[u8],
    signature: Option<&SignatureFile>,
    key: Option<&VerifyingKey>,
) -> Result<Option<String>, BundleError> {
    let Some(key) = key else {
        return Ok(None);
    };
    let Some(signature) = signature else {
        return Err(BundleError::Unsigned);
    };
    let bad = || BundleError::BadSignature {
        expected: key_id(key),
        signed_by: signature.key_id.clone(),
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(signature.signature.as_bytes())
        .map_err(|_| bad())?;
    let parsed = ed25519_dalek::Signature::from_slice(&bytes).map_err(|_| bad())?;
    key.verify_strict(manifest_bytes, &parsed)
        .map_err(|_| bad())?;
    Ok(Some(key_id(key)))
}

/// Creates `path` below `dir` (a folder [`read`] made, which holds only what
/// it wrote: no link can be in the way). The path was checked.
fn create_file(dir: &Path, path: &str) -> Result<std::fs::File, BundleError> {
    let target = dir.join(path);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| BundleError::io(path, e))?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
        .map_err(|e| BundleError::io(path, e))
}

/// Hashes what it is given, and writes it to the file when there is one
/// (a failed write is kept apart from a failed read of the archive).
struct HashingWriter {
    hasher: Sha256,
    file: Option<std::fs::File>,
    write_failed: Option<std::io::Error>,
    written: u64,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(file) = &mut self.file
            && let Err(e) = file.write_all(buf)
        {
            let kind = e.kind();
            self.write_failed = Some(e);
            return Err(kind.into());
        }
        self.hasher.update(buf);
        self.written += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn parse_manifest(bytes: &[u8]) -> Result<Manifest, BundleError> {
    // A newer format's manifest may have fields this version does not know:
    // say which format it is before failing on them.
    let format = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_string));
    if let Some(format) = &format
        && format != FORMAT
    {
        return Err(BundleError::Invalid(format!(
            "its format is `{}`; this version reads `{FORMAT}`",
            format.chars().take(60).collect::<String>().escape_default()
        )));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| BundleError::Invalid(format!("`{MANIFEST}` is not a bundle manifest: {e}")))
}

/// What the manifest says holds together: the policy folder is `policy`,
/// every listed path is one the archive could hold, the data files are
/// listed files of `data/`, and the revision is the content's.
fn check_manifest(manifest: &Manifest, limits: &Limits) -> Result<(), BundleError> {
    if manifest.policy != POLICY_DIR {
        return Err(BundleError::Invalid(format!(
            "the manifest's policy folder is `{}`, not `{POLICY_DIR}`",
            manifest
                .policy
                .chars()
                .take(60)
                .collect::<String>()
                .escape_default()
        )));
    }
    if manifest.files.len() > limits.max_entries {
        return Err(BundleError::TooLarge(format!(
            "its manifest lists more than {} files",
            limits.max_entries
        )));
    }
    for path in manifest.files.keys() {
        // Sorted, so a file's folder comes just before it: `a` then `a/b`.
        let mut ancestor = path.as_str();
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            if manifest.files.contains_key(parent) {
                return Err(BundleError::Invalid(format!(
                    "the manifest lists `{}` both as a file and a folder",
                    parent
                        .chars()
                        .take(200)
                        .collect::<String>()
                        .escape_default()
                )));
            }
            ancestor = parent;
        }
        let checked = checked_path(path.as_bytes(), limits)?;
        if checked != *path
            || !(path.starts_with(&format!("{POLICY_DIR}/")) || path.starts_with("data/"))
        {
            return Err(BundleError::Invalid(format!(
                "the manifest lists `{}`, which is not a file of `{POLICY_DIR}/` or `data/`",
                path.chars().take(200).collect::<String>().escape_default()
            )));
        }
    }
    for entry in &manifest.data {
        if !entry.file.starts_with("data/") || !manifest.files.contains_key(&entry.file) {
            return Err(BundleError::Invalid(format!(
                "the data file `{}` is not a file of the bundle's `data/`",
                entry
                    .file
                    .chars()
                    .take(200)
                    .collect::<String>()
                    .escape_default()
            )));
        }
        if let Some(name) = &entry.name
            && !valid_data_name(name)
        {
            return Err(BundleError::Invalid(format!(
                "`{}` is not a data document name",
                name.chars().take(60).collect::<String>().escape_default()
            )));
        }
    }
    if manifest.content_revision() != manifest.revision {
        return Err(BundleError::Invalid(
            "the manifest's revision is not the one its content gives".into(),
        ));
    }
    if manifest.built_time().is_none() {
        return Err(BundleError::Invalid(format!(
            "the manifest's build time `{}` is not an RFC 3339 time",
            manifest
                .built_at
                .chars()
                .take(60)
                .collect::<String>()
                .escape_default()
        )));
    }
    Ok(())
}

fn valid_data_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What [`build`] made.
#[derive(Debug)]
pub struct Built {
    /// The manifest written.
    pub manifest: Manifest,
    /// Files of the policy folder left out (W0006), as `warden check` says them.
    pub skipped: Vec<String>,
}

/// Builds a bundle of the policy set `workspace` (read from one folder or
/// file) and the data files `data` (`NAME=FILE` or `FILE`), signed with
/// `key` when given, and writes it to `out`. The set must compile and each
/// data file load against it: a bundle no server could serve is not built.
pub fn build(
    workspace: &warden::Workspace,
    data: &[String],
    key: Option<&SigningKey>,
    built_at: jiff::Timestamp,
    out: impl Write,
) -> Result<Built, BundleError> {
    let mut engine = match workspace.engine() {
        Ok(engine) => engine,
        Err(warden::EngineError::Compile { diagnostics }) => {
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            return Err(BundleError::Compile { errors });
        }
        Err(e) => return Err(e.into()),
    };
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for path in workspace.paths() {
        let text = workspace.text(path).unwrap_or_default();
        contents.insert(format!("{POLICY_DIR}/{path}"), text.as_bytes().to_vec());
    }
    for path in workspace.named_files() {
        if let Some(Ok(text)) = workspace.named_text(path) {
            contents.insert(format!("{POLICY_DIR}/{path}"), text.as_bytes().to_vec());
        }
    }
    let limits = warden::InputLimits::DATA;
    let mut entries = Vec::new();
    for arg in data {
        let (name, file) = warden::split_data_arg(arg, |whole| Path::new(whole).exists());
        let text = warden::read_file_bounded(Path::new(file), limits.max_bytes)?;
        engine = engine.with_data_text(name, file, &text, &limits)?;
        let in_bundle = data_file_name(name, Path::new(file), &contents);
        contents.insert(in_bundle.clone(), text.into_bytes());
        entries.push(DataEntry {
            name: name.map(str::to_string),
            file: in_bundle,
        });
    }
    let files = contents
        .iter()
        .map(|(path, bytes)| (path.clone(), sha256(bytes)))
        .collect();
    let mut manifest = Manifest {
        format: FORMAT.into(),
        revision: String::new(),
        built_at: built_at.to_string(),
        policy: POLICY_DIR.into(),
        data: entries,
        files,
    };
    manifest.revision = manifest.content_revision();
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| BundleError::Invalid(e.to_string()))?;
    let signature = key.map(|key| {
        let signature = SignatureFile {
            algorithm: "ed25519".into(),
            key_id: key_id(&key.verifying_key()),
            signature: base64::engine::general_purpose::STANDARD
                .encode(key.sign(&manifest_bytes).to_bytes()),
        };
        serde_json::to_vec_pretty(&signature).unwrap_or_default()
    });
    let mtime = built_at.as_second().max(0) as u64;
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut append = |path: &str, bytes: &[u8]| -> std::io::Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, bytes)
    };
    let write_error = |e| BundleError::io("the bundle", e);
    append(MANIFEST, &manifest_bytes).map_err(write_error)?;
    if let Some(signature) = &signature {
        append(SIGNATURE, signature).map_err(write_error)?;
    }
    for (path, bytes) in &contents {
        append(path, bytes).map_err(write_error)?;
    }
    let gz = tar.into_inner().map_err(write_error)?;
    let mut out = gz.finish().map_err(write_error)?;
    out.flush().map_err(write_error)?;
    drop(engine);
    Ok(Built {
        manifest,
        skipped: workspace
            .skipped()
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

/// Where a data file goes in the bundle: `data/NAME.ext` for one document,
/// else `data/` and its file name (characters other than letters, digits,
/// `.`, `-` and `_` replaced), numbered when taken.
fn data_file_name(name: Option<&str>, file: &Path, taken: &BTreeMap<String, Vec<u8>>) -> String {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| matches!(*e, "json" | "yaml" | "yml"))
        .unwrap_or("json");
    let stem: String = match name {
        Some(name) => name.to_string(),
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .take(100)
            .collect(),
    };
    let stem = if stem.is_empty() {
        "data".to_string()
    } else {
        stem
    };
    let mut candidate = format!("data/{stem}.{ext}");
    let mut n = 2;
    while taken.contains_key(&candidate) {
        candidate = format!("data/{stem}-{n}.{ext}");
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests;
