//! What the input fuzz targets check, shared by `cargo fuzz` (the targets in
//! `fuzz_targets/`) and the bounded run in the workspace's tests
//! (`crates/warden-cli/tests/fuzz_bounded.rs`), so CI runs the very same
//! checks over the seeds, the crashes found so far and fresh mutations.

use warden::{DecideOptions, Document, Engine, EngineError, InputLimits, PolicySources};

/// A document, JSON or YAML by its first byte: reading it never panics,
/// never nests deeper than the limit, and when it is read, every position
/// lookup answers.
pub fn document(data: &[u8]) {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    let name = if kind % 2 == 0 {
        "input.yaml"
    } else {
        "input.json"
    };
    let text = String::from_utf8_lossy(body);
    let limits = InputLimits {
        max_bytes: 1 << 20,
        max_depth: 16,
    };
    match Document::parse_with(name, &text, &limits) {
        Ok(document) => {
            assert!(
                depth(&document.value) <= limits.max_depth,
                "deeper than the limit"
            );
            for path in ["$", "$.a", "$[0]", "$.a[1].b", "$.metadata.name"] {
                let _ = document.positions.locate(path);
            }
            // The same text without positions reads the same value.
            let plain =
                warden::parse_document_with(name, &text, &limits).expect("read once, read twice");
            assert_eq!(plain, document.value);
        }
        Err(
            EngineError::Syntax { .. } | EngineError::TooDeep { .. } | EngineError::TooLarge { .. },
        ) => {}
        Err(other) => panic!("an input document fails only as syntax or a limit: {other}"),
    }
}

fn depth(value: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((v, d)) = stack.pop() {
        match v {
            serde_json::Value::Array(items) => {
                deepest = deepest.max(d + 1);
                stack.extend(items.iter().map(|i| (i, d + 1)));
            }
            serde_json::Value::Object(entries) => {
                deepest = deepest.max(d + 1);
                stack.extend(entries.values().map(|i| (i, d + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// A gateway path: the canonicaliser never panics, and what it lets through
/// means one thing to every upstream: it starts with `/`, holds no `;`,
/// backslash, control character, empty, `.` or `..` segment, and stays the
/// same when read again after its non-ASCII bytes are escaped.
pub fn gateway_path(data: &[u8]) {
    let uri = String::from_utf8_lossy(data);
    let Ok(path) = warden_server::canonical_path(&uri) else {
        return;
    };
    assert!(path.starts_with('/'), "{path:?}");
    assert!(!path.contains(';') && !path.contains('\\'), "{path:?}");
    assert!(!path.chars().any(char::is_control), "{path:?}");
    let inner = path[1..].strip_suffix('/').unwrap_or(&path[1..]);
    if !inner.is_empty() {
        assert!(
            inner
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != ".."),
            "{path:?}"
        );
    }
    // Escaping what may not be written as itself gives a path that reads the same.
    let mut escaped = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/".contains(&b) {
            escaped.push(b as char);
        } else {
            escaped.push_str(&format!("%{b:02X}"));
        }
    }
    assert_eq!(
        warden_server::canonical_path(&escaped).as_deref(),
        Ok(path.as_str()),
        "{uri:?} → {path:?} → {escaped:?}"
    );
}

/// A policy and a JSON input, split at the first NUL byte: compiling never
/// panics, and when the policy compiles, deciding the input against each
/// target never panics and gives the same answer from the compiled form as
/// from the tree walker, and explained, at a budget it finishes within and
/// at budgets small enough to run out part way (where all must stop at the
/// same step).
pub fn decide(data: &[u8]) {
    let (policy, input) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let policy = String::from_utf8_lossy(policy);
    let Ok(engine) = Engine::from_sources(PolicySources::from_texts([(
        "fuzz.warden",
        policy.as_ref(),
    )])) else {
        return;
    };
    let Ok(input) = serde_json::from_slice::<serde_json::Value>(input) else {
        return;
    };
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_780_272_000);
    for target in engine.targets() {
        for budget in [100_000, 5, 20, 60, 200] {
            let decide = |tree_walk: bool, explain: bool| {
                let options = DecideOptions {
                    budget,
                    tree_walk,
                    explain,
                    ..DecideOptions::default()
                };
                engine
                    .decide_with(&target.name, &input, now, &options)
                    .map(|decision| {
                        let mut json = serde_json::to_value(decision).expect("serializes");
                        let object = json.as_object_mut().expect("an object");
                        object.remove("decision_id");
                        for list in ["findings", "warnings", "waived"] {
                            for finding in object[list].as_array_mut().into_iter().flatten() {
                                finding.as_object_mut().map(|f| f.remove("trace"));
                            }
                        }
                        json
                    })
                    .map_err(|e| e.to_string())
            };
            let reference = decide(true, false);
            assert_eq!(
                decide(false, false),
                reference,
                "target `{}`, budget {budget}",
                target.name
            );
            // An explanation is of the decision taken: the same steps, so
            // the same answer at every budget.
            assert_eq!(
                decide(false, true),
                reference,
                "explained: target `{}`, budget {budget}",
                target.name
            );
        }
    }
}
