//! A decision log line as its readers see it: only the fields they use are
//! kept, every other value is skipped as it is parsed, so a line of any
//! shape costs at most its own length in memory; a key given twice makes
//! the line unreadable (the writer never repeats one).

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A scalar field: a string or an unsigned integer; anything else (a
/// list, an object, a negative or fractional number) is skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scalar {
    Text(String),
    Number(u64),
    #[default]
    Other,
}

impl Scalar {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Scalar::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The value as a short text: a string, or a number written out.
    pub fn text(&self) -> Option<String> {
        match self {
            Scalar::Text(text) => Some(text.clone()),
            Scalar::Number(n) => Some(n.to_string()),
            Scalar::Other => None,
        }
    }
}

/// The longest text a [`Scalar`] keeps whole (in bytes: longer than any
/// audit field the server writes, 256 characters and a hash); a longer one
/// is cut to [`CUT_TO`] bytes and ends in `…` and the SHA-256 of the whole:
/// a hand-made line cannot make a reader hold more than this per field.
pub const LONGEST_TEXT: usize = 2048;
const CUT_TO: usize = 256;

fn kept(text: &str) -> String {
    if text.len() <= LONGEST_TEXT {
        return text.to_string();
    }
    let mut end = CUT_TO;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}…({})",
        &text[..end],
        warden::sha256_text(text.as_bytes())
    )
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(kept(v)))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(if v.len() <= LONGEST_TEXT {
            v
        } else {
            kept(&v)
        }))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// The most names one line's list keeps; the rest are skipped.
pub const MOST_NAMES: usize = 1000;

/// A list of names (rules): its first [`MOST_NAMES`] strings; other
/// values, and anything but a list, are skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Names, D::Error> {
        struct NamesVisitor;
        impl<'de> Visitor<'de> for NamesVisitor {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                let mut names = Vec::new();
                while let Some(item) = seq.next_element::<Scalar>()? {
                    if let (Scalar::Text(name), true) = (item, names.len() < MOST_NAMES) {
                        names.push(name);
                    }
                }
                Ok(Names(names))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Names, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Names::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Names, E> {
                Ok(Names::default())
            }
        }
        d.deserialize_any(NamesVisitor)
    }
}

/// A key that is there, whatever its value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Present(pub bool);

impl<'de> serde::Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Present, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

use serde::Deserialize;
use serde::de::DeserializeSeed as _;

/// The logged input's `resource.app_id` (a line from a log written before
/// lines carried `app_id`, with `log.include_input`). An input of any
/// shape is read: the server logs whatever input it was given, and masks
/// a path to `"***"` whatever it held.
#[derive(Clone, Debug, Default)]
pub struct LoggedInput {
    pub app_id: Scalar,
}

impl<'de> serde::Deserialize<'de> for LoggedInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LoggedInput, D::Error> {
        /// The value under `key` of an object, when the value is one.
        struct Field(&'static str, Option<&'static str>);
        impl<'de> Visitor<'de> for Field {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                let mut found = Scalar::Other;
                while let Some(key) = map.next_key::<Scalar>()? {
                    if key.as_str() != Some(self.0) {
                        map.next_value::<IgnoredAny>()?;
                    } else if let Some(inner) = self.1 {
                        found = map.next_value_seed(Field(inner, None))?;
                    } else {
                        found = map.next_value::<Scalar>()?;
                    }
                }
                Ok(found)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
        }
        impl<'de> de::DeserializeSeed<'de> for Field {
            type Value = Scalar;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
                d.deserialize_any(self)
            }
        }
        Field("resource", Some("app_id"))
            .deserialize(d)
            .map(|app_id| LoggedInput { app_id })
    }
}

/// The fields of a line that `warden audit verify` and `warden report` read.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LogLine {
    /// Its place in the file.
    #[serde(default)]
    pub seq: Scalar,
    /// The hash of the line before it.
    #[serde(default)]
    pub prev: Scalar,
    /// A line that records an event of the log itself (a repair).
    #[serde(default)]
    pub event: Present,
    /// When the server logged it, by its own clock.
    #[serde(default)]
    pub timestamp: Scalar,
    /// The time the decision was taken for (a `/v1/decide` caller may set it).
    #[serde(default)]
    pub evaluated_at: Scalar,
    #[serde(default)]
    pub outcome: Scalar,
    #[serde(default)]
    pub target: Scalar,
    #[serde(default)]
    pub app_id: Scalar,
    #[serde(default)]
    pub rules: Names,
    #[serde(default)]
    pub deny_rules: Option<Names>,
    #[serde(default)]
    pub policy_revision: Scalar,
    #[serde(default)]
    pub data_revision: Scalar,
    #[serde(default)]
    pub input: Option<LoggedInput>,
}

impl LogLine {
    /// A line's fields, when it is one JSON object with no key twice.
    pub fn parse(line: &[u8]) -> Result<LogLine, String> {
        // A struct would also be read from a list of its fields in order.
        let first = line.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            return Err("not a JSON object".to_string());
        }
        serde_json::from_slice(line).map_err(|e| format!("not a JSON object ({e})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_it_needs_and_skips_the_rest() {
        let line = br#"{"seq": 3, "prev": "sha256:ab", "app_id": ["x"], "outcome": "deny",
            "rules": ["a", 7, {"b": 1}, "c"], "input": {"resource": {"app_id": "crm"}, "big": [[[]]]},
            "unknown": {"deep": [1, 2, 3]}, "event": null}"#;
        let parsed = LogLine::parse(line).unwrap();
        assert_eq!(parsed.seq, Scalar::Number(3));
        assert_eq!(parsed.prev.as_str(), Some("sha256:ab"));
        assert_eq!(parsed.app_id, Scalar::Other);
        assert_eq!(parsed.rules.0, ["a", "c"]);
        assert_eq!(parsed.input.unwrap().app_id.as_str(), Some("crm"));
        assert!(parsed.event.0);
        assert!(parsed.deny_rules.is_none());
    }

    #[test]
    fn a_logged_input_of_any_shape_is_read() {
        // What `log.include_input` writes, with `log.mask = ["resource"]`,
        // or for a target whose `resource` is not an object.
        for (input, app) in [
            (r#""***""#, None),
            (r#"{"resource": "***"}"#, None),
            (r#"{"resource": null}"#, None),
            (r#"{"resource": ["a", "b"]}"#, None),
            (r#"{"resource": {"app_id": {"x": 1}}}"#, None),
            (
                r#"{"resource": {"app_id": "crm", "id": [1]}, "x": {}}"#,
                Some("crm"),
            ),
            (r#"[1, 2]"#, None),
            (r#"7"#, None),
        ] {
            let line = format!(r#"{{"seq": 1, "input": {input}}}"#);
            let parsed = LogLine::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(parsed.input.unwrap().app_id.as_str(), app, "{input}");
        }
    }

    #[test]
    fn a_long_text_is_cut_to_a_bounded_size() {
        let long = "é".repeat(5000);
        let line = format!(r#"{{"app_id": "{long}", "rules": ["{long}"]}}"#);
        let parsed = LogLine::parse(line.as_bytes()).unwrap();
        let kept = parsed.app_id.as_str().unwrap();
        assert!(kept.len() < 400 && kept.contains("…(sha256:"), "{kept}");
        assert_eq!(parsed.rules.0[0], kept);
    }

    #[test]
    fn a_repeated_key_a_list_or_a_scalar_is_not_a_line() {
        for line in [
            &br#"{"seq": 1, "outcome": "allow", "outcome": "deny"}"#[..],
            b"[1, \"sha256:00\"]",
            b"5",
            b"",
            b"{\"seq\": 1",
        ] {
            assert!(
                LogLine::parse(line).is_err(),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn a_list_of_names_keeps_at_most_its_bound() {
        let many: Vec<String> = (0..MOST_NAMES + 5).map(|i| format!("\"r{i}\"")).collect();
        let line = format!("{{\"rules\": [{}]}}", many.join(","));
        assert_eq!(
            LogLine::parse(line.as_bytes()).unwrap().rules.0.len(),
            MOST_NAMES
        );
    }
}
