//! Embeds `docs/codes/*.md`, the explanation of every diagnostic code, for `warden explain`.

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
