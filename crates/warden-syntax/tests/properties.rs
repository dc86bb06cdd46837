//! Property tests of the syntax layer:
//! - parsing never panics on any input, and every span lies inside the text;
//! - a generated tree prints to a program that parses cleanly and prints the same again;
//! - the reference grammar agrees with the production parser on generated programs
//!   and on programs mutated token by token (deleted, repeated, swapped, replaced).

mod common;

use proptest::prelude::*;
use warden_diagnostics::FileId;
use warden_syntax::lexer::{TokenKind, lex};
use warden_syntax::print::print_file;

/// Snippets that make random input look like Warden often enough to go deep.
const VOCABULARY: &[&str] = &[
    "package",
    "p",
    "rule",
    "r",
    "on",
    "manifest",
    "as",
    "app",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "deny",
    "allow",
    "when",
    "for",
    "in",
    "message",
    "\"m {app.x}\"",
    "with",
    "k",
    "=",
    "==",
    "!=",
    "and",
    "or",
    "not",
    "all",
    "any",
    ":",
    ",",
    ".",
    "?.",
    "??",
    "x",
    "1",
    "2.5",
    "90d",
    "2026-01-01",
    "\"s\"",
    "r\"re\"",
    "type",
    "T",
    "target",
    "data",
    "fn",
    "->",
    "let",
    "if",
    "then",
    "else",
    "has",
    "none",
    "true",
    "@",
    "severity",
    "waiver",
    "test",
    "given",
    "expect",
    "at",
    "\n",
    " ",
    "//c\n",
    "|",
    "?",
    "...",
    "+",
    "-",
    "*",
    "<",
    ">=",
    "matches",
    "\"open",
    "$",
    "&&",
    "!",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 0..60).prop_map(|parts| parts.join(" "))
}

fn check_spans(text: &str) {
    let parse = warden_syntax::parse(FileId(0), text);
    let joined: String = parse
        .tokens()
        .iter()
        .map(|t| &text[t.range.as_range()])
        .collect();
    assert_eq!(joined, text, "tokens must tile the text");
    for d in parse.diagnostics() {
        let r = d.primary.span.range;
        assert!(
            r.start <= r.end && r.end as usize <= text.len(),
            "diagnostic span {r:?} outside the text"
        );
        assert!(
            text.is_char_boundary(r.start as usize) && text.is_char_boundary(r.end as usize),
            "span splits a character"
        );
    }
}

/// The number of cases: the default, or `PROPTEST_CASES` for a longer, fuzz-like run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn parsing_any_string_never_panics(text in "\\PC{0,200}") {
        check_spans(&text);
    }

    #[test]
    fn parsing_token_soup_never_panics(text in soup()) {
        check_spans(&text);
    }

    #[test]
    fn reference_grammar_agrees_on_token_soup(text in soup()) {
        prop_assert_eq!(common::pest_accepts(&text), common::production_accepts(&text), "on {:?}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn printed_trees_parse_cleanly_and_print_the_same(file in common::generate::file()) {
        let printed = print_file(&file);
        let parse = warden_syntax::parse(FileId(0), &printed);
        prop_assert!(parse.diagnostics().is_empty(), "{printed}\n{:#?}", parse.diagnostics());
        prop_assert_eq!(print_file(parse.tree()), printed.clone());
        prop_assert!(common::pest_accepts(&printed), "pest rejects:\n{printed}");
    }

    #[test]
    fn reference_grammar_agrees_on_mutated_programs(
        file in common::generate::file(),
        mutations in prop::collection::vec((0usize..4, any::<prop::sample::Index>(), any::<prop::sample::Index>(), prop::sample::select(VOCABULARY)), 1..3),
    ) {
        let printed = print_file(&file);
        let mut pieces: Vec<String> = lex(&printed).iter().map(|t| printed[t.range.as_range()].to_string()).collect();
        for (kind, a, b, word) in mutations {
            if pieces.is_empty() {
                break;
            }
            let (i, j) = (a.index(pieces.len()), b.index(pieces.len()));
            match kind {
                0 => { pieces.remove(i); }
                1 => { let p = pieces[i].clone(); pieces.insert(i, p); }
                2 => pieces.swap(i, j),
                _ => pieces[i] = format!(" {word} "),
            }
        }
        let text: String = pieces.concat();
        prop_assert_eq!(common::pest_accepts(&text), common::production_accepts(&text), "on:\n{}", text);
    }
}

/// `// c…` comments in `text`, in order.
fn comments(text: &str) -> Vec<String> {
    lex(text)
        .iter()
        .filter(|t| {
            matches!(
                t.kind,
                warden_syntax::lexer::TokenKind::Comment
                    | warden_syntax::lexer::TokenKind::DocComment
            )
        })
        .map(|t| text[t.range.as_range()].trim_end().to_string())
        .collect()
}

/// What `warden fmt` promises: it succeeds on a file without syntax errors,
/// keeps every comment, never changes the tree (compared through the
/// canonical printer, which ignores only positions and redundant
/// parentheses), and a second run changes nothing.
fn check_format(text: &str) -> Result<(), TestCaseError> {
    let formatted = warden_syntax::format_source(text)
        .map_err(|d| TestCaseError::fail(format!("fmt refused:\n{text}\n{d:#?}")))?;
    let before = warden_syntax::parse(FileId(0), text);
    let after = warden_syntax::parse(FileId(0), &formatted);
    prop_assert!(
        after.diagnostics().is_empty(),
        "fmt output does not parse:\n{formatted}\n{:#?}",
        after.diagnostics()
    );
    prop_assert_eq!(
        print_file(after.tree()),
        print_file(before.tree()),
        "the tree changed:\n{}\n---\n{}",
        text,
        formatted
    );
    let mut kept = comments(&formatted);
    let mut original = comments(text);
    kept.sort();
    original.sort();
    prop_assert_eq!(
        kept,
        original,
        "comments changed:\n{}\n---\n{}",
        text,
        formatted
    );
    let again = warden_syntax::format_source(&formatted).expect("formatted text formats");
    prop_assert_eq!(again, formatted.clone(), "not idempotent:\n{}", formatted);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn fmt_keeps_comments_and_the_tree_and_is_idempotent(
        file in common::generate::file(),
        notes in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 0..6),
    ) {
        let printed = print_file(&file);
        let mut lines: Vec<String> = printed.lines().map(str::to_string).collect();
        for (n, (at, own_line)) in notes.into_iter().enumerate() {
            if lines.is_empty() {
                break;
            }
            let i = at.index(lines.len());
            if own_line {
                lines.insert(i, format!("// note {n}"));
            } else {
                lines[i].push_str(&format!(" // note {n}"));
            }
        }
        check_format(&(lines.join("\n") + "\n"))?;
    }
}

#[test]
fn fmt_holds_its_promises_on_every_policy_in_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    let mut stack = vec![root.join("tests"), root.join("examples")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "warden") {
                files.push(path);
            }
        }
    }
    let mut formatted = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        if warden_syntax::parse(FileId(0), &text)
            .diagnostics()
            .iter()
            .any(|d| d.is_error())
        {
            continue; // a file with syntax errors is not formatted
        }
        check_format(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        formatted += 1;
    }
    assert!(formatted > 40, "only {formatted} files formatted");
}

#[test]
fn the_lexer_classifies_keywords() {
    assert_eq!(lex("rule")[0].kind, TokenKind::Rule);
}

#[test]
fn fmt_keeps_a_file_header_comment_apart_from_the_package_line() {
    let text = "// Copyright Acme. The team's policies.\n\npackage acme\n\n// Imports.\nrule r on manifest as m {\n  deny when true\n}\n";
    let formatted = warden_syntax::format_source(text).unwrap();
    assert!(
        formatted.starts_with("// Copyright Acme. The team's policies.\n\npackage acme\n"),
        "{formatted}"
    );
    // Without the blank line, none is added.
    let tight = "// Header.\npackage acme\n";
    assert_eq!(warden_syntax::format_source(tight).unwrap(), tight);
    check_format(text).unwrap();
}

#[test]
fn an_unclosed_brace_points_at_the_declaration_it_runs_into() {
    let text = "package p\nrule first on manifest as app {\n  deny when app.ok\n\nrule second on manifest as app {\n  deny when app.x == 1\n}\n";
    let parse = warden_syntax::parse(FileId(0), text);
    let unclosed = parse
        .diagnostics()
        .iter()
        .find(|d| d.code == warden_diagnostics::Code::E0007)
        .expect("E0007");
    let before = &unclosed.secondary[0];
    assert_eq!(&text[before.span.range.as_range()], "rule");
    assert_eq!(before.message, "expected `}` before this");
}
