//! Running `warden serve` as a user would: the real binary on a free
//! loopback port, stopped by signal at the end of the test.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// A running `warden serve`; stopped with SIGTERM when dropped.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT` of the gRPC ext_authz service, when asked for.
    pub grpc: Option<String>,
    /// What the server wrote on standard error, line by line, as it runs.
    pub stderr: mpsc::Receiver<String>,
    /// What it wrote before it listened.
    pub startup: Vec<String>,
}

impl Server {
    /// Starts `warden serve ARGS --addr 127.0.0.1:0` in `dir` and waits until it listens.
    pub fn start_in(dir: &Path, args: &[&str]) -> Server {
        Server::start_with(dir, args, |_| {})
    }

    /// [`Server::start_in`], with the command adjusted first (limits, environment).
    pub fn start_with(dir: &Path, args: &[&str], adjust: impl FnOnce(&mut Command)) -> Server {
        Server::start_on(dir, args, "127.0.0.1:0", adjust)
    }

    /// [`Server::start_with`] on the address `addr`.
    pub fn start_on(
        dir: &Path,
        args: &[&str],
        addr: &str,
        adjust: impl FnOnce(&mut Command),
    ) -> Server {
        let mut command = Command::new(super::warden_bin());
        command
            .arg("serve")
            .args(args)
            .args(["--addr", addr])
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("WARDEN_ADMIN_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        adjust(&mut command);
        let mut child = command.spawn().expect("warden serve starts");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let mut grpc = None;
        loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("warden: listening on grpc://") {
                        grpc = Some(addr.trim().to_string());
                    } else if let Some(url) = line.strip_prefix("warden: listening on ") {
                        return Server {
                            child: Some(child),
                            url: url.trim().to_string(),
                            grpc,
                            stderr: rx,
                            startup: seen,
                        };
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("warden serve did not start:\n{}", seen.join("\n"));
                }
            }
        }
    }

    /// Starts it from the repository root.
    pub fn start(args: &[&str]) -> Server {
        Server::start_in(&super::root(), args)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends a signal (`HUP`, `TERM`) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// SIGTERM, then waits for the exit; the exit code.
    pub fn stop(mut self) -> Option<i32> {
        self.signal("TERM");
        let mut child = self.child.take().expect("running");
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("warden serve did not stop within 10 s of SIGTERM");
    }

    /// Waits up to 10 s for a standard-error line containing `text`.
    pub fn wait_for_log(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no log line with `{text}` within 10 s");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An HTTP client that returns every status as a response.
pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// The body of `GET url`, as text.
pub fn get_text(url: &str) -> String {
    client()
        .get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// The JSON body of `GET url`.
pub fn get_json(url: &str) -> serde_json::Value {
    serde_json::from_str(&get_text(url)).unwrap()
}

/// An upstream that answers 200 `upstream ok` and records, per request, the
/// `X-Warden-Mask` header it was sent (`-` when none).
pub fn upstream() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(&stream);
            let mut mask = String::from("-");
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("x-warden-mask:") {
                    mask = value.trim().to_string();
                }
                line.clear();
            }
            record.lock().unwrap().push(mask);
            let body = "upstream ok\n";
            let _ = write!(
                &stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

/// A port free at the time of asking (for processes that cannot be told port 0).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real nginx running a configuration (`daemon off`, paths under `dir`);
/// stopped with SIGTERM when dropped.
pub struct Nginx(Child);

impl Nginx {
    /// Writes `conf` to `dir/nginx.conf`, checks it with `nginx -t`, and starts nginx.
    pub fn start(dir: &Path, conf: &str) -> Nginx {
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let args = ["-c", path.to_str().unwrap(), "-p", dir.to_str().unwrap()];
        let check = Command::new("nginx").arg("-t").args(args).output().unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
        Nginx(
            Command::new("nginx")
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers at once and waits for them,
        // so none is left behind (SIGKILL would orphan them).
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
