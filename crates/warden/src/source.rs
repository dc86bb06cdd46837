//! Reading the policy files of a folder (or several) as one set.

use crate::EngineError;
use crate::files::{OnUnreadable, Skipped, Unreadable, Walk, read_text, walk};
use std::path::{Path, PathBuf};

/// The policy files of a set as read, each keyed by its path relative to
/// the policy folder; a [`crate::Workspace`] compiles them.
#[derive(Clone, Debug, Default)]
pub struct PolicySources {
    /// `(path, text)` of every policy file, sorted by path.
    pub files: Vec<(String, String)>,
    /// The folder the paths are relative to: where fixtures and reports find
    /// the files on disk (empty for texts held in memory, and for sets
    /// composed of several folders, whose paths name their folders).
    pub root: PathBuf,
    /// The folders the set was read from: a policy's `fixture()` and the
    /// files it names stay inside the one that holds it.
    pub folders: Vec<PathBuf>,
    /// Files the walk left out (special files, links out of the folder).
    pub skipped: Vec<Skipped>,
}

impl PolicySources {
    /// Reads every `*.warden` file below `path` (or the one file `path`
    /// names), nothing else (the [`crate::Workspace`] reads the JSON files
    /// the policies name, once parsed). Symbolic links to folders are not followed (no cycles).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, EngineError> {
        // `a/`, `a//` and `a/.` are `a`: the folder's name prefixes its
        // files' paths, and fixtures are found by that prefix.
        let path: std::path::PathBuf = path.as_ref().components().collect();
        let path = path.as_path();
        let io = |p: &Path, source: std::io::Error| EngineError::Io {
            path: p.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
        let mut sources = PolicySources::default();
        let root = if meta.is_file() {
            let text = read_text(path).map_err(|e| io(path, e))?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            sources.files.push((name, text));
            // `policy.warden` has the parent `""`: the current folder.
            path.parent().unwrap_or(Path::new("")).to_path_buf()
        } else {
            collect(path, &mut sources, &mut Err).map_err(|(p, e)| io(&p, e))?;
            path.to_path_buf()
        };
        sources.files.sort();
        sources.folders = vec![root.clone()];
        sources.root = root;
        Ok(sources)
    }

    /// Like [`PolicySources::from_path`] on a folder, but a file or folder
    /// that cannot be read (no permission, not UTF-8) is left out and
    /// returned beside the rest, instead of failing the whole set: what an
    /// editor opening a workspace needs.
    pub fn from_folder_skipping_unreadable(dir: &Path) -> (Self, Vec<EngineError>) {
        let mut sources = PolicySources::default();
        let mut skipped = Vec::new();
        let _ = collect(dir, &mut sources, &mut |(path, source)| {
            skipped.push(EngineError::Io {
                path: path.display().to_string(),
                source,
            });
            Ok(())
        });
        sources.files.sort();
        sources.root = dir.to_path_buf();
        sources.folders = vec![dir.to_path_buf()];
        (sources, skipped)
    }

    /// One policy set from several folders or files: a team's own rules
    /// beside the checklist they import, each left where it is. A path that
    /// holds no policy file is an error, not an empty set: a mistyped folder
    /// must not pass unnoticed beside a good one.
    pub fn from_paths(paths: &[impl AsRef<Path>]) -> Result<Self, EngineError> {
        let mut sets = Vec::new();
        for path in paths {
            let set = Self::from_path(path)?;
            if set.files.is_empty() {
                return Err(EngineError::NoPolicies {
                    path: path.as_ref().display().to_string(),
                });
            }
            sets.push(set);
        }
        Ok(Self::combine(sets))
    }

    /// Sets read from several paths as one. With more than one, each file is
    /// named by its path from the working directory, so the folders cannot
    /// collide; the same file reached twice is one file.
    pub fn combine(mut sets: Vec<PolicySources>) -> Self {
        if sets.len() == 1 {
            return sets.remove(0);
        }
        let mut all = PolicySources::default();
        for one in sets {
            let prefixed = |key: String| {
                let joined = one.root.join(key).to_string_lossy().replace('\\', "/");
                joined
                    .strip_prefix("./")
                    .map(str::to_string)
                    .unwrap_or(joined)
            };
            for (key, text) in one.files {
                all.files.push((prefixed(key), text));
            }
            all.folders.extend(one.folders);
            all.skipped.extend(one.skipped);
        }
        all.files.sort();
        all.files.dedup();
        all
    }

    /// A policy set from texts in memory (tests, embedding).
    pub fn from_texts<P: Into<String>, T: Into<String>>(
        files: impl IntoIterator<Item = (P, T)>,
    ) -> Self {
        let mut files: Vec<(String, String)> = files
            .into_iter()
            .map(|(p, t)| (p.into(), t.into()))
            .collect();
        files.sort();
        PolicySources {
            files,
            ..PolicySources::default()
        }
    }
}

fn collect(
    dir: &Path,
    out: &mut PolicySources,
    failed: OnUnreadable<'_>,
) -> Result<(), Unreadable> {
    let mut found = Walk::default();
    walk(dir, &|name| name.ends_with(".warden"), &mut found, failed)?;
    out.skipped.extend(found.skipped);
    for path in found.files {
        let relative = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        match read_text(&path) {
            Ok(text) => out.files.push((relative, text)),
            Err(e) => failed((path, e))?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Workspace;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("warden-sources-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).expect("scratch folder");
        dir
    }

    #[test]
    fn an_unreadable_file_is_skipped_and_named_or_fails_the_strict_read() {
        let dir = scratch("unreadable");
        std::fs::write(dir.join("good.warden"), "package good\n").unwrap();
        std::fs::write(dir.join("sub/latin1.warden"), b"package caf\xe9\n").unwrap();
        let (sources, skipped) = PolicySources::from_folder_skipping_unreadable(&dir);
        let names: Vec<&str> = sources.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["good.warden"]);
        assert_eq!(skipped.len(), 1);
        assert!(
            skipped[0].to_string().contains("latin1.warden"),
            "{}",
            skipped[0]
        );
        assert!(PolicySources::from_path(&dir).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn reads_policies_and_only_the_schemas_they_name() {
        let dir = scratch("schemas");
        std::fs::write(
            dir.join("sub/p.warden"),
            "\u{feff}package p\ntype T = schema \"../t.schema.json\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("t.schema.json"), "{\"type\": \"string\"}").unwrap();
        std::fs::write(dir.join("input.json"), "{\"unrelated\": true}").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&dir, dir.join("sub/loop")).unwrap();
        let sources = PolicySources::from_path(&dir).expect("loads");
        assert_eq!(sources.files.len(), 1);
        assert!(
            sources.files[0].1.starts_with("package"),
            "the byte-order mark is dropped"
        );
        let workspace = Workspace::from_sources(sources);
        assert_eq!(
            workspace.named_files().collect::<Vec<_>>(),
            ["t.schema.json"]
        );
        let before = workspace.revision();
        std::fs::write(dir.join("input.json"), "{\"unrelated\": false}").unwrap();
        assert_eq!(
            Workspace::read(&[&dir]).unwrap().revision(),
            before,
            "unrelated files do not change the revision"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn several_paths_make_one_set_with_files_named_from_the_working_directory() {
        let dir = scratch("compose");
        std::fs::create_dir_all(dir.join("team")).unwrap();
        std::fs::write(
            dir.join("sub/p.warden"),
            "package base\ntype T = schema \"t.schema.json\"\ntarget manifest: T default allow\n",
        )
        .unwrap();
        std::fs::write(dir.join("sub/t.schema.json"), "{\"type\": \"object\"}").unwrap();
        // The same relative name in the other folder must not collide.
        std::fs::write(
            dir.join("team/p.warden"),
            "package team\nimport base\n@control(\"T-1\")\nrule r on manifest as m {\n  deny when false\n}\n",
        )
        .unwrap();
        let sources =
            PolicySources::from_paths(&[dir.join("sub"), dir.join("team"), dir.join("team")])
                .expect("loads");
        let names: Vec<&str> = sources.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names.len(),
            2,
            "a folder given twice is read once: {names:?}"
        );
        assert!(names[0].ends_with("/sub/p.warden") && names[1].ends_with("/team/p.warden"));
        assert_eq!(sources.root, std::path::PathBuf::new());
        let workspace = Workspace::from_sources(sources);
        let diagnostics = workspace.diagnostics();
        assert!(
            !diagnostics
                .iter()
                .any(warden_diagnostics::Diagnostic::is_error),
            "the schema is found and the import resolves: {diagnostics:?}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_data_default_can_live_in_a_json_file_of_the_policy_set() {
        let dir = scratch("data-file");
        std::fs::write(
            dir.join("sub/p.warden"),
            "package p\ntarget manifest: { region: string } default allow\ndata regions: [string] = file(\"../regions.json\")\n@control(\"D-1\")\nrule r on manifest as m {\n  deny when not (m.region in data.regions)\n}\n",
        )
        .unwrap();
        std::fs::write(dir.join("regions.json"), "[\"eu\"]").unwrap();
        let workspace = Workspace::read(&[&dir]).expect("loads");
        assert_eq!(
            workspace.named_files().collect::<Vec<_>>(),
            ["regions.json"]
        );
        let before = workspace.revision();
        let engine = workspace.engine().expect("compiles");
        let decide = |engine: &crate::Engine, region: &str| {
            engine
                .decide(
                    "manifest",
                    &serde_json::json!({ "region": region }),
                    std::time::SystemTime::now(),
                )
                .unwrap()
                .decision
        };
        assert_eq!(decide(&engine, "eu"), crate::Verdict::Allow);
        assert_eq!(decide(&engine, "us"), crate::Verdict::Deny);
        std::fs::write(dir.join("regions.json"), "[\"eu\", \"us\"]").unwrap();
        let workspace = Workspace::read(&[&dir]).unwrap();
        assert_ne!(
            workspace.revision(),
            before,
            "the data file is part of the revision"
        );
        assert_eq!(
            decide(&workspace.engine().unwrap(), "us"),
            crate::Verdict::Allow
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
