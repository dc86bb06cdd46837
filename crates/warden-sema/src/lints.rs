//! Policy-hygiene lints that `warden lint` adds to the compiler's
//! diagnostics: they judge a policy set's upkeep, not its meaning, so
//! compiling and deciding never report them.

use std::collections::HashSet;
use warden_diagnostics::{Code, Diagnostic};
use warden_ir::Program;

/// W0002 (a rule without `@control`), W0005 (a rule no test names) and
/// W0008 (an `allow` clause a `deny` clause of its rule always overrides).
pub fn policy_lints(program: &Program, tests: &[crate::Test]) -> Vec<Diagnostic> {
    let tested: HashSet<u32> = tests
        .iter()
        .flat_map(|t| &t.expects)
        .filter_map(|e| e.rule.map(|r| r.0))
        .collect();
    let mut out = Vec::new();
    for (i, rule) in program.rules.iter().enumerate() {
        if rule.control.is_none() {
            out.push(
                Diagnostic::new(
                    Code::W0002,
                    rule.span,
                    format!("rule `{}` names no control", rule.name),
                )
                .with_label("no `@control`")
                .with_help("add `@control(\"…\")` with the checklist item it enforces, so every finding traces to a requirement"),
            );
        }
        out.extend(shadowed_allows(rule));
        if !tested.contains(&(i as u32)) {
            out.push(
                Diagnostic::new(
                    Code::W0005,
                    rule.span,
                    format!("no test names rule `{}`", rule.name),
                )
                .with_label("no test expects a finding of it")
                .with_help(format!(
                    "add a `test` block with `expect deny {}` (or allow/warn) for an input it decides",
                    rule.name
                )),
            );
        }
    }
    out
}

/// W0008: an `allow` clause whose condition (and iteration) is the same as a
/// `deny` clause's of the same rule. Whenever it holds the deny holds too,
/// and a deny finding makes the decision `deny` whatever allows it: the
/// allow (and its obligations) can never matter.
fn shadowed_allows(rule: &warden_ir::Rule) -> Vec<Diagnostic> {
    let shape = |clause: &warden_ir::Clause| {
        let condition = without_spans(&format!("{:?}", clause.condition.kind));
        match &clause.iteration {
            // Each `for` binds its element in a slot of its own: the same
            // condition over the same collection reads another slot.
            Some(it) => (
                Some(without_spans(&format!("{:?}", it.collection))),
                condition.replace(&format!("{:?}", it.local), "ELEMENT"),
            ),
            None => (None, condition),
        }
    };
    let denies: Vec<_> = rule
        .clauses
        .iter()
        .filter(|c| c.effect == warden_ir::Effect::Deny)
        .map(|c| (shape(c), c.span))
        .collect();
    rule.clauses
        .iter()
        .filter(|c| c.effect == warden_ir::Effect::Allow)
        .filter_map(|allow| {
            let own = shape(allow);
            let (_, deny) = denies.iter().find(|(d, _)| *d == own)?;
            Some(
                Diagnostic::new(
                    Code::W0008,
                    allow.span,
                    format!(
                        "this `allow` clause of rule `{}` never matters: a `deny` clause of the rule holds whenever it does",
                        rule.name
                    ),
                )
                .with_label("holds only where the deny holds too")
                .with_secondary(*deny, "the `deny` clause with the same condition")
                .with_help("a deny finding decides `deny` whatever allows it: remove the allow, or give it the condition you meant"),
            )
        })
        .collect()
}

/// A debug rendering with every source position taken out, so two
/// expressions written alike in two places compare equal.
fn without_spans(debug: &str) -> String {
    static SPAN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let span = SPAN.get_or_init(|| {
        regex::Regex::new(r"span: Span \{[^{}]*(\{[^{}]*\}[^{}]*)*\}").expect("a valid pattern")
    });
    span.replace_all(debug, "span").into_owned()
}
