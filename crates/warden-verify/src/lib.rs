//! Symbolic checks of policy sets with an SMT solver (z3).
//!
//! `verify` proves or refutes, for every input of a target's type whose
//! lists hold at most `max_items` elements:
//!
//! - [`Check::Tightening`]: the changed set allows nothing the base denies;
//! - [`Check::Equivalent`]: the two sets decide every input alike;
//! - [`Check::NeverFires`]: a rule makes no finding for any input;
//! - [`Check::AlwaysDenies`]: a target allows no input.
//!
//! A refutation comes with a counterexample input, and is reported only
//! after the real evaluator, deciding that input, agrees; a proof holds
//! within the bound and for any behaviour of what verify abstracted (see
//! `encode`). `docs/analysis.md` says what is encoded and what is not.
//!
//! Without the `solver` feature the crate builds without z3, and
//! [`verify`] answers [`VerifyError::NoSolver`].

#[cfg(feature = "solver")]
mod encode;
#[cfg(feature = "solver")]
mod input;
#[cfg(feature = "solver")]
mod regex;
#[cfg(feature = "solver")]
mod sym;

use serde::Serialize;
use serde_json::Value as Json;
use std::time::{Duration, SystemTime};
use warden::Engine;

/// What to prove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// The changed set allows nothing the base set denies.
    Tightening,
    /// The base and the changed set decide every input alike.
    Equivalent,
    /// The rule (`package.rule`) makes a finding for no input: none of its
    /// clauses holds, and none fails (a failure is a deny finding too).
    NeverFires { rule: String },
    /// The target allows no input.
    AlwaysDenies { target: String },
    /// Removing the rule changes no decision: whenever it denies, another
    /// rule denies too, and whenever it allows, another allows too (or the
    /// target allows by default).
    Shadowed { rule: String },
}

impl Check {
    pub fn name(&self) -> &'static str {
        match self {
            Check::Tightening => "tightening",
            Check::Equivalent => "equivalent",
            Check::NeverFires { .. } => "never-fires",
            Check::AlwaysDenies { .. } => "always-denies",
            Check::Shadowed { .. } => "shadowed",
        }
    }
    /// Whether it compares two policy sets.
    pub fn compares(&self) -> bool {
        matches!(self, Check::Tightening | Check::Equivalent)
    }
}

/// The bound and the budget of a check.
#[derive(Clone, Debug)]
pub struct Options {
    /// The most elements an input list holds.
    pub max_items: u32,
    /// How long the solver may take per target.
    pub timeout: Duration,
    /// The evaluation time (`now()`, waivers' `until`).
    pub now: SystemTime,
    /// The targets compared (all the two sets share when `None`).
    pub targets: Option<Vec<String>>,
    /// Bounds for particular lists, by path (`spec.logging.fields`; the
    /// items of a list written `spec.roles[].scopes`), over `max_items`.
    pub list_bounds: Vec<(String, u32)>,
    /// Say on standard error how the search goes (each candidate).
    pub progress: bool,
    /// The policy folder, where its tests' fixtures are read from (the
    /// tests' inputs are tried before any solving).
    pub policy_folder: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_items: 3,
            timeout: Duration::from_secs(30),
            now: SystemTime::now(),
            targets: None,
            list_bounds: Vec::new(),
            progress: false,
            policy_folder: None,
        }
    }
}

/// The most elements per list verify accepts as a bound.
pub const MOST_ITEMS: u32 = 16;
/// The longest solver budget per target.
pub const MOST_TIMEOUT: Duration = Duration::from_secs(3_600);

/// A check's answer, one result per target.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub check: &'static str,
    pub max_items: u32,
    /// The bounds `--items` gave particular lists, by path.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub list_bounds: std::collections::BTreeMap<String, u32>,
    pub results: Vec<TargetResult>,
}

impl Report {
    /// Every result holds.
    pub fn holds(&self) -> bool {
        self.results.iter().all(|r| r.verdict == Verdict::Holds)
    }
    /// Some result fails (with a counterexample).
    pub fn fails(&self) -> bool {
        self.results.iter().any(|r| r.verdict == Verdict::Fails)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Proved for every input within the bound.
    Holds,
    /// Refuted: the counterexample shows it, confirmed by the evaluator.
    Fails,
    /// Neither: the solver ran out of time, or its counterexample rests on
    /// something verify abstracted and the evaluator decides otherwise.
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Fails => "fails",
            Verdict::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TargetResult {
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub verdict: Verdict,
    /// Why the verdict is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the bound may leave out: a proof over lists of at most 3
    /// elements says nothing of an input that must list 9 values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The test whose input refutes the property, when one does (decided
    /// at `--now`, with the data given, as any counterexample).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_test: Option<String>,
    /// The input that refutes the property (or the solver's candidate,
    /// when the evaluator did not confirm it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Json>,
    /// The base set's decision on the counterexample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<DecisionSummary>,
    /// The (changed) set's decision on the counterexample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<DecisionSummary>,
    /// What was abstracted rather than encoded.
    pub abstracted: Vec<Abstraction>,
}

/// A decision, briefly: allow or deny, and the rules with findings.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DecisionSummary {
    pub decision: String,
    /// Rules with a deny or allow finding (a failure with its code).
    pub findings: Vec<String>,
    /// Rules with a warning, or a deny finding a waiver lifted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[cfg(feature = "solver")]
pub use encode::Abstraction;

/// A clause (or waiver condition) verify did not encode.
#[cfg(not(feature = "solver"))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Abstraction {
    pub rule: String,
    pub location: String,
    pub why: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "this build of warden has no solver: install it with `cargo install --locked --path crates/warden-cli --features verify` (needs Debian's libz3-dev)"
    )]
    NoSolver,
    #[error("no rule `{name}` in the policy set")]
    UnknownRule { name: String },
    #[error("no target `{name}` in the policy set{}", known_list(.known))]
    UnknownTarget { name: String, known: Vec<String> },
    #[error("the two policy sets share no target to compare")]
    NothingToCompare,
    #[error(
        "`--items {path}=…` names no list of any target's input (write items of a list as `[]`: `spec.roles[].scopes`)"
    )]
    NoSuchList { path: String },
    #[error("`{what}` must be between {least} and {most}")]
    OutOfRange {
        what: &'static str,
        least: String,
        most: String,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (it has {})", known.join(", "))
    }
}

impl VerifyError {
    pub fn code(&self) -> warden_diagnostics::Code {
        match self {
            VerifyError::NoSolver => warden_diagnostics::Code::E0701,
            _ => warden_diagnostics::Code::E0702,
        }
    }
}

/// The encoding's decision on one concrete input, for tests that hold it
/// against the evaluator's: `None` where it rests on an abstraction.
#[derive(Clone, Debug)]
pub struct EncodedDecision {
    pub allowed: Option<bool>,
    pub fires: Vec<(String, Option<bool>)>,
    pub abstracted: Vec<Abstraction>,
}

/// The encoded decision on `input` (for tests of the encoding): `Ok(None)`
/// when the input has a list longer than `options.max_items`.
#[cfg(feature = "solver")]
#[doc(hidden)]
pub fn encoded_decision(
    engine: &Engine,
    target: &str,
    input: &Json,
    options: &Options,
) -> Result<Option<EncodedDecision>, String> {
    solve::encoded(engine, target, input, options)
}

/// Whether this build carries the solver.
pub fn solver_available() -> bool {
    cfg!(feature = "solver")
}

/// Runs `check` over `policy` (and `base`, for the checks that compare).
pub fn verify(
    check: &Check,
    base: Option<&Engine>,
    policy: &Engine,
    options: &Options,
) -> Result<Report, VerifyError> {
    if !(1..=MOST_ITEMS).contains(&options.max_items) {
        return Err(VerifyError::OutOfRange {
            what: "--max-items",
            least: "1".into(),
            most: MOST_ITEMS.to_string(),
        });
    }
    if let Some((path, _)) = options
        .list_bounds
        .iter()
        .find(|(_, n)| !(1..=MOST_ITEMS).contains(n))
    {
        return Err(VerifyError::OutOfRange {
            what: if path.is_empty() {
                "--items"
            } else {
                "--items PATH=N"
            },
            least: "1".into(),
            most: MOST_ITEMS.to_string(),
        });
    }
    if options.timeout.is_zero() || options.timeout > MOST_TIMEOUT {
        return Err(VerifyError::OutOfRange {
            what: "--timeout",
            least: "1 s".into(),
            most: format!("{} s", MOST_TIMEOUT.as_secs()),
        });
    }
    #[cfg(feature = "solver")]
    {
        solve::run(check, base, policy, options)
    }
    #[cfg(not(feature = "solver"))]
    {
        let _ = (check, base, policy);
        Err(VerifyError::NoSolver)
    }
}

#[cfg(feature = "solver")]
mod solve {
    use super::*;
    use crate::encode::{Application, Applied, Encoder};
    use crate::input::{Input, Unpinned, merge_json};
    use std::time::Instant;
    use warden::DecideOptions;
    use warden_ir::Value;
    use z3::ast::{Bool, Int};
    use z3::{Model, Params, SatResult, Solver};

    /// The most candidates the solver proposes (each refuted by the
    /// evaluator teaching it what it had abstracted) before verify says
    /// unknown.
    const MOST_ROUNDS: u32 = 64;

    use warden::micros;

    /// One policy set's side of a check: its decision over the input.
    struct Side<'e> {
        engine: &'e Engine,
        input: Input,
        decision: crate::encode::Decision,
        abstracted: Vec<Abstraction>,
        applications: Vec<Application>,
    }

    /// What of the input decisions read: what the rules read, less what
    /// only messages and obligations read (they do not change a decision).
    fn decision_reads(
        program: &warden_ir::Program,
        target: warden_ir::TargetId,
    ) -> warden_ir::Reads {
        let mut stripped = program.clone();
        for rule in &mut stripped.rules {
            for clause in &mut rule.clauses {
                clause.message = None;
                clause.obligations.clear();
            }
        }
        warden_ir::input_reads(&stripped, target)
    }

    /// Why a side could not be built.
    enum SideError {
        /// The input at this bound has more values than verify builds.
        TooLarge(String),
        NoTarget(String),
    }

    impl SideError {
        fn message(self) -> String {
            match self {
                SideError::TooLarge(m) | SideError::NoTarget(m) => m,
            }
        }
    }

    fn side<'e>(
        engine: &'e Engine,
        target: &str,
        options: &Options,
    ) -> Result<Side<'e>, SideError> {
        let program = engine.compiled_program();
        let (data, data_waivers) = engine.compiled_data();
        let Some(target_id) = program.target_by_name(target) else {
            return Err(SideError::NoTarget(format!("no target `{target}`")));
        };
        let ty = program.target(target_id).ty.clone();
        let reads = decision_reads(program, target_id);
        let input = Input::build(
            &program.types,
            &ty,
            &reads,
            options.max_items,
            &options.list_bounds,
        )
        .map_err(|_| {
            SideError::TooLarge(format!(
                "an input of `{target}` with lists of {} elements has more than {} values: \
                 try a smaller --max-items",
                options.max_items,
                crate::input::MOST_LEAVES
            ))
        })?;
        let mut encoder = Encoder::new(program, data, data_waivers, micros(options.now));
        let decision = encoder.decision(target_id, &input.value, &input.extended());
        Ok(Side {
            engine,
            input,
            decision,
            abstracted: encoder.abstracted,
            applications: encoder.applications,
        })
    }

    fn set_timeout(solver: &Solver, timeout: Duration) {
        let mut params = Params::new();
        params.set_u32(
            "timeout",
            u32::try_from(timeout.as_millis())
                .unwrap_or(u32::MAX)
                .max(1),
        );
        solver.set_params(&params);
    }

    fn solver(timeout: Duration) -> Solver {
        let solver = Solver::new();
        set_timeout(&solver, timeout);
        solver
    }

    fn summary(decision: &warden::Decision) -> DecisionSummary {
        let named = |list: &mut dyn Iterator<Item = &warden::FindingReport>| {
            let mut names: Vec<String> = list
                .map(|f| match &f.code {
                    Some(code) => format!("{} ({code})", f.rule),
                    None => f.rule.to_string(),
                })
                .collect();
            names.dedup();
            names
        };
        DecisionSummary {
            decision: decision.decision.as_str().to_string(),
            findings: named(&mut decision.findings.iter()),
            warnings: named(&mut decision.warnings.iter().chain(&decision.waived)),
        }
    }

    /// Whether the decisions on one input refute `check` (`decisions`: the
    /// base's first when it compares).
    fn refutes(
        check: &Check,
        decisions: &[warden::Decision],
        policy: &Engine,
        target: &str,
    ) -> bool {
        let last = decisions.len() - 1;
        match check {
            Check::NeverFires { rule } => decisions[last]
                .findings
                .iter()
                .chain(&decisions[last].warnings)
                .chain(&decisions[last].waived)
                .any(|f| &*f.rule == rule),
            Check::AlwaysDenies { .. } => decisions[last].is_allowed(),
            Check::Shadowed { rule } => {
                let decision = &decisions[last];
                let others = |effect: warden::Effect| {
                    decision
                        .findings
                        .iter()
                        .any(|f| f.effect == effect && &*f.rule != rule)
                };
                let default_allow = policy
                    .targets()
                    .iter()
                    .any(|t| t.name == target && t.default_allow);
                let allowed_without = !others(warden::Effect::Deny)
                    && (default_allow || others(warden::Effect::Allow));
                decision.is_allowed() != allowed_without
            }
            Check::Tightening => !decisions[0].is_allowed() && decisions[1].is_allowed(),
            Check::Equivalent => decisions[0].is_allowed() != decisions[1].is_allowed(),
        }
    }

    /// The policy set's own test inputs of `target` that refute `check`,
    /// decided by the evaluator before any solving (with verify's data and
    /// at `--now`): a counterexample a test already holds is found at
    /// once, and the same every run.
    fn from_tests(
        check: &Check,
        engines: &[&Engine],
        target: &str,
        options: &Options,
    ) -> Option<(String, Json, Vec<warden::Decision>)> {
        let policy = engines[engines.len() - 1];
        let folders = options
            .policy_folder
            .as_deref()
            .map(warden::PolicyFolders::single);
        for case in policy
            .test_cases(folders.as_ref(), &warden::InputLimits::INPUT)
            .into_iter()
            .flatten()
            .filter(|case| case.target == target)
        {
            // Decided as the check asks: with the data given to verify and
            // at `--now` (not the test's own `given data` and `at`).
            let decisions: Option<Vec<warden::Decision>> = engines
                .iter()
                .map(|engine| engine.decide(target, &case.input, options.now).ok())
                .collect();
            let Some(decisions) = decisions else {
                continue;
            };
            if refutes(check, &decisions, policy, target) {
                return Some((case.name.clone(), case.input.clone(), decisions));
            }
        }
        None
    }

    fn undecided(solver: &Solver) -> String {
        let why = solver
            .get_reason_unknown()
            .unwrap_or_else(|| "unknown".into());
        if why.contains("timeout") || why.contains("canceled") {
            "the solver ran out of time (raise --timeout, or lower --max-items)".into()
        } else {
            format!("the solver could not decide: {why}")
        }
    }

    /// The encoded decision on one concrete input: whether it allows, and
    /// per rule whether it fires (`None`: the input does not fit the bound).
    pub(super) fn encoded(
        engine: &Engine,
        target: &str,
        input: &Json,
        options: &Options,
    ) -> Result<Option<EncodedDecision>, String> {
        let side = match side(engine, target, options) {
            Ok(side) => side,
            Err(SideError::TooLarge(_)) => return Ok(None),
            Err(why) => return Err(why.message()),
        };
        let types = &engine.compiled_program().types;
        let pins = match side.input.pin(types, input) {
            Ok(pins) => pins,
            Err(Unpinned::LongerThanBound) => return Ok(None),
            Err(Unpinned::Mismatch(why)) => return Err(why),
        };
        let solver = solver(options.timeout);
        for c in side.input.well_formed.iter().chain(&pins) {
            solver.assert(c);
        }
        match solver.check() {
            SatResult::Sat => {}
            SatResult::Unsat => {
                return Err("the input contradicts the encoding's well-formedness".into());
            }
            SatResult::Unknown => return Err(undecided(&solver)),
        }
        let model = solver.get_model().ok_or("no model")?;
        let value = |b: &Bool| model.eval(b, true).and_then(|b| b.as_bool());
        Ok(Some(EncodedDecision {
            allowed: value(&side.decision.allowed),
            fires: side
                .decision
                .fires
                .iter()
                .map(|(name, fires)| (name.clone(), value(fires)))
                .collect(),
            abstracted: side.abstracted,
        }))
    }

    pub(super) fn run(
        check: &Check,
        base: Option<&Engine>,
        policy: &Engine,
        options: &Options,
    ) -> Result<Report, VerifyError> {
        let program = policy.compiled_program();
        for (path, _) in &options.list_bounds {
            let names_a_list = base
                .into_iter()
                .chain(Some(policy))
                .flat_map(|e| {
                    let p = e.compiled_program();
                    p.targets.iter().map(move |t| (p, t.ty.clone()))
                })
                .any(|(p, ty)| list_at(&p.types, &ty, path));
            if !names_a_list {
                return Err(VerifyError::NoSuchList { path: path.clone() });
            }
        }
        let mut results = Vec::new();
        match check {
            Check::NeverFires { rule } | Check::Shadowed { rule } => {
                let Some(rule_id) = program.rule_by_name(rule) else {
                    return Err(VerifyError::UnknownRule { name: rule.clone() });
                };
                let target = program
                    .target(program.rule(rule_id).target)
                    .name
                    .to_string();
                results.push(search(check, None, policy, &target, options));
            }
            Check::AlwaysDenies { target } => {
                if program.target_by_name(target).is_none() {
                    return Err(VerifyError::UnknownTarget {
                        name: target.clone(),
                        known: program.targets.iter().map(|t| t.name.to_string()).collect(),
                    });
                }
                results.push(search(check, None, policy, target, options));
            }
            Check::Tightening | Check::Equivalent => {
                let base = base.ok_or(VerifyError::NothingToCompare)?;
                let base_program = base.compiled_program();
                let targets: Vec<String> = match &options.targets {
                    Some(names) => {
                        for name in names {
                            for p in [program, base_program] {
                                if p.target_by_name(name).is_none() {
                                    return Err(VerifyError::UnknownTarget {
                                        name: name.clone(),
                                        known: p
                                            .targets
                                            .iter()
                                            .map(|t| t.name.to_string())
                                            .collect(),
                                    });
                                }
                            }
                        }
                        names.clone()
                    }
                    None => program
                        .targets
                        .iter()
                        .map(|t| t.name.to_string())
                        .filter(|name| base_program.target_by_name(name).is_some())
                        .collect(),
                };
                if targets.is_empty() {
                    return Err(VerifyError::NothingToCompare);
                }
                for target in targets {
                    results.push(search(check, Some(base), policy, &target, options));
                }
            }
        }
        Ok(Report {
            check: check.name(),
            max_items: options.max_items,
            list_bounds: options.list_bounds.iter().cloned().collect(),
            results,
        })
    }

    /// Searches for a counterexample to `check` on `target`: the solver
    /// proposes one, the evaluator decides it; a candidate the evaluator
    /// decides otherwise teaches the solver what it had abstracted at
    /// that input (the real answers of the built-ins it left
    /// uninterpreted, the real outcome of the clauses it abstracted), and
    /// the search goes on, within the rounds and the time given.
    fn search(
        check: &Check,
        base: Option<&Engine>,
        policy: &Engine,
        target: &str,
        options: &Options,
    ) -> TargetResult {
        let mut result = TargetResult {
            target: target.to_string(),
            rule: match check {
                Check::NeverFires { rule } | Check::Shadowed { rule } => Some(rule.clone()),
                _ => None,
            },
            verdict: Verdict::Unknown,
            reason: None,
            note: None,
            from_test: None,
            counterexample: None,
            base: None,
            policy: None,
            abstracted: Vec::new(),
        };
        // The budget covers encoding too, not only the solver.
        let started = Instant::now();
        let engines: Vec<&Engine> = base.into_iter().chain(Some(policy)).collect();
        // The tests' inputs first: a refutation they hold needs no solver.
        // (Only with the test's own data and time; the evaluator decides.)
        if let Some((test, input, decisions)) = from_tests(check, &engines, target, options) {
            result.verdict = Verdict::Fails;
            result.from_test = Some(test);
            result.counterexample = Some(input);
            if base.is_some() {
                result.base = Some(summary(&decisions[0]));
            }
            result.policy = Some(summary(&decisions[decisions.len() - 1]));
            return result;
        }
        let mut sides = Vec::new();
        for engine in base.into_iter().chain(Some(policy)) {
            match side(engine, target, options) {
                Ok(side) => sides.push(side),
                Err(reason) => {
                    result.reason = Some(reason.message());
                    return result;
                }
            }
        }
        for side in &sides {
            for a in &side.abstracted {
                if !result.abstracted.contains(a) {
                    result.abstracted.push(a.clone());
                }
            }
        }
        let last = sides.len() - 1;
        let goal = match check {
            // It holds or fails (a failure is a deny finding too).
            Check::NeverFires { rule } => {
                let side = &sides[last];
                let of = |list: &[(String, Bool)]| {
                    list.iter()
                        .find(|(name, _)| name == rule)
                        .map(|(_, b)| b.clone())
                        .unwrap_or_else(sym::f)
                };
                sym::or(&[of(&side.decision.fires), of(&side.decision.fails)])
            }
            Check::AlwaysDenies { .. } => sides[last].decision.allowed.clone(),
            // Removing it would change the decision.
            Check::Shadowed { rule } => {
                let side = &sides[last];
                side.decision
                    .allowed
                    .xor(side.decision.allowed_without(rule))
            }
            Check::Tightening => sym::and(&[
                sym::not(&sides[0].decision.allowed),
                sides[1].decision.allowed.clone(),
            ]),
            Check::Equivalent => sides[0].decision.allowed.xor(&sides[1].decision.allowed),
        };
        let solver = solver(options.timeout);
        for side in &sides {
            for w in &side.input.well_formed {
                solver.assert(w);
            }
        }
        solver.assert(&goal);
        // Once a candidate shows the solver guessed a built-in wrong, the
        // next candidate is first looked for among inputs where each such
        // built-in sees only witnesses (strings its real answers are
        // known for), then anywhere.
        let witnessed = Bool::new_const("verify:witnessed");
        let mut taught: Vec<(usize, usize)> = Vec::new();
        for round in 0..MOST_ROUNDS {
            let left = options.timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                result.reason = Some(
                    "the solver ran out of time (raise --timeout, or lower --max-items)".into(),
                );
                return result;
            }
            let restricted = !taught.is_empty();
            // Among witnesses first, for a quarter of what is left (at
            // least 5 s): the rest for the search everywhere.
            let first = if restricted {
                left.min((left / 4).max(Duration::from_secs(5)))
            } else {
                left
            };
            set_timeout(&solver, first);
            let mut answer = if restricted {
                solver.check_assumptions(std::slice::from_ref(&witnessed))
            } else {
                solver.check()
            };
            if options.progress {
                eprintln!(
                    "verify {target}: candidate {} {} after {:.1} s",
                    round + 1,
                    match answer {
                        SatResult::Sat => "found",
                        SatResult::Unsat => "none left",
                        SatResult::Unknown => "not found in time",
                    },
                    started.elapsed().as_secs_f64()
                );
            }
            if restricted && answer != SatResult::Sat {
                // Nothing among the witnesses: search everywhere, in what is left.
                let left = options.timeout.saturating_sub(started.elapsed());
                if left.is_zero() {
                    result.reason = Some(
                        "the solver ran out of time (raise --timeout, or lower --max-items)".into(),
                    );
                    return result;
                }
                set_timeout(&solver, left);
                answer = solver.check();
            }
            match answer {
                SatResult::Unsat => {
                    // A proof about allowing, where nothing within the
                    // bound is allowed, says nothing.
                    if matches!(
                        check,
                        Check::Tightening | Check::Equivalent | Check::Shadowed { .. }
                    ) {
                        let anything = Solver::new();
                        set_timeout(&anything, Duration::from_secs(10));
                        for side in &sides {
                            for w in &side.input.well_formed {
                                anything.assert(w);
                            }
                        }
                        // What must be allowable for the proof to say
                        // anything: the changed set (a tightening), either
                        // set (an equivalence), the set with or without
                        // the rule (shadowed).
                        let allowed = match check {
                            Check::Tightening => sides[last].decision.allowed.clone(),
                            Check::Shadowed { rule } => sym::or(&[
                                sides[last].decision.allowed.clone(),
                                sides[last].decision.allowed_without(rule),
                            ]),
                            _ => sym::or(
                                &sides
                                    .iter()
                                    .map(|s| s.decision.allowed.clone())
                                    .collect::<Vec<_>>(),
                            ),
                        };
                        anything.assert(&allowed);
                        if anything.check() != SatResult::Sat {
                            result.reason = Some(format!(
                                "no input within the bound is allowed{}, so the proof says nothing: \
                                 raise the bound (see the note, if any)",
                                match check {
                                    Check::Tightening => " by the changed set",
                                    Check::Equivalent => " by either set",
                                    _ => " with the rule or without it",
                                }
                            ));
                            result.note = bound_note(&sides, target, options);
                            return result;
                        }
                    }
                    result.verdict = Verdict::Holds;
                    result.note = bound_note(&sides, target, options);
                    result.reason = None;
                    result.counterexample = None;
                    result.base = None;
                    result.policy = None;
                    return result;
                }
                SatResult::Unknown => {
                    result.reason = Some(undecided(&solver));
                    return result;
                }
                SatResult::Sat => {}
            }
            let Some(model) = solver.get_model() else {
                result.reason = Some("the solver gave no model".into());
                return result;
            };
            let json = sides
                .iter()
                .map(|side| {
                    side.input
                        .counterexample(&side.engine.compiled_program().types, &model)
                })
                .reduce(merge_json)
                .unwrap_or(Json::Null);
            let mut decisions = Vec::new();
            for side in &sides {
                match side
                    .engine
                    .decide_with(target, &json, options.now, &DecideOptions::default())
                {
                    Ok(decision) => decisions.push(decision),
                    Err(e) => {
                        result.counterexample = Some(json);
                        result.reason =
                            Some(format!("the evaluator refused the solver's candidate: {e}"));
                        return result;
                    }
                }
            }
            let confirmed = refutes(check, &decisions, policy, target);
            result.counterexample = Some(json.clone());
            if base.is_some() {
                result.base = Some(summary(&decisions[0]));
            }
            result.policy = Some(summary(&decisions[last]));
            if confirmed {
                result.verdict = Verdict::Fails;
                result.reason = None;
                return result;
            }
            // Teach the solver what the evaluator knows about this input.
            let mut learned = 0;
            for (index, side) in sides.iter().enumerate() {
                let wrong = refine(&solver, &model, side, options);
                learned += wrong.len();
                for app in wrong {
                    if taught.contains(&(index, app)) {
                        continue;
                    }
                    taught.push((index, app));
                    let app = &side.applications[app];
                    for fact in &app.witnessed {
                        solver.assert(fact);
                    }
                    solver.assert(witnessed.implies(&app.among_witnesses));
                }
            }
            if options.progress {
                eprintln!(
                    "verify {target}: the evaluator decides candidate {} otherwise; {learned} built-in answer(s) learned",
                    round + 1
                );
            }
            if learned == 0 {
                let cut_short = decisions.iter().any(|d| {
                    d.findings
                        .iter()
                        .any(|f| matches!(f.code.as_deref(), Some("E0501" | "E0505")))
                });
                let clauses_abstracted = result
                    .abstracted
                    .iter()
                    .any(|a| !a.why.contains("left uninterpreted"));
                result.reason = Some(if cut_short {
                    "the evaluator ran out of its step budget (or deadline) on the solver's candidate; verify does not model the budget".into()
                } else if clauses_abstracted {
                    "the solver's candidate rests on a clause verify abstracted (listed below), which the evaluator decides otherwise".into()
                } else if sides.len() == 2 {
                    "the solver's candidate is decided otherwise by the evaluator: where the two sets' input types differ, one set may read it otherwise".into()
                } else {
                    "the solver's candidate is decided otherwise by the evaluator, and there is nothing to learn from it (an encoding gap: please report it)".into()
                });
                return result;
            }
        }
        result.reason = Some(format!(
            "after {MOST_ROUNDS} candidates that rest on what verify abstracted, each decided otherwise by the evaluator"
        ));
        result
    }

    /// Whether `path` (`spec.logging.fields`, items as `[]`) leads to a
    /// list in `ty`.
    fn list_at(types: &warden_ir::TypeTable, ty: &warden_ir::Ty, path: &str) -> bool {
        use warden_ir::{Ty, TypeLookup};
        let mut ty = ty.present().clone();
        let mut rest = path;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("[]") {
                let Ty::List(inner) = ty else { return false };
                ty = inner.present().clone();
                rest = after.strip_prefix('.').unwrap_or(after);
                continue;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let (name, after) = rest.split_at(end);
            let Ty::Record(id) = ty else { return false };
            let def = types.record(id);
            let Some(slot) = def.slot(name) else {
                return false;
            };
            ty = def.fields[slot].ty.present().clone();
            rest = after.strip_prefix('.').unwrap_or(after);
        }
        matches!(ty, Ty::List(_))
    }

    /// A note when the policy writes a list of literals longer than the
    /// bound: an input holding all of them was not considered.
    fn bound_note(sides: &[Side<'_>], target: &str, options: &Options) -> Option<String> {
        let mut longest: Option<(usize, String)> = None;
        for side in sides {
            let program = side.engine.compiled_program();
            let Some(target_id) = program.target_by_name(target) else {
                continue;
            };
            let mut exprs: Vec<&warden_ir::Expr> = Vec::new();
            for &rule in &program.target(target_id).rules {
                exprs.extend(program.rule(rule).expressions());
            }
            exprs.extend(program.functions.iter().map(|f| &f.body));
            for e in exprs {
                e.walk(&mut |node| {
                    let len = match &node.kind {
                        warden_ir::ExprKind::List(items) => items.len(),
                        warden_ir::ExprKind::Const(warden_ir::Value::List(items)) => items.len(),
                        _ => 0,
                    };
                    if len > longest.as_ref().map_or(0, |l| l.0) {
                        let (file, line, column) = program.location(node.span);
                        longest = Some((len, format!("{file}:{line}:{column}")));
                    }
                });
            }
        }
        let (n, at) = longest?;
        let widest = options
            .list_bounds
            .iter()
            .map(|(_, b)| *b)
            .max()
            .unwrap_or(0)
            .max(options.max_items);
        (n as u32 > widest).then(|| {
            format!(
                "the policy writes a list of {n} values ({at}), and inputs were bounded to lists of {widest}: \
                 an input that must hold all of them was not considered; give that list its own bound \
                 (--items PATH={n}) or raise --max-items"
            )
        })
    }

    /// Asserts what the evaluator's decision on the candidate says about
    /// the side's abstractions where the model guessed wrong; returns the
    /// applications it guessed wrong.
    fn refine(solver: &Solver, model: &Model, side: &Side<'_>, options: &Options) -> Vec<usize> {
        let program = side.engine.compiled_program();
        let mut learned = Vec::new();
        let cx = warden_ir::builtins::CallContext {
            now: micros(options.now),
            types: &program.types,
        };
        for (index, app) in side.applications.iter().enumerate() {
            let Some((at, values)) = concrete_args(model, &app.args) else {
                continue;
            };
            let real = match &app.what {
                Applied::Builtin(builtin) => builtin.call(&values, &cx),
                Applied::Pattern(pattern) => match values.first() {
                    Some(Value::Str(s)) => warden_ir::builtins::compiled_regex(pattern)
                        .map(|re| Value::Bool(re.is_match(s))),
                    _ => continue,
                },
            };
            let mut facts = Vec::new();
            if let Some(fails) = &app.fails {
                facts.push(fails.eq(Bool::from_bool(real.is_err())));
            }
            if let Ok(value) = &real {
                match value {
                    Value::None => {
                        if let Some(present) = &app.present {
                            facts.push(sym::not(present));
                        }
                    }
                    other => {
                        if let Some(present) = &app.present {
                            facts.push(present.clone());
                        }
                        match (other, &app.value) {
                            (Value::Bool(b), v) => {
                                if let Some(v) = v.as_bool() {
                                    facts.push(v.eq(Bool::from_bool(*b)));
                                }
                            }
                            (Value::Int(i), v) => {
                                if let Some(v) = v.as_int() {
                                    facts.push(v.eq(Int::from_i64(*i)));
                                }
                            }
                            (Value::Str(s), v) => {
                                if let (Some(v), Some(s)) = (v.as_string(), sym::try_lit(s)) {
                                    facts.push(v.eq(s));
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            let fact = sym::and(&facts);
            // Only what the model got wrong is news.
            if model.eval(&fact, true).and_then(|b| b.as_bool()) == Some(false) {
                solver.assert(at.implies(&fact));
                learned.push(index);
            }
        }
        // Abstracted clauses are not taught: what one does at a single
        // input says nothing of the next candidate (see `docs/analysis.md`).
        learned
    }

    /// The model's values of an application's arguments: the condition
    /// "the arguments are these", and the values.
    fn concrete_args(model: &Model, args: &[z3::ast::Dynamic]) -> Option<(Bool, Vec<Value>)> {
        let mut at = Vec::new();
        let mut values = Vec::new();
        for arg in args {
            if let Some(s) = arg.as_string() {
                let text = sym::exact_text(&s, |part| model.eval(part, true))?;
                at.push(s.eq(sym::str_lit(&text)));
                values.push(Value::str(&text));
            } else if let Some(i) = arg.as_int() {
                let n = model.eval(&i, true)?.as_i64()?;
                at.push(i.eq(Int::from_i64(n)));
                values.push(Value::Int(n));
            } else if let Some(b) = arg.as_bool() {
                let v = model.eval(&b, true)?.as_bool()?;
                at.push(b.eq(Bool::from_bool(v)));
                values.push(Value::Bool(v));
            } else {
                return None;
            }
        }
        Some((sym::and(&at), values))
    }
}
