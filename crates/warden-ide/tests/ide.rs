//! The editor's queries over the checklist itself.

use warden_ide::{AnalysisHost, CompletionKind};

fn checklist() -> AnalysisHost {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-policies");
    let mut host = AnalysisHost::default();
    let mut schemas = std::collections::BTreeMap::new();
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
            } else if relative.ends_with(".json") {
                schemas.insert(relative, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    host.set_schemas(schemas);
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
fn editing_one_file_reparses_only_that_file() {
    let mut host = AnalysisHost::with_query_log();
    host.set_file(
        "a.warden",
        "package a\ntarget manifest: { name: string } default allow\n",
    );
    host.set_file(
        "b.warden",
        "package b\n@control(\"X-1\")\nrule r on manifest as m {\n  deny when m.name == \"x\"\n}\n",
    );
    host.diagnostics();
    host.take_query_log();
    host.set_file(
        "b.warden",
        "package b\n@control(\"X-1\")\nrule r on manifest as m {\n  deny when m.name == \"y\"\n}\n",
    );
    host.diagnostics();
    let log = host.take_query_log();
    let parses: Vec<&String> = log.iter().filter(|q| q.starts_with("parse_file")).collect();
    assert_eq!(
        parses.len(),
        1,
        "only the edited file is parsed again: {log:?}"
    );
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
