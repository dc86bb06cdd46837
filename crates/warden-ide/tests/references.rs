//! References: a fixture per case, the cursor at `$0`, every place found
//! (the declaration first) as `path:line:column `text``.

mod support;

use expect_test::{Expect, expect};
use support::{SCHEMA, fixture, place, rule};

fn check(text: &str, expected: Expect) {
    let (host, path, offset) = fixture(text);
    let found: Vec<String> = host
        .references(&path, offset)
        .into_iter()
        .map(|(file, range)| place(&host, &file, range))
        .collect();
    expected.assert_eq(&found.join("\n"));
}

#[test]
fn a_field_of_an_inline_record_type() {
    check(
        &rule("  deny when app.inline.s$0so == false\n  warn when app.inline.sso and app.auth.sso"),
        expect![[r#"
            schema.warden:10:13 `sso`
            rules.warden:4:24 `sso`
            rules.warden:5:24 `sso`"#]],
    );
}

#[test]
fn a_field_of_a_for_element_from_its_declaration() {
    check(
        &format!(
            "{}//- rules.warden\npackage r\nimport s\nrule x on manifest as app {{\n  deny for e in app.endpoints when e.tls_min_version != \"1.3\"\n  message \"{{e.tls_min_version}} on {{e.url}}\"\n}}\n",
            SCHEMA.replace("tls_min_version:", "tls_min_v$0ersion:")
        ),
        expect![[r#"
            schema.warden:11:30 `tls_min_version`
            rules.warden:4:38 `tls_min_version`
            rules.warden:5:15 `tls_min_version`"#]],
    );
}

#[test]
fn a_for_element() {
    check(
        &rule("  deny for e$0 in app.endpoints when e.url == \"\" or e.tls_min_version == \"1.2\""),
        expect![[r#"
            rules.warden:4:12 `e`
            rules.warden:4:36 `e`
            rules.warden:4:51 `e`"#]],
    );
}

#[test]
fn a_let_stays_in_its_rule() {
    check(
        &format!(
            "{}//- rules.warden\npackage r\nimport s\nrule x on manifest as app {{\n  let n$0 = app.name\n  deny when n == \"\"\n}}\nrule y on manifest as app {{\n  let n = app.name\n  deny when n == \"x\"\n}}\n",
            SCHEMA
        ),
        expect![[r#"
            rules.warden:4:7 `n`
            rules.warden:5:13 `n`"#]],
    );
}

#[test]
fn a_function_through_an_import() {
    check(
        &rule("  deny when s.bl$0ank(app.name) or blank(app.name)"),
        expect![[r#"
            schema.warden:14:4 `blank`
            rules.warden:4:15 `blank`
            rules.warden:4:34 `blank`"#]],
    );
}

#[test]
fn a_package_in_its_imports_and_qualified_names() {
    check(
        &rule("  deny when s.blank(app.name)").replace("import s", "import s$0"),
        expect![[r#"
            schema.warden:1:9 `s`
            rules.warden:2:8 `s`
            rules.warden:4:13 `s`"#]],
    );
}

#[test]
fn a_type_in_type_expressions() {
    check(
        &format!("{SCHEMA}//- more.warden\npackage m\nimport s\ntype Wrapped = {{ a: s.Auth, b: [Auth] }}\n")
            .replace("type Auth", "type Au$0th"),
        expect![[r#"
            schema.warden:2:6 `Auth`
            more.warden:3:23 `Auth`
            more.warden:3:33 `Auth`
            schema.warden:9:9 `Auth`"#]],
    );
}

#[test]
fn a_rule_named_by_a_waiver_and_a_test() {
    check(
        &format!(
            "{}//- waivers.warden\npackage w\nwaiver legacy for r.x {{\n  reason: \"old\"\n  owner: \"a@b.c\"\n  expires: 2027-01-01\n}}\ntest t {{\n  given manifest = {{ name: \"a\", auth: {{ sso: true, mfa: true }}, inline: {{ sso: true }}, endpoints: [] }}\n  expect not deny r.x\n}}\n",
            rule("  deny when app.name == \"\"").replace("rule x", "rule $0x")
        ),
        expect![[r#"
            rules.warden:3:6 `x`
            waivers.warden:2:21 `x`
            waivers.warden:9:21 `x`"#]],
    );
}

#[test]
fn a_built_in_has_uses_but_no_declaration() {
    check(
        &rule("  deny when cou$0nt(app.endpoints) == 0 or count(app.name) > 9"),
        expect![[r#"
            rules.warden:4:13 `count`
            rules.warden:4:42 `count`"#]],
    );
}
