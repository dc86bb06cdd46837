//! lower, upper, trim, starts_with, ends_with, contains, replace, split, join,
//! to_string.

use super::cost::{CASE_BYTES_PER_STEP, STRING_BYTES_PER_STEP, deep_size, scan, text_at, walked};
use super::types::{is_stringy, strings};
use super::{CallContext, CallResult, category, str_arg};
use crate::{Ty, Value};
use std::sync::Arc;

category! { StringFn "strings" {
    Lower = "lower"(1): "lower(s: string) -> string",
    Upper = "upper"(1): "upper(s: string) -> string",
    Trim = "trim"(1): "trim(s: string) -> string: without leading and trailing white space",
    StartsWith = "starts_with"(2): "starts_with(s: string, prefix: string) -> bool",
    EndsWith = "ends_with"(2): "ends_with(s: string, suffix: string) -> bool",
    Contains = "contains"(2): "contains(s: string, part: string) -> bool",
    Replace = "replace"(3): "replace(s: string, from: string, to: string) -> string",
    Split = "split"(2): "split(s: string, separator: string) -> [string]",
    Join = "join"(2): "join(parts: [string], separator: string) -> string",
    ToString = "to_string"(1) total: "to_string(x: any) -> string: as it would read in a message",
}}

impl StringFn {
    pub(super) fn check(self, args: &[Ty]) -> Result<Ty, String> {
        Ok(match self {
            StringFn::Lower | StringFn::Upper | StringFn::Trim | StringFn::Replace => {
                strings(self.name(), args)?;
                Ty::String
            }
            StringFn::StartsWith | StringFn::EndsWith | StringFn::Contains => {
                strings(self.name(), args)?;
                Ty::Bool
            }
            StringFn::Split => {
                strings(self.name(), args)?;
                Ty::List(Box::new(Ty::String))
            }
            StringFn::Join => {
                if !matches!(&args[0], Ty::List(inner) if is_stringy(inner) || matches!(**inner, Ty::Never))
                    && !matches!(args[0], Ty::Any | Ty::Error)
                {
                    return Err("argument 1 of `join` must be a list of strings".into());
                }
                if !is_stringy(&args[1]) {
                    return Err("argument 2 of `join` must be a string".into());
                }
                Ty::String
            }
            StringFn::ToString => Ty::String,
        })
    }

    /// A case change reads every byte; what a call builds is paid before
    /// it is built.
    pub(super) fn cost(self, args: &[Value], types: &crate::TypeTable, limit: u64) -> u64 {
        let walked = walked(args);
        let text = |i: usize| text_at(args, i).len();
        match self {
            StringFn::Lower | StringFn::Upper => scan(text(0), CASE_BYTES_PER_STEP),
            // One piece per separator at most, each a new string.
            StringFn::Split => walked + (text(0) / text(1).max(1)) as u64,
            StringFn::ToString => args.first().map_or(0, |v| deep_size(types, v, limit)),
            StringFn::Replace => match args {
                [Value::Str(s), Value::Str(from), Value::Str(to)] => {
                    let pieces = if from.is_empty() {
                        s.len() + 1
                    } else {
                        s.len() / from.len()
                    };
                    walked + ((s.len() + pieces * to.len()) / STRING_BYTES_PER_STEP) as u64
                }
                _ => walked,
            },
            StringFn::Join => match args.first() {
                Some(Value::List(items)) => {
                    let separator = text(1);
                    let bytes: usize = items
                        .iter()
                        .map(|v| v.as_str().map_or(8, str::len) + separator)
                        .sum();
                    // Values other than strings are rendered, all the way down.
                    let rendered: u64 = items
                        .iter()
                        .filter(|v| v.as_str().is_none())
                        .map(|v| deep_size(types, v, limit))
                        .sum();
                    walked + rendered + (bytes / STRING_BYTES_PER_STEP) as u64
                }
                _ => walked,
            },
            _ => walked,
        }
    }

    pub(super) fn call(self, args: &[Value], cx: &CallContext<'_>) -> CallResult {
        Ok(match self {
            StringFn::Lower => Value::str(&str_arg(args, 0)?.to_lowercase()),
            StringFn::Upper => Value::str(&str_arg(args, 0)?.to_uppercase()),
            StringFn::Trim => Value::str(str_arg(args, 0)?.trim()),
            StringFn::StartsWith => Value::Bool(str_arg(args, 0)?.starts_with(str_arg(args, 1)?)),
            StringFn::EndsWith => Value::Bool(str_arg(args, 0)?.ends_with(str_arg(args, 1)?)),
            StringFn::Contains => Value::Bool(str_arg(args, 0)?.contains(str_arg(args, 1)?)),
            StringFn::Replace => {
                Value::str(&str_arg(args, 0)?.replace(str_arg(args, 1)?, str_arg(args, 2)?))
            }
            StringFn::Split => {
                let (s, sep) = (str_arg(args, 0)?, str_arg(args, 1)?);
                if sep.is_empty() {
                    return Err("`split` needs a non-empty separator".into());
                }
                Value::List(s.split(sep).map(Value::str).collect::<Vec<_>>().into())
            }
            StringFn::Join => {
                let sep = str_arg(args, 1)?;
                let parts: Vec<String> = match &args[0] {
                    Value::List(items) => {
                        items.iter().map(|v| crate::render(cx.types, v)).collect()
                    }
                    _ => Vec::new(),
                };
                Value::Str(Arc::from(parts.join(sep)))
            }
            StringFn::ToString => match &args[0] {
                Value::Str(s) => Value::Str(s.clone()),
                other => Value::str(&crate::render(cx.types, other)),
            },
        })
    }
}
