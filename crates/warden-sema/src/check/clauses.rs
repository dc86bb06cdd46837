//! Clauses (`deny when …`, `for x in xs: …`), the input path a finding
//! points at, and what a `for` iterates.

use super::{Checker, Place};
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, TextRange};
use warden_ir::{self as ir, Ty};
use warden_syntax::ast;

impl Checker<'_> {
    /// A clause. A `deny` or `warn` clause whose whole condition is
    /// `x == none` (and that has no `for`) proves `x` present for the clauses
    /// after it in the rule: they may read `x` without a guard of their own.
    /// Each clause that relies on it is lowered with that guard in front
    /// (`x != none and …`), so when `x` is absent it is skipped, the clause
    /// above having reported exactly that.
    pub(crate) fn clause(&mut self, c: &ast::Clause) -> Option<ir::Clause> {
        self.in_clause = true;
        *self.dominating_used.borrow_mut() = vec![false; self.dominating.len()];
        let lowered = self.clause_inner(c);
        self.in_clause = false;
        let (mut clause, none_test) = lowered?;
        let used = std::mem::take(&mut *self.dominating_used.borrow_mut());
        // The earliest guard outermost: `g1 != none and (g2 != none and …)`.
        let relied_on = self.dominating.iter().zip(&used).filter(|(_, used)| **used);
        clause.condition =
            relied_on
                .rev()
                .fold(clause.condition, |condition, ((_, presence), _)| {
                    let span = condition.span;
                    ir::Expr {
                        kind: ir::ExprKind::Binary {
                            op: ir::BinOp::And,
                            lhs: Box::new(presence.clone()),
                            rhs: Box::new(condition),
                        },
                        span,
                        dynamic: false,
                    }
                });
        if clause.iteration.is_none()
            && matches!(clause.effect, ir::Effect::Deny | ir::Effect::Warn)
            && let Some(guard) = none_test
        {
            self.dominating.push(guard);
        }
        Some(clause)
    }

    /// The clause, and when its whole condition is `x == none`, `x` with the
    /// test `x != none`.
    fn clause_inner(&mut self, c: &ast::Clause) -> Option<(ir::Clause, Option<(Place, ir::Expr)>)> {
        let mark = self.scopes.len();
        let facts_mark = self.facts.len();
        let mut iteration = None;
        if let Some(it) = &c.iteration {
            let collection = self.check(&it.collection);
            let element = self.element_type(&collection.ty, it.collection.range);
            // `for x in xs ?? []` iterates `xs` when there is one.
            let mut path = collection
                .place
                .as_ref()
                .and_then(|p| self.input_path(p))
                .or_else(|| collection.origin.as_ref().and_then(|p| self.input_path(p)));
            // `for s in strings_in(app.spec)`: each string has a path of its own below `app.spec`.
            let strings = match &collection.strings_of {
                Some(place) => {
                    path = self.input_path(place);
                    path.is_some()
                }
                None => false,
            };
            // `for k in keys(app.spec.env)`: each key has the path of its entry.
            let keys = match &collection.keys_of {
                Some(place) if !strings => {
                    path = self.input_path(place);
                    path.is_some()
                }
                _ => false,
            };
            let (local, key) = self.new_local(&it.binding.text, Some(it.binding.range), element);
            self.element_key = Some(key);
            iteration = Some(ir::Iteration {
                local,
                collection: collection.expr,
                path,
                strings,
                keys,
            });
        }
        let condition = c.condition.as_ref()?;
        self.recording = true;
        self.decisive_path = None;
        let condition = self.check_condition(condition);
        self.recording = false;
        let input_path = self.decisive_path.take().and_then(|p| self.input_path(&p));
        if matches!(
            condition.expr.kind,
            ir::ExprKind::Const(ir::Value::Bool(false))
        ) {
            let d = Diagnostic::new(
                Code::W0003,
                self.span(c.condition.as_ref().map_or(c.range, |e| e.range)),
                format!("this `{}` clause can never hold", c.effect.as_str()),
            )
            .with_label("this condition is always false")
            .with_help("fix the condition, or remove the clause");
            self.report(d);
        }
        // `x == none` as the whole condition: what `x != none` would test.
        let mut none_test = None;
        if let (
            [place],
            ir::ExprKind::Binary {
                op: ir::BinOp::Eq,
                lhs,
                rhs,
            },
        ) = (condition.when_false.as_slice(), &condition.expr.kind)
            && (is_none_const(lhs) || is_none_const(rhs))
        {
            let mut presence = condition.expr.clone();
            if let ir::ExprKind::Binary { op, .. } = &mut presence.kind {
                *op = ir::BinOp::NotEq;
            }
            none_test = Some((place.clone(), presence));
        }
        self.facts.extend(condition.when_true.iter().cloned());
        let message = c.message.as_ref().map(|m| {
            m.parts
                .iter()
                .map(|part| match part {
                    ast::TemplatePart::Text(t) => ir::MessagePart::Text(t.clone()),
                    ast::TemplatePart::Expr(e) => ir::MessagePart::Expr(self.check(e).expr),
                })
                .collect()
        });
        let mut obligations = Vec::new();
        for o in &c.obligations {
            if c.effect != ast::Effect::Allow {
                let d = Diagnostic::new(
                    Code::E0304,
                    self.span(o.key.range),
                    format!(
                        "`with` obligations belong to `allow` clauses, not `{}`",
                        c.effect.as_str()
                    ),
                )
                .with_help("obligations are returned with an allow decision; a deny needs none");
                self.report(d);
            }
            obligations.push((Arc::from(o.key.text.as_str()), self.check(&o.value).expr));
        }
        self.facts.truncate(facts_mark);
        self.scopes.truncate(mark);
        self.element_key = None;
        let effect = lower_effect(c.effect);
        let clause = ir::Clause {
            effect,
            iteration,
            condition: condition.expr,
            message,
            obligations,
            span: self.span(c.range),
            input_path,
        };
        Some((clause, none_test))
    }

    pub(super) fn input_path(&self, place: &Place) -> Option<ir::InputPath> {
        if Some(place.root) == self.input_key {
            Some(ir::InputPath {
                from_element: false,
                fields: place.fields.clone(),
            })
        } else if Some(place.root) == self.element_key {
            Some(ir::InputPath {
                from_element: true,
                fields: place.fields.clone(),
            })
        } else {
            None
        }
    }

    pub(super) fn element_type(&mut self, ty: &Ty, range: TextRange) -> Ty {
        match ty {
            Ty::List(inner) => (**inner).clone(),
            Ty::Any | Ty::Error => ty.clone(),
            Ty::Never => Ty::Never,
            Ty::Optional(_) | Ty::None => {
                let d =
                    Diagnostic::new(Code::E0203, self.span(range), "this collection may be none")
                        .with_help("iterate `xs ?? []` to treat an absent list as empty");
                self.report(d);
                Ty::Error
            }
            Ty::Map(_) => {
                let d = Diagnostic::new(
                    Code::E0206,
                    self.span(range),
                    "a map is not iterated directly",
                )
                .with_help("iterate `keys(m)` or `values(m)`");
                self.report(d);
                Ty::Error
            }
            other => {
                let d = Diagnostic::new(
                    Code::E0206,
                    self.span(range),
                    format!("cannot iterate over `{}`", self.display(other)),
                )
                .with_label("not a list");
                self.report(d);
                Ty::Error
            }
        }
    }

    // ------------------------------------------------------------ expressions
}

/// A clause's or an expectation's effect in the IR.
pub(crate) fn lower_effect(effect: ast::Effect) -> ir::Effect {
    match effect {
        ast::Effect::Deny => ir::Effect::Deny,
        ast::Effect::Allow => ir::Effect::Allow,
        ast::Effect::Warn => ir::Effect::Warn,
    }
}

fn is_none_const(e: &ir::Expr) -> bool {
    matches!(e.kind, ir::ExprKind::Const(ir::Value::None))
}
