//! What may be typed at a position. Where the cursor is comes from the
//! tokens before it (after `import`, where a rule is named, after a
//! comparison with a union, after a dot); what the names there mean, and
//! their types, from the semantic table.

use crate::AnalysisHost;
use crate::symbols::{SymbolKind, declared_name, docs_of};
use warden_ir::{Builtin, Ty, TypeLookup};
use warden_sema::{Meaning, occurrence_ending_at};
use warden_syntax::lexer::{Token, TokenKind, lex};

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
    /// A binding in scope (the rule's input, a `let`, a `for` element, a parameter).
    Variable,
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

const KEYWORDS: &[&str] = &[
    "package", "import", "type", "target", "data", "rule", "on", "as", "fn", "let", "deny",
    "allow", "warn", "when", "for", "in", "message", "with", "not", "and", "or", "if", "then",
    "else", "all", "any", "has", "true", "false", "none", "matches", "default", "schema", "waiver",
    "test", "given", "at", "expect",
];

/// The name completion types at the cursor to check what comes before it.
const PLACEHOLDER: &str = "__completion__";

impl AnalysisHost {
    /// What may be typed at `offset`.
    pub fn completions(&self, path: &str, offset: usize) -> Vec<Completion> {
        let Some(text) = self.text(path) else {
            return Vec::new();
        };
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let all = lex(&text[..offset]);
        if all
            .last()
            .is_some_and(|t| matches!(t.kind, TokenKind::Comment | TokenKind::DocComment))
        {
            return Vec::new();
        }
        let tokens: Vec<Token> = all.into_iter().filter(|t| !t.kind.is_trivia()).collect();
        if let Some(found) = self.named_completions(path, &text, &tokens, offset) {
            return found;
        }
        if let Some(found) = self.literal_completions(path, &text, &tokens, offset) {
            return found;
        }
        // Back over the word being typed.
        let typing = tokens.last().is_some_and(|t| {
            t.range.end as usize == offset && (t.kind == TokenKind::Ident || t.kind.is_keyword())
        });
        let before = &tokens[..tokens.len() - usize::from(typing)];
        if let Some(dot) = before.last()
            && matches!(dot.kind, TokenKind::Dot | TokenKind::QuestionDot)
        {
            return self.member_completions(path, &text, &before[..before.len() - 1], offset);
        }
        self.general_completions(path, offset)
    }

    /// After `import`: packages; where a waiver or an `expect` names a rule:
    /// rules. Each replaces the whole dotted name typed so far.
    fn named_completions(
        &self,
        path: &str,
        text: &str,
        tokens: &[Token],
        offset: usize,
    ) -> Option<Vec<Completion>> {
        // The dotted name being typed (its segments may be keywords:
        // `microapps.schema`).
        let kind = |i: usize| tokens.get(i).map(|t| t.kind);
        let mut start = tokens.len();
        while start > 0 {
            let here = tokens[start - 1].kind;
            let by_dot = kind(start) == Some(TokenKind::Dot)
                || (start >= 2 && kind(start - 2) == Some(TokenKind::Dot));
            if here == TokenKind::Dot || here == TokenKind::Ident || (here.is_keyword() && by_dot) {
                start -= 1;
            } else {
                break;
            }
        }
        let before = tokens.get(start.checked_sub(1)?)?;
        let from = match tokens.get(start) {
            // The name must run up to the cursor.
            Some(first) if tokens[tokens.len() - 1].range.end as usize == offset => {
                first.range.start as usize
            }
            Some(_) => return None,
            // Nothing typed yet: the cursor is past a space.
            None if (before.range.end as usize) < offset => offset,
            None => return None,
        };
        let back = |n: usize| start.checked_sub(n).and_then(kind);
        let is_waived = |i: usize| {
            i < start
                && tokens[i].kind == TokenKind::Ident
                && &text[tokens[i].range.as_range()] == "waived"
        };
        if before.kind == TokenKind::Import {
            return Some(self.package_completions(path, from));
        }
        let waiver_for = before.kind == TokenKind::For
            && back(2) == Some(TokenKind::Ident)
            && back(3) == Some(TokenKind::Waiver);
        let effect = matches!(
            before.kind,
            TokenKind::Deny | TokenKind::Allow | TokenKind::Warn
        ) || is_waived(start - 1);
        let expect = effect
            && (back(2) == Some(TokenKind::Expect)
                || (back(2) == Some(TokenKind::Not) && back(3) == Some(TokenKind::Expect)));
        (waiver_for || expect).then(|| self.rule_completions(from))
    }

    fn package_completions(&self, path: &str, from: usize) -> Vec<Completion> {
        let dotted = |p: &str| {
            self.parse(p)
                .and_then(|parse| parse.tree().package.as_ref().map(|p| p.path.to_dotted()))
        };
        let own = dotted(path);
        let mut packages: Vec<String> = self
            .paths()
            .iter()
            .filter_map(|p| dotted(p))
            .filter(|p| Some(p) != own.as_ref())
            .collect();
        packages.sort();
        packages.dedup();
        packages
            .into_iter()
            .map(|p| Completion {
                replace_from: Some(from),
                ..Completion::new(p, CompletionKind::Package)
            })
            .collect()
    }

    fn rule_completions(&self, from: usize) -> Vec<Completion> {
        self.program()
            .rules
            .iter()
            .map(|rule| Completion {
                detail: Some(crate::hover::rule_summary(rule)),
                documentation: rule.doc.clone(),
                replace_from: Some(from),
                ..Completion::new(rule.name.clone(), CompletionKind::Rule)
            })
            .collect()
    }

    /// The members of a union where a literal of it is expected: after
    /// `==` or `!=`, or in the list after `in`, with what the other side
    /// is read from the semantic table.
    fn literal_completions(
        &self,
        path: &str,
        text: &str,
        tokens: &[Token],
        offset: usize,
    ) -> Option<Vec<Completion>> {
        // The literal being typed: `"no`, a bare word, or nothing yet.
        let partial = tokens.last().filter(|t| {
            t.range.end as usize == offset
                && matches!(t.kind, TokenKind::UnterminatedStr | TokenKind::Ident)
        });
        let rest = &tokens[..tokens.len() - usize::from(partial.is_some())];
        let operand = match rest.last()?.kind {
            TokenKind::EqEq | TokenKind::NotEq => rest.get(rest.len().checked_sub(2)?)?,
            _ => {
                let mut i = rest.len();
                while i > 0 && matches!(rest[i - 1].kind, TokenKind::Str | TokenKind::Comma) {
                    i -= 1;
                }
                if i < 2
                    || rest[i - 1].kind != TokenKind::LBracket
                    || rest[i - 2].kind != TokenKind::In
                {
                    return None;
                }
                rest.get(i.checked_sub(3)?)?
            }
        };
        let occurrence = occurrence_ending_at(self.table(path), operand.range.end)?;
        let declarations = self.declarations();
        let types = warden_sema::file_types(declarations, self.checked(path)?);
        let ty = occurrence.ty.as_ref()?;
        let Ty::Enum(id) = ty.strip_optional() else {
            return None;
        };
        let from = partial.map_or(offset, |t| t.range.start as usize);
        // `sso == "|"`: the closing quote is replaced too.
        let to = (text[from..].starts_with('"') && text[offset..].starts_with('"'))
            .then_some(offset + 1);
        Some(
            types
                .enumeration(*id)
                .members
                .iter()
                .map(|member| Completion {
                    detail: Some(types.display(ty)),
                    replace_from: Some(from),
                    replace_to: to,
                    ..Completion::new(format!("\"{member}\""), CompletionKind::EnumMember)
                })
                .collect(),
        )
    }

    /// After a dot: the fields of what comes before it (its type from the
    /// semantic table), or the data documents after `data.`.
    fn member_completions(
        &self,
        path: &str,
        text: &str,
        before: &[Token],
        offset: usize,
    ) -> Vec<Completion> {
        let Some(owner) = before.last() else {
            return Vec::new();
        };
        let program = self.program();
        if owner.kind == TokenKind::Data {
            return program
                .data
                .iter()
                .map(|d| Completion {
                    detail: Some(program.types.display(&d.ty)),
                    ..Completion::new(d.name.to_string(), CompletionKind::Data)
                })
                .collect();
        }
        let Some(file) = self.file(path) else {
            return Vec::new();
        };
        // `app.spec.` with nothing after the dot does not parse as a field
        // access; the text is checked again with a name typed at the cursor
        // (which the checker rejects, having typed what comes before it).
        let live = occurrence_ending_at(self.table(path), owner.range.end).cloned();
        let typed;
        let (occurrence, checked) = match (live, self.checked(path)) {
            (Some(occurrence), Some(checked)) => (occurrence, checked),
            _ => {
                let word_end = text[offset..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(text.len(), |i| offset + i);
                let with_name = format!("{}{PLACEHOLDER}{}", &text[..offset], &text[word_end..]);
                typed = warden_db::check_text(self.db(), self.set(), file, &with_name);
                match occurrence_ending_at(&typed.occurrences, owner.range.end).cloned() {
                    Some(occurrence) => (occurrence, &typed),
                    None => return Vec::new(),
                }
            }
        };
        let declarations = self.declarations();
        let types = warden_sema::file_types(declarations, checked);
        let Some(Ty::Record(id)) = occurrence.ty.as_ref().map(Ty::strip_optional) else {
            return Vec::new();
        };
        let record = types.record(*id);
        // Each declaring file's docs, read once for all the fields.
        let mut docs: std::collections::HashMap<String, _> = Default::default();
        record
            .fields
            .iter()
            .enumerate()
            .map(|(slot, field)| {
                let meaning = Meaning::Field {
                    record: *id,
                    slot: slot as u32,
                };
                let documentation = warden_sema::definition(
                    &meaning,
                    file.id(self.db()),
                    declarations,
                    checked,
                    program,
                )
                .and_then(|span| {
                    let declared_in = self.path_of(span.file)?;
                    if !docs.contains_key(declared_in) {
                        let found = docs_of(self.parse(declared_in)?.tree());
                        docs.insert(declared_in.to_string(), found);
                    }
                    docs.get(declared_in)?.get(&span.range).cloned()
                });
                Completion {
                    detail: Some(types.display(&field.read_ty())),
                    documentation,
                    ..Completion::new(field.name.to_string(), CompletionKind::Field)
                }
            })
            .collect()
    }

    /// Anywhere else: keywords, built-ins, the set's declarations, and the
    /// bindings in scope at `offset`.
    fn general_completions(&self, path: &str, offset: usize) -> Vec<Completion> {
        let mut out: Vec<Completion> = KEYWORDS
            .iter()
            .map(|k| Completion::new(*k, CompletionKind::Keyword))
            .collect();
        out.extend(Builtin::all().map(|b| Completion {
            detail: Some(b.doc().to_string()),
            snippet: Some(call_snippet(b)),
            ..Completion::new(b.name(), CompletionKind::Function)
        }));
        for file in self.paths() {
            let Some(parse) = self.parse(&file) else {
                continue;
            };
            for item in &parse.tree().items {
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
        out.extend(self.bindings_in_scope(path, offset));
        out
    }

    /// The bindings declared before `offset` in the declaration around it.
    fn bindings_in_scope(&self, path: &str, offset: usize) -> Vec<Completion> {
        let (Some(parse), Some(checked)) = (self.parse(path), self.checked(path)) else {
            return Vec::new();
        };
        let Some(item) = parse
            .tree()
            .items
            .iter()
            .find(|i| i.range.start as usize <= offset && offset <= i.range.end as usize)
        else {
            return Vec::new();
        };
        let types = warden_sema::file_types(self.declarations(), checked);
        let text = self.text(path).unwrap_or_default();
        let mut out: Vec<Completion> = Vec::new();
        for o in self.table(path) {
            let Meaning::Binding { declared } = o.meaning else {
                continue;
            };
            let name = &text[o.range.as_range()];
            let fresh = !out.iter().any(|c| c.label == name);
            if o.range == declared
                && item.range.start <= declared.start
                && (declared.end as usize) <= offset
                && fresh
            {
                out.push(Completion {
                    detail: o.ty.as_ref().map(|ty| types.display(ty)),
                    ..Completion::new(name, CompletionKind::Variable)
                });
            }
        }
        out
    }
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
