//! The clause index of each target: which clauses a literal equality test
//! on the input lets a decision skip.

use std::cell::Cell;
use std::sync::Arc;
use warden_ir::{self as ir, BinOp, ExprKind, Value};

/// Builds a target's clause index (see [`ir::TargetIndex`]).
pub(crate) fn build_index(program: &ir::Program, target: ir::TargetId) -> ir::TargetIndex {
    let mut index = ir::TargetIndex::default();
    for &rule_id in &program.target(target).rules {
        let rule = program.rule(rule_id);
        for (ci, clause) in rule.clauses.iter().enumerate() {
            let entry = (rule_id, ci as u32);
            let guard = if clause.iteration.is_none() {
                find_guard(rule, &clause.condition)
            } else {
                None
            };
            match guard {
                Some((slots, values)) => {
                    let gi = match index.guards.iter().position(|g| g.slots == slots) {
                        Some(gi) => gi,
                        None => {
                            index.guards.push(ir::GuardIndex {
                                slots,
                                by_value: Default::default(),
                            });
                            index.guards.len() - 1
                        }
                    };
                    for v in values {
                        let bucket = index.guards[gi].by_value.entry(v).or_default();
                        if !bucket.contains(&entry) {
                            bucket.push(entry);
                        }
                    }
                }
                None => index.unguarded.push(entry),
            }
        }
    }
    index
}

fn conjuncts<'e>(expr: &'e ir::Expr, out: &mut Vec<&'e ir::Expr>) {
    match &expr.kind {
        ExprKind::Binary {
            op: BinOp::And,
            lhs,
            rhs,
        } => {
            conjuncts(lhs, out);
            conjuncts(rhs, out);
        }
        _ => out.push(expr),
    }
}

/// The first literal equality test on an input path, if only infallible conjuncts precede it.
fn find_guard(rule: &ir::Rule, condition: &ir::Expr) -> Option<(Vec<u32>, Vec<Arc<str>>)> {
    let mut parts = Vec::new();
    conjuncts(condition, &mut parts);
    let lets = vec![Cell::new(None); rule.lets.len()];
    for part in parts {
        if let Some(guard) = guard_of(part) {
            return Some(guard);
        }
        if part.dynamic || !infallible(rule, &lets, part) {
            return None;
        }
    }
    None
}

fn guard_of(expr: &ir::Expr) -> Option<(Vec<u32>, Vec<Arc<str>>)> {
    let ExprKind::Binary { op, lhs, rhs } = &expr.kind else {
        return None;
    };
    match op {
        BinOp::Eq => {
            let (path, lit) = match (input_slots(lhs), input_slots(rhs)) {
                (Some(p), None) => (p, rhs),
                (None, Some(p)) => (p, lhs),
                _ => return None,
            };
            match &lit.kind {
                ExprKind::Const(Value::Str(s)) => Some((path, vec![s.clone()])),
                _ => None,
            }
        }
        BinOp::In => {
            let path = input_slots(lhs)?;
            let strings = |items: &mut dyn Iterator<Item = &Value>| -> Option<Vec<Arc<str>>> {
                items
                    .map(|v| match v {
                        Value::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect()
            };
            let values = match &rhs.kind {
                ExprKind::Const(Value::List(items)) => strings(&mut items.iter()),
                ExprKind::List(items) => strings(&mut items.iter().map_while(|i| match &i.kind {
                    ExprKind::Const(v) => Some(v),
                    _ => None,
                }))
                .filter(|v| v.len() == items.len()),
                _ => None,
            };
            values.map(|v| (path, v))
        }
        _ => None,
    }
}

/// The slot path of `input.a.b` (plain field accesses from local 0).
fn input_slots(expr: &ir::Expr) -> Option<Vec<u32>> {
    match &expr.kind {
        ExprKind::Local(ir::LocalId(0)) => Some(Vec::new()),
        ExprKind::Field {
            base,
            slot,
            optional_chain: false,
            ..
        } => {
            let mut path = input_slots(base)?;
            path.push(*slot);
            Some(path)
        }
        _ => None,
    }
}

/// Whether evaluating `expr` can never raise an evaluation error. Values of
/// static type `any` may be of a kind an operation cannot take, so an
/// operation that needs a particular kind is fallible when given one.
/// `lets` keeps each `let`'s answer once worked out: a `let` read twice by
/// the next (`let b = a ?? a`) would otherwise double the work at each.
fn infallible(rule: &ir::Rule, lets: &[Cell<Option<bool>>], expr: &ir::Expr) -> bool {
    let ok = |e: &ir::Expr| infallible(rule, lets, e);
    // Operands read as a condition must be booleans.
    let condition = |e: &ir::Expr| !e.dynamic && infallible(rule, lets, e);
    match &expr.kind {
        ExprKind::Const(_) | ExprKind::Local(_) | ExprKind::Data(_) | ExprKind::Now => true,
        ExprKind::Let(id) => match lets.get(id.index()).and_then(Cell::get) {
            Some(known) => known,
            None => {
                let known = ok(&rule.lets[id.index()]);
                if let Some(memo) = lets.get(id.index()) {
                    memo.set(Some(known));
                }
                known
            }
        },
        // A field of an `any` value that is not a record or map is an error.
        ExprKind::Field { base, .. } => !base.dynamic && ok(base),
        ExprKind::DynField { base, .. } | ExprKind::Has { base, .. } | ExprKind::ToFloat(base) => {
            ok(base)
        }
        ExprKind::Not(inner) => condition(inner),
        ExprKind::Index { base, index, .. } => ok(base) && ok(index),
        ExprKind::MatchesConst { lhs, .. } => !lhs.dynamic && ok(lhs),
        ExprKind::Binary { op, lhs, rhs } => match op {
            BinOp::And | BinOp::Or => condition(lhs) && condition(rhs),
            BinOp::Eq | BinOp::NotEq | BinOp::Coalesce => ok(lhs) && ok(rhs),
            BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq => {
                !lhs.dynamic && !rhs.dynamic && ok(lhs) && ok(rhs)
            }
            BinOp::In | BinOp::NotIn => !rhs.dynamic && ok(lhs) && ok(rhs),
            // Arithmetic can overflow; a dynamic pattern may not compile.
            BinOp::Matches | BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                false
            }
        },
        ExprKind::Call { builtin, args } => builtin.is_total() && args.iter().all(ok),
        ExprKind::List(items) | ExprKind::Record { values: items, .. } => items.iter().all(ok),
        ExprKind::If {
            condition: c,
            then_branch,
            else_branch,
        } => condition(c) && ok(then_branch) && ok(else_branch),
        ExprKind::Quantifier {
            collection, body, ..
        } => !collection.dynamic && ok(collection) && condition(body),
        ExprKind::Comprehension {
            collection,
            element,
            filter,
            ..
        } => {
            !collection.dynamic
                && ok(collection)
                && ok(element)
                && filter.as_deref().is_none_or(condition)
        }
        // Functions may fail; negation can overflow.
        ExprKind::CallFn { .. } | ExprKind::Neg(_) | ExprKind::Error => false,
    }
}
