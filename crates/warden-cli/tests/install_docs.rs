//! Every `cargo install --path` the docs give keeps the versions
//! `Cargo.lock` pins (`--locked`): without it cargo resolves afresh, and a
//! newer release of a crate the build pins exactly (salsa's macros) breaks
//! it. A fresh-clone review found the plain command failing.

mod common;

#[test]
fn every_install_command_in_the_docs_is_locked() {
    let root = common::root();
    let mut files = vec![root.join("README.md")];
    for dir in ["docs", "docs/codes"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "md") {
                files.push(entry.path());
            }
        }
    }
    files.push(root.join("crates/warden-verify/src/lib.rs"));
    let mut seen = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("cargo install") && line.contains("--path") {
                seen += 1;
                assert!(
                    line.contains("--locked"),
                    "{}:{}: {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
    assert!(seen >= 4, "only {seen} install commands found");
}
