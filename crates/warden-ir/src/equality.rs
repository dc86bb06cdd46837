//! Equality, order and field lookup as policies see them: what the
//! evaluator's operators and the built-ins that compare (`unique`, `sort`,
//! `min`, `max`) agree on.

use crate::{TypeLookup, TypeTable, Value};
use std::cmp::Ordering;
use std::sync::Arc;

static NONE: Value = Value::None;

/// The field `name` of a record (declared or unknown) or the entry of a
/// map; `none` when absent, or for any other value.
pub fn field_by_name<'a>(types: &TypeTable, value: &'a Value, name: &str) -> &'a Value {
    match value {
        Value::Map(m) => m.get(name).unwrap_or(&NONE),
        Value::Record(r) => match types.record(r.ty).slot(name) {
            Some(slot) => &r.slots[slot],
            None => r.extra.as_ref().and_then(|x| x.get(name)).unwrap_or(&NONE),
        },
        _ => &NONE,
    }
}

/// A number as a float.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Equality as policies see it: `1 == 1.0`; records and maps equal when
/// their present fields are, by name (whatever record type they were read as).
pub fn values_equal(types: &TypeTable, a: &Value, b: &Value) -> bool {
    equal_counted(types, a, b, &mut 0, u64::MAX)
}

/// [`values_equal`], adding to `work` one per element looked at and one per
/// 64 bytes of text compared: linear in the smaller value. Once `work`
/// passes `limit` it stops, answering `false`: the caller, which charges
/// `work` against a budget with no more than `limit` left, then fails
/// instead of using the answer. (Values built by a policy can share parts:
/// a record of two copies of a record of two copies… is small to build and
/// exponential to walk.)
pub fn equal_counted(types: &TypeTable, a: &Value, b: &Value, work: &mut u64, limit: u64) -> bool {
    *work += 1;
    if *work > limit {
        return false;
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => {
            if Arc::ptr_eq(x, y) {
                return true;
            }
            *work += x.len().min(y.len()) as u64 / 64;
            x == y
        }
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| equal_counted(types, p, q, work, limit))
        }
        (Value::Record(x), Value::Record(y))
            if x.ty == y.ty && x.extra.is_none() && y.extra.is_none() =>
        {
            x.slots
                .iter()
                .zip(y.slots.iter())
                .all(|(p, q)| equal_counted(types, p, q, work, limit))
        }
        (Value::Record(_) | Value::Map(_), Value::Record(_) | Value::Map(_)) => {
            // Same present names, and each field equal: looked up by name,
            // so two maps of n keys compare in n steps, not n².
            // A name costs its bytes too: it is hashed and compared whole.
            let present = |v: &Value, work: &mut u64| {
                let mut n = 0u64;
                each_named_field(types, v, &mut |name, _| {
                    n += 1;
                    *work += name.len() as u64 / 64;
                });
                *work += n;
                n
            };
            if present(a, work) != present(b, work) {
                return false;
            }
            let mut equal = true;
            each_named_field(types, a, &mut |name, v| {
                if equal {
                    *work += name.len() as u64 / 64;
                    equal = named_field(types, b, name)
                        .is_some_and(|w| equal_counted(types, v, w, work, limit));
                }
            });
            equal
        }
        _ => a == b,
    }
}

/// Calls `visit` with each present field of a record (declared and unknown)
/// or a map, by name.
fn each_named_field<'v>(
    types: &'v TypeTable,
    v: &'v Value,
    visit: &mut dyn FnMut(&'v str, &'v Value),
) {
    match v {
        Value::Record(r) => {
            for (field, value) in types.record(r.ty).fields.iter().zip(r.slots.iter()) {
                if !value.is_none() {
                    visit(&field.name, value);
                }
            }
            for (k, value) in r.extra.iter().flatten() {
                if !value.is_none() {
                    visit(k, value);
                }
            }
        }
        Value::Map(m) => {
            for (k, value) in m.iter() {
                if !value.is_none() {
                    visit(k, value);
                }
            }
        }
        _ => {}
    }
}

/// The present field `name` of a record or map.
fn named_field<'v>(types: &TypeTable, v: &'v Value, name: &str) -> Option<&'v Value> {
    Some(field_by_name(types, v, name)).filter(|f| !f.is_none())
}

/// The order of two numbers, strings, times or durations; `None` for
/// values of different kinds (or a NaN).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) | (Value::Duration(x), Value::Duration(y)) => {
            Some(x.cmp(y))
        }
        _ => as_f64(a)?.partial_cmp(&as_f64(b)?),
    }
}
