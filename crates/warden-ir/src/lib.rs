//! The compiled policy set: the only thing the evaluator sees.
//!
//! Everything here is resolved: names became ids, field names became slot
//! indices, literal regexes are compiled, and rules are indexed by target and
//! by literal equality tests. This crate knows nothing of syntax, salsa or
//! IO; it also holds the runtime [`Value`] and the conversion of JSON inputs
//! into values shaped by their declared types.

pub mod builtins;
mod convert;
mod cost;
mod equality;
mod pattern;
mod program;
mod reads;
mod stream;
mod ty;
mod value;

pub use builtins::Builtin;
pub use convert::{
    ConversionError, LISTED_PROBLEMS, PATH_KEY_CHARS, UndeclaredField, json_to_value,
    json_to_value_noting, json_to_value_reading, push_path_key, value_to_json,
};
pub use cost::{CostBound, rule_cost};
pub use equality::{as_f64, compare, equal_counted, field_by_name, values_equal};
pub use pattern::{MAX_PATTERN_WEIGHT, Pattern, PatternError, compile_pattern, pattern_weight};
pub use program::*;
pub use reads::{Reads, input_reads};
pub use stream::{StreamLoader, TypedSeed, count_value, read_typed};
pub use ty::*;
pub use value::*;
