//! lower, upper, trim, starts_with, ends_with, contains, replace, split, join,
//! to_string, regex_match, regex_find.

use super::{BuiltinResult, opt_str, str_arg};
use std::sync::Arc;
use warden_ir::{Builtin, TypeTable, Value};

pub(super) fn call(builtin: Builtin, args: &[Value], types: &TypeTable) -> BuiltinResult {
    Ok(match builtin {
        Builtin::Lower => Value::str(&str_arg(args, 0)?.to_lowercase()),
        Builtin::Upper => Value::str(&str_arg(args, 0)?.to_uppercase()),
        Builtin::Trim => Value::str(str_arg(args, 0)?.trim()),
        Builtin::StartsWith => Value::Bool(str_arg(args, 0)?.starts_with(str_arg(args, 1)?)),
        Builtin::EndsWith => Value::Bool(str_arg(args, 0)?.ends_with(str_arg(args, 1)?)),
        Builtin::Contains => Value::Bool(str_arg(args, 0)?.contains(str_arg(args, 1)?)),
        Builtin::Replace => {
            Value::str(&str_arg(args, 0)?.replace(str_arg(args, 1)?, str_arg(args, 2)?))
        }
        Builtin::Split => {
            let (s, sep) = (str_arg(args, 0)?, str_arg(args, 1)?);
            if sep.is_empty() {
                return Err("`split` needs a non-empty separator".into());
            }
            Value::List(s.split(sep).map(Value::str).collect::<Vec<_>>().into())
        }
        Builtin::Join => {
            let sep = str_arg(args, 1)?;
            let parts: Vec<String> = match &args[0] {
                Value::List(items) => items.iter().map(|v| warden_ir::render(types, v)).collect(),
                _ => Vec::new(),
            };
            Value::Str(Arc::from(parts.join(sep)))
        }
        Builtin::ToString => match &args[0] {
            Value::Str(s) => Value::Str(s.clone()),
            other => Value::str(&warden_ir::render(types, other)),
        },
        Builtin::RegexMatch => Value::Bool(regex(str_arg(args, 1)?)?.is_match(str_arg(args, 0)?)),
        Builtin::RegexFind => opt_str(
            regex(str_arg(args, 1)?)?
                .find(str_arg(args, 0)?)
                .map(|m| m.as_str()),
        ),
        _ => unreachable!("not a strings builtin: {builtin:?}"),
    })
}

fn regex(pattern: &str) -> Result<regex::Regex, String> {
    super::compiled_regex(pattern).map(|p| p.regex)
}
