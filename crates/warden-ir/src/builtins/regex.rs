//! regex_match, regex_find: patterns computed at run time (a literal
//! pattern is `s matches r"…"`, compiled once).

use super::cost::{regex_cost, text_at};
use super::types::strings;
use super::{CallContext, CallResult, category, opt_str, str_arg};
use crate::{Ty, Value};

category! { RegexFn "regex" {
    RegexMatch = "regex_match"(2): "regex_match(s: string, pattern: string) -> bool: `pattern` may be computed",
    RegexFind = "regex_find"(2): "regex_find(s: string, pattern: string) -> string?: the first match",
}}

impl RegexFn {
    pub(super) fn check(self, args: &[Ty]) -> Result<Ty, String> {
        strings(self.name(), args)?;
        Ok(match self {
            RegexFn::RegexMatch => Ty::Bool,
            RegexFn::RegexFind => Ty::String.optional(),
        })
    }

    /// Compiling the pattern is paid every time, so cached or not costs the same.
    pub(super) fn cost(self, args: &[Value], _types: &crate::TypeTable, _limit: u64) -> u64 {
        regex_cost(text_at(args, 1), text_at(args, 0))
    }

    pub(super) fn call(self, args: &[Value], _: &CallContext<'_>) -> CallResult {
        let pattern = compiled(str_arg(args, 1)?)?;
        let text = str_arg(args, 0)?;
        Ok(match self {
            RegexFn::RegexMatch => Value::Bool(pattern.is_match(text)),
            RegexFn::RegexFind => opt_str(pattern.find(text).map(|m| m.as_str())),
        })
    }
}

/// A pattern computed at run time, bounded in size and weight (a pattern
/// too costly is an error, so the decision fails closed). Its cost in
/// steps is charged by `regex_cost`.
pub fn compiled(pattern: &str) -> Result<::regex::Regex, String> {
    crate::compile_pattern(pattern)
        .map(|p| p.regex)
        .map_err(|e| format!("invalid regular expression `{pattern}`: {e}"))
}
