//! Calls: functions of the policy set (by package and import) and built-ins.

use super::relations::widen;
use super::{Checker, FrameKind, Typed};
use crate::semantic::Meaning;
use warden_diagnostics::{Code, Diagnostic, TextRange, did_you_mean};
use warden_ir::builtins::{CollectionFn, SecretFn, StringFn, TimeFn};
use warden_ir::{self as ir, Builtin, ExprKind, Ty};
use warden_syntax::ast;

impl Checker<'_> {
    pub(super) fn call(
        &mut self,
        callee: &ast::Expr,
        args: &[ast::Expr],
        range: TextRange,
    ) -> Typed {
        // Resolve the callee: `f(...)` or `pkg.f(...)`.
        let (name, name_range, func) = match &callee.kind {
            ast::ExprKind::Name(n) => {
                // The file's own package first; then the imports, which must agree.
                let packages = self.cx.env().visible_packages(self.file);
                let own = self.cx.env().package_of(self.file);
                let mut found =
                    own.and_then(|p| self.cx.env().packages[p].fns.get(&n.text).copied());
                if found.is_none() {
                    let candidates: Vec<usize> = packages
                        .iter()
                        .filter_map(|&p| self.cx.env().packages[p].fns.get(&n.text).copied())
                        .collect();
                    if candidates.len() > 1 {
                        let owners: Vec<String> = candidates
                            .iter()
                            .map(|&i| {
                                format!(
                                    "`{}`",
                                    self.cx.env().packages[self.cx.env().fns[i].pkg].name
                                )
                            })
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
                let pkg = prefix
                    .as_ref()
                    .and_then(|p| self.cx.env().package_named(self.file, p));
                let func =
                    pkg.and_then(|pkg| self.cx.env().packages[pkg].fns.get(&name.text).copied());
                match (pkg, func) {
                    (Some(pkg), Some(f)) => {
                        // The package by its full name (not an import's alias).
                        if prefix.as_deref() == Some(&*self.cx.env().packages[pkg].name) {
                            self.note(base.range, Meaning::Package(pkg as u32), None);
                        }
                        (name.text.clone(), name.range, Some(f))
                    }
                    (Some(pkg), None) => {
                        // A package of the set, and no such function in it:
                        // the name is misspelled (or not written yet).
                        let package = &self.cx.env().packages[pkg];
                        let mut d = Diagnostic::new(
                            Code::E0107,
                            self.span(name.range),
                            format!("no function `{}` in package `{}`", name.text, package.name),
                        )
                        .with_label("unknown function");
                        if let Some(near) =
                            did_you_mean(&name.text, package.fns.keys().map(String::as_str))
                        {
                            d = d.with_help(format!("did you mean `{near}`?"));
                        }
                        self.report(d);
                        return self.error(range);
                    }
                    _ => {
                        let d = Diagnostic::new(Code::E0107, self.span(callee.range), "only functions can be called")
                            .with_label("not a function")
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
            let ret = self.cx.env().fns[func].ret.clone();
            self.note(
                name_range,
                Meaning::Function(ir::FnId(func as u32)),
                ret.as_ref(),
            );
            return self.call_fn(func, name_range, checked, args, range);
        }
        let Some(builtin) = Builtin::from_name(&name) else {
            let mut candidates: Vec<&str> = Builtin::all().map(Builtin::name).collect();
            let user: Vec<String> = self
                .cx
                .env()
                .visible_packages(self.file)
                .into_iter()
                .flat_map(|p| {
                    self.cx.env().packages[p]
                        .fns
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                })
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
            if t.is_optional()
                && !matches!(
                    builtin,
                    Builtin::Strings(StringFn::ToString) | Builtin::Secrets(SecretFn::StringsIn)
                )
            {
                self.unhandled_optional(arg, &format!("`{name}`"));
                return self.error(range);
            }
        }
        self.note(name_range, Meaning::Builtin(builtin), None);
        let ty = match builtin.check(&tys) {
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
        if matches!(builtin, Builtin::Regex(_))
            && let (Some(pattern_arg), Some(pattern_expr)) = (checked.get(1), args.get(1))
            && let Some(pattern) = &pattern_arg.literal
            && let Err(e) = warden_ir::compile_pattern(pattern)
        {
            self.invalid_regex(pattern_expr.range, &e);
        }
        let strings_of = match checked.as_slice() {
            [arg] if builtin == Builtin::Secrets(SecretFn::StringsIn) => arg.place.clone(),
            _ => None,
        };
        // `keys(m)` and `keys(m ?? {})`: each key names an entry of `m`.
        let keys_of = match checked.as_slice() {
            [arg] if builtin == Builtin::Collections(CollectionFn::Keys) => {
                arg.place.clone().or_else(|| arg.origin.clone())
            }
            _ => None,
        };
        let kind = if builtin == Builtin::Time(TimeFn::Now) {
            ExprKind::Now
        } else {
            ExprKind::Call {
                builtin,
                args: checked.into_iter().map(|t| t.expr).collect(),
            }
        };
        let mut t = self.typed(kind, ty, range);
        t.strings_of = strings_of;
        t.keys_of = keys_of;
        t
    }

    pub(super) fn call_fn(
        &mut self,
        func: usize,
        name_range: TextRange,
        checked: Vec<Typed>,
        args: &[ast::Expr],
        range: TextRange,
    ) -> Typed {
        if let FrameKind::Function(caller) = self.kind {
            let span = self.span(name_range);
            self.cx.note_call(caller, func, span);
        }
        let params = self.cx.env().fns[func].params.clone();
        let fname = self.cx.env().fns[func].name.clone();
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
        let ret = match self.cx.env().fns[func].ret.clone() {
            Some(ty) => ty,
            None => self.cx.fn_return(func).unwrap_or(Ty::Error),
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

    pub(super) fn invalid_regex(&mut self, range: TextRange, e: &warden_ir::PatternError) {
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
