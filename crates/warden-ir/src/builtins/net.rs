//! ip_valid, cidr_contains, ip_is_private (`ipnet`).

use super::cost::walked;
use super::types::strings;
use super::{CallContext, CallResult, category, str_arg};
use crate::{Ty, Value};
use std::net::IpAddr;

category! { NetFn "net" {
    IpValid = "ip_valid"(1): "ip_valid(s: string) -> bool: an IPv4 or IPv6 address",
    CidrContains = "cidr_contains"(2): "cidr_contains(cidr: string, ip: string) -> bool",
    IpIsPrivate = "ip_is_private"(1): "ip_is_private(ip: string) -> bool: private (RFC 1918), loopback, link-local, unspecified, shared (100.64.0.0/10), unique-local IPv6, also when written IPv4-mapped",
}}

impl NetFn {
    pub(super) fn check(self, args: &[Ty]) -> Result<Ty, String> {
        strings(self.name(), args)?;
        Ok(Ty::Bool)
    }

    pub(super) fn cost(self, args: &[Value], _types: &crate::TypeTable, _limit: u64) -> u64 {
        walked(args)
    }

    pub(super) fn call(self, args: &[Value], _: &CallContext<'_>) -> CallResult {
        Ok(match self {
            NetFn::IpValid => Value::Bool(str_arg(args, 0)?.parse::<IpAddr>().is_ok()),
            NetFn::CidrContains => {
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
            NetFn::IpIsPrivate => {
                Value::Bool(str_arg(args, 0)?.parse::<IpAddr>().is_ok_and(is_internal))
            }
        })
    }
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

#[cfg(test)]
mod tests {
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
}
