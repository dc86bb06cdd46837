//! Built-in functions, one file per category. Each returns `Err` with a
//! message when its arguments are unusable; the caller turns that into a
//! fail-closed `E0502` finding.

mod collections;
mod net;
mod secrets;
mod strings;
mod time;
mod versions;

use warden_ir::{Builtin, Value};

pub(crate) type BuiltinResult = Result<Value, String>;

pub(crate) fn call(builtin: Builtin, args: &[Value], now: i64) -> BuiltinResult {
    use Builtin::*;
    match builtin {
        Count | Keys | Values | Sum | Min | Max | Unique | Sort | Flatten => {
            collections::call(builtin, args)
        }
        Lower | Upper | Trim | StartsWith | EndsWith | Contains | Replace | Split | Join
        | ToString | RegexMatch | RegexFind => strings::call(builtin, args),
        SemverValid | SemverCompare | SemverSatisfies => versions::call(builtin, args),
        Now | ParseTime | Days | Hours => time::call(builtin, args, now),
        IpValid | CidrContains | IpIsPrivate | UrlScheme | UrlHost | HostMatches | GlobMatch => {
            net::call(builtin, args)
        }
        LooksLikeSecret | SecretKind | StringsIn => secrets::call(builtin, args),
    }
}

/// The string argument at `i`; the checker guarantees the type, `any` values may still surprise.
pub(crate) fn str_arg(args: &[Value], i: usize) -> Result<&str, String> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s),
        Some(other) => Err(format!(
            "argument {} must be a string, found {}",
            i + 1,
            other.kind_name()
        )),
        None => Err(format!("argument {} is missing", i + 1)),
    }
}

pub(crate) fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::None, Value::str)
}

/// The one line of a regex error that says what is wrong (`unclosed group`).
pub(crate) fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(text.lines().next().unwrap_or_default())
        .to_string()
}
