//! looks_like_secret, secret_kind, strings_in: finding credentials pasted into documents.

use super::cost::{SECRET_BYTES_PER_STEP, deep_size, scan, text_at};
use super::types::strings;
use super::{CallContext, CallResult, category, opt_str, str_arg};
use crate::{Ty, TypeLookup, Value};
use ::regex::Regex;
use std::sync::LazyLock;

category! { SecretFn "secrets" {
    LooksLikeSecret = "looks_like_secret"(1): "looks_like_secret(s: string) -> bool: AWS keys, private keys, GitHub/Slack/Stripe tokens, JWTs, high-entropy strings",
    SecretKind = "secret_kind"(1): "secret_kind(s: string) -> string?: which pattern matched, e.g. `aws-access-key`",
    StringsIn = "strings_in"(1) total: "strings_in(x: any) -> [string]: every string anywhere inside `x`: values, map keys, unknown fields and their names",
}}

impl SecretFn {
    pub(super) fn check(self, args: &[Ty]) -> Result<Ty, String> {
        Ok(match self {
            SecretFn::LooksLikeSecret => {
                strings(self.name(), args)?;
                Ty::Bool
            }
            SecretFn::SecretKind => {
                strings(self.name(), args)?;
                Ty::String.optional()
            }
            SecretFn::StringsIn => Ty::List(Box::new(Ty::String)),
        })
    }

    /// Ten patterns and an entropy measure per token: every byte is costly.
    pub(super) fn cost(self, args: &[Value], types: &crate::TypeTable, limit: u64) -> u64 {
        match self {
            SecretFn::LooksLikeSecret | SecretFn::SecretKind => {
                scan(text_at(args, 0).len(), SECRET_BYTES_PER_STEP)
            }
            SecretFn::StringsIn => args.first().map_or(0, |v| deep_size(types, v, limit)),
        }
    }

    pub(super) fn call(self, args: &[Value], _: &CallContext<'_>) -> CallResult {
        Ok(match self {
            SecretFn::LooksLikeSecret => Value::Bool(secret_kind(str_arg(args, 0)?).is_some()),
            SecretFn::SecretKind => opt_str(secret_kind(str_arg(args, 0)?)),
            SecretFn::StringsIn => {
                let mut out = Vec::new();
                collect_strings(&args[0], &mut out);
                Value::List(out.into())
            }
        })
    }
}

/// Known credential shapes, most specific first.
static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        (
            "aws-access-key",
            r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",
        ),
        (
            "private-key",
            r"-----BEGIN ((RSA|DSA|EC|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----",
        ),
        (
            "github-token",
            r"\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        ),
        ("slack-token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
        (
            "slack-webhook",
            r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
        ),
        ("stripe-key", r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}\b"),
        (
            "jwt",
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b",
        ),
        ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
        (
            "azure-storage-key",
            r"(?i)\bAccountKey=[A-Za-z0-9+/]{20,}={0,2}",
        ),
        (
            "password-in-url",
            r"(?i)[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s:@]+@",
        ),
    ]
    .into_iter()
    .map(|(name, pattern)| {
        (
            name,
            Regex::new(pattern).expect("secret patterns are valid"),
        )
    })
    .collect()
});

/// `ssh-ed25519 AAAA… comment` and its kin: public halves of SSH keys.
static SSH_PUBLIC_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) AAAA[A-Za-z0-9+/]+={0,3}(\s|$)")
        .expect("a valid pattern")
});

/// The kind of secret `s` looks like, if any.
pub fn secret_kind(s: &str) -> Option<&'static str> {
    if let Some((name, _)) = PATTERNS.iter().find(|(_, re)| re.is_match(s)) {
        return Some(name);
    }
    // Inline data (`data:image/png;base64,…`) is content, not a credential;
    // an SSH public key is meant to be shared.
    if s.trim_start().starts_with("data:") || SSH_PUBLIC_KEY.is_match(s) {
        return None;
    }
    s.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '=' | ':'))
        .any(is_high_entropy_token)
        .then_some("high-entropy-string")
}

/// A long token mixing character classes with high Shannon entropy (a random key),
/// as opposed to a word, a path or a URL.
fn is_high_entropy_token(token: &str) -> bool {
    // Integrity hashes (`sha256-…`), inline data and paths are not secrets.
    let digest_prefix = ["sha256-", "sha384-", "sha512-", "data"]
        .iter()
        .any(|p| token.starts_with(p));
    if token.len() < 24
        || token.len() > 512
        || digest_prefix
        || token.contains("://")
        || token.contains('/') && token.contains('.')
        || token.matches('/').count() >= 2
    {
        return false;
    }
    if !token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-'))
    {
        return false;
    }
    let classes = [
        token.chars().any(|c| c.is_ascii_lowercase()),
        token.chars().any(|c| c.is_ascii_uppercase()),
        token.chars().any(|c| c.is_ascii_digit()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return false;
    }
    // Random keys scatter their digits; names (`FactoryBean2024`) keep them in one or two runs.
    let digit_runs = token
        .as_bytes()
        .windows(2)
        .filter(|w| !w[0].is_ascii_digit() && w[1].is_ascii_digit())
        .count()
        + usize::from(token.as_bytes()[0].is_ascii_digit());
    if digit_runs < 3 {
        return false;
    }
    shannon_entropy(token) >= 4.0
}

fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

fn collect_strings(v: &Value, out: &mut Vec<Value>) {
    each_string(v, &mut Vec::new(), &mut |_, s| out.push(s.clone()));
}

/// A step down into a value: a record's slot, a map's key, a list's index.
enum Step<'v> {
    Slot(&'v crate::RecordValue, usize),
    Key(&'v str),
    Index(usize),
}

/// Calls `visit` with every string inside `v`, depth first, and the steps
/// down to it: the one walk behind `strings_in` and [`string_paths`], so the
/// two always agree on the order. The keys of maps and of a record's
/// undeclared fields are strings too (a credential pasted as a key is still
/// pasted), each visited just before its value, at the entry's path.
fn each_string<'v>(
    v: &'v Value,
    steps: &mut Vec<Step<'v>>,
    visit: &mut dyn FnMut(&[Step<'v>], &Value),
) {
    fn down<'v>(
        step: Step<'v>,
        inner: &'v Value,
        steps: &mut Vec<Step<'v>>,
        visit: &mut dyn FnMut(&[Step<'v>], &Value),
    ) {
        steps.push(step);
        each_string(inner, steps, visit);
        steps.pop();
    }
    // An entry of a map (or an undeclared field): its key, then its value.
    fn entry<'v>(
        key: &'v std::sync::Arc<str>,
        item: &'v Value,
        steps: &mut Vec<Step<'v>>,
        visit: &mut dyn FnMut(&[Step<'v>], &Value),
    ) {
        steps.push(Step::Key(key));
        visit(steps, &Value::Str(key.clone()));
        steps.pop();
        down(Step::Key(key), item, steps, visit);
    }
    match v {
        Value::Str(_) => visit(steps, v),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                down(Step::Index(i), item, steps, visit);
            }
        }
        Value::Map(m) => {
            for (key, item) in m.iter() {
                entry(key, item, steps, visit);
            }
        }
        Value::Record(r) => {
            for (i, item) in r.slots.iter().enumerate() {
                down(Step::Slot(r, i), item, steps, visit);
            }
            for (key, item) in r.extra.iter().flat_map(|extra| extra.iter()) {
                entry(key, item, steps, visit);
            }
        }
        _ => {}
    }
}

/// The path below `v` (`.spec.notes`, `.tags[2]`) of each string
/// `strings_in(v)` lists, in its order: where a finding about one points.
/// Paths share their prefixes (a node per step, each naming its parent),
/// so a million strings below one long key hold that key once, and a path
/// is written only when a finding asks for it.
pub fn string_paths(types: &crate::TypeTable, v: &Value) -> StringPaths {
    let mut paths = StringPaths::default();
    // The steps whose nodes were made last, with those nodes: a walk
    // depth first changes only the end of its path from one string to the
    // next, so each string costs the steps its path does not share.
    let mut made: Vec<(StepKey, u32)> = Vec::new();
    each_string(v, &mut Vec::new(), &mut |steps, _| {
        let shared = made
            .iter()
            .zip(steps)
            .take_while(|((key, _), step)| *key == StepKey::of(step))
            .count();
        made.truncate(shared);
        for step in &steps[shared..] {
            let mut segment = String::new();
            match step {
                Step::Slot(record, i) => {
                    crate::push_path_key(&mut segment, &types.record(record.ty).fields[*i].name)
                }
                Step::Key(key) => crate::push_path_key(&mut segment, key),
                Step::Index(i) => segment.push_str(&format!("[{i}]")),
            }
            let parent = made.last().map(|(_, node)| *node);
            paths.nodes.push((parent, segment.into_boxed_str()));
            made.push((StepKey::of(step), paths.nodes.len() as u32 - 1));
        }
        paths.strings.push(made.last().map(|(_, node)| *node));
    });
    paths
}

/// Where each string of a `strings_in` walk sits: see [`string_paths`].
#[derive(Debug, Default)]
pub struct StringPaths {
    /// Each step's parent and its segment (`.notes`, `[2]`).
    nodes: Vec<(Option<u32>, Box<str>)>,
    /// Each string's last step; `None` for `v` itself.
    strings: Vec<Option<u32>>,
}

impl StringPaths {
    /// The path of the `i`-th string below the value, e.g. `.spec.notes`.
    pub fn get(&self, i: usize) -> Option<String> {
        let mut node = *self.strings.get(i)?;
        let mut segments = Vec::new();
        while let Some(at) = node {
            let (parent, segment) = &self.nodes[at as usize];
            segments.push(&**segment);
            node = *parent;
        }
        Some(segments.iter().rev().copied().collect())
    }
}

/// A step compared by identity: the same record slot, the same key (the
/// same text in memory, not equal text), the same index.
#[derive(PartialEq)]
enum StepKey {
    Slot(*const crate::RecordValue, usize),
    Key(*const u8, usize),
    Index(usize),
}

impl StepKey {
    fn of(step: &Step<'_>) -> StepKey {
        match step {
            Step::Slot(record, i) => StepKey::Slot(*record, *i),
            Step::Key(key) => StepKey::Key(key.as_ptr(), key.len()),
            Step::Index(i) => StepKey::Index(*i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::secret_kind;

    #[test]
    fn recognises_common_credentials() {
        assert_eq!(secret_kind("AKIAIOSFODNN7EXAMPLE"), Some("aws-access-key"));
        assert_eq!(
            secret_kind(
                "DefaultEndpointsProtocol=https;AccountName=crmlite;AccountKey=Zm9vYmFyYmF6cXV4cXV1eHF1dXo=;EndpointSuffix=core.windows.net"
            ),
            Some("azure-storage-key")
        );
        assert_eq!(
            secret_kind("-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
            Some("private-key")
        );
        assert_eq!(
            secret_kind("ghp_0123456789abcdefghijABCDEFGHIJ012345"),
            Some("github-token")
        );
        assert_eq!(
            secret_kind("xoxb-1234567890-abcdefghij"),
            Some("slack-token")
        );
        assert_eq!(
            secret_kind(concat!("sk_live_", "4eC39HqLyjWDarjtT1zdp7dc")),
            Some("stripe-key")
        );
        assert_eq!(
            secret_kind(
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
            ),
            Some("jwt")
        );
        assert_eq!(
            secret_kind("token=Zr8q2Lx9Vb7Nc4Md1Qw6Ep3Ty5Ui0Oa"),
            Some("high-entropy-string")
        );
        assert_eq!(
            secret_kind("token:Zr8q2Lx9Vb7Nc4Md1Qw6Ep3Ty5Ui0Oa"),
            Some("high-entropy-string")
        );
        assert_eq!(
            secret_kind("HTTPS://admin:hunter2@db.internal"),
            Some("password-in-url")
        );
    }

    #[test]
    fn leaves_ordinary_values_alone() {
        for s in [
            "crm-lite",
            "https://crm-lite.apps.acme.example",
            "jane.doe@acme.example",
            "approved/crud-basic@2",
            "SALESFORCE_TOKEN",
            "AbstractSingletonProxyFactoryBean2024",
            "MicrosoftAzureStorageAccount01Prod",
            "projects/my-proj/secrets/DbPassword2024/versions/latest",
            "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC",
            "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
            "550e8400-e29b-41d4-a716-446655440000",
            "2026-05-01T09:00:00Z",
            "sales-ops-oncall@acme.example",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0Vq3Xo8mZ7pQ2s9Lk4Rt1Yw6Nc5Hd8Fj3Ke2Ua7Bx deploy@ci",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7x9Qk2Lp4Zr8Vn3Mw5Ty1Bh6Jd0Fs9Gc2Xe7Ua4Ko1Ri8Pq5Wm3Nz6Yb",
        ] {
            assert_eq!(secret_kind(s), None, "{s}");
        }
    }
}
