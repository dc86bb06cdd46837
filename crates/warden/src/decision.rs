//! The decision as JSON (the shape in `docs/decision.md`), built from the
//! evaluator's outcome.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::sync::Arc;
use warden_eval::{Finding, Outcome, Reason, WaiverRef};
use warden_ir::TypeLookup;
use warden_ir::{Effect, InputPath, Program, Severity, TargetId, value_to_json};

/// What a decision says: serialized as `allow` or `deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The input may proceed.
    Allow,
    /// It may not: a deny finding held, or nothing allowed it.
    Deny,
}

impl Verdict {
    /// `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decision for one input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Allow or deny.
    pub decision: Verdict,
    /// The target decided.
    pub target: Arc<str>,
    /// Why, when no finding says it: `no rule allowed this`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Deny and allow findings, ordered by rule name, then source position.
    pub findings: Vec<FindingReport>,
    /// Warnings: `warn` clauses, `@enforce(warn)` denials, expired waivers.
    pub warnings: Vec<FindingReport>,
    /// Deny findings that a waiver in force excused.
    pub waived: Vec<FindingReport>,
    /// Obligations the caller must honour (allow decisions only).
    pub obligations: Map<String, Json>,
    /// A unique id (ULID).
    pub decision_id: String,
    /// `sha256:` of the policy set's sources.
    pub policy_revision: Arc<str>,
    /// `sha256:` of the data documents supplied to the engine (`--data`),
    /// by name: with the policy revision, it names exactly what decided.
    #[serde(default = "no_revision")]
    pub data_revision: Arc<str>,
    /// The revision of the signed bundle the policies and data came from
    /// (`warden serve --bundle`); absent when they were read from folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_revision: Option<Arc<str>>,
    /// The evaluation time, RFC 3339.
    pub evaluated_at: String,
}

fn no_revision() -> Arc<str> {
    Arc::from("")
}

impl Decision {
    /// Whether the decision allows.
    pub fn is_allowed(&self) -> bool {
        self.decision == Verdict::Allow
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingReport {
    /// `package.rule`.
    pub rule: Arc<str>,
    /// Deny, allow or warn (a deny of an `@enforce(warn)` rule is a warn).
    pub effect: Effect,
    /// The rule's `@severity`.
    pub severity: Severity,
    /// The checklist control the rule enforces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<Arc<str>>,
    /// The clause's message, values interpolated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where the clause is written.
    pub location: Location,
    /// Where in the input document the deciding field stands (filled by the CLI for files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_location: Option<Location>,
    /// The JSON path of the input field the clause read first, e.g. `$.spec.auth.sso`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_path: Option<String>,
    /// What the finding is about (the target's `@subject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// An evaluation error (`E05xx`) or a warning code (`W0004` expired waiver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `warn` when `@enforce(warn)` turned a denial into this warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce: Option<String>,
    /// The waiver that excused it (in `waived`) or that expired (in `warnings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<WaiverReport>,
    /// The sub-expressions that decided it (with `explain`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TraceStep>,
}

/// A place in a file; line and column are 1-based.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The path, relative to the policy folder (or as given for inputs).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// A waiver, as reported with a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverReport {
    /// `package.waiver` or the name in the data file.
    pub name: String,
    /// Why it was granted.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// When it expires, RFC 3339.
    pub until: String,
}

/// One evaluated sub-expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceStep {
    /// The expression's source text.
    pub expr: String,
    /// Its value.
    pub value: Json,
    /// Where it is written.
    pub location: Location,
    /// The input field it read, for a field of the input or of a `for` element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_path: Option<String>,
}

/// What a finding of each clause reports that no decision changes: its
/// rule's name and control, where it is written, and its input path when
/// that is fixed. Worked out once per policy set, shared by every decision.
#[derive(Debug)]
pub(crate) struct Reports {
    target_names: Vec<Arc<str>>,
    /// By rule id.
    rules: Vec<RuleReport>,
}

#[derive(Debug)]
struct RuleReport {
    name: Arc<str>,
    control: Option<Arc<str>>,
    /// By clause index.
    clauses: Vec<ClauseReport>,
}

#[derive(Debug)]
struct ClauseReport {
    location: Location,
    /// The input path of a clause that reads a fixed input field (not a `for` element's).
    input_path: Option<String>,
}

impl Reports {
    pub(crate) fn new(program: &Program) -> Reports {
        let mut files: Vec<Option<Arc<str>>> = vec![None; program.files.len()];
        let mut location = |span: warden_diagnostics::Span| {
            let (file, line, column) = program.location(span);
            let file = files[span.file.0 as usize]
                .get_or_insert_with(|| Arc::from(file))
                .clone();
            Location { file, line, column }
        };
        Reports {
            target_names: program.targets.iter().map(|t| t.name.clone()).collect(),
            rules: program
                .rules
                .iter()
                .map(|rule| RuleReport {
                    name: Arc::from(rule.name.as_str()),
                    control: rule.control.as_deref().map(Arc::from),
                    clauses: rule
                        .clauses
                        .iter()
                        .map(|clause| ClauseReport {
                            location: location(clause.span),
                            input_path: match (&clause.input_path, &clause.iteration) {
                                (Some(p), _) if !p.from_element => {
                                    Some(format!("${}", render_fields(&p.fields)))
                                }
                                _ => None,
                            },
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// `.a.b.c`.
fn render_fields(fields: &[Arc<str>]) -> String {
    let mut out = String::with_capacity(fields.iter().map(|f| f.len() + 1).sum());
    for field in fields {
        out.push('.');
        out.push_str(field);
    }
    out
}

pub(crate) struct Context<'a> {
    pub program: &'a Program,
    pub reports: &'a Reports,
    pub target: TargetId,
    /// The input, as decided: where `strings_in` findings find their paths.
    pub input: &'a warden_ir::Value,
    pub revision: &'a Arc<str>,
    pub data_revision: &'a Arc<str>,
    pub bundle_revision: Option<&'a Arc<str>>,
    pub now: i64,
    /// What names the element of each `for s in strings_in(…)` and `for k
    /// in keys(…)` clause, found once per clause however many of its
    /// elements held.
    pub element_paths: std::cell::RefCell<ElementPathCache>,
    /// Steps the decision's traces may still show.
    pub trace_steps_left: std::cell::Cell<usize>,
    /// Parts of values the decision's traces may still write.
    pub trace_parts_left: std::cell::Cell<u64>,
}

/// The parts of a value a trace step writes out. A policy can build a list
/// of two copies of a list of two copies…, small to build and exponential
/// to write: a larger value is named, not written.
const TRACE_VALUE_PARTS: u64 = 10_000;

/// The steps one finding's trace shows.
const TRACE_STEPS_PER_FINDING: usize = 64;

/// What one decision's traces show in all: steps, and parts of the values
/// they write. A decision can hold tens of thousands of findings, each
/// tracing a large value: past these, findings carry no more trace (and
/// values no more parts). A part is at most 64 bytes of text, which JSON
/// can write six times over (`\u0001`), so 20,000 parts are at most about
/// 8 MB, 1.3 MB of plain text.
pub(crate) const TRACE_STEPS_PER_DECISION: usize = 4_096;
pub(crate) const TRACE_PARTS_PER_DECISION: u64 = 20_000;

/// The longest expression text a trace step writes; a longer one is cut.
const TRACE_EXPR_CHARS: usize = 200;

fn shown_in_trace(cx: &Context<'_>, value: &warden_ir::Value) -> serde_json::Value {
    let program = cx.program;
    let limit = TRACE_VALUE_PARTS.min(cx.trace_parts_left.get());
    let parts = warden_ir::builtins::cost::deep_size(&program.types, value, limit);
    if parts > limit {
        return serde_json::Value::String(if limit < TRACE_VALUE_PARTS {
            "… (not shown: the decision's trace has shown all it may)".to_string()
        } else {
            format!("… (more than {TRACE_VALUE_PARTS} parts, not shown)")
        });
    }
    cx.trace_parts_left.set(cx.trace_parts_left.get() - parts);
    value_to_json(&program.types, None, value)
}

/// Per (rule, clause): what names each element it iterated.
pub(crate) type ElementPathCache =
    rustc_hash::FxHashMap<(warden_ir::RuleId, u32), std::rc::Rc<ElementPaths>>;

/// The elements of a clause's `for`, as its findings' paths name them.
pub(crate) enum ElementPaths {
    /// The path below the value of every string `strings_in` listed.
    Strings(warden_eval::StringPaths),
    /// The map's keys, in the order `keys` lists them.
    Keys(Vec<Arc<str>>),
}

/// A new decision id, a ULID. WebAssembly in a browser or Node has no
/// clock the standard library can read (its caller gives `now`), so there
/// the id's time part is the decision's time.
fn decision_id(now_micros: i64) -> String {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = now_micros;
        ulid::Ulid::new().to_string()
    }
    #[cfg(target_arch = "wasm32")]
    {
        ulid::Ulid::from_datetime(crate::engine::time_of_micros(now_micros)).to_string()
    }
}

pub(crate) fn build(cx: &Context<'_>, outcome: &Outcome) -> Decision {
    let report = |f: &Finding| finding_report(cx, f, outcome.subject.as_deref());
    let mut warnings: Vec<FindingReport> = outcome.warnings.iter().map(report).collect();
    for expired in &outcome.expired_waivers {
        warnings.push(waiver_warning(cx, expired, outcome));
    }
    for (waiver, error) in &outcome.waiver_failures {
        let mut report = waiver_warning(cx, waiver, outcome);
        report.message = Some(format!(
            "waiver `{}` could not be evaluated ({}); it did not apply and the finding stands",
            waiver.name, error.message
        ));
        report.code = Some(error.code.to_string());
        warnings.push(report);
    }
    let waived = outcome
        .waived
        .iter()
        .map(|w| FindingReport {
            waiver: Some(waiver_report(&w.waiver)),
            ..report(&w.finding)
        })
        .collect();
    Decision {
        decision: if outcome.allowed {
            Verdict::Allow
        } else {
            Verdict::Deny
        },
        target: cx.reports.target_names[cx.target.index()].clone(),
        reason: (outcome.reason == Reason::NoRuleAllowed)
            .then(|| "no rule allowed this".to_string()),
        findings: outcome.findings.iter().map(report).collect(),
        warnings,
        waived,
        obligations: merge_obligations(cx, outcome),
        decision_id: decision_id(cx.now),
        policy_revision: cx.revision.clone(),
        data_revision: cx.data_revision.clone(),
        bundle_revision: cx.bundle_revision.cloned(),
        evaluated_at: warden_ir::format_time(cx.now),
    }
}

/// The rule id of the findings for input fields the target's type does not
/// declare (`W0007`); `warden` is a reserved package name.
pub const UNDECLARED_FIELD_RULE: &str = "warden.undeclared_field";

/// A finding per input field the target's type does not declare: warnings,
/// or deny findings that turn the decision into a deny.
pub(crate) fn add_undeclared(
    cx: &Context<'_>,
    decision: &mut Decision,
    fields: &[warden_ir::UndeclaredField],
    mode: warden_ir::UndeclaredFields,
    subject: Option<&str>,
) {
    let deny = match mode {
        warden_ir::UndeclaredFields::Allow => return,
        warden_ir::UndeclaredFields::Warn => false,
        warden_ir::UndeclaredFields::Deny => true,
    };
    let target = cx.program.target(cx.target);
    for field in fields {
        let hint = match &field.suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => "declare it in the schema, or remove it".to_string(),
        };
        let shown = field.path.strip_prefix("$.").unwrap_or(&field.path);
        let report = FindingReport {
            rule: Arc::from(UNDECLARED_FIELD_RULE),
            effect: if deny { Effect::Deny } else { Effect::Warn },
            severity: if deny {
                Severity::Medium
            } else {
                Severity::Low
            },
            control: None,
            message: Some(format!(
                "`{shown}` is not a field the `{}` target's type declares; {hint}",
                target.name
            )),
            location: location(cx.program, target.span),
            input_location: None,
            input_path: Some(field.path.clone()),
            subject: subject.map(str::to_string),
            code: Some(warden_diagnostics::Code::W0007.to_string()),
            enforce: None,
            waiver: None,
            trace: Vec::new(),
        };
        if deny {
            decision.findings.push(report);
        } else {
            decision.warnings.push(report);
        }
    }
    if deny && !fields.is_empty() {
        decision.decision = Verdict::Deny;
        decision.reason = None;
    }
}

/// Where `span` stands, 1-based.
pub(crate) fn location(program: &Program, span: warden_diagnostics::Span) -> Location {
    let (file, line, column) = program.location(span);
    Location {
        file: Arc::from(file),
        line,
        column,
    }
}

fn finding_report(cx: &Context<'_>, f: &Finding, subject: Option<&str>) -> FindingReport {
    let program = cx.program;
    let rule = program.rule(f.rule);
    let clause = &rule.clauses[f.clause as usize];
    let (message, code, span) = match &f.error {
        Some(e) => (Some(e.message.clone()), Some(e.code.to_string()), e.span),
        None => (f.message.clone(), None, clause.span),
    };
    // Keep the steps a reader needs: the longest access chain (`app.spec.auth.sso`, not
    // `app` and `app.spec`), each comparison and call, and no whole records.
    let source = &program.files[clause.span.file.0 as usize].text;
    // The furthest end of a step starting at each place: a step is part of
    // a longer chain when one starting where it does ends further.
    let mut furthest: rustc_hash::FxHashMap<(u32, u32), u32> = Default::default();
    if !f.trace.is_empty() && cx.trace_steps_left.get() > 0 {
        for b in &f.trace {
            let end = furthest
                .entry((b.span.file.0, b.span.range.start))
                .or_default();
            *end = (*end).max(b.span.range.end);
        }
    }
    let longer_chain = |a: &warden_eval::TraceEntry| {
        let continues = source
            .as_bytes()
            .get(a.span.range.end as usize)
            .is_some_and(|c| matches!(c, b'.' | b'[' | b'?'));
        continues
            && furthest
                .get(&(a.span.file.0, a.span.range.start))
                .is_some_and(|end| *end > a.span.range.end)
    };
    let mut seen = Vec::new();
    // What is left of the decision's trace: steps, and parts of values.
    let steps_left = cx.trace_steps_left.get().min(TRACE_STEPS_PER_FINDING);
    let trace: Vec<TraceStep> = f
        .trace
        .iter()
        .filter(|step| step.span.file == clause.span.file)
        .filter(|step| {
            !matches!(
                step.value,
                warden_ir::Value::Record(_) | warden_ir::Value::Map(_)
            )
        })
        .filter(|step| !longer_chain(step))
        .filter(|step| {
            let fresh = !seen.contains(&step.span);
            if fresh {
                seen.push(step.span);
            }
            fresh
        })
        .take(steps_left)
        .map(|step| {
            let info = &program.files[step.span.file.0 as usize];
            let text = info
                .text
                .get(step.span.range.as_range())
                .unwrap_or_default();
            TraceStep {
                expr: warden_diagnostics::clip(text, TRACE_EXPR_CHARS).into_owned(),
                value: shown_in_trace(cx, &step.value),
                location: location(program, step.span),
                input_path: step
                    .path
                    .as_ref()
                    .and_then(|(root, fields)| step_path(clause, f.element, *root, fields)),
            }
        })
        .collect();
    cx.trace_steps_left
        .set(cx.trace_steps_left.get().saturating_sub(trace.len()));
    let report = &cx.reports.rules[f.rule.index()];
    let fixed = &report.clauses[f.clause as usize];
    FindingReport {
        rule: report.name.clone(),
        effect: f.effect,
        severity: rule.severity,
        control: report.control.clone(),
        message,
        location: if span == clause.span {
            fixed.location.clone()
        } else {
            location(program, span)
        },
        input_location: None,
        input_path: match (&fixed.input_path, &clause.iteration) {
            (Some(path), None) => Some(path.clone()),
            _ => input_path(cx, (f.rule, f.clause), clause, f.element),
        },
        subject: subject.map(str::to_string),
        code,
        enforce: f.enforce_warn.then(|| "warn".to_string()),
        waiver: None,
        trace,
    }
}

/// `$.spec.endpoints[2].tls_min_version` from the clause's static paths and the element index.
fn input_path(
    cx: &Context<'_>,
    key: (warden_ir::RuleId, u32),
    clause: &warden_ir::Clause,
    element: Option<usize>,
) -> Option<String> {
    let render = |p: &InputPath| render_fields(&p.fields);
    match (&clause.input_path, &clause.iteration, element) {
        // The element is a string found inside the value at the path: the
        // finding is about it, whatever else the condition read.
        (_, Some(it), Some(i)) if it.strings => {
            let base = it.path.as_ref()?;
            let below = element_paths(cx, key, || {
                let value = value_at(cx, cx.input, &base.fields)?;
                Some(ElementPaths::Strings(warden_eval::string_paths(
                    &cx.program.types,
                    value,
                )))
            })?;
            let ElementPaths::Strings(below) = &*below else {
                return None;
            };
            Some(format!("${}{}", render(base), below.get(i)?))
        }
        // The element is the `i`-th key of the map at the path: the finding
        // is about that entry.
        (_, Some(it), Some(i)) if it.keys => {
            let base = it.path.as_ref().filter(|b| !b.from_element)?;
            let keys = element_paths(cx, key, || {
                let warden_ir::Value::Map(map) = value_at(cx, cx.input, &base.fields)? else {
                    return None;
                };
                let mut keys: Vec<Arc<str>> = map.keys().cloned().collect();
                keys.sort_unstable();
                Some(ElementPaths::Keys(keys))
            })?;
            let ElementPaths::Keys(keys) = &*keys else {
                return None;
            };
            let mut path = format!("${}", render(base));
            warden_ir::push_path_key(&mut path, keys.get(i)?);
            Some(path)
        }
        (Some(p), Some(it), Some(i)) if p.from_element => {
            let base = it.path.as_ref().filter(|b| !b.from_element)?;
            Some(format!("${}[{i}]{}", render(base), render(p)))
        }
        (Some(p), _, _) if !p.from_element => Some(format!("${}", render(p))),
        (None, Some(it), Some(i)) => it
            .path
            .as_ref()
            .filter(|b| !b.from_element)
            .map(|b| format!("${}[{i}]", render(b))),
        _ => None,
    }
}

/// The clause's element paths from the cache, found by `find` the first time.
fn element_paths(
    cx: &Context<'_>,
    key: (warden_ir::RuleId, u32),
    find: impl FnOnce() -> Option<ElementPaths>,
) -> Option<std::rc::Rc<ElementPaths>> {
    if let Some(found) = cx.element_paths.borrow().get(&key) {
        return Some(std::rc::Rc::clone(found));
    }
    let found = std::rc::Rc::new(find()?);
    cx.element_paths
        .borrow_mut()
        .insert(key, std::rc::Rc::clone(&found));
    Some(found)
}

/// The value at `fields` below `value`, read by field name.
fn value_at<'v>(
    cx: &Context<'_>,
    value: &'v warden_ir::Value,
    fields: &[std::sync::Arc<str>],
) -> Option<&'v warden_ir::Value> {
    let Some((first, rest)) = fields.split_first() else {
        return Some(value);
    };
    let inner = match value {
        warden_ir::Value::Record(r) => {
            let slot = cx.program.types.record(r.ty).slot(first);
            match slot {
                Some(i) => &r.slots[i],
                None => r.extra.as_ref()?.get(first)?,
            }
        }
        warden_ir::Value::Map(m) => m.get(first)?,
        _ => return None,
    };
    value_at(cx, inner, rest)
}

/// `$.a.b` for a field of the input, `$.xs[2].a` for a field of the clause's `for` element.
fn step_path(
    clause: &warden_ir::Clause,
    element: Option<usize>,
    root: warden_ir::LocalId,
    fields: &[std::sync::Arc<str>],
) -> Option<String> {
    let tail = render_fields(fields);
    if root == warden_ir::LocalId(0) {
        return Some(format!("${tail}"));
    }
    let it = clause.iteration.as_ref().filter(|it| it.local == root)?;
    let base = it.path.as_ref().filter(|p| !p.from_element)?;
    let base = render_fields(&base.fields);
    Some(format!("${base}[{}]{tail}", element?))
}

fn waiver_report(w: &WaiverRef) -> WaiverReport {
    WaiverReport {
        name: w.name.clone(),
        reason: w.reason.clone(),
        approved_by: w.approved_by.clone(),
        until: warden_ir::format_time(w.until),
    }
}

fn waiver_warning(cx: &Context<'_>, w: &WaiverRef, outcome: &Outcome) -> FindingReport {
    let program = cx.program;
    let rule = program.rule(w.rule);
    let report = &cx.reports.rules[w.rule.index()];
    let (rule_name, severity, control) =
        (report.name.clone(), rule.severity, report.control.clone());
    // Point at the waiver when it is written in a policy file, else at the rule.
    let span = program
        .waivers
        .iter()
        .find(|pw| pw.name == w.name)
        .map_or(rule.span, |pw| pw.span);
    FindingReport {
        rule: rule_name,
        effect: Effect::Warn,
        severity,
        control,
        message: Some(format!(
            "waiver `{}` expired on {}; the finding it covered is enforced again",
            w.name,
            warden_ir::format_time(w.until)
        )),
        location: location(program, span),
        input_location: None,
        input_path: None,
        subject: outcome.subject.clone(),
        code: Some(warden_diagnostics::Code::W0004.to_string()),
        enforce: None,
        waiver: Some(waiver_report(w)),
        trace: Vec::new(),
    }
}

/// Lists merge by union (sorted, without duplicates); differing scalars become a sorted list.
fn merge_obligations(cx: &Context<'_>, outcome: &Outcome) -> Map<String, Json> {
    let mut out = Map::new();
    // One obligation (a mask, most often) has nothing to merge with: a list
    // is still sorted and without duplicates, a scalar stays as it is.
    if let [(key, value)] = outcome.obligations.as_slice() {
        let merged = match value_to_json(&cx.program.types, None, value) {
            Json::Array(mut items) => {
                sort_json(&mut items);
                items.dedup();
                Json::Array(items)
            }
            other => other,
        };
        out.insert(String::from(&**key), merged);
        return out;
    }
    let mut by_key: std::collections::BTreeMap<String, Vec<Json>> = Default::default();
    for (key, value) in &outcome.obligations {
        by_key
            .entry(String::from(&**key))
            .or_default()
            .push(value_to_json(&cx.program.types, None, value));
    }
    for (key, values) in by_key {
        let any_list = values.iter().any(Json::is_array);
        let mut items: Vec<Json> = if any_list {
            values
                .into_iter()
                .flat_map(|v| match v {
                    Json::Array(items) => items,
                    other => vec![other],
                })
                .collect()
        } else {
            values
        };
        sort_json(&mut items);
        items.dedup();
        let merged = if !any_list && items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Json::Array(items)
        };
        out.insert(key, merged);
    }
    out
}

/// Sorts numbers by value, strings alphabetically, then anything else by
/// its text, each item's text written once (not once per comparison: a
/// thousand large items would be written out twenty thousand times).
fn sort_json(items: &mut Vec<Json>) {
    let rank = |v: &Json| match v {
        Json::Null => 0,
        Json::Bool(_) => 1,
        Json::Number(_) => 2,
        Json::String(_) => 3,
        Json::Array(_) => 4,
        Json::Object(_) => 5,
    };
    let scalar_order = |a: &Json, b: &Json| match (a, b) {
        (Json::Number(x), Json::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        (Json::String(x), Json::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    };
    // Numbers and strings (a mask's field names, most often) need no text.
    if items
        .iter()
        .all(|v| matches!(v, Json::Number(_) | Json::String(_)))
    {
        items.sort_by(scalar_order);
        return;
    }
    let text = |v: &Json| match v {
        Json::Number(_) | Json::String(_) => String::new(),
        other => other.to_string(),
    };
    // Lists and objects of one rank tie in `scalar_order`; their text decides.
    let mut keyed: Vec<(String, Json)> = std::mem::take(items)
        .into_iter()
        .map(|v| (text(&v), v))
        .collect();
    keyed.sort_by(|(ta, a), (tb, b)| scalar_order(a, b).then_with(|| ta.cmp(tb)));
    *items = keyed.into_iter().map(|(_, v)| v).collect();
}
