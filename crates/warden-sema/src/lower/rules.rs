//! Rules: attributes, lets and clauses, lowered with their ids from the table.

use super::FileCheck;
use crate::check::{Checker, FrameKind};
use crate::messages::{defined_twice, unknown_attribute};
use crate::semantic::Meaning;
use warden_diagnostics::{Code, Diagnostic, did_you_mean};
use warden_ir as ir;
use warden_syntax::ast;

impl<'e> FileCheck<'e> {
    /// table.
    pub(super) fn lower_rules(&mut self) {
        let table = self.table;
        let file_id = self.input.file;
        let Some(pkg) = self.env.package_of(self.input.file) else {
            return;
        };
        let here = table.order(file_id);
        let rule_decls: Vec<(&'e ast::Item, &'e ast::RuleDecl)> = self
            .input
            .tree
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ast::ItemKind::Rule(decl) => Some((item, decl)),
                _ => None,
            })
            .collect();
        for (ordinal, (item, decl)) in rule_decls.into_iter().enumerate() {
            let ordinal = ordinal as u32;
            if let Some(&i) = table.index.rule_by_place.get(&(file_id, ordinal)) {
                self.note(decl.name.range, Meaning::Rule(ir::RuleId(i as u32)), None);
                let full = table.rules[i].full.clone();
                let rule = self.lower_rule(item, decl, full, table.rules[i].target);
                self.rules.push((ir::RuleId(i as u32), rule));
                continue;
            }
            // Not in the table: a rule of this name came earlier in the set,
            // or this one's target is not declared.
            let earlier = table
                .index
                .rule_by_name
                .get(&(pkg, decl.name.text.clone()))
                .is_some_and(|&i| {
                    let r = &table.rules[i];
                    (table.order(r.file), r.ordinal) < (here, ordinal)
                });
            if earlier {
                let d = defined_twice(self.span(decl.name.range), "rule", &decl.name.text);
                self.report(d);
                continue;
            }
            if self.env.target_by_name(&decl.target.text).is_none() {
                let names: Vec<String> = self
                    .env
                    .targets
                    .iter()
                    .map(|t| t.name.to_string())
                    .collect();
                let mut d = Diagnostic::new(
                    Code::E0106,
                    self.span(decl.target.range),
                    format!("no target `{}` is declared", decl.target.text),
                )
                .with_label("unknown target");
                d = match did_you_mean(&decl.target.text, names.iter().map(String::as_str)) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "declare it, e.g. `target {}: Manifest default allow`",
                        decl.target.text
                    )),
                };
                self.report(d);
            }
        }
    }

    fn lower_rule(
        &mut self,
        item: &'e ast::Item,
        decl: &'e ast::RuleDecl,
        name: String,
        target: ir::TargetId,
    ) -> ir::Rule {
        let mut severity = ir::Severity::Medium;
        let mut control = None;
        let mut enforce_warn = false;
        let mut tags = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for attr in &item.attributes {
            let key = attr.name.text.as_str();
            if seen.contains(&key) {
                self.report(
                    Diagnostic::new(
                        Code::E0302,
                        self.span(attr.range),
                        format!("`@{key}` is given twice"),
                    )
                    .with_label("again here"),
                );
                continue;
            }
            seen.push(key);
            let single = |a: &mut Self, choices: &[&str]| -> Option<String> {
                match attr.args.as_slice() {
                    [arg] if choices.is_empty() || choices.contains(&arg.text()) => {
                        Some(arg.text().to_string())
                    }
                    _ => {
                        let help = if choices.is_empty() {
                            format!("write `@{key}(\"…\")`")
                        } else {
                            format!(
                                "write one of {}",
                                choices
                                    .iter()
                                    .map(|c| format!("`@{key}({c})`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        };
                        a.report(
                            Diagnostic::new(
                                Code::E0301,
                                a.span(attr.range),
                                format!("`@{key}` needs exactly one valid argument"),
                            )
                            .with_help(help),
                        );
                        None
                    }
                }
            };
            match key {
                "severity" => {
                    if let Some(s) = single(self, &["low", "medium", "high", "critical"]) {
                        severity = ir::Severity::ALL
                            .into_iter()
                            .find(|v| v.as_str() == s)
                            .unwrap_or(ir::Severity::Medium);
                    }
                }
                "control" => control = single(self, &[]),
                "enforce" => {
                    enforce_warn = single(self, &["warn", "deny"]).is_some_and(|s| s == "warn")
                }
                "tags" => tags = attr.args.iter().map(|a| a.text().to_string()).collect(),
                other => {
                    let d = unknown_attribute(
                        self.span(attr.name.range),
                        other,
                        &["severity", "control", "enforce", "tags"],
                    );
                    self.report(d);
                }
            }
        }
        let target_ty = self.env.targets[target.index()].ty.clone();
        self.note(decl.target.range, Meaning::Target(target), None);
        let binding = decl.binding.as_ref().unwrap_or(&decl.target);
        let input = self.input;
        let mut checker = Checker::new(self, input.file, &input.text, FrameKind::Rule);
        checker.bind_input(&binding.text, Some(binding.range), target_ty);
        let mut clauses = Vec::new();
        let mut lets = Vec::new();
        for stmt in &decl.body {
            match stmt {
                ast::RuleStmt::Let(l) => {
                    let id = ir::LetId(lets.len() as u32);
                    let value = checker.check_let(&l.name, id, &l.value);
                    lets.push(value);
                }
                ast::RuleStmt::Clause(c) => {
                    if let Some(clause) = checker.clause(c) {
                        clauses.push(clause);
                    }
                }
                ast::RuleStmt::Error(_) => {}
            }
        }
        checker.report_unused_lets();
        let locals = checker.locals();
        ir::Rule {
            name,
            target,
            severity,
            control,
            enforce_warn,
            tags,
            doc: item.doc.clone(),
            span: self.span(decl.name.range),
            item_span: self.span(item.range),
            locals,
            lets,
            clauses,
        }
    }
}
