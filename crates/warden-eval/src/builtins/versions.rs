//! semver_valid, semver_compare, semver_satisfies (the `semver` crate).

use super::{BuiltinResult, str_arg};
use warden_ir::{Builtin, Value};

pub(super) fn call(builtin: Builtin, args: &[Value]) -> BuiltinResult {
    let version = |i: usize| -> Result<semver::Version, String> {
        let text = str_arg(args, i)?;
        semver::Version::parse(text).map_err(|e| format!("`{text}` is not a semantic version: {e}"))
    };
    Ok(match builtin {
        Builtin::SemverValid => Value::Bool(semver::Version::parse(str_arg(args, 0)?).is_ok()),
        // Build metadata (`+build.5`) does not take part in precedence (SemVer 2.0, §10).
        Builtin::SemverCompare => Value::Int(match version(0)?.cmp_precedence(&version(1)?) {
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
