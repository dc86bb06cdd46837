//! count, keys, values, sum, min, max, unique, sort, flatten.

use super::cost::{deep_size, size, walked};
use super::types::is_ordered;
use super::{CallContext, CallResult, category};
use crate::{Ty, Value, compare, values_equal};
use rustc_hash::FxHashSet;
use std::cmp::Ordering;
use std::sync::Arc;

category! { CollectionFn "collections" {
    Count = "count"(1) total: "count(xs: [T] | {string: T} | string) -> int: the number of elements or characters",
    Keys = "keys"(1) total: "keys(m: {string: T}) -> [string]: the keys, sorted",
    Values = "values"(1) total: "values(m: {string: T}) -> [T]: the values, in the order of keys(m)",
    Sum = "sum"(1): "sum(xs: [int] | [float]) -> int | float",
    Min = "min"(1): "min(xs: [T]) -> T?: the smallest element, none when empty",
    Max = "max"(1): "max(xs: [T]) -> T?: the largest element, none when empty",
    Unique = "unique"(1) total: "unique(xs: [T]) -> [T]: without duplicates, first occurrence kept",
    Sort = "sort"(1) total: "sort(xs: [T]) -> [T]",
    Flatten = "flatten"(1) total: "flatten(xss: [[T]]) -> [T]",
}}

impl CollectionFn {
    pub(super) fn check(self, args: &[Ty]) -> Result<Ty, String> {
        Ok(match self {
            CollectionFn::Count => match &args[0] {
                Ty::List(_) | Ty::Map(_) | Ty::String | Ty::Enum(_) | Ty::Any | Ty::Error => {
                    Ty::Int
                }
                _ => return Err("`count` takes a list, a map or a string".into()),
            },
            CollectionFn::Keys => match &args[0] {
                Ty::Map(_) | Ty::Any | Ty::Error => Ty::List(Box::new(Ty::String)),
                _ => return Err("`keys` takes a map".into()),
            },
            CollectionFn::Values => match &args[0] {
                Ty::Map(inner) => Ty::List(inner.clone()),
                Ty::Any | Ty::Error => Ty::List(Box::new(Ty::Any)),
                _ => return Err("`values` takes a map".into()),
            },
            CollectionFn::Sum => match &args[0] {
                Ty::List(inner) if matches!(**inner, Ty::Int | Ty::Never) => Ty::Int,
                Ty::List(inner) if matches!(**inner, Ty::Float) => Ty::Float,
                Ty::Any | Ty::Error => Ty::Float,
                _ => return Err("`sum` takes a list of numbers".into()),
            },
            CollectionFn::Min | CollectionFn::Max => match &args[0] {
                Ty::List(inner) if is_ordered(inner) => inner.as_ref().clone().optional(),
                Ty::Any | Ty::Error => Ty::Any,
                _ => {
                    return Err(format!(
                        "`{}` takes a list of numbers, strings, times or durations",
                        self.name()
                    ));
                }
            },
            CollectionFn::Unique | CollectionFn::Sort => match &args[0] {
                Ty::List(inner)
                    if self == CollectionFn::Unique
                        || is_ordered(inner)
                        || matches!(**inner, Ty::Never) =>
                {
                    args[0].clone()
                }
                Ty::Any | Ty::Error => Ty::List(Box::new(Ty::Any)),
                _ => {
                    return Err(format!(
                        "`{}` takes a list{}",
                        self.name(),
                        if self == CollectionFn::Sort {
                            " of numbers, strings, times or durations"
                        } else {
                            ""
                        }
                    ));
                }
            },
            CollectionFn::Flatten => match &args[0] {
                Ty::List(inner) => match &**inner {
                    Ty::List(_) => (**inner).clone(),
                    Ty::Never => Ty::List(Box::new(Ty::Never)),
                    _ => return Err("`flatten` takes a list of lists".into()),
                },
                Ty::Any | Ty::Error => Ty::List(Box::new(Ty::Any)),
                _ => return Err("`flatten` takes a list of lists".into()),
            },
        })
    }

    /// `unique` compares elements it cannot hash pairwise; sorting pays its
    /// logarithm; the keys and values of a map come sorted.
    pub(super) fn cost(self, args: &[Value], types: &crate::TypeTable, limit: u64) -> u64 {
        let walked = walked(args);
        let log2 = |n: usize| 64 - (n as u64).leading_zeros() as u64;
        // Ordering compares text whole: each comparison costs its bytes.
        let text = |items: &[Value]| -> u64 {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| s.len() as u64 / 64)
                .sum()
        };
        match (self, args.first()) {
            (CollectionFn::Keys | CollectionFn::Values, Some(Value::Map(m))) => {
                let key_text: u64 = m.keys().map(|k| k.len() as u64 / 64).sum();
                (m.len() as u64 + key_text) * log2(m.len())
            }
            (CollectionFn::Min | CollectionFn::Max, Some(Value::List(items))) => {
                walked + text(items)
            }
            (CollectionFn::Flatten, Some(Value::List(items))) => {
                walked + items.iter().map(size).sum::<u64>()
            }
            (CollectionFn::Unique, Some(Value::List(items))) => {
                // Each element that cannot be hashed is compared, whole, with
                // every one kept before it.
                let unhashable: Vec<&Value> =
                    items.iter().filter(|v| hash_key(v).is_none()).collect();
                let compared: u64 = unhashable.iter().map(|v| deep_size(types, v, limit)).sum();
                // Every element is hashed whole.
                let hashed: u64 = items.iter().map(|v| deep_size(types, v, limit)).sum();
                walked + hashed + unhashable.len() as u64 * compared.max(unhashable.len() as u64)
            }
            (CollectionFn::Sort, Some(Value::List(items))) => {
                (walked + text(items)) * log2(items.len())
            }
            _ => walked,
        }
    }

    pub(super) fn call(self, args: &[Value], cx: &CallContext<'_>) -> CallResult {
        let arg = &args[0];
        Ok(match self {
            CollectionFn::Count => Value::Int(match arg {
                Value::List(items) => items.len(),
                Value::Map(m) => m.len(),
                Value::Str(s) => s.chars().count(),
                Value::Record(r) => r.slots.len(),
                _ => 0,
            } as i64),
            CollectionFn::Keys => {
                let mut keys: Vec<Arc<str>> = match arg {
                    Value::Map(m) => m.keys().cloned().collect(),
                    _ => Vec::new(),
                };
                keys.sort();
                Value::List(keys.into_iter().map(Value::Str).collect::<Vec<_>>().into())
            }
            // In the order of `keys(m)`: sorted by key.
            CollectionFn::Values => match arg {
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
            CollectionFn::Sum => {
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
            CollectionFn::Min | CollectionFn::Max => {
                let want = if self == CollectionFn::Min {
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
            CollectionFn::Unique => {
                // Hashable values (strings, numbers, …) go through a set; the rest
                // are compared pairwise (and charged for it, see `cost`).
                let mut seen: FxHashSet<HashKey<'_>> = FxHashSet::default();
                let mut out: Vec<Value> = Vec::new();
                let mut unhashable: Vec<&Value> = Vec::new();
                for v in list(arg) {
                    let fresh = match hash_key(v) {
                        Some(key) => seen.insert(key),
                        None if unhashable.iter().any(|o| values_equal(cx.types, o, v)) => false,
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
            CollectionFn::Sort => {
                let mut out: Vec<Value> = list(arg).to_vec();
                out.sort_by(|a, b| compare(a, b).unwrap_or(Ordering::Equal));
                Value::List(out.into())
            }
            CollectionFn::Flatten => {
                let out: Vec<Value> = list(arg)
                    .iter()
                    .flat_map(|inner| list(inner).iter().cloned())
                    .collect();
                Value::List(out.into())
            }
        })
    }
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
