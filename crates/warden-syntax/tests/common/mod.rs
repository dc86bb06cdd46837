//! Shared by the oracle and property tests: the pest reference parser and a
//! generator of well-formed programs.

#![allow(dead_code, reason = "each test target uses part of this module")]

pub mod generate;

use pest::Parser;

/// The reference grammar, `grammar/warden.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/warden.pest"]
pub struct Reference;

impl Reference {
    /// Parses a whole file, for error messages.
    pub fn parse_file(text: &str) -> Result<(), Box<pest::error::Error<Rule>>> {
        Reference::parse(Rule::file, text)
            .map(|_| ())
            .map_err(Box::new)
    }
}

/// Whether the reference grammar accepts `text` as a whole file.
pub fn pest_accepts(text: &str) -> bool {
    Reference::parse(Rule::file, text).is_ok()
}

/// Whether the reference grammar accepts `text` as one expression.
pub fn pest_accepts_expr(text: &str) -> bool {
    Reference::parse(Rule::expression, text).is_ok()
}

/// Whether the production parser reports no syntax diagnostic for `text` as one expression.
pub fn production_accepts_expr(text: &str) -> bool {
    warden_syntax::parse_expr(warden_diagnostics::FileId(0), text)
        .1
        .is_empty()
}

/// Whether the production parser reports no syntax diagnostic.
pub fn production_accepts(text: &str) -> bool {
    warden_syntax::parse(warden_diagnostics::FileId(0), text)
        .diagnostics()
        .is_empty()
}
