//! glob_match (`globset`).

use super::cost::{compile_and_match_cost, text_at};
use super::types::strings;
use super::{CallContext, CallResult, category, str_arg};
use crate::{Ty, Value};

category! { GlobFn "glob" {
    GlobMatch = "glob_match"(2): "glob_match(pattern: string, s: string) -> bool: `*`, `?`, `[ab]`, `**`",
}}

impl GlobFn {
    pub(super) fn check(self, args: &[Ty]) -> Result<Ty, String> {
        strings(self.name(), args)?;
        Ok(Ty::Bool)
    }

    /// The pattern is compiled to a regular expression on every call, and
    /// matched like one.
    pub(super) fn cost(self, args: &[Value], _types: &crate::TypeTable, _limit: u64) -> u64 {
        let weight = glob_weight(text_at(args, 0)).unwrap_or(0);
        compile_and_match_cost(text_at(args, 0), weight, text_at(args, 1))
    }

    pub(super) fn call(self, args: &[Value], _: &CallContext<'_>) -> CallResult {
        match self {
            GlobFn::GlobMatch => {
                let (pattern, s) = (str_arg(args, 0)?, str_arg(args, 1)?);
                // `*` stays within one path segment; `**` crosses segments.
                let glob = glob(pattern)?;
                glob_weight(pattern)?;
                Ok(Value::Bool(glob.compile_matcher().is_match(s)))
            }
        }
    }
}

fn glob(pattern: &str) -> Result<globset::Glob, String> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("invalid glob `{pattern}`: {e}"))
}

/// The weight of the regular expression a glob compiles to
/// ([`crate::pattern_weight`]), or why it is refused: `?` repeated
/// thousands of times is as costly to match as a counted repetition.
fn glob_weight(pattern: &str) -> Result<u64, String> {
    crate::pattern_weight(glob(pattern)?.regex(), false)
        .map_err(|e| format!("invalid glob `{pattern}`: {e}"))
}
