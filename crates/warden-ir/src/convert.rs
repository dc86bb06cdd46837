//! JSON ⇄ values. Input and data documents are converted once, shaped by
//! their declared type; every mismatch is collected with its JSON path.

use crate::TypeLookup;
use crate::{
    MapValue, Reads, RecordValue, Ty, TypeTable, Value, format_duration, format_time,
    parse_duration, parse_time,
};
use serde_json::Value as Json;
use std::sync::Arc;

/// One place where a document does not match its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversionError {
    /// `$.spec.auth.sso`.
    pub path: String,
    pub expected: String,
    pub found: String,
}

/// Converts `json` to a value of type `ty`, or lists every bad path.
pub fn json_to_value(
    types: &TypeTable,
    ty: &Ty,
    json: &Json,
) -> Result<Value, Vec<ConversionError>> {
    json_to_value_noting(types, ty, json, false).map(|(value, _)| value)
}

/// A field an open record kept that its type does not declare: a typo
/// (`local_acounts`) as often as an extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndeclaredField {
    /// `$.spec.auth.local_acounts`.
    pub path: String,
    /// The declared field it most resembles.
    pub suggestion: Option<String>,
}

/// [`json_to_value`], also listing (when `note` is set) every field that an
/// open record kept without declaring it. A record that declares no field
/// at all (`{ ... }`) is a free-form object: its fields are not listed.
pub fn json_to_value_noting(
    types: &TypeTable,
    ty: &Ty,
    json: &Json,
    note: bool,
) -> Result<(Value, Vec<UndeclaredField>), Vec<ConversionError>> {
    json_to_value_reading(types, ty, json, note, Reads::whole())
}

/// [`json_to_value_noting`], building only what `reads` says is read (see
/// [`crate::input_reads`]): the rest is checked as thoroughly, and left
/// `none`.
pub fn json_to_value_reading(
    types: &TypeTable,
    ty: &Ty,
    json: &Json,
    note: bool,
    reads: &Reads,
) -> Result<(Value, Vec<UndeclaredField>), Vec<ConversionError>> {
    let mut converter = Converter {
        types,
        errors: Vec::new(),
        unlisted: 0,
        path: Vec::new(),
        undeclared: note.then(Vec::new),
    };
    let value = converter.convert(ty, json, reads);
    if converter.unlisted > 0 {
        converter.errors.push(ConversionError {
            path: "$".into(),
            expected: format!("at most {LISTED_PROBLEMS} mismatches listed"),
            found: format!("{} more", converter.unlisted),
        });
    }
    if converter.errors.is_empty() {
        Ok((value, converter.undeclared.unwrap_or_default()))
    } else {
        Err(converter.errors)
    }
}

/// How many mismatches, and how many undeclared fields, one document's
/// conversion lists: each names its path, and a document of a few
/// megabytes can hold millions of either (a list of a million wrong items
/// under a long key would otherwise list that key a million times).
pub const LISTED_PROBLEMS: usize = 100;

/// The longest key a path writes whole; a longer one is cut, with `…`.
pub const PATH_KEY_CHARS: usize = 64;

/// Appends `key` to a JSON path: `.name` for a plain name, `["a b"]`
/// otherwise, cut to [`PATH_KEY_CHARS`] characters (`["aaaa…"]`) so a
/// path stays short whatever keys a document holds.
pub fn push_path_key(out: &mut String, key: &str) {
    let shown = warden_diagnostics::clip(key, PATH_KEY_CHARS);
    let plain = matches!(shown, std::borrow::Cow::Borrowed(_))
        && !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        out.push('.');
        out.push_str(key);
    } else {
        out.push_str(&format!("[{shown:?}]"));
    }
}

/// One step of the path to the value being converted; rendered only on error.
enum Segment<'j> {
    Key(&'j str),
    /// A declared field that the document lacks.
    Missing(Arc<str>),
    Index(usize),
}

struct Converter<'a, 'j> {
    types: &'a TypeTable,
    errors: Vec<ConversionError>,
    /// Mismatches past the first [`LISTED_PROBLEMS`], counted only.
    unlisted: usize,
    path: Vec<Segment<'j>>,
    /// Fields open records kept without declaring them, when asked for.
    undeclared: Option<Vec<UndeclaredField>>,
}

fn describe(json: &Json) -> String {
    match json {
        Json::Null => "null".into(),
        Json::Bool(b) => format!("{b}"),
        Json::Number(n) => format!("{n}"),
        Json::String(s) => format!("{:?}", warden_diagnostics::clip(s, 40)),
        Json::Array(_) => "a list".into(),
        Json::Object(_) => "an object".into(),
    }
}

impl<'j> Converter<'_, 'j> {
    /// `$.spec.endpoints[2].url`.
    fn path_text(&self) -> String {
        let mut out = String::from("$");
        for segment in &self.path {
            match segment {
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                Segment::Key(key) => push_path_key(&mut out, key),
                Segment::Missing(name) => push_path_key(&mut out, name),
            }
        }
        out
    }

    /// Lists a problem at the current path, `describe` saying what was
    /// expected and what was found; past [`LISTED_PROBLEMS`] it is counted,
    /// not described: naming a union of many members for each of a million
    /// items is work no budget pays for.
    fn error(&mut self, describe: impl FnOnce(&TypeTable) -> (String, String)) {
        if self.errors.len() >= LISTED_PROBLEMS {
            self.unlisted += 1;
            return;
        }
        let (expected, found) = describe(self.types);
        let path = self.path_text();
        self.errors.push(ConversionError {
            path,
            expected,
            found,
        });
    }

    fn mismatch(&mut self, ty: &Ty, json: &Json) -> Value {
        self.error(|types| {
            let mut found = describe(json);
            // `version: 1.10` in YAML is the number 1.1.
            if matches!(ty, Ty::String | Ty::Enum(_)) && json.is_number() {
                found.push_str(" (a number: quote it to write a string)");
            }
            (types.display(ty), found)
        });
        Value::None
    }

    /// Converts `json` to `ty`, building what `reads` says is read; what
    /// is not is checked all the same, and left `none`.
    fn convert(&mut self, ty: &Ty, json: &'j Json, reads: &Reads) -> Value {
        let build = reads.builds();
        match (ty, json) {
            (Ty::Error, _) => Value::None,
            (Ty::Any, _) if build => any_value(json),
            (Ty::Any, _) => Value::None,
            (Ty::Optional(_) | Ty::None, Json::Null) => Value::None,
            (Ty::Optional(inner), _) => self.convert(inner, json, reads),
            (Ty::Bool, Json::Bool(b)) => Value::Bool(*b),
            (Ty::Int, Json::Number(n)) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => self.mismatch(ty, json),
            },
            (Ty::Float, Json::Number(n)) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            (Ty::String, Json::String(s)) if build => Value::Str(Arc::from(s.as_str())),
            (Ty::String, Json::String(_)) => Value::None,
            (Ty::Enum(id), Json::String(s)) => {
                // Share the union's own `Arc` so equality with literals is a pointer compare.
                match self
                    .types
                    .enumeration(*id)
                    .members
                    .iter()
                    .find(|m| ***m == **s)
                {
                    Some(member) if build => Value::Str(member.clone()),
                    Some(_) => Value::None,
                    None => self.mismatch(ty, json),
                }
            }
            (Ty::Time, Json::String(s)) => match parse_time(s) {
                Some(t) => Value::Time(t),
                None => self.mismatch(ty, json),
            },
            (Ty::Duration, Json::String(s)) => match parse_duration(s) {
                Some(d) => Value::Duration(d),
                None => self.mismatch(ty, json),
            },
            (Ty::List(inner), Json::Array(items)) => {
                let item_reads = reads.items();
                let mut convert_item = |i: usize, item: &'j Json| {
                    self.path.push(Segment::Index(i));
                    let v = self.convert(inner, item, item_reads);
                    self.path.pop();
                    v
                };
                if !build {
                    items.iter().enumerate().for_each(|(i, item)| {
                        convert_item(i, item);
                    });
                    return Value::None;
                }
                // Collected straight into the shared slice: one allocation.
                let values: Arc<[Value]> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| convert_item(i, item))
                    .collect();
                Value::List(values)
            }
            (Ty::Map(inner), Json::Object(entries)) => {
                let item_reads = reads.items();
                let mut map = build
                    .then(|| MapValue::with_capacity_and_hasher(entries.len(), Default::default()));
                for (key, item) in entries {
                    self.path.push(Segment::Key(key));
                    let v = self.convert(inner, item, item_reads);
                    self.path.pop();
                    if let Some(map) = &mut map {
                        map.insert(Arc::from(key.as_str()), v);
                    }
                }
                map.map_or(Value::None, |map| Value::Map(Arc::new(map)))
            }
            (Ty::Record(id), Json::Object(entries)) => {
                let def = self.types.record(*id);
                // Walk the document's entries once, matching keys to slots by a
                // short linear scan from the slot after the last one found:
                // cheaper than hashing each declared name.
                let mut slots = build.then(|| vec![Value::None; def.fields.len()]);
                let mut present = Present::new(def.fields.len());
                let mut extra = None;
                let mut next = 0;
                for (key, item) in entries {
                    match def.slot_from(key, next) {
                        Some(slot) => {
                            next = slot + 1;
                            let field = &def.fields[slot];
                            if item.is_null() && (field.optional || field.ty.is_optional()) {
                                continue;
                            }
                            self.path.push(Segment::Key(key));
                            let value = self.convert(&field.ty, item, reads.field(slot));
                            if let Some(slots) = &mut slots {
                                slots[slot] = value;
                            }
                            self.path.pop();
                            present.set(slot);
                        }
                        // Unknown fields: kept (as untyped values) by open records, errors in closed ones.
                        None if def.open => {
                            let listed = self.undeclared.as_ref().map(Vec::len);
                            if listed.is_some_and(|n| n < LISTED_PROBLEMS) && !def.fields.is_empty()
                            {
                                self.path.push(Segment::Key(key));
                                let path = self.path_text();
                                self.path.pop();
                                let list = self.undeclared.get_or_insert_with(Vec::new);
                                list.push(UndeclaredField {
                                    path,
                                    suggestion: warden_diagnostics::did_you_mean(
                                        key,
                                        def.fields.iter().map(|f| &*f.name),
                                    )
                                    .map(str::to_string),
                                });
                            }
                            if build {
                                extra
                                    .get_or_insert_with(MapValue::default)
                                    .insert(Arc::from(key.as_str()), any_value(item));
                            }
                        }
                        None => {
                            self.path.push(Segment::Key(key));
                            self.error(|_| {
                                (
                                    "no field of this name (the record type does not declare it)"
                                        .into(),
                                    describe(item),
                                )
                            });
                            self.path.pop();
                        }
                    }
                }
                for (slot, field) in def.fields.iter().enumerate() {
                    if present.get(slot) || field.optional || field.ty.is_optional() {
                        continue;
                    }
                    self.path.push(Segment::Missing(field.name.clone()));
                    self.error(|types| {
                        (
                            types.display(&field.ty),
                            "nothing (the field is missing)".into(),
                        )
                    });
                    self.path.pop();
                }
                slots.map_or(Value::None, |slots| {
                    Value::Record(Arc::new(RecordValue {
                        ty: *id,
                        slots: slots.into(),
                        extra,
                    }))
                })
            }
            _ => self.mismatch(ty, json),
        }
    }
}

/// Which slots of a record the document filled: a bit mask, without allocating
/// for records of up to 64 fields.
pub(crate) enum Present {
    Bits(u64),
    Flags(Vec<bool>),
}

impl Present {
    pub(crate) fn new(fields: usize) -> Self {
        if fields <= 64 {
            Present::Bits(0)
        } else {
            Present::Flags(vec![false; fields])
        }
    }
    pub(crate) fn set(&mut self, slot: usize) {
        match self {
            Present::Bits(bits) => *bits |= 1 << slot,
            Present::Flags(flags) => flags[slot] = true,
        }
    }
    pub(crate) fn get(&self, slot: usize) -> bool {
        match self {
            Present::Bits(bits) => bits & (1 << slot) != 0,
            Present::Flags(flags) => flags[slot],
        }
    }
}

/// An untyped JSON value: objects become maps.
pub fn any_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::None,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Str(Arc::from(s.as_str())),
        Json::Array(items) => Value::List(items.iter().map(any_value).collect::<Vec<_>>().into()),
        Json::Object(entries) => {
            let map: MapValue = entries
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), any_value(v)))
                .collect();
            Value::Map(Arc::new(map))
        }
    }
}

/// A value back to JSON (obligations, traces), using the types for record field names.
pub fn value_to_json(types: &TypeTable, ty: Option<&Ty>, value: &Value) -> Json {
    match value {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.to_string()),
        Value::Time(t) => Json::String(format_time(*t)),
        Value::Duration(d) => Json::String(format_duration(*d)),
        Value::List(items) => {
            let inner = match ty.map(Ty::strip_optional) {
                Some(Ty::List(inner)) => Some(&**inner),
                _ => None,
            };
            Json::Array(
                items
                    .iter()
                    .map(|v| value_to_json(types, inner, v))
                    .collect(),
            )
        }
        Value::Map(map) => {
            let inner = match ty.map(Ty::strip_optional) {
                Some(Ty::Map(inner)) => Some(&**inner),
                _ => None,
            };
            Json::Object(
                map.iter()
                    .map(|(k, v)| (k.to_string(), value_to_json(types, inner, v)))
                    .collect(),
            )
        }
        Value::Record(record) => {
            let mut out = serde_json::Map::new();
            let def = types.record(record.ty);
            for (field, v) in def.fields.iter().zip(record.slots.iter()) {
                if !(v.is_none() && field.optional) {
                    out.insert(
                        field.name.to_string(),
                        value_to_json(types, Some(&field.ty), v),
                    );
                }
            }
            if let Some(extra) = &record.extra {
                for (k, v) in extra {
                    out.insert(k.to_string(), value_to_json(types, None, v));
                }
            }
            Json::Object(out)
        }
    }
}
