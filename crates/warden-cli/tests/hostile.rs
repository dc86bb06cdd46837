//! The hostile-input corpus (`tests/hostile/*/case.toml`): inputs an attacker
//! would send, each run through the real binary (a `warden` command, a
//! running `warden serve`, or both) with its expected outcome (an exit code
//! and a coded error, a status, a fail-closed deny) and its bounds (time,
//! peak memory). A case that takes longer than its bound is stopped and
//! fails. See `tests/hostile/README.md`.

mod common;

use common::server::Server;
use common::{root, scratch};
use serde::Deserialize;
use std::io::{Read, Write};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    note: String,
    #[serde(default)]
    file: Vec<FileSpec>,
    #[serde(default)]
    link: Vec<LinkSpec>,
    #[serde(default)]
    fifo: Vec<FifoSpec>,
    cli: Option<CliSpec>,
    server: Option<ServerSpec>,
}

/// A file made in the case's folder before it runs, from parts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    name: String,
    parts: Vec<Part>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Part {
    /// Text, repeated `times` times.
    text: Option<String>,
    /// A file of the case folder (or, starting `{repo}/`, of the repository).
    from: Option<String>,
    /// Parts made one after the other, the whole repeated `times` times.
    #[serde(default)]
    each: Vec<Part>,
    #[serde(default = "one")]
    times: usize,
    /// In each repetition k (from 1), `{i}` is k, `{i-1}` is k - 1 and
    /// `{pad}` is 2(k - 1) spaces: numbered declarations, growing indents.
    #[serde(default)]
    numbered: bool,
}

fn one() -> usize {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkSpec {
    name: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FifoSpec {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CliSpec {
    args: Vec<String>,
    exit: i32,
    #[serde(default)]
    stdout: Vec<String>,
    #[serde(default)]
    stderr: Vec<String>,
    seconds: u64,
    memory_mb: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSpec {
    args: Vec<String>,
    /// A `warden.toml`, written to the case folder and passed with `--config`.
    config: Option<String>,
    /// Peak resident memory of the server over the whole case.
    memory_mb: u64,
    #[serde(default)]
    request: Vec<RequestSpec>,
    /// Envoy `ext_authz` checks sent straight to the gRPC service.
    #[serde(default)]
    grpc: Vec<GrpcSpec>,
}

/// A `CheckRequest` as Envoy sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrpcSpec {
    method: String,
    path: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// Sent as `header_map`, each header as it came (Envoy's
    /// `encode_raw_headers`); otherwise in `headers`, a header given twice
    /// joined with a comma, as Envoy joins it.
    #[serde(default)]
    raw: bool,
    /// gRPC metadata of the call itself (the caller's `authorization`).
    #[serde(default)]
    metadata: Vec<(String, String)>,
    /// The gRPC status code of the answer (0 OK, 3 INVALID_ARGUMENT,
    /// 7 PERMISSION_DENIED, 16 UNAUTHENTICATED).
    code: i32,
    #[serde(default)]
    message_contains: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestSpec {
    method: String,
    /// Sent exactly as written: no normalization on the way.
    path: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// A file of the case folder sent as the body.
    body_file: Option<String>,
    status: u16,
    #[serde(default)]
    body_contains: Vec<String>,
    seconds: u64,
    /// While this request runs, `/health` must keep answering within
    /// this many milliseconds.
    health_ms: Option<u64>,
    /// Sent this many times (each must answer as expected).
    #[serde(default = "one")]
    repeat: usize,
}

/// `{repo}`: the repository; `{case}`: the case's own folder in it.
fn expand(text: &str, case_dir: &Path) -> String {
    text.replace(
        "{repo}",
        &root().canonicalize().unwrap().display().to_string(),
    )
    .replace("{case}", &case_dir.display().to_string())
}

fn prepare(case: &Case, case_dir: &Path, dir: &Path) -> Result<(), String> {
    for file in &case.file {
        let mut bytes = Vec::new();
        for part in &file.parts {
            make(part, case_dir, &mut bytes).map_err(|e| format!("{}: {e}", file.name))?;
        }
        let path = dir.join(&file.name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    for link in &case.link {
        let path = dir.join(&link.name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(expand(&link.to, case_dir), &path).unwrap();
    }
    for fifo in &case.fifo {
        let path = dir.join(&fifo.name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a plain system call with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    }
    Ok(())
}

/// Appends what a part makes to `bytes`.
fn make(part: &Part, case_dir: &Path, bytes: &mut Vec<u8>) -> Result<(), String> {
    let unit = match (&part.text, &part.from, part.each.is_empty()) {
        (Some(text), None, true) => text.as_bytes().to_vec(),
        (None, Some(from), true) => {
            let path = if from.starts_with("{repo}") {
                PathBuf::from(expand(from, case_dir))
            } else {
                case_dir.join(from)
            };
            std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?
        }
        (None, None, false) => {
            let mut unit = Vec::new();
            for inner in &part.each {
                make(inner, case_dir, &mut unit)?;
            }
            unit
        }
        _ => return Err("a part has one of `text`, `from` or `each`".into()),
    };
    for k in 1..=part.times {
        if part.numbered {
            let text = String::from_utf8_lossy(&unit)
                .replace("{i-1}", &(k - 1).to_string())
                .replace("{i}", &k.to_string())
                .replace("{pad}", &" ".repeat(2 * (k - 1)));
            bytes.extend_from_slice(text.as_bytes());
        } else {
            bytes.extend_from_slice(&unit);
        }
    }
    Ok(())
}

/// Runs the command, stopped at its time bound; its exit code, output and
/// peak resident memory (from the kernel's accounting of the process).
fn run_cli(spec: &CliSpec, case_dir: &Path, dir: &Path) -> Result<(), String> {
    let args: Vec<String> = spec.args.iter().map(|a| expand(a, case_dir)).collect();
    let mut command = std::process::Command::new(common::warden_bin());
    command.args(&args).current_dir(dir).env("NO_COLOR", "1");
    let run = common::run_measured(&mut command, Duration::from_secs(spec.seconds))
        .map_err(|e| format!("`warden {}`: {e}", args.join(" ")))?;
    let shown = || {
        format!(
            "`warden {}`\nstdout: {}\nstderr: {}",
            args.join(" "),
            clip(&run.stdout),
            clip(&run.stderr)
        )
    };
    if let Some(signal) = run.signal {
        return Err(format!("killed by signal {signal} (a crash)\n{}", shown()));
    }
    if run.stderr.contains("panicked") {
        return Err(format!("panicked\n{}", shown()));
    }
    if run.code != Some(spec.exit) {
        return Err(format!(
            "exit {:?}, expected {}\n{}",
            run.code,
            spec.exit,
            shown()
        ));
    }
    for want in &spec.stdout {
        if !run.stdout.contains(want.as_str()) {
            return Err(format!("no `{want}` on stdout\n{}", shown()));
        }
    }
    for want in &spec.stderr {
        if !run.stderr.contains(want.as_str()) {
            return Err(format!("no `{want}` on stderr\n{}", shown()));
        }
    }
    if run.peak_mb > spec.memory_mb {
        return Err(format!(
            "peak memory {} MB, over the bound of {} MB\n{}",
            run.peak_mb,
            spec.memory_mb,
            shown()
        ));
    }
    eprintln!(
        "cli: exit {:?} in {:.2} s, peak {} MB",
        run.code,
        run.elapsed.as_secs_f64(),
        run.peak_mb
    );
    Ok(())
}

fn clip(text: &str) -> String {
    let mut end = text.len().min(2_000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// A raw HTTP/1.1 exchange: the request exactly as written, the status and body.
fn exchange(
    addr: &str,
    request: &[u8],
    timeout: Duration,
) -> Result<(u16, String, Duration), String> {
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
    stream.write_all(request).map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("no whole answer within {timeout:?}: {e}"))?;
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {}", clip(&text)))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body, elapsed))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

fn peak_memory_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Sends each check to the gRPC service at `addr`.
fn run_grpc(checks: &[GrpcSpec], addr: &str) -> Result<(), String> {
    use envoy_types::pb::envoy::config::core::v3::{HeaderMap, HeaderValue};
    use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
    use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
    use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut client = AuthorizationClient::connect(format!("http://{addr}"))
            .await
            .map_err(|e| e.to_string())?;
        for check in checks {
            let mut http = HttpRequest {
                method: check.method.clone(),
                path: check.path.clone(),
                ..HttpRequest::default()
            };
            if check.raw {
                http.header_map = Some(HeaderMap {
                    headers: check
                        .headers
                        .iter()
                        .map(|(k, v)| HeaderValue {
                            key: k.to_ascii_lowercase(),
                            raw_value: v.as_bytes().to_vec(),
                            ..HeaderValue::default()
                        })
                        .collect(),
                });
            } else {
                for (k, v) in &check.headers {
                    http.headers
                        .entry(k.to_ascii_lowercase())
                        .and_modify(|joined: &mut String| {
                            joined.push(',');
                            joined.push_str(v);
                        })
                        .or_insert_with(|| v.clone());
                }
            }
            let request = CheckRequest {
                attributes: Some(AttributeContext {
                    request: Some(Request {
                        http: Some(http),
                        ..Request::default()
                    }),
                    ..AttributeContext::default()
                }),
            };
            let mut request = tonic::Request::new(request);
            for (k, v) in &check.metadata {
                let key = tonic::metadata::MetadataKey::from_bytes(k.as_bytes())
                    .map_err(|e| e.to_string())?;
                request
                    .metadata_mut()
                    .insert(key, v.parse().map_err(|_| format!("metadata {k}"))?);
            }
            let answer = tokio::time::timeout(Duration::from_secs(10), client.check(request))
                .await
                .map_err(|_| format!("gRPC {}: no answer within 10 s", check.path))?;
            // A check answered, or the call itself refused (a caller
            // without a token: UNAUTHENTICATED).
            let status = match answer {
                Ok(answer) => answer.into_inner().status.unwrap_or_default(),
                Err(refused) => envoy_types::pb::google::rpc::Status {
                    code: refused.code() as i32,
                    message: refused.message().to_string(),
                    ..Default::default()
                },
            };
            if status.code != check.code {
                return Err(format!(
                    "gRPC {} {}: code {} ({}), expected {}",
                    check.method, check.path, status.code, status.message, check.code
                ));
            }
            for want in &check.message_contains {
                if !status.message.contains(want.as_str()) {
                    return Err(format!(
                        "gRPC {}: no `{want}` in `{}`",
                        check.path, status.message
                    ));
                }
            }
            eprintln!(
                "grpc: {} {} → {}",
                check.method,
                clip(&check.path),
                status.code
            );
        }
        Ok(())
    })
}

fn run_server(spec: &ServerSpec, case_dir: &Path, dir: &Path) -> Result<(), String> {
    let mut args: Vec<String> = spec.args.iter().map(|a| expand(a, case_dir)).collect();
    if !spec.grpc.is_empty() {
        args.extend(["--grpc-addr".into(), "127.0.0.1:0".into()]);
    }
    if let Some(config) = &spec.config {
        std::fs::write(dir.join("warden.toml"), expand(config, case_dir)).unwrap();
        args.extend(["--config".into(), "warden.toml".into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_in(dir, &args);
    let addr = server.url.trim_start_matches("http://").to_string();
    for request in &spec.request {
        let body = match (&request.body, &request.body_file) {
            (Some(body), None) => expand(body, case_dir).into_bytes(),
            (None, Some(file)) => std::fs::read(dir.join(file)).map_err(|e| e.to_string())?,
            (None, None) => Vec::new(),
            _ => return Err("a request has `body` or `body_file`".into()),
        };
        let mut raw = format!(
            "{} {} HTTP/1.1\r\nHost: {addr}\r\n",
            request.method, request.path
        );
        for (name, value) in &request.headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        raw.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ));
        let mut bytes = raw.into_bytes();
        bytes.extend_from_slice(&body);
        for _ in 0..request.repeat {
            let health = request.health_ms.map(|bound| {
                let addr = addr.clone();
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let done = std::sync::Arc::clone(&stop);
                let probe = std::thread::spawn(move || {
                    let mut slowest = Duration::ZERO;
                    let mut probes = 0;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        let get = format!(
                            "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
                        );
                        match exchange(&addr, get.as_bytes(), Duration::from_millis(bound * 4)) {
                            Ok((200, _, took)) => slowest = slowest.max(took),
                            other => return Err(format!("/health failed: {other:?}")),
                        }
                        probes += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Ok((slowest, probes))
                });
                (stop, probe, bound)
            });
            let answer = exchange(&addr, &bytes, Duration::from_secs(request.seconds));
            if let Some((stop, probe, bound)) = health {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                let (slowest, probes) = probe.join().unwrap()?;
                if slowest > Duration::from_millis(bound) {
                    return Err(format!(
                        "/health took {slowest:?} while {} {} ran (bound {bound} ms)",
                        request.method, request.path
                    ));
                }
                eprintln!("health: {probes} probes, slowest {slowest:?}");
            }
            let (status, body, took) = answer.map_err(|e| {
                format!(
                    "{} {}: {e} (bound {} s)",
                    request.method, request.path, request.seconds
                )
            })?;
            if status != request.status {
                return Err(format!(
                    "{} {}: status {status}, expected {}\n{}",
                    request.method,
                    request.path,
                    request.status,
                    clip(&body)
                ));
            }
            for want in &request.body_contains {
                if !body.contains(want.as_str()) {
                    return Err(format!(
                        "{} {}: no `{want}` in the answer\n{}",
                        request.method,
                        request.path,
                        clip(&body)
                    ));
                }
            }
            eprintln!(
                "server: {} {} → {status} in {:.3} s",
                request.method,
                clip(&request.path),
                took.as_secs_f64()
            );
        }
    }
    if !spec.grpc.is_empty() {
        let grpc = server
            .grpc
            .clone()
            .ok_or("the gRPC service did not start")?;
        run_grpc(&spec.grpc, &grpc)?;
    }
    let peak = peak_memory_mb(server.pid());
    if peak > spec.memory_mb {
        return Err(format!(
            "server peak memory {peak} MB, over the bound of {} MB",
            spec.memory_mb
        ));
    }
    eprintln!("server: peak {peak} MB");
    match server.stop() {
        Some(0) => Ok(()),
        other => Err(format!("the server exited with {other:?}")),
    }
}

fn run_case(path: &datatest_stable::Utf8Path) -> datatest_stable::Result<()> {
    let case_dir = path.parent().unwrap().as_std_path().canonicalize()?;
    let text = std::fs::read_to_string(path.as_std_path())?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    assert!(
        !case.note.is_empty(),
        "{path}: every case says why it exists"
    );
    assert!(
        case.cli.is_some() || case.server.is_some(),
        "{path}: a case runs through the CLI, the server or both"
    );
    let name = path
        .parent()
        .and_then(|p| p.file_name())
        .unwrap_or("case")
        .to_string();
    let dir = scratch(&format!("hostile-{name}"));
    prepare(&case, &case_dir, &dir)?;
    if let Some(cli) = &case.cli {
        run_cli(cli, &case_dir, &dir).map_err(|e| format!("{path} (cli): {e}"))?;
    }
    if let Some(server) = &case.server {
        run_server(server, &case_dir, &dir).map_err(|e| format!("{path} (server): {e}"))?;
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

datatest_stable::harness! {
    { test = run_case, root = "../../tests/hostile", pattern = r"^[^/]+/case\.toml$" },
}
