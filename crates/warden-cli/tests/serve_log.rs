//! The decision log as a user relies on it: a decision is answered only
//! once its line is written, so `kill -9` under load loses no answered
//! decision; a full disk refuses decisions without leaving a torn line and
//! is served again once space returns; a torn tail (a crash mid-write) is
//! reported as truncated, moved aside on restart, and the chain resumes;
//! `audit verify` reads a log of any size in constant memory.

mod common;

use common::server::{Server, client};
use common::{scratch, stdout, warden};
use serde_json::{Value as Json, json};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CATALOG: &str = "catalog=stdlib-policies/examples/catalog.json";

fn request(principal: &str, action: &str, app: &str) -> Json {
    json!({
        "principal": { "id": principal, "type": "user", "groups": ["sales"],
                       "authenticated_via": "sso", "mfa": true },
        "action": action,
        "resource": { "type": "record", "app_id": app, "id": "r-1" },
        "context": { "ip": "10.1.2.3", "request_id": format!("req-{principal}") }
    })
}

fn logging(log: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--policy",
        "stdlib-policies",
        "--data",
        CATALOG,
        "--no-watch",
        "--decision-log",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(log.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn start(log: &Path, extra: &[&str]) -> Server {
    let args = logging(log, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&args)
}

/// POSTs a decision; the decision id when it was answered.
fn decide(agent: &ureq::Agent, server_url: &str, body: &Json) -> Result<String, u16> {
    let mut response = agent
        .post(format!("{server_url}/v1/decide"))
        .send_json(body)
        .map_err(|_| 0u16)?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(status);
    }
    let decision: Json = response.body_mut().read_json().map_err(|_| 0u16)?;
    Ok(decision["decision_id"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// The decision ids of the log's whole lines.
fn logged_ids(log: &Path) -> Vec<String> {
    let text = std::fs::read(log).unwrap();
    let text = String::from_utf8_lossy(&text);
    let whole = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    whole
        .lines()
        .map(|l| {
            serde_json::from_str::<Json>(l).expect("a whole line is a record")["decision_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Clients deciding as fast as they can for `seconds`, then `kill -9` at a
/// moment drawn at random within that time: every decision a client was
/// answered must be on disk. `WARDEN_KILL9_SECONDS` sets the length of the
/// load (60 for the figure in docs/reliability.md; a few seconds in CI).
#[test]
fn kill_9_under_load_loses_no_answered_decision() {
    let seconds: f64 = std::env::var("WARDEN_KILL9_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0);
    for durability in ["write", "fsync"] {
        let dir = scratch(&format!("kill9-{durability}"));
        let log = dir.join("decisions.jsonl");
        std::fs::write(
            dir.join("warden.toml"),
            format!("[log]\ndurability = \"{durability}\"\n"),
        )
        .unwrap();
        let config = dir.join("warden.toml");
        let server = start(&log, &["--config", config.to_str().unwrap()]);
        let url = server.url.clone();
        let answered = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..6)
            .map(|c| {
                let (url, answered, stop) = (url.clone(), Arc::clone(&answered), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let agent = client();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let body =
                            json!({ "input": request(&format!("u-{c}-{n}"), "read", "crm-lite") });
                        if let Ok(id) = decide(&agent, &url, &body) {
                            answered.lock().unwrap().push(id);
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        // A moment drawn from the clock's nanoseconds: somewhere in the load.
        let fraction = f64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
                % 1000,
        ) / 1000.0;
        let at = Duration::from_secs_f64(0.5 + fraction * (seconds - 0.5).max(0.1));
        std::thread::sleep(at);
        server.signal("KILL");
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.join().unwrap();
        }
        drop(server);
        let answered = answered.lock().unwrap().clone();
        assert!(
            answered.len() > 20,
            "{durability}: only {} decisions answered",
            answered.len()
        );
        let logged: HashSet<String> = logged_ids(&log).into_iter().collect();
        let lost: Vec<&String> = answered.iter().filter(|id| !logged.contains(*id)).collect();
        eprintln!(
            "{durability}: killed at {at:?}: {} answered, {} logged, {} lost",
            answered.len(),
            logged.len(),
            lost.len()
        );
        assert!(
            lost.is_empty(),
            "{durability}: answered but not logged: {lost:?}"
        );

        // The log the kill left verifies, or ends in a torn line (never
        // "changed"); a restart resumes the chain after its last whole line.
        let out = warden(&["audit", "verify", log.to_str().unwrap()]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.code() == Some(0) || said.contains("truncated"),
            "{said}"
        );
        let server = start(&log, &["--config", config.to_str().unwrap()]);
        let agent = client();
        for n in 0..3 {
            let body = json!({ "input": request(&format!("after-{n}"), "read", "crm-lite") });
            decide(&agent, &server.url, &body).expect("decided after the restart");
        }
        assert_eq!(server.stop(), Some(0));
        let out = warden(&["audit", "verify", log.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout(&out).contains(&format!("{} decisions", logged.len() + 3)));
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Sets the largest file the process may write (a disk that fills at that
/// size). The server itself must keep SIGXFSZ from killing it.
fn file_size_limit(bytes: u64) -> impl FnOnce(&mut std::process::Command) {
    move |command| {
        use std::os::unix::process::CommandExt;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: libc::RLIM_INFINITY,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

#[test]
fn a_full_disk_refuses_decisions_leaves_no_torn_line_and_is_served_again_when_space_returns() {
    let dir = scratch("full-disk");
    let log = dir.join("decisions.jsonl");
    let args = logging(&log, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_with(&common::root(), &args, file_size_limit(16 * 1024));
    let agent = client();
    let mut answered = Vec::new();
    let mut refused = None;
    for n in 0..500 {
        let body = json!({ "input": request(&format!("u-{n}"), "read", "crm-lite") });
        match decide(&agent, &server.url, &body) {
            Ok(id) => answered.push(id),
            Err(status) => {
                refused = Some(status);
                break;
            }
        }
    }
    assert_eq!(refused, Some(503), "a full disk refuses the decision");
    let ready = |agent: &ureq::Agent| {
        agent
            .get(format!("{}/ready", server.url))
            .call()
            .map_or(0, |r| r.status().as_u16())
    };
    assert_eq!(ready(&agent), 503, "and the server is not ready");
    // No torn line: the failed write was cut back off the file.
    let bytes = std::fs::read(&log).unwrap();
    assert_eq!(bytes.last(), Some(&b'\n'), "the log ends with a whole line");
    assert_eq!(logged_ids(&log), answered, "exactly the answered decisions");
    let out = warden(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Space returns: the server notices without being asked, and serves.
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: a plain system call on our own child.
    let raised = unsafe {
        libc::prlimit(
            server.pid() as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &unlimited,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(raised, 0, "prlimit");
    let deadline = Instant::now() + Duration::from_secs(10);
    while ready(&agent) != 200 {
        assert!(
            Instant::now() < deadline,
            "ready again within 10 s of space returning"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for n in 0..5 {
        let body = json!({ "input": request(&format!("again-{n}"), "read", "crm-lite") });
        answered.push(decide(&agent, &server.url, &body).expect("decided again"));
    }
    assert_eq!(server.stop(), Some(0));
    assert_eq!(logged_ids(&log), answered);
    let out = warden(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_torn_tail_is_reported_as_truncated_and_the_chain_resumes_after_it() {
    let dir = scratch("torn-tail");
    let log = dir.join("decisions.jsonl");
    let server = start(&log, &[]);
    let agent = client();
    for n in 0..3 {
        let body = json!({ "input": request(&format!("u-{n}"), "read", "crm-lite") });
        decide(&agent, &server.url, &body).unwrap();
    }
    assert_eq!(server.stop(), Some(0));
    // A crash in the middle of writing a line.
    let mut text = std::fs::read(&log).unwrap();
    text.extend_from_slice(br#"{"timestamp":"2026-12-05T08:00:00Z","evaluated_at":"#);
    std::fs::write(&log, &text).unwrap();

    let out = warden(&["audit", "verify", log.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("line 4: truncated"), "{said}");
    assert!(said.contains("intact up to line 3"), "{said}");
    assert!(
        !said.contains("changed"),
        "a torn line is not tampering: {said}"
    );

    let server = start(&log, &[]);
    assert!(
        server.startup.iter().any(|l| l.contains("torn line")),
        "the server says it repaired the log: {:?}",
        server.startup
    );
    for n in 3..5 {
        let body = json!({ "input": request(&format!("u-{n}"), "read", "crm-lite") });
        decide(&agent, &server.url, &body).unwrap();
    }
    assert_eq!(server.stop(), Some(0));
    let out = warden(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("5 decisions"));
    let lines: Vec<Json> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[3]["recovered"]["torn_bytes"], 51);
    let aside = lines[3]["recovered"]["saved_to"].as_str().unwrap();
    assert!(
        std::fs::read_to_string(aside)
            .unwrap()
            .starts_with(r#"{"timestamp""#),
        "the torn bytes are kept beside the log"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn audit_verify_reads_a_large_log_in_constant_memory() {
    let dir = scratch("verify-large");
    let log = dir.join("decisions.jsonl");
    // 150,000 chained records of 300 bytes: a 45 MB log.
    let mut out = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    let mut prev = warden_server::decision_log::GENESIS.to_string();
    let padding = "x".repeat(200);
    for seq in 1..=150_000u64 {
        let line = serde_json::to_string(&json!({
            "decision_id": format!("d-{seq}"), "outcome": "allow", "note": padding,
            "seq": seq, "prev": prev,
        }))
        .unwrap();
        prev = warden_server::decision_log::line_hash(line.as_bytes());
        use std::io::Write;
        writeln!(out, "{line}").unwrap();
    }
    drop(out);
    let size_mb = std::fs::metadata(&log).unwrap().len() >> 20;
    let run = common::run_measured(
        std::process::Command::new(common::warden_bin()).args([
            "audit",
            "verify",
            log.to_str().unwrap(),
        ]),
        Duration::from_secs(120),
    )
    .unwrap();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("150000 decisions, the hash chain is intact"),
        "{}",
        run.stdout
    );
    let peak_mb = run.peak_mb;
    eprintln!("audit verify: a {size_mb} MB log in {peak_mb} MB of memory");
    assert!(
        peak_mb < 32,
        "audit verify held {peak_mb} MB for a {size_mb} MB log: it must stream"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Starts `warden serve` on `log`, which must refuse to start (exit 2):
/// what it said.
fn refused_at_start(log: &Path) -> String {
    let mut args = vec!["serve".to_string()];
    args.extend(logging(log, &["--addr", "127.0.0.1:0"]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = warden(&args);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{said}");
    said
}

/// Two servers appending to one log would break its chain, and one cutting
/// back a failed write to its own idea of the length erased what the other
/// had answered: the second is refused at start. A FIFO as the log (which
/// blocked every decision, and shutdown, once its buffer filled) is
/// refused too.
#[test]
fn a_log_has_one_writer_and_is_a_regular_file() {
    let dir = scratch("one-writer");
    let log = dir.join("decisions.jsonl");
    let server = start(&log, &[]);
    let said = refused_at_start(&log);
    assert!(said.contains("another process is writing it"), "{said}");
    assert_eq!(server.stop(), Some(0));

    let fifo = dir.join("fifo.jsonl");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a plain system call with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let said = refused_at_start(&fifo);
    assert!(said.contains("not a regular file"), "{said}");
    std::fs::remove_dir_all(&dir).ok();
}

/// With `log.include_input`, an AuthZEN batch repeats its context in every
/// evaluation: a 200 KB context in a batch of 256 wrote 50 MB of log per
/// request. An input larger than `log.max_input_bytes` is logged as its
/// size and digest.
#[test]
fn a_large_input_is_logged_by_its_digest() {
    let dir = scratch("log-amplification");
    let log = dir.join("decisions.jsonl");
    let config = dir.join("warden.toml");
    // The time limits are the point of other tests: here a busy machine
    // (256 decisions over a 200 KB context) must not trip them.
    std::fs::write(
        &config,
        "[log]\ninclude_input = true\n[limits]\nrequest_timeout_ms = 600000\ndecision_timeout_ms = 60000\n\
         [authzen]\ntarget = \"evaluation\"\nresponse_context = true\n",
    )
    .unwrap();
    let server = start(
        &log,
        &[
            "--config",
            config.to_str().unwrap(),
            "--policy",
            "examples/authzen-todo",
            "--data",
            "users=examples/authzen-todo/users.json",
        ],
    );
    // 256 decisions over a 200 KB context, each logged, in a debug build
    // on a shared machine: the client waits as long as the server may.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let batch = json!({
        "subject": { "type": "user", "id": "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs" },
        "action": { "name": "can_read_todos" },
        "resource": { "type": "todo", "id": "todo-1" },
        "context": { "padding": "x".repeat(200_000) },
        "evaluations": vec![json!({}); 256],
    });
    let mut response = agent
        .post(format!("{}/access/v1/evaluations", server.url))
        .send_json(&batch)
        .unwrap();
    let answer: Json = response.body_mut().read_json().unwrap();
    let evaluations = answer["evaluations"].as_array();
    let shown: String = answer.to_string().chars().take(300).collect();
    assert_eq!(evaluations.map(Vec::len), Some(256), "{shown}");
    assert_eq!(answer["evaluations"][0]["decision"], true, "{shown}");
    assert!(answer["evaluations"][0]["context"]["data_revision"].is_string());
    // A small input is logged whole.
    decide(
        &agent,
        &server.url,
        &json!({ "input": request("u-2", "read", "crm-lite") }),
    )
    .unwrap();
    assert_eq!(server.stop(), Some(0));
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(size < 1_000_000, "the log grew by {size} bytes");
    let lines: Vec<Json> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 257);
    assert!(lines[0]["input"]["bytes"].as_u64().unwrap() > 200_000);
    assert!(
        lines[0]["input"]["sha256"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(lines[256]["input"]["action"], "read");
    std::fs::remove_dir_all(&dir).ok();
}
