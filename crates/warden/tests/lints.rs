//! The analyses `warden lint` adds, each on an input it must flag and on
//! look-alikes it must not.

use warden::{PolicySources, Workspace};

const HEAD: &str = "package p\n\ntarget request: { id: string, mfa: bool, action: \"read\" | \"write\", tags: [string], labels: [string], groups: [[string]] } default deny\n\n";

/// The codes `warden lint` reports for a rule body, with their lines.
fn lint(rules: &str) -> Vec<(String, u32)> {
    let text = format!("{HEAD}{rules}");
    let workspace =
        Workspace::from_sources(PolicySources::from_texts([("p.warden", text.as_str())]));
    workspace
        .lint()
        .iter()
        .filter(|d| d.code.to_string() != "W0002" && d.code.to_string() != "W0005")
        .map(|d| {
            let line = workspace.place(d.primary.span).map_or(0, |p| p.line);
            (d.code.to_string(), line)
        })
        .collect()
}

#[test]
fn an_allow_a_deny_of_its_rule_always_overrides_is_flagged() {
    let found = lint(
        "rule r on request as q {\n  deny when q.action == \"write\" and not q.mfa\n  allow when q.action == \"write\"   and   not q.mfa // laid out otherwise\n}\n",
    );
    assert_eq!(found, [("W0008".to_string(), 7)]);
    // Over the same collection, with the same condition.
    let found = lint(
        "rule r on request as q {\n  deny for t in q.tags when t == \"x\"\n  allow for t in q.tags when t == \"x\"\n}\n",
    );
    assert_eq!(found, [("W0008".to_string(), 7)]);
}

#[test]
fn allows_that_can_matter_are_not_flagged() {
    for rules in [
        // Another condition.
        "rule r on request as q {\n  deny when q.action == \"write\" and not q.mfa\n  allow when q.action == \"write\" and q.mfa\n}\n",
        // The same condition over another collection.
        "rule r on request as q {\n  deny for t in q.tags when t == \"x\"\n  allow for t in q.labels when t == \"x\"\n}\n",
        // The same condition once iterated, once not.
        "rule r on request as q {\n  deny for t in q.tags when q.mfa\n  allow when q.mfa\n}\n",
        // A deny of another rule: a rule's own clauses only.
        "rule r on request as q {\n  deny when q.mfa\n}\nrule s on request as q {\n  allow when q.mfa\n}\n",
    ] {
        assert_eq!(lint(rules), [], "{rules}");
    }
}

/// Each rule's cost bound, by name, as `warden lint --cost` prints it.
fn costs(rules: &str) -> Vec<(String, String)> {
    let text = format!("{HEAD}data allowed: [string] = []\n\n{rules}");
    let workspace =
        Workspace::from_sources(PolicySources::from_texts([("p.warden", text.as_str())]));
    let engine = workspace.engine().expect("compiles");
    let mut out: Vec<(String, String)> = engine
        .rule_costs()
        .into_iter()
        .map(|(rule, bound)| (rule, bound.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn a_rule_costs_the_product_of_the_collections_it_walks_nested() {
    let found = costs(concat!(
        "rule flat on request as q {\n  deny when q.action == \"write\" and not q.mfa\n}\n",
        "rule member on request as q {\n  deny when q.id in data.allowed\n}\n",
        "rule nested on request as q {\n  deny for t in q.tags when t in data.allowed\n}\n",
        "rule quantified on request as q {\n  deny when any t in q.tags: any l in q.labels: t == l\n}\n",
        "rule literal on request as q {\n  deny when q.id in [\"a\", \"b\"]\n}\n",
    ));
    assert_eq!(
        found,
        [
            ("p.flat".to_string(), "O(1)".to_string()),
            ("p.literal".to_string(), "O(1)".to_string()),
            ("p.member".to_string(), "O(|data.allowed|)".to_string()),
            (
                "p.nested".to_string(),
                "O(|data.allowed| × |request.tags|)".to_string()
            ),
            (
                "p.quantified".to_string(),
                "O(|request.labels| × |request.tags|)".to_string()
            ),
        ]
    );
}

#[test]
fn calls_nested_past_what_the_analysis_follows_claim_no_bound() {
    // f0 walks its list; each fN calls fN-1, 40 deep: no bound is claimed
    // rather than a constant one.
    let mut functions = String::from("fn f0(xs: [string]) -> bool = any x in xs: x == \"k\"\n");
    for i in 1..40 {
        functions.push_str(&format!("fn f{i}(xs: [string]) -> bool = f{}(xs)\n", i - 1));
    }
    let found = costs(&format!(
        "{functions}rule deep on request as q {{\n  deny when f39(q.tags)\n}}\nrule shallow on request as q {{\n  deny when f5(q.tags)\n}}\n"
    ));
    assert_eq!(
        found,
        [
            ("p.deep".to_string(), "O(?)".to_string()),
            ("p.shallow".to_string(), "O(|request.tags|)".to_string()),
        ]
    );
}

#[test]
fn comparing_or_writing_out_a_collection_counts_its_size() {
    let found = costs(concat!(
        // Two lists compared element by element.
        "rule same on request as q {\n  deny when q.tags == q.labels\n}\n",
        // A list written into a message, and through to_string and join.
        "rule shown on request as q {\n  deny when q.mfa\n    message \"tags {q.tags}\"\n}\n",
        "rule joined on request as q {\n  deny when join(q.tags, \",\") == \"x\" or to_string(q.labels) == \"y\"\n}\n",
        // An element compared whole (here a list of lists' element).
        "rule pairs on request as q {\n  deny for t in q.groups when t == q.labels\n}\n",
        // A text compared and written is one value: no size.
        "rule text on request as q {\n  deny when q.id == \"x\"\n    message \"id {q.id}\"\n}\n",
    ));
    assert_eq!(
        found,
        [
            (
                "p.joined".to_string(),
                "O(|request.labels| + |request.tags|)".to_string()
            ),
            (
                "p.pairs".to_string(),
                "O(|request.groups| × |request.groups[]| + |request.groups| × |request.labels|)"
                    .to_string()
            ),
            (
                "p.same".to_string(),
                "O(|request.labels| + |request.tags|)".to_string()
            ),
            ("p.shown".to_string(), "O(|request.tags|)".to_string()),
            ("p.text".to_string(), "O(1)".to_string()),
        ]
    );
}

#[test]
fn a_waiver_condition_is_counted_once_per_finding_it_may_excuse() {
    let found = costs(concat!(
        "rule per_tag on request as q {\n  deny for t in q.tags when t == \"x\"\n}\n",
        "waiver some_labels for p.per_tag\n  when any l in q.labels: l == \"ok\"\n  until 2099-01-01\n  reason \"labelled requests are reviewed elsewhere\"\n  approved_by \"secops@acme.example\"\n",
    ));
    assert_eq!(
        found,
        [(
            "p.per_tag".to_string(),
            "O(|request.labels| × |request.tags|)".to_string()
        )]
    );
}
