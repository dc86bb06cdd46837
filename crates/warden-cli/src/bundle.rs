//! `warden build`, `warden bundle verify` and `warden keygen`: signed
//! bundles of a policy set and its data, for `warden serve --bundle`.

use crate::{Failure, load_engine, print_err, print_out};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use warden_bundle::BundleError;

#[derive(clap::Args)]
pub(crate) struct BuildArgs {
    /// The policy folder or file (default: ./policies, else the bundled stdlib-policies).
    #[arg(long = "policy", value_name = "PATH")]
    policy: Option<PathBuf>,
    /// A data file merged into `data`, or `NAME=FILE` for the one document
    /// `data.NAME` (repeatable): served with the policies.
    #[arg(long = "data", value_name = "[NAME=]FILE")]
    data: Vec<String>,
    /// Where to write the bundle (`.tar.gz`); replaced in one step, so a
    /// server fetching it meanwhile gets the old one or the new one whole.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Sign it with this Ed25519 private key (PKCS#8 PEM, from `warden keygen`
    /// or `openssl genpkey -algorithm ed25519`).
    #[arg(long, value_name = "KEY")]
    sign_key: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub(crate) enum BundleCommand {
    /// Check a bundle: every path plain, every file's digest, the revision,
    /// and with `--verify-key` its signature. Exit 1 when it would be refused.
    Verify {
        /// The bundle (`.tar.gz`).
        file: PathBuf,
        /// The Ed25519 public key (PEM) it must be signed with.
        #[arg(long, value_name = "KEY")]
        verify_key: Option<PathBuf>,
        /// `text` (default) or `json`.
        #[arg(long, value_enum, default_value = "text")]
        format: VerifyFormat,
    },
    /// Store a bundle in an OCI registry, as a one-layer artifact that
    /// `warden serve --bundle oci://…` pulls. The bundle is checked first.
    Push(PushArgs),
}

#[derive(clap::Args)]
pub(crate) struct PushArgs {
    /// The bundle (`.tar.gz`).
    file: PathBuf,
    /// Where: `oci://REGISTRY/REPOSITORY:TAG`. Credentials come from
    /// `WARDEN_REGISTRY_USERNAME` and `WARDEN_REGISTRY_PASSWORD`.
    reference: String,
    /// Check its signature with this public key before pushing.
    #[arg(long, value_name = "KEY")]
    verify_key: Option<PathBuf>,
    /// Talk plain HTTP to the registry (HTTPS otherwise).
    #[arg(long)]
    plain_http: bool,
    /// CA certificates (PEM) the registry's certificate must chain to.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum VerifyFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub(crate) struct KeygenArgs {
    /// Writes `OUT.pem` (the private key, readable by its owner only) and
    /// `OUT.pub.pem` (the public key servers verify with); never replaces
    /// either.
    #[arg(
        short = 'o',
        long = "out",
        value_name = "OUT",
        default_value = "warden-signing"
    )]
    out: PathBuf,
}

fn failure(e: BundleError) -> Failure {
    Failure {
        code: Some(e.code()),
        message: e.to_string(),
    }
}

/// `warden build`.
pub(crate) fn build(args: BuildArgs) -> Result<ExitCode, Failure> {
    let policy = match args.policy {
        Some(path) => path,
        None => crate::default_policy()?,
    };
    let key = match &args.sign_key {
        Some(path) => Some(warden_bundle::read_signing_key(path).map_err(failure)?),
        None => None,
    };
    let workspace = warden::Workspace::read(&[&policy]).map_err(|e| Failure {
        code: e.code(),
        message: e.to_string(),
    })?;
    for why in workspace.skipped() {
        print_err(&format!("warning[{}]: {why}\n", warden::Code::W0006));
    }
    // The compiler's errors, drawn as `warden compile` draws them.
    if load_engine(&workspace).is_none() {
        return Err(Failure(format!(
            "the policies in `{}` do not compile: no bundle was written",
            policy.display()
        )));
    }
    let output = &args.output;
    // Built into a new file beside the output, renamed over it once whole.
    let mut built = None;
    let mut failed = None;
    let written = warden::replace_file(output, |file| {
        let mut writer = std::io::BufWriter::new(file);
        match warden_bundle::build(
            &workspace,
            &args.data,
            key.as_ref(),
            jiff::Timestamp::now(),
            &mut writer,
        ) {
            Ok(done) => {
                built = Some(done);
                writer.flush()
            }
            Err(e) => {
                failed = Some(e);
                Err(std::io::Error::other("not built"))
            }
        }
    });
    let built = match (written, built, failed) {
        (_, _, Some(e)) => return Err(failure(e)),
        (Err(e), _, None) => return Err(failure(BundleError::io(output.display(), e))),
        (Ok(()), Some(built), None) => built,
        (Ok(()), None, None) => return Err(Failure("the bundle was not built".into())),
    };
    let signed = match &key {
        Some(key) => format!(
            "signed by key {}",
            warden_bundle::key_id(&key.verifying_key())
        ),
        None => "not signed".to_string(),
    };
    print_out(&format!(
        "wrote {}: revision {}, {} file{}, {signed}",
        output.display(),
        built.manifest.revision,
        built.manifest.files.len(),
        crate::plural(built.manifest.files.len()),
    ));
    Ok(ExitCode::SUCCESS)
}

/// `warden bundle verify`.
pub(crate) fn verify(
    file: &Path,
    verify_key: Option<&Path>,
    format: VerifyFormat,
) -> Result<ExitCode, Failure> {
    let key = match verify_key {
        Some(path) => Some(warden_bundle::read_verifying_key(path).map_err(failure)?),
        None => None,
    };
    let opened =
        std::fs::File::open(file).map_err(|e| failure(BundleError::io(file.display(), e)))?;
    let checked = warden_bundle::read(
        std::io::BufReader::new(opened),
        &warden_bundle::Limits::default(),
        key.as_ref(),
        None,
    );
    let bundle = match checked {
        Ok(bundle) => bundle,
        Err(e @ BundleError::Io { .. }) => return Err(failure(e)),
        Err(e) => {
            match format {
                VerifyFormat::Text => {
                    print_err(&format!("error[{}]: {}: {e}\n", e.code(), file.display()))
                }
                VerifyFormat::Json => print_out(
                    &serde_json::json!({
                        "file": file.display().to_string(),
                        "valid": false,
                        "code": e.code().as_str(),
                        "error": e.to_string(),
                    })
                    .to_string(),
                ),
            }
            return Ok(ExitCode::from(1));
        }
    };
    let manifest = bundle.manifest();
    // The id of the key that verified it; unverified, only what the
    // signature file claims (a checked form: `sha256:` and 16 hex digits).
    let verified_by = bundle.verified_by().map(str::to_string);
    let signed_by = bundle.signature().map(|s| s.key_id.clone());
    match format {
        VerifyFormat::Json => print_out(
            &serde_json::json!({
                "file": file.display().to_string(),
                "valid": true,
                "revision": manifest.revision,
                "built_at": manifest.built_at,
                "files": manifest.files,
                "data": manifest.data,
                "signed_by": verified_by.as_ref().or(signed_by.as_ref()),
                "signature_verified": verified_by.is_some(),
            })
            .to_string(),
        ),
        VerifyFormat::Text => {
            let signature = match (&signed_by, &key) {
                (Some(id), Some(_)) => format!("signature by key {id} verified"),
                (Some(id), None) => {
                    format!("signed by key {id}, not checked (give --verify-key to check it)")
                }
                (None, _) => "not signed".into(),
            };
            print_out(&format!(
                "{}: revision {}, built {}, {} file{}, every digest matches; {signature}",
                file.display(),
                manifest.revision,
                manifest.built_at,
                manifest.files.len(),
                crate::plural(manifest.files.len())
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `warden bundle push`.
pub(crate) fn push(args: PushArgs) -> Result<ExitCode, Failure> {
    let key = match &args.verify_key {
        Some(path) => Some(warden_bundle::read_verifying_key(path).map_err(failure)?),
        None => None,
    };
    let file = &args.file;
    let limits = warden_bundle::Limits::default();
    let bytes = read_bounded(file, limits.max_archive_bytes)?;
    let bundle =
        warden_bundle::read(bytes.as_slice(), &limits, key.as_ref(), None).map_err(|e| {
            Failure {
                code: Some(e.code()),
                message: format!("{}: {e}; not pushed", file.display()),
            }
        })?;
    let revision = bundle.manifest().revision.clone();
    let source = warden_server::oci::OciSource::new(
        &args.reference,
        args.plain_http,
        args.ca_file.as_deref(),
        std::time::Duration::from_secs(60),
    )
    .map_err(Failure)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let url = runtime
        .block_on(source.push(bytes, &revision))
        .map_err(|e| Failure(format!("push failed: {e}")))?;
    print_out(&format!(
        "pushed {} (revision {revision}) to {}: {url}",
        file.display(),
        args.reference
    ));
    Ok(ExitCode::SUCCESS)
}

/// Reads a whole file of at most `limit` bytes.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let io = |e: std::io::Error| failure(BundleError::io(path.display(), e));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(failure(BundleError::TooLarge(format!(
            "`{}` is larger than {limit} bytes",
            path.display()
        ))));
    }
    Ok(bytes)
}

/// `warden keygen`.
pub(crate) fn keygen(args: KeygenArgs) -> Result<ExitCode, Failure> {
    let pair = warden_bundle::generate_key_pair().map_err(failure)?;
    // `-o release.pem` means `release`: not `release.pem.pem`.
    let shown = args.out.display().to_string();
    let base = shown.strip_suffix(".pem").unwrap_or(&shown).to_string();
    let private = PathBuf::from(format!("{base}.pem"));
    let public = PathBuf::from(format!("{base}.pub.pem"));
    for path in [&private, &public] {
        if path.exists() {
            return Err(Failure(format!(
                "`{}` exists; keygen never replaces a key (remove it, or give another --out)",
                path.display()
            )));
        }
    }
    write_new(&private, pair.private_pem.as_bytes(), 0o600)?;
    write_new(&public, pair.public_pem.as_bytes(), 0o644)?;
    print_out(&format!(
        "wrote {} (private: sign bundles with `warden build --sign-key`) and {} (public: \
         `warden serve --verify-key`); key {}",
        private.display(),
        public.display(),
        pair.key_id
    ));
    Ok(ExitCode::SUCCESS)
}

/// Creates `path` with `mode`, failing if it exists.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e: std::io::Error| failure(BundleError::io(path.display(), e));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}
