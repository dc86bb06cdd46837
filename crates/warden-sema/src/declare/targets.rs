//! Targets: the kinds of document rules decide on, and their `@subject`.

use super::Declarer;
use crate::env::TargetSignature;
use crate::messages::{defined_twice, unknown_attribute};
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, did_you_mean};
use warden_ir::{self as ir, Ty, TypeLookup};
use warden_syntax::ast;

impl Declarer<'_> {
    pub(super) fn declare_targets(&mut self) {
        for f in 0..self.files.len() {
            if self.package_of(f).is_none() {
                continue;
            }
            for item in self.items(f) {
                let ast::ItemKind::Target(decl) = &item.kind else {
                    continue;
                };
                if self.env.target_by_name(&decl.name.text).is_some() {
                    let d = defined_twice(self.span(f, decl.name.range), "target", &decl.name.text);
                    self.report(d);
                    continue;
                }
                let ty = self.resolve_type(f, &decl.ty, None);
                let default_allow = matches!(decl.default, Some((ast::DefaultEffect::Allow, _)));
                let mut subject = None;
                let mut undeclared_fields = ir::UndeclaredFields::default();
                for attr in &item.attributes {
                    match attr.name.text.as_str() {
                        "subject" => subject = self.subject_path(f, attr, &ty),
                        "undeclared_fields" => {
                            match attr.args.as_slice() {
                                [arg] if let Some(v) = ir::UndeclaredFields::ALL
                                    .into_iter()
                                    .find(|v| v.as_str() == arg.text()) =>
                                {
                                    undeclared_fields = v;
                                }
                                _ => self.report(
                                    Diagnostic::new(
                                        Code::E0301,
                                        self.span(f, attr.range),
                                        "`@undeclared_fields` takes `allow`, `warn` or `deny`",
                                    )
                                    .with_help("e.g. `@undeclared_fields(deny)` to refuse typos such as `local_acounts`"),
                                ),
                            }
                        }
                        other => {
                            let d = unknown_attribute(
                                self.span(f, attr.name.range),
                                other,
                                &["subject", "undeclared_fields"],
                            );
                            self.report(d);
                        }
                    }
                }
                let id = ir::TargetId(self.env.targets.len() as u32);
                self.note_name(f, decl.name.range, crate::semantic::Meaning::Target(id));
                let name: Arc<str> = Arc::from(decl.name.text.as_str());
                self.env.targets.push(TargetSignature {
                    name: name.clone(),
                    ty: ty.clone(),
                });
                self.program.targets.push(ir::Target {
                    name,
                    ty,
                    default_allow,
                    subject,
                    undeclared_fields,
                    rules: Vec::new(),
                    index: ir::TargetIndex::default(),
                    span: self.span(f, decl.name.range),
                });
            }
        }
    }

    /// `@subject("metadata.name")`: the slot path of a string field of the target type.
    fn subject_path(&mut self, f: usize, attr: &ast::Attribute, ty: &Ty) -> Option<Vec<u32>> {
        let Some(ast::AttributeArg::Str(path)) = attr.args.first() else {
            self.report(
                Diagnostic::new(
                    Code::E0301,
                    self.span(f, attr.range),
                    "`@subject` takes the path of a field, as a string",
                )
                .with_help("for example `@subject(\"metadata.name\")`"),
            );
            return None;
        };
        let mut slots = Vec::new();
        let mut current = ty.clone();
        for segment in path.value.split('.') {
            let Ty::Record(id) = current.strip_optional().clone() else {
                self.report(Diagnostic::new(
                    Code::E0207,
                    self.span(f, path.range),
                    format!("`{segment}` is not a field of a record"),
                ));
                return None;
            };
            let def = self.types.record(id);
            let Some(slot) = def.slot(segment) else {
                let names: Vec<&str> = def.fields.iter().map(|f| &*f.name).collect();
                let mut d = Diagnostic::new(
                    Code::E0102,
                    self.span(f, path.range),
                    format!("no field `{segment}` in the target type"),
                );
                if let Some(s) = did_you_mean(segment, names) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.report(d);
                return None;
            };
            slots.push(slot as u32);
            current = def.fields[slot].ty.clone();
        }
        // Findings name their subject in text: only a string field can say it.
        if !matches!(current.strip_optional(), Ty::String | Ty::Enum(_)) {
            let shown = self.types.display(&current);
            self.report(
                Diagnostic::new(Code::E0301, self.span(f, path.range), format!("`@subject` must name a string field, not `{shown}`"))
                    .with_help("point it at the field that names the thing, e.g. `@subject(\"metadata.name\")`"),
            );
            return None;
        }
        Some(slots)
    }
}
