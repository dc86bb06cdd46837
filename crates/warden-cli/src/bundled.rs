//! The checklist built into the binary (`stdlib-policies/`, embedded by
//! `build.rs`): what `warden` decides with when no `--policy` is given and
//! no `./policies` folder exists, from any folder, with no checkout.
//!
//! The compiler reads policy sets from folders (a set's JSON files and its
//! tests' fixtures are found beside its policies), so the checklist is
//! written out once into the user's cache folder and read from there. A
//! copy is used only when it holds exactly the embedded files, nothing
//! more and nothing changed: an edited or added file there would otherwise
//! change what is enforced.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/checklist.rs"));

/// The GitHub Actions workflow `docs/ci.md` documents (and its test runs).
const CI_DOC: &str = include_str!("../../../docs/ci.md");

/// Writes a starter policy repository into `dir`: the checklist as
/// `policies/` (the team's own from now on), an example manifest as
/// `apps/example.yaml`, and the workflow of `docs/ci.md` as
/// `.github/workflows/warden.yml`. Refuses to write over anything. The
/// number of files written comes back.
pub fn init(dir: &Path) -> Result<usize, String> {
    let workflow = CI_DOC
        .split("```yaml workflow\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .ok_or("the documented workflow is missing from this build")?;
    let example = CHECKLIST
        .iter()
        .find(|(inside, _)| *inside == "examples/manifests/compliant.yaml")
        .map(|(_, text)| *text)
        .ok_or("the example manifest is missing from this build")?;
    let mut files: Vec<(PathBuf, &str)> = CHECKLIST
        .iter()
        .map(|(inside, text)| (Path::new("policies").join(inside), *text))
        .collect();
    let example = moved_to_today(example);
    files.push((PathBuf::from("apps/example.yaml"), &example));
    let workflow = format!("{workflow}\n");
    files.push((PathBuf::from(".github/workflows/warden.yml"), &workflow));
    for top in ["policies", "apps", ".github/workflows/warden.yml"] {
        if dir.join(top).exists() {
            return Err(format!(
                "`{}` exists already; `warden init` writes over nothing",
                dir.join(top).display()
            ));
        }
    }
    for (inside, text) in &files {
        let path = dir.join(inside);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(files.len())
}

/// The example manifest meets every control on the day it names
/// (`checked at 2026-05-20`); a starter repository checks it at the real
/// clock, so every time in it moves by the whole days between that day and
/// today (a registration, a review and a scan as recent as they were).
fn moved_to_today(example: &str) -> String {
    const CHECKED_AT: &str = "2026-05-20";
    const DAY: i64 = 86_400_000_000;
    let (Some(then), Ok(now)) = (
        warden_ir::parse_time(CHECKED_AT),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH),
    ) else {
        return example.to_string();
    };
    let now = i64::try_from(now.as_micros()).unwrap_or(i64::MAX);
    let shift = (now - then).div_euclid(DAY) * DAY;
    let today = warden_ir::format_time(then + shift);
    let mut out = example.replacen(
        &format!("checked at {CHECKED_AT}"),
        &format!("checked at {}", &today[..10]),
        1,
    );
    // Each `YYYY-MM-DDTHH:MM:SSZ`, moved.
    let mut at = 0;
    while let Some(found) = out[at..].find("T").map(|i| at + i) {
        at = found + 1;
        let Some(start) = found.checked_sub(10) else {
            continue;
        };
        let Some(stamp) = out.get(start..found + 10).filter(|s| s.ends_with('Z')) else {
            continue;
        };
        if let Some(micros) = warden_ir::parse_time(stamp) {
            let moved = warden_ir::format_time(micros + shift);
            out.replace_range(start..found + 10, &moved);
            at = start + moved.len();
        }
    }
    out
}

/// The folder holding the embedded checklist, written out if needed.
pub fn folder() -> Result<PathBuf, String> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    CHECKLIST.hash(&mut hasher);
    let name = format!("stdlib-policies-{:016x}", hasher.finish());
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    let Some(cache) = cache else {
        // No folder of the user's own: a fresh one nobody else can have
        // prepared, used once.
        let fresh = std::env::temp_dir().join(format!(
            "warden-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        write_out(&fresh)?;
        return Ok(fresh);
    };
    let dir = cache
        .join("warden")
        .join(env!("CARGO_PKG_VERSION"))
        .join(name);
    if holds_exactly(&dir) {
        return Ok(dir);
    }
    // Written beside, then moved in place: another `warden` started at the
    // same moment sees the whole copy or none.
    let fresh = dir.with_extension(format!("new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    write_out(&fresh)?;
    if std::fs::rename(&fresh, &dir).is_ok() {
        return Ok(dir);
    }
    // Another `warden` may just have put a good copy there: keep it. An
    // altered one is replaced.
    if holds_exactly(&dir) {
        let _ = std::fs::remove_dir_all(&fresh);
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&fresh, &dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&fresh);
        format!(
            "cannot write the built-in checklist into `{}`: {e}",
            dir.display()
        )
    })?;
    Ok(dir)
}

fn write_out(dir: &Path) -> Result<(), String> {
    let failed = |e: std::io::Error| {
        format!(
            "cannot write the built-in checklist into `{}`: {e}",
            dir.display()
        )
    };
    for (inside, text) in CHECKLIST {
        let path = dir.join(inside);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        std::fs::write(&path, text).map_err(failed)?;
    }
    Ok(())
}

/// Whether `dir` holds the embedded files, each unchanged, and nothing else
/// the policy loader would read (no other file, no link out of the folder,
/// no special file).
fn holds_exactly(dir: &Path) -> bool {
    // The walk the policy loader makes: what it would read is what counts.
    let Ok(walk) = warden::files_below(dir, &|_| true) else {
        return false;
    };
    if !walk.skipped.is_empty() || walk.files.len() != CHECKLIST.len() {
        return false;
    }
    let found: BTreeMap<String, &PathBuf> = walk
        .files
        .iter()
        .filter_map(|path| {
            let inside = path.strip_prefix(dir).ok()?;
            Some((inside.to_string_lossy().replace('\\', "/"), path))
        })
        .collect();
    // A file is read only when it has the embedded one's size: a copy
    // grown huge costs a look at its length, not a read.
    CHECKLIST.iter().all(|(inside, text)| {
        found.get(*inside).is_some_and(|path| {
            std::fs::metadata(path).is_ok_and(|m| m.len() == text.len() as u64)
                && std::fs::read_to_string(path).is_ok_and(|t| t == *text)
        })
    })
}
