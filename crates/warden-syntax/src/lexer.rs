//! The logos lexer. It never fails: an unknown character becomes an
//! [`TokenKind::Error`] token, and an unterminated string becomes an
//! [`TokenKind::UnterminatedStr`] token that the parser treats as a string.
//! Trivia (whitespace, comments) stays in the token table for the formatter
//! and the editor; the parser never sees it.

use logos::Logos;
use warden_diagnostics::TextRange;

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    #[regex(r"[ \t\r\n\f]+")]
    Whitespace,
    #[regex(r"///[^\n]*", allow_greedy = true)]
    DocComment,
    #[regex(r"//[^\n]*", allow_greedy = true)]
    Comment,

    // keywords
    #[token("package")]
    Package,
    #[token("import")]
    Import,
    #[token("type")]
    Type,
    #[token("target")]
    Target,
    #[token("data")]
    Data,
    #[token("rule")]
    Rule,
    #[token("on")]
    On,
    #[token("as")]
    As,
    #[token("fn")]
    Fn,
    #[token("let")]
    Let,
    #[token("deny")]
    Deny,
    #[token("allow")]
    Allow,
    #[token("warn")]
    Warn,
    #[token("when")]
    When,
    #[token("for")]
    For,
    #[token("in")]
    In,
    #[token("message")]
    Message,
    #[token("with")]
    With,
    #[token("not")]
    Not,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("if")]
    If,
    #[token("then")]
    Then,
    #[token("else")]
    Else,
    #[token("all")]
    All,
    #[token("any")]
    Any,
    #[token("has")]
    Has,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("none")]
    None,
    #[token("matches")]
    Matches,
    #[token("default")]
    Default,
    #[token("schema")]
    Schema,
    #[token("waiver")]
    Waiver,
    #[token("test")]
    Test,
    #[token("given")]
    Given,
    #[token("at")]
    At,
    #[token("expect")]
    Expect,

    // literals
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    #[regex(r"[0-9][0-9_]*")]
    Int,
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*")]
    Float,
    #[regex(r"([0-9]+(ms|w|d|h|m|s))+")]
    Duration,
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")]
    Date,
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})")]
    DateTime,
    #[regex(r#""([^"\\\n]|\\[^\n])*""#)]
    Str,
    #[regex(r#"r"[^"\n]*""#)]
    RawStr,
    #[regex(r#""([^"\\\n]|\\[^\n])*\\?"#)]
    UnterminatedStr,

    // punctuation
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<=")]
    LtEq,
    #[token(">=")]
    GtEq,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("=")]
    Eq,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("...")]
    Ellipsis,
    #[token("?.")]
    QuestionDot,
    #[token("??")]
    QuestionQuestion,
    #[token("?")]
    Question,
    #[token("@")]
    At_,
    #[token("|")]
    Pipe,
    #[token("->")]
    Arrow,
    #[token("&&")]
    AmpAmp,
    #[token("||")]
    PipePipe,
    #[token("!")]
    Bang,

    /// A character that starts no token.
    Error,
}

impl TokenKind {
    /// Whitespace and comments: kept in the token table, hidden from the parser.
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            TokenKind::Whitespace | TokenKind::Comment | TokenKind::DocComment
        )
    }

    pub fn is_keyword(self) -> bool {
        KEYWORDS.iter().any(|(_, k)| *k == self)
    }

    /// How the token reads in a message: keywords and punctuation in backticks.
    pub fn describe(self) -> &'static str {
        use TokenKind::*;
        match self {
            Whitespace => "whitespace",
            DocComment | Comment => "a comment",
            Ident => "a name",
            Int => "an integer",
            Float => "a number",
            Duration => "a duration",
            Date | DateTime => "a time",
            Str | RawStr | UnterminatedStr => "a string",
            Error => "an invalid character",
            _ => TOKEN_TEXTS
                .iter()
                .find(|(_, k)| *k == self)
                .map_or("a token", |(t, _)| t),
        }
    }
}

/// Keywords and their token kinds (also used by completion and the highlighter).
pub const KEYWORDS: &[(&str, TokenKind)] = &[
    ("package", TokenKind::Package),
    ("import", TokenKind::Import),
    ("type", TokenKind::Type),
    ("target", TokenKind::Target),
    ("data", TokenKind::Data),
    ("rule", TokenKind::Rule),
    ("on", TokenKind::On),
    ("as", TokenKind::As),
    ("fn", TokenKind::Fn),
    ("let", TokenKind::Let),
    ("deny", TokenKind::Deny),
    ("allow", TokenKind::Allow),
    ("warn", TokenKind::Warn),
    ("when", TokenKind::When),
    ("for", TokenKind::For),
    ("in", TokenKind::In),
    ("message", TokenKind::Message),
    ("with", TokenKind::With),
    ("not", TokenKind::Not),
    ("and", TokenKind::And),
    ("or", TokenKind::Or),
    ("if", TokenKind::If),
    ("then", TokenKind::Then),
    ("else", TokenKind::Else),
    ("all", TokenKind::All),
    ("any", TokenKind::Any),
    ("has", TokenKind::Has),
    ("true", TokenKind::True),
    ("false", TokenKind::False),
    ("none", TokenKind::None),
    ("matches", TokenKind::Matches),
    ("default", TokenKind::Default),
    ("schema", TokenKind::Schema),
    ("waiver", TokenKind::Waiver),
    ("test", TokenKind::Test),
    ("given", TokenKind::Given),
    ("at", TokenKind::At),
    ("expect", TokenKind::Expect),
];

const TOKEN_TEXTS: &[(&str, TokenKind)] = &[
    ("`package`", TokenKind::Package),
    ("`import`", TokenKind::Import),
    ("`type`", TokenKind::Type),
    ("`target`", TokenKind::Target),
    ("`data`", TokenKind::Data),
    ("`rule`", TokenKind::Rule),
    ("`on`", TokenKind::On),
    ("`as`", TokenKind::As),
    ("`fn`", TokenKind::Fn),
    ("`let`", TokenKind::Let),
    ("`deny`", TokenKind::Deny),
    ("`allow`", TokenKind::Allow),
    ("`warn`", TokenKind::Warn),
    ("`when`", TokenKind::When),
    ("`for`", TokenKind::For),
    ("`in`", TokenKind::In),
    ("`message`", TokenKind::Message),
    ("`with`", TokenKind::With),
    ("`not`", TokenKind::Not),
    ("`and`", TokenKind::And),
    ("`or`", TokenKind::Or),
    ("`if`", TokenKind::If),
    ("`then`", TokenKind::Then),
    ("`else`", TokenKind::Else),
    ("`all`", TokenKind::All),
    ("`any`", TokenKind::Any),
    ("`has`", TokenKind::Has),
    ("`true`", TokenKind::True),
    ("`false`", TokenKind::False),
    ("`none`", TokenKind::None),
    ("`matches`", TokenKind::Matches),
    ("`default`", TokenKind::Default),
    ("`schema`", TokenKind::Schema),
    ("`waiver`", TokenKind::Waiver),
    ("`test`", TokenKind::Test),
    ("`given`", TokenKind::Given),
    ("`at`", TokenKind::At),
    ("`expect`", TokenKind::Expect),
    ("`==`", TokenKind::EqEq),
    ("`!=`", TokenKind::NotEq),
    ("`<=`", TokenKind::LtEq),
    ("`>=`", TokenKind::GtEq),
    ("`<`", TokenKind::Lt),
    ("`>`", TokenKind::Gt),
    ("`=`", TokenKind::Eq),
    ("`+`", TokenKind::Plus),
    ("`-`", TokenKind::Minus),
    ("`*`", TokenKind::Star),
    ("`/`", TokenKind::Slash),
    ("`%`", TokenKind::Percent),
    ("`(`", TokenKind::LParen),
    ("`)`", TokenKind::RParen),
    ("`[`", TokenKind::LBracket),
    ("`]`", TokenKind::RBracket),
    ("`{`", TokenKind::LBrace),
    ("`}`", TokenKind::RBrace),
    ("`,`", TokenKind::Comma),
    ("`:`", TokenKind::Colon),
    ("`.`", TokenKind::Dot),
    ("`...`", TokenKind::Ellipsis),
    ("`?.`", TokenKind::QuestionDot),
    ("`??`", TokenKind::QuestionQuestion),
    ("`?`", TokenKind::Question),
    ("`@`", TokenKind::At_),
    ("`|`", TokenKind::Pipe),
    ("`->`", TokenKind::Arrow),
    ("`&&`", TokenKind::AmpAmp),
    ("`||`", TokenKind::PipePipe),
    ("`!`", TokenKind::Bang),
];

/// One token: its kind and where it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub range: TextRange,
}

/// Splits `text` into tokens, trivia included. The ranges tile the text exactly.
///
/// A string right after `message` is a template: string literals inside its
/// `{…}` interpolations may hold quotes (`"hi {x ?? "nobody"}"`), so its end
/// is found by [`scan_template`] and lexing resumes after it.
pub fn lex(text: &str) -> Vec<Token> {
    // Unoptimized builds of the generated lexer recurse once per character of
    // a long non-ASCII token (a pasted paragraph in a comment): give them room.
    if cfg!(debug_assertions) && text.len() > 16 * 1024 {
        return stacker::grow(text.len() * 512, || lex_tokens(text));
    }
    lex_tokens(text)
}

fn lex_tokens(text: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut base = 0;
    'restart: loop {
        let mut lexer = TokenKind::lexer(&text[base..]);
        while let Some(result) = lexer.next() {
            let span = lexer.span();
            let (start, end) = (base + span.start, base + span.end);
            let kind = result.unwrap_or(TokenKind::Error);
            if matches!(kind, TokenKind::Str | TokenKind::UnterminatedStr)
                && previous_significant(&tokens) == Some(TokenKind::Message)
            {
                let (template_end, terminated) = scan_template(text, start);
                let kind = if terminated {
                    TokenKind::Str
                } else {
                    TokenKind::UnterminatedStr
                };
                tokens.push(Token {
                    kind,
                    range: TextRange::new(start, template_end),
                });
                if template_end != end {
                    base = template_end;
                    continue 'restart;
                }
                continue;
            }
            // Merge runs of invalid characters into one error token.
            if kind == TokenKind::Error
                && let Some(last) = tokens.last_mut()
                && last.kind == TokenKind::Error
                && last.range.end as usize == start
            {
                last.range.end = end as u32;
                continue;
            }
            tokens.push(Token {
                kind,
                range: TextRange::new(start, end),
            });
        }
        return tokens;
    }
}

fn previous_significant(tokens: &[Token]) -> Option<TokenKind> {
    tokens.iter().rev().map(|t| t.kind).find(|k| !k.is_trivia())
}

/// The end of the template string starting at `start` (a `"`), and whether it
/// is closed. Inside `{…}`, nested string literals are skipped whole.
pub fn scan_template(text: &str, start: usize) -> (usize, bool) {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    let mut depth = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' => return (i, false),
            b'"' if depth == 0 => return (i + 1, true),
            b'"' => {
                // A string inside an interpolation; if it never closes, this quote
                // was the template's end after all (and a `{` was left open).
                let quote = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() || bytes[i] == b'\n' {
                    return (quote + 1, true);
                }
                i += 1;
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    (bytes.len(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(text)
            .into_iter()
            .filter(|t| !t.kind.is_trivia())
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn literals_take_the_longest_match() {
        use TokenKind::*;
        assert_eq!(
            kinds("90d 1h30m 12 1.5 2027-03-01 2026-06-01T00:00:00Z"),
            vec![Duration, Duration, Int, Float, Date, DateTime]
        );
        assert_eq!(
            kinds(r#"a?.b ?? c? "x\"y" r"\d+""#),
            vec![
                Ident,
                QuestionDot,
                Ident,
                QuestionQuestion,
                Ident,
                Question,
                Str,
                RawStr
            ]
        );
        assert_eq!(kinds("deny denying"), vec![Deny, Ident]);
    }

    #[test]
    fn errors_and_open_strings_are_tokens() {
        use TokenKind::*;
        assert_eq!(kinds("a $$ b"), vec![Ident, Error, Ident]);
        assert_eq!(kinds("\"never ends\nx"), vec![UnterminatedStr, Ident]);
    }

    #[test]
    fn message_templates_may_nest_strings() {
        use TokenKind::*;
        let text = r##"message "by {a ?? "nobody"} at {b}" deny "x{" ""##;
        assert_eq!(kinds(text), vec![Message, Str, Deny, Str, UnterminatedStr]);
    }

    #[test]
    fn tokens_tile_the_text() {
        let text = "rule r on m { /// doc\n deny when x == \"a\" } $ \"open";
        let tokens = lex(text);
        let joined: String = tokens.iter().map(|t| &text[t.range.as_range()]).collect();
        assert_eq!(joined, text);
    }
}
