//! Built-in functions, one file per category. Each returns `Err` with a
//! message when its arguments are unusable; the caller turns that into a
//! fail-closed `E0502` finding.

mod collections;
mod net;
pub(crate) mod secrets;
mod strings;
mod time;
mod versions;

use warden_ir::{Builtin, TypeTable, Value};

pub(crate) type BuiltinResult = Result<Value, String>;

pub(crate) fn call(builtin: Builtin, args: &[Value], now: i64, types: &TypeTable) -> BuiltinResult {
    use Builtin::*;
    match builtin {
        Count | Keys | Values | Sum | Min | Max | Unique | Sort | Flatten => {
            collections::call(builtin, args, types)
        }
        Lower | Upper | Trim | StartsWith | EndsWith | Contains | Replace | Split | Join
        | ToString | RegexMatch | RegexFind => strings::call(builtin, args, types),
        SemverValid | SemverCompare | SemverSatisfies => versions::call(builtin, args),
        Now | ParseTime | Days | Hours => time::call(builtin, args, now),
        IpValid | CidrContains | IpIsPrivate | UrlScheme | UrlHost | HostMatches | GlobMatch => {
            net::call(builtin, args)
        }
        LooksLikeSecret | SecretKind | StringsIn => secrets::call(builtin, args),
    }
}

/// The elements (or bytes, in 64s) a value holds: the unit of a built-in's work.
pub(crate) fn size(v: &Value) -> u64 {
    match v {
        Value::List(items) => items.len() as u64,
        Value::Map(m) => m.len() as u64,
        Value::Str(s) => scan(s.len(), SCAN_BYTES_PER_STEP),
        Value::Record(r) => r.slots.len() as u64,
        _ => 0,
    }
}

/// Steps for scanning `bytes` of text at `bytes_per_step`.
fn scan(bytes: usize, bytes_per_step: usize) -> u64 {
    (bytes / bytes_per_step) as u64
}

/// Bytes of text one step buys, by how much work each byte costs: a plain
/// scan (comparison, case change), a regular expression, and the secret
/// detector (ten patterns and an entropy measure per token). Measured on
/// this machine against the cost of one expression step (docs/reliability.md).
const SCAN_BYTES_PER_STEP: usize = 64;
const CASE_BYTES_PER_STEP: usize = 16;
const REGEX_BYTES_PER_STEP: usize = 16;
const SECRET_BYTES_PER_STEP: usize = 4;

/// Steps charged per byte of a pattern compiled at run time, and per state
/// of the automaton it compiles to (a Unicode class repeated twenty times
/// takes about 6 ms to compile: 3,900 states).
pub(crate) const REGEX_STEPS_PER_BYTE: u64 = 64;
pub(crate) const REGEX_STEPS_PER_STATE: u64 = 32;

/// One step buys this many bytes of a string a policy builds.
const STRING_BYTES_PER_STEP: usize = 16;

/// The cost of `a + b` for strings and lists: the size of the result.
pub(crate) fn output_cost(a: &Value, b: &Value) -> u64 {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => ((x.len() + y.len()) / STRING_BYTES_PER_STEP) as u64,
        (Value::List(x), Value::List(y)) => (x.len() + y.len()) as u64,
        _ => 0,
    }
}

/// The steps a call costs beyond its own, paid before it runs: proportional
/// to what it walks and what it builds. `unique` compares elements it cannot
/// hash pairwise; sorting pays its logarithm.
pub(crate) fn cost(builtin: Builtin, args: &[Value]) -> u64 {
    let walked: u64 = args.iter().map(size).sum();
    let text_at = |i: usize| args.get(i).and_then(Value::as_str).unwrap_or_default();
    let text = |i: usize| text_at(i).len();
    let log2 = |n: usize| 64 - (n as u64).leading_zeros() as u64;
    match (builtin, args.first()) {
        (Builtin::Lower | Builtin::Upper, _) => scan(text(0), CASE_BYTES_PER_STEP),
        (Builtin::LooksLikeSecret | Builtin::SecretKind, _) => scan(text(0), SECRET_BYTES_PER_STEP),
        (Builtin::Keys | Builtin::Values, Some(Value::Map(m))) => m.len() as u64 * log2(m.len()),
        (Builtin::Flatten, Some(Value::List(items))) => {
            walked + items.iter().map(size).sum::<u64>()
        }
        // One piece per separator at most, each a new string.
        (Builtin::Split, _) => walked + (text(0) / text(1).max(1)) as u64,
        (Builtin::ToString, Some(v)) => deep_size(v),
        (Builtin::GlobMatch, _) => {
            // The pattern is compiled to a regular expression on every call,
            // and matched like one.
            let weight = net::glob_weight(text_at(0)).unwrap_or(0);
            compile_and_match_cost(text_at(0), weight, text_at(1))
        }
        (Builtin::Unique, Some(Value::List(items))) => {
            // Each element that cannot be hashed is compared, whole, with
            // every one kept before it.
            let unhashable: Vec<&Value> = items
                .iter()
                .filter(|v| collections::hash_key(v).is_none())
                .collect();
            let compared: u64 = unhashable.iter().map(|v| deep_size(v)).sum();
            // Every element is hashed whole.
            let hashed: u64 = items.iter().map(deep_size).sum();
            walked + hashed + unhashable.len() as u64 * compared.max(unhashable.len() as u64)
        }
        (Builtin::Sort, Some(Value::List(items))) => {
            walked * (64 - (items.len() as u64).leading_zeros() as u64)
        }
        (Builtin::StringsIn, Some(v)) => deep_size(v),
        // Compiling a computed pattern: paid every time, so cached or not costs the same.
        (Builtin::RegexMatch | Builtin::RegexFind, _) => regex_cost(text_at(1), text_at(0)),
        // What the result may hold, paid before it is built.
        (Builtin::Replace, _) => match args {
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
        (Builtin::Join, Some(Value::List(items))) => {
            let separator = args.get(1).and_then(Value::as_str).map_or(0, str::len);
            let bytes: usize = items
                .iter()
                .map(|v| v.as_str().map_or(8, str::len) + separator)
                .sum();
            // Values other than strings are rendered, all the way down.
            let rendered: u64 = items
                .iter()
                .filter(|v| v.as_str().is_none())
                .map(deep_size)
                .sum();
            walked + rendered + (bytes / STRING_BYTES_PER_STEP) as u64
        }
        _ => walked,
    }
}

/// Every element and every 64 bytes of text inside `v`, all the way down:
/// what walking, comparing or rendering it costs.
pub(crate) fn deep_size(v: &Value) -> u64 {
    match v {
        Value::List(items) => 1 + items.iter().map(deep_size).sum::<u64>(),
        Value::Map(m) => 1 + m.values().map(deep_size).sum::<u64>(),
        Value::Record(r) => {
            1 + r.slots.iter().map(deep_size).sum::<u64>()
                + r.extra
                    .as_ref()
                    .map_or(0, |x| x.values().map(deep_size).sum())
        }
        Value::Str(s) => 1 + s.len() as u64 / 64,
        _ => 1,
    }
}

/// Steps for matching `text` against a pattern of `weight`
/// ([`warden_ir::Pattern::weight`]): a scan of the text, and, for each byte,
/// the automaton states the matcher may visit when its lazy DFA gives up
/// (about 128 state visits cost one step). A pattern too heavy to accept
/// never gets here (`warden_ir::MAX_PATTERN_WEIGHT`).
pub(crate) fn regex_scan_cost(text: &str, weight: u64) -> u64 {
    scan(text.len(), REGEX_BYTES_PER_STEP)
        .saturating_add((text.len() as u64).saturating_mul(weight) / 128)
}

/// Steps for compiling `pattern` (paid every time, cached or not, so
/// budgets stay deterministic) and matching `text` against it.
pub(crate) fn regex_cost(pattern: &str, text: &str) -> u64 {
    // Weighed from its syntax, not compiled: a call the budget refuses
    // compiles nothing.
    let weight = warden_ir::pattern_weight(pattern, true).unwrap_or(0);
    compile_and_match_cost(pattern, weight, text)
}

/// Compiling a pattern of `weight` (per byte and per state) and matching
/// `text` against it.
fn compile_and_match_cost(pattern: &str, weight: u64, text: &str) -> u64 {
    (pattern.len() as u64)
        .saturating_mul(REGEX_STEPS_PER_BYTE)
        .saturating_add(weight.saturating_mul(REGEX_STEPS_PER_STATE))
        .saturating_add(regex_scan_cost(text, weight))
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

/// A pattern computed at run time, compiled once per thread and bounded in
/// size and weight (a pattern too costly is an error, so the decision fails
/// closed). Its cost in steps is charged by `regex_cost`.
pub(crate) fn compiled_regex(pattern: &str) -> Result<warden_ir::Pattern, String> {
    warden_ir::compile_pattern(pattern)
        .map_err(|e| format!("invalid regular expression `{pattern}`: {e}"))
}
