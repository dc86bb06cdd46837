//! The VS Code extension in `editors/vscode`: its TextMate grammar passes the
//! scope assertions in `tests/grammar/` (vscode-tmgrammar-test), and
//! `npm run package` builds a `.vsix` (@vscode/vsce) that holds the bundled
//! client, the grammar, the snippets and the contributed commands. `.ci/run`
//! runs `npm ci`; without `node_modules` (outside CI) the test says so and
//! passes.

mod common;

use common::{root, scratch};
use std::path::Path;
use std::process::{Command, Output};

fn npm(dir: &Path, args: &[&str]) -> Output {
    Command::new("npm")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("npm runs")
}

fn assert_ok(what: &str, out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

#[test]
fn grammar_passes_and_vsix_builds() {
    let extension = root().join("editors/vscode");
    let present = extension.join("node_modules/.bin/vsce").exists();
    if !common::installed(present, "the extension's npm packages (npm ci)") {
        return;
    }

    let grammar = assert_ok(
        "npm run test:grammar",
        &npm(&extension, &["run", "test:grammar"]),
    );
    for sample in ["rule.warden", "declarations.warden"] {
        assert!(
            grammar.contains(&format!("{sample} run successfuly")),
            "{sample} was not checked:\n{grammar}"
        );
    }

    // Package into a scratch directory so parallel runs do not collide.
    let vsix = scratch("vscode-extension").join("warden.vsix");
    assert_ok("npm run compile", &npm(&extension, &["run", "compile"]));
    let vsce = extension.join("node_modules/.bin/vsce");
    let packaged = Command::new(&vsce)
        .args(["package", "--no-dependencies", "-o"])
        .arg(&vsix)
        .current_dir(&extension)
        .output()
        .expect("vsce runs");
    assert_ok("vsce package", &packaged);

    // A .vsix is a zip: list it and read the manifest with Python's zipfile.
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile, json\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             print('\\n'.join(z.namelist()))\n\
             m = json.loads(z.read('extension/package.json'))\n\
             print('COMMANDS', ' '.join(c['command'] for c in m['contributes']['commands']))\n\
             js = z.read('extension/out/extension.js').decode()\n\
             print('REQUIRES_CLIENT', 'require(\"vscode-languageclient' in js)",
        ])
        .arg(&vsix)
        .output()
        .expect("python3 runs");
    let listing = assert_ok("reading the .vsix", &listing);
    for entry in [
        "extension/package.json",
        "extension/out/extension.js",
        "extension/syntaxes/warden.tmLanguage.json",
        "extension/language-configuration.json",
        "extension/snippets/warden.json",
    ] {
        assert!(
            listing.contains(entry),
            "{entry} missing from the .vsix:\n{listing}"
        );
    }
    assert!(
        listing.contains("COMMANDS warden.runTests warden.checkManifest"),
        "{listing}"
    );
    // The client library is bundled in, not left as a runtime require that
    // `--no-dependencies` would break.
    assert!(listing.contains("REQUIRES_CLIENT False"), "{listing}");
    assert!(!listing.contains("node_modules/"), "{listing}");
}
