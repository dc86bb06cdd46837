//! `docs/editor.md` cannot drift: the settings, commands and snippets it
//! lists are the extension's, the server commands it names are the server's,
//! the Helix configuration parses, and the Neovim configuration, run as
//! written in headless Neovim (when `.ci/run` installed it), attaches the
//! server and shows a diagnostic.

mod common;

use common::{installed_client, root, run_nvim, scratch};
use regex::Regex;
use std::collections::BTreeSet;

fn doc() -> String {
    std::fs::read_to_string(root().join("docs/editor.md")).unwrap()
}

fn block(doc: &str, language: &str) -> String {
    let fence = Regex::new(&format!(r"(?s)```{language}\n(.*?)```")).unwrap();
    fence.captures(doc).expect(language)[1].to_string()
}

fn manifest() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("editors/vscode/package.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn settings_commands_and_snippets_are_the_extensions() {
    let doc = doc();
    let manifest = manifest();
    let contributes = &manifest["contributes"];

    let documented: BTreeSet<String> = Regex::new(r"(?m)^\| `(warden\.\w+)` \|")
        .unwrap()
        .captures_iter(&doc)
        .map(|c| c[1].to_string())
        .collect();
    let settings: BTreeSet<String> = contributes["configuration"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(documented, settings);

    for command in contributes["commands"].as_array().unwrap() {
        let title = command["title"].as_str().unwrap();
        assert!(
            doc.contains(&format!("**{title}**")),
            "{title} is not documented"
        );
    }

    let snippets: String =
        std::fs::read_to_string(root().join("editors/vscode/snippets/warden.json")).unwrap();
    let snippets: serde_json::Value = serde_json::from_str(&snippets).unwrap();
    let prefixes: Vec<String> = snippets
        .as_object()
        .unwrap()
        .values()
        .map(|s| format!("`{}`", s["prefix"].as_str().unwrap()))
        .collect();
    assert!(
        doc.contains(&format!("snippets ({})", prefixes.join(", "))),
        "{prefixes:?}"
    );

    let server =
        std::fs::read_to_string(root().join("crates/warden-lsp/src/commands/mod.rs")).unwrap();
    for command in ["warden.lsp.runTest", "warden.lsp.evaluate"] {
        assert!(doc.contains(&format!("`{command}`")));
        assert!(server.contains(&format!("\"{command}\"")), "{command}");
    }

    let helix: toml::Table = toml::from_str(&block(&doc, "toml")).unwrap();
    assert_eq!(
        helix["language-server"]["warden"]["args"][0].as_str(),
        Some("lsp")
    );
}

#[test]
fn the_documented_neovim_configuration_attaches_the_server() {
    let Some(nvim) = installed_client("nvim") else {
        return;
    };
    let dir = scratch("editor-docs-nvim");
    let workspace = dir.join("policies");
    std::fs::create_dir_all(workspace.join(".git")).unwrap();
    std::fs::write(
        workspace.join("a.warden"),
        "package a\ntarget manifest: { name: string } default allow\n@control(\"A-1\")\nrule r on manifest as m {\n  deny when m.nme == \"x\"\n}\n",
    )
    .unwrap();
    let report = dir.join("report.txt");
    // The documented filetype line, the file opened, then the documented
    // ftplugin block as written.
    let script = format!(
        "vim.filetype.add({{ extension = {{ warden = \"warden\" }} }})\n\
         vim.cmd(\"edit {}\")\n\
         {}\n\
         local ok = vim.wait(15000, function() return #vim.diagnostic.get(0) > 0 end, 10)\n\
         local d = vim.diagnostic.get(0)[1]\n\
         vim.fn.writefile({{ vim.bo.filetype, ok and d.code or \"none\" }}, \"{}\")\n\
         vim.cmd(\"qall!\")\n",
        workspace.join("a.warden").display(),
        block(&doc(), "lua"),
        report.display()
    );
    let script_path = dir.join("init.lua");
    std::fs::write(&script_path, script).unwrap();
    let out = run_nvim(&nvim, &script_path, &workspace, &[]);
    let seen = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "no report ({:?}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(seen, "warden\nE0102\n");
}
