//! Reading values: fields, indexes, data documents and `has`, with the
//! flow typing of optionals (which places the conditions around prove present).

use super::{Checker, Place, Typed};
use crate::semantic::Meaning;
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, TextRange, did_you_mean};
use warden_ir::{ExprKind, Ty};
use warden_syntax::ast;

impl Checker<'_> {
    /// Whether the conditions around prove `place` present: a fact about it,
    /// or about a field below it (`a?.b != none` proves `a` present too).
    pub(super) fn known_present(&self, place: &Place) -> bool {
        let proves =
            |fact: &Place| fact.root == place.root && fact.fields.starts_with(&place.fields);
        if self.facts.iter().any(proves) {
            return true;
        }
        if !self.in_clause {
            return false;
        }
        // A guard clause above proves it: the clause will test it first.
        match self.dominating.iter().position(|(fact, _)| proves(fact)) {
            Some(i) => {
                self.dominating_used.borrow_mut()[i] = true;
                true
            }
            None => false,
        }
    }

    /// Remembers the input field a condition reads last: in `a and b` the later
    /// conjunct is usually the one that singles the finding out.
    /// In a `for` clause the finding is about the element, so a field of the
    /// element, once read, outranks fields of the input read after it.
    pub(super) fn record_path(&mut self, place: &Place) {
        let of_element = Some(place.root) == self.element_key;
        if !self.recording
            || !(of_element || Some(place.root) == self.input_key)
            || place.fields.is_empty()
        {
            return;
        }
        let element_recorded = self
            .decisive_path
            .as_ref()
            .is_some_and(|p| Some(p.root) == self.element_key);
        if of_element || !element_recorded {
            self.decisive_path = Some(place.clone());
        }
    }

    /// Reports reading a possibly-absent value as if present.
    pub(super) fn unhandled_optional(&mut self, base: &ast::Expr, what: &str) {
        let text = self.text[base.range.as_range()].to_string();
        let d = Diagnostic::new(Code::E0203, self.span(base.range), format!("`{text}` may be none"))
            .with_label(format!("{what} needs a value that is present"))
            .with_help(format!("check first (`{text} != none and …` or `has {text}`), chain with `?.`, or give a default with `??`"));
        self.report(d);
    }

    pub(super) fn field(
        &mut self,
        base: &ast::Expr,
        name: &ast::Name,
        optional_chain: bool,
        range: TextRange,
    ) -> Typed {
        if matches!(base.kind, ast::ExprKind::Data) {
            return self.data_doc(name, range);
        }
        let b = self.check(base);
        // `a?.b.c` propagates absence along the rest of the chain, as in JavaScript.
        let optional_chain = optional_chain || in_optional_chain(base);
        let mut absent = false;
        let inner = match &b.ty {
            Ty::Optional(inner) if optional_chain => {
                absent = true;
                (**inner).clone()
            }
            Ty::Optional(_) | Ty::None => {
                self.unhandled_optional(base, "reading a field");
                return self.error(range);
            }
            other => other.clone(),
        };
        let base_place = b.place.clone();
        let field_name: Arc<str> = Arc::from(name.text.as_str());
        let (kind, mut ty) = match inner {
            Ty::Record(id) => {
                let def = self.cx.types().record(id);
                match def.slot(&name.text) {
                    Some(slot) => {
                        let ty = def.fields[slot].read_ty();
                        (
                            ExprKind::Field {
                                base: Box::new(b.expr),
                                record: id,
                                slot: slot as u32,
                                name: field_name.clone(),
                                optional_chain,
                            },
                            ty,
                        )
                    }
                    None => {
                        let names: Vec<String> =
                            def.fields.iter().map(|f| f.name.to_string()).collect();
                        let type_name = self.display(&Ty::Record(id));
                        let mut d = Diagnostic::new(
                            Code::E0102,
                            self.span(name.range),
                            format!("`{type_name}` has no field `{}`", name.text),
                        )
                        .with_label("unknown field");
                        d = match did_you_mean(&name.text, names.iter().map(String::as_str)) {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")),
                            None => d.with_note(format!(
                                "its fields are {}",
                                names
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        };
                        self.report(d);
                        return self.error(range);
                    }
                }
            }
            Ty::Any => (
                ExprKind::DynField {
                    base: Box::new(b.expr),
                    name: field_name.clone(),
                    optional_chain,
                },
                Ty::Any,
            ),
            Ty::Map(inner) => (
                ExprKind::DynField {
                    base: Box::new(b.expr),
                    name: field_name.clone(),
                    optional_chain,
                },
                inner.optional(),
            ),
            Ty::Error => return self.error(range),
            other => {
                let d = Diagnostic::new(
                    Code::E0207,
                    self.span(name.range),
                    format!("`{}` has no fields", self.display(&other)),
                )
                .with_label(format!(
                    "`.{}` on a value of type `{}`",
                    name.text,
                    self.display(&other)
                ));
                self.report(d);
                return self.error(range);
            }
        };
        if let ExprKind::Field { record, slot, .. } = &kind {
            let meaning = Meaning::Field {
                record: *record,
                slot: *slot,
            };
            self.note(name.range, meaning, Some(&ty));
        }
        if absent {
            ty = ty.optional();
        }
        let mut t = self.typed(kind, ty, range);
        t.place = base_place.map(|mut p| {
            p.fields.push(field_name);
            p
        });
        t
    }

    pub(super) fn data_doc(&mut self, name: &ast::Name, range: TextRange) -> Typed {
        match self.cx.env().data_by_name(&name.text) {
            Some(id) => {
                let ty = self.cx.env().data[id.index()].ty.clone();
                self.note(name.range, Meaning::Data(id), Some(&ty));
                self.typed(ExprKind::Data(id), ty, range)
            }
            None => {
                let names: Vec<String> = self
                    .cx
                    .env()
                    .data
                    .iter()
                    .map(|d| d.name.to_string())
                    .collect();
                let mut d = Diagnostic::new(
                    Code::E0110,
                    self.span(name.range),
                    format!("no data document `{}` is declared", name.text),
                );
                d = match did_you_mean(&name.text, names.iter().map(String::as_str)) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("declare it, e.g. `data {}: any`", name.text)),
                };
                self.report(d);
                self.error(range)
            }
        }
    }

    pub(super) fn index(
        &mut self,
        base: &ast::Expr,
        index: &ast::Expr,
        optional_chain: bool,
        range: TextRange,
    ) -> Typed {
        let b = self.check(base);
        let i = self.check(index);
        let optional_chain = optional_chain || in_optional_chain(base);
        let inner = match &b.ty {
            Ty::Optional(inner) if optional_chain => (**inner).clone(),
            Ty::Optional(_) | Ty::None => {
                self.unhandled_optional(base, "indexing");
                return self.error(range);
            }
            other => other.clone(),
        };
        if i.ty.is_optional() {
            self.unhandled_optional(index, "an index");
        }
        let ty = match (&inner, i.ty.strip_optional()) {
            (Ty::List(elem), Ty::Int | Ty::Any | Ty::Error) => (**elem).clone().optional(),
            (Ty::Map(elem), Ty::String | Ty::Enum(_) | Ty::Any | Ty::Error) => {
                (**elem).clone().optional()
            }
            (Ty::Any, _) => Ty::Any,
            (Ty::Error, _) => Ty::Error,
            (Ty::List(_), other) | (Ty::Map(_), other) => {
                let want = if matches!(inner, Ty::List(_)) {
                    "int"
                } else {
                    "string"
                };
                let d = Diagnostic::new(
                    Code::E0201,
                    self.span(index.range),
                    format!(
                        "expected an index of type `{want}`, found `{}`",
                        self.display(other)
                    ),
                );
                self.report(d);
                Ty::Error
            }
            (other, _) => {
                let d = Diagnostic::new(
                    Code::E0211,
                    self.span(base.range),
                    format!("cannot index into `{}`", self.display(other)),
                )
                .with_label("neither a list nor a map");
                self.report(d);
                Ty::Error
            }
        };
        self.typed(
            ExprKind::Index {
                base: Box::new(b.expr),
                index: Box::new(i.expr),
                optional_chain,
            },
            ty,
            range,
        )
    }

    pub(super) fn has(&mut self, inner: &ast::Expr, range: TextRange) -> Typed {
        let ast::ExprKind::Field { base, name, .. } = &inner.kind else {
            let d = Diagnostic::new(
                Code::E0201,
                self.span(inner.range),
                "`has` asks about a field",
            )
            .with_help("write `has x.field`; for other values compare with `!= none`");
            self.report(d);
            return self.error(range);
        };
        let b = self.check(base);
        if b.ty.is_optional() {
            self.unhandled_optional(base, "`has`");
        }
        let field_name: Arc<str> = Arc::from(name.text.as_str());
        let slot = match b.ty.strip_optional() {
            Ty::Record(id) => {
                let def = self.cx.types().record(*id);
                match def.slot(&name.text) {
                    Some(slot) => Some((*id, slot as u32)),
                    None => {
                        let names: Vec<String> =
                            def.fields.iter().map(|f| f.name.to_string()).collect();
                        let mut d = Diagnostic::new(
                            Code::E0102,
                            self.span(name.range),
                            format!("no field `{}` here", name.text),
                        );
                        if let Some(s) = did_you_mean(&name.text, names.iter().map(String::as_str))
                        {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        self.report(d);
                        return self.error(range);
                    }
                }
            }
            Ty::Any | Ty::Map(_) | Ty::Error => None,
            other => {
                let d = Diagnostic::new(
                    Code::E0207,
                    self.span(name.range),
                    format!("`{}` has no fields", self.display(other)),
                );
                self.report(d);
                return self.error(range);
            }
        };
        let place = b.place.clone().map(|mut p| {
            p.fields.push(field_name.clone());
            p
        });
        if let Some(p) = &place {
            self.record_path(&p.clone());
        }
        let mut t = self.typed(
            ExprKind::Has {
                base: Box::new(b.expr),
                slot,
                name: field_name,
            },
            Ty::Bool,
            range,
        );
        t.when_true = place.into_iter().collect();
        t
    }
}

/// Whether a `?.` occurs earlier in the same postfix chain (parentheses end a chain).
pub(super) fn in_optional_chain(expr: &ast::Expr) -> bool {
    match &expr.kind {
        ast::ExprKind::Field {
            base,
            optional_chain,
            ..
        }
        | ast::ExprKind::Index {
            base,
            optional_chain,
            ..
        } => *optional_chain || in_optional_chain(base),
        ast::ExprKind::Call { callee, .. } => in_optional_chain(callee),
        _ => false,
    }
}
