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
            Ok(()) => format!(
                "production: {:?}",
                warden_syntax::parse(warden_diagnostics::FileId(0), &text).diagnostics()
            ),
        };
        return Err(format!(
            "{path}: pest accepts = {pest}, production accepts = {production}\n{detail}"
        )
        .into());
    }
    Ok(())
}

/// The Warden examples of a documentation page: fenced `warden` blocks are
/// files, `warden-expr` blocks expressions.
fn agree_on_docs(path: &Utf8Path, text: String) -> datatest_stable::Result<()> {
    let mut in_block: Option<(bool, usize)> = None;
    let mut body = String::new();
    for (n, line) in text.lines().enumerate() {
        if let Some((is_expr, start)) = in_block {
            if line.starts_with("```") {
                let (pest, production) = if is_expr {
                    (
                        common::pest_accepts_expr(body.trim()),
                        common::production_accepts_expr(body.trim()),
                    )
                } else {
                    (
                        common::pest_accepts(&body),
                        common::production_accepts(&body),
                    )
                };
                if pest != production {
                    return Err(format!(
                        "{path}:{start}: pest accepts = {pest}, production accepts = {production}"
                    )
                    .into());
                }
                in_block = None;
                body.clear();
            } else {
                body.push_str(line);
                body.push('\n');
            }
        } else if let Some(info) = line.strip_prefix("```") {
            let mut words = info.split_whitespace();
            match words.next() {
                Some("warden") if !info.contains("ignore") => in_block = Some((false, n + 1)),
                Some("warden-expr") => in_block = Some((true, n + 1)),
                Some(_) => in_block = None,
                None => {}
            }
            if in_block.is_none() {
                // Skip to the end of a block in another language.
                continue;
            }
        }
    }
    Ok(())
}

datatest_stable::harness! {
    { test = agree, root = "../../tests", pattern = r"\.warden$" },
    { test = agree_on_docs, root = "../../docs", pattern = r"\.md$" },
}
