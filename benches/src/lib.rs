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

/// A catalog of `n` apps in the checklist's shape (`stdlib-policies/schema/
/// catalog.warden`, as `examples/catalog.json` writes it): owner, risk tier,
/// status, classification, expiry, egress allow-list, PII fields, six role
/// bindings and, for every tenth app, two elevations. About 600 bytes of
/// pretty-printed JSON per app, so 100,000 apps make some 60 MB.
pub fn checklist_catalog(n: usize) -> Json {
    let templates = ["Viewer", "Editor", "Admin"];
    let mut apps = serde_json::Map::new();
    for i in 0..n {
        let mut bindings = serde_json::Map::new();
        bindings.insert("u-1".into(), json!(templates[i % 3]));
        for j in 0..5 {
            bindings.insert(
                format!("u-{}", 100 + (i * 7 + j) % 5000),
                json!(templates[j % 2]),
            );
        }
        let risk_tier = ["low", "medium", "high"][i % 3];
        let classification = ["public", "internal", "confidential", "restricted"][i % 4];
        let mut app = json!({
            "owner": format!("owner-{i}@acme.example"),
            "risk_tier": risk_tier,
            "status": if i % 50 == 49 { "retired" } else { "active" },
            "classification": classification,
            "expires_at": "2099-01-01T00:00:00Z",
            "egress_allowlist": ["api.salesforce.com", format!("api-{i}.vendor.example")],
            "pii_fields": ["email", "phone"],
            "bindings": bindings,
        });
        if i % 10 == 0 {
            app["elevations"] = json!([
                { "principal": "u-9", "role": "Admin", "until": "2026-06-01T12:00:00Z",
                  "approved_by": "sec-oncall@acme.example" },
                { "principal": format!("u-{}", 100 + i % 5000), "role": "Editor",
                  "until": "2026-05-10T00:00:00Z", "approved_by": "sec-oncall@acme.example" },
            ]);
        }
        apps.insert(format!("app-{i:06}"), app);
    }
    json!({ "apps": apps })
}
