//! One decision: which clauses hold, which findings are waived, the outcome.

use crate::compiled::Compiled;
use crate::eval::{EvalError, Evaluator, Frame, TraceEntry};
use std::sync::Arc;
use warden_ir::{Effect, RuleId, TargetId, Value};

/// Limits and switches for one decision.
#[derive(Clone, Debug)]
pub struct Options {
    /// Record the sub-expressions that decided each finding.
    pub explain: bool,
    /// Expression steps allowed per decision before it fails closed.
    pub budget: u64,
    /// Wall-clock time the evaluation may take, from its start on; past it
    /// evaluation stops and the decision fails closed (`E0505`). It never
    /// changes what a decision that finishes in time says. `None`: no
    /// deadline (the step budget still bounds the work).
    pub timeout: Option<std::time::Duration>,
    /// Skip clauses by the target's literal-equality index (on by default;
    /// turning it off never changes a decision, only its cost).
    pub use_index: bool,
    /// What input fields the target's type does not declare make of the
    /// decision, overriding the target's `@undeclared_fields` (`warden check
    /// --strict` sets `Deny`). Read by the library as it converts the input.
    pub undeclared_fields: Option<warden_ir::UndeclaredFields>,
    /// The reference form: walk the IR tree instead of running the
    /// compiled form ([`Compiled`]), over the whole input (the library
    /// otherwise builds only what the target's rules can read,
    /// [`warden_ir::input_reads`]); like `use_index`, it never changes a
    /// decision, only its cost. Explaining always walks the tree (its trace
    /// is the tree's) over the whole input.
    pub tree_walk: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            explain: false,
            budget: 1_000_000,
            timeout: None,
            use_index: true,
            undeclared_fields: None,
            tree_walk: false,
        }
    }
}

/// A clause that held (or failed to evaluate).
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub rule: RuleId,
    pub clause: u32,
    /// The effect as reported: `deny` findings of an `@enforce(warn)` rule become `warn`.
    pub effect: Effect,
    /// Whether `@enforce(warn)` turned a deny into this warning.
    pub enforce_warn: bool,
    pub message: Option<String>,
    /// The element of a `for` clause.
    pub element: Option<usize>,
    pub obligations: Vec<(Arc<str>, Value)>,
    /// Set when evaluation failed; the finding then denies (fail closed).
    pub error: Option<EvalError>,
    pub trace: Vec<TraceEntry>,
}

/// An exception that applies to a deny finding.
#[derive(Clone, Debug, PartialEq)]
pub struct WaiverRef {
    pub name: String,
    /// The rule it waives.
    pub rule: RuleId,
    pub reason: String,
    pub approved_by: String,
    /// Microseconds since the epoch.
    pub until: i64,
}

/// A waiver supplied as data rather than in a policy file.
#[derive(Clone, Debug, PartialEq)]
pub struct DataWaiver {
    /// The waiver; its `rule` is the rule it applies to.
    pub waiver: WaiverRef,
    /// Applies only to findings about this subject, when given.
    pub subject: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WaivedFinding {
    pub finding: Finding,
    pub waiver: WaiverRef,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A deny finding holds.
    Denied,
    /// No deny finding, and the target defaults to allow.
    DefaultAllow,
    /// No deny finding, and an allow clause held.
    Allowed,
    /// No deny finding, no allow finding, and the target defaults to deny.
    NoRuleAllowed,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub allowed: bool,
    pub reason: Reason,
    /// Deny and allow findings, ordered by rule name, then source position.
    pub findings: Vec<Finding>,
    pub warnings: Vec<Finding>,
    pub waived: Vec<WaivedFinding>,
    /// Waivers that would have applied but are past `until`.
    pub expired_waivers: Vec<WaiverRef>,
    /// Waivers whose condition failed to evaluate (they did not apply).
    pub waiver_failures: Vec<(WaiverRef, EvalError)>,
    /// Obligations of the allow findings, when the outcome is allow.
    pub obligations: Vec<(Arc<str>, Value)>,
    /// What the findings are about (`@subject` of the target).
    pub subject: Option<String>,
    /// Set when evaluation stopped early: the budget (`E0501`) or the
    /// deadline (`E0505`) ran out.
    pub exhausted: Option<warden_diagnostics::Code>,
}

/// Decides `input` (already converted to the target's type) against `target`
/// with the compiled program.
///
/// `data` holds one value per declared data document, in declaration order.
pub fn decide(
    compiled: &Compiled,
    target: TargetId,
    input: &Value,
    data: &[Value],
    data_waivers: &[DataWaiver],
    now: i64,
    options: &Options,
) -> Outcome {
    let program = compiled.program();
    let target_def = program.target(target);
    let mut ev = Evaluator {
        program,
        data,
        now,
        steps: 0,
        budget: options.budget,
        deadline: options.timeout.map(|t| std::time::Instant::now() + t),
        next_clock_check: 0,
        checkpoint: 0,
        depth: 0,
        exhausted: None,
        trace: None,
        compiled: (!options.explain && !options.tree_walk).then_some(compiled),
    };

    // Candidate clauses: the unguarded ones plus those under the input's literal values.
    let mut candidates: Vec<(RuleId, u32)> = target_def.index.unguarded.clone();
    if !options.use_index {
        candidates.extend(
            target_def
                .index
                .guards
                .iter()
                .flat_map(|g| g.by_value.values().flatten().copied()),
        );
    }
    for guard in target_def.index.guards.iter().filter(|_| options.use_index) {
        if let Some(Value::Str(s)) = slot_path(input, &guard.slots)
            && let Some(bucket) = guard.by_value.get(s)
        {
            candidates.extend_from_slice(bucket);
        }
    }
    // The unguarded list is already in (rule, clause) order; guard buckets may interleave.
    if candidates.len() > target_def.index.unguarded.len() {
        candidates.sort_unstable();
        candidates.dedup();
    }

    let subject = target_def
        .subject
        .as_ref()
        .and_then(|slots| match slot_path(input, slots) {
            Some(Value::Str(s)) => Some(s.to_string()),
            _ => None,
        });

    let mut held: Vec<Finding> = Vec::new();
    // One frame, reset for each rule: no allocation per rule.
    let mut frame = Frame::new(0, &[]);
    let mut i = 0;
    while i < candidates.len() {
        let rule_id = candidates[i].0;
        let rule = program.rule(rule_id);
        let let_nodes = ev.compiled.map_or(&[][..], |c| c.lets(rule_id.index()));
        frame.reset(rule.locals, &rule.lets, let_nodes);
        frame.locals[0] = input.clone();
        while i < candidates.len() && candidates[i].0 == rule_id {
            let clause_index = candidates[i].1;
            evaluate_clause(
                &mut ev,
                rule_id,
                clause_index,
                &mut frame,
                options,
                &mut held,
            );
            i += 1;
            if ev.exhausted.is_some() {
                break;
            }
        }
        // Once the budget or the deadline is spent the decision is a
        // fail-closed deny; evaluating the remaining clauses would only
        // repeat the same error.
        if ev.exhausted.is_some() {
            break;
        }
    }

    // Waivers move deny findings aside; expired ones are reported.
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    let mut waived = Vec::new();
    let mut waiver_failures: Vec<(WaiverRef, EvalError)> = Vec::new();
    let mut expired_waivers: Vec<WaiverRef> = Vec::new();
    for finding in held {
        if finding.effect != Effect::Deny || finding.error.is_some() {
            if finding.effect == Effect::Warn {
                warnings.push(finding);
            } else {
                findings.push(finding);
            }
            continue;
        }
        match find_waiver(
            &mut ev,
            finding.rule,
            input,
            subject.as_deref(),
            data_waivers,
            &mut waiver_failures,
        ) {
            WaiverMatch::InForce(waiver) => waived.push(WaivedFinding { finding, waiver }),
            WaiverMatch::Expired(waivers) => {
                for waiver in waivers {
                    if !expired_waivers.contains(&waiver) {
                        expired_waivers.push(waiver);
                    }
                }
                findings.push(finding);
            }
            WaiverMatch::None => findings.push(finding),
        }
    }

    // Borrowed keys: sorting allocates nothing.
    let order = |a: &Finding, b: &Finding| {
        let key = |f: &Finding| {
            let rule = program.rule(f.rule);
            (
                rule.name.as_str(),
                rule.clauses[f.clause as usize].span.range.start,
                f.element,
            )
        };
        key(a).cmp(&key(b))
    };
    findings.sort_by(order);
    warnings.sort_by(order);
    waived.sort_by(|a, b| order(&a.finding, &b.finding));

    let denied = findings.iter().any(|f| f.effect == Effect::Deny);
    let any_allow = findings.iter().any(|f| f.effect == Effect::Allow);
    let reason = if denied {
        Reason::Denied
    } else if any_allow {
        Reason::Allowed
    } else if target_def.default_allow {
        Reason::DefaultAllow
    } else {
        Reason::NoRuleAllowed
    };
    let allowed = matches!(reason, Reason::Allowed | Reason::DefaultAllow);
    let obligations = if allowed {
        findings
            .iter()
            .filter(|f| f.effect == Effect::Allow)
            .flat_map(|f| f.obligations.iter().cloned())
            .collect()
    } else {
        Vec::new()
    };
    Outcome {
        allowed,
        reason,
        findings,
        warnings,
        waived,
        expired_waivers,
        waiver_failures,
        obligations,
        subject,
        exhausted: ev.exhausted,
    }
}

/// Steps each finding costs beyond the evaluation of its clause.
const FINDING_STEPS: u64 = 16;

fn evaluate_clause<'p>(
    ev: &mut Evaluator<'p>,
    rule_id: RuleId,
    clause_index: u32,
    frame: &mut Frame<'p>,
    options: &Options,
    out: &mut Vec<Finding>,
) {
    let rule = ev.program.rule(rule_id);
    let clause = &rule.clauses[clause_index as usize];
    let effect = if clause.effect == Effect::Deny && rule.enforce_warn {
        Effect::Warn
    } else {
        clause.effect
    };
    // Built only for a clause that holds or fails: most do neither.
    let base = || Finding {
        rule: rule_id,
        clause: clause_index,
        effect,
        enforce_warn: clause.effect == Effect::Deny && rule.enforce_warn,
        message: None,
        element: None,
        obligations: Vec::new(),
        error: None,
        trace: Vec::new(),
    };
    let fail = |error: EvalError, element: Option<usize>| Finding {
        effect: Effect::Deny,
        enforce_warn: false,
        error: Some(error),
        element,
        ..base()
    };
    // The collection is shared (`Arc`), never copied; one pass binds each element.
    let (items, local) = match &clause.iteration {
        None => (None, None),
        Some(it) => match collection(ev, it, rule_id, clause_index, frame) {
            Ok(Value::List(items)) => (Some(items), Some(it.local)),
            Ok(other) => {
                out.push(fail(
                    crate::eval::kind_error(
                        it.collection.span,
                        "only a list can be iterated",
                        &other,
                    ),
                    None,
                ));
                return;
            }
            Err(e) => {
                out.push(fail(e, None));
                return;
            }
        },
    };
    let count = items.as_ref().map_or(1, |items| items.len());
    for position in 0..count {
        let index = items.as_ref().map(|_| position);
        if let (Some(items), Some(local)) = (&items, local) {
            frame.locals[local.index()] = items[position].clone();
        }
        if options.explain {
            ev.trace = Some(Vec::new());
        }
        let holds = match ev
            .compiled
            .and_then(|c| c.condition(rule_id.index(), clause_index as usize))
        {
            Some(node) => node.run_bool(ev, frame),
            None => ev.eval_bool(&clause.condition, frame),
        };
        let trace = ev.trace.take().unwrap_or_default();
        match holds {
            Err(e) => {
                out.push(fail(e, index));
                if ev.exhausted.is_some() {
                    return;
                }
            }
            Ok(false) => {}
            Ok(true) => {
                let mut finding = Finding {
                    element: index,
                    trace,
                    ..base()
                };
                // A finding is work too (its report, its place in the input):
                // ten thousand of them cost what ten thousand steps of
                // reporting cost, and a flood of them runs out of budget.
                let made = ev
                    .charge(FINDING_STEPS, clause.span)
                    .and_then(|()| render(ev, clause, frame, &mut finding));
                match made {
                    Ok(()) => out.push(finding),
                    Err(e) => {
                        out.push(fail(e, index));
                        if ev.exhausted.is_some() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// A `for` clause's collection: compiled when the decision runs compiled.
fn collection<'p>(
    ev: &mut Evaluator<'p>,
    it: &'p warden_ir::Iteration,
    rule_id: RuleId,
    clause_index: u32,
    frame: &mut Frame<'p>,
) -> crate::eval::EvalResult {
    match ev
        .compiled
        .and_then(|c| c.iteration(rule_id.index(), clause_index as usize))
    {
        Some(node) => node.run(ev, frame),
        None => ev.eval(&it.collection, frame),
    }
}

/// Fills in the message and the obligations of a finding.
fn render<'p>(
    ev: &mut Evaluator<'p>,
    clause: &'p warden_ir::Clause,
    frame: &mut Frame<'p>,
    finding: &mut Finding,
) -> Result<(), EvalError> {
    if let Some(parts) = &clause.message {
        let mut text = String::new();
        for part in parts {
            match part {
                warden_ir::MessagePart::Text(t) => text.push_str(t),
                warden_ir::MessagePart::Expr(e) => {
                    let value = ev.eval(e, frame)?;
                    // Rendering walks the value: a record or list is printed whole.
                    let size = ev.charge_size(&value, e.span)?;
                    text.push_str(&warden_ir::render(&ev.program.types, &value));
                    ev.clock_after(size, e.span)?;
                }
            }
        }
        finding.message = Some(text);
    }
    for (key, expr) in &clause.obligations {
        let value = ev.eval(expr, frame)?;
        // The decision writes it out as JSON, all the way down.
        ev.charge_size(&value, expr.span)?;
        finding.obligations.push((key.clone(), value));
    }
    Ok(())
}

enum WaiverMatch {
    InForce(WaiverRef),
    /// Every waiver that would have applied but is past `until`.
    Expired(Vec<WaiverRef>),
    None,
}

fn find_waiver(
    ev: &mut Evaluator<'_>,
    rule: RuleId,
    input: &Value,
    subject: Option<&str>,
    data_waivers: &[DataWaiver],
    failures: &mut Vec<(WaiverRef, EvalError)>,
) -> WaiverMatch {
    let mut expired = Vec::new();
    let program = ev.program;
    for waiver in program.waivers.iter().filter(|w| w.rule == rule) {
        let info = || WaiverRef {
            name: waiver.name.clone(),
            rule,
            reason: waiver.reason.clone(),
            approved_by: waiver.approved_by.clone(),
            until: waiver.until,
        };
        let applies = match &waiver.condition {
            None => true,
            Some(condition) => {
                let mut frame = Frame::new(waiver.locals.max(1), &[]);
                frame.locals[0] = input.clone();
                // A waiver whose condition fails to evaluate does not apply (fail
                // closed), and says so: its author would otherwise never know.
                match ev.eval_bool(condition, &mut frame) {
                    Ok(holds) => holds,
                    Err(error) => {
                        let info = info();
                        if !failures.iter().any(|(w, _)| *w == info) {
                            failures.push((info, error));
                        }
                        false
                    }
                }
            }
        };
        if !applies {
            continue;
        }
        let info = info();
        if ev.now < waiver.until {
            return WaiverMatch::InForce(info);
        }
        expired.push(info);
    }
    for waiver in data_waivers.iter().filter(|w| w.waiver.rule == rule) {
        if waiver
            .subject
            .as_deref()
            .is_some_and(|s| Some(s) != subject)
        {
            continue;
        }
        if ev.now < waiver.waiver.until {
            return WaiverMatch::InForce(waiver.waiver.clone());
        }
        expired.push(waiver.waiver.clone());
    }
    if expired.is_empty() {
        WaiverMatch::None
    } else {
        WaiverMatch::Expired(expired)
    }
}

/// Follows record slots from `value`.
fn slot_path<'v>(value: &'v Value, slots: &[u32]) -> Option<&'v Value> {
    let mut current = value;
    for &slot in slots {
        match current {
            Value::Record(r) => current = r.slots.get(slot as usize)?,
            _ => return None,
        }
    }
    Some(current)
}
