//! The differential test over the corpus: the reference grammar
//! (`grammar/warden.pest`) accepts every corpus file exactly when the
//! production parser reports no syntax diagnostic. `tests/properties.rs`
//! does the same over generated and mutated programs.

mod common;

use datatest_stable::Utf8Path;

fn agree(path: &Utf8Path, text: String) -> datatest_stable::Result<()> {
    let pest = common::pest_accepts(&text);
    let production = common::production_accepts(&text);
    if pest != production {
        let detail = match common::Reference::parse_file(&text) {
            Err(e) => format!("pest: {e}"),
            Ok(()) => format!("production: {:?}", warden_syntax::parse(warden_diagnostics::FileId(0), &text).diagnostics()),
        };
        return Err(format!("{path}: pest accepts = {pest}, production accepts = {production}\n{detail}").into());
    }
    Ok(())
}

datatest_stable::harness! {
    { test = agree, root = "../../tests", pattern = r"\.warden$" },
}
