//! Go to definition, for every kind of name: a fixture per case, the
//! cursor at `$0`, the declaration found as `path:line:column `name``.

mod support;

use expect_test::{Expect, expect};
use support::{fixture, place};

fn check(text: &str, expected: Expect) {
    let (host, path, offset) = fixture(text);
    let found = host
        .definition(&path, offset)
        .map(|(file, range)| place(&host, &file, range))
        .unwrap_or_else(|| "no definition".into());
    expected.assert_eq(&found);
}

const SCHEMA: &str = r#"
//- schema.warden
package s
type Auth = { sso: bool, mfa: bool }
target manifest: {
  name: string,
  auth: Auth,
  inline: { sso: bool, mfa: bool },
  endpoints: [{ url: string, tls_min_version: string }],
} default allow
data regions: [string] = ["eu"]
"#;

fn with_schema(rules: &str) -> String {
    format!("{SCHEMA}//- rules.warden\n{rules}")
}

#[test]
fn a_field_of_a_named_record_type() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on manifest as app {\n  deny when app.auth.s$0so == false\n}\n",
        ),
        expect!["schema.warden:2:15 `sso`"],
    );
}

#[test]
fn a_field_of_an_inline_record_type() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on manifest as app {\n  deny when app.inline.m$0fa == false\n}\n",
        ),
        expect!["schema.warden:6:24 `mfa`"],
    );
}

#[test]
fn a_field_of_a_for_element() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on manifest as app {\n  deny for e in app.endpoints when e.tls$0_min_version != \"1.3\"\n}\n",
        ),
        expect!["schema.warden:7:30 `tls_min_version`"],
    );
}

#[test]
fn a_for_element() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on manifest as app {\n  deny for e in app.endpoints when $0e.url == \"\"\n}\n",
        ),
        expect!["rules.warden:4:12 `e`"],
    );
}

#[test]
fn the_rule_input() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on manifest as app {\n  deny when ap$0p.name == \"\"\n}\n",
        ),
        expect!["rules.warden:3:23 `app`"],
    );
}

#[test]
fn a_let() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on manifest as app {\n  let n = app.name\n  deny when $0n == \"\"\n}\n",
        ),
        expect!["rules.warden:4:7 `n`"],
    );
}

#[test]
fn a_field_of_a_record_literal() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on manifest as app {\n  let pair = { first: app.name }\n  deny when pair.fi$0rst == \"\"\n}\n",
        ),
        expect!["rules.warden:4:16 `first`"],
    );
}

#[test]
fn a_function_through_an_import() {
    check(
        &format!(
            "{SCHEMA}//- lib.warden\npackage util.text\nfn blank(s: string) -> bool = s == \"\"\n//- rules.warden\npackage r\nimport s\nimport util.text as t\nrule x on manifest as app {{\n  deny when t.bl$0ank(app.name)\n}}\n"
        ),
        expect!["lib.warden:2:4 `blank`"],
    );
}

#[test]
fn a_parameter_in_a_function_body() {
    check(
        "//- lib.warden\npackage l\nfn blank(s: string) -> bool = $0s == \"\"\n",
        expect!["lib.warden:2:10 `s`"],
    );
}

#[test]
fn a_type_name_in_a_type_expression() {
    check(
        "//- lib.warden\npackage l\ntype Auth = { sso: bool }\ntype App = { auth: Au$0th }\n",
        expect!["lib.warden:2:6 `Auth`"],
    );
}

#[test]
fn a_data_document() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on manifest as app {\n  deny when not (\"eu\" in data.reg$0ions)\n}\n",
        ),
        expect!["schema.warden:9:6 `regions`"],
    );
}

#[test]
fn the_target_of_a_rule() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on mani$0fest as app {\n  deny when app.name == \"\"\n}\n",
        ),
        expect!["schema.warden:3:8 `manifest`"],
    );
}

#[test]
fn the_rule_a_waiver_names() {
    check(
        &with_schema(
            "package r\nimport s\nrule x on manifest as app {\n  deny when app.name == \"\"\n}\nwaiver w for r.$0x\n  until 2027-01-01\n  reason \"r\"\n  approved_by \"a\"\n",
        ),
        expect!["rules.warden:3:6 `x`"],
    );
}

#[test]
fn a_package_an_import_names() {
    check(
        &with_schema(
            "package r\nimport $0s\nrule x on manifest as app {\n  deny when app.name == \"\"\n}\n",
        ),
        expect!["schema.warden:1:9 `s`"],
    );
}
