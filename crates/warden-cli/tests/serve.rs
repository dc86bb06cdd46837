//! `warden serve` end to end: the real binary on loopback, asked over HTTP
//! as a gateway or a service would.

mod common;

use common::server::{Server, client};
use common::{root, scratch, stdout, warden};
use serde_json::{Value as Json, json};

const CATALOG: &str = "catalog=tests/server/catalog.json";

fn checklist() -> Server {
    Server::start(&["--policy", "stdlib-policies", "--data", CATALOG])
}

/// The checklist's server, appending its decisions to `log`.
fn checklist_logging(log: &std::path::Path) -> Server {
    Server::start(&[
        "--policy",
        "stdlib-policies",
        "--data",
        CATALOG,
        "--decision-log",
        log.to_str().unwrap(),
    ])
}

fn request(principal: &str, action: &str, app: &str) -> Json {
    json!({
        "principal": { "id": principal, "type": "user", "authenticated_via": "sso", "mfa": true },
        "action": action,
        "resource": { "type": "record", "app_id": app, "id": "r-1" },
        "context": { "ip": "10.1.2.3", "request_id": "req-1" }
    })
}

/// POSTs JSON; the status and the JSON answer.
fn post(server: &Server, path: &str, body: &Json) -> (u16, Json) {
    let mut response = client()
        .post(format!("{}{path}", server.url))
        .send_json(body)
        .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Json::String(text)),
    )
}

fn get(server: &Server, path: &str) -> (u16, String) {
    let mut response = client()
        .get(format!("{}{path}", server.url))
        .call()
        .expect("the server answers");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().expect("a body"),
    )
}

#[test]
fn decides_requests_and_manifests_as_the_contract_says() {
    let server = checklist();
    let (status, decision) = post(
        &server,
        "/v1/decide",
        &json!({ "target": "request", "input": request("u-123", "read", "crm-lite") }),
    );
    assert_eq!(status, 200, "{decision}");
    assert_eq!(decision["decision"], "allow");
    assert_eq!(decision["obligations"]["mask"], json!(["email", "phone"]));
    assert!(
        decision["decision_id"]
            .as_str()
            .is_some_and(|id| id.len() == 26)
    );

    let (status, decision) = post(
        &server,
        "/v1/decide",
        &json!({ "target": "request", "input": request("u-123", "write", "crm-lite") }),
    );
    assert_eq!(status, 200, "a deny is a decision, not an error");
    assert_eq!(decision["decision"], "deny");
    assert_eq!(decision["findings"][0]["control"], "REQ-4");

    let manifest: Json = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("stdlib-policies/examples/manifests/failing/IAM-3-no-scim.yaml"),
        )
        .map(|yaml| warden::parse_document("m.yaml", &yaml).unwrap().to_string())
        .unwrap(),
    )
    .unwrap();
    let (status, decision) = post(&server, "/v1/check", &json!({ "manifest": manifest }));
    assert_eq!(status, 200);
    assert_eq!(decision["target"], "manifest");
    let controls: Vec<&str> = decision["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["control"].as_str())
        .collect();
    assert!(controls.contains(&"IAM-3"), "{decision}");

    let (status, policies) = get(&server, "/v1/policies");
    assert_eq!(status, 200);
    let policies: Json = serde_json::from_str(&policies).unwrap();
    assert_eq!(policies["rules"].as_array().unwrap().len(), 41);
    assert!(
        policies["policy_revision"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn bad_input_gets_a_json_error_never_a_dropped_connection() {
    // Limits come from a warden.toml; flags still name the policy and data.
    let (server, dir) = with_config(
        "limits",
        "[limits]\nmax_body_bytes = 4096\nmax_json_depth = 32\n",
    );
    let agent = client();
    let url = format!("{}/v1/decide", server.url);
    let send = |content_type: &str, body: Vec<u8>| -> (u16, Json) {
        let mut response = agent
            .post(&url)
            .header("Content-Type", content_type)
            .send(&body[..])
            .expect("answered");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json().expect("a JSON error"),
        )
    };
    let (status, body) = send("application/json", b"{\"target\": ".to_vec());
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad-json"))
    );
    let (status, body) = send("text/plain", b"{}".to_vec());
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad-content-type"))
    );
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let (status, body) = send("application/json", deep.into_bytes());
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("too-deep"))
    );
    let huge = format!("{{\"input\": \"{}\"}}", "x".repeat(8192));
    let (status, body) = send("application/json", huge.into_bytes());
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("body-too-large"))
    );

    let (status, body) = post(
        &server,
        "/v1/decide",
        &json!({ "target": "request", "input": { "principal": { "id": 7 }, "action": "fly", "resource": {} } }),
    );
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "E0401");
    let paths: Vec<&str> = body["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["$.principal.id", "$.action", "$.resource.app_id"],
        "every bad path"
    );

    let (status, body) = post(&server, "/v1/decide", &json!({ "target": 5, "input": {} }));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad-target"))
    );
    let (status, body) = post(
        &server,
        "/v1/decide",
        &json!({ "target": "nope", "input": {} }),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("E0404"))
    );
    // `now` is read by the policy's own time parser: a time without its
    // offset is refused, a date is midnight UTC (then the unknown target).
    let (status, body) = post(
        &server,
        "/v1/decide",
        &json!({ "target": "request", "input": {}, "now": "2026-06-01T00:00:00" }),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad-now")),
        "{body}"
    );
    let (status, body) = post(
        &server,
        "/v1/decide",
        &json!({ "target": "nope", "input": {}, "now": "2026-06-01" }),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("E0404")),
        "{body}"
    );
    let (status, _) = get(&server, "/nowhere");
    assert_eq!(status, 404);
    // The server is still there, and counted what went wrong.
    assert_eq!(get(&server, "/health").0, 200);
    let (_, metrics) = get(&server, "/metrics");
    for line in [
        r#"warden_request_errors_total{code="bad-json"} 1"#,
        r#"warden_request_errors_total{code="E0401"} 1"#,
        r#"warden_request_errors_total{code="body-too-large"} 1"#,
    ] {
        assert!(metrics.contains(line), "no `{line}` in\n{metrics}");
    }
    // A plain body is decided from its bytes, any other parsed whole: both
    // allow the same nesting (a field the body does not have sends it the
    // whole way).
    for levels in 26..=34 {
        // An open record keeps a field it does not declare, however nested.
        let nested = format!("{}\"u\"{}", "[".repeat(levels), "]".repeat(levels));
        let input = format!(
            r#"{{"principal": {{"id": "u-1", "type": "user", "authenticated_via": "sso", "mfa": true}}, "action": "read", "resource": {{"type": "record", "app_id": "crm-lite"}}, "x": {nested}}}"#
        );
        let plain = format!(r#"{{"target": "request", "input": {input}}}"#);
        let whole = format!(r#"{{"target": "request", "input": {input}, "x": 1}}"#);
        let (plain_status, plain_body) = send("application/json", plain.into_bytes());
        let (whole_status, whole_body) = send("application/json", whole.into_bytes());
        assert_eq!(
            (
                plain_status,
                &plain_body["error"]["code"],
                &plain_body["decision"]
            ),
            (
                whole_status,
                &whole_body["error"]["code"],
                &whole_body["decision"]
            ),
            "{levels} levels"
        );
        let within = levels + 2 <= 32;
        assert_eq!(
            plain_status,
            if within { 200 } else { 400 },
            "{levels} levels: {plain_body}"
        );
    }
    // A key given twice in the input is refused either way.
    let twice = br#"{"input": {"action": "read", "action": "write"}}"#.to_vec();
    let (status, body) = send("application/json", twice);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad-json"))
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_authzen_discovery_document_names_the_configured_base_url() {
    let (server, dir) = with_config(
        "base-url",
        "base_url = \"https://pdp.acme.example/\"\n[authzen]\ntarget = \"request\"\n",
    );
    let (_, config) = get(&server, "/.well-known/authzen-configuration");
    let config: Json = serde_json::from_str(&config).unwrap();
    assert_eq!(config["policy_decision_point"], "https://pdp.acme.example");
    assert_eq!(
        config["access_evaluations_endpoint"],
        "https://pdp.acme.example/access/v1/evaluations"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_nginx_and_envoy_adapters_answer_with_status_and_headers() {
    let server = checklist();
    let agent = client();
    let ask = |path: &str, headers: &[(&str, &str)]| {
        let mut request = agent.get(format!("{}{path}", server.url));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.call().expect("answered")
    };
    let viewer = [
        ("X-Auth-Request-User", "u-123"),
        ("X-Auth-Request-Mfa", "true"),
        ("X-Original-URI", "/crm-lite/records/1"),
        ("X-Original-Method", "GET"),
    ];
    let allowed = ask("/v1/authz/nginx", &viewer);
    assert_eq!(allowed.status().as_u16(), 200);
    assert_eq!(allowed.headers()["x-warden-mask"], "email,phone");
    assert!(allowed.headers().contains_key("x-warden-decision-id"));

    let mut writer = viewer;
    writer[3] = ("X-Original-Method", "POST");
    assert_eq!(ask("/v1/authz/nginx", &writer).status().as_u16(), 403);
    assert_eq!(
        ask(
            "/v1/authz/nginx",
            &[
                ("X-Original-URI", "/crm-lite/"),
                ("X-Original-Method", "GET")
            ]
        )
        .status()
        .as_u16(),
        401,
        "no identity"
    );
    let mut no_method = viewer;
    no_method[3] = ("X-Original-URI", "/crm-lite/records/1");
    assert_eq!(
        ask("/v1/authz/nginx", &no_method).status().as_u16(),
        400,
        "a missing X-Original-Method is not taken for a read"
    );
    let mut sneaky = viewer;
    sneaky[2] = ("X-Original-URI", "/lunch-poll/../crm-lite/records/1");
    assert_eq!(
        ask("/v1/authz/nginx", &sneaky).status().as_u16(),
        400,
        "a path not in normal form is refused"
    );
    let envoy = ask(
        "/v1/authz/envoy/crm-lite/records/1",
        &[("X-Auth-Request-User", "u-7"), ("X-Auth-Request-Mfa", "1")],
    );
    assert_eq!(envoy.status().as_u16(), 200, "an Editor reads");
    // Envoy's check of the path `/`: decided (no app is named), not 404.
    let root = ask(
        "/v1/authz/envoy/",
        &[("X-Auth-Request-User", "u-7"), ("X-Auth-Request-Mfa", "1")],
    );
    assert_eq!(root.status().as_u16(), 403, "decided, and denied");
    assert!(root.headers().contains_key("x-warden-decision-id"));
}

#[test]
fn metrics_count_decisions_and_health_and_readiness_answer() {
    let server = checklist();
    for action in ["read", "write"] {
        post(
            &server,
            "/v1/decide",
            &json!({ "input": request("u-123", action, "crm-lite") }),
        );
    }
    let (status, metrics) = get(&server, "/metrics");
    assert_eq!(status, 200);
    for line in [
        r#"warden_decisions_total{endpoint="decide",outcome="allow"} 1"#,
        r#"warden_decisions_total{endpoint="decide",outcome="deny"} 1"#,
        r#"warden_findings_total{rule="microapps.gateway.viewer_pii_masked",effect="allow"} 1"#,
        "warden_decision_seconds_count 2",
        "warden_policy_revision{revision=\"sha256:",
    ] {
        assert!(metrics.contains(line), "no `{line}` in\n{metrics}");
    }
    assert_eq!(get(&server, "/health").0, 200);
    assert_eq!(get(&server, "/ready").0, 200);
}

/// A policy folder of one file, for reload tests.
fn policy_folder(name: &str, allow_write: bool) -> std::path::PathBuf {
    let dir = scratch(name);
    write_policy(&dir, allow_write);
    dir
}

fn write_policy(dir: &std::path::Path, allow_write: bool) {
    let actions = if allow_write {
        r#"["read", "write"]"#
    } else {
        r#"["read"]"#
    };
    std::fs::write(
        dir.join("p.warden"),
        format!(
            "package p\ntarget request: {{ action: string, ... }} default deny\n@control(\"T-1\")\nrule r on request as q {{\n  allow when q.action in {actions}\n}}\n"
        ),
    )
    .unwrap();
}

fn decide_action(server: &Server, action: &str) -> String {
    let (status, decision) = post(
        server,
        "/v1/decide",
        &json!({ "input": { "action": action } }),
    );
    assert_eq!(status, 200, "{decision}");
    decision["decision"].as_str().unwrap().to_string()
}

#[test]
fn reload_swaps_the_policy_set_and_refuses_one_that_does_not_compile() {
    let dir = policy_folder("reload", false);
    let server = Server::start_in(
        &dir,
        &["--policy", ".", "--admin-token", "s3cret", "--no-watch"],
    );
    assert_eq!(decide_action(&server, "write"), "deny");

    write_policy(&dir, true);
    let reload = |token: Option<&str>| {
        let mut request = client().post(format!("{}/v1/reload", server.url));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request.send_empty().expect("answered");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json::<Json>().expect("JSON"),
        )
    };
    assert_eq!(reload(None).0, 401);
    assert_eq!(reload(Some("guess")).0, 401);
    assert_eq!(reload(Some("s3cre")).0, 401, "a prefix of the token");
    let refused = client()
        .post(format!("{}/v1/reload", server.url))
        .send_empty()
        .unwrap();
    assert!(
        refused.headers().get("www-authenticate").is_some(),
        "a 401 says how to authenticate"
    );
    let (status, body) = reload(Some("s3cret"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(decide_action(&server, "write"), "allow");

    std::fs::write(
        dir.join("p.warden"),
        "package p\nrule broken on nowhere as x {\n",
    )
    .unwrap();
    let (status, body) = reload(Some("s3cret"));
    assert_eq!(status, 422, "{body}");
    let first = &body["diagnostics"][0];
    // The shape `warden lint --format json` prints.
    assert!(first["code"].as_str().unwrap().starts_with('E'), "{body}");
    assert_eq!(first["severity"], "error", "{body}");
    assert!(
        first["file"].as_str().unwrap().ends_with("p.warden"),
        "{body}"
    );
    assert!(
        first["line"].as_u64().unwrap() >= 1 && first["end_line"].is_u64(),
        "{body}"
    );
    assert_eq!(
        decide_action(&server, "write"),
        "allow",
        "the previous set keeps serving"
    );

    write_policy(&dir, false);
    server.signal("HUP");
    // Earlier reloads logged too: wait for this one's line.
    server.wait_for_log("trigger=\"SIGHUP\"");
    assert_eq!(decide_action(&server, "write"), "deny");
    let (_, metrics) = get(&server, "/metrics");
    assert!(
        metrics.contains(r#"warden_reloads_total{result="ok"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"warden_reloads_total{result="refused"} 1"#),
        "{metrics}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A reload shares a data file that has not changed, reads one that has,
/// and refuses one that no longer fits its declared type.
#[test]
fn a_reload_shares_unchanged_data_and_reads_changed_data() {
    let dir = scratch("reload-data");
    let policy = |message: &str| {
        std::fs::write(
            dir.join("p.warden"),
            format!(
                "package p\ndata limits: {{ max: int }}\ntarget request: {{ n: int, ... }} default allow\nrule r on request as q {{\n  deny when q.n > data.limits.max message \"{message} {{data.limits.max}}\"\n}}\n"
            ),
        )
        .unwrap();
    };
    policy("over");
    std::fs::write(dir.join("d.json"), r#"{"max": 5}"#).unwrap();
    let server = Server::start_in(
        &dir,
        &[
            "--policy",
            "p.warden",
            "--data",
            "limits=d.json",
            "--admin-token",
            "s3cret",
            "--no-watch",
        ],
    );
    let decide = || {
        let (status, decision) = post(&server, "/v1/decide", &json!({ "input": { "n": 7 } }));
        assert_eq!(status, 200, "{decision}");
        decision
    };
    let reload = || {
        client()
            .post(format!("{}/v1/reload", server.url))
            .header("Authorization", "Bearer s3cret")
            .send_empty()
            .expect("answered")
            .status()
            .as_u16()
    };
    let first = decide();
    assert_eq!(first["findings"][0]["message"], "over 5", "{first}");

    // Only the policy changed: the same data, the same revision.
    policy("more than");
    assert_eq!(reload(), 200);
    let shared = decide();
    assert_eq!(shared["findings"][0]["message"], "more than 5", "{shared}");
    assert_eq!(shared["data_revision"], first["data_revision"]);

    // The data changed: read again, and the revision moves.
    std::fs::write(dir.join("d.json"), r#"{"max": 10}"#).unwrap();
    assert_eq!(reload(), 200);
    let changed = decide();
    assert_eq!(changed["decision"], "allow", "{changed}");
    assert_ne!(changed["data_revision"], first["data_revision"]);

    // The type changed and the data no longer fits: refused, and the
    // previous set keeps serving.
    std::fs::write(
        dir.join("p.warden"),
        "package p\ndata limits: { max: string }\ntarget request: { n: int, ... } default allow\nrule r on request as q {\n  deny when q.n > 100 message \"{data.limits.max}\"\n}\n",
    )
    .unwrap();
    assert_eq!(reload(), 422);
    assert_eq!(decide()["data_revision"], changed["data_revision"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_file_left_out_of_the_set_is_said_at_start_and_on_reload() {
    // A link to rules outside the policy folder is not followed (W0006):
    // the server says so, as `warden check` does, never silently.
    let dir = policy_folder("skipped-link", false);
    let outside = scratch("skipped-link-outside");
    std::fs::write(
        outside.join("more.warden"),
        "package more\nrule m on request as q {\n  deny when true\n}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("more")).unwrap();
    let server = Server::start_in(
        &dir,
        &["--policy", ".", "--admin-token", "s3cret", "--no-watch"],
    );
    let said = server.startup.join("\n");
    assert!(said.contains("W0006") && said.contains("more"), "{said}");
    let mut response = client()
        .post(format!("{}/v1/reload", server.url))
        .header("Authorization", "Bearer s3cret")
        .send_empty()
        .expect("answered");
    let body: Json = response.body_mut().read_json().expect("JSON");
    let skipped = body["skipped"]
        .as_array()
        .expect("the skipped files are listed");
    assert!(
        skipped.len() == 1 && skipped[0].as_str().unwrap().contains("more"),
        "{body}"
    );
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&outside).ok();
}

#[test]
fn the_decision_log_chains_every_decision_and_audit_verify_finds_tampering() {
    let dir = scratch("decision-log");
    let log = dir.join("decisions.jsonl");
    let server = checklist_logging(&log);
    for (principal, action) in [
        ("u-123", "read"),
        ("u-123", "write"),
        ("u-7", "write"),
        ("u-404", "read"),
    ] {
        post(
            &server,
            "/v1/decide",
            &json!({ "input": request(principal, action, "crm-lite") }),
        );
    }
    assert_eq!(server.stop(), Some(0), "SIGTERM drains and exits cleanly");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "every decision is on disk after SIGTERM");
    let first: Json = serde_json::from_str(lines[0]).unwrap();
    for field in [
        "timestamp",
        "decision_id",
        "principal_id",
        "principal_type",
        "action",
        "resource_type",
        "resource_id",
        "ip_address",
        "outcome",
        "target",
        "request_id",
        "rules",
        "policy_revision",
        "seq",
        "prev",
    ] {
        assert!(first.get(field).is_some(), "no `{field}` in {first}");
    }
    assert_eq!(first["principal_id"], "u-123");
    assert_eq!(first["outcome"], "allow");

    let verify = |path: &std::path::Path| warden(&["audit", "verify", path.to_str().unwrap()]);
    let out = verify(&log);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("4 decisions, the hash chain is intact"));

    let tampered = dir.join("tampered.jsonl");
    let check = |lines: Vec<String>, says: &str| {
        std::fs::write(&tampered, lines.join("\n") + "\n").unwrap();
        let out = verify(&tampered);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(says), "expected `{says}` in {stderr}");
    };
    let owned: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut changed = owned.clone();
    changed[1] = changed[1].replace("\"deny\"", "\"allow\"");
    check(
        changed,
        "line 3: does not follow line 2: that line was changed",
    );
    let mut removed = owned.clone();
    removed.remove(1);
    check(
        removed,
        "line 2: holds decision 3, expected 2: 1 line(s) before it were removed",
    );
    let mut swapped = owned.clone();
    swapped.swap(1, 2);
    check(swapped, "line 2: holds decision 3, expected 2");
    // The tail: only the head recorded elsewhere catches a changed last line.
    let head = stdout(&out)
        .trim()
        .rsplit("head ")
        .next()
        .unwrap()
        .to_string();
    let mut last_changed = owned.clone();
    last_changed[3] = last_changed[3].replace("\"deny\"", "\"allow\"");
    std::fs::write(&tampered, last_changed.join("\n") + "\n").unwrap();
    let out = warden(&[
        "audit",
        "verify",
        tampered.to_str().unwrap(),
        "--head",
        &head,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not at the head recorded elsewhere"));
    let out = warden(&["audit", "verify", log.to_str().unwrap(), "--head", &head]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the intact log ends at the recorded head"
    );

    // A restarted server continues the chain.
    let server = checklist_logging(&log);
    post(
        &server,
        "/v1/decide",
        &json!({ "input": request("u-123", "read", "crm-lite") }),
    );
    server.stop();
    let out = verify(&log);
    assert!(
        stdout(&out).contains("5 decisions, the hash chain is intact"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_policy_set_that_does_not_compile_is_not_served() {
    let out = warden(&[
        "serve",
        "--policy",
        "tests/cli/broken.warden",
        "--addr",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("do not compile"), "{stderr}");
}

#[test]
fn a_changed_policy_file_is_picked_up_without_a_signal() {
    let dir = policy_folder("watch", false);
    let server = Server::start_in(&dir, &["--policy", "."]);
    assert_eq!(decide_action(&server, "write"), "deny");
    // Other files in the folder (a decision log, notes) do not reload anything.
    std::fs::write(dir.join("notes.txt"), "not a policy").unwrap();
    std::fs::write(dir.join("decisions.jsonl"), "{}\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));
    let (_, metrics) = get(&server, "/metrics");
    assert!(!metrics.contains("warden_reloads_total{"), "{metrics}");
    write_policy(&dir, true);
    server.wait_for_log("trigger=\"file change\"");
    assert_eq!(decide_action(&server, "write"), "allow");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fifty_reloads_under_load_drop_no_request() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let dir = policy_folder("reload-load", false);
    let server = Server::start_in(
        &dir,
        &["--policy", ".", "--admin-token", "s3cret", "--no-watch"],
    );
    let stop = AtomicBool::new(false);
    let (served, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let (allowed, denied) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let agent = client();
                while !stop.load(Ordering::Relaxed) {
                    let answer = agent
                        .post(format!("{}/v1/decide", server.url))
                        .send_json(json!({ "input": { "action": "write" } }));
                    match answer {
                        Ok(mut response) if response.status() == 200 => {
                            let decision: Json =
                                response.body_mut().read_json().unwrap_or_default();
                            match decision["decision"].as_str() {
                                Some("allow") => allowed.fetch_add(1, Ordering::Relaxed),
                                Some("deny") => denied.fetch_add(1, Ordering::Relaxed),
                                _ => failed.fetch_add(1, Ordering::Relaxed),
                            };
                            served.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
        let agent = client();
        for i in 0..50 {
            write_policy(&dir, i % 2 == 0);
            let response = agent
                .post(format!("{}/v1/reload", server.url))
                .header("Authorization", "Bearer s3cret")
                .send_empty()
                .expect("reload answered");
            assert_eq!(response.status(), 200, "reload {i}");
        }
        stop.store(true, Ordering::Relaxed);
    });
    let (served, failed) = (served.into_inner(), failed.into_inner());
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed during reloads",
        served + failed
    );
    assert!(served > 50, "only {served} requests ran during the reloads");
    assert!(
        allowed.into_inner() > 0 && denied.into_inner() > 0,
        "both policy sets served"
    );
    let (_, metrics) = get(&server, "/metrics");
    assert!(
        metrics.contains(r#"warden_reloads_total{result="ok"} 50"#),
        "{metrics}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A server for the checklist with this `warden.toml` (in a scratch folder).
fn with_config(name: &str, toml: &str) -> (Server, std::path::PathBuf) {
    let dir = scratch(name);
    (with_config_in(&dir, toml), dir)
}

/// A server for the checklist with this `warden.toml`, written in `dir`.
fn with_config_in(dir: &std::path::Path, toml: &str) -> Server {
    let config = dir.join("warden.toml");
    std::fs::write(&config, toml).unwrap();
    Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--policy",
        "stdlib-policies",
        "--data",
        CATALOG,
    ])
}

#[test]
fn an_empty_admin_token_is_refused_at_start() {
    let out = warden(&["serve", "--policy", "stdlib-policies", "--admin-token", ""]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the admin token is empty"),
        "{out:?}"
    );
    // Nor one no header can carry as configured.
    for token in [" x ", "x\r", "tökén", "a b"] {
        let out = warden(&[
            "serve",
            "--policy",
            "stdlib-policies",
            "--admin-token",
            token,
        ]);
        assert_eq!(out.status.code(), Some(2), "{token:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("visible ASCII only"),
            "{token:?}: {out:?}"
        );
    }
}

/// A plain `/v1/decide` body's input is read apart from the body; at every
/// limit it gets the answer the whole body gets.
#[test]
fn a_plain_body_meets_the_limits_of_the_whole_body() {
    let agent = client();
    let answer = |server: &Server, body: String| -> (u16, Json, Json) {
        let mut response = agent
            .post(format!("{}/v1/decide", server.url))
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .expect("answered");
        let status = response.status().as_u16();
        let body: Json = response.body_mut().read_json().expect("JSON");
        (
            status,
            body["error"]["code"].clone(),
            body["decision"].clone(),
        )
    };
    // `explain` as a number is not the plain shape: the same count of
    // values, parsed whole.
    let both = |server: &Server, target: &str, input: &str| {
        let plain = answer(
            server,
            format!(r#"{{"target": "{target}", "input": {input}, "explain": false}}"#),
        );
        let whole = answer(
            server,
            format!(r#"{{"target": "{target}", "input": {input}, "explain": 0}}"#),
        );
        assert_eq!(plain, whole, "input {}…", &input[..input.len().min(60)]);
        plain
    };
    let request_with = |x: &str| {
        format!(
            r#"{{"principal": {{"id": "u-1", "type": "user", "authenticated_via": "sso", "mfa": true}}, "action": "read", "resource": {{"type": "record", "app_id": "crm-lite"}}, "x": {x}}}"#
        )
    };
    // A list of the same fields is not a body.
    let (server, dir) = with_config("plain-limits", "[limits]\nmax_body_bytes = 16384\n");
    let list = format!(r#"["request", {}, null, false]"#, request_with("0"));
    let (status, code, _) = answer(&server, list);
    assert_eq!((status, code.as_str()), (400, Some("missing-input")));
    // The most values a body may hold (1,024 for a 16 KB body), reached by
    // the input alone.
    let mut statuses = Vec::new();
    for items in 1010..=1030 {
        let x = format!("[{}]", vec!["0"; items].join(","));
        statuses.push(both(&server, "request", &request_with(&x)).0);
    }
    assert!(
        statuses.contains(&200) && statuses.contains(&400),
        "{statuses:?}"
    );
    drop(server);
    // A policy of its own whose input may be anything (the catalog nests).
    std::fs::write(
        dir.join("any.warden"),
        "package a\ntarget anyt: any default deny\n",
    )
    .unwrap();
    let any_server = |toml: &str| {
        std::fs::write(dir.join("warden.toml"), toml).unwrap();
        Server::start(&[
            "--config",
            dir.join("warden.toml").to_str().unwrap(),
            "--policy",
            dir.join("any.warden").to_str().unwrap(),
        ])
    };
    // Nesting at the deepest one parse reads.
    let server = any_server("[limits]\nmax_json_depth = 128\n");
    let statuses: Vec<u16> = (124..=128)
        .map(|levels| {
            let input = format!("{}0{}", "[".repeat(levels), "]".repeat(levels));
            both(&server, "anyt", &input).0
        })
        .collect();
    assert_eq!(statuses, [200, 200, 200, 400, 400]);
    drop(server);
    // No nesting at all, not even the body's own object: a scalar input is
    // refused too.
    let server = any_server("[limits]\nmax_json_depth = 0\n");
    assert_eq!(both(&server, "anyt", "0").1, "too-deep");
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn slow_and_idle_clients_cannot_exhaust_the_server() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;
    let (server, dir) = with_config(
        "slow-clients",
        "[limits]\nheader_read_timeout_ms = 300\nmax_connections = 1\n",
    );
    let addr = server.url.trim_start_matches("http://").to_string();
    // A client that never finishes its headers is disconnected.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: warden\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "an unfinished request is never served"
    );
    // One connection at a time: while one is open, the next waits.
    let holder = TcpStream::connect(&addr).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let waiting = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_millis(150)))
        .build()
        .new_agent()
        .get(format!("{}/health", server.url))
        .call();
    assert!(
        waiting.is_err(),
        "a second connection is not served while the first is open"
    );
    drop(holder);
    assert_eq!(
        get(&server, "/health").0,
        200,
        "served once a place is free"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_request_past_its_timeout_is_answered_408_in_json() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;
    let (server, dir) = with_config("request-timeout", "[limits]\nrequest_timeout_ms = 200\n");
    let addr = server.url.trim_start_matches("http://").to_string();
    // The body is promised and never finished.
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(
            b"POST /v1/decide HTTP/1.1\r\nHost: warden\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"target\":",
        )
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#""code":"request-timeout""#),
        "the error is JSON, as every other: {answer}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_decision_log_can_keep_inputs_with_fields_masked() {
    let dir = scratch("log-mask");
    let log = dir.join("decisions.jsonl");
    let server = with_config_in(
        &dir,
        &format!(
            "decision_log = {:?}\n[log]\ninclude_input = true\nmask = [\"principal.id\", \"context.ip\"]\n",
            log.display().to_string()
        ),
    );
    post(
        &server,
        "/v1/decide",
        &json!({ "input": request("u-123", "read", "crm-lite") }),
    );
    server.stop();
    let line: Json = serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(line["input"]["principal"]["id"], "***");
    assert_eq!(line["input"]["context"]["ip"], "***");
    assert_eq!(line["input"]["action"], "read", "other fields are kept");
    assert_eq!(
        line["principal_id"], "***",
        "audit fields copied from masked paths are masked"
    );
    assert_eq!(line["ip_address"], "***");
    assert_eq!(line["outcome"], "allow");
    std::fs::remove_dir_all(&dir).ok();
}

/// A masked object is logged as `"***"`: the line is still one the log's
/// readers take whole (`audit verify` and `report` read such an input).
#[test]
fn a_log_with_a_masked_object_verifies_and_reports() {
    let dir = scratch("log-mask-object");
    let log = dir.join("decisions.jsonl");
    let server = with_config_in(
        &dir,
        &format!(
            "decision_log = {:?}\n[log]\ninclude_input = true\nmask = [\"resource\"]\n",
            log.display().to_string()
        ),
    );
    for action in ["read", "write"] {
        post(
            &server,
            "/v1/decide",
            &json!({ "input": request("u-123", action, "crm-lite") }),
        );
    }
    server.stop();
    let line: Json = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["input"]["resource"], "***");
    let log = log.display().to_string();
    let verified = warden(&["audit", "verify", &log]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let catalog = root().join("stdlib-policies/examples/catalog.json");
    let report = warden(&[
        "report",
        "--catalog",
        &catalog.display().to_string(),
        "--decision-log",
        &log,
        "--format",
        "json",
    ]);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let figures: Json = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(figures["sources"]["decision_logs"][0]["chain"], "intact");
    assert_eq!(figures["sources"]["decision_logs"][0]["decisions"], 2);
    // A masked app id names no app (not an unregistered one called `***`).
    assert_eq!(figures["kpis"]["unregistered_at_gateway"], 0, "{figures}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_evaluation_budget_fails_closed() {
    let (server, dir) = with_config("budget", "[limits]\neval_budget = 5\n");
    let (status, decision) = post(
        &server,
        "/v1/decide",
        &json!({ "input": request("u-7", "write", "crm-lite") }),
    );
    assert_eq!(status, 200, "{decision}");
    assert_eq!(decision["decision"], "deny", "out of budget is a denial");
    assert!(
        decision["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "E0501"),
        "{decision}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn environment_variables_stand_in_for_flags() {
    let dir = policy_folder("env", false);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["serve", "--policy", ".", "--no-watch"])
        .current_dir(&dir)
        .env("WARDEN_ADDR", "127.0.0.1:0")
        .env("WARDEN_ADMIN_TOKEN", "from-env")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
    let url = lines
        .find_map(|l| {
            l.ok()?
                .strip_prefix("warden: listening on ")
                .map(str::to_string)
        })
        .expect("it listens");
    let reload = client()
        .post(format!("{url}/v1/reload"))
        .header("Authorization", "Bearer from-env")
        .send_empty()
        .unwrap();
    assert_eq!(
        reload.status(),
        200,
        "the admin token came from WARDEN_ADMIN_TOKEN"
    );
    let _ = child.kill();
    let _ = child.wait();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sigterm_with_requests_in_flight_loses_no_logged_decision() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = scratch("sigterm-load");
    let log = dir.join("decisions.jsonl");
    let server = checklist_logging(&log);
    let answered = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let agent = client();
                // Until the server goes away.
                while let Ok(response) = agent
                    .post(format!("{}/v1/decide", server.url))
                    .send_json(json!({ "input": request("u-123", "read", "crm-lite") }))
                {
                    if response.status() == 200 {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        server.signal("TERM");
    });
    // Wait for the server to finish: it writes the queued lines on its way out.
    assert_eq!(server.stop(), Some(0));
    let answered = answered.into_inner();
    assert!(answered > 10, "only {answered} decisions before SIGTERM");
    let logged = std::fs::read_to_string(&log).unwrap().lines().count();
    assert_eq!(logged, answered, "every decision answered is on disk");
    let out = warden(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}

/// A device as the decision log (`/dev/full`, `/dev/null`) keeps no chain
/// and may block or fail every write: refused at start. (A log that fails
/// while serving refuses decisions: `serve_log.rs`, a full disk.)
#[test]
fn a_device_as_the_decision_log_is_refused_at_start() {
    for device in ["/dev/full", "/dev/null"] {
        let out = warden(&[
            "serve",
            "--policy",
            "stdlib-policies",
            "--data",
            CATALOG,
            "--addr",
            "127.0.0.1:0",
            "--no-watch",
            "--decision-log",
            device,
        ]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains("not a regular file"), "{said}");
    }
}

#[test]
fn x_request_id_is_echoed_and_logged() {
    let dir = scratch("request-id");
    let log = dir.join("decisions.jsonl");
    let server = checklist_logging(&log);
    let request_input = || request("u-123", "read", "crm-lite");
    let ask = |id: Option<&str>, path: &str| {
        let mut request = client()
            .post(format!("{}{path}", server.url))
            .header("Content-Type", "application/json");
        if let Some(id) = id {
            request = request.header("X-Request-ID", id);
        }
        let response = request
            .send_json(json!({ "input": request_input() }))
            .expect("answered");
        let echoed = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        (response.status().as_u16(), echoed)
    };
    // Echoed as given, and on an error as well as on a decision.
    assert_eq!(ask(Some("req-42"), "/v1/decide"), (200, "req-42".into()));
    assert_eq!(ask(Some("req-43"), "/v1/nowhere").1, "req-43");
    // Made when absent, or when it is not one (a space, too long).
    let (_, made) = ask(None, "/v1/decide");
    assert_eq!(made.len(), 26, "a ULID: {made}");
    let (_, replaced) = ask(Some("two words"), "/v1/decide");
    assert_ne!(replaced, "two words");
    let longest = "x".repeat(128);
    assert_eq!(ask(Some(&longest), "/v1/nowhere").1, longest);
    let too_long = "x".repeat(129);
    assert_ne!(ask(Some(&too_long), "/v1/nowhere").1, too_long);
    assert_eq!(server.stop(), Some(0));
    let logged: Vec<Json> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = logged
        .iter()
        .map(|l| l["http_request_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["req-42", made.as_str(), replaced.as_str()]);
    std::fs::remove_dir_all(&dir).ok();
}
