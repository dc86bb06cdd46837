//! Names in policies: declarations (symbols, definitions), what a name at a
//! position means (hover), and what may come next (completion). A field
//! chain such as `app.spec.auth.` is resolved from the rule's target type
//! (or a `for` element, or a data document) through the compiled types.

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use warden_diagnostics::TextRange;
use warden_ir::TypeLookup;
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
    EnumMember,
    Package,
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
    /// A snippet to insert instead of the label (`count(${1:xs})`).
    pub snippet: Option<String>,
    /// Where the text the completion replaces starts, when it is more than
    /// the word at the cursor (a dotted rule name, a quoted literal).
    pub replace_from: Option<usize>,
    /// Where it ends, when past the cursor (the closing quote an editor
    /// typed with the opening one).
    pub replace_to: Option<usize>,
}

impl Completion {
    fn new(label: impl Into<String>, kind: CompletionKind) -> Self {
        Completion {
            label: label.into(),
            kind,
            detail: None,
            documentation: None,
            snippet: None,
            replace_from: None,
            replace_to: None,
        }
    }
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

/// The declaration `word` (at `start` of `path`) names. A qualified name
/// (`lib.name`, `microapps.identity.sso`) looks in the package its prefix
/// names, through the file's imports; a bare one in the file's own package,
/// then its imports, then anywhere (packages may reuse short names).
fn declaration<'a>(
    cx: &Context<'a>,
    path: &str,
    text: &str,
    start: usize,
    word: &str,
) -> Option<(&'a str, &'a ast::Item, &'a ast::Name)> {
    let here = cx.files.get(path);
    let package_of = |file: &ast::SourceFile| file.package.as_ref().map(|p| p.path.to_dotted());
    let imported = |alias: &str| -> Option<String> {
        here?.imports.iter().find_map(|import| {
            let name = import
                .alias
                .as_ref()
                .map(|a| a.text.clone())
                .or_else(|| import.path.segments.last().map(|s| s.text.clone()))?;
            (name == alias).then(|| import.path.to_dotted())
        })
    };
    let in_package = |package: Option<&str>| {
        cx.files.iter().find_map(|(file_path, file)| {
            if package.is_some() && package_of(file).as_deref() != package {
                return None;
            }
            file.items.iter().find_map(|item| {
                let (declared, _) = declared_name(&item.kind)?;
                (declared.text == word).then_some((*file_path, item, declared))
            })
        })
    };
    if start > 0 && text[..start].ends_with('.') {
        let prefix = chain_before(text, start - 1).join(".");
        let package = imported(&prefix).unwrap_or(prefix);
        if let Some(found) = in_package(Some(&package)) {
            return Some(found);
        }
    }
    let own = here.and_then(|f| package_of(f));
    let imports: Vec<String> = here
        .map(|f| f.imports.iter().map(|i| i.path.to_dotted()).collect())
        .unwrap_or_default();
    own.iter()
        .chain(&imports)
        .find_map(|package| in_package(Some(package)))
        .or_else(|| in_package(None))
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
    if let Some((declared_in, item, _)) = declaration(cx, path, text, start, word) {
        let package = cx
            .files
            .get(declared_in)
            .and_then(|f| f.package.as_ref())
            .map(|p| p.path.to_dotted())
            .unwrap_or_default();
        let mut out = String::new();
        match &item.kind {
            ItemKind::Rule(rule) => {
                out.push_str(&format!(
                    "```warden\nrule {} on {}\n```",
                    rule.name.text, rule.target.text
                ));
                let full_name = format!("{package}.{word}");
                let full = cx.program.rules.iter().find(|r| r.name == full_name);
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

/// Completions decided by what the line says before the cursor: package
/// names after `import`, rule names where a waiver or an `expect` names a
/// rule, the members of a union where a literal of it is expected.
fn contextual(cx: &Context<'_>, path: &str, text: &str, offset: usize) -> Option<Vec<Completion>> {
    static IMPORT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*import\s+([\w.]*)$").unwrap());
    static RULE_NAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^\s*waiver\s+\w+\s+for|\bexpect\s+(?:not\s+)?(?:deny|allow|warn|waived))\s+([\w.]*)$")
            .unwrap()
    });
    static LITERAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"([\w.?]+)\s*(?:==|!=|\bin\s*\[[^\]]*?)\s*("?\w*)$"#).unwrap()
    });
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..offset];
    if let Some(found) = IMPORT.captures(line) {
        let own = cx
            .files
            .get(path)
            .and_then(|f| f.package.as_ref())
            .map(|p| p.path.to_dotted());
        let mut packages: Vec<String> = cx
            .files
            .values()
            .filter_map(|f| Some(f.package.as_ref()?.path.to_dotted()))
            .filter(|p| Some(p) != own.as_ref())
            .collect();
        packages.sort();
        packages.dedup();
        let from = line_start + found.get(1)?.start();
        return Some(
            packages
                .into_iter()
                .map(|p| Completion {
                    replace_from: Some(from),
                    ..Completion::new(p, CompletionKind::Package)
                })
                .collect(),
        );
    }
    if let Some(found) = RULE_NAME.captures(line) {
        let from = line_start + found.get(1)?.start();
        return Some(
            cx.program
                .rules
                .iter()
                .map(|rule| Completion {
                    detail: Some(format!(
                        "severity {}{}",
                        rule.severity.as_str(),
                        rule.control
                            .as_ref()
                            .map(|c| format!(" · control {c}"))
                            .unwrap_or_default()
                    )),
                    documentation: rule.doc.clone(),
                    replace_from: Some(from),
                    ..Completion::new(rule.name.clone(), CompletionKind::Rule)
                })
                .collect(),
        );
    }
    if let Some(found) = LITERAL.captures(line) {
        let chain: Vec<String> = found[1]
            .split('.')
            .map(|s| s.trim_end_matches('?').to_string())
            .collect();
        let ty = chain_type(cx, path, offset, &chain)?;
        let Ty::Enum(id) = ty.strip_optional() else {
            return None;
        };
        let from = line_start + found.get(2)?.start();
        // `sso == "|"`: the closing quote is replaced too.
        let to = (text[from..].starts_with('"') && text[offset..].starts_with('"'))
            .then_some(offset + 1);
        return Some(
            cx.program
                .types
                .enumeration(*id)
                .members
                .iter()
                .map(|member| Completion {
                    detail: Some(cx.program.types.display(&ty)),
                    replace_from: Some(from),
                    replace_to: to,
                    ..Completion::new(format!("\"{member}\""), CompletionKind::EnumMember)
                })
                .collect(),
        );
    }
    None
}

/// `name(${1:a}, ${2:b})` from a built-in's signature line.
fn call_snippet(builtin: Builtin) -> String {
    let doc = builtin.doc();
    let params = doc
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map_or("", |(params, _)| params);
    let mut depth = 0;
    let mut names = Vec::new();
    let mut current = String::new();
    for c in params.chars() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => names.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    names.push(current);
    let placeholders: Vec<String> = names
        .iter()
        .filter_map(|p| p.split(':').next().map(str::trim).filter(|n| !n.is_empty()))
        .enumerate()
        .map(|(i, name)| format!("${{{}:{name}}}", i + 1))
        .collect();
    format!("{}({})", builtin.name(), placeholders.join(", "))
}

pub fn completions(cx: &Context<'_>, path: &str, text: &str, offset: usize) -> Vec<Completion> {
    let offset = offset.min(text.len());
    if let Some(found) = contextual(cx, path, text, offset) {
        return found;
    }
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
                    detail: Some(cx.program.types.display(&ty)),
                    documentation,
                    ..Completion::new(field.name.to_string(), CompletionKind::Field)
                }
            })
            .collect();
    }
    let mut out: Vec<Completion> = KEYWORDS
        .iter()
        .map(|k| Completion::new(*k, CompletionKind::Keyword))
        .collect();
    out.extend(Builtin::ALL.iter().map(|b| Completion {
        detail: Some(b.doc().to_string()),
        snippet: Some(call_snippet(*b)),
        ..Completion::new(b.name(), CompletionKind::Function)
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
                documentation: item.doc.clone(),
                ..Completion::new(name.text.clone(), kind)
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
    if let Some(found) = package_at(cx, path, offset) {
        return Some(found);
    }
    // A field's own declaration (so references start from it too).
    if let Some(item) = enclosing(cx, path, offset)
        && let ItemKind::Type(decl) = &item.kind
        && let TypeExprKind::Record { fields, .. } = &decl.ty.kind
        && fields.iter().any(|f| f.name.range == range)
    {
        return Some((path.to_string(), range));
    }
    if (start == 0 || !text[..start].ends_with('.'))
        && let Some(binding) = local_binding(cx, path, word, start)
    {
        return Some((path.to_string(), binding));
    }
    // A declaration, by name (`microapps.identity.corporate_sso` too).
    let (file, _, name) = declaration(cx, path, text, start, word)?;
    Some((file.to_string(), name.range))
}

/// The local name (`as app`, `let x`, `for e in`, a parameter) that
/// `word` at `start` refers to: the nearest one declared before it in the
/// same rule or function.
fn local_binding(cx: &Context<'_>, path: &str, word: &str, start: usize) -> Option<TextRange> {
    let item = enclosing(cx, path, start)?;
    let mut names: Vec<&ast::Name> = Vec::new();
    match &item.kind {
        ItemKind::Rule(rule) => {
            names.extend(rule.binding.as_ref());
            for stmt in &rule.body {
                match stmt {
                    ast::RuleStmt::Let(local) => names.push(&local.name),
                    ast::RuleStmt::Clause(clause) => {
                        names.extend(clause.iteration.as_ref().map(|it| &it.binding))
                    }
                    _ => {}
                }
            }
        }
        ItemKind::Fn(decl) => names.extend(decl.params.iter().map(|p| &p.name)),
        _ => return None,
    }
    names
        .into_iter()
        .filter(|n| n.text == word && n.range.start as usize <= start)
        .max_by_key(|n| n.range.start)
        .map(|n| n.range)
}

/// The package an `import` (or `package`) line names at `offset`, and the
/// `package` line that declares it.
fn package_at(cx: &Context<'_>, path: &str, offset: usize) -> Option<(String, TextRange)> {
    let file = cx.files.get(path)?;
    let covers = |range: TextRange| range.start as usize <= offset && offset <= range.end as usize;
    let dotted = file
        .imports
        .iter()
        .map(|import| &import.path)
        .chain(file.package.as_ref().map(|p| &p.path))
        .find(|p| covers(p.range))?
        .to_dotted();
    cx.files.iter().find_map(|(declared_in, f)| {
        let package = f
            .package
            .as_ref()
            .filter(|p| p.path.to_dotted() == dotted)?;
        Some((declared_in.to_string(), package.path.range))
    })
}

/// Every place a package is named: `package` and `import` lines, and the
/// prefix of full rule names (`microapps.identity.sso` in a waiver).
pub fn package_uses(
    cx: &Context<'_>,
    texts: &BTreeMap<String, std::sync::Arc<str>>,
    dotted: &str,
) -> Vec<(String, TextRange)> {
    let mut out = Vec::new();
    for (path, text) in texts {
        let mut from = 0;
        while let Some(found) = text[from..].find(dotted) {
            let start = from + found;
            let end = start + dotted.len();
            from = end;
            let before_ok = text[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
            let after_ok = text[end..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            let in_comment = text[..start]
                .rsplit('\n')
                .next()
                .is_some_and(|line| line.contains("//"));
            if before_ok && after_ok && !in_comment && cx.files.contains_key(path.as_str()) {
                out.push((path.clone(), TextRange::new(start, end)));
            }
        }
    }
    out
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
