//! The built-in functions, by category. Their types live in the checker,
//! their behaviour in the evaluator (`warden-eval/src/builtins/`); this is
//! the one list both agree on.

macro_rules! builtins {
    ($( $category:literal { $( $variant:ident = $name:literal : $doc:literal ),* $(,)? } )*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Builtin { $( $( $variant, )* )* }

        impl Builtin {
            pub const ALL: &'static [Builtin] = &[ $( $( Builtin::$variant, )* )* ];

            /// The name policies call it by.
            pub fn name(self) -> &'static str {
                match self { $( $( Builtin::$variant => $name, )* )* }
            }
            /// The category it is documented under.
            pub fn category(self) -> &'static str {
                match self { $( $( Builtin::$variant => $category, )* )* }
            }
            /// Its signature and what it does, one line.
            pub fn doc(self) -> &'static str {
                match self { $( $( Builtin::$variant => $doc, )* )* }
            }
            pub fn from_name(name: &str) -> Option<Builtin> {
                match name { $( $( $name => Some(Builtin::$variant), )* )* _ => None }
            }
        }
    };
}

builtins! {
    "collections" {
        Count = "count": "count(xs: [T] | {string: T} | string) -> int: the number of elements or characters",
        Keys = "keys": "keys(m: {string: T}) -> [string]: the keys, sorted",
        Values = "values": "values(m: {string: T}) -> [T]: the values, in the order of keys(m)",
        Sum = "sum": "sum(xs: [int] | [float]) -> int | float",
        Min = "min": "min(xs: [T]) -> T?: the smallest element, none when empty",
        Max = "max": "max(xs: [T]) -> T?: the largest element, none when empty",
        Unique = "unique": "unique(xs: [T]) -> [T]: without duplicates, first occurrence kept",
        Sort = "sort": "sort(xs: [T]) -> [T]",
        Flatten = "flatten": "flatten(xss: [[T]]) -> [T]",
    }
    "strings" {
        Lower = "lower": "lower(s: string) -> string",
        Upper = "upper": "upper(s: string) -> string",
        Trim = "trim": "trim(s: string) -> string: without leading and trailing white space",
        StartsWith = "starts_with": "starts_with(s: string, prefix: string) -> bool",
        EndsWith = "ends_with": "ends_with(s: string, suffix: string) -> bool",
        Contains = "contains": "contains(s: string, part: string) -> bool",
        Replace = "replace": "replace(s: string, from: string, to: string) -> string",
        Split = "split": "split(s: string, separator: string) -> [string]",
        Join = "join": "join(parts: [string], separator: string) -> string",
        ToString = "to_string": "to_string(x: any) -> string: as it would read in a message",
    }
    "regex" {
        RegexMatch = "regex_match": "regex_match(s: string, pattern: string) -> bool: `pattern` may be computed",
        RegexFind = "regex_find": "regex_find(s: string, pattern: string) -> string?: the first match",
    }
    "semver" {
        SemverValid = "semver_valid": "semver_valid(v: string) -> bool: a semantic version such as `1.4.0`",
        SemverCompare = "semver_compare": "semver_compare(a: string, b: string) -> int: -1, 0 or 1",
        SemverSatisfies = "semver_satisfies": "semver_satisfies(v: string, requirement: string) -> bool: e.g. `>=1.2, <2`",
    }
    "time" {
        Now = "now": "now() -> time: the evaluation time the caller passed in",
        ParseTime = "parse_time": "parse_time(s: string) -> time?: RFC 3339 or a date",
        Days = "days": "days(d: duration) -> int: whole days, rounded down (-23h is -1)",
        Hours = "hours": "hours(d: duration) -> int: whole hours, rounded down",
    }
    "net" {
        IpValid = "ip_valid": "ip_valid(s: string) -> bool: an IPv4 or IPv6 address",
        CidrContains = "cidr_contains": "cidr_contains(cidr: string, ip: string) -> bool",
        IpIsPrivate = "ip_is_private": "ip_is_private(ip: string) -> bool: private (RFC 1918), loopback, link-local, unspecified, shared (100.64.0.0/10), unique-local IPv6, also when written IPv4-mapped",
    }
    "url" {
        UrlScheme = "url_scheme": "url_scheme(u: string) -> string?: `https` for `https://a.example/x`",
        UrlHost = "url_host": "url_host(u: string) -> string?: the host name",
        HostMatches = "host_matches": "host_matches(host: string, pattern: string) -> bool: `*.acme.example` matches one or more labels",
    }
    "glob" {
        GlobMatch = "glob_match": "glob_match(pattern: string, s: string) -> bool: `*`, `?`, `[ab]`, `**`",
    }
    "secrets" {
        LooksLikeSecret = "looks_like_secret": "looks_like_secret(s: string) -> bool: AWS keys, private keys, GitHub/Slack/Stripe tokens, JWTs, high-entropy strings",
        SecretKind = "secret_kind": "secret_kind(s: string) -> string?: which pattern matched, e.g. `aws-access-key`",
        StringsIn = "strings_in": "strings_in(x: any) -> [string]: every string anywhere inside `x`, unknown fields included",
    }
}
