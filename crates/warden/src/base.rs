//! `--base` of `warden diff` and `warden verify`, and the editor's
//! "decisions changed vs main": a policy folder, or a git revision of it.

use std::path::{Path, PathBuf};

/// The base policy set on disk: the folder named, or the revision's files
/// unpacked into a temporary folder (removed when this is dropped).
pub struct BaseCheckout {
    /// The folder (or file) to compile.
    pub path: PathBuf,
    temporary: Option<PathBuf>,
}

impl Drop for BaseCheckout {
    fn drop(&mut self) {
        if let Some(dir) = &self.temporary {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `--base`: an existing path is a folder (or file) of policies; anything
/// else is a git revision of the `--policy` folder (or file). The
/// revision's files are read blob by blob (`git ls-tree`, `git cat-file`),
/// exactly as committed (no `.gitattributes` export rules), into a new
/// temporary folder.
pub fn checkout_base(base: &str, policy: &Path) -> Result<BaseCheckout, String> {
    if Path::new(base).exists() {
        return Ok(BaseCheckout {
            path: PathBuf::from(base),
            temporary: None,
        });
    }
    if base.starts_with('-') || base.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`--base {}` is neither a folder nor a git revision",
            base.escape_default()
        ));
    }
    let (folder, file) = if policy.is_dir() {
        (policy.to_path_buf(), None)
    } else {
        (
            policy
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            policy.file_name().map(PathBuf::from),
        )
    };
    let git = |args: &[&str], stdin: Option<&[u8]>| -> Result<Vec<u8>, String> {
        use std::io::Write;
        let mut child = std::process::Command::new("git")
            .arg("-C")
            .arg(&folder)
            .args(args)
            .stdin(if stdin.is_some() {
                std::process::Stdio::piped()
            } else {
                std::process::Stdio::null()
            })
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("`--base {base}`: cannot run git: {e}"))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let input = input.to_vec();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            });
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("`--base {base}`: git: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`--base {base}` is not a folder, and git cannot read it as a revision of `{}`: {}",
                folder.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(out.stdout)
    };
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).trim_end().to_string();
    let commit = text(git(
        &["rev-parse", "--verify", &format!("{base}^{{commit}}")],
        None,
    )?);
    // A run killed before it could clean up (SIGKILL, SIGTERM) leaves its
    // folder: the next run removes those whose process is gone.
    remove_abandoned(&std::env::temp_dir());
    // A fresh folder of our own: created, not reused (a folder planted
    // under the same name is refused).
    let dir = std::env::temp_dir().join(format!(
        "warden-diff-{}-{}",
        std::process::id(),
        ulid::Ulid::new()
    ));
    std::fs::create_dir(&dir).map_err(|e| format!("`{}`: {e}", dir.display()))?;
    let held = BaseCheckout {
        path: match &file {
            Some(name) => dir.join(name),
            None => dir.clone(),
        },
        temporary: Some(dir.clone()),
    };
    // The folder's files at that revision: regular blobs only (links and
    // submodules are left out, as a folder walk leaves out links).
    let listing = git(&["ls-tree", "-r", "-z", &commit, "--", "."], None)?;
    let mut blobs: Vec<(String, String)> = Vec::new();
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split(' ');
        let (Some(mode), Some("blob"), Some(hash)) = (meta.next(), meta.next(), meta.next()) else {
            continue;
        };
        if !matches!(mode, "100644" | "100755") {
            continue;
        }
        let plain = !path.is_empty()
            && path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if plain && file.as_ref().is_none_or(|f| Path::new(path) == f.as_path()) {
            blobs.push((hash.to_string(), path.to_string()));
        }
    }
    if blobs.len() > MOST_BASE_FILES {
        return Err(format!(
            "`--base {base}`: the folder holds more than {MOST_BASE_FILES} files at that revision"
        ));
    }
    let limit = crate::InputLimits::POLICY_FILE.max_bytes;
    let mut written = 0u64;
    for (hash, path) in &blobs {
        let bytes = git(&["cat-file", "blob", hash], None)?;
        if bytes.len() > limit {
            continue;
        }
        written += bytes.len() as u64;
        if written > MOST_BASE_BYTES {
            return Err(format!(
                "`--base {base}`: the folder holds more than {MOST_BASE_BYTES} bytes at that revision"
            ));
        }
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("`{}`: {e}", parent.display()))?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
            .map_err(|e| format!("`{}`: {e}", target.display()))?;
    }
    Ok(held)
}

/// Most files, and bytes, read of a base revision.
const MOST_BASE_FILES: usize = 10_000;
const MOST_BASE_BYTES: u64 = 256 << 20;

/// Removes `warden-diff-PID-…` folders in `temp` whose process no longer
/// runs, and that this user owns (a folder is never followed through a
/// link: `remove_dir_all` does not follow them).
#[cfg(unix)]
fn remove_abandoned(temp: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    // SAFETY: `getuid` reads the process's user id; it cannot fail.
    let me = unsafe { libc::getuid() };
    for entry in entries.flatten().take(100_000) {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("warden-diff-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != me || pid <= 0 {
            continue;
        }
        // SAFETY: signal 0 only asks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Elsewhere (WebAssembly) there are no processes and no checkouts to leave.
#[cfg(not(unix))]
fn remove_abandoned(_temp: &Path) {}
