//! Policy-hygiene lints that `warden lint` adds to the compiler's
//! diagnostics: they judge a policy set's upkeep, not its meaning, so
//! compiling and deciding never report them.

use std::collections::HashSet;
use warden_diagnostics::{Code, Diagnostic};
use warden_ir::Program;

/// W0002 (a rule without `@control`) and W0005 (a rule no test names).
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
