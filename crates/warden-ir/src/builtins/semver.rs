//! semver_valid, semver_compare, semver_satisfies (the `semver` crate).

use super::cost::walked;
use super::types::strings;
use super::{CallContext, CallResult, category, str_arg};
use crate::{Ty, Value};

category! { SemverFn "semver" {
    SemverValid = "semver_valid"(1): "semver_valid(v: string) -> bool: a semantic version such as `1.4.0`",
    SemverCompare = "semver_compare"(2): "semver_compare(a: string, b: string) -> int: -1, 0 or 1",
    SemverSatisfies = "semver_satisfies"(2): "semver_satisfies(v: string, requirement: string) -> bool: e.g. `>=1.2, <2`",
}}

impl SemverFn {
    pub(super) fn check(self, args: &[Ty]) -> Result<Ty, String> {
        strings(self.name(), args)?;
        Ok(match self {
            SemverFn::SemverCompare => Ty::Int,
            SemverFn::SemverValid | SemverFn::SemverSatisfies => Ty::Bool,
        })
    }

    pub(super) fn cost(self, args: &[Value], _types: &crate::TypeTable, _limit: u64) -> u64 {
        walked(args)
    }

    pub(super) fn call(self, args: &[Value], _: &CallContext<'_>) -> CallResult {
        let version = |i: usize| -> Result<::semver::Version, String> {
            let text = str_arg(args, i)?;
            ::semver::Version::parse(text)
                .map_err(|e| format!("`{text}` is not a semantic version: {e}"))
        };
        Ok(match self {
            SemverFn::SemverValid => {
                Value::Bool(::semver::Version::parse(str_arg(args, 0)?).is_ok())
            }
            // Build metadata (`+build.5`) does not take part in precedence (SemVer 2.0, §10).
            SemverFn::SemverCompare => Value::Int(match version(0)?.cmp_precedence(&version(1)?) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }),
            SemverFn::SemverSatisfies => {
                let text = str_arg(args, 1)?;
                let req = ::semver::VersionReq::parse(text)
                    .map_err(|e| format!("`{text}` is not a version requirement: {e}"))?;
                Value::Bool(req.matches(&version(0)?))
            }
        })
    }
}
