//! The check corpus: each `tests/check/**/*.warden` file marks the
//! diagnostics it must produce with caret lines under the offending text:
//!
//! ```text
//!   deny when app.nmae == "x"
//! //              ^^^^ E0102
//! ```
//!
//! The caret line is a comment, so the file still parses; its carets cover
//! the exact byte columns of the line above (a single `^` marks an empty
//! span). The set of (code, span) pairs must match exactly: no missing and
//! no extra diagnostics. A file whose name ends in `_ok.warden` expects none.

use datatest_stable::Utf8Path;
use std::sync::Arc;

fn check(path: &Utf8Path, text: String) -> datatest_stable::Result<()> {
    let expected = annotations(&text)?;
    let db = warden_db::Database::default();
    let file = db.add_file(path.file_name().unwrap_or("case.warden"), text.as_str());
    // JSON files beside the case are its schema files.
    let mut schemas = std::collections::BTreeMap::new();
    if let Some(dir) = path.parent() {
        for entry in std::fs::read_dir(dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                schemas.insert(name, Ok(std::fs::read_to_string(entry.path())?));
            }
        }
    }
    let set = warden_db::PolicySet::new(&db, vec![file], Arc::new(schemas), false);
    let compiled = warden_db::compile(&db, set);
    let actual: Vec<(String, usize, usize)> = compiled
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.code.to_string(),
                d.primary.span.range.start as usize,
                d.primary.span.range.end as usize,
            )
        })
        .collect();
    // A single caret stands for an empty or one-character span.
    let matches = |e: &Expected, a: &(String, usize, usize)| {
        e.0 == a.0 && e.1 == a.1 && e.2.map_or(a.2 - a.1 <= 1, |end| end == a.2)
    };
    let missing: Vec<&Expected> = expected
        .iter()
        .filter(|e| !actual.iter().any(|a| matches(e, a)))
        .collect();
    let extra: Vec<&(String, usize, usize)> = actual
        .iter()
        .filter(|a| !expected.iter().any(|e| matches(e, a)))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        let at = |s: usize, e: usize| format!("{s}..{e} {:?}", &text[s..e.min(text.len())]);
        let missing: String = missing
            .iter()
            .map(|(c, s, e)| format!("  {c} {}\n", at(*s, e.unwrap_or(*s + 1))))
            .collect();
        let extra: String = extra
            .iter()
            .map(|(c, s, e)| format!("  {c} {}\n", at(*s, *e)))
            .collect();
        let messages: String = compiled
            .diagnostics
            .iter()
            .map(|d| format!("  {} {}\n", d.code, d.message))
            .collect();
        return Err(format!("{path}:\nexpected but missing:\n{missing}reported but not expected:\n{extra}all messages:\n{messages}").into());
    }
    Ok(())
}

/// A code and a span; `None` for the end means "empty or one character".
type Expected = (String, usize, Option<usize>);

/// The expectations of every caret line.
fn annotations(text: &str) -> Result<Vec<Expected>, String> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut target: Option<(usize, &str)> = None; // start offset and text of the line being annotated
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let is_annotation = body.trim_start().starts_with("//") && body.contains('^') && {
            let after = body.trim_start().trim_start_matches('/');
            after.trim_start().starts_with('^')
        };
        if is_annotation {
            let (line_start, annotated) =
                target.ok_or("a caret line must follow a line of code")?;
            let first = body.find('^').expect("has a caret");
            let count = body[first..].chars().take_while(|c| *c == '^').count();
            let code = body[first + count..]
                .split_whitespace()
                .next()
                .ok_or("a caret line names a code")?;
            if first > annotated.len() {
                return Err(format!(
                    "carets at column {first} run past the annotated line"
                ));
            }
            let start = line_start + first;
            out.push((
                code.to_string(),
                start,
                (count > 1).then_some(start + count),
            ));
        } else {
            target = Some((offset, body));
        }
        offset += line.len();
    }
    Ok(out)
}

datatest_stable::harness! {
    { test = check, root = "../../tests/check", pattern = r"\.warden$" },
}
