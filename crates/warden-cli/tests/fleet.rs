//! A fleet on loopback, as an operator runs one: three `warden serve`
//! replicas behind a real nginx (upstream round robin), each polling the
//! same signed bundle from a plain static file server (nginx again). A new
//! bundle is published while clients keep asking: every replica serves it
//! within two poll intervals, no request fails, and every decision-log line
//! names the bundle revision that decided it. `.ci/run` installs nginx;
//! without it (outside CI) the test says so and passes.

mod common;

use common::server::{Nginx, Server, client, free_port, get_json};
use common::{scratch, stdout, warden_in};
use serde_json::Value as Json;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const POLL_SECONDS: u64 = 2;
const CLIENTS: usize = 4;

fn build(dir: &Path, out: &str) -> String {
    let catalog = common::root().join("tests/server/catalog.json");
    let data = format!("catalog={}", catalog.display());
    let built = warden_in(
        dir,
        &[
            "build",
            "--policy",
            "policies",
            "--data",
            &data,
            "-o",
            out,
            "--sign-key",
            "release.pem",
        ],
    );
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let text = stdout(&built);
    text.split("revision ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap()
        .to_string()
}

fn status(server: &Server) -> Json {
    get_json(&format!("{}/v1/status", server.url))
}

#[test]
fn a_new_bundle_reaches_every_replica_under_load_without_a_failed_request() {
    if !common::installed(Command::new("nginx").arg("-v").output().is_ok(), "nginx") {
        return;
    }
    let dir = scratch("fleet");
    common::copy_tree(
        &common::root().join("stdlib-policies"),
        &dir.join("policies"),
    );
    assert!(
        warden_in(&dir, &["keygen", "-o", "release"])
            .status
            .success()
    );
    std::fs::create_dir_all(dir.join("www")).unwrap();
    let first = build(&dir, "www/warden.tar.gz");

    // nginx: the bundle source and the load balancer, on ports picked now;
    // the replicas' ports are picked first, so the config can name them.
    let replica_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let (port, bundle_port) = (free_port(), free_port());
    let replicas: String = replica_ports
        .iter()
        .map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n"))
        .collect();
    let conf = include_str!("../../../tests/fleet/nginx.conf")
        .replace("$DIR", dir.to_str().unwrap())
        .replace("$BUNDLE_PORT", &bundle_port.to_string())
        .replace("$PORT", &port.to_string())
        .replace("$REPLICAS", replicas.trim_end());
    let _nginx = Nginx::start(&dir, &conf);
    let bundle_url = format!("http://127.0.0.1:{bundle_port}/warden.tar.gz");
    // nginx takes a moment to listen.
    let deadline = Instant::now() + Duration::from_secs(10);
    while client()
        .get(&bundle_url)
        .call()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
        != 200
    {
        assert!(Instant::now() < deadline, "nginx did not serve the bundle");
        std::thread::sleep(Duration::from_millis(100));
    }

    let poll = format!("{POLL_SECONDS}s");
    let servers: Vec<Server> = replica_ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let log = format!("replica-{i}.jsonl");
            let addr = format!("127.0.0.1:{p}");
            let args = [
                "--bundle",
                &bundle_url,
                "--verify-key",
                "release.pub.pem",
                "--poll",
                &poll,
                "--decision-log",
                &log,
            ];
            Server::start_on(&dir, &args, &addr, |_| {})
        })
        .collect();
    for server in &servers {
        assert_eq!(status(server)["bundle_revision"], first.as_str());
    }

    // Clients ask through nginx, without pause, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let url = format!("http://127.0.0.1:{port}/v1/decide");
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (stop, ok, failed, url) = (Arc::clone(&stop), Arc::clone(&ok), Arc::clone(&failed), url.clone());
            std::thread::spawn(move || {
                let agent = client();
                let mut seen = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let body = format!(
                        r#"{{"target": "request", "input": {{"principal": {{"id": "client-{c}"}}, "action": "read", "resource": {{"app_id": "app-{n}"}}}}}}"#
                    );
                    let answer = agent
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .send(body.as_str())
                        .ok()
                        .filter(|r| r.status().as_u16() == 200)
                        .and_then(|mut r| r.body_mut().read_to_string().ok())
                        .and_then(|t| serde_json::from_str::<Json>(&t).ok());
                    match answer.and_then(|d| d["bundle_revision"].as_str().map(str::to_string)) {
                        Some(revision) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                            if seen.last() != Some(&revision) {
                                seen.push(revision);
                            }
                        }
                        None => {
                            failed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                seen
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));

    // Publish: build beside, then rename over the file nginx serves.
    let rules = dir.join("policies/rules/gateway.warden");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text.push_str("\n// the second revision\n");
    std::fs::write(&rules, text).unwrap();
    let second = build(&dir, "www/warden.tar.gz");
    assert_ne!(first, second);
    let published = Instant::now();
    let mut converged = vec![None; servers.len()];
    while converged.iter().any(Option::is_none) {
        for (i, server) in servers.iter().enumerate() {
            if converged[i].is_none() && status(server)["bundle_revision"] == second.as_str() {
                converged[i] = Some(published.elapsed());
            }
        }
        assert!(
            published.elapsed() < Duration::from_secs(2 * POLL_SECONDS),
            "not every replica serves {second} within two poll intervals: {converged:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("converged after {converged:?} (poll {POLL_SECONDS} s)");
    // The operator's view: every replica on the newest revision.
    let urls: Vec<&str> = servers.iter().map(|s| s.url.as_str()).collect();
    let mut args = vec!["fleet", "status"];
    args.extend(&urls);
    let view = warden_in(&dir, &args);
    assert_eq!(view.status.code(), Some(0), "{}", stdout(&view));
    assert_eq!(
        stdout(&view).lines().filter(|l| l.contains(" ok ")).count(),
        3,
        "{}",
        stdout(&view)
    );
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::SeqCst);
    let seen: Vec<Vec<String>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let (ok, failed) = (ok.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
    eprintln!("{ok} decisions through nginx, {failed} failed");
    assert_eq!(failed, 0, "requests failed during the rollout");
    assert!(ok > 100, "the load was too light to mean anything: {ok}");
    // While replicas switch one by one, a client may meet either revision;
    // once all have, only the second. (Each replica, on its own, never goes
    // back: its log shows that below.)
    for revisions in &seen {
        assert!(
            revisions.iter().all(|r| *r == first || *r == second),
            "{revisions:?}"
        );
        assert_eq!(revisions.last(), Some(&second), "{revisions:?}");
    }
    for server in servers {
        assert_eq!(server.stop(), Some(0));
    }

    // Every decision is in one replica's log, naming the revision that
    // decided it: the first, then the second, never back.
    let mut logged = 0;
    for i in 0..3 {
        let log = dir.join(format!("replica-{i}.jsonl"));
        let revisions: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Json>(l).unwrap())
            .filter(|l| l.get("decision_id").is_some())
            .map(|l| l["bundle_revision"].as_str().expect("named").to_string())
            .collect();
        assert!(!revisions.is_empty(), "replica {i} took no request");
        let switch = revisions
            .iter()
            .position(|r| *r == second)
            .unwrap_or(revisions.len());
        assert!(
            revisions[..switch].iter().all(|r| *r == first),
            "replica {i}"
        );
        assert!(
            revisions[switch..].iter().all(|r| *r == second),
            "replica {i}"
        );
        logged += revisions.len();
        assert!(
            warden_in(&dir, &["audit", "verify", log.to_str().unwrap()])
                .status
                .success()
        );
    }
    assert_eq!(logged, ok, "every decision answered is logged, once");
    std::fs::remove_dir_all(&dir).ok();
}
