//! The syntax corpus: every `tests/syntax/ok/*.warden` parses with no
//! diagnostics, every `tests/syntax/err/*.warden` with at least one, and each
//! file's diagnostics plus the printed tree match the `.snap` beside it
//! (`UPDATE_EXPECT=1` rewrites them). Spans are checked on every case.

use datatest_stable::Utf8Path;
use warden_diagnostics::{FileId, TextRange};
use warden_syntax::ast::*;
use warden_syntax::print::print_file;

fn check_ok(path: &Utf8Path, text: String) -> datatest_stable::Result<()> {
    let parse = check_common(path, &text)?;
    if !parse.diagnostics().is_empty() {
        return Err(format!(
            "{path}: expected no diagnostics, got {:#?}",
            parse.diagnostics()
        )
        .into());
    }
    // A valid file prints to text that parses to the same print.
    let printed = print_file(parse.tree());
    let reparsed = warden_syntax::parse(FileId(0), &printed);
    if !reparsed.diagnostics().is_empty() {
        return Err(format!(
            "{path}: printed form does not parse:\n{printed}\n{:#?}",
            reparsed.diagnostics()
        )
        .into());
    }
    assert_eq!(
        print_file(reparsed.tree()),
        printed,
        "{path}: printing is not idempotent"
    );
    Ok(())
}

fn check_err(path: &Utf8Path, text: String) -> datatest_stable::Result<()> {
    let parse = check_common(path, &text)?;
    if !parse.has_errors() {
        return Err(format!("{path}: expected at least one syntax error").into());
    }
    Ok(())
}

fn check_common(path: &Utf8Path, text: &str) -> datatest_stable::Result<warden_syntax::Parse> {
    let parse = warden_syntax::parse(FileId(0), text);
    // Tokens tile the text: lossless.
    let joined: String = parse
        .tokens()
        .iter()
        .map(|t| &text[t.range.as_range()])
        .collect();
    assert_eq!(joined, text, "{path}: tokens do not tile the text");
    for d in parse.diagnostics() {
        let r = d.primary.span.range;
        assert!(
            r.end as usize <= text.len(),
            "{path}: diagnostic span {r:?} outside the text"
        );
    }
    validate_tree(path, text, parse.tree());
    let mut snapshot = String::new();
    for d in parse.diagnostics() {
        let r = d.primary.span.range;
        snapshot.push_str(&format!(
            "{} {}..{} {:?}: {}",
            d.code,
            r.start,
            r.end,
            &text[r.as_range()],
            d.message
        ));
        if !d.primary.message.is_empty() {
            snapshot.push_str(&format!(" ({})", d.primary.message));
        }
        if let Some(help) = &d.help {
            snapshot.push_str(&format!("\n  help: {help}"));
        }
        snapshot.push('\n');
    }
    snapshot.push_str("--- printed\n");
    snapshot.push_str(&print_file(parse.tree()));
    let snap_path = std::path::absolute(path.with_extension("snap")).expect("absolute path");
    expect_test::expect_file![snap_path].assert_eq(&snapshot);
    Ok(parse)
}

/// Every node lies inside the text and inside its parent.
fn validate_tree(path: &Utf8Path, text: &str, file: &SourceFile) {
    let whole = TextRange::new(0, text.len());
    for item in &file.items {
        inside(path, whole, item.range);
        match &item.kind {
            ItemKind::Rule(rule) => {
                for stmt in &rule.body {
                    match stmt {
                        RuleStmt::Let(l) => {
                            inside(path, item.range, l.range);
                            walk_expr(path, l.range, &l.value);
                        }
                        RuleStmt::Clause(c) => {
                            inside(path, item.range, c.range);
                            if let Some(cond) = &c.condition {
                                walk_expr(path, c.range, cond);
                            }
                            if let Some(it) = &c.iteration {
                                walk_expr(path, c.range, &it.collection);
                            }
                            for o in &c.obligations {
                                walk_expr(path, c.range, &o.value);
                            }
                            if let Some(m) = &c.message {
                                for part in &m.parts {
                                    if let TemplatePart::Expr(e) = part {
                                        walk_expr(path, m.range, e);
                                    }
                                }
                            }
                        }
                        RuleStmt::Error(r) => inside(path, item.range, *r),
                    }
                }
            }
            ItemKind::Fn(f) => walk_expr(path, item.range, &f.body),
            ItemKind::Data(d) => {
                if let Some(e) = &d.default {
                    walk_expr(path, item.range, e)
                }
            }
            _ => {}
        }
    }
}

fn walk_expr(path: &Utf8Path, parent: TextRange, expr: &Expr) {
    inside(path, parent, expr.range);
    let r = expr.range;
    match &expr.kind {
        ExprKind::Field { base, .. } => walk_expr(path, r, base),
        ExprKind::Index { base, index, .. } => {
            walk_expr(path, r, base);
            walk_expr(path, r, index);
        }
        ExprKind::Call { callee, args } => {
            walk_expr(path, r, callee);
            args.iter().for_each(|a| walk_expr(path, r, a));
        }
        ExprKind::Unary { operand, .. } => walk_expr(path, r, operand),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk_expr(path, r, lhs);
            walk_expr(path, r, rhs);
            assert!(
                lhs.range.end <= rhs.range.start,
                "{path}: operands out of order"
            );
        }
        ExprKind::Has(e) | ExprKind::Paren(e) => walk_expr(path, r, e),
        ExprKind::If {
            condition,
            then_branch,
            else_branch,
        } => {
            for e in [condition, then_branch, else_branch] {
                walk_expr(path, r, e);
            }
        }
        ExprKind::Quantifier {
            collection, body, ..
        } => {
            walk_expr(path, r, collection);
            walk_expr(path, r, body);
        }
        ExprKind::List(items) => items.iter().for_each(|e| walk_expr(path, r, e)),
        ExprKind::Record(entries) => entries.iter().for_each(|(_, e)| walk_expr(path, r, e)),
        ExprKind::Comprehension {
            element,
            collection,
            filter,
            ..
        } => {
            walk_expr(path, r, element);
            walk_expr(path, r, collection);
            if let Some(f) = filter {
                walk_expr(path, r, f);
            }
        }
        ExprKind::Literal(_) | ExprKind::Name(_) | ExprKind::Data | ExprKind::Error => {}
    }
}

fn inside(path: &Utf8Path, parent: TextRange, child: TextRange) {
    assert!(
        parent.contains_range(child),
        "{path}: node {child:?} is not inside its parent {parent:?}"
    );
}

datatest_stable::harness! {
    { test = check_ok, root = "../../tests/syntax/ok", pattern = r"\.warden$" },
    { test = check_err, root = "../../tests/syntax/err", pattern = r"\.warden$" },
}
