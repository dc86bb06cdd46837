//! Semantic highlighting: each name of a fixture with the colour its
//! meaning gives it (`text: Kind`), keywords, literals and operators left out.

mod support;

use expect_test::{Expect, expect};
use support::{SCHEMA, fixture, rule};
use warden_ide::Highlight;

fn check(text: &str, expected: Expect) {
    let (host, path, _) = fixture(text);
    let source = host.text(&path).unwrap();
    let found: Vec<String> = host
        .highlights(&path)
        .into_iter()
        .filter(|(_, h)| {
            !matches!(
                h,
                Highlight::Keyword
                    | Highlight::Comment
                    | Highlight::String
                    | Highlight::Number
                    | Highlight::Operator
            )
        })
        .map(|(range, h)| format!("{}: {h:?}", &source[range.as_range()]))
        .collect();
    expected.assert_eq(&found.join("\n"));
}

#[test]
fn names_by_meaning() {
    check(
        &format!(
            "{}$0",
            rule(
                "  let n = app.name\n  deny for e in app.endpoints when s.blank(n) or count(e.url) == 0 or \"eu\" in data.regions"
            )
        ),
        expect![[r#"
            r: Namespace
            s: Namespace
            x: Function
            manifest: Type
            app: Variable
            n: Variable
            app: Variable
            name: Property
            e: Variable
            app: Variable
            endpoints: Property
            s: Namespace
            blank: Function
            n: Variable
            count: Function
            e: Variable
            url: Property
            regions: Variable"#]],
    );
}

#[test]
fn declarations_and_type_expressions() {
    check(
        &SCHEMA.replacen("package s", "package s$0", 1),
        expect![[r#"
        s: Namespace
        Auth: Type
        sso: Property
        bool: Type
        mfa: Property
        bool: Type
        manifest: Type
        name: Property
        string: Type
        auth: Property
        Auth: Type
        inline: Property
        sso: Property
        bool: Type
        mfa: Property
        bool: Type
        endpoints: Property
        url: Property
        string: Type
        tls_min_version: Property
        regions: Variable
        string: Type
        blank: Function
        s: Variable
        string: Type
        bool: Type
        s: Variable"#]],
    );
}

fn signature(text: &str, expected: Expect) {
    let (host, path, offset) = fixture(text);
    let found = match host.signature_help(&path, offset) {
        Some((signature, argument)) => format!("{signature} · argument {argument}"),
        None => "none".to_string(),
    };
    expected.assert_eq(&found);
}

#[test]
fn signature_help_by_what_the_call_means() {
    signature(
        &rule("  deny when starts_with(app.name, $0\"x\")"),
        expect!["starts_with(s: string, prefix: string) -> bool · argument 1"],
    );
    // A function of the set, called by its package's name.
    signature(
        &rule("  deny when s.blank($0app.name)"),
        expect!["fn blank(s: string) -> bool · argument 0"],
    );
    // Still being typed: the call is not closed yet.
    signature(
        &rule("  deny when count(app.endpoints$0"),
        expect![
            "count(xs: [T] | {string: T} | string) -> int: the number of elements or characters · argument 0"
        ],
    );
    // A name that calls nothing: a binding is not a function.
    signature(
        &rule("  let f = app.name\n  deny when f($0)"),
        expect!["none"],
    );
}
