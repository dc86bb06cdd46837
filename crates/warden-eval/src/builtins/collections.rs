//! count, keys, values, sum, min, max, unique, sort, flatten.

use super::BuiltinResult;
use crate::eval::{compare, values_equal};
use rustc_hash::FxHashSet;
use std::cmp::Ordering;
use std::sync::Arc;
use warden_ir::{Builtin, TypeTable, Value};

pub(super) fn call(builtin: Builtin, args: &[Value], types: &TypeTable) -> BuiltinResult {
    let arg = &args[0];
    Ok(match builtin {
        Builtin::Count => Value::Int(match arg {
            Value::List(items) => items.len(),
            Value::Map(m) => m.len(),
            Value::Str(s) => s.chars().count(),
            Value::Record(r) => r.slots.len(),
            _ => 0,
        } as i64),
        Builtin::Keys => {
            let mut keys: Vec<Arc<str>> = match arg {
                Value::Map(m) => m.keys().cloned().collect(),
                _ => Vec::new(),
            };
            keys.sort();
            Value::List(keys.into_iter().map(Value::Str).collect::<Vec<_>>().into())
        }
        // In the order of `keys(m)`: sorted by key.
        Builtin::Values => match arg {
            Value::Map(m) => {
                let mut entries: Vec<(&std::sync::Arc<str>, &Value)> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::List(
                    entries
                        .into_iter()
                        .map(|(_, v)| v.clone())
                        .collect::<Vec<_>>()
                        .into(),
                )
            }
            _ => Value::List(Vec::new().into()),
        },
        Builtin::Sum => {
            let items = list(arg);
            if items.iter().all(|v| matches!(v, Value::Int(_))) {
                let mut total: i64 = 0;
                for v in items {
                    if let Value::Int(i) = v {
                        total = total.checked_add(*i).ok_or("integer overflow in `sum`")?;
                    }
                }
                Value::Int(total)
            } else {
                Value::Float(
                    items
                        .iter()
                        .map(|v| match v {
                            Value::Int(i) => *i as f64,
                            Value::Float(f) => *f,
                            _ => 0.0,
                        })
                        .sum(),
                )
            }
        }
        Builtin::Min | Builtin::Max => {
            let want = if builtin == Builtin::Min {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            let mut best: Option<&Value> = None;
            for v in list(arg) {
                if best.is_none_or(|b| compare(v, b) == Some(want)) {
                    best = Some(v);
                }
            }
            best.cloned().unwrap_or(Value::None)
        }
        Builtin::Unique => {
            // Hashable values (strings, numbers, …) go through a set; the rest
            // are compared pairwise (and charged for it, see `cost`).
            let mut seen: FxHashSet<HashKey<'_>> = FxHashSet::default();
            let mut out: Vec<Value> = Vec::new();
            let mut unhashable: Vec<&Value> = Vec::new();
            for v in list(arg) {
                let fresh = match hash_key(v) {
                    Some(key) => seen.insert(key),
                    None if unhashable.iter().any(|o| values_equal(types, o, v)) => false,
                    None => {
                        unhashable.push(v);
                        true
                    }
                };
                if fresh {
                    out.push(v.clone());
                }
            }
            Value::List(out.into())
        }
        Builtin::Sort => {
            let mut out: Vec<Value> = list(arg).to_vec();
            out.sort_by(|a, b| compare(a, b).unwrap_or(Ordering::Equal));
            Value::List(out.into())
        }
        Builtin::Flatten => {
            let out: Vec<Value> = list(arg)
                .iter()
                .flat_map(|inner| list(inner).iter().cloned())
                .collect();
            Value::List(out.into())
        }
        _ => unreachable!("not a collections builtin: {builtin:?}"),
    })
}

/// A value `unique` can hash: equal keys exactly when the values are equal.
#[derive(PartialEq, Eq, Hash)]
pub(crate) enum HashKey<'a> {
    None,
    Bool(bool),
    Int(i64),
    Str(&'a str),
    Time(i64),
    Duration(i64),
}

pub(crate) fn hash_key(v: &Value) -> Option<HashKey<'_>> {
    Some(match v {
        Value::None => HashKey::None,
        Value::Bool(b) => HashKey::Bool(*b),
        Value::Int(i) => HashKey::Int(*i),
        Value::Str(s) => HashKey::Str(s),
        Value::Time(t) => HashKey::Time(*t),
        Value::Duration(d) => HashKey::Duration(*d),
        // Floats compare equal to integers (1 == 1.0); lists, maps and records are compared whole.
        Value::Float(_) | Value::List(_) | Value::Map(_) | Value::Record(_) => return None,
    })
}

fn list(v: &Value) -> &[Value] {
    match v {
        Value::List(items) => items,
        _ => &[],
    }
}
