//! `warden test` results: for people, as JSON, and as JUnit XML.

use crate::report::{paint, policy_path};
use ariadne::Color;
use quick_xml::escape::escape;
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
            "decision": t.decision.as_ref().map(|d| d.decision.clone()),
        })).collect::<Vec<_>>(),
    });
    if coverage {
        value["coverage"] = json!(run.coverage);
    }
    value
}

pub fn junit(run: &TestRun, root: &Path) -> String {
    let s = &run.summary;
    let mut cases = String::new();
    for t in &run.tests {
        let (class, name) = t.name.rsplit_once('.').unwrap_or(("", &t.name));
        let _ = write!(
            cases,
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\"",
            escape(class),
            escape(name),
            escape(policy_path(root, &t.location.file).as_str()),
            t.location.line
        );
        let body: Vec<String> = t
            .failures
            .iter()
            .map(|f| format!("{}: {}", at(root, &f.location), f.message))
            .collect();
        match t.status {
            TestStatus::Passed => cases.push_str("/>\n"),
            TestStatus::Failed | TestStatus::Error => {
                let tag = if t.status == TestStatus::Failed {
                    "failure"
                } else {
                    "error"
                };
                let _ = write!(
                    cases,
                    ">\n      <{tag} message=\"{}\">{}</{tag}>\n    </testcase>\n",
                    escape(t.failures.first().map_or("", |f| f.message.as_str())),
                    escape(body.join("\n").as_str())
                );
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"warden test\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n  <testsuite name=\"warden test\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n{cases}  </testsuite>\n</testsuites>\n",
        s.total, s.failed, s.errors, s.total, s.failed, s.errors
    )
}
