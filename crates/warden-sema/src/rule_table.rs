//! The rule table pass: every rule of a set by id, which waivers and tests
//! name, and the test and waiver names that are taken.

use crate::env::Environment;
use rustc_hash::FxHashMap;
use warden_diagnostics::FileId;
use warden_ir as ir;
use warden_syntax::ast;

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
    pub(crate) rules: Vec<RuleEntry>,
    tests: Vec<NamedEntry>,
    waivers: Vec<NamedEntry>,
    /// The files in set order.
    files: Vec<FileId>,
    /// Lookups by key, so a set of ten thousand rules, tests and waivers
    /// is checked in linear time.
    pub(crate) index: TableIndex,
}

/// The keys [`RuleTable`] is searched by; derived from its lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TableIndex {
    file_order: FxHashMap<FileId, usize>,
    pub(crate) rule_by_place: FxHashMap<(FileId, u32), usize>,
    rule_by_full: FxHashMap<String, usize>,
    pub(crate) rule_by_name: FxHashMap<(usize, String), usize>,
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
    pub(crate) fn order(&self, file: FileId) -> Option<usize> {
        self.index.file_order.get(&file).copied()
    }

    /// Whether the test (or waiver) name `full` is held by one declared
    /// before the one at (`file`, `ordinal`).
    pub(crate) fn taken_before(&self, kind: Named, full: &str, file: FileId, ordinal: u32) -> bool {
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
    pub(crate) fn resolve(&self, package: &str, dotted: &str) -> Option<usize> {
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
pub(crate) enum Named {
    Test,
    Waiver,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleEntry {
    pub(crate) file: FileId,
    /// Its place among the file's rule declarations.
    pub(crate) ordinal: u32,
    pub(crate) pkg: usize,
    pub(crate) name: String,
    /// `package.rule`.
    pub(crate) full: String,
    pub(crate) target: ir::TargetId,
    /// The name its input goes by (`as app`).
    pub(crate) binding: String,
}

/// The rules of a set, in file and declaration order (see [`RuleTable`]).
pub fn rule_table(env: &Environment, files: &[(FileId, &ast::SourceFile)]) -> RuleTable {
    let mut table = RuleTable {
        rules: Vec::new(),
        tests: Vec::new(),
        waivers: Vec::new(),
        files: files.iter().map(|(id, _)| *id).collect(),
        index: TableIndex::default(),
    };
    let mut taken_names: rustc_hash::FxHashSet<(usize, &str)> = Default::default();
    for (file, tree) in files {
        let Some(pkg) = env.package_of(*file) else {
            continue;
        };
        let rules = tree.items.iter().filter_map(|item| match &item.kind {
            ast::ItemKind::Rule(decl) => Some(decl),
            _ => None,
        });
        for (ordinal, decl) in rules.enumerate() {
            let Some(target) = env.target_by_name(&decl.target.text) else {
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
                full: format!("{}.{}", env.packages[pkg].name, decl.name.text),
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
        let Some(pkg) = env.package_of(*file) else {
            continue;
        };
        let package = &env.packages[pkg].name;
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
