//! Names in policies: declarations (symbols, definitions), what a name at a
//! position means (hover), and what may come next (completion). A field
//! chain such as `app.spec.auth.` is resolved from the rule's target type
//! (or a `for` element, or a data document) through the compiled types.

use std::collections::BTreeMap;
use warden_diagnostics::TextRange;
use warden_ir::{Builtin, Program, Ty};
use warden_syntax::ast::{self, ItemKind, SourceFile, TypeExprKind};

/// What the queries read: the compiled program and every file's tree.
pub struct Context<'a> {
    pub program: &'a Program,
    pub files: BTreeMap<&'a str, &'a SourceFile>,
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Field,
    Keyword,
    Function,
    Rule,
    Type,
    Data,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    pub documentation: Option<String>,
}

fn declared_name(kind: &ItemKind) -> Option<(&ast::Name, SymbolKind)> {
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

pub fn symbols(file: &SourceFile) -> Vec<Symbol> {
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

/// The identifier at `offset` and its range.
fn word_at(text: &str, offset: usize) -> Option<(&str, TextRange)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let offset = offset.min(text.len());
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    (start < end).then(|| (&text[start..end], TextRange::new(start, end)))
}

/// The dotted chain that ends at `end` (`app.spec?.auth`), as names.
fn chain_before(text: &str, end: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut start = end;
    while start > 0 {
        let c = bytes[start - 1] as char;
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '?') {
            start -= 1;
        } else {
            break;
        }
    }
    text[start..end]
        .split('.')
        .map(|s| s.trim_end_matches('?').to_string())
        .collect()
}

/// The item of `path` enclosing `offset`.
fn enclosing<'a>(cx: &Context<'a>, path: &str, offset: usize) -> Option<&'a ast::Item> {
    cx.files
        .get(path)?
        .items
        .iter()
        .find(|item| (item.range.start as usize) <= offset && offset <= item.range.end as usize)
}

/// The type a chain of names leads to, from where the cursor is.
fn chain_type(cx: &Context<'_>, path: &str, offset: usize, chain: &[String]) -> Option<Ty> {
    let (first, rest) = chain.split_first()?;
    let program = cx.program;
    let mut ty = if first == "data" {
        let (name, rest) = rest.split_first()?;
        let data = program.data_by_name(name)?;
        return walk(cx, program.data[data.index()].ty.clone(), rest);
    } else {
        let item = enclosing(cx, path, offset)?;
        let ItemKind::Rule(rule) = &item.kind else {
            return None;
        };
        let binding = rule.binding.as_ref().unwrap_or(&rule.target);
        let target = program.target_by_name(&rule.target.text)?;
        let input = program.target(target).ty.clone();
        if binding.text == *first {
            input
        } else {
            // A `for` element: the element type of its collection.
            let collection = rule.body.iter().find_map(|stmt| match stmt {
                ast::RuleStmt::Clause(c) => c
                    .iteration
                    .as_ref()
                    .filter(|it| it.binding.text == *first)
                    .map(|it| &it.collection),
                _ => None,
            })?;
            let printed = warden_syntax::print::print_expr(collection);
            let names: Vec<String> = printed
                .split(" ?? ")
                .next()?
                .split('.')
                .map(|s| s.trim_end_matches('?').to_string())
                .collect();
            if names.first() != Some(&binding.text) {
                return None;
            }
            match walk(cx, input, &names[1..])?.strip_optional() {
                Ty::List(inner) => (**inner).clone(),
                _ => return None,
            }
        }
    };
    ty = walk(cx, ty, rest)?;
    Some(ty)
}

fn walk(cx: &Context<'_>, mut ty: Ty, names: &[String]) -> Option<Ty> {
    for name in names {
        let Ty::Record(id) = ty.strip_optional() else {
            return None;
        };
        let record = cx.program.types.record(*id);
        let field = &record.fields[record.slot(name)?];
        ty = if field.optional {
            field.ty.clone().optional()
        } else {
            field.ty.clone()
        };
    }
    Some(ty)
}

/// The `///` doc of field `name` of the record type named `type_name`, and
/// where the field is declared.
fn field_decl<'a>(
    cx: &Context<'a>,
    type_name: &str,
    name: &str,
) -> Option<(&'a str, &'a ast::FieldDecl)> {
    for (path, file) in &cx.files {
        for item in &file.items {
            if let ItemKind::Type(decl) = &item.kind
                && decl.name.text == type_name
                && let TypeExprKind::Record { fields, .. } = &decl.ty.kind
                && let Some(field) = fields.iter().find(|f| f.name.text == name)
            {
                return Some((path, field));
            }
        }
    }
    None
}

/// A declaration by name, anywhere in the set.
fn declaration<'a>(
    cx: &Context<'a>,
    name: &str,
) -> Option<(&'a str, &'a ast::Item, &'a ast::Name)> {
    cx.files.iter().find_map(|(path, file)| {
        file.items.iter().find_map(|item| {
            let (declared, _) = declared_name(&item.kind)?;
            (declared.text == name).then_some((*path, item, declared))
        })
    })
}

/// The type and doc of the field `word` that starts at `start`, after a dot.
fn field_hover(
    cx: &Context<'_>,
    path: &str,
    text: &str,
    start: usize,
    word: &str,
) -> Option<String> {
    let mut chain = chain_before(text, start - 1);
    let owner = chain_type(cx, path, start, &chain)?;
    chain.push(word.to_string());
    let ty = chain_type(cx, path, start, &chain)?;
    let mut out = format!("```warden\n{word}: {}\n```", cx.program.types.display(&ty));
    if let Ty::Record(id) = owner.strip_optional()
        && let Some(type_name) = &cx.program.types.record(*id).name
        && let Some((_, field)) = field_decl(cx, type_name, word)
        && let Some(doc) = &field.doc
    {
        out.push_str("\n\n");
        out.push_str(doc);
    }
    Some(out)
}

pub fn hover(
    cx: &Context<'_>,
    path: &str,
    text: &str,
    offset: usize,
) -> Option<(String, TextRange)> {
    let (word, range) = word_at(text, offset)?;
    let start = range.start as usize;
    // A field in a chain: its type and doc. (A dotted rule name falls through.)
    if start > 0
        && text[..start].ends_with('.')
        && let Some(found) = field_hover(cx, path, text, start, word)
    {
        return Some((found, range));
    }
    if text[range.end as usize..].trim_start().starts_with('(')
        && let Some(builtin) = Builtin::from_name(word)
    {
        return Some((format!("```warden\n{}\n```", builtin.doc()), range));
    }
    if let Some((_, item, _)) = declaration(cx, word) {
        let mut out = String::new();
        match &item.kind {
            ItemKind::Rule(rule) => {
                out.push_str(&format!(
                    "```warden\nrule {} on {}\n```",
                    rule.name.text, rule.target.text
                ));
                let full = cx
                    .program
                    .rules
                    .iter()
                    .find(|r| r.name.ends_with(&format!(".{word}")));
                if let Some(rule) = full {
                    out.push_str(&format!(
                        "\n\n`{}` · severity {}{}",
                        rule.name,
                        rule.severity.as_str(),
                        rule.control
                            .as_ref()
                            .map(|c| format!(" · control {c}"))
                            .unwrap_or_default()
                    ));
                }
            }
            ItemKind::Type(decl) => {
                out.push_str(&format!("```warden\ntype {}\n```", decl.name.text));
            }
            ItemKind::Target(decl) => {
                out.push_str(&format!("```warden\ntarget {}\n```", decl.name.text))
            }
            ItemKind::Data(decl) => {
                out.push_str(&format!("```warden\ndata {}\n```", decl.name.text))
            }
            ItemKind::Fn(decl) => out.push_str(&format!("```warden\nfn {}\n```", decl.name.text)),
            _ => return None,
        }
        if let Some(doc) = &item.doc {
            out.push_str("\n\n");
            out.push_str(doc);
        }
        return Some((out, range));
    }
    // The rule's input binding.
    let ty = chain_type(cx, path, offset, &[word.to_string()])?;
    Some((
        format!("```warden\n{word}: {}\n```", cx.program.types.display(&ty)),
        range,
    ))
}

const KEYWORDS: &[&str] = &[
    "package", "import", "type", "target", "data", "rule", "on", "as", "fn", "let", "deny",
    "allow", "warn", "when", "for", "in", "message", "with", "not", "and", "or", "if", "then",
    "else", "all", "any", "has", "true", "false", "none", "matches", "default", "schema", "waiver",
    "test", "given", "at", "expect",
];

pub fn completions(cx: &Context<'_>, path: &str, text: &str, offset: usize) -> Vec<Completion> {
    let offset = offset.min(text.len());
    // Back over the word being typed.
    let word_start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(offset, |(i, _)| i);
    if word_start > 0 && text[..word_start].ends_with('.') {
        let chain = chain_before(text, word_start - 1);
        let Some(ty) = chain_type(cx, path, offset, &chain) else {
            return Vec::new();
        };
        let Ty::Record(id) = ty.strip_optional() else {
            return Vec::new();
        };
        let record = cx.program.types.record(*id);
        return record
            .fields
            .iter()
            .map(|field| {
                let documentation = record
                    .name
                    .as_deref()
                    .and_then(|type_name| field_decl(cx, type_name, &field.name))
                    .and_then(|(_, decl)| decl.doc.clone());
                let ty = if field.optional {
                    field.ty.clone().optional()
                } else {
                    field.ty.clone()
                };
                Completion {
                    label: field.name.to_string(),
                    kind: CompletionKind::Field,
                    detail: Some(cx.program.types.display(&ty)),
                    documentation,
                }
            })
            .collect();
    }
    let mut out: Vec<Completion> = KEYWORDS
        .iter()
        .map(|k| Completion {
            label: (*k).to_string(),
            kind: CompletionKind::Keyword,
            detail: None,
            documentation: None,
        })
        .collect();
    out.extend(Builtin::ALL.iter().map(|b| Completion {
        label: b.name().to_string(),
        kind: CompletionKind::Function,
        detail: Some(b.doc().to_string()),
        documentation: None,
    }));
    for file in cx.files.values() {
        for item in &file.items {
            let Some((name, kind)) = declared_name(&item.kind) else {
                continue;
            };
            let kind = match kind {
                SymbolKind::Rule => CompletionKind::Rule,
                SymbolKind::Type => CompletionKind::Type,
                SymbolKind::Data => CompletionKind::Data,
                SymbolKind::Function => CompletionKind::Function,
                _ => continue,
            };
            out.push(Completion {
                label: name.text.clone(),
                kind,
                detail: None,
                documentation: item.doc.clone(),
            });
        }
    }
    out
}

pub fn definition(
    cx: &Context<'_>,
    path: &str,
    text: &str,
    offset: usize,
) -> Option<(String, TextRange)> {
    let (word, range) = word_at(text, offset)?;
    let start = range.start as usize;
    if start > 0 && text[..start].ends_with('.') {
        let field = (|| {
            let chain = chain_before(text, start - 1);
            let owner = chain_type(cx, path, offset, &chain)?;
            let Ty::Record(id) = owner.strip_optional() else {
                return None;
            };
            let type_name = cx.program.types.record(*id).name.as_deref()?;
            field_decl(cx, type_name, word)
        })();
        if let Some((file, field)) = field {
            return Some((file.to_string(), field.name.range));
        }
    }
    // A declaration, by name (`microapps.identity.corporate_sso` too).
    let (file, _, name) = declaration(cx, word)?;
    Some((file.to_string(), name.range))
}

/// Whether `name` is declared by some item of the set.
pub fn is_declaration(cx: &Context<'_>, name: &str) -> bool {
    declaration(cx, name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_and_words() {
        let text = "deny when app.spec?.auth.sso == \"none\"";
        let at = text.find("sso").unwrap();
        assert_eq!(word_at(text, at + 1).map(|w| w.0), Some("sso"));
        assert_eq!(chain_before(text, at - 1), ["app", "spec", "auth"]);
    }
}
