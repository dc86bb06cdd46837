//! Type checking and lowering of expressions, clauses and bodies, in one
//! pass: each checked expression comes back with its IR, its type, the
//! "place" it reads (for flow typing of optionals) and the places its truth
//! proves present.
//!
//! The checker reads the set through a [`Context`]: the declarations while
//! they are analysed (function bodies, which may check other functions
//! first), or a finished [`Environment`] while a file's rules are checked.
//! It depends on nothing of the passes that use it.

mod access;
mod binary;
mod calls;
mod clauses;
mod expr;
mod relations;
mod scope;

pub(crate) use clauses::lower_effect;

use crate::env::Environment;
use crate::semantic::{Meaning, Occurrence};
use relations::widen;
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, FileId, Span, TextRange};
use warden_ir::{self as ir, ExprKind, RecordDef, RecordId, Ty, TypeLookup};
use warden_syntax::ast;

/// What the checker reads of the policy set, and where its findings go.
pub(crate) trait Context {
    fn env(&self) -> &Environment;
    /// The set's record and union types, with those this check added.
    fn types(&self) -> &dyn TypeLookup;
    /// A record type for a record literal, and where its fields are written.
    fn add_record(&mut self, def: RecordDef, fields: Vec<Option<Span>>) -> RecordId;
    /// What a name of `file` means (the semantic table).
    fn note(&mut self, file: FileId, occurrence: Occurrence);
    fn report(&mut self, d: Diagnostic);
    /// A function's result type; its body is checked first when it has
    /// not been (`None` while it is being checked and no type is written).
    fn fn_return(&mut self, func: usize) -> Option<Ty>;
    /// A call from one function's body to another, for the recursion check.
    fn note_call(&mut self, _caller: usize, _callee: usize, _at: Span) {}
}

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
    /// For `keys(x)`: the place of the map `x`, whose entries the keys name.
    keys_of: Option<Place>,
    /// Present only because the conditions around proved it: a test against
    /// `none` is then redundant, not a mistake.
    narrowed: bool,
    when_true: Vec<Place>,
    when_false: Vec<Place>,
    /// The text of a string literal, for union membership checks.
    literal: Option<String>,
    /// For a list literal of string literals: each one's text and span, so
    /// `["admin", "editor"]` may stand where a list of a union is expected.
    literals: Option<Vec<(String, warden_diagnostics::Span)>>,
}

enum BindingKind {
    Local(ir::LocalId),
    Let(ir::LetId),
}

struct Binding {
    name: String,
    /// Where its name is declared in this file (none for a waiver's input,
    /// whose name the rule declares).
    site: Option<TextRange>,
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

pub(crate) struct Checker<'x> {
    cx: &'x mut dyn Context,
    file: FileId,
    /// The file's text, to quote expressions in messages.
    text: &'x str,
    kind: FrameKind,
    scopes: Vec<Binding>,
    next_local: u32,
    next_key: u32,
    facts: Vec<Place>,
    /// Places an earlier `deny|warn when x == none` clause of the rule
    /// proves present for the clauses after it, each with its presence test
    /// (`x != none`); see [`Checker::clause`].
    dominating: Vec<(Place, ir::Expr)>,
    /// Which of `dominating` the clause being checked relied on.
    dominating_used: std::cell::RefCell<Vec<bool>>,
    /// Checking a clause (not a `let`): `dominating` applies.
    in_clause: bool,
    input_key: Option<u32>,
    element_key: Option<u32>,
    /// While checking a clause condition: the input path it reads last.
    recording: bool,
    decisive_path: Option<Place>,
    /// Whether a record type fits another, once worked out: record types
    /// can hold one type twice at each level, and comparing them field by
    /// field anew would take exponential time.
    record_fits: std::cell::RefCell<rustc_hash::FxHashMap<(ir::RecordId, ir::RecordId), bool>>,
}

impl<'x> Checker<'x> {
    pub(crate) fn new(
        cx: &'x mut dyn Context,
        file: FileId,
        text: &'x str,
        kind: FrameKind,
    ) -> Self {
        Checker {
            cx,
            file,
            text,
            kind,
            scopes: Vec::new(),
            next_local: 0,
            next_key: 0,
            facts: Vec::new(),
            dominating: Vec::new(),
            dominating_used: std::cell::RefCell::new(Vec::new()),
            in_clause: false,
            input_key: None,
            element_key: None,
            recording: false,
            decisive_path: None,
            record_fits: Default::default(),
        }
    }

    pub(crate) fn locals(&self) -> u32 {
        self.next_local
    }

    fn span(&self, range: TextRange) -> Span {
        Span::new(self.file, range)
    }

    fn report(&mut self, d: Diagnostic) {
        self.cx.report(d);
    }

    fn display(&self, ty: &Ty) -> String {
        self.cx.types().display(ty)
    }

    /// Records what the name at `range` means, with its type.
    fn note(&mut self, range: TextRange, meaning: Meaning, ty: Option<&Ty>) {
        let ty = ty.cloned();
        let file = self.file;
        self.cx.note(file, Occurrence { range, meaning, ty });
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
            keys_of: None,
            narrowed: false,
            when_true: Vec::new(),
            when_false: Vec::new(),
            literal: None,
            literals: None,
        }
    }

    fn error(&self, range: TextRange) -> Typed {
        self.typed(ExprKind::Error, Ty::Error, range)
    }

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
}
