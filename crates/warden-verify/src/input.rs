//! The symbolic input: every input of a target's type with lists of at
//! most `max_items` elements, as z3 constants named by their JSON path (so
//! the two policy sets of a comparison read the same constants wherever
//! their types agree), and the counterexample read back from a model.

use crate::sym::{Sym, and, t};
use serde_json::{Map, Value as Json};
use warden_ir::{Reads, Ty, TypeLookup, TypeTable};

/// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z, in µs from 1970.
const FIRST_TIME: i64 = -62_167_219_200_000_000;
const PAST_LAST_TIME: i64 = 253_402_300_800_000_000;
/// The largest offset RFC 3339 writes, ±23:59, in µs.
const MOST_OFFSET: i64 = (23 * 3600 + 59 * 60) * 1_000_000;
/// Durations that are not whole milliseconds are written in ISO 8601
/// (`PT0.0005S`), read through a float: exact below 2^53 µs, so below 9e15 µs.
const ISO_DURATION_LIMIT: i64 = 9_000_000_000_000_000;

/// 9999-12-31T00:00:00Z, which only the date `9999-12-31` writes.
const LAST_DATE: i64 = PAST_LAST_TIME - 86_400_000_000;

/// The last instant a timestamp (RFC 3339 text) holds.
fn last_timestamp() -> i64 {
    jiff::Timestamp::MAX.as_microsecond()
}

/// A time as a document writes it: UTC within years 0000 to 9999, else
/// with the offset (+23:59) that brings it there; the last date as a date.
fn time_text(micros: i64) -> String {
    if micros > last_timestamp() && micros == LAST_DATE {
        return "9999-12-31".into();
    }
    let (local, offset) = if micros < FIRST_TIME {
        (micros + MOST_OFFSET, "+23:59")
    } else if micros >= PAST_LAST_TIME {
        (micros - MOST_OFFSET, "-23:59")
    } else {
        return warden_ir::format_time(micros);
    };
    let utc = warden_ir::format_time(local);
    format!("{}{offset}", utc.trim_end_matches('Z'))
}

/// A duration as a document writes it: compact when whole milliseconds,
/// else ISO 8601 with microseconds.
fn duration_text(micros: i64) -> String {
    if micros % 1000 == 0 {
        warden_ir::format_duration(micros)
    } else {
        format!("PT{}.{:06}S", micros / 1_000_000, micros % 1_000_000)
    }
}

/// What stands for a part of the input no rule reads.
pub(crate) const UNREAD: &str = "part of the input no rule reads";
use z3::Model;
use z3::ast::{Bool, Int, String as Str};

/// The name of the field a counterexample adds to an open record to stand
/// for "a field the type does not declare".
pub(crate) const UNDECLARED_FIELD: &str = "x_undeclared_by_verify";

/// The most leaves an input may have at the bound chosen: past it verify
/// asks for a smaller `--max-items`.
pub(crate) const MOST_LEAVES: usize = 50_000;

/// A target's symbolic input and what it asks of the solver.
pub(crate) struct Input {
    pub ty: Ty,
    pub value: Sym,
    /// What makes it an input the target's type accepts (enum members,
    /// list lengths, ranges).
    pub well_formed: Vec<Bool>,
    /// Per open record that an input may extend: whether it holds there
    /// (the record is in the input) and whether it carries a field the type
    /// does not declare.
    pub extensions: Vec<(Bool, Bool)>,
    /// Named constants read back into the counterexample, by path.
    leaves: usize,
    /// Bounds of particular lists, by path (`spec.logging.fields`, items
    /// of lists written `[]`).
    bounds: Vec<(String, u32)>,
}

pub(crate) struct TooLarge;

impl Input {
    /// The input of type `ty`, built as far as `reads` says the rules read
    /// it (the rest stands as [`Sym::Opaque`], and a counterexample fills
    /// it with the least value of its type).
    pub(crate) fn build(
        types: &TypeTable,
        ty: &Ty,
        reads: &Reads,
        max_items: u32,
        bounds: &[(String, u32)],
    ) -> Result<Input, TooLarge> {
        let mut input = Input {
            ty: ty.clone(),
            value: Sym::None,
            well_formed: Vec::new(),
            extensions: Vec::new(),
            leaves: 0,
            bounds: bounds.to_vec(),
        };
        input.value = input.node(types, ty, reads, "$", &t(), max_items)?;
        Ok(input)
    }

    /// Some open record in the input carries an undeclared field.
    pub(crate) fn extended(&self) -> Bool {
        let any: Vec<Bool> = self
            .extensions
            .iter()
            .map(|(held, extra)| and(&[held.clone(), extra.clone()]))
            .collect();
        crate::sym::or(&any)
    }

    /// The bound given for the list at `path`, if any.
    fn bound(&self, path: &str) -> Option<u32> {
        let mut shape = String::with_capacity(path.len());
        let mut in_index = false;
        for c in path.trim_start_matches('$').trim_start_matches('.').chars() {
            match c {
                '[' => {
                    in_index = true;
                    shape.push_str("[]");
                }
                ']' => in_index = false,
                _ if in_index => {}
                c => shape.push(c),
            }
        }
        self.bounds
            .iter()
            .find(|(p, _)| *p == shape)
            .map(|(_, n)| *n)
    }

    fn leaf(&mut self) -> Result<(), TooLarge> {
        self.leaves += 1;
        if self.leaves > MOST_LEAVES {
            Err(TooLarge)
        } else {
            Ok(())
        }
    }

    fn node(
        &mut self,
        types: &TypeTable,
        ty: &Ty,
        reads: &Reads,
        path: &str,
        held: &Bool,
        max_items: u32,
    ) -> Result<Sym, TooLarge> {
        self.leaf()?;
        // A part no rule reads (or a map) is not modelled, but may still
        // carry an undeclared field, which `@undeclared_fields(deny)` denies.
        let opaque = !reads.builds() || matches!(ty, Ty::Map(_));
        if opaque {
            if can_extend(types, ty, &mut Vec::new()) {
                let extra = Bool::new_const(format!("{path}:extended-below"));
                self.extensions.push((held.clone(), extra));
            }
            return Ok(Sym::Opaque(if reads.builds() { "map" } else { UNREAD }));
        }
        Ok(match ty {
            Ty::Bool => Sym::Bool(Bool::new_const(format!("{path}:bool"))),
            Ty::Int => {
                let i = Int::new_const(format!("{path}:int"));
                self.well_formed.push(i.ge(Int::from_i64(i64::MIN)));
                self.well_formed.push(i.le(Int::from_i64(i64::MAX)));
                Sym::Int(i)
            }
            Ty::Time => {
                let i = Int::new_const(format!("{path}:time"));
                // What a document can write: RFC 3339 from year 0000 (its
                // offsets, up to +23:59, reach a day before in UTC) to the
                // last instant a timestamp holds (9999-12-30T22:00Z), and
                // the date 9999-12-31 (midnight).
                self.well_formed.push(crate::sym::or(&[
                    and(&[
                        i.ge(Int::from_i64(FIRST_TIME - MOST_OFFSET)),
                        i.le(Int::from_i64(last_timestamp())),
                    ]),
                    i.eq(Int::from_i64(LAST_DATE)),
                ]));
                Sym::Int(i)
            }
            Ty::Duration => {
                let i = Int::new_const(format!("{path}:duration"));
                // What `90d`, `500ms` or ISO `PT0.0005S` write: not
                // negative; past 9e15 µs only whole milliseconds (compact).
                self.well_formed.push(i.ge(Int::from_i64(0)));
                self.well_formed.push(i.le(Int::from_i64(i64::MAX)));
                self.well_formed.push(crate::sym::or(&[
                    i.lt(Int::from_i64(ISO_DURATION_LIMIT)),
                    i.modulo(Int::from_i64(1000)).eq(Int::from_i64(0)),
                ]));
                Sym::Int(i)
            }
            Ty::String => Sym::Str(Str::new_const(format!("{path}:str"))),
            Ty::Enum(id) => {
                let members: std::sync::Arc<[std::sync::Arc<str>]> =
                    types.enumeration(*id).members.iter().cloned().collect();
                let i = Int::new_const(format!("{path}:member"));
                self.well_formed.push(i.ge(Int::from_i64(0)));
                self.well_formed
                    .push(i.lt(Int::from_i64(members.len() as i64)));
                Sym::Enum(members, i)
            }
            Ty::Float => Sym::Opaque("float"),
            Ty::Any => Sym::Opaque("value of type any"),
            Ty::Map(_) => Sym::Opaque("map"),
            Ty::None | Ty::Never | Ty::Error => Sym::None,
            Ty::Optional(inner) => {
                let present = Bool::new_const(format!("{path}:present"));
                let held = and(&[held.clone(), present.clone()]);
                let value = self.node(types, inner, reads, path, &held, max_items)?;
                value.optional(present)
            }
            Ty::List(inner) => {
                let max_items = self.bound(path).unwrap_or(max_items);
                let len = Int::new_const(format!("{path}:len"));
                self.well_formed.push(len.ge(Int::from_i64(0)));
                self.well_formed
                    .push(len.le(Int::from_i64(i64::from(max_items))));
                let mut items = Vec::with_capacity(max_items as usize);
                for i in 0..max_items {
                    let present = len.gt(Int::from_i64(i64::from(i)));
                    let held = and(&[held.clone(), present.clone()]);
                    let item = self.node(
                        types,
                        inner,
                        reads.items(),
                        &format!("{path}[{i}]"),
                        &held,
                        max_items,
                    )?;
                    items.push((present, item));
                }
                Sym::List { items, dense: true }
            }
            Ty::Record(id) => {
                let def = types.record(*id);
                let mut fields = Vec::with_capacity(def.fields.len());
                for (slot, field) in def.fields.iter().enumerate() {
                    let path = format!("{path}.{}", field.name);
                    let reads = reads.field(slot);
                    if field.optional && !field.ty.is_optional() && reads.builds() {
                        let present = Bool::new_const(format!("{path}:present"));
                        let held = and(&[held.clone(), present.clone()]);
                        let value = self.node(types, &field.ty, reads, &path, &held, max_items)?;
                        fields.push(value.optional(present));
                    } else {
                        fields.push(self.node(types, &field.ty, reads, &path, held, max_items)?);
                    }
                }
                // The converter notes undeclared fields of open records that declare some.
                if def.open && !def.fields.is_empty() {
                    let extra = Bool::new_const(format!("{path}:extended"));
                    self.extensions.push((held.clone(), extra));
                }
                Sym::Record(*id, fields)
            }
        })
    }

    /// The input a model describes, as JSON.
    pub(crate) fn counterexample(&self, types: &TypeTable, model: &Model) -> Json {
        read_back(types, &self.ty, &self.value, model, "$")
    }
}

fn read_back(types: &TypeTable, ty: &Ty, value: &Sym, model: &Model, path: &str) -> Json {
    let bool_of = |b: &Bool| {
        model
            .eval(b, true)
            .and_then(|b| b.as_bool())
            .unwrap_or(false)
    };
    let int_of = |i: &Int| model.eval(i, true).and_then(|i| i.as_i64()).unwrap_or(0);
    match (ty, value) {
        (_, Sym::Opaque(_)) => {
            let extra = Bool::new_const(format!("{path}:extended-below"));
            if can_extend(types, ty, &mut Vec::new()) && bool_of(&extra) {
                least_with_extra(types, ty, &mut Vec::new())
                    .unwrap_or_else(|| least(types, ty, &mut 0))
            } else {
                least(types, ty, &mut 0)
            }
        }
        (Ty::Optional(inner), _) => {
            let (present, value) = value.split_optional();
            if bool_of(&present) {
                read_back(types, inner, &value, model, path)
            } else {
                Json::Null
            }
        }
        (Ty::Bool, Sym::Bool(b)) => Json::Bool(bool_of(b)),
        (Ty::Int, Sym::Int(i)) => Json::from(int_of(i)),
        (Ty::Time, Sym::Int(i)) => Json::String(time_text(int_of(i))),
        (Ty::Duration, Sym::Int(i)) => Json::String(duration_text(int_of(i))),
        (Ty::Enum(_), Sym::Enum(members, i)) => usize::try_from(int_of(i))
            .ok()
            .and_then(|k| members.get(k))
            .map_or(Json::Null, |m| Json::String(m.to_string())),
        (Ty::String | Ty::Enum(_), Sym::Str(s)) => Json::String(
            crate::sym::exact_text(s, |part| model.eval(part, true)).unwrap_or_default(),
        ),
        (Ty::List(inner), Sym::List { items, .. }) => Json::Array(
            items
                .iter()
                .enumerate()
                .take_while(|(_, (present, _))| bool_of(present))
                .map(|(i, (_, item))| read_back(types, inner, item, model, &format!("{path}[{i}]")))
                .collect(),
        ),
        (Ty::Record(id), Sym::Record(_, fields)) => {
            let def = types.record(*id);
            let mut object = Map::new();
            for (field, value) in def.fields.iter().zip(fields) {
                let path = format!("{path}.{}", field.name);
                let ty = if field.optional {
                    field.ty.clone().optional()
                } else {
                    field.ty.clone()
                };
                let json = read_back(types, &ty, value, model, &path);
                if !(json.is_null() && field.optional) {
                    object.insert(field.name.to_string(), json);
                }
            }
            if def.open && !def.fields.is_empty() {
                let extra = Bool::new_const(format!("{path}:extended"));
                if bool_of(&extra) && def.slot(UNDECLARED_FIELD).is_none() {
                    object.insert(UNDECLARED_FIELD.to_string(), Json::Bool(true));
                }
            }
            Json::Object(object)
        }
        _ => Json::Null,
    }
}

/// Whether a value of `ty` can hold an open record that declares fields
/// (one an undeclared field can be added to). `visiting`: records on the
/// way down (types do not nest themselves, but the walk is bounded).
fn can_extend(types: &TypeTable, ty: &Ty, visiting: &mut Vec<warden_ir::RecordId>) -> bool {
    match ty {
        Ty::Optional(inner) | Ty::List(inner) | Ty::Map(inner) => {
            can_extend(types, inner, visiting)
        }
        Ty::Record(id) => {
            if visiting.contains(id) || visiting.len() > 64 {
                return false;
            }
            let def = types.record(*id);
            if def.open && !def.fields.is_empty() {
                return true;
            }
            visiting.push(*id);
            let found = def
                .fields
                .iter()
                .any(|f| can_extend(types, &f.ty, visiting));
            visiting.pop();
            found
        }
        _ => false,
    }
}

/// The least value of `ty` with an undeclared field in its first open
/// record that declares fields.
fn least_with_extra(
    types: &TypeTable,
    ty: &Ty,
    visiting: &mut Vec<warden_ir::RecordId>,
) -> Option<Json> {
    match ty {
        Ty::Optional(inner) => least_with_extra(types, inner, visiting),
        Ty::List(inner) => Some(Json::Array(vec![least_with_extra(types, inner, visiting)?])),
        Ty::Map(inner) => {
            let mut m = Map::new();
            m.insert("k".into(), least_with_extra(types, inner, visiting)?);
            Some(Json::Object(m))
        }
        Ty::Record(id) => {
            if visiting.contains(id) || visiting.len() > 64 {
                return None;
            }
            let def = types.record(*id);
            let Json::Object(mut object) = least(types, ty, &mut 0) else {
                return None;
            };
            if def.open && !def.fields.is_empty() && def.slot(UNDECLARED_FIELD).is_none() {
                object.insert(UNDECLARED_FIELD.to_string(), Json::Bool(true));
                return Some(Json::Object(object));
            }
            visiting.push(*id);
            let found = def.fields.iter().find_map(|f| {
                least_with_extra(types, &f.ty, visiting).map(|v| (f.name.to_string(), v))
            });
            visiting.pop();
            let (name, value) = found?;
            object.insert(name, value);
            Some(Json::Object(object))
        }
        _ => None,
    }
}

/// Whether `json`, read as `ty`, holds a field an open record does not
/// declare (where the converter notes one: in records that declare fields).
fn has_undeclared(types: &TypeTable, ty: &Ty, json: &Json, depth: u32) -> bool {
    if depth > 256 {
        return false;
    }
    match (ty, json) {
        (Ty::Optional(inner), _) => has_undeclared(types, inner, json, depth + 1),
        (Ty::List(inner), Json::Array(items)) => items
            .iter()
            .any(|i| has_undeclared(types, inner, i, depth + 1)),
        (Ty::Map(inner), Json::Object(entries)) => entries
            .values()
            .any(|v| has_undeclared(types, inner, v, depth + 1)),
        (Ty::Record(id), Json::Object(entries)) => {
            let def = types.record(*id);
            entries.iter().any(|(key, value)| match def.slot(key) {
                Some(slot) => has_undeclared(types, &def.fields[slot].ty, value, depth + 1),
                None => def.open && !def.fields.is_empty(),
            })
        }
        _ => false,
    }
}

/// What a counterexample holds where no rule reads: the least value of
/// the type (`""`, `0`, the first member, `[]`, required fields only).
fn least(types: &TypeTable, ty: &Ty, written: &mut usize) -> Json {
    *written += 1;
    if *written > MOST_LEAVES {
        return Json::Null;
    }
    match ty {
        Ty::Bool => Json::Bool(false),
        Ty::Int => Json::from(0),
        Ty::Float => Json::from(0.0),
        Ty::String => Json::String(String::new()),
        Ty::Time => Json::String("1970-01-01T00:00:00Z".into()),
        Ty::Duration => Json::String("0s".into()),
        Ty::Enum(id) => types
            .enumeration(*id)
            .members
            .first()
            .map_or(Json::Null, |m| Json::String(m.to_string())),
        Ty::List(_) => Json::Array(Vec::new()),
        Ty::Map(_) => Json::Object(Map::new()),
        Ty::Record(id) => {
            let def = types.record(*id);
            let mut object = Map::new();
            for field in &def.fields {
                if !field.optional && !field.ty.is_optional() {
                    object.insert(field.name.to_string(), least(types, &field.ty, written));
                }
            }
            Json::Object(object)
        }
        Ty::Any | Ty::None | Ty::Never | Ty::Error | Ty::Optional(_) => Json::Null,
    }
}

/// Two views of one input (the base's type and the changed one's) as one
/// document: objects take the keys of both.
pub(crate) fn merge_json(a: Json, b: Json) -> Json {
    match (a, b) {
        (Json::Object(mut x), Json::Object(y)) => {
            for (key, value) in y {
                let merged = match x.remove(&key) {
                    Some(old) => merge_json(old, value),
                    None => value,
                };
                x.insert(key, merged);
            }
            Json::Object(x)
        }
        (Json::Array(x), Json::Array(y)) => {
            let n = x.len().max(y.len());
            let mut x = x.into_iter();
            let mut y = y.into_iter();
            Json::Array(
                (0..n)
                    .map(|_| match (x.next(), y.next()) {
                        (Some(p), Some(q)) => merge_json(p, q),
                        (Some(p), None) => p,
                        (None, Some(q)) => q,
                        (None, None) => Json::Null,
                    })
                    .collect(),
            )
        }
        (a, Json::Null) => a,
        (_, b) => b,
    }
}

/// Why an input could not be pinned.
#[derive(Debug)]
pub(crate) enum Unpinned {
    /// A list holds more elements than the bound gives it slots.
    LongerThanBound,
    /// The document does not fit the type (a path and what is there).
    Mismatch(String),
}

impl Input {
    /// Constraints that pin the symbolic input to `json` (for checking the
    /// encoding against the evaluator); `None` when `json` does not fit the
    /// bound (a longer list) or the type.
    pub(crate) fn pin(&self, types: &TypeTable, json: &Json) -> Result<Vec<Bool>, Unpinned> {
        let mut out = Vec::new();
        pin(types, &self.ty, &self.value, json, "$", &mut out)?;
        Ok(out)
    }
}

fn pin(
    types: &TypeTable,
    ty: &Ty,
    value: &Sym,
    json: &Json,
    path: &str,
    out: &mut Vec<Bool>,
) -> Result<(), Unpinned> {
    let bad = || Unpinned::Mismatch(format!("{path}: {json} does not fit"));
    match (ty, value) {
        (_, Sym::Opaque(_)) => {
            if can_extend(types, ty, &mut Vec::new()) {
                let extra = Bool::new_const(format!("{path}:extended-below"));
                out.push(extra.eq(Bool::from_bool(has_undeclared(types, ty, json, 0))));
            }
        }
        (Ty::Float | Ty::Map(_) | Ty::Any, _) => {}
        (Ty::Optional(inner), _) => {
            let (present, value) = value.split_optional();
            if json.is_null() {
                out.push(crate::sym::not(&present));
            } else {
                out.push(present);
                pin(types, inner, &value, json, path, out)?;
            }
        }
        (Ty::Bool, Sym::Bool(b)) => {
            out.push(b.eq(Bool::from_bool(json.as_bool().ok_or_else(bad)?)))
        }
        (Ty::Int, Sym::Int(i)) => out.push(i.eq(Int::from_i64(json.as_i64().ok_or_else(bad)?))),
        (Ty::Time, Sym::Int(i)) => out.push(i.eq(Int::from_i64(
            warden_ir::parse_time(json.as_str().ok_or_else(bad)?).ok_or_else(bad)?,
        ))),
        (Ty::Duration, Sym::Int(i)) => out.push(i.eq(Int::from_i64(
            warden_ir::parse_duration(json.as_str().ok_or_else(bad)?).ok_or_else(bad)?,
        ))),
        (Ty::Enum(_), Sym::Enum(members, i)) => {
            let text = json.as_str().ok_or_else(bad)?;
            let k = members.iter().position(|m| **m == *text).ok_or_else(bad)?;
            out.push(i.eq(Int::from_i64(k as i64)));
        }
        (Ty::String | Ty::Enum(_), Sym::Str(s)) => {
            out.push(s.eq(crate::sym::try_lit(json.as_str().ok_or_else(bad)?).ok_or_else(bad)?))
        }
        (Ty::List(inner), Sym::List { items, .. }) => {
            let array = json.as_array().ok_or_else(bad)?;
            if array.len() > items.len() {
                return Err(Unpinned::LongerThanBound);
            }
            for (i, (present, item)) in items.iter().enumerate() {
                match array.get(i) {
                    Some(element) => {
                        out.push(present.clone());
                        pin(types, inner, item, element, &format!("{path}[{i}]"), out)?;
                    }
                    None => out.push(crate::sym::not(present)),
                }
            }
        }
        (Ty::Record(id), Sym::Record(_, fields)) => {
            let def = types.record(*id);
            let object = json.as_object().ok_or_else(bad)?;
            for (field, value) in def.fields.iter().zip(fields) {
                let path = format!("{path}.{}", field.name);
                let element = object.get(&*field.name).unwrap_or(&Json::Null);
                let ty = if field.optional {
                    field.ty.clone().optional()
                } else {
                    field.ty.clone()
                };
                pin(types, &ty, value, element, &path, out)?;
            }
            if def.open && !def.fields.is_empty() {
                let extra = Bool::new_const(format!("{path}:extended"));
                let undeclared = object.keys().any(|k| def.slot(k).is_none());
                out.push(extra.eq(Bool::from_bool(undeclared)));
            }
        }
        _ => {
            return Err(Unpinned::Mismatch(format!(
                "{path}: a {} for a value of type {ty:?}",
                value.kind()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every time and duration the solver may pick is written as text the
    /// converter reads back to the same value.
    #[test]
    fn times_and_durations_read_back_as_written() {
        for micros in [
            FIRST_TIME - MOST_OFFSET,
            FIRST_TIME - 1,
            FIRST_TIME,
            0,
            1,
            1_767_225_600_000_001,
            last_timestamp(),
            LAST_DATE,
        ] {
            let text = time_text(micros);
            assert_eq!(warden_ir::parse_time(&text), Some(micros), "{text}");
        }
        for micros in [
            0,
            1,
            500,
            999,
            1000,
            1_500_000,
            86_400_000_000,
            ISO_DURATION_LIMIT - 1,
            i64::MAX - i64::MAX % 1000,
        ] {
            let text = duration_text(micros);
            assert_eq!(warden_ir::parse_duration(&text), Some(micros), "{text}");
        }
    }
}
