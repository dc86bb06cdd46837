//! Data documents: their types and defaults (a constant, or a JSON file
//! inside the policy folder).

use super::Declarer;
use crate::consts::{ConstUse, const_json};
use crate::env::DataSignature;
use crate::messages::defined_twice;
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, TextRange};
use warden_ir::{self as ir, Ty, Value};
use warden_syntax::ast;

impl Declarer<'_> {
    pub(super) fn declare_data(&mut self) {
        for f in 0..self.files.len() {
            if self.package_of(f).is_none() {
                continue;
            }
            for item in self.items(f) {
                let ast::ItemKind::Data(decl) = &item.kind else {
                    continue;
                };
                if self.env.data_by_name(&decl.name.text).is_some() {
                    let d = defined_twice(
                        self.span(f, decl.name.range),
                        "data document",
                        &decl.name.text,
                    );
                    self.report(d);
                    continue;
                }
                let ty = self.resolve_type(f, &decl.ty, None);
                let default = decl
                    .default
                    .as_ref()
                    .and_then(|e| self.const_value(f, e, &ty));
                let id = ir::DataId(self.env.data.len() as u32);
                self.note_name(f, decl.name.range, crate::semantic::Meaning::Data(id));
                let name: Arc<str> = Arc::from(decl.name.text.as_str());
                self.env.data.push(DataSignature {
                    name: name.clone(),
                    ty: ty.clone(),
                });
                self.program.data.push(ir::DataDecl {
                    name,
                    ty,
                    default,
                    span: self.span(f, decl.name.range),
                });
            }
        }
    }

    /// Converts a literal expression to a value of `ty`, or reports why it cannot.
    fn const_value(&mut self, file: usize, expr: &ast::Expr, ty: &Ty) -> Option<Value> {
        let json = match expr.data_file() {
            Some((path, range)) => self.data_file_json(file, path, range)?,
            None => const_json(
                self.id(file),
                expr,
                ConstUse::DataDefault,
                &mut self.diagnostics,
            )?,
        };
        match warden_ir::json_to_value(&self.types.added, ty, &json) {
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
}
