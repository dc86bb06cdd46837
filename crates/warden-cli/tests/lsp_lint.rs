//! The editor shows exactly what `warden lint` prints: the same codes at
//! the same places, for errors and for the hygiene lints.

mod common;

use common::{scratch, stdout, warden};
use serde_json::Value as Json;
use std::collections::BTreeSet;

#[test]
fn editor_diagnostics_are_the_lint_diagnostics() {
    let dir = scratch("lsp-lint");
    let files = [
        (
            "schema.warden",
            "package s\ntype M = { name: string, owner?: string, ... }\ntarget manifest: M default allow\n",
        ),
        (
            "rules.warden",
            "package r\nimport s\n\nrule no_control on manifest as app {\n  let unused = 1\n  deny when app.nmae == \"x\"\n}\n\n@control(\"X-1\")\nrule untested on manifest as app {\n  deny when app.owner == none\n}\n",
        ),
    ];
    let mut host = warden_ide::AnalysisHost::default();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
        host.set_file(name, text);
    }
    // With a type error, then without: the hygiene lints appear once it compiles.
    let seen = compare(&dir, &host);
    assert!(seen.iter().any(|d| d.1 == "E0102"), "{seen:?}");
    let fixed = files[1].1.replace("app.nmae", "app.name");
    std::fs::write(dir.join("rules.warden"), &fixed).unwrap();
    host.set_file("rules.warden", &fixed);
    let seen = compare(&dir, &host);
    for code in ["W0001", "W0002", "W0005"] {
        assert!(seen.iter().any(|d| d.1 == code), "no {code} in {seen:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

type Seen = BTreeSet<(String, String, u64, u64)>;

/// What `warden lint` prints and what the editor shows, asserted equal.
fn compare(dir: &std::path::Path, host: &warden_ide::AnalysisHost) -> Seen {
    let out = warden(&["lint", "--format", "json", dir.to_str().unwrap()]);
    let printed: Json = serde_json::from_str(&stdout(&out)).unwrap();
    let from_lint: Seen = printed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let file = d["file"].as_str().unwrap();
            let name = std::path::Path::new(file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                name,
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut from_editor = Seen::new();
    for (file, found) in host.diagnostics() {
        let (index, text) = host.line_index(&file).unwrap();
        for f in found {
            let at = index.line_col(&text, f.range.start as usize);
            from_editor.insert((
                file.clone(),
                f.diagnostic.code.to_string(),
                u64::from(at.line),
                u64::from(at.column),
            ));
        }
    }
    assert_eq!(from_editor, from_lint);
    from_lint
}
