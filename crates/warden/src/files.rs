//! Reading files from the folders a user names: regular files only, within
//! a size limit, and never outside the folder through a symbolic link. A
//! FIFO named `*.yaml` would otherwise hang a run, `/dev/zero` fill memory,
//! and a link carry a policy's `fixture()` to `/etc/shadow`.

use crate::EngineError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A file a folder walk left out, and why (reported as warning W0006).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The path as found in the folder.
    pub path: PathBuf,
    /// Why it was not read.
    pub why: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "skipped `{}`: {}", shown(&self.path), self.why)
    }
}

/// A path as text fit for a terminal or a CI log: control characters (a
/// newline that would forge a `::warning::` line) shown as escapes.
pub fn shown(path: &Path) -> String {
    shown_text(&path.display().to_string()).into_owned()
}

/// `text` with every control character (newline, carriage return, escape,
/// bell, C1) written as its escape (`\u{1b}`): a value from an input (an
/// app's name in a message) printed to a terminal or a CI log cannot move
/// the cursor, forge a line or hide the rest.
pub fn shown_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// The files a walk found, in path order, and those it left out.
#[derive(Clone, Debug, Default)]
pub struct Walk {
    /// Regular files (or links to regular files inside the folder).
    pub files: Vec<PathBuf>,
    /// Special files, and links that lead out of the folder or nowhere.
    pub skipped: Vec<Skipped>,
}

/// A path that could not be read, and why.
pub(crate) type Unreadable = (PathBuf, std::io::Error);

/// What a walk does with a path it cannot read: stop (`Err`) or note it
/// and go on (`Ok`).
pub(crate) type OnUnreadable<'f> = &'f mut dyn FnMut(Unreadable) -> Result<(), Unreadable>;

/// The files below `dir` whose names `wanted` accepts. Hidden entries are
/// skipped; a symbolic link to a folder is not followed (it could lead back
/// up the tree, or out of it) and is reported, and one to a file is
/// followed only when the file is inside `dir`.
pub fn files_below(dir: &Path, wanted: &dyn Fn(&str) -> bool) -> Result<Walk, EngineError> {
    let mut out = Walk::default();
    walk(dir, wanted, &mut out, &mut Err).map_err(|(path, source)| EngineError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(out)
}

/// [`files_below`], with a choice of what to do with unreadable entries.
pub(crate) fn walk(
    dir: &Path,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Walk,
    failed: OnUnreadable<'_>,
) -> Result<(), Unreadable> {
    let root = match dir.canonicalize() {
        Ok(root) => root,
        Err(e) => return failed((dir.to_path_buf(), e)),
    };
    walk_in(&root, dir, wanted, out, failed)
}

fn walk_in(
    root: &Path,
    dir: &Path,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Walk,
    failed: OnUnreadable<'_>,
) -> Result<(), Unreadable> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return failed((dir.to_path_buf(), e)),
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let file_type = match entry.file_type() {
            Ok(file_type) => file_type,
            Err(e) => {
                failed((path, e))?;
                continue;
            }
        };
        // Files are named by their paths as text: two names that are not
        // UTF-8 could read as one (`a\xfe` and `a\xff` are both `a�`), and
        // one would silently replace the other.
        if entry.file_name().to_str().is_none() && (file_type.is_dir() || wanted(&name)) {
            out.skipped.push(Skipped {
                path,
                why: "its name is not UTF-8, so it could be taken for another: rename it"
                    .to_string(),
            });
            continue;
        }
        if file_type.is_dir() {
            walk_in(root, &path, wanted, out, failed)?;
            continue;
        }
        let skip = |out: &mut Walk, why: &str| {
            out.skipped.push(Skipped {
                path: path.clone(),
                why: why.to_string(),
            });
        };
        if file_type.is_symlink() {
            match std::fs::metadata(&path) {
                // Not followed: it could lead back up the tree, or out of
                // it. Said, since the files under it (policies, manifests)
                // are not read.
                Ok(target) if target.is_dir() => skip(
                    out,
                    "a link to a folder is not followed; name the folder itself",
                ),
                Ok(_) if !wanted(&name) => {}
                Ok(target) if !target.is_file() => skip(
                    out,
                    "a link to a special file (a FIFO, a device or a socket)",
                ),
                Ok(_) => match path.canonicalize() {
                    Ok(real) if real.starts_with(root) => out.files.push(path),
                    Ok(real) => skip(
                        out,
                        &format!(
                            "a link to `{}`, outside the folder `{}`",
                            real.display(),
                            root.display()
                        ),
                    ),
                    Err(e) => skip(out, &format!("a link that cannot be followed: {e}")),
                },
                Err(_) if !wanted(&name) => {}
                Err(e) => skip(out, &format!("a link that cannot be followed: {e}")),
            }
        } else if !wanted(&name) {
        } else if file_type.is_file() {
            out.files.push(path);
        } else {
            skip(out, "not a regular file (a FIFO, a device or a socket)");
        }
    }
    Ok(())
}

/// Opens a regular file for reading as a stream: a FIFO, a device or a
/// socket is refused (`E0409`) without waiting on it.
pub fn open_regular_file(path: &Path) -> Result<std::fs::File, EngineError> {
    open_regular(path).map(|(file, _)| file)
}

/// Opens `path` for reading without waiting (a FIFO with no writer would
/// block the open itself) and refuses anything but a regular file.
fn open_regular(path: &Path) -> Result<(std::fs::File, u64), EngineError> {
    let io = |source| EngineError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(EngineError::NotAFile {
            path: path.display().to_string(),
        });
    }
    Ok((file, meta.len()))
}

/// A regular file's text, at most `max_bytes` long (`E0407` beyond; `E0409`
/// for a FIFO, a device or a socket), without a leading byte-order mark.
pub fn read_file_bounded(path: &Path, max_bytes: usize) -> Result<String, EngineError> {
    let opened = open_regular(path)?;
    read_opened(opened, path, max_bytes)
}

/// A regular file opened for reading, refused (`E0407`) when it is already
/// longer than `max_bytes`: for readers that stream it. A reader must
/// still stop at `max_bytes` (the file may grow while read).
pub(crate) fn open_bounded(path: &Path, max_bytes: usize) -> Result<std::fs::File, EngineError> {
    let (file, len) = open_regular(path)?;
    if len > max_bytes as u64 {
        return Err(too_large(path, len, max_bytes));
    }
    Ok(file)
}

/// `E0407`: `path` holds `size` bytes, more than `limit`.
fn too_large(path: &Path, size: u64, limit: usize) -> EngineError {
    EngineError::TooLarge {
        name: path.display().to_string(),
        size,
        limit,
    }
}

/// The text of `path`, a file inside `folder` ([`confined`]), at most
/// `max_bytes` long. The path is checked, then opened: a symbolic link
/// swapped in between would carry the open out of the folder, so where the
/// open landed is checked again (on Linux, from the descriptor itself).
pub fn read_confined(folder: &Path, path: &Path, max_bytes: usize) -> Result<String, EngineError> {
    let real = confined(folder, path)?;
    let opened = open_regular(&real)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let landed = std::fs::read_link(format!("/proc/self/fd/{}", opened.0.as_raw_fd()));
        let base = folder.canonicalize();
        if let (Ok(landed), Ok(base)) = (landed, base)
            && !landed.starts_with(&base)
        {
            return Err(EngineError::OutsideFolder {
                path: path.display().to_string(),
                folder: folder.display().to_string(),
                why: format!(
                    "it was replaced, while being opened, by a link to `{}`",
                    landed.display()
                ),
            });
        }
    }
    read_opened(opened, &real, max_bytes)
}

fn read_opened(
    (file, len): (std::fs::File, u64),
    path: &Path,
    max_bytes: usize,
) -> Result<String, EngineError> {
    let too_large = |size: u64| too_large(path, size, max_bytes);
    if len > max_bytes as u64 {
        return Err(too_large(len));
    }
    read_bounded(file, max_bytes).map_err(|e| match e {
        Bounded::TooLarge => too_large(max_bytes as u64 + 1),
        Bounded::Io(source) => EngineError::Io {
            path: path.display().to_string(),
            source,
        },
    })
}

/// Standard input's text, at most `max_bytes` long.
pub fn read_stdin_bounded(max_bytes: usize) -> Result<String, EngineError> {
    read_bounded(std::io::stdin().lock(), max_bytes).map_err(|e| match e {
        Bounded::TooLarge => EngineError::TooLarge {
            name: "<stdin>".into(),
            size: max_bytes as u64 + 1,
            limit: max_bytes,
        },
        Bounded::Io(source) => EngineError::Io {
            path: "<stdin>".into(),
            source,
        },
    })
}

enum Bounded {
    TooLarge,
    Io(std::io::Error),
}

/// Reads at most `max_bytes` (a file may grow while it is read).
fn read_bounded(reader: impl Read, max_bytes: usize) -> Result<String, Bounded> {
    let mut bytes = Vec::new();
    reader
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(Bounded::Io)?;
    if bytes.len() > max_bytes {
        return Err(Bounded::TooLarge);
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        Bounded::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// A policy file's text: a regular file of at most 16 MiB, without a leading
/// byte-order mark. (An error of the I/O kind, for callers that read
/// policy folders.)
pub fn read_text(path: &Path) -> std::io::Result<String> {
    read_file_bounded(path, crate::InputLimits::POLICY_FILE.max_bytes).map_err(|e| match e {
        EngineError::Io { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    })
}

/// `path` resolved inside `folder`: relative, no `..` past the folder, and,
/// once symbolic links are followed, still inside it (`E0410` otherwise).
/// What a policy's `fixture("…")` or a file it names may read.
pub fn confined(folder: &Path, path: &Path) -> Result<PathBuf, EngineError> {
    let outside = |why: &str| EngineError::OutsideFolder {
        path: path.display().to_string(),
        folder: folder.display().to_string(),
        why: why.to_string(),
    };
    if path.is_absolute() {
        return Err(outside("an absolute path"));
    }
    let mut depth: usize = 0;
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| outside("`..` leads above the folder"))?;
            }
            std::path::Component::Normal(_) => depth += 1,
            std::path::Component::CurDir => {}
            _ => return Err(outside("not a relative path")),
        }
    }
    let base = folder.canonicalize().map_err(|source| EngineError::Io {
        path: folder.display().to_string(),
        source,
    })?;
    let joined = folder.join(path);
    let real = joined.canonicalize().map_err(|source| EngineError::Io {
        path: joined.display().to_string(),
        source,
    })?;
    if !real.starts_with(&base) {
        return Err(outside(&format!(
            "it leads, through a symbolic link, to `{}`",
            real.display()
        )));
    }
    Ok(real)
}

/// Replaces `path` in one step: `write` fills a new file beside it (a fresh
/// name, created exclusively, so a link planted there is never written
/// through), which is flushed to disk and renamed over `path`. On any error
/// the new file is removed and `path` is as it was.
pub fn replace_file(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("`{}` names no file", path.display())))?;
    let partial = path.with_file_name(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        ulid::Ulid::new()
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)?;
    let done = write(&mut file)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&partial, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    done
}
