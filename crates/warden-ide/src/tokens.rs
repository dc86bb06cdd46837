//! Features read from a file's tokens: semantic highlighting, folding,
//! signature help, and the occurrences of a declared name (references,
//! rename).

use crate::names::Context;
use warden_diagnostics::TextRange;
use warden_ir::Builtin;
use warden_syntax::ast::ItemKind;
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
}

/// The highlighted tokens of a file, in order.
pub fn highlights(cx: &Context<'_>, text: &str) -> Vec<(TextRange, Highlight)> {
    let tokens = lex(text);
    let significant: Vec<&Token> = tokens.iter().filter(|t| !t.kind.is_trivia()).collect();
    // Each token's place among the significant ones (trivia have none).
    let mut place: Vec<Option<usize>> = Vec::with_capacity(tokens.len());
    let mut next = 0;
    for token in &tokens {
        if token.kind.is_trivia() {
            place.push(None);
        } else {
            place.push(Some(next));
            next += 1;
        }
    }
    let declared_types: std::collections::HashSet<&str> = cx
        .files
        .values()
        .flat_map(|f| f.items.iter())
        .filter_map(|item| match &item.kind {
            ItemKind::Type(t) => Some(t.name.text.as_str()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for (token, &position) in tokens.iter().zip(&place) {
        let highlight = match token.kind {
            TokenKind::Comment | TokenKind::DocComment => Highlight::Comment,
            TokenKind::Str | TokenKind::RawStr | TokenKind::UnterminatedStr => Highlight::String,
            TokenKind::Int
            | TokenKind::Float
            | TokenKind::Duration
            | TokenKind::Date
            | TokenKind::DateTime => Highlight::Number,
            kind if kind.is_keyword() => Highlight::Keyword,
            TokenKind::Ident => {
                let word = &text[token.range.as_range()];
                let before = position
                    .and_then(|p| p.checked_sub(1))
                    .map(|p| significant[p].kind);
                let after = position
                    .and_then(|p| significant.get(p + 1))
                    .map(|t| t.kind);
                if matches!(before, Some(TokenKind::Dot | TokenKind::QuestionDot)) {
                    Highlight::Property
                } else if after == Some(TokenKind::LParen) {
                    Highlight::Function
                } else if declared_types.contains(&word)
                    || matches!(
                        word,
                        "string" | "int" | "float" | "bool" | "time" | "duration" | "any"
                    )
                {
                    Highlight::Type
                } else {
                    Highlight::Variable
                }
            }
            TokenKind::Whitespace => continue,
            _ => Highlight::Operator,
        };
        out.push((token.range, highlight));
    }
    out
}

/// Ranges worth folding: multi-line declarations, and runs of comments.
pub fn folds(cx: &Context<'_>, path: &str, text: &str) -> Vec<TextRange> {
    let mut out: Vec<TextRange> = cx
        .files
        .get(path)
        .map(|file| {
            file.items
                .iter()
                .map(|item| item.range)
                .filter(|r| text[r.as_range()].contains('\n'))
                .collect()
        })
        .unwrap_or_default();
    let mut run: Option<TextRange> = None;
    for token in lex(text) {
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

/// The built-in being called around `offset`, and which argument the cursor is in.
pub fn signature(text: &str, offset: usize) -> Option<(Builtin, usize)> {
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
                return Builtin::from_name(&text[name.range.as_range()]).map(|b| (b, commas));
            }
            TokenKind::Comma if depth == 0 => commas += 1,
            _ => {}
        }
    }
    None
}

/// Every identifier token spelled `name` in `text`.
pub fn occurrences(text: &str, name: &str) -> Vec<TextRange> {
    let mut out = Vec::new();
    collect_names(text, 0, name, &mut out);
    out
}

/// The identifiers equal to `name` in `text` (which starts at byte `base`
/// of the file), those inside `{…}` of message strings included.
fn collect_names(text: &str, base: usize, name: &str, out: &mut Vec<TextRange>) {
    for token in lex(text) {
        let range = token.range.as_range();
        match token.kind {
            TokenKind::Ident if &text[range.clone()] == name => {
                out.push(TextRange::new(base + range.start, base + range.end))
            }
            TokenKind::Str | TokenKind::UnterminatedStr => {
                for inner in interpolations(&text[range.clone()]) {
                    let start = range.start + inner.start;
                    collect_names(
                        &text[start..range.start + inner.end],
                        base + start,
                        name,
                        out,
                    );
                }
            }
            _ => {}
        }
    }
}

/// The byte ranges of the `{…}` expressions inside a string token.
fn interpolations(string: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = string.as_bytes();
    let mut out = Vec::new();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => {
                let start = i + 1;
                let (mut depth, mut in_string) = (1, false);
                let mut j = start;
                while j < bytes.len() && depth > 0 {
                    match bytes[j] {
                        b'"' => in_string = !in_string,
                        b'{' if !in_string => depth += 1,
                        b'}' if !in_string => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                out.push(start..if depth == 0 { j - 1 } else { j });
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}
