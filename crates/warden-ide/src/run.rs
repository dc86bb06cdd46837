//! Running what the editor shows: the tests of a file, a target against a
//! fixture (code lenses), and the stub of a new test (a code action). The
//! policy set is the one being edited, compiled by the same queries, and
//! decided by the library's one evaluator.

use crate::AnalysisHost;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use warden::{Decision, Engine, TestRun};
use warden_diagnostics::TextRange;
use warden_syntax::ast::{Effect, ItemKind, RuleStmt, TestStmt};

/// A code lens: something to run, above a declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Lens {
    /// The declaration's name.
    pub range: TextRange,
    pub kind: LensKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LensKind {
    /// Run the test of this full name (`package.test`).
    RunTest { test: String },
    /// Decide an input of `target` read from a fixture file.
    Evaluate { target: String },
    /// Decide the set's test inputs of `target` with the set and with its
    /// base on `main`: how many decisions the change moves.
    Impact { target: String },
}

impl AnalysisHost {
    /// The lenses of a file: "run test" on each test, "evaluate against
    /// fixture" on each rule and target.
    pub fn lenses(&self, path: &str) -> Vec<Lens> {
        let Some(parse) = self.parse(path) else {
            return Vec::new();
        };
        let file = parse.tree();
        let package = file.package.as_ref().map(|p| p.path.to_dotted());
        file.items
            .iter()
            .filter_map(|item| {
                let (name, kind) = match &item.kind {
                    ItemKind::Test(test) => (
                        &test.name,
                        LensKind::RunTest {
                            test: match &package {
                                Some(p) => format!("{p}.{}", test.name.text),
                                None => test.name.text.clone(),
                            },
                        },
                    ),
                    ItemKind::Rule(rule) => (
                        &rule.name,
                        LensKind::Evaluate {
                            target: rule.target.text.clone(),
                        },
                    ),
                    ItemKind::Target(target) => (
                        &target.name,
                        LensKind::Evaluate {
                            target: target.name.text.clone(),
                        },
                    ),
                    _ => return None,
                };
                // A target also shows what the change does to decisions.
                let impact = match &item.kind {
                    ItemKind::Target(target) => Some(Lens {
                        range: name.range,
                        kind: LensKind::Impact {
                            target: target.name.text.clone(),
                        },
                    }),
                    _ => None,
                };
                Some(
                    std::iter::once(Lens {
                        range: name.range,
                        kind,
                    })
                    .chain(impact),
                )
            })
            .flatten()
            .collect()
    }

    /// The set as an engine, or the first error that stops it compiling.
    pub fn engine(&self) -> Result<Engine, String> {
        self.workspace.engine().map_err(|e| match e {
            warden::EngineError::Compile { diagnostics } => {
                let error = diagnostics.iter().find(|d| d.is_error());
                error.map_or_else(
                    || "the policies do not compile".to_string(),
                    |d| format!("the policies do not compile: {} {}", d.code, d.message),
                )
            }
            other => other.to_string(),
        })
    }

    /// The fixtures the tests give `target` (`given TARGET =
    /// fixture("…")`), as paths below the workspace folder, in file order.
    fn fixtures_named(&self, target: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for path in self.paths() {
            let Some(parse) = self.parse(&path) else {
                continue;
            };
            let folder = Path::new(&path).parent().unwrap_or(Path::new(""));
            for item in &parse.tree().items {
                let ItemKind::Test(test) = &item.kind else {
                    continue;
                };
                for stmt in &test.body {
                    if let TestStmt::Given {
                        target: given,
                        value,
                        ..
                    } = stmt
                        && given.text == target
                        && let Some(fixture) = value.fixture_path()
                    {
                        out.push(folder.join(fixture));
                    }
                }
            }
        }
        out
    }

    /// The fixture files the tests give `target`, resolved below `root`,
    /// that exist; sorted.
    pub fn fixtures(&self, root: &Path, target: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for named in self.fixtures_named(target) {
            let file = root.join(named);
            let file = file.canonicalize().unwrap_or(file);
            if file.is_file() && !out.contains(&file) {
                out.push(file);
            }
        }
        out.sort();
        out
    }

    /// "Create a test for `rule`": a test block appended to the file of
    /// the rule at `offset`, giving the target a fixture the other tests
    /// use (or an empty record to fill in) and expecting the rule's first
    /// effect. A title and the edit (range, new text).
    pub fn test_stub(&self, path: &str, offset: usize) -> Option<(String, TextRange, String)> {
        let parse = self.parse(path)?;
        let file = parse.tree();
        let item = file
            .items
            .iter()
            .find(|i| i.range.start as usize <= offset && offset <= i.range.end as usize)?;
        let ItemKind::Rule(rule) = &item.kind else {
            return None;
        };
        let effect = rule
            .body
            .iter()
            .find_map(|stmt| match stmt {
                RuleStmt::Clause(c) => Some(c.effect),
                _ => None,
            })
            .unwrap_or(Effect::Deny);
        let effect = match effect {
            Effect::Deny => "deny",
            Effect::Allow => "allow",
            Effect::Warn => "warn",
        };
        let full = match &file.package {
            Some(p) => format!("{}.{}", p.path.to_dotted(), rule.name.text),
            None => rule.name.text.clone(),
        };
        let taken: Vec<String> = self
            .workspace_symbols("")
            .into_iter()
            .map(|(_, s)| s.name)
            .collect();
        let verb = match effect {
            "deny" => "denies",
            "allow" => "allows",
            _ => "warns",
        };
        let base = format!("{}_{verb}", rule.name.text);
        let name = std::iter::once(base.clone())
            .chain((2..).map(|n| format!("{base}_{n}")))
            .find(|n| !taken.contains(n))?;
        // A fixture another test gives this target, as a path from this file.
        let here = Path::new(path).parent().unwrap_or(Path::new(""));
        let given = self
            .fixtures_named(&rule.target.text)
            .first()
            .map(|fixture| relative_to(fixture, here))
            .map_or_else(|| "{}".to_string(), |f| format!("fixture(\"{f}\") + {{}}"));
        let text = self.text(path)?;
        let end = text.len();
        let separator = if text.ends_with("\n\n") || text.is_empty() {
            ""
        } else if text.ends_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
        let stub = format!(
            "{separator}test {name} {{\n  given {} = {given}\n  expect {effect} {full}\n}}\n",
            rule.target.text
        );
        Some((
            format!("Create a test for `{}`", rule.name.text),
            TextRange::new(end, end),
            stub,
        ))
    }
}

/// `to` written from the folder `from` (both relative to the workspace).
fn relative_to(to: &Path, from: &Path) -> String {
    let normal = |p: &Path| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for part in p.components() {
            match part {
                std::path::Component::ParentDir => {
                    if out.last().is_some_and(|l| l != "..") {
                        out.pop();
                    } else {
                        out.push("..".into());
                    }
                }
                std::path::Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
                _ => {}
            }
        }
        out
    };
    let (to, from) = (normal(to), normal(from));
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); from.len() - common];
    parts.extend(to[common..].iter().cloned());
    parts.join("/")
}

/// Runs the test of this full name (every test without one), fixtures read
/// below `root`. Runs on an [`Engine`] taken from a snapshot
/// ([`AnalysisHost::engine`]), so the snapshot can be let go first: tests
/// are not salsa queries, and an edit must not wait for them.
pub fn run_tests(engine: &Engine, root: Option<&Path>, name: Option<&str>) -> TestRun {
    let folders = root.map(warden::PolicyFolders::single);
    let mut run = engine.run_tests(folders.as_ref(), name);
    if let Some(name) = name {
        // The engine's filter matches a part of the name; a lens means one test.
        run.tests.retain(|t| t.name == name);
        let count =
            |status: warden::TestStatus| run.tests.iter().filter(|t| t.status == status).count();
        run.summary = warden::TestSummary {
            total: run.tests.len(),
            passed: count(warden::TestStatus::Passed),
            failed: count(warden::TestStatus::Failed),
            errors: count(warden::TestStatus::Error),
        };
    }
    run
}

/// Decides the YAML or JSON document in `fixture` against `target`; the
/// fixture is read as `warden test` reads it: a regular file inside `root`,
/// within the input limits.
pub fn evaluate(
    engine: &Engine,
    root: &Path,
    target: &str,
    fixture: &Path,
    now: SystemTime,
) -> Result<Decision, String> {
    let base = root
        .canonicalize()
        .map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    let relative = fixture
        .strip_prefix(&base)
        .or_else(|_| fixture.strip_prefix(root))
        .map_err(|_| format!("`{}` is outside the policy folder", fixture.display()))?;
    let document = warden::read_fixture(
        root,
        Path::new(""),
        &relative.to_string_lossy(),
        &warden::InputLimits::INPUT,
    )
    .map_err(|e| e.to_string())?;
    engine
        .decide(target, &document.value, now)
        .map_err(|e| e.to_string())
}

/// What a change does to the decisions of a target's test inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impact {
    /// Test inputs of the target decided by both sets.
    pub compared: usize,
    /// Those whose decision moved: the test, and its verdicts before and after.
    pub changed: Vec<(String, String, String)>,
}

/// Decides every test input of `target` (with the data and time its test
/// gives) with `base` and with `engine`, as `warden diff --tests` does:
/// a decision moved when its verdict or the rules with findings did.
pub fn impact(base: &Engine, engine: &Engine, root: Option<&Path>, target: &str) -> Impact {
    let folders = root.map(warden::PolicyFolders::single);
    let mut compared = 0;
    let mut changed = Vec::new();
    for case in engine
        .test_cases(folders.as_ref(), &warden::InputLimits::INPUT)
        .into_iter()
        .flatten()
        .filter(|case| case.target == target)
    {
        let outcome = |engine: &Engine| -> String {
            let engine = match engine.with_test_data(&case.data) {
                Ok(engine) => engine,
                Err(e) => {
                    return format!(
                        "error {}",
                        e.code().map_or("data".into(), |c| c.to_string())
                    );
                }
            };
            match engine.decide(&case.target, &case.input, case.now) {
                Ok(decision) => {
                    let mut rules: Vec<&str> = decision
                        .findings
                        .iter()
                        .chain(&decision.warnings)
                        .map(|f| &*f.rule)
                        .collect();
                    rules.sort_unstable();
                    rules.dedup();
                    if rules.is_empty() {
                        decision.decision.to_string()
                    } else {
                        format!("{} ({})", decision.decision, rules.join(", "))
                    }
                }
                Err(e) => format!("error {}", e.code()),
            }
        };
        compared += 1;
        let (before, after) = (outcome(base), outcome(engine));
        if before != after {
            changed.push((case.name.clone(), before, after));
        }
    }
    Impact { compared, changed }
}
