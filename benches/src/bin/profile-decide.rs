//! `profile-decide WORKLOAD N`: N decisions of one bench workload (`w1`,
//! `w2`; `serve`: the checklist's gateway request that `benches/server.sh`
//! sends to `/v1/decide`) in a loop, for a profiler (`valgrind --tool=callgrind`, `perf`) to
//! attribute; setup is small beside it.

use std::hint::black_box;
use warden::Engine;
use warden_benches::{catalog, manifest, now, policies, request};

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args.next().unwrap_or_else(|| "w2".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let (engine, target, input) = match workload.as_str() {
        "w1" => (
            Engine::from_dir(policies().join("manifest")).expect("compiles"),
            "manifest",
            manifest(),
        ),
        "serve" => {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let engine = Engine::from_dir(root.join("stdlib-policies"))
                .expect("compiles")
                .with_data_arg(
                    &format!(
                        "catalog={}",
                        root.join("tests/server/catalog.json").display()
                    ),
                    &warden::InputLimits::DATA,
                )
                .expect("loads");
            let input = serde_json::json!({
                "principal": {"id": "u-123", "type": "user", "authenticated_via": "sso", "mfa": true},
                "action": "read",
                "resource": {"type": "record", "app_id": "crm-lite", "id": "r-1"},
                "context": {"ip": "10.1.2.3", "request_id": "req-1"}
            });
            (engine, "request", input)
        }
        _ => (
            Engine::from_dir(policies().join("request"))
                .expect("compiles")
                .with_data(&catalog(1000))
                .expect("loads"),
            "request",
            request(),
        ),
    };
    let now = now();
    let mut allowed = 0;
    for _ in 0..n {
        let decision = engine
            .decide(target, black_box(&input), now)
            .expect("decides");
        allowed += usize::from(decision.is_allowed());
    }
    println!("{allowed} of {n} allowed");
}
