//! The engine: a compiled policy set, its data, and decisions.

use crate::decision::{self, Decision};
use crate::source::PolicySources;
use crate::{DecideError, EngineError, InputLimits, PathError};
use serde_json::Value as Json;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use warden_diagnostics::Diagnostic;
use warden_eval::DataWaiver;
use warden_ir::{DataId, Program, Value};

/// A compiled policy set with its data, ready to decide. `Send + Sync`: share
/// it behind an `Arc`; to reload, build a new one and swap it in whole.
#[derive(Clone, Debug)]
pub struct Engine {
    program: Arc<Program>,
    /// The program's rules compiled for the evaluator, once, at load.
    compiled: Arc<warden_eval::Compiled>,
    /// Per target: what its rules can read of an input; the rest of an
    /// input is checked against its type but not built.
    input_reads: Arc<[warden_ir::Reads]>,
    /// The set's `test` blocks, which [`Engine::run_tests`] runs.
    tests: Arc<[warden_sema::Test]>,
    warnings: Vec<Diagnostic>,
    revision: Arc<str>,
    /// What findings report that no decision changes, worked out once.
    reports: Arc<decision::Reports>,
    /// One value per declared data document (supplied, else its default, else none).
    pub(crate) data: Arc<[Value]>,
    supplied: Vec<bool>,
    /// Which documents `with_data` supplied (not just defaulted).
    given: Vec<bool>,
    data_waivers: Arc<[DataWaiver]>,
    /// Per target: the data documents its rules read.
    data_needed: Vec<Vec<DataId>>,
    /// The digest of each document `with_data` supplied, by name.
    data_digests: std::collections::BTreeMap<String, [u8; 32]>,
    /// `sha256:` over `data_digests`.
    data_revision: Arc<str>,
    /// The data files read by [`Engine::with_data_arg`]: a reload whose file
    /// is byte for byte the same takes its values from here.
    data_sources: Arc<[crate::data::DataSource]>,
    /// The signed bundle the sources and data came from, if any.
    bundle_revision: Option<Arc<str>>,
}

/// The data file documents came from, for a reload to share them: the
/// `--data` argument split (`NAME=FILE` or `FILE`) and the file's SHA-256.
type ReadFrom<'a> = Option<((Option<&'a str>, &'a str), [u8; 32])>;

/// A rule as a report describes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RuleInfo {
    /// `package.rule`.
    pub name: String,
    /// The target it is `on`.
    pub target: String,
    /// Its `@severity`.
    pub severity: crate::Severity,
    /// The checklist control (`@control`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// Its `///` documentation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// `@tags`.
    pub tags: Vec<String>,
    /// `@enforce(warn)`: its denials are reported as warnings.
    pub enforce_warn: bool,
    /// Where it is declared.
    pub location: crate::Location,
    /// Its source text.
    pub source: String,
}

/// A waiver as a report describes it: one a policy file declares, or one a
/// data file (`--data waivers.json`) supplies.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WaiverInfo {
    /// Its name (`package.waiver` for a declared one).
    pub name: String,
    /// The rule it waives (`package.rule`).
    pub rule: String,
    /// The subject it is limited to (a data waiver's `subject`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When it stops applying, RFC 3339.
    pub until: String,
    /// `until` in microseconds since the epoch.
    #[serde(skip)]
    pub until_micros: i64,
    /// Why the finding is accepted.
    pub reason: String,
    /// Who accepted it.
    pub approved_by: String,
    /// `policy` (a `waiver` declaration) or `data`.
    pub source: &'static str,
    /// Where a policy file declares it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<crate::Location>,
}

/// A target as callers see it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TargetInfo {
    /// Its name.
    pub name: String,
    /// `default allow`: an input no rule denies is allowed.
    pub default_allow: bool,
}

/// Switches for one decision: the evaluator's own options (one type from
/// the API to the evaluator).
pub use warden_eval::Options as DecideOptions;

impl Engine {
    /// Compiles every `*.warden` file below `dir` (or the one file named).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Engine, EngineError> {
        crate::Workspace::read(&[dir])?.engine()
    }

    /// Compiles policy texts held in memory.
    pub fn from_sources(sources: PolicySources) -> Result<Engine, EngineError> {
        crate::Workspace::from_sources(sources).engine()
    }

    /// Wraps a program that compiled without errors (what
    /// [`crate::Workspace::engine`] does).
    pub(crate) fn from_program(
        program: Arc<Program>,
        tests: Arc<[warden_sema::Test]>,
        warnings: Vec<Diagnostic>,
        revision: String,
    ) -> Engine {
        let data: Vec<Value> = program
            .data
            .iter()
            .map(|d| d.default.clone().unwrap_or(Value::None))
            .collect();
        let supplied = program.data.iter().map(|d| d.default.is_some()).collect();
        let given = vec![false; program.data.len()];
        let data_needed = (0..program.targets.len())
            .map(|t| program.data_read_by(warden_ir::TargetId(t as u32)))
            .collect();
        let input_reads = (0..program.targets.len())
            .map(|t| warden_ir::input_reads(&program, warden_ir::TargetId(t as u32)))
            .collect();
        Engine {
            compiled: Arc::new(warden_eval::Compiled::new(Arc::clone(&program))),
            input_reads,
            reports: Arc::new(decision::Reports::new(&program)),
            program,
            tests,
            warnings,
            revision: Arc::from(revision),
            data: data.into(),
            supplied,
            given,
            data_waivers: Arc::from([]),
            data_needed,
            data_digests: Default::default(),
            data_revision: Arc::from(crate::revision::data_revision(&Default::default())),
            data_sources: Arc::from([]),
            bundle_revision: None,
        }
    }

    /// Whether the policy set declares a data document of this name.
    pub fn declares_data(&self, name: &str) -> bool {
        self.program.data_by_name(name).is_some()
    }

    /// Merges a data object (`{"catalog": {...}}` supplies `data.catalog`), each
    /// document validated against its declaration; `waivers` adds waivers.
    pub fn with_data(self, json: &Json) -> Result<Engine, EngineError> {
        self.with_data_from(json, None)
    }

    fn with_data_from(self, json: &Json, source: ReadFrom<'_>) -> Result<Engine, EngineError> {
        let (values, waivers) = crate::data::load(&self.program, json)?;
        let digests = match json {
            Json::Object(documents) => documents
                .iter()
                .map(|(name, document)| (name.clone(), crate::revision::digest_json(document)))
                .collect(),
            _ => Vec::new(),
        };
        self.merge(
            crate::data::Streamed {
                values,
                waivers,
                digests,
            },
            source,
        )
    }

    /// Merges a `--data` argument: `FILE` holds the whole data object
    /// (`{"catalog": …}`), `NAME=FILE` the one document `data.NAME`, read
    /// within `limits`. The same as [`Engine::with_data`] over
    /// [`crate::read_data_arg_with`], but a JSON file is streamed from disk
    /// straight into values, with neither its text nor a JSON tree held: a
    /// 60 MB catalog loads in a fraction of the time and memory.
    pub fn with_data_arg(self, arg: &str, limits: &InputLimits) -> Result<Engine, EngineError> {
        self.with_data_arg_reusing(arg, limits, None)
    }

    /// [`Engine::with_data_arg`] for a reload: when `previous` read the same
    /// argument, the file is byte for byte what it read then (by SHA-256),
    /// and the documents' types are unchanged, its values are shared instead
    /// of read again, so a reload that changes only policies holds one copy
    /// of the data, not two.
    pub fn with_data_arg_reusing(
        self,
        arg: &str,
        limits: &InputLimits,
        previous: Option<&Engine>,
    ) -> Result<Engine, EngineError> {
        use std::io::{Read, Seek};
        let limits = limits.clamped();
        let (name, file) = crate::split_data_arg(arg, |whole| Path::new(whole).exists());
        let path = Path::new(file);
        let io = |source| EngineError::Io {
            path: file.to_string(),
            source,
        };
        let mut opened = crate::files::open_bounded(path, limits.max_bytes)?;
        if let Some(previous) = previous {
            let mut hashing = crate::revision::Hashing::new();
            let read = std::io::copy(
                &mut (&mut opened).take(limits.max_bytes as u64 + 1),
                &mut hashing,
            )
            .map_err(io)?;
            if read <= limits.max_bytes as u64 {
                let raw = hashing.finish();
                if let Some(reused) =
                    crate::data::reuse(previous, &self.program, (name, file), &raw)
                {
                    return self.merge(reused, Some(((name, file), raw)));
                }
            }
            opened.rewind().map_err(io)?;
        }
        // One byte past the limit, so a file that grew while read is noticed.
        let source = crate::data::HashingReader::new(opened.take(limits.max_bytes as u64 + 1));
        if let Some((streamed, raw)) =
            crate::data::load_streaming_from(&self.program, source, file, name, &limits)
        {
            return self.merge(streamed, Some(((name, file), raw)));
        }
        // YAML, or a file with an error: read whole, and the slow way says every error.
        let text = crate::files::read_file_bounded(path, limits.max_bytes)?;
        let raw = {
            let mut hashing = crate::revision::Hashing::new();
            std::io::Write::write_all(&mut hashing, text.as_bytes()).map_err(io)?;
            hashing.finish()
        };
        self.with_data_parsed(name, file, &text, &limits, Some(((name, file), raw)))
    }

    /// [`Engine::with_data_arg`] over text already read: `file` names it in
    /// errors (and, by its extension, says JSON or YAML), `name` is
    /// `Some("catalog")` when the text is the one document `data.catalog`.
    pub fn with_data_text(
        self,
        name: Option<&str>,
        file: &str,
        text: &str,
        limits: &InputLimits,
    ) -> Result<Engine, EngineError> {
        self.with_data_text_from(name, file, text, limits, None)
    }

    fn with_data_text_from(
        self,
        name: Option<&str>,
        file: &str,
        text: &str,
        limits: &InputLimits,
        source: ReadFrom<'_>,
    ) -> Result<Engine, EngineError> {
        let limits = limits.clamped();
        let text = crate::document::checked_text(file, text, &limits)?;
        if crate::document::looks_like_json(file, text)
            && let Some(streamed) =
                crate::data::load_streaming(&self.program, text.as_bytes(), name, &limits)
        {
            return self.merge(streamed, source);
        }
        // YAML, or a document with an error: the slow way says every error.
        self.with_data_parsed(name, file, text, &limits, source)
    }

    /// The slow way: the text parsed into a JSON tree, then converted, which
    /// lists every error with its path.
    fn with_data_parsed(
        self,
        name: Option<&str>,
        file: &str,
        text: &str,
        limits: &InputLimits,
        source: ReadFrom<'_>,
    ) -> Result<Engine, EngineError> {
        let document = crate::parse_document_with(file, text, limits)?;
        match name {
            Some(name) => self.with_data_from(&serde_json::json!({ name: document }), source),
            None => self.with_data_from(&document, source),
        }
    }

    /// Adds documents read; `source` (the argument and the file's SHA-256)
    /// keeps them for a reload to share.
    fn merge(
        mut self,
        streamed: crate::data::Streamed,
        source: ReadFrom<'_>,
    ) -> Result<Engine, EngineError> {
        let kept = source.and_then(|(split, raw)| {
            crate::data::DataSource::new(&self.program, split, raw, &streamed)
        });
        let crate::data::Streamed {
            values,
            waivers,
            digests,
        } = streamed;
        if !digests.is_empty() {
            self.data_digests.extend(digests);
            self.data_revision = Arc::from(crate::revision::data_revision(&self.data_digests));
        }
        let mut data = self.data.to_vec();
        for (id, value) in values {
            // Two files supplying one document: which wins would depend on argument order.
            if std::mem::replace(&mut self.given[id.index()], true) {
                return Err(EngineError::DuplicateData {
                    name: self.program.data[id.index()].name.to_string(),
                });
            }
            data[id.index()] = value;
            self.supplied[id.index()] = true;
        }
        self.data = data.into();
        if !waivers.is_empty() {
            let mut all = self.data_waivers.to_vec();
            all.extend(waivers);
            self.data_waivers = all.into();
        }
        if let Some(kept) = kept {
            let mut sources = self.data_sources.to_vec();
            sources.push(kept);
            self.data_sources = sources.into();
        }
        Ok(self)
    }

    /// The targets of the policy set, in declaration order.
    pub fn targets(&self) -> Vec<TargetInfo> {
        self.program
            .targets
            .iter()
            .map(|t| TargetInfo {
                name: t.name.to_string(),
                default_allow: t.default_allow,
            })
            .collect()
    }

    /// Whether the policy set declares the target `name`.
    pub fn has_target(&self, name: &str) -> bool {
        self.program.target_by_name(name).is_some()
    }

    /// Each rule's cost bound, in the sizes of the collections it walks
    /// (`warden lint --cost`), by rule name.
    pub fn rule_costs(&self) -> Vec<(String, warden_ir::CostBound)> {
        self.program
            .rules
            .iter()
            .map(|rule| (rule.name.clone(), warden_ir::rule_cost(&self.program, rule)))
            .collect()
    }

    /// The compiled program, for tests and benchmarks of what the compiler
    /// built (its indexes); only with the `internals` feature. Not part of
    /// the API: callers ask [`Engine::targets`], [`Engine::rules`] and
    /// [`Engine::decide`].
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub fn compiled_program(&self) -> &Program {
        &self.program
    }

    /// The data documents' values (one per declared document) and the
    /// waivers data files hold, as decisions read them; only with the
    /// `internals` feature, for the symbolic checks (`warden-verify`).
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub fn compiled_data(&self) -> (&[Value], &[DataWaiver]) {
        (&self.data, &self.data_waivers)
    }

    /// The program as the evaluator runs it (its rules compiled); only with
    /// the `internals` feature, for benchmarks of the evaluator alone.
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub fn compiled_rules(&self) -> &warden_eval::Compiled {
        &self.compiled
    }

    /// The compiled `test` blocks, for tests of what the compiler built;
    /// only with the `internals` feature. Callers ask [`Engine::run_tests`].
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub fn compiled_tests(&self) -> &[warden_sema::Test] {
        &self.tests
    }

    pub(crate) fn tests(&self) -> &[warden_sema::Test] {
        &self.tests
    }

    pub(crate) fn program(&self) -> &Program {
        &self.program
    }

    pub(crate) fn data_sources(&self) -> &[crate::data::DataSource] {
        &self.data_sources
    }

    /// Every rule, in name order: what `warden explain`, SARIF and JUnit reports show.
    pub fn rules(&self) -> Vec<RuleInfo> {
        let program = &self.program;
        let mut rules: Vec<RuleInfo> = program
            .rules
            .iter()
            .map(|rule| {
                let info = &program.files[rule.span.file.0 as usize];
                RuleInfo {
                    name: rule.name.clone(),
                    target: program.target(rule.target).name.to_string(),
                    severity: rule.severity,
                    control: rule.control.clone(),
                    doc: rule.doc.clone(),
                    tags: rule.tags.clone(),
                    enforce_warn: rule.enforce_warn,
                    location: crate::decision::location(program, rule.span),
                    source: info
                        .text
                        .get(rule.item_span.range.as_range())
                        .unwrap_or_default()
                        .to_string(),
                }
            })
            .collect();
        rules.sort_by(|a, b| a.name.cmp(&b.name));
        rules
    }

    /// Every waiver, from policy files then from data, each in name order.
    pub fn waivers(&self) -> Vec<WaiverInfo> {
        let program = &self.program;
        let info = |name: &str, rule, until: i64, reason: &str, approved_by: &str| WaiverInfo {
            name: name.to_string(),
            rule: program.rule(rule).name.clone(),
            subject: None,
            until: warden_ir::format_time(until),
            until_micros: until,
            reason: reason.to_string(),
            approved_by: approved_by.to_string(),
            source: "policy",
            location: None,
        };
        let mut declared: Vec<WaiverInfo> = program
            .waivers
            .iter()
            .map(|w| WaiverInfo {
                location: Some(crate::decision::location(program, w.span)),
                ..info(&w.name, w.rule, w.until, &w.reason, &w.approved_by)
            })
            .collect();
        declared.sort_by(|a, b| a.name.cmp(&b.name));
        let mut supplied: Vec<WaiverInfo> = self
            .data_waivers
            .iter()
            .map(|d| WaiverInfo {
                subject: d.subject.clone(),
                source: "data",
                ..info(
                    &d.waiver.name,
                    d.waiver.rule,
                    d.waiver.until,
                    &d.waiver.reason,
                    &d.waiver.approved_by,
                )
            })
            .collect();
        supplied.sort_by(|a, b| a.name.cmp(&b.name));
        declared.extend(supplied);
        declared
    }

    /// Warnings from compiling (lints); errors never reach an engine.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// `sha256:` of the sources.
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// `sha256:` of the data documents supplied (`with_data`), by name; the
    /// same documents give the same revision, whatever order they came in.
    pub fn data_revision(&self) -> &str {
        &self.data_revision
    }

    /// The revision of the bundle this engine was built from
    /// ([`Engine::with_bundle_revision`]), which every decision names.
    pub fn bundle_revision(&self) -> Option<&str> {
        self.bundle_revision.as_deref()
    }

    /// Records that the policies and data came from the bundle `revision`:
    /// its decisions name it (`bundle_revision`), beside the policy and
    /// data revisions.
    pub fn with_bundle_revision(mut self, revision: &str) -> Engine {
        self.bundle_revision = Some(Arc::from(revision));
        self
    }

    /// Decides `input` against `target` at time `now`.
    pub fn decide(
        &self,
        target: &str,
        input: &Json,
        now: SystemTime,
    ) -> Result<Decision, DecideError> {
        self.decide_with(target, input, now, &DecideOptions::default())
    }

    /// Decides with options (explain, step budget).
    pub fn decide_with(
        &self,
        target: &str,
        input: &Json,
        now: SystemTime,
        options: &DecideOptions,
    ) -> Result<Decision, DecideError> {
        self.decide_outcome(target, input, now, options)
            .map(|(decision, _)| decision)
    }

    /// Tries the decision within `steps` (fewer than its budget): `None`
    /// when it needs more, so the caller can decide it again, with the full
    /// budget, where a long evaluation holds nothing up (the server
    /// evaluates small decisions on the thread that read the request, and
    /// moves the rest to a pool). Decisions are deterministic, so the second
    /// try decides what the first would have.
    pub fn decide_within(
        &self,
        target: &str,
        input: &Json,
        now: SystemTime,
        options: &DecideOptions,
        steps: u64,
    ) -> Result<Option<Decision>, DecideError> {
        within(options, steps, |options| {
            self.decide_outcome(target, input, now, options)
        })
    }

    /// The decision, and the evaluator's outcome it was built from: what
    /// the test runner reads rule and clause ids from.
    pub(crate) fn decide_outcome(
        &self,
        target: &str,
        input: &Json,
        now: SystemTime,
        options: &DecideOptions,
    ) -> Result<(Decision, warden_eval::Outcome), DecideError> {
        let program = &*self.program;
        let target_id = self.decidable(target)?;
        let target_decl = program.target(target_id);
        let note = self.undeclared_mode(target_id, options) != warden_ir::UndeclaredFields::Allow;
        let reads = self.reads(target_id, options);
        let (value, undeclared) =
            warden_ir::json_to_value_reading(&program.types, &target_decl.ty, input, note, reads)
                .map_err(|errors| DecideError::InputMismatch {
                target: target.to_string(),
                errors: errors
                    .into_iter()
                    .map(|e| PathError {
                        path: e.path,
                        expected: e.expected,
                        found: e.found,
                    })
                    .collect(),
            })?;
        Ok(self.decide_value(target_id, &value, &undeclared, now, options))
    }

    /// The target `target`, when it exists and every data document its
    /// rules read was supplied.
    fn decidable(&self, target: &str) -> Result<warden_ir::TargetId, DecideError> {
        let program = &*self.program;
        let Some(target_id) = program.target_by_name(target) else {
            return Err(DecideError::UnknownTarget {
                target: target.to_string(),
                known: program.targets.iter().map(|t| t.name.to_string()).collect(),
            });
        };
        if let Some(missing) = self.data_needed[target_id.index()]
            .iter()
            .find(|d| !self.supplied[d.index()])
        {
            return Err(DecideError::MissingData {
                name: program.data[missing.index()].name.to_string(),
                target: target.to_string(),
            });
        }
        Ok(target_id)
    }

    /// What of an input to build: what the target's rules can read, or, to
    /// explain (a trace shows values whole) and for the reference form
    /// (`tree_walk`), all of it.
    fn reads(&self, target_id: warden_ir::TargetId, options: &DecideOptions) -> &warden_ir::Reads {
        if options.explain || options.tree_walk {
            warden_ir::Reads::whole()
        } else {
            &self.input_reads[target_id.index()]
        }
    }

    /// What becomes of input fields the target's type does not declare: the
    /// options' choice, else the target's `@undeclared_fields`.
    fn undeclared_mode(
        &self,
        target_id: warden_ir::TargetId,
        options: &DecideOptions,
    ) -> warden_ir::UndeclaredFields {
        options
            .undeclared_fields
            .unwrap_or(self.program.target(target_id).undeclared_fields)
    }

    /// Decides an input already converted to the target's type.
    fn decide_value(
        &self,
        target_id: warden_ir::TargetId,
        value: &Value,
        undeclared: &[warden_ir::UndeclaredField],
        now: SystemTime,
        options: &DecideOptions,
    ) -> (Decision, warden_eval::Outcome) {
        let program = &*self.program;
        let undeclared_mode = self.undeclared_mode(target_id, options);
        let now = micros(now);
        let outcome = warden_eval::decide(
            &self.compiled,
            target_id,
            value,
            &self.data,
            &self.data_waivers,
            now,
            options,
        );
        let cx = decision::Context {
            program,
            reports: &self.reports,
            target: target_id,
            input: value,
            revision: &self.revision,
            data_revision: &self.data_revision,
            bundle_revision: self.bundle_revision.as_ref(),
            now,
            element_paths: Default::default(),
            trace_steps_left: std::cell::Cell::new(decision::TRACE_STEPS_PER_DECISION),
            trace_parts_left: std::cell::Cell::new(decision::TRACE_PARTS_PER_DECISION),
        };
        let mut decision = decision::build(&cx, &outcome);
        decision::add_undeclared(
            &cx,
            &mut decision,
            undeclared,
            undeclared_mode,
            outcome.subject.as_deref(),
        );
        (decision, outcome)
    }

    /// Decides `input`, JSON text, against `target`: the text is read in one
    /// pass straight into the target's typed value, with no JSON tree in
    /// between (within [`InputLimits::INPUT`]). The same decision as
    /// [`Engine::decide_with`] over the parsed text; on any error the text is
    /// read that way, so the errors are the same too.
    pub fn decide_text(
        &self,
        target: &str,
        input: &str,
        now: SystemTime,
        options: &DecideOptions,
    ) -> Result<Decision, DecideError> {
        self.text_outcome(target, input, &InputLimits::INPUT, now, options)
            .map(|(decision, _)| decision)
    }

    /// [`Engine::decide_text`] within `limits` and, like
    /// [`Engine::decide_within`], within `steps`: `None` when the decision
    /// needs more. What `warden serve` decides a request body's input with.
    pub fn decide_text_within(
        &self,
        target: &str,
        input: &str,
        limits: &InputLimits,
        now: SystemTime,
        options: &DecideOptions,
        steps: u64,
    ) -> Result<Option<Decision>, DecideError> {
        within(options, steps, |options| {
            self.text_outcome(target, input, limits, now, options)
        })
    }

    /// The decision on JSON text: read straight into typed values, else
    /// (any error, or a field to report that the type does not declare)
    /// parsed and decided as a tree, which reports every error.
    fn text_outcome(
        &self,
        target: &str,
        input: &str,
        limits: &InputLimits,
        now: SystemTime,
        options: &DecideOptions,
    ) -> Result<(Decision, warden_eval::Outcome), DecideError> {
        let target_id = self.decidable(target)?;
        let target_decl = self.program.target(target_id);
        let note = self.undeclared_mode(target_id, options) != warden_ir::UndeclaredFields::Allow;
        let fast = (input.len() <= limits.max_bytes)
            .then(|| {
                warden_ir::read_typed(
                    &self.program.types,
                    &target_decl.ty,
                    input.as_bytes(),
                    limits.max_depth,
                    limits.max_values(),
                    note,
                    self.reads(target_id, options),
                )
            })
            .flatten();
        match fast {
            Some(value) => Ok(self.decide_value(target_id, &value, &[], now, options)),
            None => {
                let json = crate::parse_json_with("input", input.as_bytes(), limits)
                    .map_err(DecideError::Unreadable)?;
                self.decide_outcome(target, &json, now, options)
            }
        }
    }
}

/// A decision tried within `steps` (fewer than its budget): `None` when it
/// needs more.
fn within(
    options: &DecideOptions,
    steps: u64,
    decide: impl FnOnce(&DecideOptions) -> Result<(Decision, warden_eval::Outcome), DecideError>,
) -> Result<Option<Decision>, DecideError> {
    if steps >= options.budget {
        return decide(options).map(|(decision, _)| Some(decision));
    }
    let sliced = DecideOptions {
        budget: steps,
        ..options.clone()
    };
    let (decision, outcome) = decide(&sliced)?;
    Ok((outcome.exhausted != Some(warden_diagnostics::Code::E0501)).then_some(decision))
}

/// A time as the IR holds it: microseconds since the epoch (negative
/// before it), saturating.
pub fn micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

/// The inverse of [`micros`]: a time the IR holds as microseconds since the epoch.
pub(crate) fn time_of_micros(micros: i64) -> SystemTime {
    let offset = std::time::Duration::from_micros(micros.unsigned_abs());
    if micros >= 0 {
        UNIX_EPOCH + offset
    } else {
        UNIX_EPOCH - offset
    }
}

/// Parses the time a decision is made at, as given on a command line or in
/// a request: an RFC 3339 time with its offset (`2026-06-01T00:00:00Z`) or
/// a date (midnight UTC), by the same parser as a policy's time literals
/// and a test's `at`. `None` when it is neither.
///
/// ```
/// let midnight = warden::parse_now("2026-06-01T00:00:00Z").unwrap();
/// assert_eq!(warden::parse_now("2026-06-01"), Some(midnight));
/// assert_eq!(warden::parse_now("2026-06-01T02:00:00+02:00"), Some(midnight));
/// // A time without its offset is refused, never guessed at.
/// assert_eq!(warden::parse_now("2026-06-01T00:00:00"), None);
/// // So is one RFC 3339 cannot write back (years 0000 to 9999 only).
/// assert!(warden::parse_now("9999-12-31").is_some());
/// assert_eq!(warden::parse_now("0000-01-01T00:00:00+23:59"), None);
/// ```
pub fn parse_now(text: &str) -> Option<SystemTime> {
    // A decision's `evaluated_at` is written in RFC 3339: its years only.
    // (Years 0000 to 9999 are well inside what a `SystemTime` holds.)
    let micros = warden_ir::parse_time(text).filter(|&m| warden_ir::is_rfc3339_time(m))?;
    Some(time_of_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_ir::TypeLookup;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn engine_is_send_and_sync() {
        assert_send_sync::<Engine>();
    }

    /// The analysis is live: what no rule reads is not built, a loop's list
    /// is built without its items when nothing reads them, and a list a
    /// rule counts is built whole. (That it is sound, the decision corpus
    /// checks: every case is decided over the whole input too.)
    #[test]
    fn an_input_is_built_only_as_far_as_its_rules_read_it() {
        let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/decisions/reads/policy");
        let engine = Engine::from_dir(policy).expect("compiles");
        let target = engine.program.target_by_name("app").expect("declared");
        let reads = &engine.input_reads[target.index()];
        let warden_ir::Ty::Record(id) = &engine.program.target(target).ty else {
            panic!("the target is a record")
        };
        let def = engine.program.types.record(*id);
        let field = |name: &str| reads.field(def.slot(name).expect("declared"));
        assert!(!field("unread").builds());
        assert!(field("slots").builds() && !field("slots").items().builds());
        assert_eq!(field("hosts"), warden_ir::Reads::whole());
        let meta = field("meta");
        let warden_ir::Ty::Record(meta_id) = def.fields[def.slot("meta").expect("declared")].ty
        else {
            panic!("meta is a record")
        };
        let meta_def = engine.program.types.record(meta_id);
        let meta_field = |name: &str| meta.field(meta_def.slot(name).expect("declared"));
        // The subject, a waiver's condition, an obligation: read; `labels` by one key.
        for read in ["name", "owner", "team"] {
            assert_eq!(meta_field(read), warden_ir::Reads::whole(), "{read}");
        }
        assert!(meta_field("labels").builds());
        assert_ne!(meta_field("labels"), warden_ir::Reads::whole());
        // With an explanation, or as the reference form, all of it.
        let explain = DecideOptions {
            explain: true,
            ..DecideOptions::default()
        };
        assert_eq!(engine.reads(target, &explain), warden_ir::Reads::whole());
    }
}
