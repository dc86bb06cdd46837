//! Running a policy set's `test` blocks, and the coverage they reach.

use crate::decision::{Location, location};
use crate::{DecideOptions, Decision, Document, Engine, EngineError, InputLimits};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use warden_eval::Outcome;
use warden_ir::{Effect, Program, RuleId};
use warden_sema::{Expectation, Test, TestInput};

/// The outcome of every test, and what they covered.
#[derive(Clone, Debug, Serialize)]
pub struct TestRun {
    /// Each test, in declaration order.
    pub tests: Vec<TestResult>,
    /// Counts by status.
    pub summary: TestSummary,
    /// Rules and clauses the tests reached.
    pub coverage: Coverage,
}

/// Counts of tests by status.
#[derive(Clone, Debug, Serialize)]
pub struct TestSummary {
    /// Tests run.
    pub total: usize,
    /// Tests whose expectations all held.
    pub passed: usize,
    /// Tests with an expectation that did not hold.
    pub failed: usize,
    /// Tests that could not run (a missing fixture, an input that does not match its type).
    pub errors: usize,
}

/// One test.
#[derive(Clone, Debug, Serialize)]
pub struct TestResult {
    /// `package.test`.
    pub name: String,
    /// Where the test is written.
    pub location: Location,
    /// Passed, failed, or could not run.
    pub status: TestStatus,
    /// Each expectation that did not hold, or why the test could not run.
    pub failures: Vec<TestFailure>,
    /// The decision the test reached, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

/// How a test ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    /// Every expectation held.
    Passed,
    /// An expectation did not hold.
    Failed,
    /// The test could not run.
    Error,
}

/// A failed expectation (or the reason a test could not run), where it is written.
#[derive(Clone, Debug, Serialize)]
pub struct TestFailure {
    /// What was expected and what the decision was.
    pub message: String,
    /// The `expect` line (or the test, when it could not run).
    pub location: Location,
}

/// Which rules and clauses the tests exercised: a clause is covered when,
/// in some test, it held and produced a finding.
#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
    /// Rules with at least one covered clause.
    pub rules_covered: usize,
    /// Every rule.
    pub rules_total: usize,
    /// Clauses that decided something in some test.
    pub clauses_covered: usize,
    /// Every clause.
    pub clauses_total: usize,
    /// Per rule, in name order.
    pub rules: Vec<RuleCoverage>,
}

/// One rule's coverage.
#[derive(Clone, Debug, Serialize)]
pub struct RuleCoverage {
    /// `package.rule`.
    pub rule: String,
    /// Where the rule is declared.
    pub location: Location,
    /// Whether any of its clauses is covered.
    pub covered: bool,
    /// Each clause, in source order.
    pub clauses: Vec<ClauseCoverage>,
}

/// One clause's coverage.
#[derive(Clone, Debug, Serialize)]
pub struct ClauseCoverage {
    /// Where the clause is written.
    pub location: Location,
    /// Its effect as written.
    pub effect: Effect,
    /// Whether it held in some test.
    pub covered: bool,
}

/// The folders a policy set's files were read from: where its tests find
/// their fixtures, and the bound those stay inside.
#[derive(Clone, Debug, Default)]
pub struct PolicyFolders {
    /// What the set's file paths are relative to (empty: the working
    /// folder, for a set composed of several folders).
    pub root: PathBuf,
    /// The folders themselves; a fixture is read only inside the one that
    /// holds the policy file naming it.
    pub folders: Vec<PathBuf>,
}

impl PolicyFolders {
    /// The folders of a set read from one folder.
    pub fn single(folder: &Path) -> PolicyFolders {
        PolicyFolders {
            root: folder.to_path_buf(),
            folders: vec![folder.to_path_buf()],
        }
    }

    /// The folder holding the policy file `file` (a path of the set), and
    /// the file's own folder within it.
    pub(crate) fn folder_of(&self, file: &str) -> Option<(&Path, PathBuf)> {
        let file_dir = |inside: &str| {
            Path::new(inside)
                .parent()
                .map_or_else(PathBuf::new, Path::to_path_buf)
        };
        if self.folders.len() == 1 && self.folders[0] == self.root {
            return Some((&self.folders[0], file_dir(file)));
        }
        self.folders.iter().find_map(|folder| {
            let prefix = folder.to_string_lossy().replace('\\', "/");
            let prefix = prefix.strip_prefix("./").unwrap_or(&prefix);
            let inside = file.strip_prefix(prefix)?.strip_prefix('/')?;
            Some((folder.as_path(), file_dir(inside)))
        })
    }
}

impl crate::PolicySources {
    /// Where this set's files were read from.
    pub fn policy_folders(&self) -> PolicyFolders {
        PolicyFolders {
            root: self.root.clone(),
            folders: self.folders.clone(),
        }
    }
}

/// Reads the document a test's `fixture("…")` names: `named` is relative to
/// `file_dir` (the naming policy file's folder inside `folder`), and is read
/// within `limits`, as a regular file inside `folder` (E0410 otherwise).
pub fn read_fixture(
    folder: &Path,
    file_dir: &Path,
    named: &str,
    limits: &InputLimits,
) -> Result<Document, EngineError> {
    let text = crate::files::read_confined(folder, &file_dir.join(named), limits.max_bytes)?;
    Document::parse_with(
        &folder.join(file_dir).join(named).display().to_string(),
        &text,
        limits,
    )
}

impl Engine {
    /// Runs the `test` blocks whose full name contains `filter` (all of them
    /// when it is `None`), with the default limits. Fixtures are read from
    /// `folders` (see [`PolicyFolders`]).
    pub fn run_tests(&self, folders: Option<&PolicyFolders>, filter: Option<&str>) -> TestRun {
        self.run_tests_with(
            folders,
            filter,
            &DecideOptions::default(),
            &InputLimits::INPUT,
        )
    }

    /// [`Engine::run_tests`] with each decision's options and the limits of
    /// the fixtures it reads.
    pub fn run_tests_with(
        &self,
        folders: Option<&PolicyFolders>,
        filter: Option<&str>,
        options: &DecideOptions,
        limits: &InputLimits,
    ) -> TestRun {
        let program = self.program();
        let mut tests = Vec::new();
        let mut decided: HashSet<(RuleId, u32)> = HashSet::new();
        let selected = self
            .tests()
            .iter()
            .filter(|t| filter.is_none_or(|f| t.name.contains(f)));
        for test in selected {
            let mut result = TestResult {
                name: test.name.clone(),
                location: location(program, test.span),
                status: TestStatus::Passed,
                failures: Vec::new(),
                decision: None,
            };
            match self.run_one(test, folders, options, limits) {
                Err((message, span)) => {
                    result.status = TestStatus::Error;
                    result.failures.push(TestFailure {
                        message,
                        location: span
                            .map_or_else(|| result.location.clone(), |s| location(program, s)),
                    });
                }
                Ok((decision, outcome)) => {
                    // Covered: held and decided something (a clause that
                    // failed to evaluate did not hold).
                    let held = outcome
                        .findings
                        .iter()
                        .chain(&outcome.warnings)
                        .chain(outcome.waived.iter().map(|w| &w.finding))
                        .filter(|f| f.error.is_none());
                    decided.extend(held.map(|f| (f.rule, f.clause)));
                    for expectation in &test.expects {
                        if let Some(message) = unmet(program, expectation, &decision, &outcome) {
                            result.failures.push(TestFailure {
                                message,
                                location: location(program, expectation.span),
                            });
                        }
                    }
                    if !result.failures.is_empty() {
                        result.status = TestStatus::Failed;
                    }
                    result.decision = Some(decision);
                }
            }
            tests.push(result);
        }
        let count = |s: TestStatus| tests.iter().filter(|t| t.status == s).count();
        let summary = TestSummary {
            total: tests.len(),
            passed: count(TestStatus::Passed),
            failed: count(TestStatus::Failed),
            errors: count(TestStatus::Error),
        };
        TestRun {
            summary,
            coverage: coverage(program, &decided),
            tests,
        }
    }

    /// What a test decides, read: its target, its input (a fixture read and
    /// patched), the data documents and waivers it gives, and its time; or
    /// why it cannot be read (and where, when a fixture is to blame).
    fn case(
        &self,
        test: &Test,
        folders: Option<&PolicyFolders>,
        limits: &InputLimits,
    ) -> Result<TestCase, (String, Option<warden_diagnostics::Span>)> {
        let program = self.program();
        let Some((target, input)) = &test.given else {
            return Err((
                "the test gives no input: add `given TARGET = …`".into(),
                None,
            ));
        };
        let read = |input: &TestInput| -> Result<Json, (String, Option<warden_diagnostics::Span>)> {
            match input {
                TestInput::Inline(json) => Ok(json.clone()),
                TestInput::Fixture {
                    path,
                    patches,
                    span,
                } => {
                    let fail = |message: String| (message, Some(*span));
                    let Some(folders) = folders else {
                        return Err(fail(format!(
                            "fixture `{path}`: fixtures are read from a policy folder on disk"
                        )));
                    };
                    let (file, _, _) = program.location(*span);
                    let Some((folder, file_dir)) = folders.folder_of(file) else {
                        return Err(fail(format!(
                            "fixture `{path}`: the policy file `{file}` is in none of the policy folders"
                        )));
                    };
                    let coded = |e: EngineError| match e {
                        EngineError::Io { path, source } => {
                            format!("cannot read fixture `{path}`: {source}")
                        }
                        // One base for both paths: the fixture as the test
                        // names it, joined to the test file's folder.
                        EngineError::OutsideFolder {
                            folder: shown, why, ..
                        } => format!(
                            "[{}] fixture `{path}` (from `{}`) is outside the policy folder `{shown}`: {why}",
                            warden_diagnostics::Code::E0410,
                            folder.join(&file_dir).display()
                        ),
                        e => format!(
                            "[{}] fixture `{path}`: {e}",
                            e.code().unwrap_or(warden_diagnostics::Code::E0403)
                        ),
                    };
                    let document = read_fixture(folder, &file_dir, path, limits)
                        .map_err(|e| fail(coded(e)))?;
                    let mut value = document.value;
                    warden_sema::apply_patches(&mut value, patches);
                    // A patch may nest the document deeper: the limit holds after it too.
                    if json_depth(&value) > limits.clamped().max_depth {
                        return Err(fail(coded(EngineError::TooDeep {
                            name: document.name,
                            limit: limits.clamped().max_depth,
                        })));
                    }
                    Ok(value)
                }
            }
        };
        let mut data = serde_json::Map::new();
        for (id, value) in &test.data {
            data.insert(program.data[id.index()].name.to_string(), read(value)?);
        }
        if let Some(waivers) = &test.waivers {
            data.insert("waivers".into(), read(waivers)?);
        }
        Ok(TestCase {
            name: test.name.clone(),
            target: program.target(*target).name.to_string(),
            input: read(input)?,
            data,
            now: test
                .at
                .map_or_else(SystemTime::now, crate::engine::time_of_micros),
            fixture: match input {
                TestInput::Fixture { span, .. } => Some(*span),
                TestInput::Inline(_) => None,
            },
        })
    }

    /// The engine with a test case's data documents given (`given
    /// data.NAME`), each merged as `--data NAME=FILE` would: how `warden
    /// diff --tests`, `warden verify` and the editor decide a case.
    pub fn with_test_data(
        &self,
        data: &serde_json::Map<String, Json>,
    ) -> Result<Engine, EngineError> {
        let mut engine = self.clone();
        for (name, value) in data {
            let mut one = serde_json::Map::new();
            one.insert(name.clone(), value.clone());
            engine = engine.with_data(&Json::Object(one))?;
        }
        Ok(engine)
    }

    /// Every test's input as read ([`TestCase`]), or why a test's cannot
    /// be: what `warden diff` decides again with another policy set.
    pub fn test_cases(
        &self,
        folders: Option<&PolicyFolders>,
        limits: &InputLimits,
    ) -> Vec<Result<TestCase, String>> {
        self.tests()
            .iter()
            .map(|test| self.case(test, folders, limits).map_err(|(why, _)| why))
            .collect()
    }

    /// The test's decision and the outcome it was built from, or why it
    /// could not run (and where, when a fixture is to blame).
    fn run_one(
        &self,
        test: &Test,
        folders: Option<&PolicyFolders>,
        options: &DecideOptions,
        limits: &InputLimits,
    ) -> Result<(Decision, Outcome), (String, Option<warden_diagnostics::Span>)> {
        let case = self.case(test, folders, limits)?;
        let mut engine = self.clone();
        for (name, value) in &case.data {
            engine = engine
                .with_data(&json!({ name: value }))
                .map_err(|e| (e.to_string(), None))?;
        }
        engine
            .decide_outcome(&case.target, &case.input, case.now, options)
            .map_err(|e| {
                // An input mismatch is the fixture's (or the inline input's) fault.
                (format!("[{}] {e}", e.code()), case.fixture)
            })
    }
}

/// A test's input as read, with what it gives beside it.
#[derive(Clone, Debug)]
pub struct TestCase {
    /// `package.test`.
    pub name: String,
    /// The target it decides.
    pub target: String,
    /// The input, fixture read and patches laid over it.
    pub input: Json,
    /// The data documents it gives (`given data.NAME`), and `waivers`.
    pub data: serde_json::Map<String, Json>,
    /// Its time (`at`), else now.
    pub now: SystemTime,
    /// The fixture's place, when the input is one.
    fixture: Option<warden_diagnostics::Span>,
}

/// The rules a failed expectation names, each once.
const DESCRIBED_RULES: usize = 20;

/// Why `expectation` does not hold for the test's outcome, or `None` when
/// it does. Expectations compare rule ids; `decision` only words the failure.
fn unmet(
    program: &Program,
    expectation: &Expectation,
    decision: &Decision,
    outcome: &Outcome,
) -> Option<String> {
    let effect = expectation.effect;
    let describe = || {
        // Each (effect, rule) once, with how many findings it made: a
        // decision can hold tens of thousands of findings of one rule.
        let mut counted: Vec<((Option<Effect>, &str), usize)> = Vec::new();
        let named = decision
            .findings
            .iter()
            .chain(&decision.warnings)
            .map(|f| (Some(f.effect), &*f.rule))
            .chain(decision.waived.iter().map(|f| (None, &*f.rule)));
        for name in named {
            match counted.iter().position(|(n, _)| *n == name) {
                Some(at) => counted[at].1 += 1,
                None if counted.len() < DESCRIBED_RULES => counted.push((name, 1)),
                None => {}
            }
        }
        let listed: usize = counted.iter().map(|(_, n)| n).sum();
        let all = decision.findings.len() + decision.warnings.len() + decision.waived.len();
        let mut parts: Vec<String> = counted
            .into_iter()
            .map(|((effect, rule), n)| {
                let name = match effect {
                    Some(effect) => format!("{effect} {rule}"),
                    None => format!("waived {rule}"),
                };
                if n == 1 {
                    name
                } else {
                    format!("{name} ×{n}")
                }
            })
            .collect();
        if all > listed {
            parts.push(format!("{} more findings", all - listed));
        }
        if parts.is_empty() {
            let why = decision.reason.as_deref().unwrap_or("no findings");
            format!("the decision was {} ({why})", decision.decision)
        } else {
            format!(
                "the decision was {} ({})",
                decision.decision,
                parts.join(", ")
            )
        }
    };
    // Warnings name rules from warn findings and from waivers that expired
    // or failed to evaluate (their finding stands, with a warning).
    let mut warned = outcome
        .warnings
        .iter()
        .map(|f| f.rule)
        .chain(outcome.expired_waivers.iter().map(|w| w.rule))
        .chain(outcome.waiver_failures.iter().map(|(w, _)| w.rule));
    let name = |r: RuleId| &program.rule(r).name;
    let (holds, what) = match (effect, expectation.rule) {
        (_, Some(r)) if expectation.waived => (
            outcome.waived.iter().any(|w| w.finding.rule == r),
            format!("a waived finding of {}", name(r)),
        ),
        (Effect::Warn, None) => (warned.next().is_some(), "a warning".to_string()),
        (Effect::Warn, Some(r)) => (
            warned.any(|w| w == r),
            format!("a warning from {}", name(r)),
        ),
        (Effect::Deny | Effect::Allow, None) => (
            outcome.allowed == (effect == Effect::Allow),
            effect.to_string(),
        ),
        (Effect::Deny | Effect::Allow, Some(r)) => (
            outcome
                .findings
                .iter()
                .any(|f| f.rule == r && f.effect == effect),
            format!("{effect} from {}", name(r)),
        ),
    };
    if holds == expectation.negated {
        let not = if expectation.negated { "no " } else { "" };
        return Some(format!("expected {not}{what}; {}", describe()));
    }
    for (key, want) in &expectation.obligations {
        match decision.obligations.get(key) {
            Some(got) if got == want => {}
            Some(got) => {
                return Some(format!("expected obligation `{key}` = {want}, found {got}"));
            }
            None => {
                return Some(format!(
                    "expected obligation `{key}` = {want}; it is absent"
                ));
            }
        }
    }
    None
}

fn coverage(program: &Program, decided: &HashSet<(RuleId, u32)>) -> Coverage {
    let mut rules: Vec<RuleCoverage> = program
        .rules
        .iter()
        .enumerate()
        .map(|(id, rule)| {
            let clauses: Vec<ClauseCoverage> = (0u32..)
                .zip(&rule.clauses)
                .map(|(index, clause)| ClauseCoverage {
                    covered: decided.contains(&(RuleId(id as u32), index)),
                    effect: clause.effect,
                    location: location(program, clause.span),
                })
                .collect();
            RuleCoverage {
                rule: rule.name.clone(),
                location: location(program, rule.span),
                covered: clauses.iter().any(|c| c.covered),
                clauses,
            }
        })
        .collect();
    rules.sort_by(|a, b| a.rule.cmp(&b.rule));
    Coverage {
        rules_covered: rules.iter().filter(|r| r.covered).count(),
        rules_total: rules.len(),
        clauses_covered: rules
            .iter()
            .flat_map(|r| &r.clauses)
            .filter(|c| c.covered)
            .count(),
        clauses_total: rules.iter().map(|r| r.clauses.len()).sum(),
        rules,
    }
}

/// How deeply lists and objects nest in `value` (walked with a stack of its own).
fn json_depth(value: &Json) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Json>> = match v {
            Json::Array(items) => Box::new(items.iter()),
            Json::Object(entries) => Box::new(entries.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    deepest
}
