//! Shipping the decision log as an operator runs it: `warden serve
//! --ship-http` against an HTTP sink that goes down, loses an answer, and
//! sees the server killed with `kill -9`; and `--ship-syslog` into a real
//! rsyslog. Every decision arrives once (a batch sent again after a lost
//! answer carries the same `Idempotency-Key`), in order, and the lines
//! received verify as a hash chain. `.ci/run` installs rsyslog; without it
//! (outside CI) the syslog test says so and passes.

mod common;

use common::server::{Server, client, free_port, get_json, get_text};
use common::{scratch, warden_in};
use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Up,
    /// Answers 503.
    Unavailable,
    /// Closes the connection without reading or answering.
    Drop,
    /// Takes the next batch, then closes without answering (the answer is
    /// lost); up again after.
    LoseAnswer,
    /// Takes every batch and answers 500, as a sink that stored it and
    /// then failed would.
    StoreThenFail,
    /// Answers `302` to `/elsewhere`, which answers 200 to a `GET` (a login
    /// page): nothing is taken.
    Redirect,
}

/// The batches a sink took: each one's key and lines.
type Batches = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An HTTP sink: records each batch (its `Idempotency-Key` and its lines).
struct Sink {
    url: String,
    mode: Arc<Mutex<Mode>>,
    batches: Batches,
}

impl Sink {
    fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/ingest", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(Mode::Up));
        let batches: Batches = Arc::default();
        let (m, b) = (Arc::clone(&mode), Arc::clone(&batches));
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let now = *m.lock().unwrap();
                if now == Mode::Drop {
                    drop(stream);
                    continue;
                }
                let mut reader = BufReader::new(&stream);
                let (mut length, mut key, mut gzip) = (0usize, String::new(), false);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                if line.starts_with("GET ") {
                    let _ = (&stream).write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    );
                    continue;
                }
                line.clear();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    } else if lower.starts_with("idempotency-key:") {
                        key = line[16..].trim().to_string();
                    } else if lower.starts_with("content-encoding: gzip") {
                        gzip = true;
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let mut out = &stream;
                if now == Mode::Unavailable {
                    let _ = out.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    continue;
                }
                if now == Mode::Redirect {
                    let _ = out.write_all(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    continue;
                }
                assert!(gzip, "batches are gzip-compressed");
                let mut lines = Vec::new();
                flate2::read::GzDecoder::new(&body[..])
                    .read_to_end(&mut lines)
                    .unwrap();
                b.lock().unwrap().push((key, lines));
                if now == Mode::LoseAnswer {
                    *m.lock().unwrap() = Mode::Up;
                    drop(stream);
                    continue;
                }
                if now == Mode::StoreThenFail {
                    let _ = out.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    continue;
                }
                let _ = out.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            }
        });
        Sink { url, mode, batches }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// The lines received, each batch once (by its key), in order; and how
    /// many batches came more than once.
    fn received(&self) -> (Vec<u8>, usize) {
        let mut seen = std::collections::HashSet::new();
        let (mut lines, mut again) = (Vec::new(), 0);
        for (key, batch) in self.batches.lock().unwrap().iter() {
            if seen.insert(key.clone()) {
                lines.extend_from_slice(batch);
            } else {
                again += 1;
            }
        }
        (lines, again)
    }
}

fn decide(server: &Server, n: usize, from: usize) {
    let agent = client();
    for i in from..from + n {
        let body = format!(
            r#"{{"target": "request", "input": {{"principal": {{"id": "user-{i}"}}, "action": "read", "resource": {{"app_id": "app-{i}"}}}}}}"#
        );
        let response = agent
            .post(&format!("{}/v1/decide", server.url))
            .header("Content-Type", "application/json")
            .send(body.as_str())
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "decisions are answered whatever the sink does"
        );
    }
}

fn shipping(server: &Server) -> Json {
    get_json(&format!("{}/v1/status", server.url))["shipping"][0].clone()
}

fn wait_until(what: &str, within: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn serve(dir: &Path, log: &Path, ship: &[&str]) -> Server {
    let mut args = vec![
        "--policy",
        "stdlib-policies",
        "--data",
        "catalog=tests/server/catalog.json",
        "--decision-log",
        log.to_str().unwrap(),
        "--no-watch",
    ];
    args.extend_from_slice(ship);
    Server::start_in(dir, &args)
}

#[test]
fn every_decision_reaches_the_http_sink_once_through_outages_and_kill_9() {
    let dir = scratch("ship-http");
    let log = dir.join("decisions.jsonl");
    let sink = Sink::start();
    let root = common::root();
    let server = serve(&root, &log, &["--ship-http", &sink.url]);
    decide(&server, 150, 0);
    wait_until("the first lines arrive", Duration::from_secs(10), || {
        sink.received().0.iter().filter(|b| **b == b'\n').count() == 150
    });

    // Down (503): decisions are still answered, their lines wait in the log.
    sink.set(Mode::Unavailable);
    decide(&server, 150, 150);
    wait_until("the outage shows", Duration::from_secs(10), || {
        let s = shipping(&server);
        s["queue_depth"].as_u64() == Some(150)
            && s["last_error"].as_str().is_some_and(|e| e.contains("503"))
    });
    let metrics = get_text(&format!("{}/metrics", server.url));
    assert!(
        metrics.contains("warden_ship_queue_lines{sink=\"http\"} 150"),
        "{metrics}"
    );
    // Back, but the answer to the first batch is lost: it comes again.
    sink.set(Mode::LoseAnswer);
    wait_until("the backlog drains", Duration::from_secs(30), || {
        shipping(&server)["queue_depth"] == 0
    });

    // Redirected elsewhere: not taken, retried.
    sink.set(Mode::Redirect);
    decide(&server, 100, 300);
    wait_until("the redirect shows", Duration::from_secs(10), || {
        let s = shipping(&server);
        s["queue_depth"] == 100 && s["last_error"].as_str().is_some_and(|e| e.contains("302"))
    });
    // Down (connections dropped).
    sink.set(Mode::Drop);
    wait_until("the drop shows", Duration::from_secs(10), || {
        shipping(&server)["failures"].as_u64() > Some(0) && shipping(&server)["queue_depth"] == 100
    });
    // The sink stores a batch but answers 500: the same lines go again and
    // again; the server is killed, more decisions waiting behind them.
    sink.set(Mode::StoreThenFail);
    let stored = sink.batches.lock().unwrap().len();
    wait_until("a batch is stored", Duration::from_secs(10), || {
        sink.batches.lock().unwrap().len() > stored
    });
    decide(&server, 50, 400);
    server.signal("KILL");
    drop(server);
    sink.set(Mode::Up);
    let server = serve(&root, &log, &["--ship-http", &sink.url]);
    wait_until(
        "what was left is sent after the restart",
        Duration::from_secs(30),
        || shipping(&server)["queue_depth"] == 0,
    );
    decide(&server, 50, 450);
    assert_eq!(server.stop(), Some(0));

    // Exactly the log, once each, in order; and it verifies as a chain.
    let (received, again) = sink.received();
    let written = std::fs::read(&log).unwrap();
    assert_eq!(written.iter().filter(|b| **b == b'\n').count(), 500);
    assert!(
        received == written,
        "the sink holds {} bytes, the log {}",
        received.len(),
        written.len()
    );
    assert!(
        again >= 1,
        "the batch whose answer was lost came again, under its key"
    );
    let copy = dir.join("received.jsonl");
    std::fs::write(&copy, &received).unwrap();
    let verified = warden_in(&dir, &["audit", "verify", copy.to_str().unwrap()]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_first_batch_in_flight_at_kill_9_goes_again_under_its_key() {
    let dir = scratch("ship-first-batch");
    let log = dir.join("decisions.jsonl");
    let sink = Sink::start();
    sink.set(Mode::StoreThenFail);
    let root = common::root();
    let server = serve(&root, &log, &["--ship-http", &sink.url]);
    decide(&server, 5, 0);
    wait_until("the first batch is stored", Duration::from_secs(10), || {
        !sink.batches.lock().unwrap().is_empty()
    });
    decide(&server, 5, 5);
    server.signal("KILL");
    drop(server);
    sink.set(Mode::Up);
    let server = serve(&root, &log, &["--ship-http", &sink.url]);
    wait_until("everything is sent", Duration::from_secs(20), || {
        shipping(&server)["queue_depth"] == 0
    });
    assert_eq!(server.stop(), Some(0));
    let (received, again) = sink.received();
    assert!(
        received == std::fs::read(&log).unwrap(),
        "each line once, by key"
    );
    assert!(again >= 1, "the first batch came again under its key");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_relp_answer_to_a_message_never_sent_is_no_delivery() {
    // A RELP server that opens the session, then answers every message
    // `200 OK` under a transaction number it was never sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("relp://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(&stream);
            let mut out = &stream;
            let mut frame = Vec::new();
            while reader.read_until(b'\n', &mut frame).is_ok_and(|n| n > 0) {
                let text = String::from_utf8_lossy(&frame).to_string();
                if text.contains(" open ") {
                    // The offer has newlines inside: read up to its last field.
                    while !String::from_utf8_lossy(&frame).contains("commands=") {
                        if reader.read_until(b'\n', &mut frame).unwrap_or(0) == 0 {
                            break;
                        }
                    }
                    let _ = out.write_all(b"1 rsp 6 200 OK\n");
                } else if text.contains(" syslog ") {
                    let _ = out.write_all(b"424242 rsp 6 200 OK\n");
                }
                frame.clear();
            }
        }
    });
    let dir = scratch("ship-relp-txnr");
    let log = dir.join("decisions.jsonl");
    let server = serve(&common::root(), &log, &["--ship-syslog", &addr]);
    decide(&server, 3, 0);
    wait_until("the wrong answer shows", Duration::from_secs(10), || {
        shipping(&server)["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("was not sent"))
    });
    assert_eq!(shipping(&server)["queue_depth"], 3);
    assert_eq!(server.stop(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn shipping_without_a_decision_log_is_refused_at_start() {
    let out = Command::new(common::warden_bin())
        .args([
            "serve",
            "--policy",
            "stdlib-policies",
            "--ship-http",
            "http://127.0.0.1:9/x",
            "--addr",
            "127.0.0.1:0",
        ])
        .current_dir(common::root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shipping needs a decision log"));
}

/// A real rsyslog on `port` taking `transport` (`tcp` or `relp`), writing
/// what it receives to `received`; stopped with SIGTERM when dropped.
struct Rsyslog(std::process::Child);

impl Rsyslog {
    fn start(dir: &Path, transport: &str, port: u16, received: &Path) -> Rsyslog {
        let (module, input) = match transport {
            "relp" => ("imrelp", "imrelp"),
            _ => ("imtcp", "imtcp"),
        };
        std::fs::write(
            dir.join("rsyslog.conf"),
            format!(
                r#"global(workDirectory="{dir}" maxMessageSize="64k")
module(load="{module}")
input(type="{input}" address="127.0.0.1" port="{port}")
template(name="line" type="string" string="%app-name% %procid% %msgid% %structured-data% %msg%\n")
if $app-name == "warden" then {{ action(type="omfile" file="{received}" template="line") stop }}
"#,
                dir = dir.display(),
                received = received.display()
            ),
        )
        .unwrap();
        let child = Command::new("rsyslogd")
            .args(["-n", "-f"])
            .arg(dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(dir.join("rsyslog.pid"))
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "rsyslog did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Rsyslog(child)
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// Ships to a real rsyslog over `transport`, restarting rsyslog midway:
/// every line arrives, in order, as RFC 5424 with its `seq`, and what
/// arrived verifies as a chain.
fn rsyslog_receives_every_line(transport: &str) {
    let present = Command::new("rsyslogd").arg("-v").output().is_ok()
        && (transport != "relp"
            || Path::new("/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so").exists());
    if !common::installed(present, "rsyslog (with rsyslog-relp)") {
        return;
    }
    let dir = scratch(&format!("ship-syslog-{transport}"));
    let port = free_port();
    let received = dir.join("received.log");
    let lines_received = || std::fs::read_to_string(&received).map_or(0, |t| t.lines().count());
    let rsyslog = Rsyslog::start(&dir, transport, port, &received);
    let log = dir.join("decisions.jsonl");
    let addr = match transport {
        "relp" => format!("relp://127.0.0.1:{port}"),
        _ => format!("127.0.0.1:{port}"),
    };
    let server = serve(&common::root(), &log, &["--ship-syslog", &addr]);
    decide(&server, 30, 0);
    wait_until(
        "rsyslog writes the first lines",
        Duration::from_secs(20),
        || lines_received() == 30,
    );
    // rsyslog restarted: the lines decided meanwhile wait, then arrive.
    drop(rsyslog);
    decide(&server, 30, 30);
    wait_until("the outage shows", Duration::from_secs(20), || {
        shipping(&server)["failures"].as_u64() > Some(0)
    });
    assert_eq!(
        shipping(&server)["queue_depth"],
        30,
        "{}",
        shipping(&server)
    );
    let rsyslog = Rsyslog::start(&dir, transport, port, &received);
    wait_until("rsyslog writes every line", Duration::from_secs(30), || {
        lines_received() >= 60
    });
    assert_eq!(server.stop(), Some(0));
    drop(rsyslog);

    let written = std::fs::read_to_string(&log).unwrap();
    let got = std::fs::read_to_string(&received).unwrap();
    assert_eq!(got.lines().count(), 60, "{got}");
    // PROCID names the replica's log, the same across its messages: 12
    // hex digits.
    let procid = got.split(' ').nth(1).unwrap_or("").to_string();
    assert!(
        procid.len() == 12 && procid.bytes().all(|b| b.is_ascii_hexdigit()),
        "{procid}"
    );
    for (i, (line, want)) in got.lines().zip(written.lines()).enumerate() {
        // APP-NAME, PROCID, MSGID, the seq as structured data, then the line
        // as written.
        let seq = i + 1;
        let head = format!("warden {procid} decision [warden@32473 seq=\"{seq}\"] ");
        assert!(line.starts_with(&head), "{line}");
        assert_eq!(line[head.len()..].trim_start(), want, "line {seq}");
    }
    let copy = dir.join("from-syslog.jsonl");
    let lines: Vec<&str> = got
        .lines()
        .map(|l| l.split_once("] ").unwrap().1.trim_start())
        .collect();
    std::fs::write(&copy, lines.join("\n") + "\n").unwrap();
    assert!(
        warden_in(&dir, &["audit", "verify", copy.to_str().unwrap()])
            .status
            .success()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_decision_reaches_a_real_rsyslog_over_tcp_through_its_restart() {
    rsyslog_receives_every_line("tcp");
}

#[test]
fn every_decision_reaches_a_real_rsyslog_over_relp_through_its_restart() {
    rsyslog_receives_every_line("relp");
}
