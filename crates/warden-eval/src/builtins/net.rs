//! IP and CIDR (`ipnet`), URL parsing (`url`), host and glob matching (`globset`).

use super::{BuiltinResult, opt_str, str_arg};
use std::net::IpAddr;
use warden_ir::{Builtin, Value};

pub(super) fn call(builtin: Builtin, args: &[Value]) -> BuiltinResult {
    Ok(match builtin {
        Builtin::IpValid => Value::Bool(str_arg(args, 0)?.parse::<IpAddr>().is_ok()),
        Builtin::CidrContains => {
            let (cidr, ip) = (str_arg(args, 0)?, str_arg(args, 1)?);
            let net: ipnet::IpNet = cidr
                .parse()
                .map_err(|_| format!("`{cidr}` is not a CIDR block"))?;
            match ip.parse::<IpAddr>() {
                // `::ffff:169.254.169.254` is the IPv4 address in IPv6 clothing.
                Ok(addr) => Value::Bool(
                    net.contains(&addr) || unmapped(addr).is_some_and(|v4| net.contains(&v4)),
                ),
                Err(_) => Value::Bool(false),
            }
        }
        Builtin::IpIsPrivate => {
            Value::Bool(str_arg(args, 0)?.parse::<IpAddr>().is_ok_and(is_internal))
        }
        Builtin::UrlScheme => {
            let parsed = url::Url::parse(str_arg(args, 0)?).ok();
            opt_str(parsed.as_ref().map(|u| u.scheme()))
        }
        Builtin::UrlHost => {
            // IPv6 hosts come without their brackets, ready for `ip_is_private`.
            let parsed = url::Url::parse(str_arg(args, 0)?).ok();
            match parsed.as_ref().and_then(|u| u.host()) {
                Some(url::Host::Ipv6(v6)) => Value::str(&v6.to_string()),
                Some(url::Host::Ipv4(v4)) => Value::str(&v4.to_string()),
                Some(url::Host::Domain(d)) => Value::str(d),
                None => Value::None,
            }
        }
        Builtin::HostMatches => Value::Bool(host_matches(str_arg(args, 0)?, str_arg(args, 1)?)),
        Builtin::GlobMatch => {
            let (pattern, s) = (str_arg(args, 0)?, str_arg(args, 1)?);
            // `*` stays within one path segment; `**` crosses segments.
            let glob = glob(pattern)?;
            glob_weight(pattern)?;
            Value::Bool(glob.compile_matcher().is_match(s))
        }
        _ => unreachable!("not a net builtin: {builtin:?}"),
    })
}

fn glob(pattern: &str) -> Result<globset::Glob, String> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("invalid glob `{pattern}`: {e}"))
}

/// The weight of the regular expression a glob compiles to
/// ([`warden_ir::pattern_weight`]), or why it is refused: `?` repeated
/// thousands of times is as costly to match as a counted repetition.
pub(crate) fn glob_weight(pattern: &str) -> Result<u64, String> {
    warden_ir::pattern_weight(glob(pattern)?.regex(), false)
        .map_err(|e| format!("invalid glob `{pattern}`: {e}"))
}

/// The IPv4 address an IPv4-mapped IPv6 address stands for.
fn unmapped(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
        IpAddr::V4(_) => None,
    }
}

/// Not a public internet address: private (RFC 1918), loopback, link-local,
/// unspecified, shared (100.64.0.0/10), unique-local IPv6, and IPv4 addresses
/// written as IPv4-mapped IPv6 (`::ffff:10.0.0.5`). An SSRF guard relies on it.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        },
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
    fn internal_addresses_include_mapped_shared_and_unspecified() {
        use super::is_internal;
        for ip in [
            "10.1.2.3",
            "127.0.0.1",
            "169.254.1.1",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.5",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "100.128.0.1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn wildcard_hosts_need_a_label() {
        assert!(host_matches("api.acme.example", "*.acme.example"));
        assert!(host_matches("a.b.acme.example", "*.acme.example"));
        assert!(!host_matches("acme.example", "*.acme.example"));
        assert!(!host_matches("evilacme.example", "*.acme.example"));
        assert!(host_matches("API.Salesforce.com.", "api.salesforce.com"));
    }
}
