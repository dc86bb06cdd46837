//! Runtime values, laid out for speed: record fields live in slots resolved
//! at compile time, strings are shared `Arc<str>`, and collections are shared
//! behind `Arc` so a data document is loaded once and read by every decision
//! without copying.

use crate::RecordId;
use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use std::fmt::{self, Write};
use std::sync::Arc;

pub type MapValue = IndexMap<Arc<str>, Value, FxBuildHasher>;

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

/// Parses an RFC 3339 time or a plain date (midnight UTC) into microseconds since the epoch.
pub fn parse_time(text: &str) -> Option<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_microsecond());
    }
    let date = text.parse::<jiff::civil::Date>().ok()?;
    let ts = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(ts.as_microsecond())
}

/// Formats microseconds since the epoch as RFC 3339 in UTC (`2026-06-01T00:00:00Z`).
pub fn format_time(micros: i64) -> String {
    match jiff::Timestamp::from_microsecond(micros) {
        Ok(ts) => ts.to_string(),
        Err(_) => format!("{micros}us"),
    }
}

/// Parses `90d`, `12h`, `1h30m`, `500ms`, `2w` into microseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = text;
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
        let (unit, len) = if rest.starts_with("ms") {
            (1_000, 2)
        } else {
            let unit = match rest.chars().next()? {
                'w' => 7 * 86_400 * MICROS_PER_SECOND,
                'd' => 86_400 * MICROS_PER_SECOND,
                'h' => 3_600 * MICROS_PER_SECOND,
                'm' => 60 * MICROS_PER_SECOND,
                's' => MICROS_PER_SECOND,
                _ => return None,
            };
            (unit, 1)
        };
        rest = &rest[len..];
        total = total.checked_add(n.checked_mul(unit)?)?;
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
        assert_eq!(parse_duration("1h30m"), Some(5_400 * MICROS_PER_SECOND));
        assert_eq!(format_duration(parse_duration("90d").unwrap()), "90d");
        assert_eq!(format_duration(parse_duration("1h30m").unwrap()), "1h30m");
        assert_eq!(parse_duration("12x"), None);
    }
}
