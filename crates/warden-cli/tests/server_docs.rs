//! `docs/server.md` cannot drift: the gateway configurations it shows are the
//! files the end-to-end tests run, and its `warden.toml` parses with the
//! defaults the server really has.

mod common;

use common::root;
use regex::Regex;

fn blocks(doc: &str) -> Vec<(String, String)> {
    let fence = Regex::new(r"(?s)```\w+ file=(\S+)\n(.*?)```").unwrap();
    fence
        .captures_iter(doc)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

#[test]
fn the_documented_gateway_configs_are_the_tested_ones() {
    let doc = std::fs::read_to_string(root().join("docs/server.md")).unwrap();
    let blocks = blocks(&doc);
    let files: Vec<&str> = blocks.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        files,
        [
            "examples/authzen-todo/model.warden",
            "examples/authzen-todo/rules.warden",
            "examples/authzen-todo/warden.toml",
            "tests/server/nginx.conf",
            "tests/server/envoy-http.yaml",
            "tests/server/envoy-grpc.yaml",
            "warden.toml"
        ]
    );
    let (last, shown) = blocks.split_last().unwrap();
    assert_eq!(last.0, "warden.toml");
    for (file, text) in shown {
        let actual = std::fs::read_to_string(root().join(file)).unwrap();
        assert_eq!(text, &actual, "docs/server.md shows an old {file}");
    }
}

#[test]
fn the_documented_warden_toml_parses_with_the_real_defaults() {
    let doc = std::fs::read_to_string(root().join("docs/server.md")).unwrap();
    let (_, toml) = blocks(&doc).pop().unwrap();
    let documented = warden_server::ServerConfig::from_toml(&toml).expect("it parses");
    let defaults = warden_server::ServerConfig::default();
    assert_eq!(documented.addr, defaults.addr);
    assert_eq!(documented.watch, defaults.watch);
    assert_eq!(
        format!("{:?}", documented.limits),
        format!("{:?}", defaults.limits),
        "the documented limits are the defaults"
    );
    assert_eq!(
        format!("{:?}", documented.gateway),
        format!("{:?}", defaults.gateway),
        "the documented mapping is the default"
    );
    let typo = toml.replace("max_body_bytes", "max_body_byte");
    assert!(
        warden_server::ServerConfig::from_toml(&typo).is_err(),
        "unknown keys are refused"
    );
}

/// The AuthZEN example, asked of a server started as the page starts it,
/// at the real clock: its answer is the one shown (a date in the example
/// data that has passed would turn it).
#[test]
fn the_documented_authzen_example_answers_as_shown_today() {
    let doc = std::fs::read_to_string(root().join("docs/server.md")).unwrap();
    let example = Regex::new(
        r"(?s)curl -s localhost:8181/access/v1/evaluation -H 'Content-Type: application/json' -d '(.*?)'\n# (\{.*?\})\n",
    )
    .unwrap();
    let found = example
        .captures(&doc)
        .expect("server.md shows an AuthZEN example");
    let body: serde_json::Value = serde_json::from_str(&found[1]).unwrap();
    let shown: serde_json::Value = serde_json::from_str(&found[2]).unwrap();
    let server = common::server::Server::start(&["--config", "examples/authzen-todo/warden.toml"]);
    let mut response = common::server::client()
        .post(format!("{}/access/v1/evaluation", server.url))
        .send_json(&body)
        .expect("answered");
    let answer: serde_json::Value = response.body_mut().read_json().unwrap();
    assert_eq!(answer, shown);
}
