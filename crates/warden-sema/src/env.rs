//! The environment every file is checked in: what the declarations of a set
//! establish, without positions, so it compares equal after an edit that
//! moves text without changing a name, type or signature.

use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::sync::Arc;
use warden_diagnostics::{FileId, Span};
use warden_ir::{self as ir, EnumDef, EnumId, RecordDef, RecordId, Ty, TypeLookup, TypeTable};

/// Packages and imports, types, targets, data documents and function
/// signatures of a policy set.
///
/// Invariant: holds no position and no syntax, so the derived `Eq` is
/// "would check every file alike" and a database can keep the checks of the
/// files an edit did not touch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environment {
    pub(crate) packages: Vec<Package>,
    pub(crate) package_by_name: FxHashMap<String, usize>,
    pub(crate) scopes: BTreeMap<FileId, FileScope>,
    pub(crate) types: TypeTable,
    pub(crate) fns: Vec<FnSignature>,
    pub(crate) targets: Vec<TargetSignature>,
    pub(crate) data: Vec<DataSignature>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Package {
    pub name: String,
    pub types: FxHashMap<String, usize>,
    pub fns: FxHashMap<String, usize>,
}

/// A file's package and its imports (package index, the name it goes by).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FileScope {
    pub package: Option<usize>,
    pub imports: Vec<(usize, String)>,
}

/// A function as callers see it. Its id is its index, as in the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FnSignature {
    pub pkg: usize,
    pub name: String,
    pub params: Vec<Ty>,
    /// `None` while its body is being checked and no return type is written.
    pub ret: Option<Ty>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TargetSignature {
    pub name: Arc<str>,
    pub ty: Ty,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DataSignature {
    pub name: Arc<str>,
    pub ty: Ty,
}

impl Environment {
    pub(crate) fn scope(&self, file: FileId) -> Option<&FileScope> {
        self.scopes.get(&file)
    }

    pub(crate) fn package_of(&self, file: FileId) -> Option<usize> {
        self.scope(file).and_then(|s| s.package)
    }

    /// The package a dotted prefix names from `file`: an import alias or a full package name.
    pub(crate) fn package_named(&self, file: FileId, name: &str) -> Option<usize> {
        self.scope(file)
            .and_then(|s| s.imports.iter().find(|(_, alias)| alias == name))
            .map(|(p, _)| *p)
            .or_else(|| self.package_by_name.get(name).copied())
    }

    /// Packages whose names are visible unqualified in `file`: its own, then its imports.
    pub(crate) fn visible_packages(&self, file: FileId) -> Vec<usize> {
        let Some(scope) = self.scope(file) else {
            return Vec::new();
        };
        scope
            .package
            .into_iter()
            .chain(scope.imports.iter().map(|(p, _)| *p))
            .collect()
    }

    pub(crate) fn target_by_name(&self, name: &str) -> Option<ir::TargetId> {
        self.targets
            .iter()
            .position(|t| &*t.name == name)
            .map(|i| ir::TargetId(i as u32))
    }

    pub(crate) fn data_by_name(&self, name: &str) -> Option<ir::DataId> {
        self.data
            .iter()
            .position(|d| &*d.name == name)
            .map(|i| ir::DataId(i as u32))
    }
}

/// The record and union types one check sees: the set's (`base`), and the
/// ones it makes itself, numbered after them. A file's check adds to its own
/// and reads the set's in place; `assemble` renumbers what each file added.
pub(crate) struct Types<'e> {
    pub base: &'e TypeTable,
    /// Borrowed when only read (the editor's view of a checked file).
    pub added: std::borrow::Cow<'e, TypeTable>,
    /// Where each added record's fields are written (see [`crate::Positions`]).
    pub added_fields: Vec<Vec<Option<Span>>>,
}

/// The base of the declarations' own table, which starts empty.
pub(crate) static NO_TYPES: TypeTable = TypeTable {
    records: Vec::new(),
    enums: Vec::new(),
};

impl<'e> Types<'e> {
    pub(crate) fn over(base: &'e TypeTable) -> Self {
        Types {
            base,
            added: std::borrow::Cow::Owned(TypeTable::default()),
            added_fields: Vec::new(),
        }
    }

    pub(crate) fn add_record(&mut self, def: RecordDef, fields: Vec<Option<Span>>) -> RecordId {
        self.added.to_mut().records.push(def);
        self.added_fields.push(fields);
        RecordId((self.base.records.len() + self.added.records.len()) as u32 - 1)
    }

    /// A union of these members; an identical anonymous union is reused so
    /// its members' `Arc`s are shared.
    pub(crate) fn add_enum(&mut self, members: Vec<Arc<str>>, alias: Option<&str>) -> EnumId {
        if alias.is_none() {
            let same = |e: &EnumDef| e.name.is_none() && e.members == members;
            let base = self.base.enums.len();
            if let Some(i) = self.base.enums.iter().position(same) {
                return EnumId(i as u32);
            }
            if let Some(i) = self.added.enums.iter().position(same) {
                return EnumId((base + i) as u32);
            }
        }
        self.added.to_mut().enums.push(EnumDef {
            name: alias.map(str::to_string),
            members,
        });
        EnumId((self.base.enums.len() + self.added.enums.len()) as u32 - 1)
    }
}

impl TypeLookup for Types<'_> {
    fn record(&self, id: RecordId) -> &RecordDef {
        let i = id.0 as usize;
        match i.checked_sub(self.base.records.len()) {
            Some(added) => &self.added.records[added],
            None => &self.base.records[i],
        }
    }

    fn enumeration(&self, id: EnumId) -> &EnumDef {
        let i = id.0 as usize;
        match i.checked_sub(self.base.enums.len()) {
            Some(added) => &self.added.enums[added],
            None => &self.base.enums[i],
        }
    }
}
