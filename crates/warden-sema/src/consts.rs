//! Constant expressions: data defaults.

use crate::collect::Analysis;
use warden_diagnostics::{Code, Diagnostic, TextRange};
use warden_ir::{Ty, Value};
use warden_syntax::ast;

impl Analysis<'_> {
    /// Converts a literal expression to a value of `ty`, or reports why it cannot.
    pub(crate) fn const_value(&mut self, file: usize, expr: &ast::Expr, ty: &Ty) -> Option<Value> {
        let json = match data_file(expr) {
            Some((path, range)) => self.data_file_json(file, path, range)?,
            None => self.const_json(file, expr, ConstUse::DataDefault)?,
        };
        match warden_ir::json_to_value(&self.program.types, ty, &json) {
            Ok(v) => Some(v),
            Err(errors) => {
                let first = &errors[0];
                self.report(
                    Diagnostic::new(
                        Code::E0201,
                        self.span(file, expr.range),
                        "this default does not match the declared type",
                    )
                    .with_label(format!(
                        "at `{}`: expected {}, found {}",
                        first.path, first.expected, first.found
                    )),
                );
                None
            }
        }
    }

    /// The JSON of a data default's file, relative to the policy file.
    fn data_file_json(
        &mut self,
        file: usize,
        path: &str,
        range: TextRange,
    ) -> Option<serde_json::Value> {
        let fail = |why: String| {
            Diagnostic::new(
                Code::E0309,
                self.span(file, range),
                format!("cannot use `{path}` as the default"),
            )
            .with_label(why)
            .with_help("data files are JSON, at a path relative to this policy file")
        };
        let text = match self.schemas.load(&self.files[file].path, path) {
            Ok(text) => text,
            Err(why) => {
                let d = fail(why);
                self.report(d);
                return None;
            }
        };
        match serde_json::from_str(&text) {
            Ok(json) => Some(json),
            Err(e) => {
                let d = fail(format!(
                    "not valid JSON: line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ));
                self.report(d);
                None
            }
        }
    }

    pub(crate) fn const_json(
        &mut self,
        file: usize,
        expr: &ast::Expr,
        what: ConstUse,
    ) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match &expr.kind {
            ast::ExprKind::Literal(lit) => match lit {
                ast::Literal::Bool(b) => J::Bool(*b),
                ast::Literal::Int(i) => J::from(*i),
                ast::Literal::Float(f) => J::from(*f),
                ast::Literal::Str(s)
                | ast::Literal::RawStr(s)
                | ast::Literal::Time(s)
                | ast::Literal::Duration(s) => J::String(s.clone()),
                ast::Literal::None => J::Null,
            },
            ast::ExprKind::List(items) => J::Array(
                items
                    .iter()
                    .map(|e| self.const_json(file, e, what))
                    .collect::<Option<_>>()?,
            ),
            ast::ExprKind::Record(entries)
                if entries
                    .iter()
                    .enumerate()
                    .any(|(i, (k, _))| entries[..i].iter().any(|(j, _)| j.text == k.text)) =>
            {
                self.report(Diagnostic::new(
                    Code::E0103,
                    self.span(file, expr.range),
                    "a field is given twice in this record",
                ));
                return None;
            }
            ast::ExprKind::Record(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| Some((k.text.clone(), self.const_json(file, v, what)?)))
                    .collect::<Option<_>>()?,
            ),
            ast::ExprKind::Paren(inner) => return self.const_json(file, inner, what),
            _ => {
                self.report(
                    Diagnostic::new(
                        what.code(),
                        self.span(file, expr.range),
                        format!("{} must be a constant", what.noun()),
                    )
                    .with_help("write literals, lists and records only"),
                );
                return None;
            }
        })
    }
}

/// Where a constant is required: the noun for messages and the code to report.
#[derive(Clone, Copy)]
pub(crate) enum ConstUse {
    DataDefault,
    TestInput,
    ExpectedObligation,
}

impl ConstUse {
    fn noun(self) -> &'static str {
        match self {
            ConstUse::DataDefault => "a data default",
            ConstUse::TestInput => "a test input",
            ConstUse::ExpectedObligation => "an expected obligation",
        }
    }
    fn code(self) -> Code {
        match self {
            ConstUse::DataDefault => Code::E0306,
            ConstUse::TestInput | ConstUse::ExpectedObligation => Code::E0308,
        }
    }
}

/// `file("path.json")`: a data default kept in a file of its own; the path
/// and where it is written.
pub(crate) fn data_file(expr: &ast::Expr) -> Option<(&str, TextRange)> {
    let ast::ExprKind::Call { callee, args } = &expr.kind else {
        return None;
    };
    match (&callee.kind, args.as_slice()) {
        (
            ast::ExprKind::Name(name),
            [
                arg @ ast::Expr {
                    kind: ast::ExprKind::Literal(ast::Literal::Str(path)),
                    ..
                },
            ],
        ) if name.text == "file" => Some((path.as_str(), arg.range)),
        _ => None,
    }
}
