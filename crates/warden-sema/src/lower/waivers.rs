//! Waivers: the rule they waive, their accountable fields, their condition.

use super::FileCheck;
use crate::check::{Checker, FrameKind};
use crate::messages::defined_twice;
use crate::rule_table::Named;
use warden_diagnostics::{Code, Diagnostic, did_you_mean};
use warden_ir as ir;
use warden_syntax::ast;

impl<'e> FileCheck<'e> {
    pub(super) fn lower_waivers(&mut self) {
        let Some(pkg) = self.env.package_of(self.input.file) else {
            return;
        };
        let waivers: Vec<&'e ast::WaiverDecl> = self
            .input
            .tree
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ast::ItemKind::Waiver(decl) => Some(decl),
                _ => None,
            })
            .collect();
        for (ordinal, decl) in waivers.into_iter().enumerate() {
            let full_name = format!("{}.{}", self.env.packages[pkg].name, decl.name.text);
            // A name an earlier waiver holds, in this file or before it.
            let repeated =
                self.table
                    .taken_before(Named::Waiver, &full_name, self.input.file, ordinal as u32);
            if repeated {
                let d = defined_twice(self.span(decl.name.range), "waiver", &decl.name.text);
                self.report(d);
                continue;
            }
            let Some(rule) = self.resolve_rule(pkg, &decl.rule, " to waive") else {
                continue;
            };
            let mut until = None;
            let mut reason = None;
            let mut approved_by = None;
            for (name, value) in &decl.fields {
                let constant = match &value.kind {
                    ast::ExprKind::Literal(lit) => Some(lit),
                    _ => None,
                };
                match (name.text.as_str(), constant) {
                    ("until", Some(ast::Literal::Time(t))) => match ir::parse_time(t) {
                        Some(t) => until = Some(t),
                        None => self.report(Diagnostic::new(
                            Code::E0008,
                            self.span(value.range),
                            format!("`{t}` is not a valid time"),
                        )),
                    },
                    ("reason", Some(ast::Literal::Str(s))) => reason = Some(s.clone()),
                    ("approved_by", Some(ast::Literal::Str(s))) => approved_by = Some(s.clone()),
                    ("until" | "reason" | "approved_by", _) => {
                        let want = if name.text == "until" {
                            "a date such as `2027-03-01`"
                        } else {
                            "a string"
                        };
                        self.report(
                            Diagnostic::new(
                                Code::E0303,
                                self.span(value.range),
                                format!("`{}` takes {want}", name.text),
                            )
                            .with_label("not a literal of that kind"),
                        );
                    }
                    (other, _) => {
                        let mut d = Diagnostic::new(
                            Code::E0303,
                            self.span(name.range),
                            format!("a waiver has no field `{other}`"),
                        );
                        if let Some(s) =
                            did_you_mean(other, ["until", "reason", "approved_by", "when"])
                        {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        self.report(d);
                    }
                }
            }
            // A field given with a wrong value was reported above; only absent ones are "lacking".
            let given = |key: &str| decl.fields.iter().any(|(n, _)| n.text == key);
            let missing: Vec<&str> = ["until", "reason", "approved_by"]
                .into_iter()
                .filter(|k| !given(k))
                .collect();
            if !missing.is_empty() {
                self.report(
                    Diagnostic::new(Code::E0303, self.span(decl.name.range), format!("the waiver `{}` lacks {}", decl.name.text, missing.join(", ")))
                        .with_help("every waiver expires and is accountable: give `until`, `reason` and `approved_by`"),
                );
            }
            let known = &self.table.rules.as_slice()[rule.index()];
            let target_ty = self.env.targets[known.target.index()].ty.clone();
            // The name the rule's input goes by, so the condition reads like the rule.
            let binding = known.binding.clone();
            let input = self.input;
            // The rule written in this file: its input's uses here mean the
            // rule's binding (what the editor renames with it).
            let site = (known.file == input.file)
                .then(|| {
                    let mut rules = input.tree.items.iter().filter_map(|item| match &item.kind {
                        ast::ItemKind::Rule(rule) => Some(rule),
                        _ => None,
                    });
                    let rule = rules.nth(known.ordinal as usize)?;
                    Some(rule.binding.as_ref().unwrap_or(&rule.target).range)
                })
                .flatten();
            let mut checker = Checker::new(self, input.file, &input.text, FrameKind::Waiver);
            checker.bind_input(&binding, site, target_ty);
            let condition = decl
                .condition
                .as_ref()
                .map(|c| checker.check_condition(c).expr);
            let locals = checker.locals();
            self.waivers.push(ir::Waiver {
                name: format!("{}.{}", self.env.packages[pkg].name, decl.name.text),
                rule,
                condition,
                locals,
                until: until.unwrap_or(i64::MIN),
                reason: reason.unwrap_or_default(),
                approved_by: approved_by.unwrap_or_default(),
                span: self.span(decl.name.range),
            });
        }
    }
}
