//! Embeds `docs/codes/*.md`, the explanation of every diagnostic code, for
//! `warden explain`, and `stdlib-policies/`, the checklist, which `warden`
//! uses when no `--policy` is given and no `./policies` exists.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/codes");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("docs/codes exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    entries.sort();
    let mut out = String::from(
        "/// `(code, markdown)` for every file in `docs/codes`.\npub const EXPLANATIONS: &[(&str, &str)] = &[\n",
    );
    for path in entries {
        println!("cargo::rerun-if-changed={}", path.display());
        let code = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("a code's explanation is text");
        let _ = writeln!(out, "    ({code:?}, {:?}),", for_readers(&text));
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("explanations.rs");
    std::fs::write(target, out).expect("write explanations.rs");
    embed_checklist();
}

/// `(path inside stdlib-policies, text)` of every file of the checklist.
fn embed_checklist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-policies");
    let mut files = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        println!("cargo::rerun-if-changed={}", folder.display());
        for entry in std::fs::read_dir(&folder).expect("stdlib-policies is readable") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                println!("cargo::rerun-if-changed={}", path.display());
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = String::from(
        "/// `(path, text)` of every file of `stdlib-policies/`, the checklist.\npub const CHECKLIST: &[(&str, &str)] = &[\n",
    );
    for path in files {
        let inside = path.strip_prefix(&root).expect("below the root");
        let inside = inside.to_string_lossy().replace('\\', "/");
        let _ = writeln!(
            out,
            "    ({inside:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("checklist.rs");
    std::fs::write(target, out).expect("write checklist.rs");
}

/// The explanation as its readers get it: a code block's fence keeps its
/// language and drops what only the docs test reads (` ```warden set=bad
/// expect=E0204` becomes ` ```warden`).
fn for_readers(markdown: &str) -> String {
    markdown
        .lines()
        .map(|line| match line.strip_prefix("```") {
            Some(info) => format!("```{}", info.split_whitespace().next().unwrap_or("")),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
