//! A real nginx in front of an upstream, asking `warden serve` through
//! `auth_request`: allowed requests reach the upstream with the obligations
//! as headers, denied ones get 403, and with the decision server gone nginx
//! fails closed. `.ci/run` installs nginx; without it (outside CI) the test
//! says so and passes.

mod common;

use common::scratch;
use common::server::{Nginx, Server, client, free_port, upstream};
use std::process::Command;
use std::time::Duration;

#[test]
fn nginx_auth_request_enforces_decisions_and_fails_closed() {
    if !common::installed(Command::new("nginx").arg("-v").output().is_ok(), "nginx") {
        return;
    }
    let dir = scratch("nginx");
    let log = dir.join("decisions.jsonl");
    let server = Server::start(&[
        "--policy",
        "stdlib-policies",
        "--data",
        "catalog=tests/server/catalog.json",
        "--decision-log",
        log.to_str().unwrap(),
    ]);
    let authz = server.url.trim_start_matches("http://").to_string();
    let (upstream_port, seen) = upstream();
    let port = free_port();
    let conf = include_str!("../../../tests/server/nginx.conf")
        .replace("$DIR", dir.to_str().unwrap())
        .replace("$PORT", &port.to_string())
        .replace("$UPSTREAM", &format!("127.0.0.1:{upstream_port}"))
        .replace("$WARDEN", &authz);
    let _nginx = Nginx::start(&dir, &conf);
    let agent = client();
    let url = format!("http://127.0.0.1:{port}/crm-lite/records/1");
    let ask = |user: &str, method: &str| -> Option<(u16, String)> {
        let request = agent
            .get(&url)
            .header("X-Auth-Request-User", user)
            .header("X-Auth-Request-Mfa", "true");
        let mut response = match method {
            "GET" => request.call(),
            _ => agent
                .post(&url)
                .header("X-Auth-Request-User", user)
                .header("X-Auth-Request-Mfa", "true")
                .send("{}"),
        }
        .ok()?;
        Some((
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        ))
    };
    // nginx takes a moment to listen.
    let mut first = None;
    for _ in 0..100 {
        first = ask("u-123", "GET");
        if first.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = first.expect("nginx answers");
    assert_eq!(
        (status, body.as_str()),
        (200, "upstream ok\n"),
        "a Viewer reads"
    );
    assert_eq!(
        seen.lock().unwrap().last().map(String::as_str),
        Some("email,phone"),
        "the upstream gets the mask obligation"
    );
    let reached = seen.lock().unwrap().len();
    assert_eq!(
        ask("u-123", "POST").map(|r| r.0),
        Some(403),
        "a Viewer cannot write"
    );
    assert_eq!(
        ask("u-404", "GET").map(|r| r.0),
        Some(403),
        "no role binding"
    );
    assert_eq!(
        ask("u-7", "POST").map(|r| r.0),
        Some(200),
        "an Editor writes"
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        reached + 1,
        "denied requests never reach the upstream"
    );

    // The decision server goes away: nginx must not let anything through.
    assert_eq!(server.stop(), Some(0));
    let (status, _) = ask("u-7", "POST").expect("nginx answers");
    assert!(status >= 500, "fail closed, got {status}");
    assert_eq!(seen.lock().unwrap().len(), reached + 1);

    let decisions = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        decisions.lines().count(),
        4,
        "every decision is logged:\n{decisions}"
    );
    let out = common::warden(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}
