//! JSON Schema files as types (`type Manifest = schema "manifest.schema.json"`).
//!
//! The common subset: `type` object/array/string/integer/number/boolean/null
//! (a list of types with `null` makes it optional), `properties`, `required`,
//! `additionalProperties` (false closes the record; a schema makes a map),
//! `enum` of strings, `items`, `format: date-time`/`date`/`duration`, local
//! `$ref`s to `#/definitions/…` or `#/$defs/…`, and `anyOf`/`oneOf` of a type
//! and `null`. Anything else is `any`.

use super::Declarer;
use serde_json::Value as Json;
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic};
use warden_ir::{FieldDef, Ty};
use warden_syntax::ast;

impl Declarer<'_> {
    pub(crate) fn schema_type(
        &mut self,
        file: usize,
        path: &ast::StrLit,
        alias: Option<&str>,
    ) -> Ty {
        let key = format!("{}::{}", self.files[file].path, path.value);
        if let Some(ty) = self.schema_cache.get(&key) {
            return ty.clone();
        }
        let text = match self.schemas.load(&self.files[file].path, &path.value) {
            Ok(text) => text,
            Err(why) => {
                self.report(
                    Diagnostic::new(
                        Code::E0209,
                        self.span(file, path.range),
                        format!("cannot read the schema `{}`", path.value),
                    )
                    .with_label(why)
                    .with_help("schema paths are relative to the policy file"),
                );
                return Ty::Error;
            }
        };
        let root: Json = match serde_json::from_str(&text) {
            Ok(json) => json,
            Err(e) => {
                self.report(
                    Diagnostic::new(
                        Code::E0209,
                        self.span(file, path.range),
                        format!("the schema `{}` is not valid JSON", path.value),
                    )
                    .with_label(format!(
                        "line {}, column {}: {e}",
                        e.line(),
                        e.column()
                    )),
                );
                return Ty::Error;
            }
        };
        let mut depth = 0;
        self.schema_refs.clear();
        let ty = self.schema_node(&root, &root, alias, &mut depth);
        self.schema_cache.insert(key, ty.clone());
        ty
    }

    fn schema_node(
        &mut self,
        node: &Json,
        root: &Json,
        alias: Option<&str>,
        depth: &mut u32,
    ) -> Ty {
        *depth += 1;
        if *depth > 64 {
            return Ty::Any;
        }
        let ty = self.schema_node_inner(node, root, alias, depth);
        *depth -= 1;
        ty
    }

    fn schema_node_inner(
        &mut self,
        node: &Json,
        root: &Json,
        alias: Option<&str>,
        depth: &mut u32,
    ) -> Ty {
        let Json::Object(obj) = node else {
            return Ty::Any;
        };
        if let Some(Json::String(reference)) = obj.get("$ref") {
            let target = reference
                .strip_prefix("#/")
                .and_then(|p| p.split('/').try_fold(root, |acc, seg| acc.get(seg)));
            let name = reference.rsplit('/').next();
            let Some(target) = target else {
                return Ty::Any;
            };
            if let Some(made) = self.schema_refs.get(reference) {
                return made.clone();
            }
            self.schema_refs.insert(reference.clone(), Ty::Any);
            let ty = self.schema_node(target, root, name, depth);
            self.schema_refs.insert(reference.clone(), ty.clone());
            return ty;
        }
        for combinator in ["anyOf", "oneOf"] {
            if let Some(Json::Array(options)) = obj.get(combinator) {
                let non_null: Vec<&Json> = options
                    .iter()
                    .filter(|o| o.get("type") != Some(&Json::String("null".into())))
                    .collect();
                if non_null.len() == 1 {
                    let inner = self.schema_node(non_null[0], root, alias, depth);
                    return if non_null.len() < options.len() {
                        inner.optional()
                    } else {
                        inner
                    };
                }
                return Ty::Any;
            }
        }
        if let Some(Json::Array(values)) = obj.get("enum") {
            let members: Option<Vec<Arc<str>>> =
                values.iter().map(|v| v.as_str().map(Arc::from)).collect();
            return match members {
                Some(m) if !m.is_empty() => self.make_enum(m, alias),
                _ => Ty::Any,
            };
        }
        let (kind, nullable) = match obj.get("type") {
            Some(Json::String(t)) => (Some(t.as_str()), false),
            Some(Json::Array(ts)) => {
                let names: Vec<&str> = ts
                    .iter()
                    .filter_map(Json::as_str)
                    .filter(|t| *t != "null")
                    .collect();
                (
                    if names.len() == 1 {
                        Some(names[0])
                    } else {
                        None
                    },
                    names.len() < ts.len(),
                )
            }
            _ => (
                if obj.contains_key("properties") {
                    Some("object")
                } else {
                    None
                },
                false,
            ),
        };
        let ty = match kind {
            Some("boolean") => Ty::Bool,
            Some("integer") => Ty::Int,
            Some("number") => Ty::Float,
            Some("string") => match obj.get("format").and_then(Json::as_str) {
                Some("date-time" | "date") => Ty::Time,
                Some("duration") => Ty::Duration,
                _ => Ty::String,
            },
            Some("array") => {
                Ty::List(Box::new(obj.get("items").map_or(Ty::Any, |items| {
                    self.schema_node(items, root, None, depth)
                })))
            }
            Some("object") => {
                let props = obj.get("properties").and_then(Json::as_object);
                let additional = obj.get("additionalProperties");
                match props {
                    None => match additional {
                        Some(schema @ Json::Object(_)) => {
                            Ty::Map(Box::new(self.schema_node(schema, root, None, depth)))
                        }
                        _ => Ty::Any,
                    },
                    Some(props) => {
                        let required: Vec<&str> = obj
                            .get("required")
                            .and_then(Json::as_array)
                            .map(|r| r.iter().filter_map(Json::as_str).collect())
                            .unwrap_or_default();
                        let mut fields = Vec::new();
                        for (name, schema) in props {
                            let ty = self.schema_node(schema, root, None, depth);
                            let optional = !required.contains(&name.as_str());
                            let ty = if optional { strip(ty) } else { ty };
                            fields.push(FieldDef {
                                name: Arc::from(name.as_str()),
                                ty,
                                optional,
                            });
                        }
                        let open = additional != Some(&Json::Bool(false));
                        Ty::Record(self.make_record(fields, Vec::new(), open, alias))
                    }
                }
            }
            _ => Ty::Any,
        };
        if nullable { ty.optional() } else { ty }
    }
}

/// An optional field's type is stored without the `?`; the field carries it.
fn strip(ty: Ty) -> Ty {
    match ty {
        Ty::Optional(inner) => *inner,
        other => other,
    }
}
