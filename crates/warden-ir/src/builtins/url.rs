//! url_scheme, url_host (`url`), host_matches.

use super::cost::walked;
use super::types::strings;
use super::{CallContext, CallResult, category, opt_str, str_arg};
use crate::{Ty, Value};

category! { UrlFn "url" {
    UrlScheme = "url_scheme"(1): "url_scheme(u: string) -> string?: `https` for `https://a.example/x`",
    UrlHost = "url_host"(1): "url_host(u: string) -> string?: the host name",
    HostMatches = "host_matches"(2): "host_matches(host: string, pattern: string) -> bool: `*.acme.example` matches one or more labels",
}}

impl UrlFn {
    pub(super) fn check(self, args: &[Ty]) -> Result<Ty, String> {
        strings(self.name(), args)?;
        Ok(match self {
            UrlFn::UrlScheme | UrlFn::UrlHost => Ty::String.optional(),
            UrlFn::HostMatches => Ty::Bool,
        })
    }

    pub(super) fn cost(self, args: &[Value], _types: &crate::TypeTable, _limit: u64) -> u64 {
        walked(args)
    }

    pub(super) fn call(self, args: &[Value], _: &CallContext<'_>) -> CallResult {
        Ok(match self {
            UrlFn::UrlScheme => {
                let parsed = ::url::Url::parse(str_arg(args, 0)?).ok();
                opt_str(parsed.as_ref().map(|u| u.scheme()))
            }
            UrlFn::UrlHost => {
                // IPv6 hosts come without their brackets, ready for `ip_is_private`.
                let parsed = ::url::Url::parse(str_arg(args, 0)?).ok();
                match parsed.as_ref().and_then(|u| u.host()) {
                    Some(::url::Host::Ipv6(v6)) => Value::str(&v6.to_string()),
                    Some(::url::Host::Ipv4(v4)) => Value::str(&v4.to_string()),
                    Some(::url::Host::Domain(d)) => Value::str(d),
                    None => Value::None,
                }
            }
            UrlFn::HostMatches => Value::Bool(host_matches(str_arg(args, 0)?, str_arg(args, 1)?)),
        })
    }
}

/// `*.acme.example` matches `a.acme.example` and `a.b.acme.example`, not `acme.example`;
/// other patterns match exactly, ignoring case and a trailing dot.
fn host_matches(host: &str, pattern: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => host == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::host_matches;

    #[test]
    fn wildcard_hosts_need_a_label() {
        assert!(host_matches("api.acme.example", "*.acme.example"));
        assert!(host_matches("a.b.acme.example", "*.acme.example"));
        assert!(!host_matches("acme.example", "*.acme.example"));
        assert!(!host_matches("evilacme.example", "*.acme.example"));
        assert!(host_matches("API.Salesforce.com.", "api.salesforce.com"));
    }
}
