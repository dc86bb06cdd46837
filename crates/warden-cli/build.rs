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
        let code = path.file_stem().unwrap().to_string_lossy().into_owned();
        let _ = writeln!(
            out,
            "    ({code:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("explanations.rs");
    std::fs::write(target, out).expect("write explanations.rs");
}
