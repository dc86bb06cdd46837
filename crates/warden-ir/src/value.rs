//! Runtime values, laid out for speed: record fields live in slots resolved
//! at compile time, strings are shared `Arc<str>`, and collections are shared
//! behind `Arc` so a data document is loaded once and read by every decision
//! without copying.

use crate::RecordId;
use indexmap::IndexMap;
use std::fmt::{self, Write};
use std::sync::Arc;

/// Keys come from inputs and data files: the hasher is seeded at random
/// (per map), so nobody can prepare keys that all collide and make building
/// or reading a map quadratic.
pub type MapValue = IndexMap<Arc<str>, Value, foldhash::fast::RandomState>;

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    /// Microseconds since the Unix epoch, UTC.
    Time(i64),
    /// Microseconds.
    Duration(i64),
    List(Arc<[Value]>),
    /// A `{string: T}` map, or a JSON object typed `any`. Keeps the document's key order.
    Map(Arc<MapValue>),
    Record(Arc<RecordValue>),
}

/// A record: its declared fields by slot, plus the unknown fields of an open record.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RecordValue {
    /// Its record type: a value that reaches a place typed with another record
    /// (through `any`) is then read by field name, never by a wrong slot.
    pub ty: RecordId,
    pub slots: Box<[Value]>,
    pub extra: Option<MapValue>,
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Time(_) => "time",
            Value::Duration(_) => "duration",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Record(_) => "record",
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

const MICROS_PER_SECOND: i64 = 1_000_000;

/// Parses an RFC 3339 time (with its offset) or a plain `YYYY-MM-DD` date
/// (midnight UTC) into microseconds since the epoch. Anything else — a time
/// without an offset, a date with a time zone name — is refused, never
/// guessed at.
pub fn parse_time(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let plain_date = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if plain_date {
        // Counted in days, so dates at the edge of the calendar (9999-12-31) work too.
        let date: jiff::civil::Date = text.parse().ok()?;
        let days = jiff::civil::date(1970, 1, 1)
            .until((jiff::Unit::Day, date))
            .ok()?
            .get_days();
        return i64::from(days).checked_mul(86_400 * MICROS_PER_SECOND);
    }
    if bytes.len() < 20 || !matches!(bytes.get(10), Some(b'T' | b't' | b' ')) || text.contains('[')
    {
        return None;
    }
    // RFC 3339's offsets stop at ±23:59 (the parser takes up to ±25:59:59).
    if !matches!(bytes.last(), Some(b'Z' | b'z')) {
        let offset = &bytes[bytes.len() - 6..];
        let two = |at: usize| (offset[at] - b'0') * 10 + (offset[at + 1] - b'0');
        let well_formed = matches!(offset[0], b'+' | b'-')
            && offset[3] == b':'
            && [1, 2, 4, 5].iter().all(|&i| offset[i].is_ascii_digit());
        if !well_formed || two(1) > 23 || two(4) > 59 {
            return None;
        }
    }
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|ts| ts.as_microsecond())
}

/// Formats microseconds since the epoch as RFC 3339 in UTC (`2026-06-01T00:00:00Z`).
pub fn format_time(micros: i64) -> String {
    if let Ok(ts) = jiff::Timestamp::from_microsecond(micros) {
        return ts.to_string();
    }
    // The calendar reaches a day further at each end than a timestamp
    // (`until 9999-12-31` is a date a policy may write).
    let epoch = jiff::civil::date(1970, 1, 1).at(0, 0, 0, 0);
    match epoch.checked_add(jiff::SignedDuration::from_micros(micros)) {
        Ok(civil) => format!("{civil}Z"),
        Err(_) => format!("a time out of range ({micros} µs from 1970)"),
    }
}

/// Whether `micros` is a time RFC 3339 writes: years 0000 to 9999, UTC.
pub fn is_rfc3339_time(micros: i64) -> bool {
    // 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z, in µs from 1970.
    const FIRST: i64 = -62_167_219_200_000_000;
    const PAST_LAST: i64 = 253_402_300_800_000_000;
    (FIRST..PAST_LAST).contains(&micros)
}

/// Parses a duration into microseconds: compact (`90d`, `12h`, `1h30m`,
/// `500ms`, `2w`; units largest first, each at most once) or ISO 8601
/// (`P1D`, `PT1H30M`, as JSON Schema's `format: duration` writes them; days
/// count 24 hours, months and years are refused).
pub fn parse_duration(text: &str) -> Option<i64> {
    if text.starts_with(['P', 'p']) {
        let span: jiff::Span = text.parse().ok()?;
        let micros = span
            .total((
                jiff::Unit::Microsecond,
                jiff::SpanRelativeTo::days_are_24_hours(),
            ))
            .ok()?;
        return (micros.is_finite() && micros.abs() < 9.0e18).then_some(micros as i64);
    }
    const UNITS: [(&str, i64); 6] = [
        ("w", 7 * 86_400 * MICROS_PER_SECOND),
        ("d", 86_400 * MICROS_PER_SECOND),
        ("h", 3_600 * MICROS_PER_SECOND),
        ("m", 60 * MICROS_PER_SECOND),
        ("s", MICROS_PER_SECOND),
        ("ms", 1_000),
    ];
    let mut total: i64 = 0;
    let mut rest = text;
    let mut next_unit = 0; // units must come largest first, each once
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let name = &rest[..unit_len];
        let position = UNITS.iter().position(|(u, _)| *u == name)?;
        if position < next_unit {
            return None;
        }
        next_unit = position + 1;
        rest = &rest[unit_len..];
        total = total.checked_add(n.checked_mul(UNITS[position].1)?)?;
    }
    Some(total)
}

/// Formats microseconds compactly: `90d`, `1h30m`, `0s`, `-2h`.
pub fn format_duration(micros: i64) -> String {
    if micros == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if micros < 0 {
        out.push('-');
    }
    let mut rest = micros.unsigned_abs();
    for (unit, name) in [
        (86_400_000_000u64, "d"),
        (3_600_000_000, "h"),
        (60_000_000, "m"),
        (1_000_000, "s"),
        (1_000, "ms"),
    ] {
        if rest >= unit {
            write!(out, "{}{name}", rest / unit).unwrap();
            rest %= unit;
        }
    }
    if rest > 0 {
        write!(out, "{rest}us").unwrap();
    }
    out
}

/// How a value reads in a message or `to_string`: strings bare, numbers as
/// numbers (floats keep a `.0`), times in RFC 3339, durations compact, lists
/// records and maps as JSON (field names from the types).
pub fn render(types: &crate::TypeTable, value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        Value::Float(x) => render_float(*x),
        Value::List(_) | Value::Map(_) | Value::Record(_) => {
            crate::value_to_json(types, None, value).to_string()
        }
        other => other.to_string(),
    }
}

fn render_float(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.1}")
    } else if x.is_finite() && (x.abs() >= 1e15 || (x != 0.0 && x.abs() < 1e-6)) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// How a value reads inside a message: strings bare, times in RFC 3339, lists and
/// records as compact JSON.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("none"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::Time(t) => f.write_str(&format_time(*t)),
            Value::Duration(d) => f.write_str(&format_duration(*d)),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match item {
                        Value::Str(s) => write!(f, "{s:?}")?,
                        other => write!(f, "{other}")?,
                    }
                }
                f.write_str("]")
            }
            Value::Map(_) | Value::Record(_) => f.write_str("{…}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_round_trip() {
        let t = parse_time("2026-06-01T00:00:00Z").unwrap();
        assert_eq!(format_time(t), "2026-06-01T00:00:00Z");
        assert_eq!(parse_time("2026-06-01"), Some(t));
        assert_eq!(parse_time("2026-06-01T02:00:00+02:00"), Some(t));
        assert_eq!(parse_time("yesterday"), None);
        // The calendar's last day is past a timestamp's range; it prints.
        let last = parse_time("9999-12-31").unwrap();
        assert_eq!(format_time(last), "9999-12-31T00:00:00Z");
        assert!(is_rfc3339_time(last));
        assert!(is_rfc3339_time(parse_time("0000-01-01T00:00:00Z").unwrap()));
        assert!(!is_rfc3339_time(
            parse_time("0000-01-01T00:00:00+00:01").unwrap()
        ));
        assert_eq!(parse_duration("1h30m"), Some(5_400 * MICROS_PER_SECOND));
        assert_eq!(format_duration(parse_duration("90d").unwrap()), "90d");
        assert_eq!(format_duration(parse_duration("1h30m").unwrap()), "1h30m");
        assert_eq!(parse_duration("12x"), None);
        assert_eq!(parse_duration("1h1h"), None);
        assert_eq!(parse_duration("30m1h"), None);
        assert_eq!(parse_duration("P1D"), parse_duration("1d"));
        assert_eq!(parse_duration("PT1H30M"), parse_duration("1h30m"));
        assert_eq!(parse_duration("P1M"), None);
        // Times need an offset; dates are exactly YYYY-MM-DD.
        assert_eq!(parse_time("2026-06-01T15:30:00"), None);
        assert_eq!(parse_time("2026-06-01T00:00:00+25:00"), None);
        assert_eq!(parse_time("2026-06-01T00:00:00+24:00"), None);
        assert_eq!(parse_time("2026-06-01T00:00:00+01:60"), None);
        assert_eq!(parse_time("2026-06-01T00:00:00+01:00:30"), None);
        assert!(parse_time("2026-06-01T00:00:00-23:59").is_some());
        assert!(parse_time("2026-06-01T00:00:00.5+05:30").is_some());
        assert_eq!(parse_time("2026-06-01T15:30"), None);
        assert_eq!(parse_time("2026-06-01T15:30:00[America/New_York]"), None);
        assert_eq!(parse_time("20260601"), None);
        assert_eq!(
            parse_time("2026-06-01T15:30:00.5Z").map(|t| t % 1_000_000),
            Some(500_000)
        );
        assert!(parse_time("9999-12-31").is_some());
    }
}
