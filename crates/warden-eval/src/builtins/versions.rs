//! semver_valid, semver_compare, semver_satisfies (the `semver` crate).

use super::{BuiltinResult, str_arg};
use warden_ir::{Builtin, Value};

pub(super) fn call(builtin: Builtin, args: &[Value]) -> BuiltinResult {
    let version = |i: usize| -> Result<semver::Version, String> {
        let text = str_arg(args, i)?;
        semver::Version::parse(text.trim_start_matches('v'))
            .map_err(|e| format!("`{text}` is not a semantic version: {e}"))
    };
    Ok(match builtin {
        Builtin::SemverValid => {
            Value::Bool(semver::Version::parse(str_arg(args, 0)?.trim_start_matches('v')).is_ok())
        }
        Builtin::SemverCompare => Value::Int(match version(0)?.cmp(&version(1)?) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        }),
        Builtin::SemverSatisfies => {
            let text = str_arg(args, 1)?;
            let req = semver::VersionReq::parse(text)
                .map_err(|e| format!("`{text}` is not a version requirement: {e}"))?;
            Value::Bool(req.matches(&version(0)?))
        }
        _ => unreachable!("not a semver builtin: {builtin:?}"),
    })
}
