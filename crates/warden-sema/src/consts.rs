//! Constant expressions: data defaults, test inputs and expected obligations.

use warden_diagnostics::{Code, Diagnostic, FileId, Span};
use warden_syntax::ast;

/// A literal, list or record as JSON, or why it is not a constant.
pub(crate) fn const_json(
    file: FileId,
    expr: &ast::Expr,
    what: ConstUse,
    diagnostics: &mut Vec<Diagnostic>,
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
                .map(|e| const_json(file, e, what, diagnostics))
                .collect::<Option<_>>()?,
        ),
        ast::ExprKind::Record(entries)
            if entries
                .iter()
                .enumerate()
                .any(|(i, (k, _))| entries[..i].iter().any(|(j, _)| j.text == k.text)) =>
        {
            diagnostics.push(Diagnostic::new(
                Code::E0103,
                Span::new(file, expr.range),
                "a field is given twice in this record",
            ));
            return None;
        }
        ast::ExprKind::Record(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| Some((k.text.clone(), const_json(file, v, what, diagnostics)?)))
                .collect::<Option<_>>()?,
        ),
        ast::ExprKind::Paren(inner) => return const_json(file, inner, what, diagnostics),
        _ => {
            diagnostics.push(
                Diagnostic::new(
                    what.code(),
                    Span::new(file, expr.range),
                    format!("{} must be a constant", what.noun()),
                )
                .with_help("write literals, lists and records only"),
            );
            return None;
        }
    })
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
