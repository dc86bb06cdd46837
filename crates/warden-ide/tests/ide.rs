//! The editor's queries over the checklist itself.

use warden_ide::{AnalysisHost, CompletionKind};

fn checklist() -> AnalysisHost {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-policies");
    let mut host = AnalysisHost::default();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if relative.ends_with(".warden") {
                host.set_file(&relative, &std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    host.read_named_files(&root);
    host
}

#[test]
fn the_checklist_has_no_diagnostics_and_a_typo_is_reported_where_it_is() {
    let mut host = checklist();
    assert!(host.diagnostics().values().all(Vec::is_empty));
    let path = "rules/identity.warden";
    let text = host
        .text(path)
        .unwrap()
        .replace("app.spec.auth?.scim", "app.spec.auth?.scmi");
    host.set_file(path, &text);
    let diagnostics = host.diagnostics();
    let found = &diagnostics[path];
    // The condition and the message both read it.
    assert_eq!(found.len(), 2, "{found:?}");
    for d in found {
        assert_eq!(d.diagnostic.code.to_string(), "E0102");
        assert_eq!(&text[d.range.as_range()], "scmi");
    }
    assert!(
        diagnostics
            .iter()
            .filter(|(p, _)| *p != path)
            .all(|(_, d)| d.is_empty())
    );
}

#[test]
fn an_edit_re_checks_only_the_files_it_can_change() {
    let mut host = AnalysisHost::with_query_log();
    let declarations = |blank: &str| {
        format!(
            "package a\ntarget manifest: {{ name: string }} default allow\nfn blank(s: string) -> bool = s == \"{blank}\"\n"
        )
    };
    host.set_file("a.warden", &declarations(""));
    let rule = |value: &str| {
        format!(
            "package b\n@control(\"X-1\")\nrule r on manifest as m {{\n  deny when m.name == \"{value}\"\n}}\n"
        )
    };
    host.set_file("b.warden", &rule("x"));
    host.set_file(
        "c.warden",
        "package c\n@control(\"X-2\")\nrule s on manifest as m {\n  warn when m.name == \"z\"\n}\n",
    );
    host.diagnostics();
    host.take_query_log();

    // A rule's body: that file is parsed and checked again, nothing else
    // of the other files. The declarations and the rule table are worked
    // out again, found equal, and so keep the other checks.
    host.set_file("b.warden", &rule("y"));
    host.diagnostics();
    let log = host.take_query_log();
    let ran = |query: &str| log.iter().filter(|q| q.starts_with(query)).count();
    assert_eq!(ran("parse_file"), 1, "{log:?}");
    assert_eq!(ran("syntax_diagnostics"), 1, "{log:?}");
    assert_eq!(ran("declarations"), 1, "{log:?}");
    assert_eq!(ran("environment"), 1, "{log:?}");
    assert_eq!(ran("rule_table"), 1, "{log:?}");
    assert_eq!(
        ran("check_file"),
        1,
        "only b.warden is checked again: {log:?}"
    );
    assert_eq!(ran("compile"), 1, "{log:?}");
    assert_eq!(ran("lint"), 1, "{log:?}");
    assert_eq!(ran("line_index"), 1, "the edited file's lines: {log:?}");
    assert_eq!(log.len(), 9, "nothing else ran: {log:?}");

    // A function's body, its signature kept: the environment comes out
    // equal, so only the edited file is checked again.
    host.set_file("a.warden", &declarations("-"));
    host.diagnostics();
    let log = host.take_query_log();
    let checks = log.iter().filter(|q| q.starts_with("check_file")).count();
    assert_eq!(checks, 1, "only a.warden is checked again: {log:?}");

    // The target's type: every file that reads it is checked again.
    host.set_file(
        "a.warden",
        "package a\ntarget manifest: { name: string, owner?: string } default allow\nfn blank(s: string) -> bool = s == \"-\"\n",
    );
    host.diagnostics();
    let log = host.take_query_log();
    let checks = log.iter().filter(|q| q.starts_with("check_file")).count();
    assert_eq!(checks, 3, "{log:?}");

    // Setting the same text again is no change: nothing runs.
    let same = host.text("b.warden").unwrap().to_string();
    host.set_file("b.warden", &same);
    host.diagnostics();
    assert_eq!(host.take_query_log(), Vec::<String>::new());
    // Asking again without a change reuses every answer.
    host.diagnostics();
    assert!(host.take_query_log().is_empty());
}

#[test]
fn completion_after_a_dot_lists_the_fields_with_their_docs() {
    let host = checklist();
    let path = "rules/identity.warden";
    let text = host.text(path).unwrap();
    let at = text.find("app.spec.auth?.sso").unwrap() + "app.".len();
    let items = host.completions(path, at);
    let labels: Vec<&str> = items.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["apiVersion", "kind", "metadata", "spec"]);
    assert!(items.iter().all(|c| c.kind == CompletionKind::Field));
    let spec = items.iter().find(|c| c.label == "spec").unwrap();
    assert!(
        spec.documentation
            .as_deref()
            .unwrap()
            .contains("How the app signs users in")
    );
    let at = text.find("app.spec.auth?.sso").unwrap() + "app.spec.auth?.".len();
    let labels: Vec<String> = host
        .completions(path, at)
        .into_iter()
        .map(|c| c.label)
        .collect();
    assert_eq!(labels, ["sso", "mfa", "local_accounts", "scim"]);
}

#[test]
fn hover_shows_field_docs_rule_docs_and_builtin_signatures() {
    let host = checklist();
    let path = "rules/identity.warden";
    let text = host.text(path).unwrap();
    let at = text.find("auth?.sso").unwrap() + 1;
    let (hover, _) = host.hover(path, at).unwrap();
    assert!(hover.contains("auth: Auth?"), "{hover}");
    assert!(hover.contains("How users sign in"), "{hover}");
    let at = text.find("rule corporate_sso").unwrap() + "rule ".len();
    let (hover, _) = host.hover(path, at).unwrap();
    assert!(hover.contains("control IAM-1"), "{hover}");
    assert!(hover.contains("Checklist IAM-1"), "{hover}");
    let secrets = host.text("rules/secrets.warden").unwrap();
    let at = secrets.find("looks_like_secret(value)").unwrap();
    let (hover, _) = host.hover("rules/secrets.warden", at).unwrap();
    assert!(
        hover.contains("looks_like_secret(s: string) -> bool"),
        "{hover}"
    );
}

#[test]
fn definitions_of_rules_types_and_fields() {
    let host = checklist();
    let tests = host.text("tests/identity.warden").unwrap();
    let at = tests.find("microapps.identity.corporate_sso").unwrap() + "microapps.identity.".len();
    let (file, range) = host.definition("tests/identity.warden", at).unwrap();
    assert_eq!(file, "rules/identity.warden");
    assert_eq!(
        &host.text(&file).unwrap()[range.as_range()],
        "corporate_sso"
    );
    let rules = host.text("rules/identity.warden").unwrap();
    let at = rules.find("spec.auth?.scim").unwrap() + "spec.".len();
    let (file, range) = host.definition("rules/identity.warden", at).unwrap();
    assert_eq!(file, "schema/manifest.warden");
    assert_eq!(&host.text(&file).unwrap()[range.as_range()], "auth");
}

#[test]
fn symbols_and_formatting() {
    let host = checklist();
    let symbols = host.symbols("rules/identity.warden");
    let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "corporate_sso",
            "mfa_above_public",
            "scim_provisioning",
            "role_templates",
            "elevated_roles_time_bound"
        ]
    );
    assert_eq!(
        host.format("rules/identity.warden"),
        None,
        "already formatted"
    );
}

#[test]
fn references_and_rename_of_a_rule_cross_files() {
    let host = checklist();
    let rules = host.text("rules/identity.warden").unwrap();
    let at = rules.find("rule corporate_sso").unwrap() + "rule ".len();
    let found = host.references("rules/identity.warden", at);
    let files: std::collections::BTreeSet<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert!(
        files.contains("rules/identity.warden") && files.contains("tests/identity.warden"),
        "{files:?}"
    );
    assert!(found.len() > 5, "{found:?}");
    let edits = host
        .rename("rules/identity.warden", at, "sso_only")
        .unwrap();
    assert_eq!(edits.len(), found.len());
    assert!(
        host.rename("rules/identity.warden", at, "deny").is_err(),
        "a keyword is refused"
    );
    assert!(host.rename("rules/identity.warden", at, "9lives").is_err());
}

#[test]
fn highlights_folds_signatures_symbols_and_fixes() {
    let mut host = checklist();
    let path = "rules/secrets.warden";
    let text = host.text(path).unwrap();
    let highlights = host.highlights(path);
    let at = text.find("looks_like_secret(value)").unwrap();
    assert!(
        highlights
            .iter()
            .any(|(r, h)| r.start as usize == at && *h == warden_ide::Highlight::Function)
    );
    assert!(!host.folds(path).is_empty());
    let inside = text.find("looks_like_secret(value)").unwrap() + "looks_like_secret(".len();
    let (signature, argument) = host.signature_help(path, inside).unwrap();
    assert!(signature.starts_with("looks_like_secret(s: string)"));
    assert_eq!(argument, 0);
    assert!(
        host.workspace_symbols("secret")
            .iter()
            .any(|(_, s)| s.name == "no_embedded_secrets")
    );

    let broken = text.replacen("secret.source in", "secret.sorce in", 1);
    host.set_file(path, &broken);
    let at = broken.find("secret.sorce").unwrap() + "secret.".len();
    let fixes = host.fixes(path, warden_diagnostics::TextRange::new(at, at + 1));
    assert_eq!(fixes[0].0, "Change to `source`");
    assert_eq!(fixes[0].1[0].1, "source");
}

/// The byte offset just after the `n`th occurrence of `needle` in `path`.
fn after(host: &AnalysisHost, path: &str, needle: &str, n: usize) -> usize {
    let text = host.text(path).unwrap();
    let mut at = 0;
    for _ in 0..=n {
        at += text[at..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?}"))
            + needle.len();
    }
    at
}

#[test]
fn contextual_completions_packages_rules_literals_and_snippets() {
    let mut host = checklist();
    let path = "rules/identity.warden";
    let text = host.text(path).unwrap().to_string();

    // After `import `: package names (not the file's own), replacing the
    // whole dotted prefix.
    let edited = text.replacen("import microapps.lib", "import microapps.l", 1);
    host.set_file(path, &edited);
    let at = edited.find("import microapps.l").unwrap() + "import microapps.l".len();
    let found = host.completions(path, at);
    let labels: Vec<&str> = found.iter().map(|c| c.label.as_str()).collect();
    assert!(labels.contains(&"microapps.lib"), "{labels:?}");
    assert!(!labels.contains(&"microapps.identity"), "{labels:?}");
    assert!(found.iter().all(|c| c.kind == CompletionKind::Package));
    assert_eq!(found[0].replace_from, Some(at - "microapps.l".len()));

    // Where a union literal is expected: its members, quoted.
    let edited = text.replacen(
        "app.spec.auth?.mfa != \"required\"",
        "app.spec.auth?.sso == \"",
        1,
    );
    host.set_file(path, &edited);
    let at = edited.find("app.spec.auth?.sso == \"").unwrap() + "app.spec.auth?.sso == \"".len();
    let found = host.completions(path, at);
    let labels: Vec<&str> = found.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["\"oidc\"", "\"saml\"", "\"none\""]);
    assert!(found.iter().all(|c| c.kind == CompletionKind::EnumMember));
    assert_eq!(found[0].replace_from, Some(at - 1));
    assert_eq!(found[0].replace_to, None);
    // With the closing quote the editor typed: it is replaced too.
    let edited = text.replacen(
        "app.spec.auth?.mfa != \"required\"",
        "app.spec.auth?.sso == \"\"",
        1,
    );
    host.set_file(path, &edited);
    let found = host.completions(path, at);
    assert_eq!(found.len(), 3);
    assert_eq!(
        (found[0].replace_from, found[0].replace_to),
        (Some(at - 1), Some(at + 1))
    );

    // In a test, after `expect deny `: full rule names with severity and control.
    host.set_file(path, &text);
    let tests = "tests/identity.warden";
    let test_text = host.text(tests).unwrap().to_string();
    let edited = format!(
        "{test_text}\ntest scratch {{\n  given manifest = fixture(\"x.yaml\")\n  expect deny microapps.identity.sc"
    );
    host.set_file(tests, &edited);
    let found = host.completions(tests, edited.len());
    let sso = found
        .iter()
        .find(|c| c.label == "microapps.identity.scim_provisioning")
        .expect("rule offered");
    assert_eq!(sso.kind, CompletionKind::Rule);
    assert_eq!(
        sso.detail.as_deref(),
        Some("severity medium · control IAM-3")
    );
    assert!(found.iter().all(|c| c.kind == CompletionKind::Rule));

    // Built-ins complete as calls with a placeholder per parameter.
    host.set_file(tests, &test_text);
    let at = after(&host, path, "deny when ", 0);
    let found = host.completions(path, at);
    let replace = found.iter().find(|c| c.label == "replace").unwrap();
    assert_eq!(
        replace.snippet.as_deref(),
        Some("replace(${1:s}, ${2:from}, ${3:to})")
    );
    let count = found.iter().find(|c| c.label == "count").unwrap();
    assert_eq!(count.snippet.as_deref(), Some("count(${1:xs})"));
}

#[test]
fn definitions_and_references_of_lets_bindings_fields_and_packages() {
    let host = checklist();
    let gateway = "rules/gateway.warden";
    let text = host.text(gateway).unwrap();

    // A `let` use goes to its `let` in the same rule, not another rule's.
    let use_at = after(&host, gateway, "deny when app", 0) - 1;
    let (file, range) = host.definition(gateway, use_at).unwrap();
    assert_eq!(file, gateway);
    let first_let = text.find("let app").unwrap() + 4;
    assert_eq!(range.start as usize, first_let);
    let second_rule_use = after(&host, gateway, "deny when app", 2) - 1;
    let (_, range) = host.definition(gateway, second_rule_use).unwrap();
    assert!(
        range.start as usize > first_let,
        "the second rule's own let"
    );

    // References of that let stay inside its rule.
    let refs = host.references(gateway, use_at);
    let rule_end = text[first_let..].find("\n}\n").unwrap() + first_let;
    assert!(refs.len() >= 4, "{refs:?}");
    assert!(
        refs.iter().all(|(f, r)| f == gateway
            && (r.start as usize) >= first_let
            && (r.end as usize) <= rule_end),
        "{refs:?}"
    );

    // The rule's input binding (`as req`).
    let req_use = after(&host, gateway, "data.catalog.apps[req", 0) - 1;
    let (_, range) = host.definition(gateway, req_use).unwrap();
    assert_eq!(&text[range.as_range()], "req");
    assert!(text[..range.start as usize].ends_with(" as "));

    // A field: references from its declaration find the uses in rules.
    let schema = "schema/manifest.warden";
    let scim_decl = after(&host, schema, "  scim", 0) - 1;
    let refs = host.references(schema, scim_decl);
    assert_eq!(refs[0].0, schema, "the declaration first");
    let identity_uses = refs
        .iter()
        .filter(|(f, _)| f == "rules/identity.warden")
        .count();
    assert_eq!(identity_uses, 2, "{refs:?}");

    // A package: `import` goes to a `package` line; its uses are every
    // package and import line naming it.
    let identity = "rules/identity.warden";
    let import_at = after(&host, identity, "import microapps.sch", 0);
    let (file, range) = host.definition(identity, import_at).unwrap();
    assert!(file.starts_with("schema/"), "{file}");
    assert_eq!(
        &host.text(&file).unwrap()[range.as_range()],
        "microapps.schema"
    );
    let uses = host.references(identity, import_at);
    assert!(uses.len() >= 10, "{uses:?}");
    assert!(
        uses.iter()
            .all(|(f, r)| &host.text(f).unwrap()[r.as_range()] == "microapps.schema")
    );

    // Renaming a package is a dotted path; a rule name must stay one name.
    assert!(host.rename(identity, import_at, "acme.schema").is_ok());
    assert!(host.rename(identity, import_at, "acme..schema").is_err());
}

#[test]
fn a_change_cancels_the_queries_of_a_snapshot() {
    use warden_ide::Cancelled;
    let mut host = checklist();
    let snapshot = host.clone();
    assert!(Cancelled::catch(|| snapshot.diagnostics()).is_ok());
    let path = "rules/identity.warden";
    let edited = host.text(path).unwrap().replace("scim", "scmi");
    std::thread::scope(|scope| {
        // The write waits for the snapshot to be dropped; meanwhile the
        // snapshot's next query unwinds.
        let writer = scope.spawn(|| host.set_file(path, &edited));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let outcome = loop {
            match Cancelled::catch(|| snapshot.diagnostics()) {
                Err(cancelled) => break Some(cancelled),
                Ok(_) if std::time::Instant::now() > deadline => break None,
                Ok(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        };
        assert!(
            matches!(outcome, Some(Cancelled::PendingWrite)),
            "{outcome:?}"
        );
        drop(snapshot);
        writer.join().unwrap();
    });
    // The host answers from the new text.
    assert!(!host.diagnostics()[path].is_empty());
}

#[test]
fn lenses_run_tests_evaluate_fixtures_and_stub_a_test() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-policies");
    let mut host = checklist();
    let tests = "tests/identity.warden";
    let lenses = host.lenses(tests);
    let warden_ide::LensKind::RunTest { test } = &lenses[0].kind else {
        panic!("{lenses:?}")
    };
    let run = warden_ide::run_tests(&host.engine().unwrap(), Some(&root), Some(test));
    assert_eq!(run.tests.len(), 1, "{test}");
    assert_eq!(&run.tests[0].name, test);
    assert_eq!(run.summary.failed + run.summary.errors, 0);

    let rules = "rules/identity.warden";
    assert!(host.lenses(rules).iter().all(|l| l.kind
        == warden_ide::LensKind::Evaluate {
            target: "manifest".into()
        }));
    let fixtures = host.fixtures(&root, "manifest");
    let failing = fixtures
        .iter()
        .find(|f| f.ends_with("IAM-1-local-accounts.yaml"))
        .expect("a fixture the tests use");
    let decision = warden_ide::evaluate(
        &host.engine().unwrap(),
        &root,
        "manifest",
        failing,
        std::time::SystemTime::now(),
    )
    .unwrap();
    assert_eq!(decision.decision, warden::Verdict::Deny);
    assert!(
        decision
            .findings
            .iter()
            .any(|f| f.control.as_deref() == Some("IAM-1"))
    );

    // A stub for a rule: a fixture other tests use, the rule's effect.
    let at = host
        .text(rules)
        .unwrap()
        .find("rule scim_provisioning")
        .unwrap();
    let (title, range, stub) = host.test_stub(rules, at).unwrap();
    assert_eq!(title, "Create a test for `scim_provisioning`");
    assert_eq!(range.start as usize, host.text(rules).unwrap().len());
    assert!(stub.contains("test scim_provisioning_denies {"), "{stub}");
    assert!(
        stub.contains("expect deny microapps.identity.scim_provisioning"),
        "{stub}"
    );
    assert!(
        stub.contains("given manifest = fixture(\"../examples/manifests/"),
        "{stub}"
    );
    // Once applied, the set still compiles (the stub is a real test).
    let text = format!("{}{stub}", host.text(rules).unwrap());
    host.set_file(rules, &text);
    let errors: Vec<_> = host
        .diagnostics()
        .into_values()
        .flatten()
        .filter(|d| d.diagnostic.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let run = warden_ide::run_tests(
        &host.engine().unwrap(),
        Some(&root),
        Some("microapps.identity.scim_provisioning_denies"),
    );
    assert_eq!(run.tests.len(), 1);
    assert_eq!(run.summary.total, 1);
}

/// No editor query panics, wherever the cursor is: every character
/// boundary of a checklist file, and of a broken file with non-ASCII text.
#[test]
fn no_query_panics_at_any_position() {
    let mut host = checklist();
    let broken = "package ünï\nimport microapps.schema\n/// Résumé ✓\nrule r on manifest as app {\n  deny when app.spec.auth?.sso == \"é{app.metadata.\n  warn for e in app.spec.endpoints ?? [] when count(e.\n  message \"{to_string(\n";
    host.set_file("broken.warden", broken);
    for path in [
        "rules/identity.warden",
        "broken.warden",
        "tests/identity.warden",
    ] {
        let text = host.text(path).unwrap();
        let boundaries: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        for (n, &at) in boundaries.iter().enumerate() {
            host.hover(path, at);
            host.completions(path, at);
            host.definition(path, at);
            host.signature_help(path, at);
            host.test_stub(path, at);
            if n % 41 == 0 {
                host.references(path, at);
                let _ = host.rename(path, at, "renamed");
                host.fixes(path, warden_diagnostics::TextRange::new(at, at));
            }
        }
        host.highlights(path);
        host.folds(path);
        host.lenses(path);
        host.symbols(path);
        host.format(path);
    }
}

/// Packages may reuse a short name: each use resolves through its own
/// package and imports, and a rename touches only that declaration's uses.
#[test]
fn a_short_name_resolves_through_the_files_package_and_imports() {
    let mut host = AnalysisHost::default();
    host.set_file(
        "s.warden",
        "package s\ntarget manifest: { name: string } default allow\n",
    );
    let a = "package a\nimport s\nfn check(n: string) -> bool = n == \"a\"\n@control(\"A-1\")\nrule r on manifest as m {\n  deny when check(m.name)\n}\n";
    let b = "package b\nimport s\nimport a\nfn check(n: string) -> bool = n == \"b\"\n@control(\"B-1\")\nrule r on manifest as m {\n  deny when check(m.name) or a.check(m.name)\n}\n";
    host.set_file("a.warden", a);
    host.set_file("b.warden", b);
    assert!(
        host.diagnostics()
            .values()
            .flatten()
            .all(|d| !d.diagnostic.is_error())
    );

    let use_in_b = b.find("when check").unwrap() + "when ".len();
    let (file, range) = host.definition("b.warden", use_in_b).unwrap();
    assert_eq!(
        (file.as_str(), range.start as usize),
        ("b.warden", b.find("fn check").unwrap() + 3)
    );
    let qualified = b.find("a.check").unwrap() + 2;
    let (file, _) = host.definition("b.warden", qualified).unwrap();
    assert_eq!(file, "a.warden");
    // The hover of b's rule is b's rule.
    let (hover, _) = host
        .hover("b.warden", b.find("rule r").unwrap() + 5)
        .unwrap();
    assert!(
        hover.contains("`b.r`") && hover.contains("control B-1"),
        "{hover}"
    );

    // Renaming a's `check`: its declaration, its use in a, and `a.check` in b.
    let edits = host
        .rename("a.warden", a.find("fn check").unwrap() + 3, "verify")
        .unwrap();
    let mut places: Vec<(String, usize)> = edits
        .iter()
        .map(|(f, r)| (f.clone(), r.start as usize))
        .collect();
    places.sort();
    assert_eq!(
        places,
        [
            ("a.warden".to_string(), a.find("fn check").unwrap() + 3),
            ("a.warden".to_string(), a.find("when check").unwrap() + 5),
            ("b.warden".to_string(), qualified),
        ]
    );
}
