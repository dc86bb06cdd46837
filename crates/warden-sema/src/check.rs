//! Type checking and lowering of expressions, clauses and bodies, in one
//! pass: each checked expression comes back with its IR, its type, the
//! "place" it reads (for flow typing of optionals) and the places its truth
//! proves present.

use crate::builtins::check_builtin;
use crate::collect::Analysis;
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, Span, TextRange, did_you_mean};
use warden_ir::{self as ir, BinOp, Builtin, ExprKind, Ty, Value};
use warden_syntax::ast;

pub(crate) enum FrameKind {
    Rule,
    Function(usize),
    Waiver,
}

/// A value's address for flow typing: a binding and a field path under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    root: u32,
    fields: Vec<Arc<str>>,
}

pub(crate) struct Typed {
    pub expr: ir::Expr,
    pub ty: Ty,
    pub place: Option<Place>,
    /// For `x ?? []`: the place of `x`, where the elements come from when
    /// there are any. Not a `place`: `(x ?? []) != none` proves nothing about `x`.
    origin: Option<Place>,
    /// For `strings_in(x)`: the place of `x`, below which each string has a path.
    strings_of: Option<Place>,
    /// Present only because the conditions around proved it: a test against
    /// `none` is then redundant, not a mistake.
    narrowed: bool,
    when_true: Vec<Place>,
    when_false: Vec<Place>,
    /// The text of a string literal, for union membership checks.
    literal: Option<String>,
}

enum BindingKind {
    Local(ir::LocalId),
    Let(ir::LetId),
}

struct Binding {
    name: String,
    key: u32,
    ty: Ty,
    kind: BindingKind,
    used: bool,
    /// Where a `let` was declared, for the unused-binding lint.
    declared: Option<TextRange>,
    /// The input field a `let` names (`let scan = app.spec.runtime?.image_scan`):
    /// reading the let is reading that field, for narrowing and input paths.
    alias: Option<Place>,
    /// The input field a `let` takes its elements from when it has one
    /// (`let roles = app.spec.roles ?? []`): where a `for` over it points.
    origin: Option<Place>,
    /// The last input field a `let`'s value reads: where a finding points
    /// when the let decides it. None when the value comes from data: the
    /// input fields it reads there are keys, not what decides.
    reads: Option<Place>,
    /// Whether a `let`'s value reads a data document.
    from_data: bool,
}

pub(crate) struct Checker<'x, 'a> {
    a: &'x mut Analysis<'a>,
    file: usize,
    kind: FrameKind,
    scopes: Vec<Binding>,
    next_local: u32,
    next_key: u32,
    facts: Vec<Place>,
    input_key: Option<u32>,
    element_key: Option<u32>,
    /// While checking a clause condition: the input path it reads last.
    recording: bool,
    decisive_path: Option<Place>,
}

impl<'x, 'a> Checker<'x, 'a> {
    pub(crate) fn new(a: &'x mut Analysis<'a>, file: usize, kind: FrameKind) -> Self {
        Checker {
            a,
            file,
            kind,
            scopes: Vec::new(),
            next_local: 0,
            next_key: 0,
            facts: Vec::new(),
            input_key: None,
            element_key: None,
            recording: false,
            decisive_path: None,
        }
    }

    pub(crate) fn analysis(&self) -> &Analysis<'a> {
        self.a
    }

    pub(crate) fn locals(&self) -> u32 {
        self.next_local
    }

    fn span(&self, range: TextRange) -> Span {
        self.a.span(self.file, range)
    }

    fn report(&mut self, d: Diagnostic) {
        self.a.report(d);
    }

    fn display(&self, ty: &Ty) -> String {
        self.a.program.types.display(ty)
    }

    fn new_local(&mut self, name: &str, ty: Ty) -> (ir::LocalId, u32) {
        let id = ir::LocalId(self.next_local);
        self.next_local += 1;
        let key = self.next_key;
        self.next_key += 1;
        self.scopes.push(Binding {
            name: name.to_string(),
            key,
            ty,
            kind: BindingKind::Local(id),
            used: false,
            declared: None,
            alias: None,
            origin: None,
            reads: None,
            from_data: false,
        });
        (id, key)
    }

    pub(crate) fn bind_input(&mut self, name: &str, ty: Ty) {
        let (_, key) = self.new_local(name, ty);
        self.input_key = Some(key);
    }

    pub(crate) fn bind_param(&mut self, name: &str, ty: Ty) {
        self.new_local(name, ty);
    }

    /// Checks a rule's `let` and binds its name; the checked value comes back.
    pub(crate) fn check_let(
        &mut self,
        name: &ast::Name,
        id: ir::LetId,
        value: &ast::Expr,
    ) -> ir::Expr {
        let recording = std::mem::replace(&mut self.recording, true);
        let decisive = self.decisive_path.take();
        let typed = self.check(value);
        let reads = std::mem::replace(&mut self.decisive_path, decisive);
        self.recording = recording;
        let key = self.next_key;
        self.next_key += 1;
        // The input never changes during a decision, so the let and the field
        // it names are one value.
        let from_input = |p: &Option<Place>| p.clone().filter(|p| Some(p.root) == self.input_key);
        let alias = from_input(&typed.place);
        let origin = from_input(&typed.origin);
        let mut from_data = false;
        typed.expr.walk(&mut |e| match &e.kind {
            ExprKind::Data(_) => from_data = true,
            ExprKind::Let(id) => {
                from_data |= self
                    .scopes
                    .iter()
                    .any(|b| matches!(b.kind, BindingKind::Let(l) if l == *id) && b.from_data);
            }
            _ => {}
        });
        self.scopes.push(Binding {
            name: name.text.clone(),
            key,
            ty: typed.ty,
            kind: BindingKind::Let(id),
            used: false,
            declared: Some(name.range),
            alias,
            origin,
            reads: reads.filter(|_| !from_data),
            from_data,
        });
        typed.expr
    }

    pub(crate) fn report_unused_lets(&mut self) {
        let unused: Vec<(String, TextRange)> = self
            .scopes
            .iter()
            .filter(|b| !b.used && !b.name.starts_with('_'))
            .filter_map(|b| Some((b.name.clone(), b.declared?)))
            .collect();
        for (name, range) in unused {
            let d = Diagnostic::new(
                Code::W0001,
                self.span(range),
                format!("`{name}` is never used"),
            )
            .with_help(format!(
                "remove the binding, or name it `_{name}` to keep it"
            ));
            self.report(d);
        }
    }

    fn typed(&self, kind: ExprKind, ty: Ty, range: TextRange) -> Typed {
        Typed {
            expr: ir::Expr {
                kind,
                span: self.span(range),
                dynamic: matches!(ty, Ty::Any),
            },
            ty,
            place: None,
            origin: None,
            strings_of: None,
            narrowed: false,
            when_true: Vec::new(),
            when_false: Vec::new(),
            literal: None,
        }
    }

    fn error(&self, range: TextRange) -> Typed {
        self.typed(ExprKind::Error, Ty::Error, range)
    }

    // ------------------------------------------------------------ type relations

    /// Whether a value of `from` may stand where `to` is expected.
    fn fits(&self, from: &Ty, to: &Ty) -> bool {
        match (from, to) {
            (Ty::Error, _) | (_, Ty::Error) | (Ty::Any, _) | (_, Ty::Any) | (Ty::Never, _) => true,
            (Ty::None, Ty::Optional(_)) => true,
            (Ty::Optional(a), Ty::Optional(b)) => self.fits(a, b),
            (a, Ty::Optional(b)) => self.fits(a, b),
            (Ty::Enum(a), Ty::Enum(b)) => {
                let types = &self.a.program.types;
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
                let types = &self.a.program.types;
                let (ra, rb) = (types.record(*a), types.record(*b));
                // By name, in any order: a value of another record type is read by
                // field name at run time. A field the target requires must be
                // required here too; one it makes optional may be missing.
                a == b
                    || rb
                        .fields
                        .iter()
                        .all(|y| match ra.fields.iter().find(|x| x.name == y.name) {
                            // `g?: U` takes a `U`, a `U?` or `none`; a required field takes only a present value.
                            Some(x) if y.optional => {
                                matches!(x.ty, Ty::None) || self.fits(x.ty.strip_optional(), &y.ty)
                            }
                            Some(x) => !x.optional && self.fits(&x.ty, &y.ty),
                            None => y.optional,
                        })
            }
            (a, b) => a == b,
        }
    }

    /// The type both branches fit, if any.
    fn unify(&self, a: &Ty, b: &Ty) -> Option<Ty> {
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

    fn comparable(&self, a: &Ty, b: &Ty) -> bool {
        let (sa, sb) = (a.strip_optional(), b.strip_optional());
        matches!(a, Ty::None)
            || matches!(b, Ty::None)
            || self.fits(sa, sb)
            || self.fits(sb, sa)
            || self.unify(sa, sb).is_some()
    }

    // ------------------------------------------------------------ entry points

    pub(crate) fn check_expected(&mut self, expr: &ast::Expr, expected: Option<&Ty>) -> Typed {
        let mut typed = self.check(expr);
        if let Some(expected) = expected {
            self.literal_in_union(&mut typed, expected);
            widen(&mut typed, expected);
            if !self.fits(&typed.ty, expected) {
                let d = Diagnostic::new(
                    Code::E0201,
                    self.span(expr.range),
                    format!(
                        "expected `{}`, found `{}`",
                        self.display(expected),
                        self.display(&typed.ty)
                    ),
                )
                .with_label(format!("this is `{}`", self.display(&typed.ty)));
                self.report(d);
            }
        }
        typed
    }

    pub(crate) fn check_condition(&mut self, expr: &ast::Expr) -> Typed {
        let typed = self.check(expr);
        if !matches!(typed.ty, Ty::Bool | Ty::Error | Ty::Any) {
            let mut d = Diagnostic::new(
                Code::E0201,
                self.span(expr.range),
                format!(
                    "a condition must be `bool`, found `{}`",
                    self.display(&typed.ty)
                ),
            )
            .with_label("not true or false");
            if typed.ty.is_optional() && matches!(typed.ty.strip_optional(), Ty::Bool) {
                d = d.with_help("this may be none: write `x == true`, or `x ?? false`");
            }
            self.report(d);
        }
        typed
    }

    /// A string literal where a union is expected: reported when it is not a member,
    /// and lowered to the union's own member so comparisons are pointer-fast.
    fn literal_in_union(&mut self, typed: &mut Typed, expected: &Ty) {
        let Ty::Enum(id) = expected.strip_optional() else {
            return;
        };
        let Some(text) = typed.literal.clone() else {
            return;
        };
        let members = self.a.program.types.enumeration(*id).members.clone();
        match members.iter().find(|m| ***m == *text) {
            Some(member) => {
                typed.expr.kind = ExprKind::Const(Value::Str(member.clone()));
                typed.ty = Ty::Enum(*id);
            }
            None => {
                let list = members
                    .iter()
                    .map(|m| format!("\"{m}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut d = Diagnostic::new(
                    Code::E0204,
                    typed.expr.span,
                    format!("\"{text}\" is not one of {list}"),
                )
                .with_label("never equal to any allowed value");
                if let Some(s) = did_you_mean(&text, members.iter().map(|m| &**m)) {
                    d = d.with_help(format!("did you mean \"{s}\"?"));
                }
                self.report(d);
            }
        }
    }

    // ------------------------------------------------------------ clauses

    pub(crate) fn clause(&mut self, c: &ast::Clause) -> Option<ir::Clause> {
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
            let (local, key) = self.new_local(&it.binding.text, element);
            self.element_key = Some(key);
            iteration = Some(ir::Iteration {
                local,
                collection: collection.expr,
                path,
                strings,
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
        Some(ir::Clause {
            effect,
            iteration,
            condition: condition.expr,
            message,
            obligations,
            span: self.span(c.range),
            input_path,
        })
    }

    fn input_path(&self, place: &Place) -> Option<ir::InputPath> {
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

    fn element_type(&mut self, ty: &Ty, range: TextRange) -> Ty {
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

    pub(crate) fn check(&mut self, expr: &ast::Expr) -> Typed {
        // Chains of functions and lets can nest deeper than a thread's stack.
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.check_grown(expr))
    }

    fn check_grown(&mut self, expr: &ast::Expr) -> Typed {
        let mut typed = self.check_inner(expr);
        if let Some(place) = &typed.place {
            if typed.ty.is_optional() && self.known_present(place) {
                typed.ty = typed.ty.strip_optional().clone();
                typed.narrowed = true;
            }
            self.record_path(&place.clone());
        }
        typed
    }

    /// Whether the conditions around prove `place` present: a fact about it,
    /// or about a field below it (`a?.b != none` proves `a` present too).
    fn known_present(&self, place: &Place) -> bool {
        self.facts
            .iter()
            .any(|fact| fact.root == place.root && fact.fields.starts_with(&place.fields))
    }

    /// Remembers the input field a condition reads last: in `a and b` the later
    /// conjunct is usually the one that singles the finding out.
    /// In a `for` clause the finding is about the element, so a field of the
    /// element, once read, outranks fields of the input read after it.
    fn record_path(&mut self, place: &Place) {
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

    fn check_inner(&mut self, expr: &ast::Expr) -> Typed {
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
                let (local, _) = self.new_local(&binding.text, element);
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
                self.typed(kind, Ty::List(Box::new(ty)), range)
            }
            ast::ExprKind::Record(entries) => {
                let mut fields = Vec::new();
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
                    fields.push(ir::FieldDef {
                        name: Arc::from(name.text.as_str()),
                        ty: t.ty,
                        optional: false,
                    });
                    values.push(t.expr);
                }
                let id = self.a.make_record(fields, false, None);
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
                let (local, _) = self.new_local(&binding.text, elem_ty);
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

    fn literal(&mut self, lit: &ast::Literal, range: TextRange) -> Typed {
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

    fn name(&mut self, name: &ast::Name, range: TextRange) -> Typed {
        if let Some(i) = self.scopes.iter().rposition(|b| b.name == name.text) {
            self.scopes[i].used = true;
            let b = &self.scopes[i];
            let kind = match b.kind {
                BindingKind::Local(id) => ExprKind::Local(id),
                BindingKind::Let(id) => ExprKind::Let(id),
            };
            let place = b.alias.clone().unwrap_or(Place {
                root: b.key,
                fields: Vec::new(),
            });
            let (ty, origin, reads) = (b.ty.clone(), b.origin.clone(), b.reads.clone());
            if let Some(reads) = &reads {
                self.record_path(reads);
            }
            let mut t = self.typed(kind, ty, range);
            t.place = Some(place);
            t.origin = origin;
            return t;
        }
        let mut candidates: Vec<String> = self.scopes.iter().map(|b| b.name.clone()).collect();
        candidates.sort();
        let mut d = Diagnostic::new(
            Code::E0101,
            self.span(range),
            format!("`{}` is not defined here", name.text),
        )
        .with_label("unknown name");
        // A field of the rule's input written without the input's name (`{sso}` for `{app.sso}`)?
        let input = self
            .scopes
            .iter()
            .find(|b| Some(b.key) == self.input_key)
            .map(|b| (b.name.clone(), b.ty.clone()));
        let input_field = input.as_ref().and_then(|(binding, ty)| match ty {
            Ty::Record(id) => self
                .a
                .program
                .types
                .record(*id)
                .slot(&name.text)
                .map(|_| binding.clone()),
            _ => None,
        });
        if let Some(s) = did_you_mean(&name.text, candidates.iter().map(String::as_str)) {
            d = d.with_help(format!("did you mean `{s}`?"));
        } else if let Some(binding) = input_field {
            d = d.with_help(format!("did you mean `{binding}.{}`?", name.text));
        } else if self.a.program.data_by_name(&name.text).is_some() {
            d = d.with_help(format!(
                "data documents are read through `data`: `data.{}`",
                name.text
            ));
        } else if !candidates.is_empty() {
            let shown: Vec<String> = candidates
                .iter()
                .filter(|c| !c.starts_with('_'))
                .map(|c| format!("`{c}`"))
                .collect();
            d = d.with_help(format!("names in scope here: {}", shown.join(", ")));
        }
        self.report(d);
        self.error(range)
    }

    /// Reports reading a possibly-absent value as if present.
    fn unhandled_optional(&mut self, base: &ast::Expr, what: &str) {
        let text = self.a.files[self.file].text[base.range.as_range()].to_string();
        let d = Diagnostic::new(Code::E0203, self.span(base.range), format!("`{text}` may be none"))
            .with_label(format!("{what} needs a value that is present"))
            .with_help(format!("check first (`{text} != none and …` or `has {text}`), chain with `?.`, or give a default with `??`"));
        self.report(d);
    }

    fn field(
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
                let def = self.a.program.types.record(id);
                match def.slot(&name.text) {
                    Some(slot) => {
                        let f = &def.fields[slot];
                        let ty = if f.optional {
                            f.ty.clone().optional()
                        } else {
                            f.ty.clone()
                        };
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

    fn data_doc(&mut self, name: &ast::Name, range: TextRange) -> Typed {
        match self.a.program.data_by_name(&name.text) {
            Some(id) => {
                let ty = self.a.program.data[id.index()].ty.clone();
                self.typed(ExprKind::Data(id), ty, range)
            }
            None => {
                let names: Vec<String> = self
                    .a
                    .program
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

    fn index(
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

    fn has(&mut self, inner: &ast::Expr, range: TextRange) -> Typed {
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
                let def = self.a.program.types.record(*id);
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

    fn call(&mut self, callee: &ast::Expr, args: &[ast::Expr], range: TextRange) -> Typed {
        // Resolve the callee: `f(...)` or `pkg.f(...)`.
        let (name, name_range, func) = match &callee.kind {
            ast::ExprKind::Name(n) => {
                // The file's own package first; then the imports, which must agree.
                let packages = self.a.visible_packages(self.file);
                let own = self.a.file_package[self.file];
                let mut found = own.and_then(|p| self.a.packages[p].fns.get(&n.text).copied());
                if found.is_none() {
                    let candidates: Vec<usize> = packages
                        .iter()
                        .filter_map(|&p| self.a.packages[p].fns.get(&n.text).copied())
                        .collect();
                    if candidates.len() > 1 {
                        let owners: Vec<String> = candidates
                            .iter()
                            .map(|&i| format!("`{}`", self.a.packages[self.a.fns[i].pkg].name))
                            .collect();
                        let d = Diagnostic::new(Code::E0112, self.span(n.range), format!("the function `{}` is defined in {}", n.text, owners.join(" and ")))
                            .with_help("call it through its package, e.g. `pkg.f(x)`, with distinct import names (`import a.util as a_util`)");
                        self.report(d);
                    }
                    found = candidates.first().copied();
                }
                (n.text.clone(), n.range, found)
            }
            ast::ExprKind::Field {
                base,
                name,
                optional_chain: false,
            } => {
                let prefix = dotted(base);
                let func = prefix
                    .and_then(|p| self.a.package_named(self.file, &p))
                    .and_then(|pkg| self.a.packages[pkg].fns.get(&name.text).copied());
                match func {
                    Some(f) => (name.text.clone(), name.range, Some(f)),
                    None => {
                        let d = Diagnostic::new(Code::E0107, self.span(callee.range), "only functions can be called")
                            .with_help("call a built-in such as `lower(x)`, or a function of an imported package as `pkg.f(x)`");
                        self.report(d);
                        return self.error(range);
                    }
                }
            }
            _ => {
                let d = Diagnostic::new(
                    Code::E0107,
                    self.span(callee.range),
                    "only functions can be called",
                );
                self.report(d);
                return self.error(range);
            }
        };
        let checked: Vec<Typed> = args.iter().map(|a| self.check(a)).collect();
        if let Some(func) = func {
            return self.call_fn(func, name_range, checked, args, range);
        }
        let Some(builtin) = Builtin::from_name(&name) else {
            let mut candidates: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
            let user: Vec<String> = self
                .a
                .visible_packages(self.file)
                .into_iter()
                .flat_map(|p| self.a.packages[p].fns.keys().cloned().collect::<Vec<_>>())
                .collect();
            candidates.extend(user.iter().map(String::as_str));
            let mut d = Diagnostic::new(
                Code::E0107,
                self.span(name_range),
                format!("no function `{name}`"),
            )
            .with_label("unknown function");
            // Names other policy languages use for Warden's built-ins.
            const ALIASES: &[(&str, &str)] = &[
                ("len", "count"),
                ("length", "count"),
                ("size", "count"),
                ("lowercase", "lower"),
                ("to_lower", "lower"),
                ("tolower", "lower"),
                ("uppercase", "upper"),
                ("to_upper", "upper"),
                ("toupper", "upper"),
                ("startswith", "starts_with"),
                ("has_prefix", "starts_with"),
                ("endswith", "ends_with"),
                ("has_suffix", "ends_with"),
                ("re_match", "regex_match"),
                ("time_now", "now"),
                ("sprintf", "to_string"),
            ];
            let alias = ALIASES
                .iter()
                .find(|(other, _)| other.eq_ignore_ascii_case(&name))
                .map(|(_, ours)| *ours);
            if let Some(s) = alias.or_else(|| did_you_mean(&name, candidates)) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.report(d);
            return self.error(range);
        };
        let tys: Vec<Ty> = checked.iter().map(|t| t.ty.clone()).collect();
        for (arg, t) in args.iter().zip(&tys) {
            if t.is_optional() && !matches!(builtin, Builtin::ToString | Builtin::StringsIn) {
                self.unhandled_optional(arg, &format!("`{name}`"));
                return self.error(range);
            }
        }
        let ty = match check_builtin(builtin, &tys) {
            Ok(ty) => ty,
            Err(message) => {
                let code = if message.contains("takes") && message.contains("argument") {
                    Code::E0205
                } else {
                    Code::E0201
                };
                let d = Diagnostic::new(code, self.span(range), message).with_note(builtin.doc());
                self.report(d);
                Ty::Error
            }
        };
        // Literal regexes are compiled (and checked) once, here.
        if matches!(builtin, Builtin::RegexMatch | Builtin::RegexFind)
            && let (Some(pattern_arg), Some(pattern_expr)) = (checked.get(1), args.get(1))
            && let Some(pattern) = &pattern_arg.literal
            && let Err(e) = warden_ir::compile_pattern(pattern)
        {
            self.invalid_regex(pattern_expr.range, &e);
        }
        let strings_of = match checked.as_slice() {
            [arg] if builtin == Builtin::StringsIn => arg.place.clone(),
            _ => None,
        };
        let kind = if builtin == Builtin::Now {
            ExprKind::Now
        } else {
            ExprKind::Call {
                builtin,
                args: checked.into_iter().map(|t| t.expr).collect(),
            }
        };
        let mut t = self.typed(kind, ty, range);
        t.strings_of = strings_of;
        t
    }

    fn call_fn(
        &mut self,
        func: usize,
        name_range: TextRange,
        checked: Vec<Typed>,
        args: &[ast::Expr],
        range: TextRange,
    ) -> Typed {
        if let FrameKind::Function(caller) = self.kind {
            let span = self.span(name_range);
            self.a.fns[caller].calls.push((func, span));
        }
        let params = self.a.fns[func].params.clone();
        let fname = self.a.fns[func].name.clone();
        if params.len() != checked.len() {
            let d = Diagnostic::new(
                Code::E0205,
                self.span(range),
                format!(
                    "`{fname}` takes {} argument{}, not {}",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    checked.len()
                ),
            );
            self.report(d);
            return self.error(range);
        }
        let mut lowered = Vec::new();
        for ((mut t, param), arg) in checked.into_iter().zip(&params).zip(args) {
            self.literal_in_union(&mut t, param);
            widen(&mut t, param);
            if !self.fits(&t.ty, param) {
                let d = Diagnostic::new(
                    Code::E0201,
                    self.span(arg.range),
                    format!(
                        "expected `{}`, found `{}`",
                        self.display(param),
                        self.display(&t.ty)
                    ),
                );
                self.report(d);
            }
            lowered.push(t.expr);
        }
        let ret = match self.a.fns[func].ret.clone() {
            Some(ty) => ty,
            None => self.a.ensure_fn(func).unwrap_or(Ty::Error),
        };
        self.typed(
            ExprKind::CallFn {
                func: ir::FnId(func as u32),
                args: lowered,
            },
            ret,
            range,
        )
    }

    fn invalid_regex(&mut self, range: TextRange, e: &warden_ir::PatternError) {
        let message = match e {
            warden_ir::PatternError::Invalid(_) => "this regular expression does not compile",
            warden_ir::PatternError::TooHeavy(_) => {
                "this regular expression is too costly to match"
            }
        };
        let d = Diagnostic::new(Code::E0208, self.span(range), message)
            .with_label(e.to_string())
            .with_help(
                "Warden uses the `regex` crate's syntax; write patterns as raw strings, r\"…\"",
            );
        self.report(d);
    }

    fn binary(
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
                    let text = self.a.files[self.file].text[side.range.as_range()].to_string();
                    let mut d = Diagnostic::new(
                        Code::E0202,
                        self.span(range),
                        format!("`{text}` is never none"),
                    )
                    .with_label(format!(
                        "`{text}` is `{}`, which is always present",
                        self.display(ty)
                    ));
                    let names_none = matches!(ty, Ty::Enum(id) if self.a.program.types.enumeration(*id).members.iter().any(|m| &**m == "none"));
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
                                let members = &self.a.program.types.enumeration(id).members;
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
                        .a
                        .program
                        .types
                        .enumeration(*id)
                        .members
                        .iter()
                        .any(|m| **m == **text),
                    _ => true,
                };
                if member {
                    self.literal_in_union(&mut r, &inner);
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
        // `xs ?? []` has the elements of `xs` or none at all; with any other
        // default the elements may come from elsewhere.
        let empty_list = matches!(&rhs.kind, ast::ExprKind::List(items) if items.is_empty());
        if op == A::Coalesce && empty_list {
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

    fn incomparable(&mut self, op: ast::BinaryOp, l: &Ty, r: &Ty, range: TextRange) {
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
        self.report(d);
    }
}

fn arithmetic(op: ast::BinaryOp, l: &Ty, r: &Ty) -> Option<Ty> {
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
fn widen(typed: &mut Typed, to: &Ty) {
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
fn force_float(typed: &mut Typed) {
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

/// Whether a `?.` occurs earlier in the same postfix chain (parentheses end a chain).
fn in_optional_chain(expr: &ast::Expr) -> bool {
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

/// `a.b.c` as text, when the expression is only names and fields.
fn dotted(expr: &ast::Expr) -> Option<String> {
    match &expr.kind {
        ast::ExprKind::Name(n) => Some(n.text.clone()),
        ast::ExprKind::Field {
            base,
            name,
            optional_chain: false,
        } => Some(format!("{}.{}", dotted(base)?, name.text)),
        _ => None,
    }
}

/// A clause's or an expectation's effect in the IR.
pub(crate) fn lower_effect(effect: ast::Effect) -> ir::Effect {
    match effect {
        ast::Effect::Deny => ir::Effect::Deny,
        ast::Effect::Allow => ir::Effect::Allow,
        ast::Effect::Warn => ir::Effect::Warn,
    }
}
