//! `warden lsp` over stdio, fed what a broken or hostile client sends: each
//! bad frame is answered with its JSON-RPC error and the server serves on.

mod common;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Every message the server writes, read on a thread of its own.
fn messages(stdout: impl Read + Send + 'static) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.strip_prefix("Content-Length: ") {
                    length = value.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    rx
}

/// The next message with `id` (or an error with id `null`, for `None`).
fn answer(rx: &mpsc::Receiver<Value>, id: Option<i64>) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let message = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no answer to {id:?} within a minute"));
        let matches = match id {
            Some(id) => message["id"] == json!(id),
            None => message["id"].is_null() && message.get("error").is_some(),
        };
        if matches {
            return message;
        }
    }
}

fn request(id: i64, method: &str, params: Value) -> Vec<u8> {
    frame(
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
            .to_string()
            .as_bytes(),
    )
}

/// `warden lsp`, initialized: the process, its input and its messages.
fn started() -> (
    std::process::Child,
    std::process::ChildStdin,
    mpsc::Receiver<Value>,
) {
    let mut child = Command::new(common::warden_bin())
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let rx = messages(child.stdout.take().unwrap());
    stdin
        .write_all(&request(1, "initialize", json!({"capabilities": {}})))
        .unwrap();
    assert!(answer(&rx, Some(1))["result"]["capabilities"].is_object());
    (child, stdin, rx)
}

/// `shutdown` (as request `id`), then `exit`: the exit status.
fn shut_down(
    stdin: &mut std::process::ChildStdin,
    rx: &mpsc::Receiver<Value>,
    child: &mut std::process::Child,
    id: i64,
) -> std::process::ExitStatus {
    stdin
        .write_all(&request(id, "shutdown", Value::Null))
        .unwrap();
    answer(rx, Some(id));
    stdin
        .write_all(&frame(br#"{"jsonrpc":"2.0","method":"exit"}"#))
        .unwrap();
    exit_status(child)
}

/// The exit status, once the process has ended.
fn exit_status(child: &mut std::process::Child) -> std::process::ExitStatus {
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().ok();
    panic!("the server did not exit");
}

#[test]
fn bad_frames_are_answered_and_the_server_serves_on() {
    let (mut child, mut stdin, rx) = started();

    let bad: [(&[u8], i64); 6] = [
        (b"Content-Length: 5\r\n\r\n{abc}", -32700),
        (b"Content-Length: 2\r\n\r\n[]", -32600),
        (b"Content-Length: 4\r\n\r\n\xff\xfe\xfd\xfc", -32700),
        (
            b"Content-Length: 38\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}",
            -32600,
        ),
        (b"Content-Length: -5\r\n\r\n", -32700),
        (b"X-Only: 1\r\n\r\n", -32700),
    ];
    for (i, (bytes, code)) in bad.iter().enumerate() {
        stdin.write_all(bytes).unwrap();
        let refused = answer(&rx, None);
        assert_eq!(refused["error"]["code"], json!(code), "case {i}: {refused}");
        // The next good request is still answered.
        let id = 10 + i as i64;
        stdin
            .write_all(&request(id, "workspace/symbol", json!({"query": "x"})))
            .unwrap();
        assert!(answer(&rx, Some(id)).get("error").is_none(), "case {i}");
    }

    let status = shut_down(&mut stdin, &rx, &mut child, 2);
    assert!(
        status.success(),
        "exits 0 at `exit` after `shutdown`: {status}"
    );
}

#[test]
fn a_long_answer_is_not_lost_among_refusals() {
    // The answer (semantic tokens of a large file) comes out in many
    // writes while the refusals of a flood of bad frames go out too.
    let (mut child, mut stdin, rx) = started();
    let rule =
        "rule r{n} on t as x {\n  deny when x.a == \"v\" and x.b > 1 and count(x.c) == 0\n}\n";
    let text: String = std::iter::once(
        "package p\ntarget t: { a: string, b: int, c: [string] } default allow\n".to_string(),
    )
    .chain((0..3_000).map(|n| rule.replace("{n}", &n.to_string())))
    .collect();
    let uri = "file:///tmp/warden-lsp-transport/big.warden";
    stdin
        .write_all(&frame(
            json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument":
                {"uri": uri, "languageId": "warden", "version": 1, "text": text}}})
            .to_string()
            .as_bytes(),
        ))
        .unwrap();
    stdin
        .write_all(&request(
            7,
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": uri}}),
        ))
        .unwrap();
    // Bad frames keep coming until the answer is in, so refusals go out
    // while the answer is being written.
    let stdin = std::sync::Arc::new(std::sync::Mutex::new(stdin));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let (stdin, done) = (stdin.clone(), done.clone());
        std::thread::spawn(move || {
            let bad: Vec<u8> = b"Content-Length: 3\r\n\r\nxyz".repeat(20);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if stdin.lock().unwrap().write_all(&bad).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let tokens = answer(&rx, Some(7));
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    flood.join().unwrap();
    let data = tokens["result"]["data"].as_array().map_or(0, Vec::len);
    assert!(data > 100_000, "the whole answer came: {data} numbers");
    let mut stdin = stdin.lock().unwrap();
    assert!(shut_down(&mut stdin, &rx, &mut child, 8).success());
}

#[test]
fn exit_without_shutdown_exits_1() {
    let (mut child, mut stdin, _rx) = started();
    stdin
        .write_all(&frame(br#"{"jsonrpc":"2.0","method":"exit"}"#))
        .unwrap();
    assert_eq!(exit_status(&mut child).code(), Some(1));
}
