//! `warden test` results: for people, as JSON, and as JUnit XML.

use crate::junit;
use crate::report::{paint, policy_path};
use ariadne::Color;
use serde_json::{Value as Json, json};
use std::fmt::Write as _;
use std::path::Path;
use warden::{Location, TestRun, TestStatus};

/// `file:line:column`, the file as a path from the working directory.
fn at(root: &Path, l: &Location) -> String {
    format!("{}:{}:{}", policy_path(root, &l.file), l.line, l.column)
}

fn percent(part: usize, whole: usize) -> String {
    // Nothing to cover counts as fully covered.
    (part * 100)
        .checked_div(whole)
        .map_or_else(|| "100%".into(), |p| format!("{p}%"))
}

pub fn human(run: &TestRun, root: &Path, coverage: bool, color: bool) -> String {
    let paint = |text: &str, hue| paint(color, text, hue);
    let mut out = String::new();
    for t in &run.tests {
        let status = match t.status {
            TestStatus::Passed => paint("pass ", Color::Green),
            TestStatus::Failed => paint("FAIL ", Color::Red),
            TestStatus::Error => paint("ERROR", Color::Red),
        };
        let _ = writeln!(out, "{status} {} ({})", t.name, at(root, &t.location));
        for f in &t.failures {
            let message = f.message.replace('\n', "\n      ");
            let _ = writeln!(out, "      {}: {message}", at(root, &f.location));
        }
    }
    let s = &run.summary;
    let _ = write!(
        out,
        "\n{} test{}: {} passed, {} failed",
        s.total,
        crate::plural(s.total),
        s.passed,
        s.failed
    );
    if s.errors > 0 {
        let _ = write!(out, ", {} could not run", s.errors);
    }
    out.push('\n');
    if coverage {
        let c = &run.coverage;
        let _ = writeln!(
            out,
            "coverage: rules {}/{} ({}), clauses {}/{} ({})",
            c.rules_covered,
            c.rules_total,
            percent(c.rules_covered, c.rules_total),
            c.clauses_covered,
            c.clauses_total,
            percent(c.clauses_covered, c.clauses_total)
        );
        for rule in &c.rules {
            for clause in rule.clauses.iter().filter(|c| !c.covered) {
                let _ = writeln!(
                    out,
                    "  never decided: {} clause of {} at {}",
                    clause.effect,
                    rule.rule,
                    at(root, &clause.location)
                );
            }
        }
    }
    out
}

pub fn json(run: &TestRun, coverage: bool) -> Json {
    let mut value = json!({
        "summary": run.summary,
        "tests": run.tests.iter().map(|t| json!({
            "name": t.name,
            "location": t.location,
            "status": t.status,
            "failures": t.failures,
            "decision": t.decision.as_ref().map(|d| d.decision),
        })).collect::<Vec<_>>(),
    });
    if coverage {
        value["coverage"] = json!(run.coverage);
    }
    value
}

pub fn junit(run: &TestRun, root: &Path) -> String {
    let cases = run
        .tests
        .iter()
        .map(|t| {
            let (class, name) = t.name.rsplit_once('.').unwrap_or(("", &t.name));
            let message = t
                .failures
                .first()
                .map_or("", |f| f.message.as_str())
                .to_string();
            let body = t
                .failures
                .iter()
                .map(|f| format!("{}: {}", at(root, &f.location), f.message))
                .collect::<Vec<_>>()
                .join("\n");
            let outcome = match t.status {
                TestStatus::Passed => junit::Outcome::Passed,
                TestStatus::Failed => junit::Outcome::Failed {
                    kind: None,
                    message,
                    body,
                },
                TestStatus::Error => junit::Outcome::Error {
                    kind: None,
                    message,
                    body,
                },
            };
            junit::Case {
                classname: class.to_string(),
                name: name.to_string(),
                place: Some((policy_path(root, &t.location.file), t.location.line)),
                outcome,
            }
        })
        .collect();
    junit::render(
        "warden test",
        &[junit::Suite {
            name: "warden test".into(),
            cases,
        }],
    )
}
