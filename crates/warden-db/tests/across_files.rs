//! Checking file by file keeps what the set as a whole decides: a rule, test
//! or waiver declared again in another file of the same package is reported
//! there (and only the first kept), and tests and waivers resolve rules of
//! other files.

use std::sync::Arc;

const A: &str = r#"package p
target manifest: { name: string } default allow
@control("X-1")
rule r on manifest as app {
  deny when app.name == "x"
}
test t {
  given manifest = { name: "x" }
  expect deny p.r
}
waiver w for r when app.name == "x" until 2030-01-01 reason "known" approved_by "sec"
"#;

const B: &str = r#"package p
@control("X-2")
rule r on manifest as m {
  warn when m.name == "y"
}
test t {
  given manifest = { name: "y" }
  expect allow
}
waiver w for p.r until 2030-01-01 reason "again" approved_by "sec"
test u {
  given manifest = { name: "x" }
  expect deny r
}
"#;

#[test]
fn duplicates_across_files_are_reported_where_they_repeat() {
    let db = warden_db::Database::default();
    let a = db.add_file("a.warden", A);
    let b = db.add_file("b.warden", B);
    let set = warden_db::PolicySet::new(&db, vec![a, b], Arc::default(), false);
    let compiled = warden_db::compile(&db, set);
    let found: Vec<(String, String)> = compiled
        .diagnostics
        .iter()
        .map(|d| {
            let text = if d.primary.span.file == b.id(&db) {
                B
            } else {
                A
            };
            (
                d.code.to_string(),
                text[d.primary.span.range.start as usize..d.primary.span.range.end as usize]
                    .to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [("E0103", "r"), ("E0103", "t"), ("E0103", "w")]
        .iter()
        .map(|(c, t)| (c.to_string(), t.to_string()))
        .collect();
    assert_eq!(found, expected, "{:#?}", compiled.diagnostics);
    assert!(
        compiled
            .diagnostics
            .iter()
            .all(|d| d.primary.span.file == b.id(&db))
    );
    let program = &compiled.program;
    assert_eq!(
        program
            .rules
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["p.r"]
    );
    assert_eq!(program.rules[0].clauses.len(), 1, "the first `r` is kept");
    assert_eq!(
        compiled
            .tests
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["p.t", "p.u"]
    );
    assert_eq!(program.waivers.len(), 1);
    assert_eq!(program.waivers[0].reason, "known");
    assert_eq!(program.target(program.rules[0].target).rules.len(), 1);
}

/// As when the set was checked as a whole: a repeated test or waiver is
/// reported once, as a repeat, whatever else is wrong with it; a waiver
/// whose rule does not exist holds no name.
#[test]
fn a_repeat_is_only_a_repeat_and_a_broken_waiver_holds_no_name() {
    let a =
        format!("{A}waiver ghost for nothing until 2030-01-01 reason \"x\" approved_by \"sec\"\n");
    let b = r#"package p
test t {
  given manifest = { nmae: 1 }
  expect deny nowhere
}
waiver w for nowhere reason "no until either"
waiver ghost for r until 2030-01-01 reason "real" approved_by "sec"
"#;
    let db = warden_db::Database::default();
    let fa = db.add_file("a.warden", a.as_str());
    let fb = db.add_file("b.warden", b);
    let set = warden_db::PolicySet::new(&db, vec![fa, fb], Arc::default(), false);
    let compiled = warden_db::compile(&db, set);
    let found: Vec<(String, &str, String)> = compiled
        .diagnostics
        .iter()
        .map(|d| {
            let (file, text) = if d.primary.span.file == fb.id(&db) {
                ("b", b)
            } else {
                ("a", a.as_str())
            };
            (
                d.code.to_string(),
                file,
                text[d.primary.span.range.start as usize..d.primary.span.range.end as usize]
                    .to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, &str, String)> = [
        ("E0109", "a", "nothing"),
        ("E0103", "b", "t"),
        ("E0103", "b", "w"),
    ]
    .iter()
    .map(|(c, f, t)| (c.to_string(), *f, t.to_string()))
    .collect();
    assert_eq!(found, expected, "{:#?}", compiled.diagnostics);
    let waivers: Vec<&str> = compiled
        .program
        .waivers
        .iter()
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(waivers, ["p.w", "p.ghost"]);
}
