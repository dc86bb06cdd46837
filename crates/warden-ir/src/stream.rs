//! JSON text straight into values, shaped by the declared type, in one pass:
//! no `serde_json::Value` tree in between. This is how large data documents
//! load (a 100,000-app catalog is 60 MB of JSON) and how an input given as
//! text is read ([`read_typed`]); [`crate::json_to_value`] stays the
//! reference.
//!
//! The fast path says only yes or no: on any mismatch, limit or syntax error
//! it stops, and the caller reads the document again the slow way, which
//! lists every error with its path. So this reader must accept exactly what
//! the slow one accepts (a key given twice is refused here too) and build
//! the same value: the `warden` crate's `data.rs` tests compare the two on
//! generated and mutated documents, and its property laws hold deciding
//! from text to deciding from a tree.
//!
//! While reading, it writes the document back out as compact JSON into
//! `echo` (keys in the order given), which is what a revision digest hashes:
//! the digest is computed without a tree or a second serialisation.

use crate::{
    MapValue, Reads, RecordValue, Ty, TypeLookup, TypeTable, Value, parse_duration, parse_time,
};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::Write;
use std::sync::Arc;

/// Strings up to this length are shared between values (role names, user
/// ids, hosts repeat across a catalog); longer ones are rarely repeated.
const INTERN_MAX_LEN: usize = 32;

/// The strings a data file's values share. Seeded at random: strings come
/// from the file, and colliding ones must not make the load quadratic.
type SharedStrings = std::collections::HashSet<Arc<str>, foldhash::fast::RandomState>;

/// What one streaming read shares: the types, the value budget, the echo
/// and the strings seen so far.
pub struct StreamLoader<'a> {
    types: &'a TypeTable,
    /// Values still allowed in the document (each list item, each entry).
    values_left: &'a Cell<usize>,
    /// Where the document is written back as compact JSON (for a digest).
    echo: RefCell<Option<&'a mut dyn Write>>,
    /// The echo has written a value that the next one must be separated from.
    need_comma: Cell<bool>,
    /// Short strings seen so far, shared (data); `None`: each string is its
    /// own (an input, read once and dropped).
    strings: Option<RefCell<SharedStrings>>,
    /// An open record's undeclared field stops the read (the caller notes
    /// such fields the slow way).
    refuse_undeclared: bool,
}

impl<'a> StreamLoader<'a> {
    pub fn new(
        types: &'a TypeTable,
        values_left: &'a Cell<usize>,
        echo: &'a mut dyn Write,
    ) -> StreamLoader<'a> {
        StreamLoader {
            types,
            values_left,
            echo: RefCell::new(Some(echo)),
            need_comma: Cell::new(false),
            strings: Some(RefCell::new(SharedStrings::default())),
            refuse_undeclared: false,
        }
    }

    /// A loader for an input: no echo, no shared strings; with
    /// `refuse_undeclared`, a field an open record does not declare (but
    /// which declares some) stops the read.
    pub fn for_input(
        types: &'a TypeTable,
        values_left: &'a Cell<usize>,
        refuse_undeclared: bool,
    ) -> StreamLoader<'a> {
        StreamLoader {
            types,
            values_left,
            echo: RefCell::new(None),
            need_comma: Cell::new(false),
            strings: None,
            refuse_undeclared,
        }
    }

    /// The seed that reads one value of type `ty`, nested at most `depth_left` deep.
    pub fn seed<'l>(&'l self, ty: &'l Ty, depth_left: usize) -> TypedSeed<'l, 'a> {
        self.seed_reading(ty, depth_left, Reads::whole())
    }

    /// [`StreamLoader::seed`], building only what `reads` says is read:
    /// the rest is checked as thoroughly, and left `none`.
    pub fn seed_reading<'l>(
        &'l self,
        ty: &'l Ty,
        depth_left: usize,
        reads: &'l Reads,
    ) -> TypedSeed<'l, 'a> {
        TypedSeed {
            loader: self,
            ty,
            depth_left,
            null_ok: false,
            // Parts of an `any` value are not tracked: built, it is built whole.
            reads: if matches!(ty.present(), Ty::Any) && reads.builds() {
                Reads::whole()
            } else {
                reads
            },
        }
    }

    // The echo. A hasher's writer does not fail; an echo that does only loses its digest.

    /// Writes to the echo, if there is one: `separated` puts a comma first
    /// when a value came before; afterwards a comma is needed when `then_comma`.
    fn echo(&self, separated: bool, then_comma: bool, write: impl FnOnce(&mut dyn Write)) {
        if let Some(echo) = self.echo.borrow_mut().as_deref_mut() {
            if separated && self.need_comma.get() {
                let _ = echo.write_all(b",");
            }
            write(echo);
            self.need_comma.set(then_comma);
        }
    }

    fn scalar(&self, write: impl FnOnce(&mut dyn Write)) {
        self.echo(true, true, write);
    }

    fn open(&self, bracket: &[u8]) {
        self.echo(true, false, |echo| {
            let _ = echo.write_all(bracket);
        });
    }

    fn close(&self, bracket: &[u8]) {
        self.echo(false, true, |echo| {
            let _ = echo.write_all(bracket);
        });
    }

    fn key(&self, key: &str) {
        self.echo(true, false, |echo| {
            let _ = serde_json::to_writer(&mut *echo, key);
            let _ = echo.write_all(b":");
        });
    }

    fn intern(&self, s: &str) -> Arc<str> {
        let Some(strings) = &self.strings else {
            return Arc::from(s);
        };
        if s.len() > INTERN_MAX_LEN {
            return Arc::from(s);
        }
        let mut strings = strings.borrow_mut();
        if let Some(shared) = strings.get(s) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        strings.insert(shared.clone());
        shared
    }

    fn one_more<E: de::Error>(&self) -> Result<(), E> {
        count_value(self.values_left)
    }
}

/// Reads one value of a declared type.
pub struct TypedSeed<'l, 'a> {
    loader: &'l StreamLoader<'a>,
    ty: &'l Ty,
    depth_left: usize,
    /// A record field that may be absent: `null` stands for absent.
    null_ok: bool,
    /// What is read of the value: what is not is checked, not built.
    reads: &'l Reads,
}

impl<'l, 'a> TypedSeed<'l, 'a> {
    fn with(&self, ty: &'l Ty, depth_left: usize, reads: &'l Reads) -> TypedSeed<'l, 'a> {
        self.loader.seed_reading(ty, depth_left, reads)
    }

    /// The type with its `?` layers removed: a non-null value is read as the inner type.
    fn shape(&self) -> &'l Ty {
        self.ty.present()
    }

    fn deeper<E: de::Error>(&self) -> Result<usize, E> {
        self.depth_left
            .checked_sub(1)
            .ok_or_else(|| E::custom("the document nests too deeply"))
    }

    fn read_map<'de, A: MapAccess<'de>>(
        &self,
        inner: &'l Ty,
        depth_left: usize,
        map: &mut A,
    ) -> Result<Value, A::Error> {
        self.loader.open(b"{");
        let mut entries = MapValue::default();
        while let Some(key) = map.next_key_seed(KeySeed {
            loader: self.loader,
            record: None,
            next: 0,
        })? {
            let Key::Name(key) = key else {
                unreachable!("a map's keys are names")
            };
            let value = map.next_value_seed(self.with(inner, depth_left, self.reads.items()))?;
            self.loader.one_more()?;
            // Built even when nothing reads it: its keys find a key given twice.
            if entries.insert(key, value).is_some() {
                return Err(de::Error::custom("a key is given twice"));
            }
        }
        self.loader.close(b"}");
        if !self.reads.builds() {
            return Ok(Value::None);
        }
        Ok(Value::Map(Arc::new(entries)))
    }

    fn read_record<'de, A: MapAccess<'de>>(
        &self,
        id: crate::RecordId,
        depth_left: usize,
        map: &mut A,
    ) -> Result<Value, A::Error> {
        let def = self.loader.types.record(id);
        self.loader.open(b"{");
        let build = self.reads.builds();
        let mut slots = build.then(|| vec![Value::None; def.fields.len()]);
        let mut seen = crate::convert::Present::new(def.fields.len());
        let mut extra: Option<MapValue> = None;
        let mut next = 0;
        while let Some(key) = map.next_key_seed(KeySeed {
            loader: self.loader,
            record: Some(def),
            next,
        })? {
            match key {
                Key::Slot(slot) => {
                    next = slot + 1;
                    if seen.get(slot) {
                        return Err(de::Error::custom("a key is given twice"));
                    }
                    seen.set(slot);
                    let field = &def.fields[slot];
                    let mut seed = self.with(&field.ty, depth_left, self.reads.field(slot));
                    seed.null_ok = field.optional;
                    let value = map.next_value_seed(seed)?;
                    if let Some(slots) = &mut slots {
                        slots[slot] = value;
                    }
                }
                Key::Name(_)
                    if def.open && self.loader.refuse_undeclared && !def.fields.is_empty() =>
                {
                    return Err(de::Error::custom("a field the record does not declare"));
                }
                Key::Name(name) if def.open => {
                    // Kept even when nothing reads it: its keys find a key given twice.
                    let value = map.next_value_seed(self.with(&ANY, depth_left, self.reads))?;
                    if extra
                        .get_or_insert_with(MapValue::default)
                        .insert(name, value)
                        .is_some()
                    {
                        return Err(de::Error::custom("a key is given twice"));
                    }
                }
                Key::Name(_) => return Err(mismatch()),
            }
            self.loader.one_more()?;
        }
        self.loader.close(b"}");
        let missing = def
            .fields
            .iter()
            .enumerate()
            .any(|(slot, field)| !seen.get(slot) && !field.optional && !field.ty.is_optional());
        if missing {
            return Err(mismatch());
        }
        Ok(slots.map_or(Value::None, |slots| {
            Value::Record(Arc::new(RecordValue {
                ty: id,
                slots: slots.into(),
                extra,
            }))
        }))
    }
}

/// An object's key: a record's slot, or a name (a map's key, a record's
/// undeclared field).
enum Key {
    Slot(usize),
    Name(Arc<str>),
}

struct KeySeed<'l, 'a> {
    loader: &'l StreamLoader<'a>,
    record: Option<&'l crate::RecordDef>,
    /// The slot after the record's last key: tried first.
    next: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        self.loader.key(key);
        match self.record.and_then(|def| def.slot_from(key, self.next)) {
            Some(slot) => Ok(Key::Slot(slot)),
            None => Ok(Key::Name(self.loader.intern(key))),
        }
    }
}

/// Counts one value read against what a document may hold (`values_left`),
/// or an error past the limit: how every JSON reader bounds a document.
pub fn count_value<E: de::Error>(values_left: &Cell<usize>) -> Result<(), E> {
    match values_left.get().checked_sub(1) {
        Some(0) | None => {
            values_left.set(0);
            Err(E::custom("the document holds too many values"))
        }
        Some(left) => {
            values_left.set(left);
            Ok(())
        }
    }
}

fn mismatch<E: de::Error>() -> E {
    E::custom("the value does not match its declared type")
}

static ANY: Ty = Ty::Any;

impl<'de> DeserializeSeed<'de> for TypedSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TypedSeed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value of the declared type")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.loader.scalar(|echo| {
            let _ = echo.write_all(b"null");
        });
        match self.ty {
            Ty::Optional(_) | Ty::None | Ty::Any | Ty::Error => Ok(Value::None),
            _ if self.null_ok => Ok(Value::None),
            _ => Err(mismatch()),
        }
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.loader.scalar(|echo| {
            let _ = echo.write_all(if v { b"true" } else { b"false" });
        });
        match self.shape() {
            Ty::Bool | Ty::Any => Ok(Value::Bool(v)),
            Ty::Error => Ok(Value::None),
            _ => Err(mismatch()),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.loader.scalar(|echo| {
            let _ = write!(echo, "{v}");
        });
        match self.shape() {
            Ty::Int | Ty::Any => Ok(Value::Int(v)),
            Ty::Float => Ok(Value::Float(v as f64)),
            Ty::Error => Ok(Value::None),
            _ => Err(mismatch()),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.loader.scalar(|echo| {
            let _ = write!(echo, "{v}");
        });
        match (self.shape(), i64::try_from(v)) {
            (Ty::Int | Ty::Any, Ok(i)) => Ok(Value::Int(i)),
            (Ty::Any | Ty::Float, _) => Ok(Value::Float(v as f64)),
            (Ty::Error, _) => Ok(Value::None),
            _ => Err(mismatch()),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // The parser yields finite numbers only; written as `serde_json` writes them.
        self.loader.scalar(|echo| {
            let _ = serde_json::to_writer(echo, &v);
        });
        match self.shape() {
            Ty::Float | Ty::Any => Ok(Value::Float(v)),
            Ty::Error => Ok(Value::None),
            _ => Err(mismatch()),
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.loader.scalar(|echo| {
            let _ = serde_json::to_writer(echo, s);
        });
        match self.shape() {
            Ty::String | Ty::Any if !self.reads.builds() => Ok(Value::None),
            Ty::String | Ty::Any => Ok(Value::Str(self.loader.intern(s))),
            Ty::Enum(id) => {
                // The union's own `Arc`, so equality with literals is a pointer compare.
                let members = &self.loader.types.enumeration(*id).members;
                match members.iter().find(|m| ***m == *s) {
                    Some(_) if !self.reads.builds() => Ok(Value::None),
                    Some(member) => Ok(Value::Str(member.clone())),
                    None => Err(mismatch()),
                }
            }
            Ty::Time => parse_time(s).map(Value::Time).ok_or_else(mismatch),
            Ty::Duration => parse_duration(s).map(Value::Duration).ok_or_else(mismatch),
            Ty::Error => Ok(Value::None),
            _ => Err(mismatch()),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = match self.shape() {
            Ty::List(inner) => &**inner,
            Ty::Any | Ty::Error => &ANY,
            _ => return Err(mismatch()),
        };
        let depth_left = self.deeper()?;
        self.loader.open(b"[");
        let build = self.reads.builds();
        let mut items = Vec::new();
        while let Some(item) =
            seq.next_element_seed(self.with(inner, depth_left, self.reads.items()))?
        {
            self.loader.one_more()?;
            if build {
                items.push(item);
            }
        }
        self.loader.close(b"]");
        match self.shape() {
            Ty::Error => Ok(Value::None),
            _ if !build => Ok(Value::None),
            _ => Ok(Value::List(items.into())),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth_left = self.deeper()?;
        match self.shape() {
            Ty::Record(id) => self.read_record(*id, depth_left, &mut map),
            Ty::Map(inner) => self.read_map(inner, depth_left, &mut map),
            Ty::Any => self.read_map(&ANY, depth_left, &mut map),
            Ty::Error => self
                .read_map(&ANY, depth_left, &mut map)
                .map(|_| Value::None),
            _ => Err(mismatch()),
        }
    }
}

/// Reads the JSON text `bytes` as a value of type `ty`, within `max_depth`
/// nesting and `max_values` values, with no JSON tree: `None` on any error
/// (and, with `refuse_undeclared`, on a field an open record does not
/// declare), for the caller to read the text the slow way.
pub fn read_typed(
    types: &TypeTable,
    ty: &Ty,
    bytes: &[u8],
    max_depth: usize,
    max_values: usize,
    refuse_undeclared: bool,
    reads: &Reads,
) -> Option<Value> {
    let values_left = Cell::new(max_values);
    let loader = StreamLoader::for_input(types, &values_left, refuse_undeclared);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = loader
        .seed_reading(ty, max_depth, reads)
        .deserialize(&mut deserializer)
        .ok()?;
    deserializer.end().ok()?;
    Some(value)
}
