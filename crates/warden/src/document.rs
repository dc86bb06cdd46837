//! Input documents (JSON or YAML) with the position of every value, so a
//! finding can point at the manifest line that decided it.
//!
//! Both formats are read within [`InputLimits`]: the size is checked before
//! anything is parsed, and the depth while parsing, so no document is built
//! deeper than its limit. YAML is read from the parser's events with an
//! explicit stack (no recursion, whatever the nesting), and positions are
//! kept in a tree shaped like the document (no path string per value).

use crate::{Decision, EngineError, InputLimits, Location};
use saphyr::{Scalar, ScalarStyle};
use saphyr_parser::{Event, Parser, Span};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::cell::Cell;

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

/// Where values stand in a document's text, looked up by the input paths
/// that decisions report. Lines and columns are 1-based; columns count
/// characters. A tree shaped like the document: memory grows with the
/// number of values, not with the length of their paths.
#[derive(Clone, Debug, Default)]
pub struct Positions {
    nodes: Vec<PositionNode>,
}

#[derive(Clone, Debug)]
struct PositionNode {
    at: (u32, u32),
    children: Children,
}

#[derive(Clone, Debug)]
enum Children {
    None,
    /// A sequence's items, by index.
    Items(Vec<u32>),
    /// A mapping's entries, sorted by key, each with where its key stands.
    Entries(Vec<(Box<str>, u32, (u32, u32))>),
}

impl Positions {
    /// The position of `path`, or of its nearest ancestor that is written in
    /// the document (a field the manifest leaves out points at its parent).
    pub fn locate(&self, path: &str) -> Option<(u32, u32)> {
        self.walk(path).map(|(node, _)| node.at)
    }

    /// Where the key of the entry at `path` stands (`$.spec.auth.sso` → the
    /// `sso` of `sso: none`); `None` when `path` does not end in a key the
    /// document writes.
    pub fn locate_key(&self, path: &str) -> Option<(u32, u32)> {
        let (parent, key) = split_last_key(path)?;
        match self.walk(parent)? {
            (node, true) => match &node.children {
                Children::Entries(entries) => entries
                    .binary_search_by(|(k, _, _)| (**k).cmp(key.as_str()))
                    .ok()
                    .map(|i| entries[i].2),
                _ => None,
            },
            (_, false) => None,
        }
    }

    /// The node at `path`, or at its nearest ancestor the document writes;
    /// and whether it is the node at `path` itself.
    fn walk(&self, path: &str) -> Option<(&PositionNode, bool)> {
        let mut node = self.nodes.first()?;
        let mut rest = path.strip_prefix('$')?;
        while !rest.is_empty() {
            let child = if let Some(after) = rest.strip_prefix("[\"") {
                // A quoted key (`["a b"]`): to its first unescaped quote.
                let mut escaped = false;
                let close = after.find(|c| {
                    let end = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    end
                })?;
                let tail = after[close + 1..].strip_prefix(']')?;
                let key = serde_json::from_str::<String>(&rest[1..close + 3]).ok();
                rest = tail;
                match (&node.children, key) {
                    (Children::Entries(entries), Some(key)) => entries
                        .binary_search_by(|(k, _, _)| (**k).cmp(key.as_str()))
                        .ok()
                        .map(|i| entries[i].1),
                    _ => None,
                }
            } else if let Some(after) = rest.strip_prefix('[') {
                let (index, tail) = after.split_once(']')?;
                rest = tail;
                match (&node.children, index.parse::<usize>()) {
                    (Children::Items(items), Ok(i)) => items.get(i).copied(),
                    _ => None,
                }
            } else if let Some(after) = rest.strip_prefix('.') {
                // A key runs to the next `.` or `[` (paths name fields plainly).
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let key = &after[..end];
                rest = &after[end..];
                match &node.children {
                    Children::Entries(entries) => entries
                        .binary_search_by(|(k, _, _)| (**k).cmp(key))
                        .ok()
                        .map(|i| entries[i].1),
                    _ => None,
                }
            } else {
                None
            };
            match child {
                Some(i) => node = &self.nodes[i as usize],
                None => return Some((node, false)),
            }
        }
        Some((node, true))
    }
}

/// `$.a.b` → (`$.a`, `b`); `$.a["x.y"]` → (`$.a`, `x.y`).
fn split_last_key(path: &str) -> Option<(&str, String)> {
    if let Some(stripped) = path.strip_suffix("\"]")
        && let Some(open) = stripped.rfind("[\"")
    {
        let quoted = &path[open + 1..path.len() - 1];
        let key: String = serde_json::from_str(quoted).ok()?;
        return Some((&path[..open], key));
    }
    let dot = path.rfind('.')?;
    if path[dot..].contains(['[', ']']) {
        return None;
    }
    Some((&path[..dot], path[dot + 1..].to_string()))
}

/// A syntax error (or a limit) of document `name`.
fn syntax(name: &str, format: &'static str, message: String) -> EngineError {
    EngineError::Syntax {
        name: name.into(),
        format,
        message,
    }
}

impl Document {
    /// Parses a JSON or YAML document within [`InputLimits::INPUT`]; see
    /// [`Document::parse_with`].
    pub fn parse(name: &str, text: &str) -> Result<Document, EngineError> {
        Self::parse_with(name, text, &InputLimits::INPUT)
    }

    /// Parses a JSON or YAML document (YAML 1.2; JSON is tried first when the
    /// name ends in `.json` or the text starts with `{` or `[`), refusing one
    /// larger or deeper than `limits`, a key given twice, and YAML aliases.
    pub fn parse_with(
        name: &str,
        text: &str,
        limits: &InputLimits,
    ) -> Result<Document, EngineError> {
        let limits = limits.clamped();
        let text = checked_text(name, text, &limits)?;
        if looks_like_json(name, text) {
            let value = parse_json_with(name, text.as_bytes(), &limits)?;
            // JSON is YAML 1.2 flow syntax: the YAML reader places its
            // values. Should it refuse a corner of JSON, the decision
            // stands, without input locations.
            let positions = read_yaml(name, text, &limits, true)
                .map(|(_, positions)| positions)
                .unwrap_or_default();
            return Ok(Document {
                name: name.into(),
                value,
                positions,
            });
        }
        let (value, positions) = read_yaml(name, text, &limits, true)?;
        Ok(Document {
            name: name.into(),
            value,
            positions,
        })
    }
}

/// The text without its byte-order mark, once it is known to be within the
/// size limit and not empty.
pub(crate) fn checked_text<'t>(
    name: &str,
    text: &'t str,
    limits: &InputLimits,
) -> Result<&'t str, EngineError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > limits.max_bytes {
        return Err(EngineError::TooLarge {
            name: name.into(),
            size: text.len() as u64,
            limit: limits.max_bytes,
        });
    }
    if text.trim_start().is_empty() {
        return Err(syntax(name, "JSON or YAML", "the document is empty".into()));
    }
    Ok(text)
}

/// JSON is what is named `.json`, or starts as an object or a list, unless
/// it is named as YAML.
pub(crate) fn looks_like_json(name: &str, text: &str) -> bool {
    let yaml_name = name.ends_with(".yaml") || name.ends_with(".yml");
    let trimmed = text.trim_start();
    !yaml_name && (name.ends_with(".json") || trimmed.starts_with('{') || trimmed.starts_with('['))
}

/// Parses a JSON or YAML document within [`InputLimits::INPUT`]; see [`Document::parse_with`].
pub fn parse_document(name: &str, text: &str) -> Result<Json, EngineError> {
    parse_document_with(name, text, &InputLimits::INPUT)
}

/// Parses a JSON or YAML document within `limits`, without recording
/// positions (data documents, request bodies).
pub fn parse_document_with(
    name: &str,
    text: &str,
    limits: &InputLimits,
) -> Result<Json, EngineError> {
    let limits = limits.clamped();
    let text = checked_text(name, text, &limits)?;
    if looks_like_json(name, text) {
        return parse_json_with(name, text.as_bytes(), &limits);
    }
    read_yaml(name, text, &limits, false).map(|(value, _)| value)
}

/// Parses JSON text within `limits`: a key given twice in one object is an
/// error (a plain parse would silently keep the last), and so is nesting
/// deeper than the limit, noticed before the deeper level is built.
pub fn parse_json_with(
    name: &str,
    bytes: &[u8],
    limits: &InputLimits,
) -> Result<Json, EngineError> {
    parse_strict(name, bytes, limits, None)
}

/// [`parse_json_with`], keeping only the values on `paths` (each a list of
/// keys from the root): a scalar where a path ends, the objects that lead
/// to one. Everything else is skipped without being built, and lists are
/// never on a path (they become `null`). What a decision log reads from a
/// request it has already decided.
pub fn parse_json_paths(
    name: &str,
    bytes: &[u8],
    limits: &InputLimits,
    paths: &[&[&str]],
) -> Result<Json, EngineError> {
    parse_strict(name, bytes, limits, Some(paths))
}

fn parse_strict(
    name: &str,
    bytes: &[u8],
    limits: &InputLimits,
    keep: Option<&[&[&str]]>,
) -> Result<Json, EngineError> {
    use serde::de::DeserializeSeed;
    let limits = limits.clamped();
    if bytes.len() > limits.max_bytes {
        return Err(EngineError::TooLarge {
            name: name.into(),
            size: bytes.len() as u64,
            limit: limits.max_bytes,
        });
    }
    let bounds = Bounds {
        too_deep: Cell::new(false),
        values_left: Cell::new(limits.max_values()),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictSeed {
        depth_left: limits.max_depth,
        bounds: &bounds,
        keep,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match parsed {
        Ok(value) => Ok(value),
        Err(_) if bounds.too_deep.get() => Err(EngineError::TooDeep {
            name: name.into(),
            limit: limits.max_depth,
        }),
        Err(_) if bounds.values_left.get() == 0 => Err(EngineError::TooManyValues {
            name: name.into(),
            limit: limits.max_values(),
        }),
        Err(e) => Err(syntax(name, "JSON", e.to_string())),
    }
}

/// A `--data` argument read into the object [`crate::Engine::with_data`]
/// takes: `FILE` holds the whole object (`{"catalog": …}`), `NAME=FILE` the
/// one document `data.NAME`. A path that exists as written is a file. Read
/// within [`InputLimits::DATA`].
pub fn read_data_arg(arg: &str) -> Result<Json, EngineError> {
    read_data_arg_with(arg, &InputLimits::DATA)
}

/// A `--data` argument as `(NAME, FILE)`: `NAME=FILE` when `NAME` is a
/// name (letters, digits, `_`) and the whole argument is not itself a file
/// (`exists` says; a file may be named `a=b.json`), else just `FILE`.
pub fn split_data_arg(arg: &str, exists: impl Fn(&str) -> bool) -> (Option<&str>, &str) {
    let named = arg.split_once('=').filter(|(name, _)| {
        !exists(arg)
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    match named {
        Some((name, file)) => (Some(name), file),
        None => (None, arg),
    }
}

/// [`read_data_arg`] within `limits`.
pub fn read_data_arg_with(arg: &str, limits: &InputLimits) -> Result<Json, EngineError> {
    let (name, file) = split_data_arg(arg, |whole| std::path::Path::new(whole).exists());

    let text = crate::files::read_file_bounded(std::path::Path::new(file), limits.max_bytes)?;
    let document = parse_document_with(file, &text, limits)?;
    Ok(match name {
        Some(name) => serde_json::json!({ name: document }),
        None => document,
    })
}

impl Decision {
    /// Fills each finding's `input_location` from the document it decided.
    pub fn locate_input(&mut self, document: &Document) {
        let file: std::sync::Arc<str> = std::sync::Arc::from(document.name.as_str());
        for finding in self
            .findings
            .iter_mut()
            .chain(&mut self.warnings)
            .chain(&mut self.waived)
        {
            let Some(path) = &finding.input_path else {
                continue;
            };
            // A field the schema does not declare is about its name.
            let key = (*finding.rule == *crate::decision::UNDECLARED_FIELD_RULE)
                .then(|| document.positions.locate_key(path))
                .flatten();
            finding.input_location =
                key.or_else(|| document.positions.locate(path))
                    .map(|(line, column)| Location {
                        file: file.clone(),
                        line,
                        column,
                    });
        }
    }
}

fn spot(marker: saphyr::Marker) -> (u32, u32) {
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (clamp(marker.line()), clamp(marker.col() + 1))
}

/// A collection being read: its value so far and its position node.
enum Open {
    Sequence {
        items: Vec<Json>,
        node: u32,
    },
    Mapping {
        entries: serde_json::Map<String, Json>,
        node: u32,
        /// The key read, waiting for its value, and where it is written.
        key: Option<(String, (u32, u32))>,
    },
}

/// Reads one YAML document from the parser's events, with an explicit
/// stack: the value, and (when asked) where each value is written. A
/// scalar is placed at its value; a mapping entry holding a collection at
/// its key (`auth:`), where a reader looks for it.
fn read_yaml(
    name: &str,
    text: &str,
    limits: &InputLimits,
    positions: bool,
) -> Result<(Json, Positions), EngineError> {
    let fail = |message: String| syntax(name, "YAML", message);
    let mut tree = Positions::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Json> = None;
    let mut documents = 0;
    let mut values_left = limits.max_values();
    let new_node = |tree: &mut Positions, at: (u32, u32), children: Children| -> u32 {
        if !positions {
            return 0;
        }
        tree.nodes.push(PositionNode { at, children });
        (tree.nodes.len() - 1) as u32
    };
    for event in Parser::new_from_str(text) {
        let (event, span): (Event<'_>, Span) = event.map_err(|e| {
            // The scanner's own bound on nesting, met before its events are.
            if e.to_string().contains("recursion limit exceeded") {
                EngineError::TooDeep {
                    name: name.into(),
                    limit: limits.max_depth,
                }
            } else {
                fail(e.to_string())
            }
        })?;
        let at = spot(span.start);
        // Tags (`!!int`, `!!merge`, `!<tag:yaml.org,2002:str>`) are read
        // differently by YAML 1.1 tools (a tagged merge key merges; a
        // tagged `0365` is octal): refused, like aliases.
        if let Event::Scalar(_, _, _, Some(_))
        | Event::SequenceStart(_, Some(_))
        | Event::MappingStart(_, Some(_)) = &event
        {
            return Err(fail(
                "YAML tags (`!!int`, `!!str`, `!!merge`, `!<…>`) are not supported; \
                 write the plain value"
                    .into(),
            ));
        }
        if matches!(
            event,
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..)
        ) {
            values_left = values_left
                .checked_sub(1)
                .ok_or_else(|| EngineError::TooManyValues {
                    name: name.into(),
                    limit: limits.max_values(),
                })?;
        }
        // A finished value: its position node, whether it is a collection.
        let done: Option<(Json, u32, bool)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(fail(
                        "one document per file, please (found `---` separators)".into(),
                    ));
                }
                None
            }
            Event::Alias(_) => {
                return Err(fail(
                    "YAML aliases are not supported; write the value out".into(),
                ));
            }
            Event::Scalar(value, style, _, tag) => {
                let json = scalar_to_json(value, style, tag.as_ref()).map_err(fail)?;
                let node = new_node(&mut tree, at, Children::None);
                Some((json, node, false))
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= limits.max_depth {
                    return Err(EngineError::TooDeep {
                        name: name.into(),
                        limit: limits.max_depth,
                    });
                }
                let open = if matches!(event, Event::SequenceStart(..)) {
                    let node = new_node(&mut tree, at, Children::Items(Vec::new()));
                    Open::Sequence {
                        items: Vec::new(),
                        node,
                    }
                } else {
                    let node = new_node(&mut tree, at, Children::Entries(Vec::new()));
                    Open::Mapping {
                        entries: serde_json::Map::new(),
                        node,
                        key: None,
                    }
                };
                stack.push(open);
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Sequence { items, node }) => Some((Json::Array(items), node, true)),
                Some(Open::Mapping { entries, node, .. }) => {
                    if positions
                        && let Children::Entries(e) = &mut tree.nodes[node as usize].children
                    {
                        e.sort_by(|a, b| a.0.cmp(&b.0));
                    }
                    Some((Json::Object(entries), node, true))
                }
                None => return Err(fail("unbalanced collections".into())),
            },
        };
        let Some((value, node, collection)) = done else {
            continue;
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Open::Sequence {
                items,
                node: parent,
            }) => {
                if positions
                    && let Children::Items(children) = &mut tree.nodes[*parent as usize].children
                {
                    children.push(node);
                }
                items.push(value);
            }
            Some(Open::Mapping {
                entries,
                node: parent,
                key,
            }) => match key.take() {
                None => {
                    let text = match value {
                        Json::String(s) => s,
                        Json::Null => "null".into(),
                        Json::Array(_) | Json::Object(_) => {
                            return Err(fail(format!(
                                "line {}: a mapping key must be a plain value, not a list or a mapping",
                                at.0
                            )));
                        }
                        other => other.to_string(),
                    };
                    if entries.contains_key(&text) {
                        return Err(fail(format!(
                            "line {}: the key `{text}` is given twice",
                            at.0
                        )));
                    }
                    // The key's own position node is not kept: only where it is.
                    if positions {
                        tree.nodes.pop();
                    }
                    *key = Some((text, at));
                }
                Some((text, key_at)) => {
                    if positions {
                        if collection {
                            tree.nodes[node as usize].at = key_at;
                        }
                        if let Children::Entries(children) =
                            &mut tree.nodes[*parent as usize].children
                        {
                            children.push((text.clone().into_boxed_str(), node, key_at));
                        }
                    }
                    entries.insert(text, value);
                }
            },
        }
    }
    match root {
        Some(value) => Ok((value, tree)),
        None => Err(fail("the document is empty".into())),
    }
}

fn scalar_to_json(
    value: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Cow<'_, saphyr::Tag>>,
) -> Result<Json, String> {
    if style == ScalarStyle::Plain
        && tag.is_none()
        && let Some(why) = read_two_ways(&value)
    {
        return Err(why);
    }
    let Some(scalar) = Scalar::parse_from_cow_and_metadata(value, style, tag) else {
        return Err("a value that YAML cannot represent (an unknown `!!` tag?)".into());
    };
    Ok(match scalar {
        Scalar::Null => Json::Null,
        Scalar::Boolean(b) => Json::Bool(b),
        Scalar::Integer(i) => Json::from(i),
        // `.inf` and `.nan` have no JSON form; refusing them beats reading them as absent.
        Scalar::FloatingPoint(f) => match serde_json::Number::from_f64(f.into_inner()) {
            Some(n) => Json::Number(n),
            None => return Err(format!("`{}` is not a finite number", f.into_inner())),
        },
        Scalar::String(s) => Json::String(s.into_owned()),
    })
}

/// Why a plain scalar is refused: YAML 1.1 readers (PyYAML, go-yaml, so
/// much of the tooling around Kubernetes) read it as something other than
/// what YAML 1.2 (and Warden) reads, so a manifest could pass Warden and
/// mean another thing to the tool that deploys it.
fn read_two_ways(plain: &str) -> Option<String> {
    if plain == "<<" {
        return Some(
            "`<<` merge keys are not supported (YAML 1.1 tools merge the fields,              Warden would read a key named `<<`); write the fields out"
                .into(),
        );
    }
    let digits = plain.strip_prefix(['-', '+']).unwrap_or(plain);
    let octal_1_1 =
        digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
    let octal_1_2 = digits.len() > 2
        && digits.starts_with("0o")
        && digits[2..].bytes().all(|b| b.is_ascii_digit());
    (octal_1_1 || octal_1_2).then(|| {
        format!(
            "`{plain}` is a different number to YAML 1.1 tools (octal) than to YAML 1.2;              write it without the leading zero, or quote it as a string"
        )
    })
}

/// What a JSON read has left: whether it went too deep, how many more
/// values it may build.
pub(crate) struct Bounds {
    pub(crate) too_deep: Cell<bool>,
    pub(crate) values_left: Cell<usize>,
}

impl Bounds {
    /// Counts one value built, or an error past the limit.
    pub(crate) fn one_more<E: serde::de::Error>(&self) -> Result<(), E> {
        warden_ir::count_value(&self.values_left)
    }
}

/// Reads one JSON value, refusing a key given twice and nesting or a count
/// of values past the limits.
pub(crate) struct StrictSeed<'a> {
    pub(crate) depth_left: usize,
    pub(crate) bounds: &'a Bounds,
    /// Only these paths below this value are kept ([`parse_json_paths`]).
    pub(crate) keep: Option<&'a [&'a [&'a str]]>,
}

impl<'de> serde::de::DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Json;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StrictSeed<'_> {
    /// The seed for the values inside a list or object, or an error past the limit.
    fn deeper<E: serde::de::Error>(&self) -> Result<StrictSeed<'_>, E> {
        match self.depth_left.checked_sub(1) {
            Some(depth_left) => Ok(StrictSeed {
                depth_left,
                bounds: self.bounds,
                keep: self.keep,
            }),
            None => {
                self.bounds.too_deep.set(true);
                Err(E::custom("the document nests too deeply"))
            }
        }
    }
}

impl<'de> serde::de::Visitor<'de> for StrictSeed<'_> {
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
        let inner = self.deeper()?;
        if inner.keep.is_some() {
            // No kept path goes through a list.
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            return Ok(Json::Null);
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed {
            depth_left: inner.depth_left,
            bounds: inner.bounds,
            keep: None,
        })? {
            inner.bounds.one_more()?;
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let inner = self.deeper()?;
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key `{key}` is given twice"
                )));
            }
            let below: Option<Vec<&[&str]>> = inner.keep.map(|paths| {
                paths
                    .iter()
                    .filter_map(|path| match path.split_first() {
                        Some((first, rest)) if *first == key => Some(rest),
                        _ => None,
                    })
                    .collect()
            });
            if below.as_ref().is_some_and(Vec::is_empty) {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            let value = map.next_value_seed(StrictSeed {
                depth_left: inner.depth_left,
                bounds: inner.bounds,
                keep: below.as_deref(),
            })?;
            inner.bounds.one_more()?;
            object.insert(key, value);
        }
        Ok(Json::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_and_infinite_yaml_numbers_are_refused() {
        assert!(
            parse_document("in.json", r#"{"a": 1, "a": 2}"#)
                .unwrap_err()
                .to_string()
                .contains("given twice")
        );
        assert!(
            parse_document("in.yaml", "a: 1\nb: 2\na: 3\n")
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
        assert!(parse_document("in.yaml", "a: &x 1\nb: *x\n").is_err());
        assert!(parse_document("in.yaml", "a: 1\n---\nb: 2\n").is_err());
        assert!(parse_document("in.yaml", "? [a]\n: 1\n").is_err());
    }

    #[test]
    fn yaml_values_keep_their_core_schema_types() {
        let doc = parse_document(
            "in.yaml",
            "s: text\nq: \"1\"\ni: 12\nh: 0x1f\nf: 1.5\nb: true\nn: ~\ne:\nl: [1, two]\n",
        )
        .unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"s": "text", "q": "1", "i": 12, "h": 31, "f": 1.5, "b": true,
                               "n": null, "e": null, "l": [1, "two"]})
        );
    }

    #[test]
    fn deep_and_large_documents_are_refused_before_they_are_built() {
        let limits = InputLimits {
            max_bytes: 1 << 20,
            max_depth: 64,
        };
        let code = |r: Result<Json, EngineError>| r.unwrap_err().code();
        // Block style, nested fifty thousand levels: no stack overflow.
        let block = "- ".repeat(50_000) + "x\n";
        assert_eq!(
            code(parse_document_with("deep.yaml", &block, &limits)),
            Some(warden_diagnostics::Code::E0408)
        );
        let flow = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(
            code(parse_document_with("deep.yaml", &flow, &limits)),
            Some(warden_diagnostics::Code::E0408)
        );
        assert_eq!(
            code(parse_document_with("deep.json", &flow, &limits)),
            Some(warden_diagnostics::Code::E0408)
        );
        let nested_map = "{\"a\":".repeat(65) + "1" + &"}".repeat(65);
        assert_eq!(
            code(parse_document_with("deep.json", &nested_map, &limits)),
            Some(warden_diagnostics::Code::E0408)
        );
        let nested_map = "{\"a\":".repeat(64) + "1" + &"}".repeat(64);
        assert!(parse_document_with("ok.json", &nested_map, &limits).is_ok());
        let big = format!("{{\"a\": \"{}\"}}", "x".repeat(2 << 20));
        assert_eq!(
            code(parse_document_with("big.json", &big, &limits)),
            Some(warden_diagnostics::Code::E0407)
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
        assert_eq!(at("$"), Some((1, 1)));
        let json = Document::parse("app.json", "{\n  \"spec\": {\"tls\": \"1.2\"}\n}").unwrap();
        assert_eq!(json.positions.locate("$.spec.tls"), Some((2, 19)));
        assert_eq!(at_key(&doc, "$.spec.auth.sso"), Some((5, 5)));
        assert_eq!(at_key(&doc, "$.spec.roles[1].name"), Some((8, 7)));
        assert_eq!(at_key(&doc, "$.spec.auth.mfa"), None);
        assert_eq!(json.positions.locate_key("$.spec.tls"), Some((2, 12)));
    }

    #[test]
    fn quoted_keys_in_paths_are_followed() {
        let text = "m:
  \"a b\":
    - q
    - 3
  \"say \\\"hi\\\"\": 1
";
        let doc = Document::parse("app.yaml", text).unwrap();
        let at = |p: &str| doc.positions.locate(p);
        assert_eq!(at(r#"$.m["a b"][0]"#), Some((3, 7)));
        assert_eq!(at(r#"$.m["say \"hi\""]"#), Some((5, 17)));
        // A key cut short (`…`) names no entry: its map is the place.
        assert_eq!(at("$.m[\"a …\"][0]"), Some((1, 1)));
    }

    fn at_key(doc: &Document, path: &str) -> Option<(u32, u32)> {
        doc.positions.locate_key(path)
    }
}
