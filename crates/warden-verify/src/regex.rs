//! A pattern as a z3 regular expression, when it translates exactly.
//!
//! The `regex` crate's `is_match` searches: a pattern matches a string when
//! it matches some part of it, so the translation is `.*P.*` unless the
//! pattern is anchored with `^`/`\A` at its start or `$`/`\z` at its end.
//! What does not translate exactly (word boundaries, anchors inside,
//! classes reaching outside printable ASCII, multi-line mode) is `None`,
//! and the caller abstracts the match.

use crate::sym::escape;
use regex_syntax::hir::{Class, Hir, HirKind, Look};
use z3::ast::Regexp;

/// The most nodes a pattern's translation may have.
const MOST_NODES: usize = 2_000;

pub(crate) fn translate(pattern: &str) -> Option<Regexp> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let mut parts: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(parts) => parts.iter().collect(),
        _ => vec![&hir],
    };
    let anchored_start = matches!(
        parts.first().map(|h| h.kind()),
        Some(HirKind::Look(Look::Start))
    );
    if anchored_start {
        parts.remove(0);
    }
    let anchored_end = matches!(
        parts.last().map(|h| h.kind()),
        Some(HirKind::Look(Look::End))
    );
    if anchored_end {
        parts.pop();
    }
    let mut budget = MOST_NODES;
    let mut pieces = Vec::new();
    if !anchored_start {
        pieces.push(Regexp::full());
    }
    for part in parts {
        pieces.push(node(part, &mut budget)?);
    }
    if !anchored_end {
        pieces.push(Regexp::full());
    }
    Some(concat(pieces))
}

fn concat(mut pieces: Vec<Regexp>) -> Regexp {
    match pieces.len() {
        0 => Regexp::literal(""),
        1 => pieces.remove(0),
        _ => Regexp::concat(&pieces),
    }
}

fn node(hir: &Hir, budget: &mut usize) -> Option<Regexp> {
    *budget = budget.checked_sub(1)?;
    Some(match hir.kind() {
        HirKind::Empty => Regexp::literal(""),
        HirKind::Literal(lit) => {
            let text = std::str::from_utf8(&lit.0).ok()?;
            Regexp::literal(&escape(text)?)
        }
        HirKind::Class(Class::Unicode(class)) => match ranges(class, budget) {
            Some(re) => re,
            // `.` or `[^a-z]`: one character, none of the complement's.
            None => {
                let mut complement = class.clone();
                complement.negate();
                let outside = ranges(&complement, budget)?;
                Regexp::intersect(&[any_char(), outside.complement()])
            }
        },
        HirKind::Class(Class::Bytes(_)) | HirKind::Look(_) => return None,
        HirKind::Repetition(rep) => {
            let inner = node(&rep.sub, budget)?;
            match (rep.min, rep.max) {
                (0, None) => inner.star(),
                (1, None) => inner.plus(),
                (0, Some(1)) => inner.option(),
                (min, Some(max)) if max <= 1_000 => inner.r#loop(min, max),
                (min, None) if min <= 1_000 => {
                    Regexp::concat(&[inner.r#loop(min, min), inner.star()])
                }
                _ => return None,
            }
        }
        HirKind::Capture(capture) => node(&capture.sub, budget)?,
        HirKind::Concat(parts) => {
            let mut pieces = Vec::with_capacity(parts.len());
            for part in parts {
                pieces.push(node(part, budget)?);
            }
            concat(pieces)
        }
        HirKind::Alternation(parts) => {
            let mut pieces = Vec::with_capacity(parts.len());
            for part in parts {
                pieces.push(node(part, budget)?);
            }
            Regexp::union(&pieces)
        }
    })
}

/// A class as a union of ranges, when each is a range of printable ASCII
/// (z3's range takes its ends as raw text) or a single character.
fn ranges(class: &regex_syntax::hir::ClassUnicode, budget: &mut usize) -> Option<Regexp> {
    let plain = |c: char| (' '..='~').contains(&c) && c != '\\';
    let mut out = Vec::new();
    for range in class.ranges() {
        *budget = budget.checked_sub(1)?;
        let (lo, hi) = (range.start(), range.end());
        if lo == hi {
            out.push(Regexp::literal(&escape(&lo.to_string())?));
        } else if plain(lo) && plain(hi) {
            out.push(Regexp::range(&lo, &hi));
        } else {
            return None;
        }
    }
    Some(match out.len() {
        0 => Regexp::empty(),
        1 => out.remove(0),
        _ => Regexp::union(&out),
    })
}

/// Exactly one character (z3 4.8 has no `re.allchar` in its C API): not
/// empty, and not two non-empty strings one after the other.
fn any_char() -> Regexp {
    let non_empty = Regexp::literal("").complement();
    Regexp::intersect(&[
        non_empty.clone(),
        Regexp::concat(&[non_empty.clone(), non_empty]).complement(),
    ])
}

#[cfg(test)]
mod tests {
    use super::translate;
    use crate::sym::str_lit;
    use z3::{SatResult, Solver};

    /// The translation matches what the `regex` crate matches, string by
    /// string (z3 decides each membership).
    #[test]
    fn translated_patterns_match_as_the_regex_crate_does() {
        let patterns = [
            "^prod-",
            "-prod$",
            "^[a-z]+@acme\\.example$",
            "v[0-9]{1,3}\\.",
            "^(https|http)://",
            "a.c",
            "^[^/]*$",
            "colou?r",
            "^(ab)+$",
            "x{2,}",
            "^$",
            "é",
        ];
        let texts = [
            "",
            "prod-a",
            "a-prod",
            "prod",
            "bob@acme.example",
            "Bob@acme.example",
            "v12.0",
            "v.1",
            "https://a",
            "http://a",
            "ftp://a",
            "abc",
            "a\nc",
            "a/b",
            "ab",
            "color",
            "colour",
            "abab",
            "aba",
            "xx",
            "x",
            "café",
            "a\\c",
        ];
        for pattern in patterns {
            let re = translate(pattern).unwrap_or_else(|| panic!("`{pattern}` translates"));
            let real = regex::Regex::new(pattern).unwrap();
            for text in texts {
                let solver = Solver::new();
                solver.assert(str_lit(text).regex_matches(&re));
                let z3_says = solver.check() == SatResult::Sat;
                assert_eq!(z3_says, real.is_match(text), "`{pattern}` on {text:?}");
            }
        }
    }

    #[test]
    fn what_does_not_translate_exactly_is_left_out() {
        for pattern in ["\\bword\\b", "a^b", "(?m)^a$", "\\d+", "\\w"] {
            assert!(translate(pattern).is_none(), "`{pattern}`");
        }
    }
}
