//! The analysis driver: collects declarations by package, then resolves
//! types, targets, data, functions, rules and waivers in that order.

use crate::check::{Checker, FrameKind};
use crate::{SchemaLoader, SourceInput};
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use warden_diagnostics::{Code, Diagnostic, FileId, LineIndex, Span, TextRange, did_you_mean};
use warden_ir as ir;
use warden_ir::{Program, Ty};
use warden_syntax::ast;

#[derive(Clone, Debug)]
pub(crate) struct Package {
    pub name: String,
    pub types: FxHashMap<String, usize>,
    pub fns: FxHashMap<String, usize>,
}

#[derive(Clone, Debug)]
pub(crate) enum TypeState {
    Unresolved,
    InProgress,
    Done(Ty),
}

pub(crate) struct TypeDeclInfo<'a> {
    pub file: usize,
    /// The declaration, while declarations are analysed; a file checked
    /// later sees only the resolved type.
    pub decl: Option<&'a ast::TypeDecl>,
    pub state: TypeState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FnState {
    NotStarted,
    InProgress,
    Done,
}

pub(crate) struct FnInfo<'a> {
    pub file: usize,
    pub pkg: usize,
    pub name: String,
    /// The declaration, while declarations are analysed (see `TypeDeclInfo`).
    pub decl: Option<&'a ast::FnDecl>,
    pub params: Vec<Ty>,
    pub ret: Option<Ty>,
    pub state: FnState,
    /// Functions this one calls, for the recursion check.
    pub calls: Vec<(usize, Span)>,
}

pub(crate) struct Analysis<'a> {
    pub files: &'a [SourceInput<'a>],
    pub schemas: &'a dyn SchemaLoader,
    pub diags: &'a mut Vec<Diagnostic>,
    pub program: Program,
    pub packages: Vec<Package>,
    pub package_by_name: FxHashMap<String, usize>,
    /// Per file: its package and its imports (package index, the name it goes by).
    pub file_package: Vec<Option<usize>>,
    pub file_imports: Vec<Vec<(usize, String)>>,
    pub type_decls: Vec<TypeDeclInfo<'a>>,
    pub fns: Vec<FnInfo<'a>>,
    /// Record types made from a JSON Schema file, by path.
    pub schema_cache: FxHashMap<String, Ty>,
    /// While a file is checked: the set's rules, tests and waivers.
    names: Option<&'a RuleTable>,
    /// The file's own rules, lowered, by id.
    lowered_rules: Vec<(ir::RuleId, ir::Rule)>,
}

/// What the declarations of a whole policy set establish: packages and
/// imports, types, targets, data documents and functions (bodies checked).
/// Every file's rules, waivers and tests are checked against it, one file at
/// a time ([`check_file`]); it holds no reference into any syntax tree.
///
/// Two values are equal when they would check files alike (same types,
/// signatures and positions, same diagnostics), so a database can keep the
/// checks of the files an edit did not touch.
#[derive(Clone, Debug)]
pub struct Declarations {
    program: Program,
    packages: Vec<Package>,
    package_by_name: FxHashMap<String, usize>,
    file_package: BTreeMap<FileId, usize>,
    file_imports: BTreeMap<FileId, Vec<(usize, String)>>,
    types: Vec<TypeState>,
    fns: Vec<FnSignature>,
    schema_cache: FxHashMap<String, Ty>,
    /// What analysing the declarations reported.
    pub diagnostics: Vec<Diagnostic>,
    /// SHA-256 of the value's `Debug` text, which shows every field.
    fingerprint: [u8; 32],
}

/// A function as files checked later see it: its body is already checked.
#[derive(Clone, Debug)]
struct FnSignature {
    pkg: usize,
    name: String,
    params: Vec<Ty>,
    ret: Option<Ty>,
    state: FnState,
}

impl PartialEq for Declarations {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl Eq for Declarations {}

/// Every rule of a set that a file's waivers and tests may name: the
/// rules declared in a package, under a declared target, first of their
/// name; a rule's id is its index. Holds no positions, so editing a rule's
/// body leaves it equal.
///
/// It also lists the tests and waivers that keep their names (the first
/// of each name; for a waiver, the first whose rule exists), so a file
/// knows which of its own repeat a name declared in an earlier file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleTable {
    rules: Vec<RuleEntry>,
    tests: Vec<NamedEntry>,
    waivers: Vec<NamedEntry>,
    /// The files in set order.
    files: Vec<FileId>,
    /// Lookups by key, so a set of ten thousand rules, tests and waivers
    /// is checked in linear time.
    index: TableIndex,
}

/// The keys [`RuleTable`] is searched by; derived from its lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct TableIndex {
    file_order: FxHashMap<FileId, usize>,
    rule_by_place: FxHashMap<(FileId, u32), usize>,
    rule_by_full: FxHashMap<String, usize>,
    rule_by_name: FxHashMap<(usize, String), usize>,
    test_by_full: FxHashMap<String, usize>,
    waiver_by_full: FxHashMap<String, usize>,
}

/// A test or waiver that holds its full name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct NamedEntry {
    file: FileId,
    /// Its place among the file's declarations of its kind.
    ordinal: u32,
    full: String,
}

impl RuleTable {
    fn order(&self, file: FileId) -> Option<usize> {
        self.index.file_order.get(&file).copied()
    }

    /// Whether the test (or waiver) name `full` is held by one declared
    /// before the one at (`file`, `ordinal`).
    fn taken_before(&self, kind: Named, full: &str, file: FileId, ordinal: u32) -> bool {
        let (entries, by_full) = match kind {
            Named::Test => (&self.tests, &self.index.test_by_full),
            Named::Waiver => (&self.waivers, &self.index.waiver_by_full),
        };
        let here = (self.order(file), ordinal);
        by_full
            .get(full)
            .is_some_and(|&i| (self.order(entries[i].file), entries[i].ordinal) < here)
    }

    /// The rule a waiver or test in package `package` names as `dotted`.
    fn resolve(&self, package: &str, dotted: &str) -> Option<usize> {
        let by_full = &self.index.rule_by_full;
        by_full
            .get(dotted)
            .or_else(|| by_full.get(&format!("{package}.{dotted}")))
            .copied()
    }

    /// Builds the lookups from the lists.
    fn indexed(mut self) -> RuleTable {
        let mut index = TableIndex::default();
        for (i, file) in self.files.iter().enumerate() {
            index.file_order.entry(*file).or_insert(i);
        }
        for (i, rule) in self.rules.iter().enumerate() {
            index.rule_by_place.insert((rule.file, rule.ordinal), i);
            index.rule_by_full.entry(rule.full.clone()).or_insert(i);
            index
                .rule_by_name
                .entry((rule.pkg, rule.name.clone()))
                .or_insert(i);
        }
        for (i, test) in self.tests.iter().enumerate() {
            index.test_by_full.entry(test.full.clone()).or_insert(i);
        }
        for (i, waiver) in self.waivers.iter().enumerate() {
            index.waiver_by_full.entry(waiver.full.clone()).or_insert(i);
        }
        self.index = index;
        self
    }
}

/// Which names [`RuleTable::taken_before`] looks among.
#[derive(Clone, Copy)]
enum Named {
    Test,
    Waiver,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct RuleEntry {
    file: FileId,
    /// Its place among the file's rule declarations.
    ordinal: u32,
    pkg: usize,
    name: String,
    /// `package.rule`.
    full: String,
    target: ir::TargetId,
    /// The name its input goes by (`as app`).
    binding: String,
}

/// One file's rules (by id), waivers and tests, the record and union types
/// its checking made, and what it reported.
#[derive(Debug)]
pub struct FileChecked {
    rules: Vec<(ir::RuleId, ir::Rule)>,
    waivers: Vec<ir::Waiver>,
    tests: Vec<ir::Test>,
    records: Vec<ir::RecordDef>,
    enums: Vec<ir::EnumDef>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Analyses the declarations of a whole set.
pub fn declare(files: &[SourceInput<'_>], schemas: &dyn SchemaLoader) -> Declarations {
    let mut diagnostics = Vec::new();
    let mut analysis = Analysis::new(files, schemas, &mut diagnostics);
    analysis.collect();
    analysis.resolve_imports();
    for i in 0..analysis.type_decls.len() {
        analysis.resolve_type_decl(i);
    }
    analysis.declare_targets();
    analysis.declare_data();
    analysis.declare_fns();
    for i in 0..analysis.fns.len() {
        analysis.ensure_fn(i);
    }
    analysis.check_recursion();
    let Analysis {
        program,
        packages,
        package_by_name,
        file_package,
        file_imports,
        type_decls,
        fns,
        schema_cache,
        ..
    } = analysis;
    let ids = |f: usize| files[f].file;
    let mut declarations = Declarations {
        program,
        packages,
        package_by_name,
        file_package: file_package
            .iter()
            .enumerate()
            .filter_map(|(f, p)| Some((ids(f), (*p)?)))
            .collect(),
        file_imports: file_imports
            .into_iter()
            .enumerate()
            .map(|(f, imports)| (ids(f), imports))
            .collect(),
        types: type_decls.into_iter().map(|t| t.state).collect(),
        fns: fns
            .into_iter()
            .map(|f| FnSignature {
                pkg: f.pkg,
                name: f.name,
                params: f.params,
                ret: f.ret,
                state: f.state,
            })
            .collect(),
        schema_cache,
        diagnostics,
        fingerprint: [0; 32],
    };
    // Equal output, equal fingerprint: the checks of other files stay
    // valid. A collision-resistant hash, because a false "equal" would keep
    // checks made against other types.
    declarations.fingerprint = Sha256::digest(format!("{declarations:?}")).into();
    declarations
}

/// The rules of a set, in file and declaration order (see [`RuleTable`]).
pub fn rule_table(declarations: &Declarations, files: &[(FileId, &ast::SourceFile)]) -> RuleTable {
    let mut table = RuleTable {
        rules: Vec::new(),
        tests: Vec::new(),
        waivers: Vec::new(),
        files: files.iter().map(|(id, _)| *id).collect(),
        index: TableIndex::default(),
    };
    let mut taken_names: rustc_hash::FxHashSet<(usize, &str)> = Default::default();
    for (file, tree) in files {
        let Some(&pkg) = declarations.file_package.get(file) else {
            continue;
        };
        let rules = tree.items.iter().filter_map(|item| match &item.kind {
            ast::ItemKind::Rule(decl) => Some(decl),
            _ => None,
        });
        for (ordinal, decl) in rules.enumerate() {
            let Some(target) = declarations.program.target_by_name(&decl.target.text) else {
                continue;
            };
            // The first rule of a name wins; `check_file` reports the others.
            if !taken_names.insert((pkg, decl.name.text.as_str())) {
                continue;
            }
            table.rules.push(RuleEntry {
                file: *file,
                ordinal: ordinal as u32,
                pkg,
                name: decl.name.text.clone(),
                full: format!("{}.{}", declarations.packages[pkg].name, decl.name.text),
                target,
                binding: decl.binding.as_ref().unwrap_or(&decl.target).text.clone(),
            });
        }
    }
    let mut table = table.indexed();
    // Tests and waivers, once every rule is known (a waiver whose rule does
    // not exist holds no name).
    let mut test_names: rustc_hash::FxHashSet<String> = Default::default();
    let mut waiver_names: rustc_hash::FxHashSet<String> = Default::default();
    for (file, tree) in files {
        let Some(&pkg) = declarations.file_package.get(file) else {
            continue;
        };
        let package = &declarations.packages[pkg].name;
        let tests = tree.items.iter().filter_map(|item| match &item.kind {
            ast::ItemKind::Test(decl) => Some(decl),
            _ => None,
        });
        for (ordinal, decl) in tests.enumerate() {
            let full = format!("{package}.{}", decl.name.text);
            if test_names.insert(full.clone()) {
                table.tests.push(NamedEntry {
                    file: *file,
                    ordinal: ordinal as u32,
                    full,
                });
            }
        }
        let waivers = tree.items.iter().filter_map(|item| match &item.kind {
            ast::ItemKind::Waiver(decl) => Some(decl),
            _ => None,
        });
        for (ordinal, decl) in waivers.enumerate() {
            let full = format!("{package}.{}", decl.name.text);
            if !waiver_names.contains(&full)
                && table.resolve(package, &decl.rule.to_dotted()).is_some()
            {
                waiver_names.insert(full.clone());
                table.waivers.push(NamedEntry {
                    file: *file,
                    ordinal: ordinal as u32,
                    full,
                });
            }
        }
    }
    table.indexed()
}

/// Checks one file's rules, waivers and tests against the set's
/// declarations and rules.
pub fn check_file(
    declarations: &Declarations,
    table: &RuleTable,
    file: &SourceInput<'_>,
    schemas: &dyn SchemaLoader,
) -> FileChecked {
    let mut diagnostics = Vec::new();
    let files = std::slice::from_ref(file);
    let mut analysis = Analysis::new(files, schemas, &mut diagnostics);
    analysis.program = declarations.program.clone();
    analysis.packages = declarations.packages.clone();
    analysis.package_by_name = declarations.package_by_name.clone();
    analysis.file_package = vec![declarations.file_package.get(&file.file).copied()];
    analysis.file_imports = vec![
        declarations
            .file_imports
            .get(&file.file)
            .cloned()
            .unwrap_or_default(),
    ];
    analysis.type_decls = declarations
        .types
        .iter()
        .map(|state| TypeDeclInfo {
            file: 0,
            decl: None,
            state: state.clone(),
        })
        .collect();
    analysis.fns = declarations
        .fns
        .iter()
        .map(|f| FnInfo {
            file: 0,
            pkg: f.pkg,
            name: f.name.clone(),
            decl: None,
            params: f.params.clone(),
            ret: f.ret.clone(),
            state: f.state,
            calls: Vec::new(),
        })
        .collect();
    analysis.schema_cache = declarations.schema_cache.clone();
    analysis.names = Some(table);
    analysis.lower_rules(table);
    analysis.lower_waivers();
    analysis.check_tests();
    let Analysis {
        mut program,
        lowered_rules: rules,
        ..
    } = analysis;
    FileChecked {
        rules,
        waivers: program.waivers,
        tests: program.tests,
        records: program
            .types
            .records
            .split_off(declarations.program.types.records.len()),
        enums: program
            .types
            .enums
            .split_off(declarations.program.types.enums.len()),
        diagnostics,
    }
}

/// Puts a set's declarations and checked files together into one program
/// (files in set order, as `files` gives them): the rules by id, the
/// waivers and tests in file order, every type a file made renumbered into
/// one table, then the clause indexes. Reports nothing: each check did.
pub fn assemble(
    declarations: &Declarations,
    table: &RuleTable,
    files: &[SourceInput<'_>],
    checked: &[&FileChecked],
) -> Program {
    let mut program = declarations.program.clone();
    for input in files {
        program.files.push(ir::SourceInfo {
            path: input.path.clone(),
            text: input.text.clone(),
            line_index: LineIndex::new(&input.text),
        });
    }
    let mut rules: Vec<Option<ir::Rule>> = (0..table.rules.len()).map(|_| None).collect();
    for file in checked {
        let remap = crate::merge::Remap::new(&declarations.program.types, &program.types);
        for record in &file.records {
            let mut record = record.clone();
            for field in &mut record.fields {
                remap.ty(&mut field.ty);
            }
            program.types.records.push(record);
        }
        program.types.enums.extend(file.enums.iter().cloned());
        for (id, rule) in &file.rules {
            let mut rule = rule.clone();
            remap.rule(&mut rule);
            rules[id.index()] = Some(rule);
        }
        // A repeated name was reported, and left out, by the file's check.
        for waiver in &file.waivers {
            let mut waiver = waiver.clone();
            if let Some(condition) = &mut waiver.condition {
                remap.expr(condition);
            }
            program.waivers.push(waiver);
        }
        program.tests.extend(file.tests.iter().cloned());
    }
    // Every rule of the table belongs to a file that was checked; a missing
    // one would be a bug, and an empty rule decides nothing.
    program.rules = rules
        .into_iter()
        .enumerate()
        .map(|(i, rule)| {
            rule.unwrap_or_else(|| ir::Rule {
                name: table.rules[i].full.clone(),
                target: table.rules[i].target,
                severity: ir::Severity::Medium,
                control: None,
                enforce_warn: false,
                tags: Vec::new(),
                doc: None,
                span: Span::default(),
                item_span: Span::default(),
                locals: 0,
                lets: Vec::new(),
                clauses: Vec::new(),
            })
        })
        .collect();
    for (i, rule) in program.rules.iter().enumerate() {
        program.targets[rule.target.index()]
            .rules
            .push(ir::RuleId(i as u32));
    }
    for t in 0..program.targets.len() {
        let index = crate::index::build_index(&program, ir::TargetId(t as u32));
        program.targets[t].index = index;
    }
    program
}

/// E0103 for a second declaration of a name.
fn defined_twice(span: Span, what: &str, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0103,
        span,
        format!("the {what} `{name}` is defined twice"),
    )
    .with_label("defined again here")
    .with_help(format!("rename one of the two {what}s"))
}

impl<'a> Analysis<'a> {
    fn new(
        files: &'a [SourceInput<'a>],
        schemas: &'a dyn SchemaLoader,
        diags: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Analysis {
            files,
            schemas,
            diags,
            program: Program::default(),
            packages: Vec::new(),
            package_by_name: FxHashMap::default(),
            file_package: vec![None; files.len()],
            file_imports: vec![Vec::new(); files.len()],
            type_decls: Vec::new(),
            fns: Vec::new(),
            schema_cache: FxHashMap::default(),
            names: None,
            lowered_rules: Vec::new(),
        }
    }

    /// Every rule of the set, by id, which the file being checked may name.
    fn known_rules(&self) -> &'a [RuleEntry] {
        self.names.map_or(&[], |t| &t.rules)
    }

    pub fn span(&self, file: usize, range: TextRange) -> Span {
        Span::new(self.files[file].file, range)
    }

    pub fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn items(&self, file: usize) -> impl Iterator<Item = &'a ast::Item> + 'a {
        let tree: &'a ast::SourceFile = self.files[file].tree;
        tree.items.iter()
    }

    fn collect(&mut self) {
        for (f, input) in self.files.iter().enumerate() {
            let Some(package) = &input.tree.package else {
                continue;
            };
            let name = package.path.to_dotted();
            let pkg = match self.package_by_name.get(&name) {
                Some(&p) => p,
                None => {
                    self.packages.push(Package {
                        name: name.clone(),
                        types: FxHashMap::default(),
                        fns: FxHashMap::default(),
                    });
                    self.package_by_name.insert(name, self.packages.len() - 1);
                    self.packages.len() - 1
                }
            };
            self.file_package[f] = Some(pkg);
        }
        for f in 0..self.files.len() {
            let Some(pkg) = self.file_package[f] else {
                continue;
            };
            for item in self.items(f) {
                match &item.kind {
                    ast::ItemKind::Type(decl) => {
                        let index = self.type_decls.len();
                        if self.check_unique(
                            f,
                            &decl.name,
                            self.packages[pkg].types.contains_key(&decl.name.text),
                            "type",
                        ) {
                            self.packages[pkg]
                                .types
                                .insert(decl.name.text.clone(), index);
                        }
                        self.type_decls.push(TypeDeclInfo {
                            file: f,
                            decl: Some(decl),
                            state: TypeState::Unresolved,
                        });
                    }
                    ast::ItemKind::Fn(decl) => {
                        let index = self.fns.len();
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
                        let exists = self.packages[pkg].fns.contains_key(&decl.name.text);
                        if self.check_unique(f, &decl.name, exists, "function") {
                            self.packages[pkg].fns.insert(decl.name.text.clone(), index);
                        }
                        self.fns.push(FnInfo {
                            file: f,
                            pkg,
                            name: decl.name.text.clone(),
                            decl: Some(decl),
                            params: Vec::new(),
                            ret: None,
                            state: FnState::NotStarted,
                            calls: Vec::new(),
                        });
                    }
                    _ => {}
                }
            }
        }
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
                match self.package_by_name.get(&name) {
                    Some(&pkg) => {
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
                        if self.file_imports[f]
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
                        self.file_imports[f].push((pkg, alias));
                    }
                    None => {
                        let known: Vec<&str> =
                            self.package_by_name.keys().map(String::as_str).collect();
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

    /// The package a dotted prefix names from `file`: an import alias or a full package name.
    pub fn package_named(&self, file: usize, name: &str) -> Option<usize> {
        self.file_imports[file]
            .iter()
            .find(|(_, alias)| alias == name)
            .map(|(p, _)| *p)
            .or_else(|| self.package_by_name.get(name).copied())
    }

    /// Packages whose names are visible unqualified in `file`: its own, then its imports.
    pub fn visible_packages(&self, file: usize) -> Vec<usize> {
        let mut out = Vec::new();
        if let Some(p) = self.file_package[file] {
            out.push(p);
        }
        out.extend(self.file_imports[file].iter().map(|(p, _)| *p));
        out
    }

    fn declare_targets(&mut self) {
        for f in 0..self.files.len() {
            if self.file_package[f].is_none() {
                continue;
            }
            for item in self.items(f) {
                let ast::ItemKind::Target(decl) = &item.kind else {
                    continue;
                };
                if self.program.target_by_name(&decl.name.text).is_some() {
                    self.check_unique(f, &decl.name, true, "target");
                    continue;
                }
                let ty = self.resolve_type(f, &decl.ty, None);
                let default_allow = matches!(decl.default, Some((ast::DefaultEffect::Allow, _)));
                let mut subject = None;
                for attr in &item.attributes {
                    match attr.name.text.as_str() {
                        "subject" => subject = self.subject_path(f, attr, &ty),
                        other => self.unknown_attribute(f, attr, other, &["subject"]),
                    }
                }
                self.program.targets.push(ir::Target {
                    name: Arc::from(decl.name.text.as_str()),
                    ty,
                    default_allow,
                    subject,
                    rules: Vec::new(),
                    index: ir::TargetIndex::default(),
                    span: self.span(f, decl.name.range),
                });
            }
        }
    }

    /// `@subject("metadata.name")`: the slot path of a string field of the target type.
    fn subject_path(&mut self, f: usize, attr: &ast::Attribute, ty: &Ty) -> Option<Vec<u32>> {
        let Some(ast::AttributeArg::Str(path)) = attr.args.first() else {
            self.report(
                Diagnostic::new(
                    Code::E0301,
                    self.span(f, attr.range),
                    "`@subject` takes the path of a field, as a string",
                )
                .with_help("for example `@subject(\"metadata.name\")`"),
            );
            return None;
        };
        let mut slots = Vec::new();
        let mut current = ty.clone();
        for segment in path.value.split('.') {
            let Ty::Record(id) = current.strip_optional().clone() else {
                self.report(Diagnostic::new(
                    Code::E0207,
                    self.span(f, path.range),
                    format!("`{segment}` is not a field of a record"),
                ));
                return None;
            };
            let def = self.program.types.record(id);
            let Some(slot) = def.slot(segment) else {
                let names: Vec<&str> = def.fields.iter().map(|f| &*f.name).collect();
                let mut d = Diagnostic::new(
                    Code::E0102,
                    self.span(f, path.range),
                    format!("no field `{segment}` in the target type"),
                );
                if let Some(s) = did_you_mean(segment, names) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.report(d);
                return None;
            };
            slots.push(slot as u32);
            current = def.fields[slot].ty.clone();
        }
        // Findings name their subject in text: only a string field can say it.
        if !matches!(current.strip_optional(), Ty::String | Ty::Enum(_)) {
            let shown = self.program.types.display(&current);
            self.report(
                Diagnostic::new(Code::E0301, self.span(f, path.range), format!("`@subject` must name a string field, not `{shown}`"))
                    .with_help("point it at the field that names the thing, e.g. `@subject(\"metadata.name\")`"),
            );
            return None;
        }
        Some(slots)
    }

    pub fn unknown_attribute(
        &mut self,
        f: usize,
        attr: &ast::Attribute,
        name: &str,
        known: &[&str],
    ) {
        let mut d = Diagnostic::new(
            Code::E0111,
            self.span(f, attr.name.range),
            format!("unknown attribute `@{name}`"),
        )
        .with_label("not an attribute here");
        if let Some(s) = did_you_mean(name, known.iter().copied()) {
            d = d.with_help(format!("did you mean `@{s}`?"));
        } else {
            d = d.with_help(format!(
                "attributes here are {}",
                known
                    .iter()
                    .map(|k| format!("`@{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.report(d);
    }

    fn declare_data(&mut self) {
        for f in 0..self.files.len() {
            if self.file_package[f].is_none() {
                continue;
            }
            for item in self.items(f) {
                let ast::ItemKind::Data(decl) = &item.kind else {
                    continue;
                };
                if self.program.data_by_name(&decl.name.text).is_some() {
                    self.check_unique(f, &decl.name, true, "data document");
                    continue;
                }
                let ty = self.resolve_type(f, &decl.ty, None);
                let default = decl
                    .default
                    .as_ref()
                    .and_then(|e| self.const_value(f, e, &ty));
                self.program.data.push(ir::DataDecl {
                    name: Arc::from(decl.name.text.as_str()),
                    ty,
                    default,
                    span: self.span(f, decl.name.range),
                });
            }
        }
    }

    fn declare_fns(&mut self) {
        for i in 0..self.fns.len() {
            let (f, Some(decl)) = (self.fns[i].file, self.fns[i].decl) else {
                continue;
            };
            let params: Vec<Ty> = decl
                .params
                .iter()
                .map(|p| self.resolve_type(f, &p.ty, None))
                .collect();
            let ret = decl.ret.as_ref().map(|t| self.resolve_type(f, t, None));
            self.fns[i].params = params;
            self.fns[i].ret = ret;
            let pkg = &self.packages[self.fns[i].pkg].name;
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
        match self.fns[index].state {
            FnState::Done => return self.fns[index].ret.clone(),
            FnState::InProgress => return self.fns[index].ret.clone(),
            FnState::NotStarted => {}
        }
        // A file checked after the declarations sees every function done.
        let (f, Some(decl)) = (self.fns[index].file, self.fns[index].decl) else {
            return self.fns[index].ret.clone();
        };
        self.fns[index].state = FnState::InProgress;
        let params: Vec<(String, Ty)> = decl
            .params
            .iter()
            .zip(self.fns[index].params.clone())
            .map(|(p, t)| (p.name.text.clone(), t))
            .collect();
        let mut checker = Checker::new(self, f, FrameKind::Function(index));
        for (name, ty) in params {
            checker.bind_param(&name, ty);
        }
        let expected = checker.analysis().fns[index].ret.clone();
        let body = checker.check_expected(&decl.body, expected.as_ref());
        let locals = checker.locals();
        let ret = expected.unwrap_or(body.ty.clone());
        self.program.functions[index].body = body.expr;
        self.program.functions[index].locals = locals;
        self.fns[index].ret = Some(ret.clone());
        self.fns[index].state = FnState::Done;
        Some(ret)
    }

    /// Reports every function on a call cycle (E0108), with one cycle through
    /// it. Linear in the call graph: strongly connected components first
    /// (a function is recursive exactly when its component has a cycle),
    /// then each cycle is read off two breadth-first trees of its component.
    fn check_recursion(&mut self) {
        let graph: Vec<Vec<(usize, Span)>> = self.fns.iter().map(|f| f.calls.clone()).collect();
        let component = crate::graph::strongly_connected(&graph);
        let mut members: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        for (f, c) in component.iter().enumerate() {
            members.entry(*c).or_default().push(f);
        }
        let mut cycles: Vec<(usize, Vec<usize>, Span)> = Vec::new();
        for nodes in members.values() {
            let root = nodes[0];
            let self_call = graph[root].iter().find(|(callee, _)| *callee == root);
            if nodes.len() == 1 {
                if let Some((_, span)) = self_call {
                    cycles.push((root, vec![root, root], *span));
                }
                continue;
            }
            let inside = |f: usize| component[f] == component[root];
            let paths = crate::graph::CyclePaths::new(&graph, root, inside);
            for &f in nodes {
                if let Some((path, span)) = paths.cycle_through(f) {
                    cycles.push((f, path, span));
                }
            }
        }
        cycles.sort_by_key(|(f, _, _)| *f);
        for (start, path, span) in cycles {
            // A long cycle is shown by its ends: the note stays one line.
            const SHOWN: usize = 8;
            let name = |i: &usize| format!("`{}`", self.fns[*i].name);
            let names: Vec<String> = if path.len() > SHOWN + 1 {
                let mut shown: Vec<String> = path[..SHOWN / 2].iter().map(name).collect();
                shown.push(format!("… {} more …", path.len() - SHOWN));
                shown.extend(path[path.len() - SHOWN / 2..].iter().map(name));
                shown
            } else {
                path.iter().map(name).collect()
            };
            let Some(decl) = self.fns[start].decl else {
                continue;
            };
            let decl_span = self.span(self.fns[start].file, decl.name.range);
            let d = Diagnostic::new(
                Code::E0108,
                decl_span,
                format!("the function `{}` is recursive", self.fns[start].name),
            )
            .with_label("defined here")
            .with_secondary(span, "this call leads back to it")
            .with_note(format!("call cycle: {}", names.join(" → ")))
            .with_help("policies must terminate; express the check with `all`, `any` or a comprehension over a finite list");
            self.report(d);
        }
    }

    /// Lowers the rules of the file being checked, with their ids from the
    /// table.
    fn lower_rules(&mut self, table: &RuleTable) {
        let file_id = self.files[0].file;
        let Some(pkg) = self.file_package[0] else {
            return;
        };
        let here = table.order(file_id);
        let rule_decls: Vec<(&'a ast::Item, &'a ast::RuleDecl)> = self
            .items(0)
            .filter_map(|item| match &item.kind {
                ast::ItemKind::Rule(decl) => Some((item, decl)),
                _ => None,
            })
            .collect();
        for (ordinal, (item, decl)) in rule_decls.into_iter().enumerate() {
            let ordinal = ordinal as u32;
            if let Some(&i) = table.index.rule_by_place.get(&(file_id, ordinal)) {
                let full = table.rules[i].full.clone();
                let rule = self.lower_rule(0, item, decl, full, table.rules[i].target);
                self.lowered_rules.push((ir::RuleId(i as u32), rule));
                continue;
            }
            // Not in the table: a rule of this name came earlier in the set,
            // or this one's target is not declared.
            let earlier = table
                .index
                .rule_by_name
                .get(&(pkg, decl.name.text.clone()))
                .is_some_and(|&i| {
                    let r = &table.rules[i];
                    (table.order(r.file), r.ordinal) < (here, ordinal)
                });
            if earlier {
                self.check_unique(0, &decl.name, true, "rule");
                continue;
            }
            if self.program.target_by_name(&decl.target.text).is_none() {
                let names: Vec<String> = self
                    .program
                    .targets
                    .iter()
                    .map(|t| t.name.to_string())
                    .collect();
                let mut d = Diagnostic::new(
                    Code::E0106,
                    self.span(0, decl.target.range),
                    format!("no target `{}` is declared", decl.target.text),
                )
                .with_label("unknown target");
                d = match did_you_mean(&decl.target.text, names.iter().map(String::as_str)) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "declare it, e.g. `target {}: Manifest default allow`",
                        decl.target.text
                    )),
                };
                self.report(d);
            }
        }
    }

    fn lower_rule(
        &mut self,
        f: usize,
        item: &'a ast::Item,
        decl: &'a ast::RuleDecl,
        name: String,
        target: ir::TargetId,
    ) -> ir::Rule {
        let mut severity = ir::Severity::Medium;
        let mut control = None;
        let mut enforce_warn = false;
        let mut tags = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for attr in &item.attributes {
            let key = attr.name.text.as_str();
            if seen.contains(&key) {
                self.report(
                    Diagnostic::new(
                        Code::E0302,
                        self.span(f, attr.range),
                        format!("`@{key}` is given twice"),
                    )
                    .with_label("again here"),
                );
                continue;
            }
            seen.push(key);
            let single = |a: &mut Self, choices: &[&str]| -> Option<String> {
                match attr.args.as_slice() {
                    [arg] if choices.is_empty() || choices.contains(&arg.text()) => {
                        Some(arg.text().to_string())
                    }
                    _ => {
                        let help = if choices.is_empty() {
                            format!("write `@{key}(\"…\")`")
                        } else {
                            format!(
                                "write one of {}",
                                choices
                                    .iter()
                                    .map(|c| format!("`@{key}({c})`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        };
                        a.report(
                            Diagnostic::new(
                                Code::E0301,
                                a.span(f, attr.range),
                                format!("`@{key}` needs exactly one valid argument"),
                            )
                            .with_help(help),
                        );
                        None
                    }
                }
            };
            match key {
                "severity" => {
                    if let Some(s) = single(self, &["low", "medium", "high", "critical"]) {
                        severity = ir::Severity::ALL
                            .into_iter()
                            .find(|v| v.as_str() == s)
                            .unwrap_or(ir::Severity::Medium);
                    }
                }
                "control" => control = single(self, &[]),
                "enforce" => {
                    enforce_warn = single(self, &["warn", "deny"]).is_some_and(|s| s == "warn")
                }
                "tags" => tags = attr.args.iter().map(|a| a.text().to_string()).collect(),
                other => self.unknown_attribute(
                    f,
                    attr,
                    other,
                    &["severity", "control", "enforce", "tags"],
                ),
            }
        }
        let target_ty = self.program.targets[target.index()].ty.clone();
        let binding = decl.binding.as_ref().unwrap_or(&decl.target).text.clone();
        let mut checker = Checker::new(self, f, FrameKind::Rule);
        checker.bind_input(&binding, target_ty);
        let mut clauses = Vec::new();
        let mut lets = Vec::new();
        for stmt in &decl.body {
            match stmt {
                ast::RuleStmt::Let(l) => {
                    let id = ir::LetId(lets.len() as u32);
                    let value = checker.check_let(&l.name, id, &l.value);
                    lets.push(value);
                }
                ast::RuleStmt::Clause(c) => {
                    if let Some(clause) = checker.clause(c) {
                        clauses.push(clause);
                    }
                }
                ast::RuleStmt::Error(_) => {}
            }
        }
        checker.report_unused_lets();
        let locals = checker.locals();
        ir::Rule {
            name,
            target,
            severity,
            control,
            enforce_warn,
            tags,
            doc: item.doc.clone(),
            span: self.span(f, decl.name.range),
            item_span: self.span(f, item.range),
            locals,
            lets,
            clauses,
        }
    }

    fn lower_waivers(&mut self) {
        for f in 0..self.files.len() {
            let Some(pkg) = self.file_package[f] else {
                continue;
            };
            let waivers: Vec<&'a ast::WaiverDecl> = self
                .items(f)
                .filter_map(|item| match &item.kind {
                    ast::ItemKind::Waiver(decl) => Some(decl),
                    _ => None,
                })
                .collect();
            for (ordinal, decl) in waivers.into_iter().enumerate() {
                let full_name = format!("{}.{}", self.packages[pkg].name, decl.name.text);
                // A name an earlier waiver holds, in this file or before it.
                let repeated = self.names.is_some_and(|t| {
                    t.taken_before(
                        Named::Waiver,
                        &full_name,
                        self.files[f].file,
                        ordinal as u32,
                    )
                });
                if repeated {
                    self.check_unique(f, &decl.name, true, "waiver");
                    continue;
                }
                let Some(rule) = self.resolve_rule(f, pkg, &decl.rule, " to waive") else {
                    continue;
                };
                let mut until = None;
                let mut reason = None;
                let mut approved_by = None;
                for (name, value) in &decl.fields {
                    let constant = match &value.kind {
                        ast::ExprKind::Literal(lit) => Some(lit),
                        _ => None,
                    };
                    match (name.text.as_str(), constant) {
                        ("until", Some(ast::Literal::Time(t))) => match ir::parse_time(t) {
                            Some(t) => until = Some(t),
                            None => self.report(Diagnostic::new(
                                Code::E0008,
                                self.span(f, value.range),
                                format!("`{t}` is not a valid time"),
                            )),
                        },
                        ("reason", Some(ast::Literal::Str(s))) => reason = Some(s.clone()),
                        ("approved_by", Some(ast::Literal::Str(s))) => {
                            approved_by = Some(s.clone())
                        }
                        ("until" | "reason" | "approved_by", _) => {
                            let want = if name.text == "until" {
                                "a date such as `2027-03-01`"
                            } else {
                                "a string"
                            };
                            self.report(
                                Diagnostic::new(
                                    Code::E0303,
                                    self.span(f, value.range),
                                    format!("`{}` takes {want}", name.text),
                                )
                                .with_label("not a literal of that kind"),
                            );
                        }
                        (other, _) => {
                            let mut d = Diagnostic::new(
                                Code::E0303,
                                self.span(f, name.range),
                                format!("a waiver has no field `{other}`"),
                            );
                            if let Some(s) =
                                did_you_mean(other, ["until", "reason", "approved_by", "when"])
                            {
                                d = d.with_help(format!("did you mean `{s}`?"));
                            }
                            self.report(d);
                        }
                    }
                }
                // A field given with a wrong value was reported above; only absent ones are "lacking".
                let given = |key: &str| decl.fields.iter().any(|(n, _)| n.text == key);
                let missing: Vec<&str> = ["until", "reason", "approved_by"]
                    .into_iter()
                    .filter(|k| !given(k))
                    .collect();
                if !missing.is_empty() {
                    self.report(
                        Diagnostic::new(Code::E0303, self.span(f, decl.name.range), format!("the waiver `{}` lacks {}", decl.name.text, missing.join(", ")))
                            .with_help("every waiver expires and is accountable: give `until`, `reason` and `approved_by`"),
                    );
                }
                let known = &self.known_rules()[rule.index()];
                let target_ty = self.program.targets[known.target.index()].ty.clone();
                // The name the rule's input goes by, so the condition reads like the rule.
                let binding = known.binding.clone();
                let mut checker = Checker::new(self, f, FrameKind::Waiver);
                checker.bind_input(&binding, target_ty);
                let condition = decl
                    .condition
                    .as_ref()
                    .map(|c| checker.check_condition(c).expr);
                let locals = checker.locals();
                self.program.waivers.push(ir::Waiver {
                    name: format!("{}.{}", self.packages[pkg].name, decl.name.text),
                    rule,
                    condition,
                    locals,
                    until: until.unwrap_or(i64::MIN),
                    reason: reason.unwrap_or_default(),
                    approved_by: approved_by.unwrap_or_default(),
                    span: self.span(f, decl.name.range),
                });
            }
        }
    }

    /// Lowers `test` blocks: names resolved, inline inputs checked against
    /// their types; `warden test` runs them.
    fn check_tests(&mut self) {
        for f in 0..self.files.len() {
            let Some(pkg) = self.file_package[f] else {
                continue;
            };
            let tests: Vec<&'a ast::TestDecl> = self
                .items(f)
                .filter_map(|item| match &item.kind {
                    ast::ItemKind::Test(decl) => Some(decl),
                    _ => None,
                })
                .collect();
            for (ordinal, decl) in tests.into_iter().enumerate() {
                let name = format!("{}.{}", self.packages[pkg].name, decl.name.text);
                // A name an earlier test holds, in this file or before it.
                let repeated = self.names.is_some_and(|t| {
                    t.taken_before(Named::Test, &name, self.files[f].file, ordinal as u32)
                });
                if repeated {
                    self.report(Diagnostic::new(
                        Code::E0103,
                        self.span(f, decl.name.range),
                        format!("a test named `{}` is already defined", decl.name.text),
                    ));
                    continue;
                }
                let mut test = ir::Test {
                    name,
                    span: self.span(f, decl.name.range),
                    given: None,
                    data: Vec::new(),
                    waivers: None,
                    at: None,
                    expects: Vec::new(),
                };
                for stmt in &decl.body {
                    self.lower_test_stmt(f, pkg, stmt, &mut test);
                }
                self.program.tests.push(test);
            }
        }
    }

    fn lower_test_stmt(
        &mut self,
        f: usize,
        pkg: usize,
        stmt: &'a ast::TestStmt,
        test: &mut ir::Test,
    ) {
        match stmt {
            ast::TestStmt::Given {
                target,
                value,
                range,
            } => {
                let Some(id) = self.program.target_by_name(&target.text) else {
                    self.report(Diagnostic::new(
                        Code::E0106,
                        self.span(f, target.range),
                        format!("no target `{}` is declared", target.text),
                    ));
                    return;
                };
                if test.given.is_some() {
                    self.report(Diagnostic::new(
                        Code::E0308,
                        self.span(f, *range),
                        "a test has one input; this `given` repeats it",
                    ));
                    return;
                }
                let ty = self.program.targets[id.index()].ty.clone();
                let what = format!("target `{}`", target.text);
                if let Some(input) = self.test_input(f, value, &ty, &what) {
                    test.given = Some((id, input));
                }
            }
            ast::TestStmt::WithData { name, value, .. }
                if name.text == "waivers" && self.program.data_by_name("waivers").is_none() =>
            {
                // The waivers a `--data` file may carry; checked when the test runs.
                if test.waivers.is_some() {
                    self.report(Diagnostic::new(
                        Code::E0308,
                        self.span(f, name.range),
                        "`data.waivers` is given twice in this test",
                    ));
                    return;
                }
                test.waivers = self.test_input(f, value, &ir::Ty::Any, "a list of waivers");
            }
            ast::TestStmt::WithData { name, value, .. } => {
                let Some(id) = self.program.data_by_name(&name.text) else {
                    self.report(Diagnostic::new(
                        Code::E0110,
                        self.span(f, name.range),
                        format!("no data document `{}` is declared", name.text),
                    ));
                    return;
                };
                if test.data.iter().any(|(d, _)| *d == id) {
                    self.report(Diagnostic::new(
                        Code::E0308,
                        self.span(f, name.range),
                        format!("`data.{}` is given twice in this test", name.text),
                    ));
                    return;
                }
                let ty = self.program.data[id.index()].ty.clone();
                let what = format!("data document `{}`", name.text);
                if let Some(input) = self.test_input(f, value, &ty, &what) {
                    test.data.push((id, input));
                }
            }
            ast::TestStmt::At { value, .. } => {
                let time = match &value.kind {
                    ast::ExprKind::Literal(ast::Literal::Time(t)) => ir::parse_time(t),
                    _ => None,
                };
                match time {
                    Some(t) => test.at = Some(t),
                    None => self.report(
                        Diagnostic::new(
                            Code::E0308,
                            self.span(f, value.range),
                            "`at` takes a time",
                        )
                        .with_help("write a time with its offset, e.g. `at 2026-06-01T00:00:00Z`"),
                    ),
                }
            }
            ast::TestStmt::Expect {
                negated,
                waived,
                effect,
                rule,
                obligations,
                range,
            } => {
                if *negated && !obligations.is_empty() {
                    self.report(
                        Diagnostic::new(
                            Code::E0308,
                            self.span(f, *range),
                            "`expect not` takes no obligations",
                        )
                        .with_help("expect the finding, then its obligations: `expect allow RULE with KEY = VALUE`"),
                    );
                    return;
                }
                let rule_id = match rule {
                    None => None,
                    Some(path) => match self.resolve_rule(f, pkg, path, "") {
                        Some(id) => Some(id),
                        None => return,
                    },
                };
                let mut lowered = Vec::new();
                for ob in obligations {
                    if let Some(json) =
                        self.const_json(f, &ob.value, crate::consts::ConstUse::ExpectedObligation)
                    {
                        lowered.push((ob.key.text.clone(), json));
                    }
                }
                test.expects.push(ir::Expectation {
                    negated: *negated,
                    waived: *waived,
                    effect: crate::check::lower_effect(*effect),
                    rule: rule_id,
                    obligations: lowered,
                    span: self.span(f, *range),
                });
            }
            ast::TestStmt::Error(_) => {}
        }
    }

    /// A rule named in package `pkg`, in full or relative to the package;
    /// reports E0109 with the nearest name when there is none. `purpose`
    /// ends the message (`" to waive"`).
    fn resolve_rule(
        &mut self,
        f: usize,
        pkg: usize,
        path: &ast::Path,
        purpose: &str,
    ) -> Option<ir::RuleId> {
        let dotted = path.to_dotted();
        let found = self
            .names
            .and_then(|t| t.resolve(&self.packages[pkg].name, &dotted))
            .map(|i| ir::RuleId(i as u32));
        if found.is_none() {
            let mut d = Diagnostic::new(
                Code::E0109,
                self.span(f, path.range),
                format!("no rule `{dotted}`{purpose}"),
            )
            .with_label("unknown rule");
            let names = self.known_rules().iter().map(|r| r.full.as_str());
            if let Some(s) = did_you_mean(&dotted, names) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.report(d);
        }
        found
    }

    /// `fixture("file")` or a constant checked against `ty`, every bad path
    /// reported; either may be followed by `+ { … }` patches.
    fn test_input(
        &mut self,
        f: usize,
        value: &ast::Expr,
        ty: &ir::Ty,
        what: &str,
    ) -> Option<ir::TestInput> {
        // `base + { … } + { … }` parses as `(base + { … }) + { … }`.
        let mut base = value;
        let mut patch_exprs = Vec::new();
        while let ast::ExprKind::Binary {
            op: ast::BinaryOp::Add,
            lhs,
            rhs,
        } = &base.kind
            && matches!(rhs.kind, ast::ExprKind::Record(_))
        {
            patch_exprs.push(&**rhs);
            base = lhs;
        }
        let mut patches = Vec::new();
        for patch in patch_exprs.into_iter().rev() {
            patches.push(self.const_json(f, patch, crate::consts::ConstUse::TestInput)?);
        }
        if let ast::ExprKind::Call { callee, args } = &base.kind
            && let ast::ExprKind::Name(name) = &callee.kind
            && name.text == "fixture"
        {
            return match args.as_slice() {
                [
                    ast::Expr {
                        kind: ast::ExprKind::Literal(ast::Literal::Str(path)),
                        ..
                    },
                ] => Some(ir::TestInput::Fixture {
                    path: path.clone(),
                    patches,
                    span: self.span(f, value.range),
                }),
                _ => {
                    self.report(
                        Diagnostic::new(
                            Code::E0308,
                            self.span(f, base.range),
                            "`fixture` takes one string: the file's path",
                        )
                        .with_help("e.g. `fixture(\"fixtures/no-sso.yaml\")`, relative to this policy file"),
                    );
                    None
                }
            };
        }
        let mut json = self.const_json(f, base, crate::consts::ConstUse::TestInput)?;
        ir::apply_patches(&mut json, &patches);
        match warden_ir::json_to_value(&self.program.types, ty, &json) {
            Ok(_) => Some(ir::TestInput::Inline(json)),
            Err(errors) => {
                let mut d = Diagnostic::new(
                    Code::E0201,
                    self.span(f, value.range),
                    format!("this test input does not match {what}"),
                )
                .with_label(format!(
                    "at `{}`: expected {}, found {}",
                    errors[0].path, errors[0].expected, errors[0].found
                ));
                for e in &errors[1..] {
                    d = d.with_note(format!(
                        "at `{}`: expected {}, found {}",
                        e.path, e.expected, e.found
                    ));
                }
                self.report(d);
                None
            }
        }
    }
}
