//! now, parse_time, days, hours.

use super::{BuiltinResult, str_arg};
use warden_ir::{Builtin, Value, parse_time};

const MICROS_PER_HOUR: i64 = 3_600_000_000;

pub(super) fn call(builtin: Builtin, args: &[Value], now: i64) -> BuiltinResult {
    Ok(match builtin {
        Builtin::Now => Value::Time(now),
        Builtin::ParseTime => parse_time(str_arg(args, 0)?).map_or(Value::None, Value::Time),
        Builtin::Days | Builtin::Hours => {
            let Value::Duration(d) = args[0] else {
                return Err("expected a duration".into());
            };
            let unit = if builtin == Builtin::Days {
                24 * MICROS_PER_HOUR
            } else {
                MICROS_PER_HOUR
            };
            // Whole units, rounded down: something that expired 23 hours ago is at day -1, not 0.
            Value::Int(d.div_euclid(unit))
        }
        _ => unreachable!("not a time builtin: {builtin:?}"),
    })
}
