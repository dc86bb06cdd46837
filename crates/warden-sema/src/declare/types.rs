//! Type expressions to types: aliases, records, unions, optionals, schemas.

use super::{Declarer, TypeState};
use crate::semantic::Meaning;
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, Span, TextRange, did_you_mean};
use warden_ir::{FieldDef, RecordDef, RecordId, Ty, TypeLookup};
use warden_syntax::ast::{self, TypeExprKind};

const BASE_TYPES: &[(&str, Ty)] = &[
    ("bool", Ty::Bool),
    ("int", Ty::Int),
    ("float", Ty::Float),
    ("string", Ty::String),
    ("time", Ty::Time),
    ("duration", Ty::Duration),
];

/// Whether `name` is a base type (`string`, `int`, …): a type no
/// declaration defines.
pub fn is_base_type(name: &str) -> bool {
    BASE_TYPES.iter().any(|(n, _)| *n == name)
}

impl Declarer<'_> {
    pub(crate) fn resolve_type_decl(&mut self, index: usize) -> Ty {
        // Long chains of aliases (`type T1 = T2`, …) recurse once per link.
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
            self.resolve_type_decl_grown(index)
        })
    }

    fn resolve_type_decl_grown(&mut self, index: usize) -> Ty {
        match &self.type_decls[index].state {
            TypeState::Done(ty) => return ty.clone(),
            TypeState::InProgress => {
                let decl = self.type_decls[index].decl;
                let f = self.type_decls[index].file;
                self.report(
                    Diagnostic::new(
                        Code::E0210,
                        self.span(f, decl.name.range),
                        format!("the type `{}` refers to itself", decl.name.text),
                    )
                    .with_help("input documents are finite trees; spell the nested levels out"),
                );
                return Ty::Error;
            }
            TypeState::Unresolved => {}
        }
        let decl = self.type_decls[index].decl;
        self.type_decls[index].state = TypeState::InProgress;
        let f = self.type_decls[index].file;
        let ty = self.resolve_type(f, &decl.ty, Some(&decl.name.text));
        self.type_decls[index].state = TypeState::Done(ty.clone());
        ty
    }

    /// Resolves a type expression written in `file`. `alias` names the record or
    /// union it declares directly, for messages.
    pub(crate) fn resolve_type(
        &mut self,
        file: usize,
        ty: &ast::TypeExpr,
        alias: Option<&str>,
    ) -> Ty {
        match &ty.kind {
            TypeExprKind::Any => Ty::Any,
            TypeExprKind::Error => Ty::Error,
            TypeExprKind::Named(path) => self.resolve_named(file, path),
            TypeExprKind::Literal(lit) => {
                self.make_enum(vec![Arc::from(lit.value.as_str())], alias)
            }
            TypeExprKind::Union(members) => {
                let mut names: Vec<Arc<str>> = Vec::new();
                for member in members {
                    match self.resolve_type(file, member, None) {
                        Ty::Enum(id) => {
                            for m in self.types.enumeration(id).members.clone() {
                                if !names.contains(&m) {
                                    names.push(m);
                                }
                            }
                        }
                        Ty::Error => return Ty::Error,
                        other => {
                            let shown = self.types.display(&other);
                            self.report(
                                Diagnostic::new(Code::E0201, self.span(file, member.range), format!("a union may only join string literals, not `{shown}`"))
                                    .with_help("write a union of strings such as `\"low\" | \"medium\" | \"high\"`; for an optional value write `T?`"),
                            );
                            return Ty::Error;
                        }
                    }
                }
                self.make_enum(names, alias)
            }
            TypeExprKind::Optional(inner) => self.resolve_type(file, inner, alias).optional(),
            TypeExprKind::List(inner) => Ty::List(Box::new(self.resolve_type(file, inner, None))),
            TypeExprKind::Map(inner) => Ty::Map(Box::new(self.resolve_type(file, inner, None))),
            TypeExprKind::Record { fields, open } => {
                let mut defs: Vec<FieldDef> = Vec::new();
                let mut sites = Vec::new();
                for field in fields {
                    if defs.iter().any(|d| *d.name == *field.name.text) {
                        self.report(
                            Diagnostic::new(
                                Code::E0103,
                                self.span(file, field.name.range),
                                format!("the field `{}` is declared twice", field.name.text),
                            )
                            .with_label("again here"),
                        );
                        continue;
                    }
                    let fty = self.resolve_type(file, &field.ty, None);
                    sites.push(Some(self.span(file, field.name.range)));
                    defs.push(FieldDef {
                        name: Arc::from(field.name.text.as_str()),
                        ty: fty,
                        optional: field.optional,
                    });
                }
                Ty::Record(self.make_record(defs, sites, *open, alias))
            }
            TypeExprKind::Schema(path) => self.schema_type(file, path, alias),
        }
    }

    pub(super) fn make_record(
        &mut self,
        fields: Vec<FieldDef>,
        sites: Vec<Option<Span>>,
        open: bool,
        alias: Option<&str>,
    ) -> RecordId {
        let def = RecordDef {
            name: alias.map(str::to_string),
            fields,
            open,
        };
        self.types.add_record(def, sites)
    }

    pub(super) fn make_enum(&mut self, members: Vec<Arc<str>>, alias: Option<&str>) -> Ty {
        Ty::Enum(self.types.add_enum(members, alias))
    }

    fn resolve_named(&mut self, file: usize, path: &ast::Path) -> Ty {
        let name = path.to_dotted();
        if path.segments.len() == 1 {
            if let Some((_, ty)) = BASE_TYPES.iter().find(|(n, _)| *n == name) {
                return ty.clone();
            }
            let mut found: Vec<usize> = Vec::new();
            for pkg in self.visible_packages(file) {
                if let Some(&i) = self.env.packages[pkg].types.get(&name)
                    && !found.contains(&i)
                {
                    found.push(i);
                }
            }
            match found.as_slice() {
                [one] => {
                    self.note_type(file, path.range, *one);
                    return self.resolve_type_decl(*one);
                }
                [first, ..] => {
                    let first = *first;
                    let example = self.package_of(self.type_decls[first].file).map_or_else(
                        || name.to_string(),
                        |p| format!("{}.{name}", self.env.packages[p].name),
                    );
                    let owners: Vec<String> = found
                        .iter()
                        .filter_map(|i| {
                            self.package_of(self.type_decls[*i].file)
                                .map(|p| format!("`{}`", self.env.packages[p].name))
                        })
                        .collect();
                    self.report(
                        Diagnostic::new(
                            Code::E0112,
                            self.span(file, path.range),
                            format!("the type `{name}` is defined in {}", owners.join(" and ")),
                        )
                        .with_help(format!("qualify it with its package, e.g. `{example}`")),
                    );
                    self.note_type(file, path.range, first);
                    return self.resolve_type_decl(first);
                }
                [] => {}
            }
        } else {
            let (last, prefix) = path.segments.split_last().expect("a path has a segment");
            let prefix: Vec<&str> = prefix.iter().map(|s| s.text.as_str()).collect();
            if let Some(pkg) = self.package_named(file, &prefix.join("."))
                && let Some(&i) = self.env.packages[pkg].types.get(&last.text)
            {
                let prefix_range = TextRange::new(
                    path.range.start as usize,
                    path.segments[path.segments.len() - 2].range.end as usize,
                );
                if self.env.packages[pkg].name == prefix.join(".") {
                    self.note_name(file, prefix_range, Meaning::Package(pkg as u32));
                }
                self.note_type(file, last.range, i);
                return self.resolve_type_decl(i);
            }
        }
        let mut candidates: Vec<String> = BASE_TYPES.iter().map(|(n, _)| n.to_string()).collect();
        for pkg in self.visible_packages(file) {
            candidates.extend(self.env.packages[pkg].types.keys().cloned());
        }
        let mut d = Diagnostic::new(
            Code::E0105,
            self.span(file, path.range),
            format!("no type `{name}` is in scope"),
        )
        .with_label("unknown type");
        if let Some(s) = did_you_mean(&name, candidates.iter().map(String::as_str)) {
            d = d.with_help(format!("did you mean `{s}`?"));
        } else if !self.env.package_by_name.is_empty() {
            d = d.with_help("types of other packages need an `import` of that package");
        }
        self.report(d);
        Ty::Error
    }

    /// A type name in a type expression: the declaration it names.
    fn note_type(&mut self, file: usize, range: TextRange, index: usize) {
        self.note_name(file, range, Meaning::Type(index as u32));
    }
}
