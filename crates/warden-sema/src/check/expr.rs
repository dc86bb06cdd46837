//! Expressions by kind: literals, operators, conditionals, quantifiers,
//! lists, records and comprehensions.

use super::relations::widen;
use super::{Checker, Typed};
use crate::semantic::Meaning;
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, TextRange};
use warden_ir::{self as ir, ExprKind, Ty, Value};
use warden_syntax::ast;

impl Checker<'_> {
    pub(super) fn check_inner(&mut self, expr: &ast::Expr) -> Typed {
        let range = expr.range;
        match &expr.kind {
            ast::ExprKind::Literal(lit) => self.literal(lit, range),
            ast::ExprKind::Name(name) => self.name(name, range),
            ast::ExprKind::Data => {
                let d =
                    Diagnostic::new(Code::E0110, self.span(range), "`data` alone is not a value")
                        .with_help("name a data document, e.g. `data.catalog`");
                self.report(d);
                self.error(range)
            }
            ast::ExprKind::Field {
                base,
                name,
                optional_chain,
            } => self.field(base, name, *optional_chain, range),
            ast::ExprKind::Index {
                base,
                index,
                optional_chain,
            } => self.index(base, index, *optional_chain, range),
            ast::ExprKind::Call { callee, args } => self.call(callee, args, range),
            ast::ExprKind::Unary {
                op: ast::UnaryOp::Not,
                operand,
            } => {
                let inner = self.check_condition(operand);
                let mut t = self.typed(ExprKind::Not(Box::new(inner.expr)), Ty::Bool, range);
                t.when_true = inner.when_false;
                t.when_false = inner.when_true;
                t
            }
            ast::ExprKind::Unary {
                op: ast::UnaryOp::Neg,
                operand,
            } => {
                let inner = self.check(operand);
                let ty = match inner.ty {
                    Ty::Int | Ty::Float | Ty::Duration | Ty::Error | Ty::Any => inner.ty.clone(),
                    ref other => {
                        let shown = self.display(other);
                        self.report(Diagnostic::new(
                            Code::E0201,
                            self.span(range),
                            format!("cannot negate `{shown}`"),
                        ));
                        Ty::Error
                    }
                };
                self.typed(ExprKind::Neg(Box::new(inner.expr)), ty, range)
            }
            ast::ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, range),
            ast::ExprKind::Has(inner) => self.has(inner, range),
            ast::ExprKind::If {
                condition,
                then_branch,
                else_branch,
            } => {
                let c = self.check_condition(condition);
                let mark = self.facts.len();
                self.facts.extend(c.when_true.iter().cloned());
                let t = self.check(then_branch);
                self.facts.truncate(mark);
                self.facts.extend(c.when_false.iter().cloned());
                let e = self.check(else_branch);
                self.facts.truncate(mark);
                let (mut t, mut e) = (t, e);
                let ty = match self.unify(&t.ty, &e.ty) {
                    Some(ty) => {
                        widen(&mut t, &ty);
                        widen(&mut e, &ty);
                        ty
                    }
                    None => {
                        let d = Diagnostic::new(
                            Code::E0201,
                            self.span(else_branch.range),
                            format!(
                                "the branches differ: `{}` and `{}`",
                                self.display(&t.ty),
                                self.display(&e.ty)
                            ),
                        );
                        self.report(d);
                        Ty::Error
                    }
                };
                self.typed(
                    ExprKind::If {
                        condition: Box::new(c.expr),
                        then_branch: Box::new(t.expr),
                        else_branch: Box::new(e.expr),
                    },
                    ty,
                    range,
                )
            }
            ast::ExprKind::Quantifier {
                kind,
                binding,
                collection,
                body,
            } => {
                let coll = self.check(collection);
                let element = self.element_type(&coll.ty, collection.range);
                let mark = self.scopes.len();
                let (local, _) = self.new_local(&binding.text, Some(binding.range), element);
                let body = self.check_condition(body);
                self.scopes.truncate(mark);
                self.typed(
                    ExprKind::Quantifier {
                        all: *kind == ast::QuantifierKind::All,
                        local,
                        collection: Box::new(coll.expr),
                        body: Box::new(body.expr),
                    },
                    Ty::Bool,
                    range,
                )
            }
            ast::ExprKind::List(items) => {
                let mut ty = Ty::Never;
                let mut checked = Vec::with_capacity(items.len());
                for item in items {
                    let t = self.check(item);
                    ty = match self.unify(&ty, &t.ty) {
                        Some(ty) => ty,
                        None => {
                            let d = Diagnostic::new(
                                Code::E0201,
                                self.span(item.range),
                                format!(
                                    "list elements differ: `{}` and `{}`",
                                    self.display(&ty),
                                    self.display(&t.ty)
                                ),
                            );
                            self.report(d);
                            Ty::Error
                        }
                    };
                    checked.push(t);
                }
                let literals: Option<Vec<(String, warden_diagnostics::Span)>> = (!checked
                    .is_empty())
                .then(|| {
                    checked
                        .iter()
                        .map(|t| t.literal.clone().map(|text| (text, t.expr.span)))
                        .collect()
                })
                .flatten();
                // `[1, 2.5]` is a list of floats all the way through.
                let lowered: Vec<ir::Expr> = checked
                    .into_iter()
                    .map(|mut t| {
                        widen(&mut t, &ty);
                        t.expr
                    })
                    .collect();
                // A list of constants is one constant: built once, never per decision.
                let kind = if lowered.iter().all(|e| matches!(e.kind, ExprKind::Const(_))) {
                    let values: Vec<Value> = lowered
                        .into_iter()
                        .map(|e| match e.kind {
                            ExprKind::Const(v) => v,
                            _ => unreachable!("all constants"),
                        })
                        .collect();
                    ExprKind::Const(Value::List(values.into()))
                } else {
                    ExprKind::List(lowered)
                };
                let mut list = self.typed(kind, Ty::List(Box::new(ty)), range);
                list.literals = literals;
                list
            }
            ast::ExprKind::Record(entries) => {
                let mut fields = Vec::new();
                let mut sites = Vec::new();
                let mut values = Vec::new();
                for (name, value) in entries {
                    if fields.iter().any(|f: &ir::FieldDef| *f.name == *name.text) {
                        let d = Diagnostic::new(
                            Code::E0103,
                            self.span(name.range),
                            format!("the field `{}` is given twice", name.text),
                        )
                        .with_label("again here");
                        self.report(d);
                        continue;
                    }
                    let t = self.check(value);
                    sites.push(name);
                    fields.push(ir::FieldDef {
                        name: Arc::from(name.text.as_str()),
                        ty: t.ty,
                        optional: false,
                    });
                    values.push(t.expr);
                }
                let tys: Vec<Ty> = fields.iter().map(|f| f.ty.clone()).collect();
                let id = self.cx.add_record(
                    ir::RecordDef {
                        name: None,
                        fields,
                        open: false,
                    },
                    sites.iter().map(|n| Some(self.span(n.range))).collect(),
                );
                for (slot, (name, ty)) in sites.iter().zip(&tys).enumerate() {
                    let meaning = Meaning::Field {
                        record: id,
                        slot: slot as u32,
                    };
                    self.note(name.range, meaning, Some(ty));
                }
                self.typed(ExprKind::Record { ty: id, values }, Ty::Record(id), range)
            }
            ast::ExprKind::Comprehension {
                element,
                binding,
                collection,
                filter,
            } => {
                let coll = self.check(collection);
                let elem_ty = self.element_type(&coll.ty, collection.range);
                let mark = self.scopes.len();
                let facts_mark = self.facts.len();
                let (local, _) = self.new_local(&binding.text, Some(binding.range), elem_ty);
                let filter = filter.as_ref().map(|f| self.check_condition(f));
                if let Some(f) = &filter {
                    self.facts.extend(f.when_true.iter().cloned());
                }
                let element = self.check(element);
                self.facts.truncate(facts_mark);
                self.scopes.truncate(mark);
                let ty = Ty::List(Box::new(element.ty.clone()));
                self.typed(
                    ExprKind::Comprehension {
                        local,
                        collection: Box::new(coll.expr),
                        element: Box::new(element.expr),
                        filter: filter.map(|f| Box::new(f.expr)),
                    },
                    ty,
                    range,
                )
            }
            ast::ExprKind::Paren(inner) => self.check(inner),
            ast::ExprKind::Error => self.error(range),
        }
    }

    pub(super) fn literal(&mut self, lit: &ast::Literal, range: TextRange) -> Typed {
        let (value, ty) = match lit {
            ast::Literal::Bool(b) => (Value::Bool(*b), Ty::Bool),
            ast::Literal::Int(i) => (Value::Int(*i), Ty::Int),
            ast::Literal::Float(f) => (Value::Float(*f), Ty::Float),
            ast::Literal::Str(s) | ast::Literal::RawStr(s) => {
                let mut t = self.typed(ExprKind::Const(Value::str(s)), Ty::String, range);
                t.literal = Some(s.clone());
                return t;
            }
            ast::Literal::None => (Value::None, Ty::None),
            ast::Literal::Time(text) => match ir::parse_time(text) {
                Some(t) => (Value::Time(t), Ty::Time),
                None => {
                    self.report(
                        Diagnostic::new(
                            Code::E0008,
                            self.span(range),
                            format!("`{text}` is not a valid time"),
                        )
                        .with_help("write `2026-06-01` or `2026-06-01T00:00:00Z`"),
                    );
                    return self.error(range);
                }
            },
            ast::Literal::Duration(text) => match ir::parse_duration(text) {
                Some(d) => (Value::Duration(d), Ty::Duration),
                None => {
                    self.report(
                        Diagnostic::new(
                            Code::E0008,
                            self.span(range),
                            format!("`{text}` is not a valid duration"),
                        )
                        .with_help("write e.g. `90d`, `12h` or `1h30m`"),
                    );
                    return self.error(range);
                }
            },
        };
        self.typed(ExprKind::Const(value), ty, range)
    }
}
