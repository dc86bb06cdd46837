//! Hover: a fixture per case, the cursor at `$0`, the markdown shown.

mod support;

use expect_test::{Expect, expect};
use support::fixture;

fn check(text: &str, expected: Expect) {
    let (host, path, offset) = fixture(text);
    let found = host
        .hover(&path, offset)
        .map(|(markdown, _)| markdown)
        .unwrap_or_else(|| "nothing".into());
    expected.assert_eq(&found);
}

const SCHEMA: &str = r#"
//- schema.warden
package s
type Auth = {
  /// Sign-in goes through the corporate identity provider.
  sso: bool,
}
target manifest: {
  name: string,
  auth: Auth,
  inline: { sso: bool, mfa: bool? },
  endpoints: [{ url: string, tls_min_version: string }],
} default allow
"#;

fn rule(body: &str) -> String {
    format!(
        "{SCHEMA}//- rules.warden\npackage r\nimport s\nrule x on manifest as app {{\n{body}\n}}\n"
    )
}

#[test]
fn a_documented_field() {
    check(
        &rule("  deny when app.auth.s$0so == false"),
        expect![[r#"
            ```warden
            sso: bool
            ```

            Sign-in goes through the corporate identity provider."#]],
    );
}

#[test]
fn an_optional_field_of_an_inline_record() {
    check(
        &rule("  deny when app.inline.m$0fa == false"),
        expect![[r#"
            ```warden
            mfa: bool?
            ```"#]],
    );
}

#[test]
fn a_for_element_is_a_record_of_the_list() {
    check(
        &rule("  deny for e in app.endpoints when $0e.url == \"\""),
        expect![[r#"
            ```warden
            e: { url: string, tls_min_version: string }
            ```"#]],
    );
}

#[test]
fn a_let_takes_its_value_type() {
    check(
        &rule("  let n = [app.name]\n  deny when count($0n) == 0"),
        expect![[r#"
            ```warden
            n: [string]
            ```"#]],
    );
}

#[test]
fn the_input_shows_the_target_type() {
    check(
        &rule("  deny when ap$0p.name == \"\""),
        expect![[r#"
            ```warden
            app: { name: string, auth: Auth, inline: { sso: bool, mfa: bool? }, endpoints: [{ url: string, tls_min_version: string }] }
            ```"#]],
    );
}

#[test]
fn a_rule_shows_its_cost_bound() {
    check(
        &format!(
            "{SCHEMA}//- rules.warden\npackage r\nimport s\n/// Every endpoint has a URL.\nrule x$0 on manifest as app {{\n  deny for e in app.endpoints when e.url == \"\"\n}}\n"
        ),
        expect![[r#"
            ```warden
            rule x on manifest
            ```

            `r.x` · severity medium · cost O(|manifest.endpoints|)

            Every endpoint has a URL."#]],
    );
}
