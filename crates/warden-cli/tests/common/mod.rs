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

/// The `warden` binary under test: this build's, or the one `WARDEN_BIN`
/// names (to run the same tests against another build, e.g. an older one).
pub fn warden_bin() -> PathBuf {
    std::env::var_os("WARDEN_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_warden")),
        PathBuf::from,
    )
}

/// Runs `warden ARGS` in `dir`, colour off.
pub fn warden_in(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(warden_bin())
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

/// The Python of `.venv-clients/` when it can import `modules` (comma
/// separated), which `.ci/run` installs (see [`installed`]).
#[allow(dead_code)]
pub fn venv_python_with(modules: &str, what: &str) -> Option<PathBuf> {
    let python = root().join(".venv-clients/bin/python");
    let has = python.exists()
        && Command::new(&python)
            .args(["-c", &format!("import {modules}")])
            .status()
            .is_ok_and(|s| s.success());
    installed(has, what).then_some(python)
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

/// How a measured run ended.
pub struct Measured {
    /// The exit code, or `None` when a signal ended it (a crash).
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The process's peak resident memory (`VmHWM`), in MiB.
    pub peak_mb: u64,
    pub elapsed: std::time::Duration,
}

/// Runs `command` to its end, or kills it (and what it started) once it has
/// run for `bound` (`Err` with what it printed). Its peak memory comes from
/// GNU time (`/usr/bin/time`, which `.ci/run` installs: it waits for the
/// command as its parent, so the figure is the command's alone), else from
/// sampling the kernel's high-water mark of the process's address space.
/// (`ru_maxrss` of a child of the test harness would count the harness's
/// own memory, which the child holds between `fork` and `exec`.)
pub fn run_measured(command: &mut Command, bound: std::time::Duration) -> Result<Measured, String> {
    use std::io::Read;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::Stdio;
    let gnu_time = Path::new("/usr/bin/time");
    let report = std::env::temp_dir().join(format!(
        "warden-measure-{}-{:?}.txt",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut wrapped;
    let command = if gnu_time.exists() {
        wrapped = Command::new(gnu_time);
        wrapped
            .args(["-f", "%M", "-o"])
            .arg(&report)
            .arg(command.get_program())
            .args(command.get_args());
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        &mut wrapped
    } else {
        command
    };
    let mut child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    let started = std::time::Instant::now();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > bound {
            // The whole group: GNU time and the command under it.
            // SAFETY: a signal to the process group this test started.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.wait();
            return Err(format!(
                "still running after its bound of {bound:?}; stopped\nstdout: {}\nstderr: {}",
                out.join().unwrap_or_default(),
                err.join().unwrap_or_default()
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let (mut code, mut signal) = (status.code(), status.signal());
    if let Ok(text) = std::fs::read_to_string(&report) {
        let _ = std::fs::remove_file(&report);
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("Command terminated by signal ") {
                signal = n.trim().parse().ok();
                code = None;
            } else if let Ok(kb) = line.trim().parse::<u64>() {
                peak_kb = peak_kb.max(kb);
            }
        }
    }
    Ok(Measured {
        code,
        signal,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        peak_mb: peak_kb / 1024,
        elapsed: started.elapsed(),
    })
}

/// Runs `git ARGS` in `dir` (as a CI user), which must succeed.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.email=ci@example.invalid", "-c", "user.name=ci"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a package's build script, then its tests under Node's test runner
/// in `dir`: the runner's report, after asserting both succeeded and that
/// at least `at_least` tests passed and none failed.
#[allow(dead_code)]
pub fn build_and_test_with_node(build: &Path, dir: &Path, at_least: usize) -> String {
    let built = Command::new("sh").arg(build).output().expect("sh runs");
    assert!(
        built.status.success(),
        "{}:\n{}",
        build.display(),
        String::from_utf8_lossy(&built.stderr)
    );
    let out = Command::new("node")
        .args(["--test", "test/"])
        .current_dir(dir)
        .output()
        .expect("node runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed: usize = report
        .lines()
        .find_map(|l| l.strip_prefix("# pass "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        passed >= at_least && report.contains("# fail 0"),
        "{report}"
    );
    report
}
