//! The declarations pass: packages and imports, types, targets, data
//! documents and functions (bodies checked, recursion refused) of a whole
//! policy set, in that order. What it establishes without positions is the
//! [`Environment`] every file is checked in; the rest (targets' subjects,
//! data defaults, function bodies) goes into the program `assemble` builds.

mod data;
mod recursion;
mod schema;
mod targets;
mod types;
pub use types::is_base_type;

use crate::check::{Checker, Context, FrameKind};
use crate::env::{Environment, FileScope, FnSignature, NO_TYPES, Package, Types};
use crate::messages::defined_twice;
use crate::semantic::{Meaning, Occurrence, Occurrences, Positions, field_declarations};
use crate::{SchemaLoader, SourceInput};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use warden_diagnostics::{Code, Diagnostic, FileId, Span, TextRange, did_you_mean};
use warden_ir::{self as ir, Program, RecordDef, RecordId, Ty, TypeLookup};
use warden_syntax::ast;

/// What the declarations of a whole set establish: the [`Environment`]
/// files are checked in, and the declared parts of the program.
#[derive(Clone, Debug)]
pub struct Declarations {
    pub env: std::sync::Arc<Environment>,
    /// Targets, data documents and functions, with their positions and
    /// bodies; no types (those are the environment's), rules or tests.
    pub(crate) program: Program,
    /// What analysing the declarations reported.
    pub diagnostics: Vec<Diagnostic>,
    /// Where functions, type declarations and record fields are written.
    pub positions: Positions,
    /// What the names of declarations (function bodies, type expressions)
    /// mean, by file; the rest of a file's are its [`crate::FileChecked`]'s.
    pub occurrences: BTreeMap<FileId, Vec<Occurrence>>,
}

/// Analyses the declarations of a whole set.
pub fn declare(files: &[SourceInput<'_>], schemas: &dyn SchemaLoader) -> Declarations {
    let mut declarer = Declarer {
        files,
        schemas,
        diagnostics: Vec::new(),
        env: Environment::default(),
        types: Types::over(&NO_TYPES),
        program: Program::default(),
        type_decls: Vec::new(),
        fn_decls: Vec::new(),
        schema_cache: FxHashMap::default(),
        schema_refs: FxHashMap::default(),
        positions: Positions::default(),
        occurrences: Occurrences {
            by_file: Default::default(),
            record: files.iter().any(|f| f.meanings),
        },
    };
    declarer.collect();
    declarer.resolve_imports();
    for i in 0..declarer.type_decls.len() {
        declarer.resolve_type_decl(i);
    }
    declarer.declare_targets();
    declarer.declare_data();
    declarer.declare_fns();
    for i in 0..declarer.fn_decls.len() {
        declarer.ensure_fn(i);
    }
    declarer.check_recursion();
    let Declarer {
        mut env,
        types,
        program,
        diagnostics,
        mut positions,
        mut occurrences,
        ..
    } = declarer;
    for (file, occurrence) in field_declarations(&types.added_fields, 0, &types) {
        occurrences.note(file, occurrence);
    }
    env.types = types.added.into_owned();
    positions.fields = types.added_fields;
    for found in occurrences.by_file.values_mut() {
        found.shrink_to_fit();
    }
    Declarations {
        env: std::sync::Arc::new(env),
        program,
        diagnostics,
        positions,
        occurrences: occurrences.by_file,
    }
}

#[derive(Clone, Debug)]
pub(crate) enum TypeState {
    Unresolved,
    InProgress,
    Done(Ty),
}

struct TypeDecl<'a> {
    file: usize,
    decl: &'a ast::TypeDecl,
    state: TypeState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FnState {
    NotStarted,
    InProgress,
    Done,
}

struct FnDecl<'a> {
    file: usize,
    decl: &'a ast::FnDecl,
    state: FnState,
    /// Functions this one calls, for the recursion check.
    calls: Vec<(usize, Span)>,
}

/// The pass's state: the environment as it grows, and the syntax it comes from.
pub(crate) struct Declarer<'a> {
    files: &'a [SourceInput<'a>],
    schemas: &'a dyn SchemaLoader,
    diagnostics: Vec<Diagnostic>,
    env: Environment,
    types: Types<'static>,
    program: Program,
    type_decls: Vec<TypeDecl<'a>>,
    /// By function id, as `env.fns`.
    fn_decls: Vec<FnDecl<'a>>,
    /// Record types made from a JSON Schema file, by path.
    schema_cache: FxHashMap<String, Ty>,
    /// The schema being read: the type each `$ref` names, once made (a
    /// definition used twice at each level would otherwise be made 2^n
    /// times); `any` while it is being made, so a definition that refers to
    /// itself ends there.
    schema_refs: FxHashMap<String, Ty>,
    positions: Positions,
    occurrences: Occurrences,
}

impl Context for Declarer<'_> {
    fn env(&self) -> &Environment {
        &self.env
    }

    fn types(&self) -> &dyn TypeLookup {
        &self.types
    }

    fn add_record(&mut self, def: RecordDef, fields: Vec<Option<Span>>) -> RecordId {
        self.types.add_record(def, fields)
    }

    fn note(&mut self, file: FileId, occurrence: Occurrence) {
        self.occurrences.note(file, occurrence);
    }

    fn report(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn fn_return(&mut self, func: usize) -> Option<Ty> {
        self.ensure_fn(func)
    }

    fn note_call(&mut self, caller: usize, callee: usize, at: Span) {
        self.fn_decls[caller].calls.push((callee, at));
    }
}

impl<'a> Declarer<'a> {
    fn span(&self, file: usize, range: TextRange) -> Span {
        Span::new(self.files[file].file, range)
    }

    fn report(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn id(&self, file: usize) -> FileId {
        self.files[file].file
    }

    fn package_of(&self, file: usize) -> Option<usize> {
        self.env.package_of(self.id(file))
    }

    fn visible_packages(&self, file: usize) -> Vec<usize> {
        self.env.visible_packages(self.id(file))
    }

    fn package_named(&self, file: usize, name: &str) -> Option<usize> {
        self.env.package_named(self.id(file), name)
    }

    fn items(&self, file: usize) -> impl Iterator<Item = &'a ast::Item> + 'a {
        let tree: &'a ast::SourceFile = self.files[file].tree;
        tree.items.iter()
    }

    fn collect(&mut self) {
        for input in self.files {
            let Some(package) = &input.tree.package else {
                continue;
            };
            let name = package.path.to_dotted();
            let env = &mut self.env;
            let pkg = match env.package_by_name.get(&name) {
                Some(&p) => p,
                None => {
                    env.packages.push(Package {
                        name: name.clone(),
                        types: FxHashMap::default(),
                        fns: FxHashMap::default(),
                    });
                    env.package_by_name.insert(name, env.packages.len() - 1);
                    let span = Span::new(input.file, package.path.range);
                    self.positions.packages.push(span);
                    env.packages.len() - 1
                }
            };
            let occurrence = Occurrence {
                range: package.path.range,
                meaning: Meaning::Package(pkg as u32),
                ty: None,
            };
            self.occurrences.note(input.file, occurrence);
            env.scopes.insert(
                input.file,
                FileScope {
                    package: Some(pkg),
                    imports: Vec::new(),
                },
            );
        }
        for f in 0..self.files.len() {
            let Some(pkg) = self.package_of(f) else {
                continue;
            };
            for item in self.items(f) {
                match &item.kind {
                    ast::ItemKind::Type(decl) => {
                        let index = self.type_decls.len();
                        if self.check_unique(
                            f,
                            &decl.name,
                            self.env.packages[pkg].types.contains_key(&decl.name.text),
                            "type",
                        ) {
                            self.env.packages[pkg]
                                .types
                                .insert(decl.name.text.clone(), index);
                        }
                        let span = self.span(f, decl.name.range);
                        self.positions.type_decls.push(span);
                        self.note_name(f, decl.name.range, Meaning::Type(index as u32));
                        self.type_decls.push(TypeDecl {
                            file: f,
                            decl,
                            state: TypeState::Unresolved,
                        });
                    }
                    ast::ItemKind::Fn(decl) => {
                        let index = self.fn_decls.len();
                        if let Some(builtin) = warden_ir::Builtin::from_name(&decl.name.text) {
                            let d = Diagnostic::new(
                                Code::E0103,
                                self.span(f, decl.name.range),
                                format!("`{}` is a built-in function", decl.name.text),
                            )
                            .with_label("a function of this name already exists")
                            .with_note(builtin.doc())
                            .with_help("pick another name; a function may not replace a built-in");
                            self.report(d);
                        }
                        let exists = self.env.packages[pkg].fns.contains_key(&decl.name.text);
                        if self.check_unique(f, &decl.name, exists, "function") {
                            self.env.packages[pkg]
                                .fns
                                .insert(decl.name.text.clone(), index);
                        }
                        self.env.fns.push(FnSignature {
                            pkg,
                            name: decl.name.text.clone(),
                            params: Vec::new(),
                            ret: None,
                        });
                        let span = self.span(f, decl.name.range);
                        self.positions.fns.push(span);
                        let meaning = Meaning::Function(ir::FnId(index as u32));
                        self.note_name(f, decl.name.range, meaning);
                        self.fn_decls.push(FnDecl {
                            file: f,
                            decl,
                            state: FnState::NotStarted,
                            calls: Vec::new(),
                        });
                    }
                    _ => {}
                }
            }
        }
    }

    /// A name of file `f` that means `meaning` (and has no type of its own).
    pub(super) fn note_name(&mut self, f: usize, range: TextRange, meaning: Meaning) {
        let occurrence = Occurrence {
            range,
            meaning,
            ty: None,
        };
        self.occurrences.note(self.id(f), occurrence);
    }

    /// Reports a duplicate; returns whether the name is free.
    fn check_unique(&mut self, file: usize, name: &ast::Name, exists: bool, what: &str) -> bool {
        if exists {
            let d = defined_twice(self.span(file, name.range), what, &name.text);
            self.report(d);
        }
        !exists
    }

    fn resolve_imports(&mut self) {
        for f in 0..self.files.len() {
            let tree: &'a ast::SourceFile = self.files[f].tree;
            for import in &tree.imports {
                let name = import.path.to_dotted();
                match self.env.package_by_name.get(&name) {
                    Some(&pkg) => {
                        self.note_name(f, import.path.range, Meaning::Package(pkg as u32));
                        let alias = import.alias.as_ref().map_or_else(
                            || {
                                import
                                    .path
                                    .segments
                                    .last()
                                    .map(|s| s.text.clone())
                                    .unwrap_or_default()
                            },
                            |a| a.text.clone(),
                        );
                        let id = self.id(f);
                        let scope = self.env.scopes.entry(id).or_default();
                        if scope
                            .imports
                            .iter()
                            .any(|(other, a)| *a == alias && *other != pkg)
                        {
                            let d = Diagnostic::new(
                                Code::E0103,
                                self.span(f, import.range),
                                format!("two imports are named `{alias}`"),
                            )
                            .with_help(format!(
                                "name one of them: `import {} as other_name`",
                                import.path.to_dotted()
                            ));
                            self.report(d);
                            continue;
                        }
                        scope.imports.push((pkg, alias));
                    }
                    None => {
                        let known: Vec<&str> = self
                            .env
                            .package_by_name
                            .keys()
                            .map(String::as_str)
                            .collect();
                        let mut d = Diagnostic::new(
                            Code::E0104,
                            self.span(f, import.path.range),
                            format!("no package `{name}` in this policy set"),
                        )
                        .with_label("unknown package");
                        if let Some(s) = did_you_mean(&name, known) {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        self.report(d);
                    }
                }
            }
        }
    }

    fn declare_fns(&mut self) {
        for i in 0..self.fn_decls.len() {
            let (f, decl) = (self.fn_decls[i].file, self.fn_decls[i].decl);
            let params: Vec<Ty> = decl
                .params
                .iter()
                .map(|p| self.resolve_type(f, &p.ty, None))
                .collect();
            let ret = decl.ret.as_ref().map(|t| self.resolve_type(f, t, None));
            self.env.fns[i].params = params;
            self.env.fns[i].ret = ret;
            let pkg = &self.env.packages[self.env.fns[i].pkg].name;
            self.program.functions.push(ir::Function {
                name: format!("{pkg}.{}", decl.name.text),
                params: decl.params.len() as u32,
                locals: 0,
                body: ir::Expr {
                    kind: ir::ExprKind::Error,
                    span: Span::default(),
                    dynamic: false,
                },
            });
        }
    }

    /// Checks a function body once; returns its result type (`None` while it is being checked).
    pub fn ensure_fn(&mut self, index: usize) -> Option<Ty> {
        // Inferring return types recurses once per call in a chain of functions.
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.ensure_fn_grown(index))
    }

    fn ensure_fn_grown(&mut self, index: usize) -> Option<Ty> {
        match self.fn_decls[index].state {
            FnState::Done | FnState::InProgress => return self.env.fns[index].ret.clone(),
            FnState::NotStarted => {}
        }
        let (f, decl) = (self.fn_decls[index].file, self.fn_decls[index].decl);
        self.fn_decls[index].state = FnState::InProgress;
        let params: Vec<(&ast::Name, Ty)> = decl
            .params
            .iter()
            .zip(self.env.fns[index].params.clone())
            .map(|(p, t)| (&p.name, t))
            .collect();
        let expected = self.env.fns[index].ret.clone();
        let files = self.files;
        let input = &files[f];
        let mut checker = Checker::new(self, input.file, &input.text, FrameKind::Function(index));
        for (name, ty) in params {
            checker.bind_param(name, ty);
        }
        let body = checker.check_expected(&decl.body, expected.as_ref());
        let locals = checker.locals();
        let ret = expected.unwrap_or(body.ty.clone());
        self.program.functions[index].body = body.expr;
        self.program.functions[index].locals = locals;
        self.env.fns[index].ret = Some(ret.clone());
        self.fn_decls[index].state = FnState::Done;
        Some(ret)
    }
}
