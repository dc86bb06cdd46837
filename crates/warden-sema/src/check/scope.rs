//! Bindings: the rule's input, parameters, lets and loop variables, and
//! what a name in scope refers to.

use super::{Binding, BindingKind, Checker, Place, Typed};
use crate::semantic::Meaning;
use warden_diagnostics::{Code, Diagnostic, TextRange, did_you_mean};
use warden_ir::{self as ir, ExprKind, Ty};
use warden_syntax::ast;

impl Checker<'_> {
    pub(super) fn new_local(
        &mut self,
        name: &str,
        site: Option<TextRange>,
        ty: Ty,
    ) -> (ir::LocalId, u32) {
        if let Some(site) = site {
            self.note(site, Meaning::Binding { declared: site }, Some(&ty));
        }
        let id = ir::LocalId(self.next_local);
        self.next_local += 1;
        let key = self.next_key;
        self.next_key += 1;
        self.scopes.push(Binding {
            name: name.to_string(),
            site,
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

    /// The rule's (or waiver's) input; `site` is where its name is declared
    /// in this file.
    pub(crate) fn bind_input(&mut self, name: &str, site: Option<TextRange>, ty: Ty) {
        let (_, key) = self.new_local(name, site, ty);
        self.input_key = Some(key);
    }

    pub(crate) fn bind_param(&mut self, name: &ast::Name, ty: Ty) {
        self.new_local(&name.text, Some(name.range), ty);
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
        self.note(
            name.range,
            Meaning::Binding {
                declared: name.range,
            },
            Some(&typed.ty),
        );
        self.scopes.push(Binding {
            name: name.text.clone(),
            site: Some(name.range),
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

    pub(super) fn name(&mut self, name: &ast::Name, range: TextRange) -> Typed {
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
            if let Some(declared) = b.site {
                self.note(name.range, Meaning::Binding { declared }, Some(&ty));
            }
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
                .cx
                .types()
                .record(*id)
                .slot(&name.text)
                .map(|_| binding.clone()),
            _ => None,
        });
        if let Some(s) = did_you_mean(&name.text, candidates.iter().map(String::as_str)) {
            d = d.with_help(format!("did you mean `{s}`?"));
        } else if let Some(binding) = input_field {
            d = d.with_help(format!("did you mean `{binding}.{}`?", name.text));
        } else if self.cx.env().data_by_name(&name.text).is_some() {
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
}
