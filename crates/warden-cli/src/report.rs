//! `warden check` results in the formats CI systems read: human (compiler-style
//! snippets of the manifest), JSON, SARIF 2.1.0, JUnit XML and GitHub
//! workflow commands. Every format carries the same finding, rule and line.

use crate::check::{FileResult, TARGET};
use crate::junit;
use crate::render::SNIPPET_LINE_BYTES;
use ariadne::{Color, Config, Fmt, IndexType, Label, Report, ReportKind};
use serde_json::{Value as Json, json};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use warden::{Effect, FindingReport, RuleInfo, Severity, shown_text};
use warden_diagnostics::LineIndex;

/// Counts for the summary line and the JSON `summary` object.
pub struct Summary {
    pub files: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
}

impl Summary {
    pub fn of(results: &[FileResult]) -> Summary {
        let errors = results.iter().filter(|r| r.outcome.is_err()).count();
        let passed = results.iter().filter(|r| r.passed()).count();
        Summary {
            files: results.len(),
            passed,
            failed: results.len() - passed - errors,
            errors,
        }
    }

    /// `4 manifests checked: 2 passed, 2 failed[, 1 could not be checked]`.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} checked: {} passed, {} failed",
            count(self.files, "manifest"),
            self.passed,
            self.failed
        );
        if self.errors > 0 {
            let _ = write!(line, ", {} could not be checked", self.errors);
        }
        line
    }

    /// 2 when a manifest could not be checked, else 1 when one failed, else 0.
    pub fn exit_code(&self) -> std::process::ExitCode {
        crate::exit_code(self.errors, self.failed)
    }
}

/// `text` in `hue` when colour is on.
pub fn paint(color: bool, text: &str, hue: Color) -> String {
    if color {
        text.fg(hue).to_string()
    } else {
        text.to_string()
    }
}

/// `microapps/identity.warden` joined to the folder the policy files were
/// read from, as a path from the working directory: what an editor or a
/// code-scanning UI can open.
pub fn policy_path(policy_root: &Path, file: &str) -> String {
    let joined = policy_root.join(file);
    let text = joined.display().to_string().replace('\\', "/");
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// The byte range to underline: from the finding's column to the end of the
/// value that starts there, on that line: a quoted string to its closing
/// quote, a `{…}` or `[…]` to its closing bracket, a plain value to the end
/// of the line (a trailing `# comment` left out) or, inside a flow
/// collection (JSON, or YAML's `{ a: b, c: d }`), to the next `,`, `}`, `]`.
/// `lines` is the file's index, made once for all its findings.
fn underline(
    text: &str,
    lines: &LineIndex,
    line: u32,
    column: u32,
) -> Option<std::ops::Range<usize>> {
    let bounds = lines.line_range(text, (line as usize).checked_sub(1)?)?;
    let offset = bounds.start;
    let content = &text[bounds];
    let start = content
        .char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(content.len(), |(i, _)| i);
    let rest = content[start..].trim_end_matches(['\n', '\r']);
    let in_flow = flow_depth(&content[..start]) > 0;
    let len = value_length(rest, in_flow).max(1).min(rest.len().max(1));
    let end = (start + len).min(content.len());
    Some(offset + start..offset + end.max(start))
}

/// Walks `text` outside quoted strings (`"…"` with escapes, `'…'`),
/// telling `at` each `{`, `[`, `}`, `]` with the depth after it; stops when
/// `at` says so. The depth at the end.
fn brackets(text: &str, mut at: impl FnMut(usize, usize) -> bool) -> usize {
    let mut depth = 0usize;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => continue,
        }
        if matches!(c, '{' | '[' | '}' | ']') && at(i, depth) {
            break;
        }
    }
    depth
}

/// How many `{` and `[` are open at the end of `prefix` (quoted text skipped).
fn flow_depth(prefix: &str) -> usize {
    brackets(prefix, |_, _| false)
}

/// The length in bytes of the value at the start of `rest` (see [`underline`]).
fn value_length(rest: &str, in_flow: bool) -> usize {
    match rest.chars().next() {
        Some(q @ ('"' | '\'')) => {
            // The quoted string is everything up to where the quote closes.
            let mut closed = rest.len();
            let mut escaped = false;
            for (i, c) in rest.char_indices().skip(1) {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    closed = i + 1;
                    break;
                }
            }
            closed
        }
        Some('{' | '[') => {
            let mut closed = rest.len();
            brackets(rest, |i, depth| {
                let done = depth == 0;
                if done {
                    closed = i + 1;
                }
                done
            });
            closed
        }
        Some(_) => {
            let mut end = rest.find(" #").unwrap_or(rest.len());
            if in_flow && let Some(cut) = rest[..end].find([',', '}', ']']) {
                end = cut;
            }
            // A key (`local_acounts: true`) ends at its colon: no plain
            // value holds `: `.
            if let Some(cut) = rest[..end].find(": ") {
                end = cut;
            }
            let value = rest[..end].trim_end();
            value.strip_suffix(':').unwrap_or(value).len()
        }
        None => 0,
    }
}

/// The finding's message, its control characters escaped: it carries
/// values from the input.
fn headline(f: &FindingReport) -> String {
    match &f.message {
        Some(message) => shown_text(message).into_owned(),
        None => format!("{} {}", f.rule, f.effect),
    }
}

/// A manifest's text as the snippets show it: each control character
/// (but the line breaks and tabs) stands as a visible one of the same
/// length in bytes, so the underlined ranges still fit and the manifest
/// cannot drive the terminal or the CI log.
fn for_terminal(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c,
            '\r' => ' ',
            c if c.is_control() && c.len_utf8() == 1 => '?',
            c if c.is_control() => '\u{bf}',
            c => c,
        })
        .collect()
}

fn rule_line(f: &FindingReport, policy_root: &Path) -> String {
    let control = f
        .control
        .as_ref()
        .map(|c| format!(", control {c}"))
        .unwrap_or_default();
    format!(
        "rule {} ({} severity{control}) at {}:{}:{}",
        f.rule,
        f.severity,
        policy_path(policy_root, &f.location.file),
        f.location.line,
        f.location.column
    )
}

/// Findings per file drawn with their manifest line.
const SHOWN_SNIPPETS: usize = 200;

/// Like a compiler: each finding with the manifest line that decided it underlined.
pub fn human(results: &[FileResult], policy_root: &Path, color: bool) -> String {
    let mut out = Vec::new();
    let config = Config::default()
        .with_index_type(IndexType::Byte)
        .with_color(color);
    let paint = |text: &str, hue| paint(color, text, hue);
    for result in results {
        let file = shown_text(&result.file);
        let decision = match &result.outcome {
            Ok(d) => d,
            Err(e) => {
                let _ = writeln!(
                    out,
                    "{}: {}: {}\n",
                    paint(&format!("error[{}]", e.code), Color::Red),
                    file,
                    // Its lines are its own (an input's values in it are
                    // quoted); any other control character is escaped.
                    e.message
                        .split('\n')
                        .map(|line| shown_text(line))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                continue;
            }
        };
        // In manifest order, as a reader goes down the file.
        let mut reported: Vec<(&FindingReport, ReportKind)> = decision
            .findings
            .iter()
            .filter(|f| f.effect != Effect::Allow)
            .map(|f| (f, ReportKind::Error))
            .chain(decision.warnings.iter().map(|f| (f, ReportKind::Warning)))
            .collect();
        reported.sort_by_key(|(f, _)| {
            f.input_location
                .as_ref()
                .map_or((u32::MAX, 0), |l| (l.line, l.column))
        });
        // Once per file: the text as shown, its lines, its source cache.
        let shown = result.text.as_deref().map(|text| {
            let lines = LineIndex::new(text);
            let cache = ariadne::sources([(file.to_string(), for_terminal(text))]);
            (text, lines, cache)
        });
        let mut shown = shown;
        for (n, (f, kind)) in reported.into_iter().enumerate() {
            let code = f.code.clone().unwrap_or_else(|| {
                f.control
                    .as_deref()
                    .map_or_else(|| f.effect.to_string(), str::to_string)
            });
            // Each snippet draws its whole line: past the first few hundred,
            // or on a line too long to read (one-line JSON), a finding is
            // listed without one.
            let spot = f
                .input_location
                .as_ref()
                .filter(|_| n < SHOWN_SNIPPETS)
                .and_then(|loc| {
                    let (text, lines, _) = shown.as_ref()?;
                    let bounds = lines.line_range(text, (loc.line as usize).checked_sub(1)?)?;
                    if bounds.len() > SNIPPET_LINE_BYTES {
                        return None;
                    }
                    underline(text, lines, loc.line, loc.column)
                });
            match spot.zip(shown.as_mut()) {
                Some((range, (_, _, cache))) => {
                    let name = file.to_string();
                    let label = f.input_path.clone().unwrap_or_else(|| f.rule.to_string());
                    let report = Report::build(kind, (name.clone(), range.clone()))
                        .with_config(config)
                        .with_code(&code)
                        .with_message(headline(f))
                        .with_label(Label::new((name.clone(), range)).with_message(label))
                        .with_note(rule_line(f, policy_root));
                    let _ = report.finish().write(&mut *cache, &mut out);
                }
                None => {
                    let (word, hue) = match kind {
                        ReportKind::Error => ("error", Color::Red),
                        _ => ("warning", Color::Yellow),
                    };
                    let _ = writeln!(
                        out,
                        "{}: {}\n  --> {}\n  = {}",
                        paint(&format!("{word}[{code}]"), hue),
                        headline(f),
                        file,
                        rule_line(f, policy_root)
                    );
                }
            }
        }
        for f in &decision.waived {
            let waiver = f
                .waiver
                .as_ref()
                .map(|w| {
                    format!(
                        " by `{}` until {} ({})",
                        shown_text(&w.name),
                        w.until,
                        shown_text(&w.reason)
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}: {}: {} waived{waiver}",
                paint("note", Color::Cyan),
                file,
                f.rule
            );
        }
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    for result in results {
        let status = match &result.outcome {
            Ok(d) if d.is_allowed() => paint("pass", Color::Green),
            Ok(_) => paint("FAIL", Color::Red),
            Err(_) => paint("ERROR", Color::Red),
        };
        let detail = match &result.outcome {
            Ok(d) => {
                let findings = d
                    .findings
                    .iter()
                    .filter(|f| f.effect == Effect::Deny)
                    .count();
                let mut parts = Vec::new();
                if findings > 0 {
                    parts.push(count(findings, "finding"));
                }
                if !d.warnings.is_empty() {
                    parts.push(count(d.warnings.len(), "warning"));
                }
                if !d.waived.is_empty() {
                    parts.push(format!("{} waived", d.waived.len()));
                }
                if parts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", parts.join(", "))
                }
            }
            Err(e) => format!(" ({})", e.code),
        };
        let _ = writeln!(text, "{status} {}{detail}", shown_text(&result.file));
    }
    let _ = writeln!(text, "\n{}", Summary::of(results).line());
    text
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", crate::plural(n))
}

/// `{"summary": {...}, "results": [{"file", "decision"} | {"file", "error"}]}`.
pub fn json(results: &[FileResult]) -> Json {
    let s = Summary::of(results);
    let items: Vec<Json> = results
        .iter()
        .map(|r| match &r.outcome {
            Ok(d) => json!({"file": r.file, "decision": d}),
            Err(e) if !e.errors.is_empty() => json!({"file": r.file, "error": {
                "code": e.code.to_string(), "message": e.message, "errors": e.errors}}),
            Err(e) => {
                json!({"file": r.file, "error": {"code": e.code.to_string(), "message": e.message}})
            }
        })
        .collect();
    json!({
        "summary": {"files": s.files, "passed": s.passed, "failed": s.failed, "errors": s.errors},
        "results": items,
    })
}

/// GitHub code scanning reads `security-severity` (0–10) to rank alerts.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn sarif_level(f: &FindingReport) -> &'static str {
    match f.effect {
        Effect::Deny => "error",
        Effect::Warn => "warning",
        Effect::Allow => "note",
    }
}

/// SARIF 2.1.0: one run, the manifest rules as the tool's rules, one result
/// per finding located on the manifest line, the policy clause as a related location.
pub fn sarif(results: &[FileResult], rules: &[RuleInfo], policy_root: &Path) -> Json {
    let rules: Vec<&RuleInfo> = rules.iter().filter(|r| r.target == TARGET).collect();
    // `warden.undeclared_field` (W0007) is the tool's own rule: it follows
    // the policy set's rules in the list.
    let rule_index = |name: &str| {
        rules
            .iter()
            .position(|r| r.name == name)
            .or_else(|| (name == warden::UNDECLARED_FIELD_RULE).then_some(rules.len()))
    };
    let mut out = Vec::new();
    let mut notifications = Vec::new();
    for result in results {
        let decision = match &result.outcome {
            Ok(d) => d,
            Err(e) => {
                // One notification per bad path, on its line.
                let places: Vec<Option<&crate::check::PlacedPathError>> = if e.errors.is_empty() {
                    vec![None]
                } else {
                    e.errors.iter().map(Some).collect()
                };
                for place in places {
                    let mut location = json!({"artifactLocation": {"uri": result.file}});
                    let text = match place {
                        Some(p) => {
                            location["region"] =
                                json!({"startLine": p.line, "startColumn": p.column});
                            p.to_string()
                        }
                        None => e.message.clone(),
                    };
                    notifications.push(json!({
                        "level": "error",
                        "descriptor": {"id": e.code.to_string()},
                        "message": {"text": text},
                        "locations": [{"physicalLocation": location}],
                    }));
                }
                continue;
            }
        };
        let findings = decision
            .findings
            .iter()
            .chain(&decision.warnings)
            .filter(|f| f.effect != Effect::Allow)
            .map(|f| (f, None))
            .chain(decision.waived.iter().map(|f| (f, f.waiver.as_ref())));
        for (f, waiver) in findings {
            let region = match &f.input_location {
                Some(loc) => json!({"startLine": loc.line, "startColumn": loc.column}),
                None => json!({"startLine": 1}),
            };
            let mut item = json!({
                "ruleId": f.rule,
                "level": sarif_level(f),
                "message": {"text": headline(f)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": result.file},
                        "region": region,
                    },
                    "logicalLocations": f.input_path.iter().map(|p| json!({"fullyQualifiedName": p, "kind": "member"})).collect::<Vec<_>>(),
                }],
                "relatedLocations": [{
                    "id": 0,
                    "message": {"text": format!("the policy clause of {}", f.rule)},
                    "physicalLocation": {
                        "artifactLocation": {"uri": policy_path(policy_root, &f.location.file)},
                        "region": {"startLine": f.location.line, "startColumn": f.location.column},
                    },
                }],
                "partialFingerprints": {
                    "wardenFinding/v1": format!("{}|{}|{}", result.file, f.rule, f.input_path.as_deref().unwrap_or("")),
                },
                "properties": {"severity": f.severity, "subject": f.subject, "control": f.control},
            });
            if let Some(i) = rule_index(&f.rule) {
                item["ruleIndex"] = json!(i);
            }
            if let Some(w) = waiver {
                item["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!("waiver {} until {}: {} (approved by {})", w.name, w.until, w.reason, w.approved_by),
                }]);
            }
            out.push(item);
        }
    }
    let descriptors: Vec<Json> = rules
        .iter()
        .map(|r| {
            let summary = r
                .doc
                .as_deref()
                .and_then(|d| d.lines().next())
                .unwrap_or(&r.name)
                .to_string();
            let mut tags = r.tags.clone();
            tags.insert(0, "security".into());
            json!({
                "id": r.name,
                "name": r.name.rsplit('.').next().unwrap_or(&r.name),
                "shortDescription": {"text": summary},
                "fullDescription": {"text": r.doc.clone().unwrap_or_else(|| summary.clone())},
                "help": {"text": format!("Run `warden explain {}` for the rule's source and controls.", r.name)},
                "defaultConfiguration": {"level": if r.enforce_warn { "warning" } else { "error" }},
                "properties": {
                    "tags": tags,
                    "security-severity": security_severity(r.severity),
                    "control": r.control,
                    "severity": r.severity,
                },
            })
        })
        .collect();
    let mut descriptors = descriptors;
    descriptors.push(json!({
        "id": warden::UNDECLARED_FIELD_RULE,
        "name": "undeclared_field",
        "shortDescription": {"text": "A manifest field the schema does not declare"},
        "fullDescription": {"text": "A field the target's type does not declare: a typo (local_acounts) as often as an extension. Run `warden explain W0007`."},
        "help": {"text": "Run `warden explain W0007`: fix the field's name, or declare it in the schema."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["correctness"], "severity": "low"},
    }));
    let mut run = json!({
        "tool": {"driver": {
            "name": "warden",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://example.invalid/warden",
            "rules": descriptors,
        }},
        "results": out,
        "columnKind": "unicodeCodePoints",
    });
    if !notifications.is_empty() {
        run["invocations"] = json!([{
            "executionSuccessful": false,
            "toolExecutionNotifications": notifications,
        }]);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// JUnit XML: a test suite per manifest, a test case per manifest × rule.
pub fn junit(results: &[FileResult], rules: &[RuleInfo]) -> String {
    let rules: Vec<&RuleInfo> = rules.iter().filter(|r| r.target == TARGET).collect();
    let lines = |findings: &[&FindingReport]| -> String {
        findings
            .iter()
            .map(|f| finding_text(f))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let suites: Vec<junit::Suite> = results
        .iter()
        .map(|result| {
            let case = |name: &str, outcome| junit::Case {
                classname: result.file.clone(),
                name: name.to_string(),
                place: None,
                outcome,
            };
            let cases = match &result.outcome {
                Err(e) => vec![case(
                    &result.file,
                    junit::Outcome::Error {
                        kind: Some(e.code.to_string()),
                        message: e.message.clone(),
                        body: String::new(),
                    },
                )],
                Ok(decision) => rules
                    .iter()
                    .map(|rule| {
                        let denied = of_rule(&decision.findings, &rule.name, true);
                        let waived = of_rule(&decision.waived, &rule.name, false);
                        let warned = of_rule(&decision.warnings, &rule.name, false);
                        let outcome = if let Some(first) = denied.first() {
                            junit::Outcome::Failed {
                                kind: Some("deny".into()),
                                message: headline(first),
                                body: lines(&denied),
                            }
                        } else if !waived.is_empty() {
                            junit::Outcome::Skipped {
                                message: "waived".into(),
                                output: lines(&waived),
                            }
                        } else if !warned.is_empty() {
                            junit::Outcome::PassedWithOutput(lines(&warned))
                        } else {
                            junit::Outcome::Passed
                        };
                        case(&rule.name, outcome)
                    })
                    .collect(),
            };
            junit::Suite {
                name: result.file.clone(),
                cases,
            }
        })
        .collect();
    junit::render("warden check", &suites)
}

/// The findings of `rule` in `list` (only denials with `deny_only`).
fn of_rule<'a>(list: &'a [FindingReport], rule: &str, deny_only: bool) -> Vec<&'a FindingReport> {
    list.iter()
        .filter(|f| *f.rule == *rule && (!deny_only || f.effect == Effect::Deny))
        .collect()
}

/// `file:line:col: [rule] message` for a JUnit body.
fn finding_text(f: &FindingReport) -> String {
    let at = f
        .input_location
        .as_ref()
        .map(|l| format!("{}:{}:{}: ", l.file, l.line, l.column))
        .unwrap_or_default();
    let waiver = f
        .waiver
        .as_ref()
        .map(|w| format!(" (waived by {} until {})", w.name, w.until))
        .unwrap_or_default();
    format!("{at}[{}] {}{waiver}", f.rule, headline(f))
}

/// GitHub workflow commands: an annotation per finding on the manifest line.
pub fn github(results: &[FileResult]) -> String {
    let mut out = String::new();
    for result in results {
        let decision = match &result.outcome {
            Ok(d) => d,
            Err(e) if !e.errors.is_empty() => {
                for p in &e.errors {
                    let _ = writeln!(
                        out,
                        "::error file={},line={},col={},title={}::{}",
                        property(&result.file),
                        p.line,
                        p.column,
                        property(&format!("warden {}", e.code)),
                        data(&p.to_string())
                    );
                }
                continue;
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "::error file={},title={}::{}",
                    property(&result.file),
                    property(&format!("warden {}", e.code)),
                    data(&e.message)
                );
                continue;
            }
        };
        for f in decision
            .findings
            .iter()
            .chain(&decision.warnings)
            .filter(|f| f.effect != Effect::Allow)
        {
            let level = if f.effect == Effect::Deny {
                "error"
            } else {
                "warning"
            };
            let place = match &f.input_location {
                Some(l) => format!(",line={},col={}", l.line, l.column),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "::{level} file={}{place},title={}::{}",
                property(&result.file),
                // The control first: what a reviewer looks up.
                property(&match &f.control {
                    Some(control) => format!("{control} {}", f.rule),
                    None => f.rule.to_string(),
                }),
                data(&headline(f))
            );
        }
    }
    let _ = writeln!(out, "{}", Summary::of(results).line());
    out
}

/// Escapes a workflow command's message (GitHub's `escapeData`), and
/// writes any other control character as its escape (a terminal sequence
/// in the log).
fn data(text: &str) -> String {
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    shown_text(&escaped).into_owned()
}

/// Escapes a workflow command's property (GitHub's `escapeProperty`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod underline_tests {
    use super::underline;
    use warden_diagnostics::LineIndex;

    fn shown(text: &str, column: u32) -> &str {
        &text[underline(text, &LineIndex::new(text), 1, column).unwrap()]
    }

    #[test]
    fn the_underline_covers_the_value_and_no_more() {
        let json = r#"{"auth": {"sso": "none", "mfa": "required"}, "n": 3}"#;
        assert_eq!(shown(json, 18), "\"none\"");
        assert_eq!(shown(json, 10), r#"{"sso": "none", "mfa": "required"}"#);
        assert_eq!(shown(json, 51), "3");
        assert_eq!(shown("auth: { sso: none, mfa: required }", 14), "none");
        assert_eq!(shown("sso: none   # comment", 6), "none");
        assert_eq!(shown("names: a, b", 8), "a, b");
        assert_eq!(shown("    local_acounts: true", 5), "local_acounts");
        assert_eq!(shown("url: https://x.example/a", 6), "https://x.example/a");
    }
}
