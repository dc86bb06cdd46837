//! Data documents: `--data` files merged into `data`, validated against their
//! declarations, and the waivers a data file may carry (`data.waivers`).

use crate::document::{Bounds, StrictSeed};
use crate::{EngineError, InputLimits, PathError};
use serde_json::Value as Json;
use std::cell::Cell;
use warden_eval::{DataWaiver, WaiverRef};
use warden_ir::{DataId, Program, StreamLoader, Value};

/// Documents by id, and the waivers the data carried.
pub(crate) type LoadedData = (Vec<(DataId, Value)>, Vec<DataWaiver>);

/// Converts the top-level entries of a data object into values of their
/// declared types, and collects its waivers.
pub(crate) fn load(program: &Program, json: &Json) -> Result<LoadedData, EngineError> {
    let Json::Object(entries) = json else {
        return Err(EngineError::DataMismatch {
            name: "data".into(),
            errors: vec![PathError {
                path: "$".into(),
                expected: "an object of data documents".into(),
                found: kind(json).into(),
            }],
        });
    };
    let mut values = Vec::new();
    let mut waivers = Vec::new();
    for (name, doc) in entries {
        if name == "waivers" && program.data_by_name("waivers").is_none() {
            waivers = load_waivers(program, doc)?;
            continue;
        }
        let Some(id) = program.data_by_name(name) else {
            let known: Vec<String> = program
                .data
                .iter()
                .map(|d| format!("`{}`", d.name))
                .collect();
            return Err(EngineError::UnknownData {
                name: name.clone(),
                known: (!known.is_empty()).then(|| known.join(", ")),
            });
        };
        let decl = &program.data[id.index()];
        let value = warden_ir::json_to_value(&program.types, &decl.ty, doc).map_err(|errors| {
            EngineError::DataMismatch {
                name: name.clone(),
                errors: errors
                    .into_iter()
                    .map(|e| PathError {
                        path: format!("$.{name}{}", &e.path[1..]),
                        expected: e.expected,
                        found: e.found,
                    })
                    .collect(),
            }
        })?;
        values.push((id, value));
    }
    Ok((values, waivers))
}

fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// `[{ "name", "rule", "subject"?, "until", "reason", "approved_by" }]`.
fn load_waivers(program: &Program, doc: &Json) -> Result<Vec<DataWaiver>, EngineError> {
    let Json::Array(items) = doc else {
        return Err(EngineError::BadWaiver {
            index: 0,
            message: "`waivers` must be a list".into(),
        });
    };
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let bad = |message: String| EngineError::BadWaiver { index, message };
        // A misspelt key (`subjet`) must not silently widen a waiver to every subject.
        if let Some(object) = item.as_object() {
            const KEYS: [&str; 6] = ["name", "rule", "subject", "until", "reason", "approved_by"];
            if let Some(unknown) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
                return Err(bad(format!(
                    "unknown key `{unknown}`; a waiver has {}",
                    KEYS.join(", ")
                )));
            }
        }
        let field = |key: &str| -> Result<String, EngineError> {
            item.get(key)
                .and_then(Json::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("`{key}` must be a string")))
        };
        let name = field("name")?;
        let rule_name = field("rule")?;
        let rule = program
            .rule_by_name(&rule_name)
            .ok_or_else(|| bad(format!("no rule `{rule_name}` in the policy set")))?;
        let until_text = field("until")?;
        let until = warden_ir::parse_time(&until_text)
            .ok_or_else(|| bad(format!("`until` is not a date or time: `{until_text}`")))?;
        let subject = match item.get("subject") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("`subject` must be a string".into())),
        };
        let target = program.target(program.rule(rule).target);
        if subject.is_some() && target.subject.is_none() {
            return Err(bad(format!(
                "`subject` cannot match: target `{}` names no subject (declare `@subject(\"…\")` on it)",
                target.name
            )));
        }
        out.push(DataWaiver {
            waiver: WaiverRef {
                name,
                rule,
                reason: field("reason")?,
                approved_by: field("approved_by")?,
                until,
            },
            subject,
        });
    }
    Ok(out)
}

/// Data documents read in one streaming pass: each document's value, the
/// waivers, and each document's digest.
pub(crate) struct Streamed {
    pub(crate) values: Vec<(DataId, Value)>,
    pub(crate) waivers: Vec<DataWaiver>,
    pub(crate) digests: Vec<(String, [u8; 32])>,
}

/// Reads JSON data text (`name` set: the text is the one document
/// `data.name`; else an object of documents) straight into values, without
/// a JSON tree. `None` on any error at all: the caller then reads the text
/// the slow way ([`load`]), which says every error with its path. The limits
/// are counted exactly as [`crate::parse_json_with`] counts them.
pub(crate) fn load_streaming(
    program: &Program,
    bytes: &[u8],
    name: Option<&str>,
    limits: &InputLimits,
) -> Option<Streamed> {
    read_documents(
        program,
        &mut serde_json::Deserializer::from_slice(bytes),
        name,
        limits,
    )
}

/// [`load_streaming`] from a reader (a file, never held whole), with the
/// SHA-256 of the bytes it read. `None` also when the reader gives more
/// than `limits.max_bytes`.
pub(crate) fn load_streaming_from<R: std::io::Read>(
    program: &Program,
    source: HashingReader<R>,
    file: &str,
    name: Option<&str>,
    limits: &InputLimits,
) -> Option<(Streamed, [u8; 32])> {
    use std::io::BufRead;
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut buffered = std::io::BufReader::with_capacity(1 << 16, source);
    // A leading byte-order mark is skipped, as `checked_text` skips it (the
    // digest of the file's bytes still covers it).
    if buffered.fill_buf().ok()?.starts_with(BOM) {
        buffered.consume(BOM.len());
    }
    // Read as JSON only what the slow reader reads as JSON: a lone scalar in
    // `data.txt` is YAML.
    let head = String::from_utf8_lossy(buffered.fill_buf().ok()?);
    if !crate::document::looks_like_json(file, &head) {
        return None;
    }
    let streamed = read_documents(
        program,
        &mut serde_json::Deserializer::from_reader(&mut buffered),
        name,
        limits,
    )?;
    let source = buffered.into_inner();
    (source.read <= limits.max_bytes as u64).then(|| (streamed, source.hashing.finish()))
}

fn read_documents<'de, R: serde_json::de::Read<'de>>(
    program: &Program,
    deserializer: &mut serde_json::Deserializer<R>,
    name: Option<&str>,
    limits: &InputLimits,
) -> Option<Streamed> {
    use serde::de::DeserializeSeed;
    let bounds = Bounds {
        too_deep: Cell::new(false),
        values_left: Cell::new(limits.max_values()),
    };
    let mut streamed = Streamed {
        values: Vec::new(),
        waivers: Vec::new(),
        digests: Vec::new(),
    };
    let documents = Documents {
        program,
        bounds: &bounds,
        depth_left: limits.max_depth,
        out: &mut streamed,
    };
    let read = match name {
        Some(name) => documents.document(name, &mut *deserializer),
        None => documents.deserialize(&mut *deserializer),
    };
    read.and_then(|()| deserializer.end()).ok()?;
    Some(streamed)
}

/// A reader that hashes what passes through it, and counts it.
pub(crate) struct HashingReader<R> {
    inner: R,
    hashing: crate::revision::Hashing,
    read: u64,
}

impl<R> HashingReader<R> {
    pub(crate) fn new(inner: R) -> HashingReader<R> {
        HashingReader {
            inner,
            hashing: crate::revision::Hashing::new(),
            read: 0,
        }
    }
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        std::io::Write::write_all(&mut self.hashing, &buf[..n])?;
        self.read += n as u64;
        Ok(n)
    }
}

/// The documents one data file supplied, kept with the file's SHA-256 so a
/// reload of the very same bytes shares them instead of reading them again.
#[derive(Clone, Debug)]
pub(crate) struct DataSource {
    /// The `--data` argument as read: `NAME=FILE` or `FILE`.
    name: Option<String>,
    file: String,
    raw: [u8; 32],
    /// Each document's name, declared type, and value.
    documents: Vec<(String, warden_ir::Ty, Value)>,
    digests: Vec<(String, [u8; 32])>,
}

impl DataSource {
    /// `None` when the file held anything but declared documents (waivers,
    /// even none: they name rules of this policy set, and a later set may
    /// declare `data waivers`), so a reload reads it again.
    pub(crate) fn new(
        program: &Program,
        (name, file): (Option<&str>, &str),
        raw: [u8; 32],
        streamed: &Streamed,
    ) -> Option<DataSource> {
        if !streamed.waivers.is_empty() || streamed.digests.len() != streamed.values.len() {
            return None;
        }
        let documents = streamed
            .values
            .iter()
            .map(|(id, value)| {
                let decl = &program.data[id.index()];
                (decl.name.to_string(), decl.ty.clone(), value.clone())
            })
            .collect();
        Some(DataSource {
            name: name.map(str::to_string),
            file: file.to_string(),
            raw,
            documents,
            digests: streamed.digests.clone(),
        })
    }
}

/// What `previous` read from the same file, taken the same way (`NAME=FILE`
/// or `FILE`), when that was these very bytes, for `program`: only when
/// every type is the same (values carry record ids and union members of
/// their type table).
pub(crate) fn reuse(
    previous: &crate::Engine,
    program: &Program,
    (name, file): (Option<&str>, &str),
    raw: &[u8; 32],
) -> Option<Streamed> {
    let source = previous
        .data_sources()
        .iter()
        .find(|s| s.name.as_deref() == name && s.file == file && s.raw == *raw)?;
    if previous.program().types != program.types {
        return None;
    }
    let mut values = Vec::new();
    for (name, ty, value) in &source.documents {
        let id = program.data_by_name(name)?;
        if program.data[id.index()].ty != *ty {
            return None;
        }
        values.push((id, value.clone()));
    }
    Some(Streamed {
        values,
        waivers: Vec::new(),
        digests: source.digests.clone(),
    })
}

/// The top-level object of a data file: document name → document.
struct Documents<'p, 'o> {
    program: &'p Program,
    bounds: &'p Bounds,
    /// Nesting left for the top-level value.
    depth_left: usize,
    out: &'o mut Streamed,
}

impl Documents<'_, '_> {
    /// Reads one document (its value, at `self.depth_left`) as `data.name`.
    fn document<'de, D: serde::Deserializer<'de>>(
        self,
        name: &str,
        deserializer: D,
    ) -> Result<(), D::Error> {
        use serde::de::{DeserializeSeed, Error};
        if self.out.digests.iter().any(|(seen, _)| seen == name) {
            return Err(D::Error::custom("a document is given twice"));
        }
        if name == "waivers" && self.program.data_by_name("waivers").is_none() {
            let json = StrictSeed {
                depth_left: self.depth_left,
                bounds: self.bounds,
                keep: None,
            }
            .deserialize(deserializer)?;
            self.out.waivers = load_waivers(self.program, &json).map_err(D::Error::custom)?;
            self.out
                .digests
                .push((name.to_string(), crate::revision::digest_json(&json)));
            return Ok(());
        }
        let id = self
            .program
            .data_by_name(name)
            .ok_or_else(|| D::Error::custom("no such data document"))?;
        let mut hashing = crate::revision::Hashing::new();
        let value = {
            let loader =
                StreamLoader::new(&self.program.types, &self.bounds.values_left, &mut hashing);
            let ty = &self.program.data[id.index()].ty;
            loader.seed(ty, self.depth_left).deserialize(deserializer)?
        };
        self.out.values.push((id, value));
        self.out.digests.push((name.to_string(), hashing.finish()));
        Ok(())
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Documents<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Documents<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of data documents")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(depth_left) = self.depth_left.checked_sub(1) else {
            return Err(serde::de::Error::custom("the document nests too deeply"));
        };
        while let Some(name) = map.next_key::<String>()? {
            map.next_value_seed(DocumentSeed {
                documents: Documents {
                    program: self.program,
                    bounds: self.bounds,
                    depth_left,
                    out: self.out,
                },
                name: &name,
            })?;
            self.bounds.one_more()?;
        }
        Ok(())
    }
}

/// One entry's value of the top-level object.
struct DocumentSeed<'p, 'o, 'n> {
    documents: Documents<'p, 'o>,
    name: &'n str,
}

impl<'de> serde::de::DeserializeSeed<'de> for DocumentSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.documents.document(self.name, deserializer)
    }
}

#[cfg(test)]
mod tests {
    //! The streaming reader against the reference (`json_to_value` over a
    //! parsed tree): the same documents accepted, the same values built, the
    //! same digests.

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const POLICY: &str = r#"package t
type Color = "red" | "green"
type Inner = { at: time, every?: duration, tags: [string], n?: int }
type Closed = { name: string, color: Color, ratio: float, inner: Inner, count: int }
type Doc = {
  closed?: Closed,
  by_name: {string: Inner},
  maybe: int?,
  anything?: any,
  list?: [Color?],
  flag: bool,
  ...
}
data doc: Doc
data other: [int]?
"#;

    fn program() -> Program {
        let engine =
            crate::Engine::from_sources(crate::PolicySources::from_texts([("t.warden", POLICY)]))
                .unwrap_or_else(|e| panic!("{e}"));
        engine.program().clone()
    }

    /// The values read, and each document's digest.
    type Read = (Vec<(DataId, Value)>, Vec<[u8; 32]>);

    const LIMITS: InputLimits = InputLimits {
        max_bytes: 1 << 20,
        max_depth: 8,
    };

    /// The reference: a strict parse, then conversion, then digests as
    /// `Engine::with_data` computes them.
    fn slow(program: &Program, text: &str) -> Option<Read> {
        let json = crate::parse_json_with("d.json", text.as_bytes(), &LIMITS).ok()?;
        let (values, _) = load(program, &json).ok()?;
        let digests = json
            .as_object()?
            .values()
            .map(crate::revision::digest_json)
            .collect();
        Some((values, digests))
    }

    fn fast(program: &Program, text: &str) -> Option<Read> {
        let streamed = load_streaming(program, text.as_bytes(), None, &LIMITS)?;
        let digests = streamed.digests.into_iter().map(|(_, d)| d).collect();
        Some((streamed.values, digests))
    }

    fn agree(program: &Program, text: &str) {
        let (slow, fast) = (slow(program, text), fast(program, text));
        assert_eq!(slow, fast, "the two readers differ on {text}");
    }

    fn valid() -> serde_json::Value {
        json!({
            "doc": {
                "closed": {"name": "a\u{e9}\"b", "color": "red", "ratio": 1, "count": -3,
                           "inner": {"at": "2026-01-01T00:00:00Z", "every": "1h", "tags": [], "n": null}},
                "by_name": {"x": {"at": "2026-01-01", "tags": ["a", "b"]}, "": {"at": "2026-01-01T10:00:00+02:00", "tags": []}},
                "maybe": null,
                "anything": {"k": [1, 2.5, -1, 18446744073709551615u64, null, true, {"z": "s"}]},
                "list": ["green", null],
                "flag": false,
                "extra": {"kept": 1e300}
            },
            "other": [1, 2, 3]
        })
    }

    #[test]
    fn valid_documents_read_alike() {
        let program = program();
        let text = valid().to_string();
        assert!(
            fast(&program, &text).is_some(),
            "the fast path refused {text}"
        );
        agree(&program, &text);
        agree(&program, &serde_json::to_string_pretty(&valid()).unwrap());
        agree(
            &program,
            r#"{"other": null, "doc": {"by_name": {}, "flag": true}}"#,
        );
    }

    #[test]
    fn every_error_leaves_the_fast_path() {
        let program = program();
        for text in [
            r#"{"doc": {"by_name": {}, "flag": true, "flag": true}}"#,
            r#"{"doc": {"by_name": {"a": {"at": "2026-01-01", "tags": []}, "a": {"at": "2026-01-01", "tags": []}}, "flag": true}}"#,
            r#"{"doc": {"by_name": {}, "flag": true, "x": 1, "x": 2}}"#,
            r#"{"doc": {"by_name": {}, "flag": true, "anything": {"a": 1, "a": 1}}}"#,
            r#"{"doc": {"by_name": {}, "flag": true, "closed": null, "closed": null}}"#,
            r#"{"doc": {"by_name": {}}}"#,
            r#"{"doc": {"by_name": {}, "flag": null}}"#,
            r#"{"doc": {"by_name": {}, "flag": 1}}"#,
            r#"{"doc": {"by_name": {}, "flag": true, "maybe": 1.0}}"#,
            r#"{"doc": {"by_name": {}, "flag": true, "maybe": 9223372036854775808}}"#,
            r#"{"doc": {"by_name": {}, "flag": true, "list": ["blue"]}}"#,
            r#"{"doc": {"by_name": {"a": {"at": "yesterday", "tags": []}}, "flag": true}}"#,
            r#"{"doc": {"by_name": {"a": {"at": "2026-01-01", "tags": [], "more": 1}}, "flag": true}}"#,
            r#"{"doc": {"by_name": {}, "flag": true, "anything": [[[[[[[[[1]]]]]]]]]}}"#,
            r#"{"doc": {"by_name": {}, "flag": true}, "doc": {"by_name": {}, "flag": true}}"#,
            r#"{"nope": 1}"#,
            r#"{"doc": {"by_name": {}, "flag": true}} x"#,
            r#"[1]"#,
        ] {
            assert!(fast(&program, text).is_none(), "the fast path took {text}");
            assert!(slow(&program, text).is_none(), "the slow path took {text}");
        }
    }

    /// Any JSON, weighted towards the declared shapes, reads alike both ways.
    fn json_strategy() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(json!(null)),
            any::<bool>().prop_map(|b| json!(b)),
            any::<i64>().prop_map(|i| json!(i)),
            (-1e6f64..1e6).prop_map(|f| json!(f)),
            prop::sample::select(vec![
                "red",
                "green",
                "blue",
                "1h",
                "2026-01-01",
                "2026-01-01T00:00:00Z",
                "x",
                ""
            ])
            .prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::vec(
                    (
                        prop::sample::select(vec![
                            "name", "color", "ratio", "inner", "count", "at", "every", "tags", "n",
                            "closed", "by_name", "maybe", "anything", "list", "flag", "k",
                        ]),
                        inner
                    ),
                    0..6
                )
                .prop_map(|entries| {
                    let mut map = serde_json::Map::new();
                    for (k, v) in entries {
                        map.insert(k.to_string(), v);
                    }
                    serde_json::Value::Object(map)
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn generated_documents_read_alike(doc in json_strategy(), other in json_strategy()) {
            let program = program();
            agree(&program, &json!({"doc": doc, "other": other}).to_string());
            agree(&program, &json!({"doc": doc}).to_string());
        }

        /// A valid document with one of its values replaced: mostly near misses.
        #[test]
        fn mutated_documents_read_alike(at in any::<prop::sample::Index>(), with in json_strategy()) {
            let program = program();
            let mut doc = valid();
            let mut places = Vec::new();
            pointers(&doc, String::new(), &mut places);
            let place = at.get(&places).clone();
            *doc.pointer_mut(&place).expect("a place in the document") = with;
            agree(&program, &doc.to_string());
        }
    }

    fn engine(policy: &str) -> crate::Engine {
        crate::Engine::from_sources(crate::PolicySources::from_texts([("t.warden", policy)]))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn doc_value(engine: &crate::Engine) -> Value {
        let id = engine.program().data_by_name("doc").expect("declared");
        engine.data[id.index()].clone()
    }

    fn same_allocation(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Record(a), Value::Record(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    use std::sync::Arc;

    #[test]
    fn a_file_streams_as_the_tree_reads_it_and_a_reload_of_the_same_bytes_shares_it() {
        let dir = std::env::temp_dir().join(format!("warden-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("d.json");
        std::fs::write(&file, serde_json::to_string_pretty(&valid()).unwrap()).unwrap();
        let arg = file.display().to_string();

        let by_tree = engine(POLICY).with_data(&valid()).unwrap();
        let streamed = engine(POLICY).with_data_arg(&arg, &LIMITS).unwrap();
        assert_eq!(doc_value(&by_tree), doc_value(&streamed));
        assert_eq!(by_tree.data_revision(), streamed.data_revision());

        // A byte-order mark is skipped, as the slow reader skips it.
        let marked = dir.join("marked.json");
        std::fs::write(&marked, format!("\u{feff}{}", valid())).unwrap();
        let with_mark = engine(POLICY)
            .with_data_arg(&marked.display().to_string(), &LIMITS)
            .unwrap();
        assert_eq!(doc_value(&by_tree), doc_value(&with_mark));
        assert_eq!(by_tree.data_revision(), with_mark.data_revision());
        assert_eq!(
            with_mark.data_sources().len(),
            1,
            "streamed, and kept for reload"
        );

        // Unchanged bytes, recompiled policies: one copy of the data.
        let reloaded = engine(POLICY)
            .with_data_arg_reusing(&arg, &LIMITS, Some(&streamed))
            .unwrap();
        assert!(same_allocation(
            &doc_value(&streamed),
            &doc_value(&reloaded)
        ));
        assert_eq!(streamed.data_revision(), reloaded.data_revision());

        // A type that changed: read again (and here refused).
        let retyped = POLICY.replace("flag: bool", "flag: int");
        assert!(
            engine(&retyped)
                .with_data_arg_reusing(&arg, &LIMITS, Some(&streamed))
                .is_err()
        );

        // Other bytes: read again, and the revision moves.
        let mut changed = valid();
        changed["doc"]["flag"] = json!(true);
        std::fs::write(&file, changed.to_string()).unwrap();
        let changed = engine(POLICY)
            .with_data_arg_reusing(&arg, &LIMITS, Some(&streamed))
            .unwrap();
        assert!(!same_allocation(
            &doc_value(&streamed),
            &doc_value(&changed)
        ));
        assert_ne!(streamed.data_revision(), changed.data_revision());

        // A file past the byte limit is refused as the slow reader refuses it.
        let small = InputLimits {
            max_bytes: 64,
            max_depth: 8,
        };
        let err = engine(POLICY).with_data_arg(&arg, &small).unwrap_err();
        assert_eq!(err.code(), Some(warden_diagnostics::Code::E0407));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("warden-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A file named neither `.json` nor `.yaml` is JSON only when it holds an
    /// object or a list, as the slow reader decides: a lone scalar is YAML.
    #[test]
    fn a_lone_scalar_in_a_file_not_named_json_is_read_as_yaml() {
        let policy = "package t\ndata fl: float\ndata st: string\n";
        let dir = temp_dir("scalar");
        for (file, text) in [("fl.txt", "-0"), ("st.txt", "\"\\ud83d\\ude00\"")] {
            let path = dir.join(file);
            std::fs::write(&path, text).unwrap();
            let name = &file[..2];
            let arg = format!("{name}={}", path.display());
            let streamed = engine(policy).with_data_arg(&arg, &LIMITS);
            let slow = crate::parse_document_with(file, text, &LIMITS)
                .and_then(|doc| engine(policy).with_data(&json!({ name: doc })));
            match (streamed, slow) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.data, b.data, "{file}");
                    assert_eq!(a.data_revision(), b.data_revision(), "{file}");
                }
                (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "{file}"),
                (a, b) => panic!("{file}: {:?} against {:?}", a.is_ok(), b.is_ok()),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A reader that gives more than the limit (a file that grew while it
    /// was read) leaves the fast path, even when what it gave parses.
    #[test]
    fn a_stream_past_the_byte_limit_leaves_the_fast_path() {
        let program = program();
        let text = r#"{"doc": {"by_name": {}, "flag": true}}"#;
        let limits = InputLimits {
            max_bytes: text.len() + 4,
            max_depth: 8,
        };
        let within = format!("{text}    ");
        let past = format!("{text}     ");
        let read = |t: &str| {
            let reader = std::io::Read::take(t.as_bytes(), limits.max_bytes as u64 + 1);
            load_streaming_from(
                &program,
                HashingReader::new(reader),
                "d.json",
                None,
                &limits,
            )
        };
        assert!(read(&within).is_some());
        assert!(read(&past).is_none());
    }

    /// A file that carried a `waivers` document (even an empty one) is read
    /// again on reload: the new policy set may declare `data waivers`.
    #[test]
    fn a_file_with_waivers_is_not_shared_on_reload() {
        let dir = temp_dir("waivers");
        let file = dir.join("d.json");
        std::fs::write(
            &file,
            r#"{"doc": {"by_name": {}, "flag": true}, "waivers": []}"#,
        )
        .unwrap();
        let arg = file.display().to_string();
        let first = engine(POLICY).with_data_arg(&arg, &LIMITS).unwrap();
        let declaring = format!("{POLICY}data waivers: [int] = [7]\n");
        let reloaded = engine(&declaring)
            .with_data_arg_reusing(&arg, &LIMITS, Some(&first))
            .unwrap();
        let id = reloaded.program().data_by_name("waivers").unwrap();
        assert_eq!(reloaded.data[id.index()], Value::List(Arc::from([])));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Values are shared only for the file taken the same way: `NAME=FILE`
    /// is one document, `FILE` a whole object.
    #[test]
    fn sharing_needs_the_same_reading_of_the_argument() {
        let dir = temp_dir("split");
        let file = dir.join("d.json");
        std::fs::write(&file, r#"{"by_name": {}, "flag": true}"#).unwrap();
        let path = file.display().to_string();
        let first = engine(POLICY)
            .with_data_arg(&format!("doc={path}"), &LIMITS)
            .unwrap();
        let raw = first.data_sources()[0].raw;
        let program = first.program().clone();
        assert!(reuse(&first, &program, (Some("doc"), &path), &raw).is_some());
        assert!(reuse(&first, &program, (None, &path), &raw).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `decide_text` refuses what `decide` over the parsed text refuses,
    /// with the same codes and paths.
    #[test]
    fn deciding_from_text_refuses_as_deciding_from_a_tree() {
        let policy =
            "package t\ntype R = { a: int, b?: \"x\" | \"y\", ... }\ntarget r: R default allow\n";
        let engine = engine(policy);
        let now = std::time::SystemTime::UNIX_EPOCH;
        let options = crate::DecideOptions::default();
        for text in [
            r#"{"a": 1, "b": "z"}"#,
            r#"{"a": "one"}"#,
            r#"{"b": "x"}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 1"#,
            r#"[1]"#,
        ] {
            let by_text = engine.decide_text("r", text, now, &options).unwrap_err();
            match crate::parse_json_with("input", text.as_bytes(), &crate::InputLimits::INPUT) {
                Ok(json) => {
                    let by_tree = engine.decide_with("r", &json, now, &options).unwrap_err();
                    assert_eq!(by_text.to_string(), by_tree.to_string(), "{text}");
                }
                Err(e) => assert_eq!(by_text.code(), e.code().unwrap(), "{text}"),
            }
        }
        // The input limits hold on this path too: nesting past 64 levels.
        let deep = format!(r#"{{"a": 1, "c": {}1{}}}"#, "[".repeat(70), "]".repeat(70));
        let too_deep = engine.decide_text("r", &deep, now, &options).unwrap_err();
        assert_eq!(too_deep.code(), warden_diagnostics::Code::E0408);
        let allowed = engine
            .decide_text("r", r#"{"a": 1, "b": "y", "c": [true]}"#, now, &options)
            .unwrap();
        assert!(allowed.is_allowed());
    }

    /// Every JSON pointer into `value`.
    fn pointers(value: &serde_json::Value, here: String, out: &mut Vec<String>) {
        out.push(here.clone());
        match value {
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    pointers(item, format!("{here}/{i}"), out);
                }
            }
            serde_json::Value::Object(entries) => {
                for (key, item) in entries {
                    pointers(
                        item,
                        format!("{here}/{}", key.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            _ => {}
        }
    }
}
