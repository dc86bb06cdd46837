//! What built-ins and operators cost, in evaluation steps, paid before
//! they run: proportional to what they walk, scan, compile or build. The
//! evaluator charges these; each built-in's own cost is in its category's
//! file, made of these measures.

use crate::{TypeLookup, Value};

/// The sizes of a call's arguments: what most built-ins walk.
pub(crate) fn walked(args: &[Value]) -> u64 {
    args.iter().map(size).sum()
}

/// The text of argument `i`, or `""`.
pub(crate) fn text_at(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or_default()
}

/// The elements (or bytes, in 64s) a value holds: the unit of a built-in's work.
pub fn size(v: &Value) -> u64 {
    match v {
        Value::List(items) => items.len() as u64,
        Value::Map(m) => m.len() as u64,
        Value::Str(s) => scan(s.len(), SCAN_BYTES_PER_STEP),
        Value::Record(r) => r.slots.len() as u64,
        _ => 0,
    }
}

/// Steps for scanning `bytes` of text at `bytes_per_step`.
pub(crate) fn scan(bytes: usize, bytes_per_step: usize) -> u64 {
    (bytes / bytes_per_step) as u64
}

/// Bytes of text one step buys, by how much work each byte costs: a plain
/// scan (comparison, case change), a regular expression, and the secret
/// detector (ten patterns and an entropy measure per token). Measured on
/// this machine against the cost of one expression step (docs/reliability.md).
pub(crate) const SCAN_BYTES_PER_STEP: usize = 64;
pub(crate) const CASE_BYTES_PER_STEP: usize = 16;
pub(crate) const REGEX_BYTES_PER_STEP: usize = 16;
pub(crate) const SECRET_BYTES_PER_STEP: usize = 4;

/// Steps charged per byte of a pattern compiled at run time, and per state
/// of the automaton it compiles to (a Unicode class repeated twenty times
/// takes about 6 ms to compile: 3,900 states).
pub const REGEX_STEPS_PER_BYTE: u64 = 64;
pub const REGEX_STEPS_PER_STATE: u64 = 32;

/// One step buys this many bytes of a string a policy builds.
pub(crate) const STRING_BYTES_PER_STEP: usize = 16;

/// The cost of `a + b` for strings and lists: the size of the result.
pub fn output_cost(a: &Value, b: &Value) -> u64 {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => ((x.len() + y.len()) / STRING_BYTES_PER_STEP) as u64,
        (Value::List(x), Value::List(y)) => (x.len() + y.len()) as u64,
        _ => 0,
    }
}

/// Every element and every 64 bytes of text inside `v`, all the way down,
/// the names it is written with included (map keys, record field names):
/// what walking, comparing or rendering it costs. Counting stops once it
/// passes `limit`, so the answer is at most about `limit` plus one string's
/// share: values built by a policy can share parts (a record of two copies
/// of a record of two copies…), small to build and exponential to walk, and
/// the count must not itself be that walk.
pub fn deep_size(types: &crate::TypeTable, v: &Value, limit: u64) -> u64 {
    let mut counted = 0;
    count_within(types, v, limit, &mut counted);
    counted
}

fn count_within(types: &crate::TypeTable, v: &Value, limit: u64, counted: &mut u64) {
    fn text(counted: &mut u64, s: &str) {
        *counted = counted.saturating_add(s.len() as u64 / 64);
    }
    *counted = counted.saturating_add(1);
    if *counted > limit {
        return;
    }
    let each = |x: &Value, counted: &mut u64| {
        if *counted <= limit {
            count_within(types, x, limit, counted);
        }
    };
    match v {
        Value::List(items) => items.iter().for_each(|x| each(x, counted)),
        Value::Map(m) => m.iter().for_each(|(k, x)| {
            text(counted, k);
            each(x, counted);
        }),
        Value::Record(r) => {
            let def = types.record(r.ty);
            for (field, x) in def.fields.iter().zip(r.slots.iter()) {
                text(counted, &field.name);
                each(x, counted);
            }
            for (k, x) in r.extra.iter().flat_map(|extra| extra.iter()) {
                text(counted, k);
                each(x, counted);
            }
        }
        Value::Str(s) => text(counted, s),
        _ => {}
    }
}

/// Steps for matching `text` against a pattern of `weight`
/// ([`crate::Pattern::weight`]): a scan of the text, and, for each byte,
/// the automaton states the matcher may visit when its lazy DFA gives up
/// (about 128 state visits cost one step). A pattern too heavy to accept
/// never gets here (`crate::MAX_PATTERN_WEIGHT`).
pub fn regex_scan_cost(text: &str, weight: u64) -> u64 {
    scan(text.len(), REGEX_BYTES_PER_STEP)
        .saturating_add((text.len() as u64).saturating_mul(weight) / 128)
}

/// Steps for compiling `pattern` (paid every time, cached or not, so
/// budgets stay deterministic) and matching `text` against it.
pub fn regex_cost(pattern: &str, text: &str) -> u64 {
    // Weighed from its syntax, not compiled: a call the budget refuses
    // compiles nothing.
    let weight = crate::pattern_weight(pattern, true).unwrap_or(0);
    compile_and_match_cost(pattern, weight, text)
}

/// Compiling a pattern of `weight` (per byte and per state) and matching
/// `text` against it.
pub(crate) fn compile_and_match_cost(pattern: &str, weight: u64, text: &str) -> u64 {
    (pattern.len() as u64)
        .saturating_mul(REGEX_STEPS_PER_BYTE)
        .saturating_add(weight.saturating_mul(REGEX_STEPS_PER_STATE))
        .saturating_add(regex_scan_cost(text, weight))
}
