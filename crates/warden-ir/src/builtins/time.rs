//! now, parse_time, days, hours.

use super::cost::walked;
use super::types::strings;
use super::{CallContext, CallResult, category, str_arg};
use crate::{Ty, Value, parse_time};

const MICROS_PER_HOUR: i64 = 3_600_000_000;

category! { TimeFn "time" {
    Now = "now"(0) total: "now() -> time: the evaluation time the caller passed in",
    ParseTime = "parse_time"(1): "parse_time(s: string) -> time?: RFC 3339 or a date",
    Days = "days"(1): "days(d: duration) -> int: whole days, rounded down (-23h is -1)",
    Hours = "hours"(1): "hours(d: duration) -> int: whole hours, rounded down",
}}

impl TimeFn {
    pub(super) fn check(self, args: &[Ty]) -> Result<Ty, String> {
        Ok(match self {
            TimeFn::Now => Ty::Time,
            TimeFn::ParseTime => {
                strings(self.name(), args)?;
                Ty::Time.optional()
            }
            TimeFn::Days | TimeFn::Hours => match &args[0] {
                Ty::Duration | Ty::Error => Ty::Int,
                _ => return Err(format!("`{}` takes a duration", self.name())),
            },
        })
    }

    pub(super) fn cost(self, args: &[Value], _types: &crate::TypeTable, _limit: u64) -> u64 {
        walked(args)
    }

    pub(super) fn call(self, args: &[Value], cx: &CallContext<'_>) -> CallResult {
        Ok(match self {
            TimeFn::Now => Value::Time(cx.now),
            TimeFn::ParseTime => parse_time(str_arg(args, 0)?).map_or(Value::None, Value::Time),
            TimeFn::Days | TimeFn::Hours => {
                let Value::Duration(d) = args[0] else {
                    return Err("expected a duration".into());
                };
                let unit = if self == TimeFn::Days {
                    24 * MICROS_PER_HOUR
                } else {
                    MICROS_PER_HOUR
                };
                // Whole units, rounded down: something that expired 23 hours ago is at day -1, not 0.
                Value::Int(d.div_euclid(unit))
            }
        })
    }
}
