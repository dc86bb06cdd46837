//! Completion: a fixture per case, the cursor at `$0`, the items offered
//! (label, kind, detail) as one line each; keywords and built-ins left out
//! where the case is about names.

mod support;

use expect_test::{Expect, expect};
use support::{fixture, rule};
use warden_ide::CompletionKind;

fn check(text: &str, expected: Expect) {
    let (host, path, offset) = fixture(text);
    let found: Vec<String> = host
        .completions(&path, offset)
        .into_iter()
        .filter(|c| {
            let built_in = c.kind == CompletionKind::Function && c.snippet.is_some();
            c.kind != CompletionKind::Keyword && !built_in
        })
        .map(|c| {
            let replaced = c
                .replace_from
                .map(|from| format!(" (from {from})"))
                .unwrap_or_default();
            format!(
                "{:?} {}{}{replaced}",
                c.kind,
                c.label,
                c.detail.map(|d| format!(": {d}")).unwrap_or_default()
            )
        })
        .collect();
    expected.assert_eq(&found.join("\n"));
}

#[test]
fn fields_of_an_inline_record_type() {
    check(
        &rule("  deny when app.inline.$0"),
        expect![[r#"
        Field sso: bool
        Field mfa: bool?"#]],
    );
}

#[test]
fn fields_of_a_for_element() {
    check(
        &rule("  deny for e in app.endpoints when e.$0"),
        expect![[r#"
        Field url: string
        Field tls_min_version: "1.2" | "1.3""#]],
    );
}

#[test]
fn fields_through_an_optional_chain_of_a_let() {
    check(
        &rule("  let a = app.auth\n  deny when a?.$0"),
        expect![[r#"
        Field sso: bool
        Field mfa: bool"#]],
    );
}

#[test]
fn members_of_a_union_in_a_comparison() {
    check(
        &rule("  deny for e in app.endpoints when e.tls_min_version == \"$0"),
        expect![[r#"
            EnumMember "1.2": "1.2" | "1.3" (from 103)
            EnumMember "1.3": "1.2" | "1.3" (from 103)"#]],
    );
}

#[test]
fn packages_after_import() {
    check(
        &rule("  deny when false").replace("import s", "import $0"),
        expect!["Package s (from 17)"],
    );
}

#[test]
fn rules_where_a_test_expects_one() {
    check(
        &format!(
            "{}//- t.warden\npackage t\nimport s\ntest a {{\n  given manifest = {{ name: \"a\", auth: {{ sso: true, mfa: true }}, inline: {{ sso: true }}, endpoints: [] }}\n  expect deny $0\n}}\n",
            rule("  deny when app.name == \"\"")
        ),
        expect!["Rule r.x: severity medium (from 145)"],
    );
}

#[test]
fn bindings_in_scope_and_declarations() {
    check(
        &rule("  let n = app.name\n  deny when $0"),
        expect![[r#"
        Rule x
        Type Auth
        Data regions
        Function blank
        Variable app: { name: string, auth: Auth, inline: { sso: bool, mfa: bool? }, endpoints: [{ url: string, tls_min_version: "1.2" | "1.3" }] }
        Variable n: string"#]],
    );
}

#[test]
fn data_documents_after_data() {
    check(
        &rule("  deny when data.$0"),
        expect!["Data regions: [string]"],
    );
}
