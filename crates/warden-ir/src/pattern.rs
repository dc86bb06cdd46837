//! Regular expressions as policies use them: compiled within a size bound,
//! shared when the same pattern is written twice, and weighed by how much
//! work matching one byte can cost, so the evaluator charges for it.
//!
//! The `regex` crate matches in time linear in the text, but the factor is
//! the size of the pattern's automaton when its lazy DFA gives up (counted
//! repetitions such as `[ab]*a[ab]{4000}` make it give up): a pattern's
//! weight estimates that size from its syntax tree, without compiling it.

use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind};
use std::cell::RefCell;

/// The heaviest pattern accepted (about this many automaton states).
pub const MAX_PATTERN_WEIGHT: u64 = 10_000;

/// The largest compiled pattern, in bytes.
const COMPILED_SIZE_LIMIT: usize = 1 << 20;

/// Why a pattern is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternError {
    /// It does not parse or compile; the `regex` crate's explanation.
    Invalid(String),
    /// It parses, but expands to more states than [`MAX_PATTERN_WEIGHT`].
    TooHeavy(u64),
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::Invalid(why) => f.write_str(why),
            PatternError::TooHeavy(weight) => write!(
                f,
                "it expands to about {weight} automaton states, more than the limit of \
                 {MAX_PATTERN_WEIGHT}: write it with fewer or smaller counted repetitions"
            ),
        }
    }
}

/// A compiled pattern and its weight.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub regex: Regex,
    /// About how many automaton states matching may visit per byte of text.
    pub weight: u64,
}

/// The most weight one thread keeps compiled: a compiled pattern takes
/// about 300 bytes per unit of weight, so about 30 MB a thread.
const CACHE_WEIGHT: u64 = 100_000;

/// Compiles `pattern`, or finds it compiled before on this thread. The
/// cache is bounded by the weight it holds, not by its count: patterns
/// computed from inputs must not pile up compiled automata.
pub fn compile_pattern(pattern: &str) -> Result<Pattern, PatternError> {
    type Compiled = Result<Pattern, PatternError>;
    #[derive(Default)]
    struct Cache {
        compiled: rustc_hash::FxHashMap<String, Compiled>,
        weight: u64,
    }
    thread_local! {
        // Failures are kept too: a refused pattern is refused fast the second time.
        static CACHE: RefCell<Cache> = RefCell::default();
    }
    if let Some(found) = CACHE.with(|c| c.borrow().compiled.get(pattern).cloned()) {
        return found;
    }
    let compiled = compile_uncached(pattern);
    let weight = compiled.as_ref().map_or(1, |p| p.weight.max(1));
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.weight + weight > CACHE_WEIGHT || cache.compiled.len() >= 1024 {
            cache.compiled.clear();
            cache.weight = 0;
        }
        if weight <= CACHE_WEIGHT {
            cache.weight += weight;
            cache.compiled.insert(pattern.to_string(), compiled.clone());
        }
    });
    compiled
}

/// The weight of `pattern` without compiling it; `utf8: false` for a
/// pattern over bytes (as `globset` writes them).
pub fn pattern_weight(pattern: &str, utf8: bool) -> Result<u64, PatternError> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(utf8)
        .build()
        .parse(pattern)
        .map_err(|e| PatternError::Invalid(e.to_string()))?;
    match weigh(&hir) {
        weight if weight > MAX_PATTERN_WEIGHT => Err(PatternError::TooHeavy(weight)),
        weight => Ok(weight),
    }
}

fn compile_uncached(pattern: &str) -> Result<Pattern, PatternError> {
    let invalid = |e: &dyn std::fmt::Display| {
        let text = e.to_string();
        PatternError::Invalid(
            text.lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("error: "))
                .unwrap_or(text.lines().last().unwrap_or_default().trim())
                .to_string(),
        )
    };
    let hir = regex_syntax::parse(pattern).map_err(|e| invalid(&e))?;
    let weight = weigh(&hir);
    if weight > MAX_PATTERN_WEIGHT {
        return Err(PatternError::TooHeavy(weight));
    }
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(COMPILED_SIZE_LIMIT)
        .build()
        .map_err(|e| invalid(&e))?;
    Ok(Pattern { regex, weight })
}

/// About how many automaton states `hir` compiles to: counted repetitions
/// multiply, and a class costs by its ranges (a Unicode class becomes a
/// tree of UTF-8 byte ranges). Saturating, so no pattern overflows it.
fn weigh(hir: &Hir) -> u64 {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 1,
        HirKind::Literal(literal) => literal.0.len() as u64,
        HirKind::Class(Class::Unicode(class)) => 1 + class.ranges().len() as u64 / 4,
        HirKind::Class(Class::Bytes(class)) => 1 + class.ranges().len() as u64 / 16,
        HirKind::Repetition(repetition) => {
            let copies = repetition
                .max
                .unwrap_or(repetition.min.saturating_add(1))
                .max(1);
            weigh(&repetition.sub).saturating_mul(u64::from(copies))
        }
        HirKind::Capture(capture) => weigh(&capture.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            parts.iter().map(weigh).fold(0u64, u64::saturating_add)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_repetitions_weigh_what_they_expand_to() {
        let light = compile_pattern(r"^[a-z0-9-]+\.example\.com$").unwrap();
        assert!(light.weight < 40, "{}", light.weight);
        let heavy = compile_pattern(r"^(?:[ab]*a[ab]{4000})*$").unwrap();
        assert!(heavy.weight > 4_000, "{}", heavy.weight);
        assert!(matches!(
            compile_pattern(r"\w{150}"),
            Err(PatternError::TooHeavy(_))
        ));
        assert!(matches!(
            compile_pattern(r"(a{1000}){1000}"),
            Err(PatternError::TooHeavy(_))
        ));
        assert!(matches!(
            compile_pattern("(a"),
            Err(PatternError::Invalid(_))
        ));
    }
}
