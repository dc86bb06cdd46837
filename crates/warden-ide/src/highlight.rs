//! Features read from a file's tokens and what its names mean: semantic
//! highlighting (a name is coloured by its meaning in the semantic table),
//! folding and signature help.

use crate::AnalysisHost;
use warden_diagnostics::TextRange;
use warden_sema::Meaning;
use warden_syntax::ast;
use warden_syntax::lexer::{Token, TokenKind, lex};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Highlight {
    Keyword,
    Comment,
    String,
    Number,
    Function,
    Type,
    Property,
    Variable,
    Operator,
    /// A package.
    Namespace,
}

impl AnalysisHost {
    /// Semantic highlighting of a file: each token, a name by what it means.
    pub fn highlights(&self, path: &str) -> Vec<(TextRange, Highlight)> {
        let Some(text) = self.text(path) else {
            return Vec::new();
        };
        let table = self.table(path);
        // Both are in text order: the occurrences before `first` end before
        // the current token, so they cover neither it nor any later one.
        let mut first = 0;
        let mut out = Vec::new();
        for token in lex(&text) {
            let highlight = match token.kind {
                TokenKind::Comment | TokenKind::DocComment => Highlight::Comment,
                TokenKind::Str | TokenKind::RawStr | TokenKind::UnterminatedStr => {
                    Highlight::String
                }
                TokenKind::Int
                | TokenKind::Float
                | TokenKind::Duration
                | TokenKind::Date
                | TokenKind::DateTime => Highlight::Number,
                kind if kind.is_keyword() => Highlight::Keyword,
                TokenKind::Ident => {
                    while table
                        .get(first)
                        .is_some_and(|o| o.range.end < token.range.start)
                    {
                        first += 1;
                    }
                    let meaning = table[first..]
                        .iter()
                        .take_while(|o| o.range.start <= token.range.start)
                        .find(|o| token.range.end <= o.range.end)
                        .map(|o| &o.meaning);
                    match meaning {
                        Some(Meaning::Field { .. }) => Highlight::Property,
                        Some(Meaning::Function(_) | Meaning::Builtin(_) | Meaning::Rule(_)) => {
                            Highlight::Function
                        }
                        Some(Meaning::Type(_) | Meaning::Target(_)) => Highlight::Type,
                        Some(Meaning::Package(_)) => Highlight::Namespace,
                        Some(_) => Highlight::Variable,
                        // A name no declaration defines: a base type, or
                        // one the checker could not resolve.
                        None if warden_sema::is_base_type(&text[token.range.as_range()]) => {
                            Highlight::Type
                        }
                        None => Highlight::Variable,
                    }
                }
                TokenKind::Whitespace => continue,
                _ => Highlight::Operator,
            };
            out.push((token.range, highlight));
        }
        out
    }

    /// Foldable ranges of a file: multi-line declarations, and runs of comments.
    pub fn folds(&self, path: &str) -> Vec<TextRange> {
        let (Some(text), Some(parse)) = (self.text(path), self.parse(path)) else {
            return Vec::new();
        };
        let mut out: Vec<TextRange> = parse
            .tree()
            .items
            .iter()
            .map(|item| item.range)
            .filter(|r| text[r.as_range()].contains('\n'))
            .collect();
        let mut run: Option<TextRange> = None;
        for token in lex(&text) {
            match token.kind {
                TokenKind::Comment | TokenKind::DocComment => {
                    run = Some(match run {
                        Some(r) => TextRange::new(r.start as usize, token.range.end as usize),
                        None => token.range,
                    });
                }
                TokenKind::Whitespace if !text[token.range.as_range()].contains("\n\n") => {}
                _ => {
                    if let Some(r) = run.take()
                        && text[r.as_range()].contains('\n')
                    {
                        out.push(r);
                    }
                }
            }
        }
        out.sort_by_key(|r| r.start);
        out
    }

    /// The signature of the built-in or function called around `offset`,
    /// and the argument the cursor is in. Where the call is comes from the
    /// tokens before the cursor; what it calls, from the semantic table.
    pub fn signature_help(&self, path: &str, offset: usize) -> Option<(String, usize)> {
        let text = self.text(path)?;
        let (callee, argument) = call_around(&text, offset)?;
        let meaning = match warden_sema::occurrence_at(self.table(path), callee.start) {
            Some(found) if found.range == callee => found.meaning.clone(),
            // A call still being typed (`count(xs` and no `)`) may not
            // parse: the text is checked once more with it closed.
            _ => {
                let closed = format!("{}){}", &text[..offset], &text[offset..]);
                let checked =
                    warden_db::check_text(self.db(), self.set(), self.file(path)?, &closed);
                let found = warden_sema::occurrence_at(&checked.occurrences, callee.start)?;
                (found.range == callee).then(|| found.meaning.clone())?
            }
        };
        let signature =
            match meaning {
                Meaning::Builtin(builtin) => builtin.doc().to_string(),
                Meaning::Function(_) => {
                    let occurrence = warden_sema::Occurrence {
                        range: callee,
                        meaning,
                        ty: None,
                    };
                    let (declared_in, at) = self.declaration_of(path, &occurrence)?;
                    // The declaration from `fn` to where its body starts.
                    let declared = self.text(&declared_in)?;
                    let body =
                        self.parse(&declared_in)?.tree().items.iter().find_map(
                            |item| match &item.kind {
                                ast::ItemKind::Fn(decl) if decl.name.range == at => {
                                    Some(decl.body.range.start as usize)
                                }
                                _ => None,
                            },
                        )?;
                    let keyword = declared[..at.start as usize].rfind("fn")?;
                    let head = declared.get(keyword..body)?;
                    head.trim_end()
                        .trim_end_matches(['{', '='])
                        .trim_end()
                        .to_string()
                }
                _ => return None,
            };
        Some((signature, argument))
    }
}

/// The name a call around `offset` is made by, and which argument the
/// cursor is in: from the tokens before the cursor.
fn call_around(text: &str, offset: usize) -> Option<(TextRange, usize)> {
    let offset = offset.min(text.len());
    let tokens: Vec<Token> = lex(&text[..offset])
        .into_iter()
        .filter(|t| !t.kind.is_trivia())
        .collect();
    let mut depth = 0usize;
    let mut commas = 0usize;
    for (i, token) in tokens.iter().enumerate().rev() {
        match token.kind {
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => depth += 1,
            TokenKind::LBracket | TokenKind::LBrace if depth > 0 => depth -= 1,
            TokenKind::LParen if depth > 0 => depth -= 1,
            TokenKind::LParen => {
                let name = tokens.get(i.checked_sub(1)?)?;
                return (name.kind == TokenKind::Ident).then_some((name.range, commas));
            }
            TokenKind::Comma if depth == 0 => commas += 1,
            _ => {}
        }
    }
    None
}
