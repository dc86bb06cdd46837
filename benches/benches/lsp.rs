//! `cargo bench -p warden-benches --bench lsp`: what an editor waits for on a
//! 5,000-line policy set: a one-character edit until its diagnostics are
//! ready, completion after `app.`, and opening the whole set; beside them,
//! parsing the edited file alone (the floor any answer pays), measured in
//! the same run.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use warden_ide::AnalysisHost;

/// A schema and 50 rule files of about 100 lines each.
fn policy_set() -> Vec<(String, String)> {
    let mut files = vec![(
        "schema.warden".to_string(),
        "package s\n\ntype App = {\n  name: string,\n  owner?: string,\n  tier: \"low\" | \"medium\" | \"high\",\n  tags: [string],\n  spec: { auth: { sso: string, mfa: bool }, endpoints: [{ url: string, tls: string }] },\n  ...\n}\n\ntarget manifest: App default allow\n"
            .to_string(),
    )];
    for f in 0..50 {
        let mut text = format!("package rules{f}\nimport s\n");
        for r in 0..10 {
            text.push_str(&format!(
                "\n/// Rule {r} of file {f}.\n@control(\"C-{f}-{r}\") @severity(medium)\nrule r{r} on manifest as app {{\n  let owner = app.owner ?? \"nobody\"\n  deny when app.spec.auth.sso == \"none\" and app.tier != \"low\"\n    message \"{{app.name}} needs SSO (owner {{owner}})\"\n  deny for ep in app.spec.endpoints when ep.tls != \"1.3\"\n    message \"{{ep.url}} accepts TLS {{ep.tls}}\"\n}}\n"
            ));
        }
        files.push((format!("rules{f}.warden"), text));
    }
    files
}

fn editor(c: &mut Criterion) {
    let files = policy_set();
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    assert!(lines >= 5_000, "{lines} lines");
    let mut host = AnalysisHost::default();
    for (path, text) in &files {
        host.set_file(path, text);
    }
    // Hygiene warnings (no tests name these rules) are expected; errors are not.
    assert!(
        host.diagnostics()
            .values()
            .flatten()
            .all(|d| !d.diagnostic.is_error())
    );
    let (path, text) = files[25].clone();
    let edited = text.replacen("needs SSO", "needs SSO!", 1);
    let at = text.find("deny when app.").unwrap() + "deny when app.".len();

    let mut group = c.benchmark_group("lsp_5000_lines");
    let mut flip = false;
    group.bench_function("edit_to_diagnostics", |b| {
        b.iter(|| {
            flip = !flip;
            host.set_file(&path, if flip { &edited } else { &text });
            black_box(host.diagnostics())
        })
    });
    group.bench_function("completion_after_dot", |b| {
        b.iter(|| black_box(host.completions(&path, at)))
    });
    // Opening the workspace: every file parsed and checked from nothing.
    group.bench_function("open_whole_set", |b| {
        b.iter(|| {
            let mut fresh = AnalysisHost::default();
            for (path, text) in &files {
                fresh.set_file(path, text);
            }
            black_box(fresh.diagnostics().len())
        })
    });
    group.bench_function("parse_edited_file", |b| {
        b.iter(|| warden_syntax_parse(black_box(&edited)))
    });
    group.finish();
}

fn warden_syntax_parse(text: &str) -> usize {
    warden_syntax::parse(warden_diagnostics::FileId(0), text)
        .tree()
        .items
        .len()
}

criterion_group!(benches, editor);
criterion_main!(benches);
