//! `warden explain`: what a diagnostic code means (with a bad and a fixed
//! example), or what a rule enforces and where it is written.

use crate::Failure;
use std::fmt::Write as _;
use warden::{Code, Engine};

include!(concat!(env!("OUT_DIR"), "/explanations.rs"));

/// The explanation of a code such as `E0204` (any case).
pub fn code(text: &str) -> Option<&'static str> {
    let code = Code::parse(text)?;
    EXPLANATIONS
        .iter()
        .find(|(c, _)| *c == code.as_str())
        .map(|(_, md)| *md)
}

/// Whether the argument looks like a code rather than a rule name.
pub fn looks_like_code(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('E' | 'W' | 'e' | 'w'))
        && text.len() == 5
        && chars.all(|c| c.is_ascii_digit())
}

/// A rule by its full name, or by a unique suffix (`sso_required`, `identity.sso_required`).
pub fn rule(
    engine: &Engine,
    name: &str,
    policy: &str,
    root: &std::path::Path,
) -> Result<String, Failure> {
    let rules = engine.rules();
    let matches: Vec<_> = rules
        .iter()
        .filter(|r| r.name == name || r.name.ends_with(&format!(".{name}")))
        .collect();
    let rule = match matches.as_slice() {
        [one] => *one,
        [] => {
            // Compare with full names and with the last segments people type.
            let short = |full: &str| full.rsplit('.').next().unwrap_or(full).to_string();
            let candidates: Vec<String> = rules
                .iter()
                .map(|r| r.name.clone())
                .chain(rules.iter().map(|r| short(&r.name)))
                .collect();
            let hint =
                warden_diagnostics::did_you_mean(name, candidates.iter().map(String::as_str))
                    .and_then(|s| rules.iter().find(|r| r.name == s || short(&r.name) == s))
                    .map(|r| format!("; did you mean `{}`?", r.name))
                    .unwrap_or_default();
            return Err(Failure(format!("no rule `{name}` in {policy}{hint}")));
        }
        many => {
            let names: Vec<&str> = many.iter().map(|r| r.name.as_str()).collect();
            return Err(Failure(format!(
                "`{name}` names several rules: {}; give the full name",
                names.join(", ")
            )));
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "rule {}", rule.name);
    if let Some(doc) = &rule.doc {
        let _ = writeln!(out, "\n{doc}\n");
    }
    let _ = writeln!(out, "  target:   {}", rule.target);
    let _ = writeln!(out, "  severity: {}", rule.severity);
    let _ = writeln!(
        out,
        "  control:  {}",
        rule.control
            .as_deref()
            .unwrap_or("(none: add `@control(\"…\")`)")
    );
    if !rule.tags.is_empty() {
        let _ = writeln!(out, "  tags:     {}", rule.tags.join(", "));
    }
    if rule.enforce_warn {
        let _ = writeln!(
            out,
            "  enforce:  warn (its denials are reported as warnings)"
        );
    }
    let _ = writeln!(
        out,
        "  source:   {}:{}:{}\n",
        crate::report::policy_path(root, &rule.location.file),
        rule.location.line,
        rule.location.column
    );
    for line in rule.source.lines() {
        let _ = writeln!(out, "    {line}");
    }
    Ok(out)
}
