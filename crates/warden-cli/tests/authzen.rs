//! AuthZEN 1.0 as the OpenID interop scores it: the Todo PDP of
//! `examples/authzen-todo/` replays every case of the interop suite
//! (`tests/authzen-interop/`, committed unmodified with its licence) as
//! `runner.ts` sends and compares them, and the suite's own `runner.ts`
//! runs against it too; then each point of `docs/server.md`, "AuthZEN".

mod common;

use common::server::{Server, client};
use common::{root, scratch};
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};

const SUITE: &str = "tests/authzen-interop/decisions-authorization-api-1_0-02.json";

/// The Todo PDP as the example's `warden.toml` describes it, started from
/// another folder (its paths are relative to the file, not to where the
/// server starts).
fn todo_pdp(config: &Path) -> Server {
    let elsewhere = scratch("authzen-cwd");
    Server::start_in(&elsewhere, &["--config", config.to_str().unwrap()])
}

/// A copy of the example with more settings after its `warden.toml`.
fn todo_copy(name: &str, more_toml: &str) -> PathBuf {
    let dir = scratch(name);
    common::copy_tree(&root().join("examples/authzen-todo"), &dir);
    let config = dir.join("warden.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(more_toml);
    std::fs::write(&config, text).unwrap();
    config
}

/// One call as `runner.ts` makes it: `POST {url}/access/v1/{endpoint}` with
/// `Authorization` set to the API key as given and the request as JSON;
/// what it compares (`decision || false`, or the whole `evaluations` list).
fn as_runner_does(server: &Server, endpoint: &str, key: &str, request: &Json) -> Json {
    let mut response = client()
        .post(format!("{}/access/v1/{endpoint}", server.url))
        .header("Authorization", key)
        .header("Content-Type", "application/json")
        .send(serde_json::to_string(request).unwrap())
        .expect("answered");
    let data: Json = response.body_mut().read_json().unwrap_or(Json::Null);
    if endpoint == "evaluation" {
        match &data["decision"] {
            Json::Bool(true) => json!(true),
            _ => json!(false),
        }
    } else {
        match &data["evaluations"] {
            Json::Array(items) => Json::Array(items.clone()),
            _ => json!([]),
        }
    }
}

/// Every case of the suite; how many passed of how many.
fn replay(server: &Server, key: &str) -> (usize, usize, Vec<String>) {
    let suite: Json =
        serde_json::from_str(&std::fs::read_to_string(root().join(SUITE)).unwrap()).unwrap();
    let mut failed = Vec::new();
    let mut total = 0;
    for endpoint in ["evaluation", "evaluations"] {
        for case in suite[endpoint].as_array().unwrap() {
            total += 1;
            let got = as_runner_does(server, endpoint, key, &case["request"]);
            // `JSON.stringify(EXP) === JSON.stringify(RSP)`: the whole
            // items, so an item with a `context` the client did not ask
            // for fails as it fails in the runner.
            if serde_json::to_string(&got).unwrap()
                != serde_json::to_string(&case["expected"]).unwrap()
            {
                failed.push(format!(
                    "{endpoint} {}: expected {}, got {got}",
                    case["request"], case["expected"]
                ));
            }
        }
    }
    (total - failed.len(), total, failed)
}

#[test]
fn the_todo_pdp_passes_every_case_of_the_interop_suite() {
    let server = todo_pdp(&root().join("examples/authzen-todo/warden.toml"));
    // The runner sends `Authorization: undefined` without an API key.
    let (passed, total, failed) = replay(&server, "undefined");
    assert_eq!(total, 43, "the 1.0 suite holds 40 single and 3 batch cases");
    assert_eq!(passed, total, "{failed:#?}");
}

#[test]
fn with_caller_tokens_the_suite_passes_with_the_key_and_nothing_passes_without() {
    let config = todo_copy(
        "authzen-auth",
        "\n[auth]\ntokens_file = \"callers.tokens\"\n",
    );
    std::fs::write(
        config.with_file_name("callers.tokens"),
        "# the interop runner's key\ninterop-key-1\n",
    )
    .unwrap();
    let server = todo_pdp(&config);
    let (passed, total, failed) = replay(&server, "Bearer interop-key-1");
    assert_eq!(passed, total, "{failed:#?}");

    let case = json!({ "subject": { "type": "user", "id": "x" }, "action": { "name": "can_read_todos" },
                       "resource": { "type": "todo", "id": "t" } });
    for (key, challenge) in [
        (None, r#"Bearer realm="warden""#),
        (Some("Bearer interop-key-2"), r#"error="invalid_token""#),
        (Some("interop-key-1"), r#"Bearer realm="warden""#),
    ] {
        for path in [
            "/access/v1/evaluation",
            "/access/v1/evaluations",
            "/v1/decide",
        ] {
            let mut request = client().post(format!("{}{path}", server.url));
            if let Some(key) = key {
                request = request.header("Authorization", key);
            }
            let mut response = request.send_json(&case).unwrap();
            assert_eq!(response.status(), 401, "{path} with {key:?}");
            let header = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            assert!(header.contains(challenge), "{path}: {header}");
            let body: Json = response.body_mut().read_json().unwrap();
            assert_eq!(body["error"]["code"], "unauthenticated", "{body}");
        }
    }
    // The process and discovery endpoints stay open.
    for path in ["/health", "/ready", "/.well-known/authzen-configuration"] {
        let response = client()
            .get(format!("{}{path}", server.url))
            .call()
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

/// The suite's own runner, unmodified, as vendors are scored: its output
/// has a PASS line per case. `.ci/run` installs its tools (`npm ci` in
/// `tests/authzen-interop`); without them (outside CI) this says so.
#[test]
fn the_unmodified_interop_runner_scores_every_case_pass() {
    let suite = root().join("tests/authzen-interop");
    let tsx = suite.join("node_modules/.bin/tsx");
    if !common::installed(tsx.exists(), "the interop runner's tools (tsx, cli-color)") {
        return;
    }
    let config = todo_copy("authzen-runner", "\n[auth]\ntokens = [\"runner-key\"]\n");
    let server = todo_pdp(&config);
    let out = std::process::Command::new("timeout")
        .arg("120")
        .arg(&tsx)
        .args([
            "runner.ts",
            &server.url,
            "authorization-api-1_0-02",
            "console",
        ])
        .current_dir(&suite)
        .env("AUTHZEN_PDP_API_KEY", "Bearer runner-key")
        .output()
        .expect("the runner runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let plain = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&text, "");
    let verdicts: Vec<&str> = plain
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| ["PASS", "FAIL", "ERROR"].contains(w))
        .collect();
    assert_eq!(
        verdicts,
        vec!["PASS"; 43],
        "{plain}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A policy set whose target closes its records, to show what reaches it.
/// `top` holds top-level settings, `authzen` more of the `[authzen]` table.
fn closed_records_pdp(name: &str, top: &str, authzen: &str) -> (Server, PathBuf) {
    let dir = scratch(name);
    std::fs::write(
        dir.join("doc.warden"),
        r#"package docs

type Entity = { type: string, id: string, properties?: { id?: string, type?: string, owner?: string } }
type Evaluation = {
  subject: Entity,
  action: { name: "read" | "write", properties?: { ... } },
  resource: Entity,
  context?: { ip?: string },
}

target evaluation: Evaluation default deny

/// Owners do anything; a property named `id` or `type` is the property,
/// not the entity's own.
rule owners on evaluation as e {
  allow when e.resource.properties?.owner == e.subject.id
    and e.resource.properties?.id == "inner-id"
    and e.resource.properties?.type == "inner-type"
    and e.resource.id == "outer-id"
    and e.context?.ip == "10.0.0.1"
}
"#,
    )
    .unwrap();
    let config = dir.join("warden.toml");
    std::fs::write(
        &config,
        format!("policy = [\".\"]\n{top}[authzen]\ntarget = \"evaluation\"\n{authzen}"),
    )
    .unwrap();
    (Server::start(&["--config", config.to_str().unwrap()]), dir)
}

fn post(server: &Server, path: &str, body: &Json) -> (u16, Json, Option<String>) {
    let mut response = client()
        .post(format!("{}{path}", server.url))
        .header("X-Request-ID", "req-42")
        .send_json(body)
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-42"),
        "X-Request-ID is echoed"
    );
    let ids = response
        .headers()
        .get("x-warden-decision-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, response.body_mut().read_json().unwrap(), ids)
}

fn owned() -> Json {
    json!({
        "subject": { "type": "user", "id": "alice" },
        "action": { "name": "write", "properties": { "why": "edit" } },
        "resource": { "type": "doc", "id": "outer-id",
                      "properties": { "id": "inner-id", "type": "inner-type", "owner": "alice" } },
        "context": { "ip": "10.0.0.1" },
        "unknown_top_level_key": "ignored, as the spec says",
    })
}

#[test]
fn properties_reach_the_policy_nested_and_nothing_is_added() {
    let (server, _dir) = closed_records_pdp("authzen-nested", "", "");
    let (status, answer, ids) = post(&server, "/access/v1/evaluation", &owned());
    assert_eq!(status, 200, "{answer}");
    // Nothing the client did not ask for: no context by default.
    assert_eq!(answer, json!({ "decision": true }));
    assert_eq!(
        ids.map(|i| i.len()),
        Some(26),
        "a ULID in X-Warden-Decision-Id"
    );

    let mut other = owned();
    other["resource"]["properties"]["owner"] = json!("bob");
    let (_, answer, _) = post(&server, "/access/v1/evaluation", &other);
    assert_eq!(answer, json!({ "decision": false }));

    // The spec's required attributes: 400 naming what is missing.
    for (pointer, message) in [
        ("/subject/id", "`subject` needs `id`"),
        ("/resource/type", "`resource` needs `type`"),
        ("/action/name", "`action` needs `name`"),
    ] {
        let mut bad = owned();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        bad.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(key);
        let (status, answer, _) = post(&server, "/access/v1/evaluation", &bad);
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["code"], "bad-authzen");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{answer}"
        );
    }
}

#[test]
fn a_batch_answers_each_item_and_no_list_is_a_single_evaluation() {
    let (server, _dir) = closed_records_pdp("authzen-batch", "", "");
    let mut batch = owned();
    let mut denied = owned()["resource"].clone();
    denied["properties"]["owner"] = json!("bob");
    batch["evaluations"] = json!([
        {},
        { "resource": denied },
        { "action": { "name": "delete" } },
    ]);
    let (status, answer, ids) = post(&server, "/access/v1/evaluations", &batch);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["evaluations"][0], json!({ "decision": true }));
    assert_eq!(answer["evaluations"][1], json!({ "decision": false }));
    // An item the target's type refuses is a deny with the error, per item.
    assert_eq!(answer["evaluations"][2]["decision"], false);
    assert_eq!(answer["evaluations"][2]["context"]["error"]["status"], 400);
    assert_eq!(
        answer["evaluations"][2]["context"]["error"]["code"],
        "E0401"
    );
    let ids = ids.unwrap();
    let ids: Vec<&str> = ids.split(", ").collect();
    assert_eq!(ids.len(), 3, "one id per item, in order");
    assert_eq!(
        ids[2], "-",
        "an item answered with an error has no decision"
    );
    assert!(ids[..2].iter().all(|id| id.len() == 26), "{ids:?}");

    // `options` must be an object.
    let mut bad_options = batch.clone();
    bad_options["options"] = json!("deny_on_first_deny");
    let (status, answer, _) = post(&server, "/access/v1/evaluations", &bad_options);
    assert_eq!(status, 400, "{answer}");

    let mut first_deny = batch.clone();
    first_deny["options"] = json!({ "evaluations_semantic": "deny_on_first_deny" });
    let (_, answer, _) = post(&server, "/access/v1/evaluations", &first_deny);
    assert_eq!(answer["evaluations"].as_array().unwrap().len(), 2);

    // `evaluations: []` and no `evaluations`: the single evaluation, answered as one.
    for list in [Some(json!([])), None] {
        let mut single = owned();
        if let Some(list) = list {
            single["evaluations"] = list;
        }
        let (status, answer, _) = post(&server, "/access/v1/evaluations", &single);
        assert_eq!((status, answer), (200, json!({ "decision": true })));
    }
}

#[test]
fn the_context_comes_when_configured_and_the_ids_are_always_in_header_and_log() {
    let dir = scratch("authzen-context-log");
    let log = dir.join("decisions.jsonl");
    let (server, _policy) = closed_records_pdp(
        "authzen-context",
        &format!("decision_log = \"{}\"\n", log.display()),
        "",
    );
    let (_, answer, ids) = post(&server, "/access/v1/evaluation", &owned());
    assert_eq!(answer, json!({ "decision": true }));
    let id = ids.unwrap();
    assert_eq!(server.stop(), Some(0));
    let line: Json = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["decision_id"], id.as_str(), "{line}");
    assert_eq!(line["http_request_id"], "req-42", "{line}");
    // Who asked to do what, from AuthZEN's own names, as short scalars.
    assert_eq!(line["principal_id"], "alice", "{line}");
    assert_eq!(line["principal_type"], "user", "{line}");
    assert_eq!(line["action"], "write", "{line}");
    assert_eq!(line["resource_id"], "outer-id", "{line}");

    let (server, _policy) =
        closed_records_pdp("authzen-context-on", "", "response_context = true\n");
    let mut other = owned();
    other["resource"]["properties"]["owner"] = json!("bob");
    let (_, answer, ids) = post(&server, "/access/v1/evaluation", &other);
    assert_eq!(answer["decision"], false);
    assert_eq!(answer["context"]["decision_id"], ids.unwrap().as_str());
    assert!(answer["context"]["policy_revision"].is_string());
    assert!(
        answer["context"]["reason_user"]["en"].is_string(),
        "{answer}"
    );
}

#[test]
fn a_target_the_set_lacks_stops_the_server_and_without_one_authzen_is_off() {
    let dir = scratch("authzen-missing-target");
    std::fs::write(
        dir.join("warden.toml"),
        format!(
            "policy = [\"{}\"]\n[authzen]\ntarget = \"evaluations\"\n",
            root().join("examples/authzen-todo").display()
        ),
    )
    .unwrap();
    let out = common::warden(&[
        "serve",
        "--config",
        dir.join("warden.toml").to_str().unwrap(),
        "--addr",
        "127.0.0.1:0",
    ]);
    // 2: what the command was given cannot run, as for every CLI error.
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(
            "`[authzen] target = \"evaluations\"` names a target the policy set does not declare; it declares `evaluation`"
        ),
        "{said}"
    );

    let server = Server::start(&[
        "--policy",
        "examples/authzen-todo",
        "--data",
        "users=examples/authzen-todo/users.json",
    ]);
    for path in ["/access/v1/evaluation", "/access/v1/evaluations"] {
        let (status, answer, _) = post(&server, path, &owned());
        assert_eq!(status, 404, "{answer}");
        assert_eq!(answer["error"]["code"], "authzen-off");
    }
    let response = client()
        .get(format!("{}/.well-known/authzen-configuration", server.url))
        .call()
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[test]
fn the_discovery_document_never_names_the_host_a_request_gives() {
    use std::io::{Read, Write};
    let server = todo_pdp(&root().join("examples/authzen-todo/warden.toml"));
    let mut stream =
        std::net::TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
    stream
        .write_all(b"GET /.well-known/authzen-configuration HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.contains("evil.example"), "{answer}");
    assert!(
        answer.contains(&format!("{}/access/v1/evaluation", server.url)),
        "{answer}"
    );
}

#[test]
fn a_misspelled_property_is_a_warning_in_the_context() {
    let config = todo_copy("authzen-typo", "response_context = true\n");
    // `response_context` belongs to `[authzen]`, the file's last table.
    let server = todo_pdp(&config);
    let request = json!({
        "subject": { "type": "user", "id": "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs" },
        "action": { "name": "can_update_todo" },
        "resource": { "type": "todo", "id": "t-1", "properties": { "ownerId": "morty@the-citadel.com" } }
    });
    let (status, answer, _) = post(&server, "/access/v1/evaluation", &request);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["decision"], false, "{answer}");
    let warning = &answer["context"]["warnings"][0];
    assert_eq!(warning["code"], "W0007", "{answer}");
    assert_eq!(warning["path"], "$.resource.properties.ownerId");
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `ownerID`?"),
        "{answer}"
    );
}

/// A batch keeps the request's deadline even once its first decision is
/// logged (from then on the request is answered): the items not begun by
/// then are answered `request-timeout`, not decided for minutes.
#[test]
fn a_slow_batch_stops_deciding_at_the_request_deadline() {
    let dir = scratch("authzen-batch-deadline");
    std::fs::write(
        dir.join("slow.warden"),
        r#"package slow
target evaluation: { subject: { type: string, id: string }, action: { name: string },
                     resource: { type: string, id: string } } default deny
data xs: [string]
rule costly on evaluation as e {
  allow when any a in data.xs: any b in data.xs: a == b + e.subject.id
}
"#,
    )
    .unwrap();
    let xs: Vec<String> = (0..2000).map(|i| format!("s{i}")).collect();
    std::fs::write(dir.join("xs.json"), serde_json::to_string(&xs).unwrap()).unwrap();
    std::fs::write(
        dir.join("warden.toml"),
        "policy = [\"slow.warden\"]\ndata = [\"xs=xs.json\"]\ndecision_log = \"log.jsonl\"\n\
         [limits]\nrequest_timeout_ms = 400\neval_budget = 200000\n[authzen]\ntarget = \"evaluation\"\n",
    )
    .unwrap();
    let server = Server::start(&["--config", dir.join("warden.toml").to_str().unwrap()]);
    let batch = json!({
        "subject": { "type": "user", "id": "zz" }, "action": { "name": "read" },
        "resource": { "type": "doc", "id": "d" },
        "evaluations": vec![json!({}); 200],
    });
    let started = std::time::Instant::now();
    let (status, answer, ids) = post(&server, "/access/v1/evaluations", &batch);
    let took = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    let items = answer["evaluations"].as_array().unwrap();
    assert_eq!(items.len(), 200);
    let timed_out = items
        .iter()
        .filter(|i| i["context"]["error"]["code"] == "request-timeout")
        .count();
    assert!(timed_out > 0, "every item was decided, in {took:?}");
    assert!(items.iter().all(|i| i["decision"] == false));
    let ids = ids.unwrap();
    let decided = ids.split(", ").filter(|id| *id != "-").count();
    assert_eq!(decided + timed_out, 200, "{ids}");
    assert_eq!(server.stop(), Some(0));
    let logged = std::fs::read_to_string(dir.join("log.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(
        logged, decided,
        "every decision taken is logged, and only those"
    );
}

/// `--config` names a regular file, read within its bound: a FIFO (or a
/// device) is refused at once, never waited on.
#[test]
fn a_config_that_is_not_a_regular_file_is_refused_at_once() {
    let dir = scratch("config-fifo");
    let fifo = dir.join("warden.toml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return;
    }
    let out = std::process::Command::new("timeout")
        .arg("20")
        .arg(common::warden_bin())
        .args([
            "serve",
            "--config",
            fifo.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a regular file"),
        "{out:?}"
    );
}
