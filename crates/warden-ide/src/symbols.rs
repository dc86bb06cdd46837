//! The declarations of a file, from its syntax tree: document and
//! workspace symbols, and the names completion offers.

use warden_diagnostics::TextRange;
use warden_syntax::ast::{self, ItemKind, SourceFile};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Type,
    Target,
    Data,
    Rule,
    Function,
    Waiver,
    Test,
}

/// A declaration of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The whole declaration.
    pub range: TextRange,
    /// Its name.
    pub selection: TextRange,
}

/// The name an item declares, and what kind of declaration it is.
pub(crate) fn declared_name(kind: &ItemKind) -> Option<(&ast::Name, SymbolKind)> {
    Some(match kind {
        ItemKind::Type(t) => (&t.name, SymbolKind::Type),
        ItemKind::Target(t) => (&t.name, SymbolKind::Target),
        ItemKind::Data(d) => (&d.name, SymbolKind::Data),
        ItemKind::Rule(r) => (&r.name, SymbolKind::Rule),
        ItemKind::Fn(f) => (&f.name, SymbolKind::Function),
        ItemKind::Waiver(w) => (&w.name, SymbolKind::Waiver),
        ItemKind::Test(t) => (&t.name, SymbolKind::Test),
        ItemKind::Error => return None,
    })
}

pub(crate) fn symbols(file: &SourceFile) -> Vec<Symbol> {
    file.items
        .iter()
        .filter_map(|item| {
            let (name, kind) = declared_name(&item.kind)?;
            Some(Symbol {
                name: name.text.clone(),
                kind,
                range: item.range,
                selection: name.range,
            })
        })
        .collect()
}

/// The `///` doc of the declaration (an item or a record field) whose name
/// is written at `at`.
/// The doc comment of every declaration and record field of `file`, by
/// the range of its name: [`doc_of`] for many names at once (completing
/// the fields of a wide record looked each up afresh, quadratic in them).
pub(crate) fn docs_of(file: &SourceFile) -> std::collections::HashMap<TextRange, String> {
    let mut docs = std::collections::HashMap::new();
    for item in &file.items {
        if let (Some((name, _)), Some(doc)) = (declared_name(&item.kind), &item.doc) {
            docs.entry(name.range).or_insert_with(|| doc.clone());
        }
    }
    for field in file.record_fields() {
        if let Some(doc) = &field.doc {
            docs.entry(field.name.range).or_insert_with(|| doc.clone());
        }
    }
    docs
}

pub(crate) fn doc_of(file: &SourceFile, at: TextRange) -> Option<String> {
    let item = file
        .items
        .iter()
        .find(|item| declared_name(&item.kind).is_some_and(|(name, _)| name.range == at));
    if let Some(item) = item {
        return item.doc.clone();
    }
    file.record_fields()
        .into_iter()
        .find(|field| field.name.range == at)
        .and_then(|field| field.doc.clone())
}
