//! What the binary's end-to-end tests share: where the repository is,
//! running `warden` (directly or in a shell line) with a check that it never
//! panicked, scratch folders, and counting JUnit elements.

#![allow(dead_code, reason = "each test binary uses part of this module")]

pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root: commands run from here, as a user's would.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn no_panic(what: &str, output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{what} panicked: {stderr}");
}

/// Runs `warden ARGS` in `dir`, colour off.
pub fn warden_in(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("warden runs");
    no_panic("warden", &output);
    output
}

/// Runs `warden ARGS` from the repository root.
pub fn warden(args: &[&str]) -> Output {
    warden_in(&root(), args)
}

/// `PATH` with this `warden` first.
pub fn path_with_warden() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_warden")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Whether something `.ci/run` installs is `present`. Outside CI a missing
/// one means the test says so and passes; in CI it fails the test.
pub fn installed(present: bool, what: &str) -> bool {
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs {what} (.ci/run); it is missing"
        );
        eprintln!("{what} is not installed: skipping (CI installs it)");
    }
    present
}

/// A tool `.ci/run` installs into `.venv-clients/bin/` (see [`installed`]).
pub fn installed_client(name: &str) -> Option<PathBuf> {
    let tool = root().join(".venv-clients/bin").join(name);
    installed(tool.exists(), name).then_some(tool)
}

/// Runs a Lua script in headless Neovim (at most 2 minutes), its state kept
/// in `dir`, `warden` first on the `PATH`.
pub fn run_nvim(nvim: &Path, script: &Path, dir: &Path, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new("timeout");
    command
        .arg("120")
        .arg(nvim)
        .args(["--clean", "--headless", "-l"])
        .arg(script)
        .current_dir(dir)
        .env("PATH", path_with_warden())
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_DATA_HOME", dir.join("data"));
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("nvim runs")
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs a shell command line in `dir` with this `warden` first on the `PATH`.
pub fn shell(dir: &Path, line: &str) -> Output {
    let output = Command::new("sh")
        .args(["-ec", line])
        .current_dir(dir)
        .env("PATH", path_with_warden())
        .env("NO_COLOR", "1")
        .output()
        .expect("sh runs");
    no_panic(line, &output);
    output
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh, empty folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How many elements of each name a well-formed XML document holds.
pub fn count_elements(xml: &str, names: &[&str]) -> Vec<usize> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut counts = vec![0; names.len()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => return counts,
            Event::Start(e) | Event::Empty(e) => {
                if let Some(i) = names.iter().position(|n| *n == e.name().as_ref()) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
}
