//! How types relate: what fits where, the type two branches share, what
//! may be compared, and the widening of `int` to `float`.

use super::{Checker, Typed};
use warden_diagnostics::{Code, Diagnostic, did_you_mean};
use warden_ir::{self as ir, ExprKind, Ty, Value};
use warden_syntax::ast;

impl Checker<'_> {
    /// Whether a value of `from` may stand where `to` is expected.
    pub(super) fn fits(&self, from: &Ty, to: &Ty) -> bool {
        match (from, to) {
            (Ty::Error, _) | (_, Ty::Error) | (Ty::Any, _) | (_, Ty::Any) | (Ty::Never, _) => true,
            (Ty::None, Ty::Optional(_)) => true,
            (Ty::Optional(a), Ty::Optional(b)) => self.fits(a, b),
            (a, Ty::Optional(b)) => self.fits(a, b),
            (Ty::Enum(a), Ty::Enum(b)) => {
                let types = self.cx.types();
                a == b
                    || types
                        .enumeration(*a)
                        .members
                        .iter()
                        .all(|m| types.enumeration(*b).members.contains(m))
            }
            (Ty::Enum(_), Ty::String) => true,
            (Ty::Int, Ty::Float) => true,
            (Ty::List(a), Ty::List(b)) | (Ty::Map(a), Ty::Map(b)) => self.fits(a, b),
            (Ty::Record(a), Ty::Record(b)) => {
                if a == b {
                    return true;
                }
                if let Some(known) = self.record_fits.borrow().get(&(*a, *b)) {
                    return *known;
                }
                let types = self.cx.types();
                let (ra, rb) = (types.record(*a), types.record(*b));
                // By name, in any order: a value of another record type is read by
                // field name at run time. A field the target requires must be
                // required here too; one it makes optional may be missing.
                let fits =
                    rb.fields
                        .iter()
                        .all(|y| match ra.fields.iter().find(|x| x.name == y.name) {
                            // `g?: U` takes a `U`, a `U?` or `none`; a required field takes only a present value.
                            Some(x) if y.optional => {
                                matches!(x.ty, Ty::None) || self.fits(x.ty.strip_optional(), &y.ty)
                            }
                            Some(x) => !x.optional && self.fits(&x.ty, &y.ty),
                            None => y.optional,
                        });
                self.record_fits.borrow_mut().insert((*a, *b), fits);
                fits
            }
            (a, b) => a == b,
        }
    }

    /// The type both branches fit, if any.
    pub(super) fn unify(&self, a: &Ty, b: &Ty) -> Option<Ty> {
        if matches!(a, Ty::Never) {
            return Some(b.clone());
        }
        if self.fits(a, b) {
            return Some(b.clone());
        }
        if self.fits(b, a) {
            return Some(a.clone());
        }
        match (a, b) {
            (Ty::Enum(_), Ty::Enum(_)) => Some(Ty::String),
            (Ty::None, t) | (t, Ty::None) => Some(t.clone().optional()),
            (Ty::Optional(x), y) | (y, Ty::Optional(x)) => self.unify(x, y).map(Ty::optional),
            _ => None,
        }
    }

    pub(super) fn comparable(&self, a: &Ty, b: &Ty) -> bool {
        let (sa, sb) = (a.strip_optional(), b.strip_optional());
        matches!(a, Ty::None)
            || matches!(b, Ty::None)
            || self.fits(sa, sb)
            || self.fits(sb, sa)
            || self.unify(sa, sb).is_some()
    }

    /// A string literal where a union is expected: reported when it is not a member,
    /// and lowered to the union's own member so comparisons are pointer-fast.
    /// A list literal of string literals where a list of a union is expected
    /// (`["admin", "editor"]` as `[Role]`) is checked and lowered the same
    /// way, member by member.
    pub(super) fn literal_in_union(&mut self, typed: &mut Typed, expected: &Ty) {
        if let Ty::List(element) = expected.strip_optional()
            && let Ty::Enum(id) = element.strip_optional()
            && let Some(literals) = typed.literals.take()
        {
            let members = self.cx.types().enumeration(*id).members.clone();
            let mut values = Vec::with_capacity(literals.len());
            for (text, span) in literals {
                match members.iter().find(|m| ***m == *text) {
                    Some(member) => values.push(Value::Str(member.clone())),
                    None => self.not_a_member(&text, span, &members),
                }
            }
            // One constant of the union's own strings (an element that is
            // not a member was reported, and the set does not compile).
            typed.expr.kind = ExprKind::Const(Value::List(values.into()));
            typed.ty = Ty::List(Box::new(Ty::Enum(*id)));
            return;
        }
        let Ty::Enum(id) = expected.strip_optional() else {
            return;
        };
        let Some(text) = typed.literal.clone() else {
            return;
        };
        let members = self.cx.types().enumeration(*id).members.clone();
        match members.iter().find(|m| ***m == *text) {
            Some(member) => {
                typed.expr.kind = ExprKind::Const(Value::Str(member.clone()));
                typed.ty = Ty::Enum(*id);
            }
            None => self.not_a_member(&text, typed.expr.span, &members),
        }
    }

    /// E0204: a string literal that is not a member of the union expected.
    fn not_a_member(
        &mut self,
        text: &str,
        span: warden_diagnostics::Span,
        members: &[std::sync::Arc<str>],
    ) {
        let list = members
            .iter()
            .map(|m| format!("\"{m}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut d = Diagnostic::new(
            Code::E0204,
            span,
            format!("\"{text}\" is not one of {list}"),
        )
        .with_label("never equal to any allowed value");
        if let Some(s) = did_you_mean(text, members.iter().map(|m| &**m)) {
            d = d.with_help(format!("did you mean \"{s}\"?"));
        }
        self.report(d);
    }

    // ------------------------------------------------------------ clauses
}

pub(super) fn arithmetic(op: ast::BinaryOp, l: &Ty, r: &Ty) -> Option<Ty> {
    use ast::BinaryOp as A;
    Some(match (op, l, r) {
        (_, Ty::Error, _) | (_, _, Ty::Error) => Ty::Error,
        (_, Ty::Any, _) | (_, _, Ty::Any) => Ty::Any,
        (_, Ty::Int, Ty::Int) => Ty::Int,
        (A::Add | A::Sub | A::Mul | A::Div, Ty::Int | Ty::Float, Ty::Int | Ty::Float) => Ty::Float,
        (A::Add, Ty::String | Ty::Enum(_), Ty::String | Ty::Enum(_)) => Ty::String,
        (A::Add, Ty::List(a), Ty::List(b)) if a == b || matches!(**b, Ty::Never) => l.clone(),
        (A::Add, Ty::List(a), Ty::List(_)) if matches!(**a, Ty::Never) => r.clone(),
        (A::Add, Ty::Time, Ty::Duration)
        | (A::Add, Ty::Duration, Ty::Time)
        | (A::Sub, Ty::Time, Ty::Duration) => Ty::Time,
        (A::Sub, Ty::Time, Ty::Time) => Ty::Duration,
        (A::Add | A::Sub, Ty::Duration, Ty::Duration) => Ty::Duration,
        (A::Mul, Ty::Duration, Ty::Int)
        | (A::Mul, Ty::Int, Ty::Duration)
        | (A::Div, Ty::Duration, Ty::Int) => Ty::Duration,
        _ => return None,
    })
}

/// An `int` where a `float` is expected becomes a float at run time too, so
/// `x / 2` divides as the checker typed it.
pub(super) fn widen(typed: &mut Typed, to: &Ty) {
    if !matches!(typed.ty.strip_optional(), Ty::Int) || !matches!(to.strip_optional(), Ty::Float) {
        return;
    }
    force_float(typed);
    typed.ty = if typed.ty.is_optional() {
        Ty::Float.optional()
    } else {
        Ty::Float
    };
}

/// Converts an operand of float arithmetic to a float at run time, whatever
/// its static type (`int`, or `float` that may hold an integer).
pub(super) fn force_float(typed: &mut Typed) {
    let span = typed.expr.span;
    let inner = std::mem::replace(
        &mut typed.expr,
        ir::Expr {
            kind: ExprKind::Error,
            span,
            dynamic: false,
        },
    );
    typed.expr = match inner.kind {
        ExprKind::Const(Value::Int(i)) => ir::Expr {
            kind: ExprKind::Const(Value::Float(i as f64)),
            span,
            dynamic: false,
        },
        ExprKind::Const(Value::Float(_)) | ExprKind::ToFloat(_) => inner,
        _ => ir::Expr {
            kind: ExprKind::ToFloat(Box::new(inner)),
            span,
            dynamic: false,
        },
    };
}
