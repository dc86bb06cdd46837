//! Binary operators: logic with flow typing, comparisons (with `none`,
//! unions and literals), membership, arithmetic and `??`.

use super::relations::{arithmetic, force_float, widen};
use super::{Checker, Typed};
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, TextRange};
use warden_ir::{BinOp, ExprKind, Ty, Value};
use warden_syntax::ast;

impl Checker<'_> {
    pub(super) fn binary(
        &mut self,
        op: ast::BinaryOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        range: TextRange,
    ) -> Typed {
        use ast::BinaryOp as A;
        match op {
            A::And | A::Or => {
                let l = self.check_condition(lhs);
                let mark = self.facts.len();
                if op == A::And {
                    self.facts.extend(l.when_true.iter().cloned());
                } else {
                    self.facts.extend(l.when_false.iter().cloned());
                }
                let r = self.check_condition(rhs);
                self.facts.truncate(mark);
                let ir_op = if op == A::And { BinOp::And } else { BinOp::Or };
                let mut t = self.typed(
                    ExprKind::Binary {
                        op: ir_op,
                        lhs: Box::new(l.expr),
                        rhs: Box::new(r.expr),
                    },
                    Ty::Bool,
                    range,
                );
                if op == A::And {
                    t.when_true = l.when_true.into_iter().chain(r.when_true).collect();
                } else {
                    t.when_false = l.when_false.into_iter().chain(r.when_false).collect();
                }
                return t;
            }
            _ => {}
        }
        let mut l = self.check(lhs);
        let mut r = self.check(rhs);
        let ir_op = match op {
            A::Eq => BinOp::Eq,
            A::NotEq => BinOp::NotEq,
            A::Lt => BinOp::Lt,
            A::LtEq => BinOp::LtEq,
            A::Gt => BinOp::Gt,
            A::GtEq => BinOp::GtEq,
            A::In => BinOp::In,
            A::NotIn => BinOp::NotIn,
            A::Matches => BinOp::Matches,
            A::Coalesce => BinOp::Coalesce,
            A::Add => BinOp::Add,
            A::Sub => BinOp::Sub,
            A::Mul => BinOp::Mul,
            A::Div => BinOp::Div,
            A::Rem => BinOp::Rem,
            A::And | A::Or => unreachable!("handled above"),
        };
        let ty = match op {
            A::Eq | A::NotEq => {
                self.literal_in_union(&mut l, &r.ty.clone());
                self.literal_in_union(&mut r, &l.ty.clone());
                let is_none =
                    |e: &ast::Expr| matches!(e.kind, ast::ExprKind::Literal(ast::Literal::None));
                let value_side = if is_none(rhs) {
                    Some((lhs, &l.ty, l.narrowed))
                } else if is_none(lhs) {
                    Some((rhs, &r.ty, r.narrowed))
                } else {
                    None
                };
                if let Some((side, ty, _)) = value_side.filter(|(_, ty, narrowed)| {
                    !narrowed && !matches!(ty, Ty::Optional(_) | Ty::None | Ty::Any | Ty::Error)
                }) {
                    // Always true or always false: almost always a mistake.
                    let text = self.text[side.range.as_range()].to_string();
                    let mut d = Diagnostic::new(
                        Code::E0202,
                        self.span(range),
                        format!("`{text}` is never none"),
                    )
                    .with_label(format!(
                        "`{text}` is `{}`, which is always present",
                        self.display(ty)
                    ));
                    let names_none = matches!(ty, Ty::Enum(id) if self.cx.types().enumeration(*id).members.iter().any(|m| &**m == "none"));
                    d = if names_none {
                        d.with_help("to compare with the string, write `\"none\"` in quotes")
                    } else {
                        d.with_help(
                            "remove the test, or declare the field optional (`name?: type`)",
                        )
                    };
                    self.report(d);
                } else if !self.comparable(&l.ty, &r.ty) {
                    self.incomparable(op, &l.ty, &r.ty, range);
                }
                Ty::Bool
            }
            A::Lt | A::LtEq | A::Gt | A::GtEq => {
                for (side, t) in [(lhs, &l), (rhs, &r)] {
                    if t.ty.is_optional() {
                        self.unhandled_optional(side, "ordering");
                        return self.error(range);
                    }
                }
                let ordered = matches!(
                    (&l.ty, &r.ty),
                    (Ty::Int | Ty::Float, Ty::Int | Ty::Float)
                        | (Ty::String, Ty::String)
                        | (Ty::Time, Ty::Time)
                        | (Ty::Duration, Ty::Duration)
                        | (Ty::Any | Ty::Error, _)
                        | (_, Ty::Any | Ty::Error)
                );
                if matches!(l.ty, Ty::Enum(_)) || matches!(r.ty, Ty::Enum(_)) {
                    // Alphabetical order would put "high" before "low".
                    let d = Diagnostic::new(
                        Code::E0202,
                        self.span(range),
                        "the members of a union have no order",
                    )
                    .with_label(format!(
                        "`{}` compared with `{}`",
                        self.display(&l.ty),
                        self.display(&r.ty)
                    ))
                    .with_help(
                        "list the values that pass instead, e.g. `tier in [\"medium\", \"high\"]`",
                    );
                    self.report(d);
                } else if !ordered {
                    self.incomparable(op, &l.ty, &r.ty, range);
                }
                Ty::Bool
            }
            A::In | A::NotIn => {
                match r.ty.clone() {
                    Ty::List(elem) => {
                        self.literal_in_union(&mut l, &elem);
                        // Each literal of the list is checked against the left side's union.
                        if let (Ty::Enum(id), ast::ExprKind::List(items)) =
                            (l.ty.strip_optional().clone(), &rhs.kind)
                        {
                            let expected = l.ty.clone();
                            for item in items {
                                let mut t = self.check(item);
                                self.literal_in_union(&mut t, &expected);
                            }
                            // Share the union's own strings, so membership is a pointer test.
                            if let ExprKind::Const(Value::List(values)) = &r.expr.kind {
                                let members = &self.cx.types().enumeration(id).members;
                                let shared: Vec<Value> = values
                                    .iter()
                                    .map(|v| match v {
                                        Value::Str(s) => members
                                            .iter()
                                            .find(|m| ***m == **s)
                                            .map_or_else(|| v.clone(), |m| Value::Str(m.clone())),
                                        other => other.clone(),
                                    })
                                    .collect();
                                r.expr.kind = ExprKind::Const(Value::List(shared.into()));
                            }
                        }
                        if !self.comparable(&l.ty, &elem) {
                            self.incomparable(op, &l.ty, &r.ty, range);
                        }
                    }
                    Ty::Map(_) | Ty::String | Ty::Enum(_) => {
                        if !matches!(
                            l.ty.strip_optional(),
                            Ty::String | Ty::Enum(_) | Ty::Any | Ty::Error
                        ) {
                            self.incomparable(op, &l.ty, &r.ty, range);
                        }
                    }
                    Ty::Any | Ty::Error | Ty::Never => {}
                    Ty::Optional(_) | Ty::None => {
                        self.unhandled_optional(rhs, "`in`");
                    }
                    other => {
                        let d = Diagnostic::new(
                            Code::E0206,
                            self.span(rhs.range),
                            format!(
                                "`in` needs a list, a map or a string, not `{}`",
                                self.display(&other)
                            ),
                        );
                        self.report(d);
                    }
                }
                Ty::Bool
            }
            A::Matches => {
                for (side, t) in [(lhs, &l), (rhs, &r)] {
                    if t.ty.is_optional() {
                        self.unhandled_optional(side, "`matches`");
                        return self.error(range);
                    }
                    if !matches!(t.ty, Ty::String | Ty::Enum(_) | Ty::Any | Ty::Error) {
                        let d = Diagnostic::new(
                            Code::E0201,
                            self.span(side.range),
                            format!("`matches` works on strings, not `{}`", self.display(&t.ty)),
                        );
                        self.report(d);
                    }
                }
                if let Some(pattern) = &r.literal {
                    match warden_ir::compile_pattern(pattern) {
                        Ok(compiled) => {
                            return self.typed(
                                ExprKind::MatchesConst {
                                    lhs: Box::new(l.expr),
                                    regex: Arc::new(compiled.regex),
                                    weight: compiled.weight,
                                },
                                Ty::Bool,
                                range,
                            );
                        }
                        Err(e) => self.invalid_regex(rhs.range, &e),
                    }
                }
                Ty::Bool
            }
            A::Coalesce => {
                let inner = l.ty.strip_optional().clone();
                let inner = if matches!(l.ty, Ty::None) {
                    Ty::Never
                } else {
                    inner
                };
                // A default outside the union (`tier ?? "unset"`) makes the result a plain string.
                let member = match (&inner, &r.literal) {
                    (Ty::Enum(id), Some(text)) => self
                        .cx
                        .types()
                        .enumeration(*id)
                        .members
                        .iter()
                        .any(|m| **m == **text),
                    _ => true,
                };
                if member {
                    self.literal_in_union(&mut r, &inner);
                }
                // `m ?? {}`: an empty map of the map's own type.
                if let (Ty::Map(_), ast::ExprKind::Record(entries)) = (&inner, &rhs.kind)
                    && entries.is_empty()
                {
                    r.expr.kind = ExprKind::Const(Value::Map(std::sync::Arc::new(
                        warden_ir::MapValue::default(),
                    )));
                    r.ty = inner.clone();
                }
                match self.unify(&inner, &r.ty) {
                    Some(ty) => {
                        widen(&mut l, &ty);
                        widen(&mut r, &ty);
                        ty
                    }
                    None => {
                        let d = Diagnostic::new(
                            Code::E0201,
                            self.span(rhs.range),
                            format!(
                                "the default is `{}` but the value is `{}`",
                                self.display(&r.ty),
                                self.display(&inner)
                            ),
                        );
                        self.report(d);
                        Ty::Error
                    }
                }
            }
            A::Add | A::Sub | A::Mul | A::Div | A::Rem => {
                for (side, t) in [(lhs, &l), (rhs, &r)] {
                    if t.ty.is_optional() {
                        self.unhandled_optional(side, "arithmetic");
                        return self.error(range);
                    }
                }
                match arithmetic(op, &l.ty, &r.ty) {
                    // Float arithmetic stays float even when a value typed `float`
                    // arrives as an integer (`[int]` passed as `[float]`).
                    Some(Ty::Float) => {
                        force_float(&mut l);
                        force_float(&mut r);
                        Ty::Float
                    }
                    Some(ty) => ty,
                    None => {
                        let d = Diagnostic::new(
                            Code::E0201,
                            self.span(range),
                            format!(
                                "cannot apply `{}` to `{}` and `{}`",
                                op.as_str(),
                                self.display(&l.ty),
                                self.display(&r.ty)
                            ),
                        );
                        self.report(d);
                        Ty::Error
                    }
                }
            }
            A::And | A::Or => unreachable!("handled above"),
        };
        let mut t = self.typed(
            ExprKind::Binary {
                op: ir_op,
                lhs: Box::new(l.expr),
                rhs: Box::new(r.expr),
            },
            ty,
            range,
        );
        // `xs ?? []` (and `m ?? {}`) has the elements of `xs` or none at all;
        // with any other default the elements may come from elsewhere.
        let empty = matches!(&rhs.kind, ast::ExprKind::List(items) if items.is_empty())
            || matches!(&rhs.kind, ast::ExprKind::Record(entries) if entries.is_empty());
        if op == A::Coalesce && empty {
            t.origin = l.place.clone().or(l.origin.clone());
        }
        // `x != none` proves `x` present when true; `x == none` when false.
        let is_none = |e: &ast::Expr| matches!(e.kind, ast::ExprKind::Literal(ast::Literal::None));
        let place = if is_none(rhs) {
            l.place
        } else if is_none(lhs) {
            r.place
        } else {
            None
        };
        if let Some(place) = place {
            match op {
                A::NotEq => t.when_true.push(place),
                A::Eq => t.when_false.push(place),
                _ => {}
            }
        }
        t
    }

    pub(super) fn incomparable(&mut self, op: ast::BinaryOp, l: &Ty, r: &Ty, range: TextRange) {
        if matches!(l, Ty::Error) || matches!(r, Ty::Error) {
            return;
        }
        let d = Diagnostic::new(
            Code::E0202,
            self.span(range),
            format!(
                "cannot compare `{}` with `{}` using `{}`",
                self.display(l),
                self.display(r),
                op.as_str()
            ),
        )
        .with_label("these can never match");
        let number = |t: &Ty| matches!(t, Ty::Int | Ty::Float);
        let text = |t: &Ty| matches!(t, Ty::String | Ty::Enum(_));
        let d = if (number(l) && text(r)) || (text(l) && number(r)) {
            // `replicas == "3"` or `port > 1024` where the schema says string.
            d.with_help(
                "a number and a string never match: write the number without quotes (`3`), \
                 or compare text with text (`\"3\"`, or `to_string(x)` for a number's text)",
            )
        } else {
            d
        };
        self.report(d);
    }
}
