//! Input documents (JSON or YAML) with the position of every value, so a
//! finding can point at the manifest line that decided it.

use crate::{Decision, EngineError, Location};
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::Value as Json;
use std::collections::HashMap;

/// A parsed input document and where each of its values is written.
#[derive(Clone, Debug)]
pub struct Document {
    /// The name it was read under (a path, or `<stdin>`).
    pub name: String,
    /// The document as JSON.
    pub value: Json,
    /// Positions by input path (`$.spec.auth.sso`, `$.spec.roles[1]`).
    pub positions: Positions,
}

/// Where values stand in a document's text, keyed by the input paths that
/// decisions report. Lines and columns are 1-based; columns count characters.
#[derive(Clone, Debug, Default)]
pub struct Positions {
    by_path: HashMap<String, (u32, u32)>,
}

impl Positions {
    /// The position of `path`, or of its nearest ancestor that is written in
    /// the document (a field the manifest leaves out points at its parent).
    pub fn locate(&self, path: &str) -> Option<(u32, u32)> {
        let mut path = path;
        loop {
            if let Some(&spot) = self.by_path.get(path) {
                return Some(spot);
            }
            // Drop the last `.field` or `[i]`.
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

impl Document {
    /// Parses a JSON or YAML document (YAML 1.2; JSON is tried first when the
    /// name ends in `.json` or the text starts with `{` or `[`).
    pub fn parse(name: &str, text: &str) -> Result<Document, EngineError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let syntax = |format: &'static str, message: String| EngineError::Syntax {
            name: name.into(),
            format,
            message,
        };
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Err(syntax("JSON or YAML", "the document is empty".into()));
        }
        let yaml_name = name.ends_with(".yaml") || name.ends_with(".yml");
        if !yaml_name
            && (name.ends_with(".json") || trimmed.starts_with('{') || trimmed.starts_with('['))
        {
            let value = serde_json::from_str::<StrictJson>(text)
                .map(|v| v.0)
                .map_err(|e| syntax("JSON", e.to_string()))?;
            return Ok(Document {
                name: name.into(),
                value,
                positions: json_positions(text),
            });
        }
        let docs = MarkedYaml::load_from_str(text).map_err(|e| syntax("YAML", e.to_string()))?;
        match docs.as_slice() {
            [doc] => {
                let mut positions = Positions::default();
                let value =
                    yaml_to_json(doc, "$", &mut positions).map_err(|m| syntax("YAML", m))?;
                Ok(Document {
                    name: name.into(),
                    value,
                    positions,
                })
            }
            [] => Err(syntax("YAML", "the document is empty".into())),
            _ => Err(syntax(
                "YAML",
                "one document per file, please (found `---` separators)".into(),
            )),
        }
    }
}

/// Parses a JSON or YAML document; see [`Document::parse`].
pub fn parse_document(name: &str, text: &str) -> Result<Json, EngineError> {
    Document::parse(name, text).map(|d| d.value)
}

/// A `--data` argument read into the object [`crate::Engine::with_data`]
/// takes: `FILE` holds the whole object (`{"catalog": …}`), `NAME=FILE` the
/// one document `data.NAME`. A path that exists as written is a file.
pub fn read_data_arg(arg: &str) -> Result<Json, EngineError> {
    let named = arg.split_once('=').filter(|(name, _)| {
        !std::path::Path::new(arg).exists()
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    let (name, file) = match named {
        Some((name, file)) => (Some(name), file),
        None => (None, arg),
    };
    let text = std::fs::read_to_string(file).map_err(|source| EngineError::Io {
        path: file.to_string(),
        source,
    })?;
    let document = parse_document(file, &text)?;
    Ok(match name {
        Some(name) => serde_json::json!({ name: document }),
        None => document,
    })
}

impl Decision {
    /// Fills each finding's `input_location` from the document it decided.
    pub fn locate_input(&mut self, document: &Document) {
        for finding in self
            .findings
            .iter_mut()
            .chain(&mut self.warnings)
            .chain(&mut self.waived)
        {
            let Some(path) = &finding.input_path else {
                continue;
            };
            finding.input_location =
                document
                    .positions
                    .locate(path)
                    .map(|(line, column)| Location {
                        file: document.name.clone(),
                        line,
                        column,
                    });
        }
    }
}

/// JSON is YAML 1.2 flow syntax: the YAML reader places its values. Should it
/// refuse a corner of JSON, the decision stands, without input locations.
fn json_positions(text: &str) -> Positions {
    let mut positions = Positions::default();
    let placed = MarkedYaml::load_from_str(text).is_ok_and(|docs| match docs.as_slice() {
        [doc] => yaml_to_json(doc, "$", &mut positions).is_ok(),
        _ => false,
    });
    if placed {
        positions
    } else {
        Positions::default()
    }
}

fn spot(marker: saphyr::Marker) -> (u32, u32) {
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (clamp(marker.line()), clamp(marker.col() + 1))
}

/// Converts a node, recording the position of it and every value below it.
/// A scalar is placed at its value; a mapping entry holding a collection at
/// its key (`auth:`), where a reader looks for it.
fn yaml_to_json(
    node: &MarkedYaml<'_>,
    path: &str,
    positions: &mut Positions,
) -> Result<Json, String> {
    positions
        .by_path
        .entry(path.to_string())
        .or_insert_with(|| spot(node.span.start));
    Ok(match &node.data {
        YamlData::Value(scalar) => scalar_to_json(scalar)?,
        YamlData::Representation(text, _, _) => Json::String(text.to_string()),
        YamlData::Sequence(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| yaml_to_json(item, &format!("{path}[{i}]"), positions))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match yaml_to_json(k, "", &mut Positions::default())? {
                    Json::String(s) => s,
                    Json::Null => "null".into(),
                    other => other.to_string(),
                };
                let child = format!("{path}.{key}");
                if matches!(v.data, YamlData::Mapping(_) | YamlData::Sequence(_)) {
                    positions.by_path.insert(child.clone(), spot(k.span.start));
                }
                out.insert(key, yaml_to_json(v, &child, positions)?);
            }
            Json::Object(out)
        }
        YamlData::Tagged(_, inner) => yaml_to_json(inner, path, positions)?,
        YamlData::Alias(_) => {
            return Err("YAML aliases are not supported; write the value out".into());
        }
        YamlData::BadValue => return Err("a value that YAML cannot represent".into()),
    })
}

fn scalar_to_json(scalar: &Scalar<'_>) -> Result<Json, String> {
    Ok(match scalar {
        Scalar::Null => Json::Null,
        Scalar::Boolean(b) => Json::Bool(*b),
        Scalar::Integer(i) => Json::from(*i),
        // `.inf` and `.nan` have no JSON form; refusing them beats reading them as absent.
        Scalar::FloatingPoint(f) => match serde_json::Number::from_f64(f.into_inner()) {
            Some(n) => Json::Number(n),
            None => return Err(format!("`{}` is not a finite number", f.into_inner())),
        },
        Scalar::String(s) => Json::String(s.to_string()),
    })
}

/// A JSON document that refuses a key given twice in one object, which a
/// plain parse would silently resolve to the last value.
struct StrictJson(Json);

impl<'de> serde::Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictJson)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key `{key}` is given twice"
                )));
            }
            let StrictJson(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Json::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_json_keys_and_infinite_yaml_numbers_are_refused() {
        assert!(
            parse_document("in.json", r#"{"a": 1, "a": 2}"#)
                .unwrap_err()
                .to_string()
                .contains("given twice")
        );
        assert!(parse_document("in.json", r#"{"a": {"b": 1}, "c": {"b": 2}}"#).is_ok());
        assert!(
            parse_document("in.yaml", "a: .inf\n")
                .unwrap_err()
                .to_string()
                .contains("not a finite number")
        );
        assert_eq!(
            parse_document("in.yaml", "{a: 1}\n").unwrap(),
            serde_json::json!({"a": 1})
        );
    }

    #[test]
    fn positions_point_at_values_and_keys() {
        let text = "metadata:\n  name: crm-lite\nspec:\n  auth:\n    sso: none\n  roles:\n    - name: viewer\n    - name: admin\n";
        let doc = Document::parse("app.yaml", text).unwrap();
        let at = |p: &str| doc.positions.locate(p);
        assert_eq!(at("$.metadata.name"), Some((2, 9)));
        assert_eq!(at("$.spec.auth.sso"), Some((5, 10)));
        assert_eq!(
            at("$.spec.auth"),
            Some((4, 3)),
            "a collection is placed at its key"
        );
        assert_eq!(at("$.spec.roles[1].name"), Some((8, 13)));
        assert_eq!(at("$.spec.roles[1]"), Some((8, 7)));
        assert_eq!(
            at("$.spec.auth.mfa"),
            Some((4, 3)),
            "an absent field points at its parent"
        );
        let json = Document::parse("app.json", "{\n  \"spec\": {\"tls\": \"1.2\"}\n}").unwrap();
        assert_eq!(json.positions.locate("$.spec.tls"), Some((2, 19)));
    }
}
