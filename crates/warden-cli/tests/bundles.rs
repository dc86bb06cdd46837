//! Signed bundles as a user makes and serves them: `warden keygen`,
//! `warden build`, `warden bundle verify`, and `warden serve --bundle` polling
//! a plain HTTP server that answers `If-None-Match` with 304, or a real OCI
//! registry (Debian's `docker-registry`, which `.ci/run` installs; without
//! it, outside CI, that test says so and passes) that `warden bundle push`
//! stores bundles in.

mod common;

use common::server::{Server, client, get_json, get_text};
use common::{scratch, stdout, warden, warden_in};
use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A file server for one file: `GET /bundle.tar.gz` answers the file with an
/// ETag (its length and a counter), `304` to a matching `If-None-Match`, and
/// `503` while down.
struct FileServer {
    url: String,
    body: Arc<Mutex<(Vec<u8>, String)>>,
    down: Arc<AtomicBool>,
    not_modified: Arc<AtomicUsize>,
    published: AtomicUsize,
}

impl FileServer {
    fn start() -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/bundle.tar.gz", listener.local_addr().unwrap());
        let body = Arc::new(Mutex::new((Vec::new(), "\"0\"".to_string())));
        let down = Arc::new(AtomicBool::new(false));
        let not_modified = Arc::new(AtomicUsize::new(0));
        let (b, d, n) = (
            Arc::clone(&body),
            Arc::clone(&down),
            Arc::clone(&not_modified),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                let mut if_none_match = None;
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("if-none-match:") {
                        if_none_match = Some(v.trim().to_string());
                    }
                    line.clear();
                }
                let mut out = &stream;
                if d.load(Ordering::SeqCst) {
                    let _ = out.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
                let (bytes, etag) = b.lock().unwrap().clone();
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    n.fetch_add(1, Ordering::SeqCst);
                    let _ = write!(
                        out,
                        "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                    );
                    continue;
                }
                let _ = write!(
                    out,
                    "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    bytes.len()
                );
                let _ = out.write_all(&bytes);
            }
        });
        FileServer {
            url,
            body,
            down,
            not_modified,
            published: AtomicUsize::new(0),
        }
    }

    fn publish(&self, file: &Path) {
        let n = self.published.fetch_add(1, Ordering::SeqCst) + 1;
        *self.body.lock().unwrap() = (std::fs::read(file).unwrap(), format!("\"{n}\""));
    }
}

/// A copy of the checklist to change and rebuild.
fn policy_copy(dir: &Path) -> PathBuf {
    let copy = dir.join("policies");
    common::copy_tree(&common::root().join("stdlib-policies"), &copy);
    copy
}

fn build(dir: &Path, policy: &Path, out: &str, key: Option<&str>) -> String {
    let catalog = common::root().join("tests/server/catalog.json");
    let data = format!("catalog={}", catalog.display());
    let mut args = vec![
        "build",
        "--policy",
        policy.to_str().unwrap(),
        "--data",
        &data,
        "-o",
        out,
    ];
    if let Some(key) = key {
        args.extend(["--sign-key", key]);
    }
    let built = warden_in(dir, &args);
    assert_eq!(
        built.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let text = stdout(&built);
    text.split("revision ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("the revision is printed")
        .to_string()
}

/// Polls `/v1/status` until `done` holds of it, or fails after `within`.
fn wait_status(server: &Server, within: Duration, done: impl Fn(&Json) -> bool) -> Json {
    let deadline = Instant::now() + within;
    loop {
        let status = get_json(&format!("{}/v1/status", server.url));
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "status never came: {status:#}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn keygen_build_and_verify_as_a_user_runs_them() {
    let dir = scratch("bundle-cli");
    let made = warden_in(&dir, &["keygen", "-o", "release"]);
    assert_eq!(made.status.code(), Some(0));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("release.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the private key is its owner's only");
    // Never replaced.
    let again = warden_in(&dir, &["keygen", "-o", "release"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(warden_in(&dir, &["keygen", "-o", "other"]).status.success());

    let policy = policy_copy(&dir);
    let revision = build(&dir, &policy, "b.tar.gz", Some("release.pem"));
    assert!(revision.starts_with("sha256:"), "{revision}");
    let verified = warden_in(
        &dir,
        &[
            "bundle",
            "verify",
            "b.tar.gz",
            "--verify-key",
            "release.pub.pem",
        ],
    );
    assert_eq!(verified.status.code(), Some(0));
    assert!(
        stdout(&verified).contains("verified"),
        "{}",
        stdout(&verified)
    );
    // The same content built again is the same revision.
    assert_eq!(build(&dir, &policy, "again.tar.gz", None), revision);

    let wrong = warden_in(
        &dir,
        &[
            "bundle",
            "verify",
            "b.tar.gz",
            "--verify-key",
            "other.pub.pem",
        ],
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("error[E0607]"));
    let unsigned = warden_in(
        &dir,
        &[
            "bundle",
            "verify",
            "again.tar.gz",
            "--verify-key",
            "release.pub.pem",
        ],
    );
    assert_eq!(unsigned.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unsigned.stderr).contains("error[E0606]"));
    // A flipped byte: the archive no longer reads (gzip's CRC) or a digest fails.
    let mut bytes = std::fs::read(dir.join("b.tar.gz")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(dir.join("flipped.tar.gz"), bytes).unwrap();
    let flipped = warden_in(
        &dir,
        &["bundle", "verify", "flipped.tar.gz", "--format", "json"],
    );
    assert_eq!(flipped.status.code(), Some(1));
    let answer: Json = serde_json::from_str(&stdout(&flipped)).unwrap();
    assert_eq!(answer["valid"], false);
    assert!(
        matches!(answer["code"].as_str(), Some("E0603" | "E0605")),
        "{answer}"
    );

    // A set that does not compile is never bundled: the errors are drawn.
    std::fs::write(
        policy.join("broken.warden"),
        "package broken\nrule r on nothing as x { deny when x }\n",
    )
    .unwrap();
    let refused = warden_in(
        &dir,
        &["build", "--policy", "policies", "-o", "broken.tar.gz"],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("do not compile"));
    assert!(!dir.join("broken.tar.gz").exists());
    // A key that is not an Ed25519 key.
    let bad_key = warden_in(
        &dir,
        &["build", "-o", "x.tar.gz", "--sign-key", "release.pub.pem"],
    );
    assert!(String::from_utf8_lossy(&bad_key.stderr).contains("error[E0608]"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn serve_polls_a_bundle_swaps_new_revisions_and_refuses_bad_ones() {
    let dir = scratch("bundle-serve");
    assert!(
        warden_in(&dir, &["keygen", "-o", "release"])
            .status
            .success()
    );
    assert!(
        warden_in(&dir, &["keygen", "-o", "intruder"])
            .status
            .success()
    );
    let policy = policy_copy(&dir);
    let first = build(&dir, &policy, "v1.tar.gz", Some("release.pem"));
    let source = FileServer::start();
    source.publish(&dir.join("v1.tar.gz"));
    let log = dir.join("decisions.jsonl");
    let cache = dir.join("cache");
    let args = [
        "--bundle",
        &source.url,
        "--verify-key",
        "release.pub.pem",
        "--poll",
        "1s",
        "--bundle-cache",
        cache.to_str().unwrap(),
        "--decision-log",
        log.to_str().unwrap(),
    ];
    let server = Server::start_in(&dir, &args);
    let status = get_json(&format!("{}/v1/status", server.url));
    assert_eq!(status["bundle_revision"], first.as_str(), "{status:#}");
    assert_eq!(status["bundle"]["source"], source.url.as_str());
    assert_eq!(
        status["bundle"]["signed_by"]
            .as_str()
            .map(|s| s.starts_with("sha256:")),
        Some(true)
    );
    // Unchanged: polls are answered 304.
    wait_status(&server, Duration::from_secs(10), |s| {
        s["bundle"]["last_result"] == "not-modified"
    });
    assert!(source.not_modified.load(Ordering::SeqCst) >= 1);

    let decide = |server: &Server| {
        let mut response = client()
            .post(&format!("{}/v1/decide", server.url))
            .header("Content-Type", "application/json")
            .send(r#"{"target": "request", "input": {"principal": {"id": "u"}, "action": "read", "resource": {"app_id": "x"}}}"#)
            .unwrap();
        let decision: Json =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        decision
    };
    let decision = decide(&server);
    assert_eq!(decision["bundle_revision"], first.as_str(), "{decision:#}");

    // A new revision is swapped in within two polls.
    let rules = policy.join("rules/gateway.warden");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text.push_str("\n// revision two\n");
    std::fs::write(&rules, text).unwrap();
    let second = build(&dir, &policy, "v2.tar.gz", Some("release.pem"));
    assert_ne!(first, second);
    source.publish(&dir.join("v2.tar.gz"));
    wait_status(&server, Duration::from_secs(10), |s| {
        s["bundle_revision"] == second.as_str()
    });
    let policies = get_json(&format!("{}/v1/policies", server.url));
    assert_eq!(policies["bundle_revision"], second.as_str());
    let metrics = get_text(&format!("{}/metrics", server.url));
    assert!(
        metrics.contains(&format!(
            "warden_bundle_revision{{revision=\"{second}\"}} 1"
        )),
        "{metrics}"
    );
    assert_eq!(decide(&server)["bundle_revision"], second.as_str());

    // Refused, each in turn, with the second revision still serving: an
    // unsigned bundle, one another key signed, and bytes that are no bundle.
    let unsigned = build(&dir, &policy, "unsigned.tar.gz", None);
    assert_eq!(unsigned, second);
    build(&dir, &policy, "intruder.tar.gz", Some("intruder.pem"));
    std::fs::write(dir.join("garbage.tar.gz"), b"<html>not a bundle</html>").unwrap();
    // Built with a clock years ahead (signed all the same): it would hold
    // every later bundle back.
    let workspace = warden::Workspace::read(&[&policy]).unwrap();
    let key = warden_bundle::read_signing_key(&dir.join("release.pem")).unwrap();
    let data = format!(
        "catalog={}",
        common::root().join("tests/server/catalog.json").display()
    );
    let future = std::fs::File::create(dir.join("future.tar.gz")).unwrap();
    warden_bundle::build(
        &workspace,
        &[data],
        Some(&key),
        "2099-01-01T00:00:00Z".parse().unwrap(),
        future,
    )
    .unwrap();
    for (file, code) in [
        ("future.tar.gz", "E0603"),
        // The first revision again: built before the one served.
        ("v1.tar.gz", "E0609"),
        ("unsigned.tar.gz", "E0606"),
        ("intruder.tar.gz", "E0607"),
        ("garbage.tar.gz", "E0603"),
    ] {
        source.publish(&dir.join(file));
        let status = wait_status(&server, Duration::from_secs(5), |s| {
            s["bundle"]["last_error"]["code"] == code
        });
        assert_eq!(status["bundle"]["last_result"], "refused");
        assert_eq!(status["bundle_revision"], second.as_str());
        assert_eq!(decide(&server)["bundle_revision"], second.as_str());
    }
    // A refused bundle is asked for with its ETag, not downloaded again,
    // and stays refused for its reason.
    let before = source.not_modified.load(Ordering::SeqCst);
    let status = wait_status(&server, Duration::from_secs(5), |_| {
        source.not_modified.load(Ordering::SeqCst) >= before + 2
    });
    assert_eq!(status["bundle"]["last_error"]["code"], "E0603");
    // The source down: the error is shown, the revision keeps serving.
    source.down.store(true, Ordering::SeqCst);
    let status = wait_status(&server, Duration::from_secs(5), |s| {
        s["bundle"]["last_result"] == "failed"
    });
    assert_eq!(status["bundle"]["last_error"]["code"], "fetch-failed");
    assert!(
        status["bundle"]["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("503")
    );
    assert_eq!(server.stop(), Some(0));

    // Every decision names the bundle revision that decided it.
    let lines: Vec<Json> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &Json| l.get("decision_id").is_some())
        .collect();
    let revisions: Vec<&str> = lines
        .iter()
        .map(|l| l["bundle_revision"].as_str().unwrap())
        .collect();
    assert_eq!(revisions.first(), Some(&first.as_str()));
    assert!(revisions[1..].iter().all(|r| *r == second), "{revisions:?}");
    assert!(
        warden(&["audit", "verify", log.to_str().unwrap()])
            .status
            .success()
    );

    // Restarted while the source is down: the kept bundle serves.
    let server = Server::start_in(&dir, &args);
    let status = get_json(&format!("{}/v1/status", server.url));
    assert_eq!(status["bundle_revision"], second.as_str(), "{status:#}");
    assert_eq!(status["bundle"]["from_cache"], true);
    // A second server on the same cache folder does not start.
    let second_server = std::process::Command::new(common::warden_bin())
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(second_server.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&second_server.stderr)
            .contains("give each server its own cache_dir"),
        "{}",
        String::from_utf8_lossy(&second_server.stderr)
    );
    assert_eq!(status["bundle"]["last_error"]["code"], "fetch-failed");
    // The source back: the next poll finds the revision it serves.
    source.down.store(false, Ordering::SeqCst);
    source.publish(&dir.join("v2.tar.gz"));
    wait_status(&server, Duration::from_secs(5), |s| {
        s["bundle"]["last_result"] == "unchanged"
    });
    drop(server);

    // Without a verify key (and without allow_unsigned) the server does not start.
    let refused = std::process::Command::new(common::warden_bin())
        .args(["serve", "--bundle", &source.url, "--addr", "127.0.0.1:0"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no verify key"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A real registry (`docker-registry serve`) on a free loopback port.
struct Registry {
    child: std::process::Child,
    host: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    fn start(dir: &Path) -> Registry {
        let port = common::server::free_port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage: {{ filesystem: {{ rootdirectory: {} }} }}\nhttp: {{ addr: {host} }}\n",
                dir.join("registry-data").display()
            ),
        )
        .unwrap();
        let child = std::process::Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let registry = Registry { child, host };
        let deadline = Instant::now() + Duration::from_secs(20);
        let ping = format!("http://{}/v2/", registry.host);
        while client()
            .get(&ping)
            .call()
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
            != 200
        {
            assert!(Instant::now() < deadline, "the registry did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }
}

#[test]
fn bundles_pushed_to_an_oci_registry_are_pulled_verified_and_swapped() {
    let present = std::process::Command::new("docker-registry")
        .arg("--version")
        .output()
        .is_ok();
    if !common::installed(present, "docker-registry") {
        return;
    }
    let dir = scratch("bundle-oci");
    let registry = Registry::start(&dir);
    assert!(
        warden_in(&dir, &["keygen", "-o", "release"])
            .status
            .success()
    );
    let policy = policy_copy(&dir);
    let first = build(&dir, &policy, "v1.tar.gz", Some("release.pem"));
    let reference = format!("oci://{}/warden/checklist:prod", registry.host);
    let push = |file: &str| warden_in(&dir, &["bundle", "push", file, &reference, "--plain-http"]);
    let pushed = push("v1.tar.gz");
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert!(stdout(&pushed).contains(&first), "{}", stdout(&pushed));

    let server = Server::start_in(
        &dir,
        &[
            "--bundle",
            &reference,
            "--registry-plain-http",
            "--verify-key",
            "release.pub.pem",
            "--poll",
            "1s",
        ],
    );
    assert_eq!(
        get_json(&format!("{}/v1/status", server.url))["bundle_revision"],
        first.as_str()
    );
    // Unchanged: the manifest digest is asked for, nothing pulled.
    wait_status(&server, Duration::from_secs(10), |s| {
        s["bundle"]["last_result"] == "not-modified"
    });

    let rules = policy.join("rules/gateway.warden");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text.push_str("\n// revision two\n");
    std::fs::write(&rules, text).unwrap();
    let second = build(&dir, &policy, "v2.tar.gz", Some("release.pem"));
    assert!(push("v2.tar.gz").status.success());
    wait_status(&server, Duration::from_secs(10), |s| {
        s["bundle_revision"] == second.as_str()
    });

    // An unsigned bundle pushed over it is refused; the second keeps serving.
    build(&dir, &policy, "unsigned.tar.gz", None);
    std::fs::write(policy.join("extra.warden"), "package extra\n").unwrap();
    let third = build(&dir, &policy, "unsigned.tar.gz", None);
    assert_ne!(third, second);
    assert!(push("unsigned.tar.gz").status.success());
    let status = wait_status(&server, Duration::from_secs(5), |s| {
        s["bundle"]["last_error"]["code"] == "E0606"
    });
    assert_eq!(status["bundle_revision"], second.as_str());
    // `bundle push` itself checks a bundle before it leaves: a signature
    // that does not verify is not pushed.
    let refused = warden_in(
        &dir,
        &[
            "bundle",
            "push",
            "unsigned.tar.gz",
            &reference,
            "--plain-http",
            "--verify-key",
            "release.pub.pem",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("E0606"));
    drop(server);
    drop(registry);
    std::fs::remove_dir_all(&dir).ok();
}

/// The line of `warden fleet status` that starts with `url`.
fn line_of(text: &str, url: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(url))
        .unwrap_or_else(|| panic!("no line for {url}: {text}"))
        .to_string()
}

#[test]
fn fleet_status_names_the_replica_that_lags_and_the_one_that_does_not_answer() {
    let dir = scratch("fleet-status");
    assert!(
        warden_in(&dir, &["keygen", "-o", "release"])
            .status
            .success()
    );
    let policy = policy_copy(&dir);
    let old = build(&dir, &policy, "v1.tar.gz", Some("release.pem"));
    let rules = policy.join("rules/gateway.warden");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text.push_str("\n// newer\n");
    std::fs::write(&rules, text).unwrap();
    // Built a second later: `built_at` says which is newer.
    std::thread::sleep(Duration::from_millis(1100));
    let new = build(&dir, &policy, "v2.tar.gz", Some("release.pem"));
    let (behind, ahead) = (FileServer::start(), FileServer::start());
    behind.publish(&dir.join("v1.tar.gz"));
    ahead.publish(&dir.join("v2.tar.gz"));
    let start = |source: &FileServer| {
        Server::start_in(
            &dir,
            &[
                "--bundle",
                &source.url,
                "--verify-key",
                "release.pub.pem",
                "--poll",
                "1s",
            ],
        )
    };
    // What a server killed with -9 left in the temporary folder is swept
    // by the next one that starts without a cache folder.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let left = std::env::temp_dir().join(format!("warden-bundle-{}-LEFT", gone.id()));
    std::fs::create_dir_all(left.join("unpacking-x")).unwrap();
    let (a, b, c) = (start(&ahead), start(&behind), start(&ahead));
    assert!(!left.exists(), "the dead server's folder is swept");
    let gone = format!("http://127.0.0.1:{}", common::server::free_port());
    let view = warden_in(&dir, &["fleet", "status", &a.url, &b.url, &c.url, &gone]);
    let text = stdout(&view);
    assert_eq!(view.status.code(), Some(1), "{text}");
    let line = |url: &str| line_of(&text, url);
    assert!(line(&a.url).contains(" ok "), "{text}");
    assert!(line(&b.url).contains(" lags "), "{text}");
    assert!(line(&b.url).contains(&old[..19]), "{text}");
    assert!(line(&c.url).contains(" ok "), "{text}");
    assert!(line(&gone).contains(" unreachable "), "{text}");
    assert!(text.contains(&format!("newest revision: {new}")), "{text}");
    let json = warden_in(
        &dir,
        &["fleet", "status", &a.url, &b.url, "--format", "json"],
    );
    let answer: Json = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(answer["replicas"][1]["state"], "lags");
    assert_eq!(answer["newest"], new.as_str());

    // A replica that claims a bundle built in the year 9999, a queue of
    // u64::MAX lines and escape sequences: the others are not said to lag,
    // nothing overflows, nothing reaches the terminal raw.
    let hostile = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hostile_url = format!("http://{}", hostile.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in hostile.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let body = serde_json::json!({
                "status": "ready",
                "bundle_revision": "sha256:fake\u{1b}[2J",
                "bundle": { "built_at": "9999-01-01T00:00:00Z", "last_result": "updated\u{1b}[31m" },
                "shipping": [{ "queue_depth": u64::MAX }, { "queue_depth": 1 }],
            })
            .to_string();
            let _ = write!(
                &stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let view = warden_in(&dir, &["fleet", "status", &a.url, &hostile_url]);
    let text = stdout(&view);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(line_of(&text, &a.url).contains(" ok "), "{text}");
    assert!(
        line_of(&text, &hostile_url).contains(&u64::MAX.to_string()),
        "{text}"
    );

    // The bundle source down: the replicas that poll it say so.
    ahead.down.store(true, Ordering::SeqCst);
    wait_status(&a, Duration::from_secs(5), |s| {
        s["bundle"]["last_result"] == "failed"
    });
    let view = warden_in(&dir, &["fleet", "status", &a.url]);
    assert_eq!(view.status.code(), Some(1));
    assert!(
        stdout(&view).contains(" fetch-failing "),
        "{}",
        stdout(&view)
    );
    std::fs::remove_dir_all(&dir).ok();
}
