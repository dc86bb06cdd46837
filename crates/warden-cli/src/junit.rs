//! JUnit XML, written with quick-xml, for `warden check` and `warden test`:
//! a report is suites of cases; the counts are derived from the cases.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

pub struct Suite {
    pub name: String,
    pub cases: Vec<Case>,
}

pub struct Case {
    pub classname: String,
    pub name: String,
    /// `file` and `line` attributes, where the case is written.
    pub place: Option<(String, u32)>,
    pub outcome: Outcome,
}

pub enum Outcome {
    Passed,
    /// Passed, with something worth reading (a warning).
    PassedWithOutput(String),
    /// `<failure>`: an expectation or a check did not hold.
    Failed {
        kind: Option<String>,
        message: String,
        body: String,
    },
    /// `<error>`: the case could not run.
    Error {
        kind: Option<String>,
        message: String,
        body: String,
    },
    /// `<skipped>` (a waived finding), with its details as output.
    Skipped {
        message: String,
        output: String,
    },
}

impl Suite {
    fn count(&self, counted: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| counted(&c.outcome)).count()
    }
    fn failures(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }
    fn errors(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Error { .. }))
    }
}

/// The whole report, `<testsuites name>` around every suite.
pub fn render(name: &str, suites: &[Suite]) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut writer, name, suites).expect("writing to memory does not fail");
    let xml = String::from_utf8(writer.into_inner()).expect("quick-xml writes UTF-8");
    // XML 1.0 has no way to write most control characters, not even as
    // references: one in a message (a value from a manifest) would make the
    // whole report unreadable. The markup has none, so each found is text,
    // and is written as its escape (`\u{1}`).
    let mut safe: String = xml
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c.to_string(),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect();
    safe.push('\n');
    safe
}

fn write(w: &mut Writer<Vec<u8>>, name: &str, suites: &[Suite]) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let total: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    let errors: usize = suites.iter().map(Suite::errors).sum();
    w.create_element("testsuites")
        .with_attributes([
            ("name", name),
            ("tests", &total.to_string()),
            ("failures", &failures.to_string()),
            ("errors", &errors.to_string()),
        ])
        .write_inner_content(|w| {
            for suite in suites {
                w.create_element("testsuite")
                    .with_attributes([
                        ("name", suite.name.as_str()),
                        ("tests", &suite.cases.len().to_string()),
                        ("failures", &suite.failures().to_string()),
                        ("errors", &suite.errors().to_string()),
                    ])
                    .write_inner_content(|w| {
                        for case in &suite.cases {
                            write_case(w, case)?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write_case(w: &mut Writer<Vec<u8>>, case: &Case) -> std::io::Result<()> {
    let line = case.place.as_ref().map(|(_, line)| line.to_string());
    let mut element = w.create_element("testcase").with_attributes([
        ("classname", case.classname.as_str()),
        ("name", case.name.as_str()),
    ]);
    if let (Some((file, _)), Some(line)) = (&case.place, &line) {
        element = element.with_attributes([("file", file.as_str()), ("line", line.as_str())]);
    }
    let text = |w: &mut Writer<Vec<u8>>, tag: &str, body: &str| {
        w.create_element(tag)
            .write_text_content(BytesText::new(body))
            .map(|_| ())
    };
    match &case.outcome {
        Outcome::Passed => {
            element.write_empty()?;
        }
        Outcome::PassedWithOutput(output) => {
            element.write_inner_content(|w| text(w, "system-out", output))?;
        }
        Outcome::Failed {
            kind,
            message,
            body,
        }
        | Outcome::Error {
            kind,
            message,
            body,
        } => {
            let tag = if matches!(case.outcome, Outcome::Failed { .. }) {
                "failure"
            } else {
                "error"
            };
            element.write_inner_content(|w| {
                let mut problem = w.create_element(tag);
                if let Some(kind) = kind {
                    problem = problem.with_attribute(("type", kind.as_str()));
                }
                let problem = problem.with_attribute(("message", message.as_str()));
                if body.is_empty() {
                    problem.write_empty()?;
                } else {
                    problem.write_text_content(BytesText::new(body))?;
                }
                Ok(())
            })?;
        }
        Outcome::Skipped { message, output } => {
            element.write_inner_content(|w| {
                w.create_element("skipped")
                    .with_attribute(("message", message.as_str()))
                    .write_empty()?;
                text(w, "system-out", output)
            })?;
        }
    }
    Ok(())
}
