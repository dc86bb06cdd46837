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
    loop {
        let message = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server answers");
        let matches = match id {
            Some(id) => message["id"] == json!(id),
            None => message["id"].is_null() && message.get("error").is_some(),
        };
        if matches {
            return message;
        }
    }
}

#[test]
fn bad_frames_are_answered_and_the_server_serves_on() {
    let mut child = Command::new(common::warden_bin())
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let rx = messages(child.stdout.take().unwrap());
    let request = |id: i64, method: &str, params: Value| {
        frame(
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
                .to_string()
                .as_bytes(),
        )
    };
    stdin
        .write_all(&request(1, "initialize", json!({"capabilities": {}})))
        .unwrap();
    assert!(answer(&rx, Some(1))["result"]["capabilities"].is_object());

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

    stdin
        .write_all(&request(2, "shutdown", Value::Null))
        .unwrap();
    answer(&rx, Some(2));
    stdin
        .write_all(&frame(br#"{"jsonrpc":"2.0","method":"exit"}"#))
        .unwrap();
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exits at `exit`: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().ok();
    panic!("the server did not exit at `exit`");
}
