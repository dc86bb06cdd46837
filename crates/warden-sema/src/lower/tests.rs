//! Tests: their input (inline, or a fixture with patches), data, time and
//! expectations, checked against the types they stand for.

use super::FileCheck;
use crate::check::lower_effect;
use crate::consts::{ConstUse, const_json};
use crate::rule_table::Named;
use crate::semantic::Meaning;
use crate::suite::{Expectation, Test, TestInput, apply_patches};
use warden_diagnostics::{Code, Diagnostic, TextRange, did_you_mean};
use warden_ir as ir;
use warden_ir::TypeLookup;
use warden_syntax::ast;

impl<'e> FileCheck<'e> {
    /// their types; `warden test` runs them.
    pub(super) fn check_tests(&mut self) {
        let Some(pkg) = self.env.package_of(self.input.file) else {
            return;
        };
        let tests: Vec<&'e ast::TestDecl> = self
            .input
            .tree
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ast::ItemKind::Test(decl) => Some(decl),
                _ => None,
            })
            .collect();
        for (ordinal, decl) in tests.into_iter().enumerate() {
            let name = format!("{}.{}", self.env.packages[pkg].name, decl.name.text);
            // A name an earlier test holds, in this file or before it.
            let repeated =
                self.table
                    .taken_before(Named::Test, &name, self.input.file, ordinal as u32);
            if repeated {
                self.report(Diagnostic::new(
                    Code::E0103,
                    self.span(decl.name.range),
                    format!("a test named `{}` is already defined", decl.name.text),
                ));
                continue;
            }
            let mut test = Test {
                name,
                span: self.span(decl.name.range),
                given: None,
                data: Vec::new(),
                waivers: None,
                at: None,
                expects: Vec::new(),
            };
            for stmt in &decl.body {
                self.lower_test_stmt(pkg, stmt, &mut test);
            }
            self.tests.push(test);
        }
    }

    fn lower_test_stmt(&mut self, pkg: usize, stmt: &'e ast::TestStmt, test: &mut Test) {
        match stmt {
            ast::TestStmt::Given {
                target,
                value,
                range,
            } => {
                let Some(id) = self.env.target_by_name(&target.text) else {
                    self.report(Diagnostic::new(
                        Code::E0106,
                        self.span(target.range),
                        format!("no target `{}` is declared", target.text),
                    ));
                    return;
                };
                if test.given.is_some() {
                    self.report(Diagnostic::new(
                        Code::E0308,
                        self.span(*range),
                        "a test has one input; this `given` repeats it",
                    ));
                    return;
                }
                let ty = self.env.targets[id.index()].ty.clone();
                let what = format!("target `{}`", target.text);
                if let Some(input) = self.test_input(value, &ty, &what) {
                    test.given = Some((id, input));
                }
            }
            ast::TestStmt::WithData { name, value, .. }
                if name.text == "waivers" && self.env.data_by_name("waivers").is_none() =>
            {
                // The waivers a `--data` file may carry; checked when the test runs.
                if test.waivers.is_some() {
                    self.report(Diagnostic::new(
                        Code::E0308,
                        self.span(name.range),
                        "`data.waivers` is given twice in this test",
                    ));
                    return;
                }
                test.waivers = self.test_input(value, &ir::Ty::Any, "a list of waivers");
            }
            ast::TestStmt::WithData { name, value, .. } => {
                let Some(id) = self.env.data_by_name(&name.text) else {
                    self.report(Diagnostic::new(
                        Code::E0110,
                        self.span(name.range),
                        format!("no data document `{}` is declared", name.text),
                    ));
                    return;
                };
                if test.data.iter().any(|(d, _)| *d == id) {
                    self.report(Diagnostic::new(
                        Code::E0308,
                        self.span(name.range),
                        format!("`data.{}` is given twice in this test", name.text),
                    ));
                    return;
                }
                let ty = self.env.data[id.index()].ty.clone();
                let what = format!("data document `{}`", name.text);
                if let Some(input) = self.test_input(value, &ty, &what) {
                    test.data.push((id, input));
                }
            }
            ast::TestStmt::At { value, .. } => {
                let time = match &value.kind {
                    ast::ExprKind::Literal(ast::Literal::Time(t)) => ir::parse_time(t),
                    _ => None,
                };
                match time {
                    Some(t) => test.at = Some(t),
                    None => self.report(
                        Diagnostic::new(Code::E0308, self.span(value.range), "`at` takes a time")
                            .with_help(
                                "write a time with its offset, e.g. `at 2026-06-01T00:00:00Z`",
                            ),
                    ),
                }
            }
            ast::TestStmt::Expect {
                negated,
                waived,
                effect,
                rule,
                obligations,
                range,
            } => {
                if *negated && !obligations.is_empty() {
                    self.report(
                        Diagnostic::new(
                            Code::E0308,
                            self.span(*range),
                            "`expect not` takes no obligations",
                        )
                        .with_help("expect the finding, then its obligations: `expect allow RULE with KEY = VALUE`"),
                    );
                    return;
                }
                let rule_id = match rule {
                    None => None,
                    Some(path) => match self.resolve_rule(pkg, path, "") {
                        Some(id) => Some(id),
                        None => return,
                    },
                };
                let mut lowered = Vec::new();
                for ob in obligations {
                    if let Some(json) = const_json(
                        self.input.file,
                        &ob.value,
                        ConstUse::ExpectedObligation,
                        &mut self.diagnostics,
                    ) {
                        lowered.push((ob.key.text.clone(), json));
                    }
                }
                test.expects.push(Expectation {
                    negated: *negated,
                    waived: *waived,
                    effect: lower_effect(*effect),
                    rule: rule_id,
                    obligations: lowered,
                    span: self.span(*range),
                });
            }
            ast::TestStmt::Error(_) => {}
        }
    }

    /// A rule named in package `pkg`, in full or relative to the package;
    /// reports E0109 with the nearest name when there is none. `purpose`
    /// ends the message (`" to waive"`).
    pub(super) fn resolve_rule(
        &mut self,
        pkg: usize,
        path: &ast::Path,
        purpose: &str,
    ) -> Option<ir::RuleId> {
        let dotted = path.to_dotted();
        let found = self
            .table
            .resolve(&self.env.packages[pkg].name, &dotted)
            .map(|i| ir::RuleId(i as u32));
        if let Some(rule) = found {
            // `microapps.identity.sso`: the package, then the rule's own name.
            let (last, prefix) = path.segments.split_last().expect("a path has a segment");
            let package = prefix.last().and_then(|end| {
                let dotted: Vec<&str> = prefix.iter().map(|s| s.text.as_str()).collect();
                let pkg = *self.env.package_by_name.get(&dotted.join("."))?;
                Some((
                    TextRange::new(path.range.start as usize, end.range.end as usize),
                    pkg,
                ))
            });
            if let Some((range, pkg)) = package {
                self.note(range, Meaning::Package(pkg as u32), None);
            }
            self.note(last.range, Meaning::Rule(rule), None);
        }
        if found.is_none() {
            let mut d = Diagnostic::new(
                Code::E0109,
                self.span(path.range),
                format!("no rule `{dotted}`{purpose}"),
            )
            .with_label("unknown rule");
            let names = self.table.rules.as_slice().iter().map(|r| r.full.as_str());
            if let Some(s) = did_you_mean(&dotted, names) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.report(d);
        }
        found
    }

    /// W0007 for each key of a patch that `ty` does not declare: a typo in
    /// a patch (`local_acounts`) would otherwise test nothing, silently.
    fn check_patch_keys(&mut self, patch: &ast::Expr, ty: &ir::Ty, what: &str) {
        let ast::ExprKind::Record(entries) = &patch.kind else {
            return;
        };
        match ty.strip_optional() {
            ir::Ty::Record(id) => {
                let def = self.env.types.record(*id).clone();
                for (name, value) in entries {
                    match def.slot(&name.text) {
                        Some(slot) => self.check_patch_keys(value, &def.fields[slot].ty, what),
                        // `{ ... }` declares nothing: any key is expected.
                        None if def.open && def.fields.is_empty() => {}
                        None => {
                            let mut d = Diagnostic::new(
                                Code::W0007,
                                self.span(name.range),
                                format!(
                                    "the patch sets `{}`, which {what} does not declare here",
                                    name.text
                                ),
                            )
                            .with_label("not a declared field");
                            let names = def.fields.iter().map(|f| &*f.name);
                            if let Some(s) = did_you_mean(&name.text, names) {
                                d = d.with_help(format!("did you mean `{s}`?"));
                            }
                            self.report(d);
                        }
                    }
                }
            }
            ir::Ty::Map(inner) => {
                for (_, value) in entries {
                    self.check_patch_keys(value, inner, what);
                }
            }
            _ => {}
        }
    }

    /// `fixture("file")` or a constant checked against `ty`, every bad path
    /// reported; either may be followed by `+ { … }` patches.
    fn test_input(&mut self, value: &ast::Expr, ty: &ir::Ty, what: &str) -> Option<TestInput> {
        let (base, patch_exprs) = value.split_patches();
        let mut patches = Vec::new();
        for patch in &patch_exprs {
            self.check_patch_keys(patch, ty, what);
        }
        for patch in patch_exprs {
            patches.push(const_json(
                self.input.file,
                patch,
                ConstUse::TestInput,
                &mut self.diagnostics,
            )?);
        }
        if let ast::ExprKind::Call { callee, args } = &base.kind
            && let ast::ExprKind::Name(name) = &callee.kind
            && name.text == "fixture"
        {
            return match args.as_slice() {
                [
                    ast::Expr {
                        kind: ast::ExprKind::Literal(ast::Literal::Str(path)),
                        ..
                    },
                ] => Some(TestInput::Fixture {
                    path: path.clone(),
                    patches,
                    span: self.span(value.range),
                }),
                _ => {
                    self.report(
                        Diagnostic::new(
                            Code::E0308,
                            self.span(base.range),
                            "`fixture` takes one string: the file's path",
                        )
                        .with_help("e.g. `fixture(\"fixtures/no-sso.yaml\")`, relative to this policy file"),
                    );
                    None
                }
            };
        }
        let mut json = const_json(
            self.input.file,
            base,
            ConstUse::TestInput,
            &mut self.diagnostics,
        )?;
        apply_patches(&mut json, &patches);
        match warden_ir::json_to_value(&self.env.types, ty, &json) {
            Ok(_) => Some(TestInput::Inline(json)),
            Err(errors) => {
                let mut d = Diagnostic::new(
                    Code::E0201,
                    self.span(value.range),
                    format!("this test input does not match {what}"),
                )
                .with_label(format!(
                    "at `{}`: expected {}, found {}",
                    errors[0].path, errors[0].expected, errors[0].found
                ));
                for e in &errors[1..] {
                    d = d.with_note(format!(
                        "at `{}`: expected {}, found {}",
                        e.path, e.expected, e.found
                    ));
                }
                self.report(d);
                None
            }
        }
    }
}
