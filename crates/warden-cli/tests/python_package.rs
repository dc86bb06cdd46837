//! The Python package as a user gets it: `pip install bindings/python`
//! (maturin builds the PyO3 module from this checkout), then its pytest
//! suite (`bindings/python/tests`): the API, the decision corpus decided
//! through Python against the library's expectations, and the GIL released
//! while deciding. `.ci/run` installs maturin and pytest into
//! `.venv-clients/`; without them (outside CI) the test says so and passes.

mod common;

use common::root;
use std::process::Command;

#[test]
fn pip_installs_the_package_and_its_tests_pass() {
    let Some(python) = common::venv_python_with("maturin, pytest", "maturin and pytest") else {
        return;
    };
    // The build tools come from the venv (no build isolation): nothing is
    // fetched but what Cargo.lock pins.
    // maturin runs as a program: the venv's `bin` goes first on the PATH.
    let path = format!(
        "{}:{}",
        root().join(".venv-clients/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let install = Command::new(&python)
        .env("PATH", &path)
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--no-build-isolation",
            "--no-deps",
            "--force-reinstall",
        ])
        .arg(root().join("bindings/python"))
        .output()
        .expect("pip runs");
    assert!(
        install.status.success(),
        "pip install bindings/python:\n{}\n{}",
        String::from_utf8_lossy(&install.stdout),
        String::from_utf8_lossy(&install.stderr)
    );
    let out = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root().join("bindings/python/tests"))
        .output()
        .expect("pytest runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed: usize = report
        .split_whitespace()
        .zip(report.split_whitespace().skip(1))
        .find(|(_, w)| w.trim_end_matches(',') == "passed")
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 100, "{report}");
    assert!(!report.contains("skipped"), "{report}");
}
