//! Rename: a fixture per case, the cursor at `$0`, the edits (or why
//! not) as `path:line:column `old text``.

mod support;

use expect_test::{Expect, expect};
use support::{fixture, place, rule};

fn check(text: &str, new_name: &str, expected: Expect) {
    let (host, path, offset) = fixture(text);
    let found = match host.rename(&path, offset, new_name) {
        Ok(edits) => edits
            .into_iter()
            .map(|(file, range)| place(&host, &file, range))
            .collect::<Vec<_>>()
            .join("\n"),
        Err(why) => format!("refused: {why}"),
    };
    expected.assert_eq(&found);
}

#[test]
fn a_field_of_a_named_type_and_its_uses() {
    check(
        &rule("  deny when not app.auth.s$0so"),
        "single_sign_on",
        expect![[r#"
        schema.warden:4:3 `sso`
        rules.warden:4:26 `sso`"#]],
    );
}

#[test]
fn a_binding_in_interpolations() {
    check(
        &rule(
            "  deny for e$0 in app.endpoints when e.url == \"\"\n  message \"{e.url} has no address\"",
        ),
        "endpoint",
        expect![[r#"
            rules.warden:4:12 `e`
            rules.warden:4:36 `e`
            rules.warden:5:13 `e`"#]],
    );
}

#[test]
fn a_package_as_a_whole_path() {
    check(
        &rule("  deny when s.blank(app.name)").replace("package s", "package s$0"),
        "acme.schema",
        expect![[r#"
            schema.warden:1:9 `s`
            rules.warden:2:8 `s`
            rules.warden:4:13 `s`"#]],
    );
}

#[test]
fn not_to_a_name_the_rule_already_uses() {
    // `let v = …` beside it: the renamed `w` would shadow it, and
    // `w == v` would become `v == v`, which compiles.
    let text = rule("  let w$0 = app.name\n  let v = \"a\"\n  deny when w == v");
    check(
        &text,
        "v",
        expect![
            "refused: `v` is already used in this declaration (line 5): the renamed binding would change what a name refers to"
        ],
    );
    check(
        &text,
        "app",
        expect![
            "refused: `app` is already used in this declaration (line 3): the renamed binding would change what a name refers to"
        ],
    );
    // A use only in a message's interpolation counts as much.
    check(
        &rule("  let w$0 = app.name\n  let v = \"a\"\n  deny when w == \"\"\n  message \"{v}\""),
        "v",
        expect![
            "refused: `v` is already used in this declaration (line 5): the renamed binding would change what a name refers to"
        ],
    );
    // A name used only as a field (`app.name`) is no clash: both places.
    let field_only = rule("  let n$0 = app.name\n  deny when n == app.name");
    check(
        &field_only,
        "name",
        expect!["rules.warden:4:7 `n`\nrules.warden:5:13 `n`"],
    );
}

#[test]
fn not_to_a_keyword() {
    check(
        &rule("  let n$0 = app.name\n  deny when n == \"\""),
        "deny",
        expect!["refused: `deny` is not a name (letters, digits and `_`, not a keyword)"],
    );
}

#[test]
fn not_a_built_in() {
    check(
        &rule("  deny when cou$0nt(app.endpoints) == 0"),
        "size",
        expect!["refused: there is no declaration here to rename"],
    );
}

const WAIVER: &str = "\nwaiver w for x\n  when app.name == \"legacy\"\n  until 2027-03-01\n  reason \"r\"\n  approved_by \"a\"\n";

#[test]
fn a_rule_input_with_the_waivers_that_read_it() {
    // The waiver's condition reads the rule's input by its name: renamed
    // with it.
    check(
        &format!(
            "{}{WAIVER}",
            rule("  deny when app.name == \"\"").replace("as app", "as a$0pp")
        ),
        "m",
        expect![[r#"
            rules.warden:3:23 `app`
            rules.warden:4:13 `app`
            rules.warden:8:8 `app`"#]],
    );
    // A name the waiver already uses is refused as one the rule uses.
    check(
        &format!(
            "{}{}",
            rule("  deny when app.name == \"\"").replace("as app", "as a$0pp"),
            WAIVER.replace(
                "app.name == \"legacy\"",
                "app.name == \"legacy\" and s.blank(\"\")"
            )
        ),
        "s",
        expect![
            "refused: `s` is already used in this declaration (line 8): the renamed binding would change what a name refers to"
        ],
    );
    // A waiver in another file is out of the rename's reach: refused.
    check(
        &format!(
            "{}//- waivers.warden\npackage r\n{WAIVER}",
            rule("  deny when app.name == \"\"").replace("as app", "as a$0pp")
        ),
        "m",
        expect![
            "refused: the waiver `r.w` in another file reads this rule's input by its name; rename it there too, or rename from here once they share a file"
        ],
    );
}
