//! Every example in `docs/*.md` is a test.
//!
//! Fenced blocks are read by their info string:
//! - ```` ```warden set=NAME file=F.warden ```` — a policy file of the example set NAME
//!   (default `main`); all files of a set compile together, with no errors.
//! - ```` ```warden set=NAME expect=E0203 ```` — a set that must fail with exactly these codes
//!   (comma-separated); warnings (`W…`), lints included, count when listed.
//! - ```` ```json data set=NAME ```` — data merged into the set's engine.
//! - ```` ```json input set=NAME target=T now=RFC3339 timeout_ms=N ```` — an input to decide
//!   (with a deadline, when given), followed by
//! - ```` ```json decision ```` — the expected decision: every key given must match
//!   (arrays element by element, same length); keys left out are not checked.
//!   `{"error": "E0401"}` instead expects the decision to be refused with that code.
//! - ```` ```warden-expr ```` — an expression that must parse cleanly.
//!
//! Blocks in other languages, or marked `ignore`, are prose.

use datatest_stable::Utf8Path;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::time::SystemTime;
use warden::{Engine, PolicySources, Workspace};

struct Block {
    lang: String,
    attrs: BTreeMap<String, String>,
    flags: Vec<String>,
    body: String,
    line: usize,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut words = info.split_whitespace();
        let lang = words.next().unwrap_or_default().to_string();
        let mut attrs = BTreeMap::new();
        let mut flags = Vec::new();
        for w in words {
            match w.split_once('=') {
                Some((k, v)) => {
                    attrs.insert(k.to_string(), v.to_string());
                }
                None => flags.push(w.to_string()),
            }
        }
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        out.push(Block {
            lang,
            attrs,
            flags,
            body,
            line: n + 1,
        });
    }
    out
}

/// Whether `actual` has everything `expected` names.
fn matches(expected: &Json, actual: &Json) -> bool {
    match (expected, actual) {
        (Json::Object(e), Json::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        (Json::Array(e), Json::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
        }
        _ => expected == actual,
    }
}

fn run_doc(path: &Utf8Path, text: String) -> datatest_stable::Result<()> {
    let blocks = blocks(&text);
    let mut sets: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut expected_errors: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for b in blocks
        .iter()
        .filter(|b| b.lang == "warden" && !b.flags.iter().any(|f| f == "ignore"))
    {
        let set = b.attrs.get("set").cloned().unwrap_or_else(|| "main".into());
        let files = sets.entry(set.clone()).or_default();
        let file = b
            .attrs
            .get("file")
            .cloned()
            .unwrap_or_else(|| format!("example-{}.warden", b.line));
        files.push((file, b.body.clone()));
        if let Some(codes) = b.attrs.get("expect") {
            expected_errors.insert(
                set,
                (b.line, codes.split(',').map(str::to_string).collect()),
            );
        }
    }
    let mut engines: BTreeMap<String, Engine> = BTreeMap::new();
    for (set, files) in &sets {
        let workspace = Workspace::from_sources(PolicySources::from_texts(files.clone()));
        let diagnostics = workspace.lint();
        match expected_errors.get(set) {
            Some((line, codes)) => {
                // Errors must match exactly; a warning counts only when listed.
                let mut got: Vec<String> = diagnostics
                    .iter()
                    .filter(|d| d.is_error() || codes.contains(&d.code.to_string()))
                    .map(|d| d.code.to_string())
                    .collect();
                got.sort();
                got.dedup();
                let mut want = codes.clone();
                want.sort();
                if got != want {
                    return Err(format!("{path}:{line}: set `{set}` should report {want:?}, reports {got:?}: {diagnostics:#?}").into());
                }
            }
            None => {
                if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
                    return Err(format!("{path}: example set `{set}` does not compile: {} {} at {:?}\n{diagnostics:#?}", d.code, d.message, d.primary.span).into());
                }
                engines.insert(set.clone(), workspace.engine()?);
            }
        }
    }
    let mut pending_input: Option<(&Block, Json)> = None;
    for b in &blocks {
        match (b.lang.as_str(), b.flags.first().map(String::as_str)) {
            ("json", Some("data")) => {
                let set = b.attrs.get("set").map_or("main", String::as_str);
                let engine = engines
                    .remove(set)
                    .ok_or_else(|| format!("{path}:{}: no example set `{set}`", b.line))?;
                let data: Json =
                    serde_json::from_str(&b.body).map_err(|e| format!("{path}:{}: {e}", b.line))?;
                engines.insert(
                    set.to_string(),
                    engine
                        .with_data(&data)
                        .map_err(|e| format!("{path}:{}: {e}", b.line))?,
                );
            }
            ("json", Some("input")) => {
                let input: Json =
                    serde_json::from_str(&b.body).map_err(|e| format!("{path}:{}: {e}", b.line))?;
                pending_input = Some((b, input));
            }
            ("json", Some("decision")) => {
                let (input_block, input) = pending_input.take().ok_or_else(|| {
                    format!(
                        "{path}:{}: a decision block needs an input block before it",
                        b.line
                    )
                })?;
                let set = input_block.attrs.get("set").map_or("main", String::as_str);
                let engine = engines
                    .get(set)
                    .ok_or_else(|| format!("{path}:{}: no example set `{set}`", b.line))?;
                let target = input_block
                    .attrs
                    .get("target")
                    .map_or("request", String::as_str);
                let now: SystemTime = match input_block.attrs.get("now") {
                    Some(t) => t.parse::<jiff::Timestamp>()?.into(),
                    None => SystemTime::now(),
                };
                let expected: Json =
                    serde_json::from_str(&b.body).map_err(|e| format!("{path}:{}: {e}", b.line))?;
                // `timeout_ms=N` decides with that deadline (E0505 past it).
                let options = warden::DecideOptions {
                    timeout: input_block
                        .attrs
                        .get("timeout_ms")
                        .map(|ms| ms.parse().map(std::time::Duration::from_millis))
                        .transpose()?,
                    ..warden::DecideOptions::default()
                };
                let actual = match engine.decide_with(target, &input, now, &options) {
                    Ok(decision) => serde_json::to_value(&decision)?,
                    // `{"error": "E0401"}` expects the decision to be refused with that code.
                    Err(e) if expected.get("error").is_some() => {
                        serde_json::json!({"error": e.code().to_string(), "message": e.to_string()})
                    }
                    Err(e) => return Err(format!("{path}:{}: {e}", input_block.line).into()),
                };
                if !matches(&expected, &actual) {
                    return Err(format!("{path}:{}: the decision differs\nexpected (subset): {expected:#}\nactual: {actual:#}", b.line).into());
                }
            }
            ("warden-expr", _) => {
                let (_, diagnostics) =
                    warden_syntax::parse_expr(warden_diagnostics::FileId(0), b.body.trim());
                if !diagnostics.is_empty() {
                    return Err(format!(
                        "{path}:{}: expression does not parse: {diagnostics:?}",
                        b.line
                    )
                    .into());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

datatest_stable::harness! {
    { test = run_doc, root = "../../docs", pattern = r"\.md$" },
}
