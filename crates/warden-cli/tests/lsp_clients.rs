//! `warden lsp` driven by a real LSP client over stdio: pytest-lsp
//! (`editors/tests/`), with the capabilities VS Code and Neovim send.
//! `.ci/run` installs it into `.venv-clients/`; without it (outside CI) the
//! test says so and passes.

mod common;

use common::root;
use std::process::Command;

#[test]
fn pytest_lsp_drives_the_language_server() {
    let Some(python) = common::venv_python_with("pytest_lsp", "pytest-lsp") else {
        return;
    };
    let out = Command::new(&python)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--timeout=60",
        ])
        .current_dir(root().join("editors/tests"))
        .env("WARDEN_BIN", env!("CARGO_BIN_EXE_warden"))
        .output()
        .expect("pytest runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("33 passed, 1 skipped"), "{report}");
}
