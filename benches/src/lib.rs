//! Benchmark workloads: the 20-rule manifest policy and the gateway request
//! policy over a 1,000-app catalog, each with a hand-written Rust function
//! that makes the same checks, so a run can report Warden's cost as a ratio
//! to the baseline measured beside it.

pub mod hand_written;

use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

pub fn now() -> SystemTime {
    "2026-06-01T00:00:00Z"
        .parse::<jiff::Timestamp>()
        .expect("a time")
        .into()
}

pub fn manifest() -> Json {
    serde_json::from_str(
        &std::fs::read_to_string(policies().join("manifest.json")).expect("manifest.json"),
    )
    .expect("JSON")
}

/// A catalog of `n` apps: `app-0000` … ; every third app is a Viewer binding for `u-1`.
pub fn catalog(n: usize) -> Json {
    let mut apps = serde_json::Map::new();
    for i in 0..n {
        let mut bindings = serde_json::Map::new();
        let templates = ["Viewer", "Editor", "Admin"];
        bindings.insert("u-1".into(), json!(templates[i % 3]));
        for j in 0..8 {
            bindings.insert(
                format!("u-{}", 100 + (i * 7 + j) % 500),
                json!(templates[j % 2]),
            );
        }
        let classification = ["public", "internal", "confidential", "restricted"][i % 4];
        apps.insert(
            format!("app-{i:04}"),
            json!({
                "owner": format!("owner-{i}@acme.example"),
                "status": if i % 50 == 49 { "retired" } else { "active" },
                "classification": classification,
                "expires_at": "2026-12-31T00:00:00Z",
                "egress_allowlist": ["api.salesforce.com", format!("api-{i}.vendor.example")],
                "pii_fields": ["email", "phone"],
                "bindings": bindings,
            }),
        );
    }
    json!({ "catalog": { "apps": apps } })
}

/// A Viewer reading a confidential app: allowed, with the `mask` obligation.
pub fn request() -> Json {
    json!({
        "principal": { "id": "u-1", "type": "user", "authenticated_via": "sso", "mfa": true },
        "action": "read",
        "resource": { "type": "record", "app_id": "app-0501", "id": "r-9" },
        "context": { "ip": "10.1.2.3", "request_id": "req-1", "records_requested": 20 }
    })
}
