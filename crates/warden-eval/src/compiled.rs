//! The compiled form of a program: built once when a policy set is loaded,
//! run for every decision that is not explained.
//!
//! Each rule's `let`s and conditions, and each function's body, become a
//! tree of [`Node`]s whose shape was settled at load: a field chain over the
//! input, a `let` or a data document is a [`Place`] read in a loop (no walk
//! to find its root, no copy of the records along it); a comparison knows
//! whether both sides can be read in place; `and`, `or` and `not` run their
//! operands as conditions. What has no compiled shape runs as the tree
//! (`Form::Tree`).
//!
//! Invariant: a node charges the same steps and fails with the same errors
//! as [`Evaluator::eval`] on the expression it came from, so a decision, and
//! the budget at which it runs out, do not depend on which form ran. The
//! decision corpus, the property laws and the `decide` fuzz check hold both
//! forms to that (`Options::tree_walk`).

use crate::eval::{
    EvalError, EvalResult, Evaluator, Frame, STACK_CHECK_EVERY, STACK_RED_ZONE, STACK_SEGMENT,
    field_of, is_comparison, kind_error, read_field,
};
use std::sync::Arc;
use warden_diagnostics::Span;
use warden_ir::field_by_name;
use warden_ir::{BinOp, Builtin, Expr, ExprKind, Program, RecordId, TypeTable, Value};

/// A program with its rules and functions compiled: what a decision runs.
#[derive(Debug)]
pub struct Compiled {
    program: Arc<Program>,
    /// By rule id.
    rules: Vec<CompiledRule>,
    /// By function id.
    functions: Vec<Node>,
}

#[derive(Debug)]
struct CompiledRule {
    lets: Vec<Node>,
    /// Each clause's condition, by clause index.
    conditions: Vec<Node>,
    /// Each `for` clause's collection, by clause index.
    iterations: Vec<Option<Node>>,
}

impl Compiled {
    /// Compiles every rule and function of `program`.
    pub fn new(program: Arc<Program>) -> Compiled {
        Compiled {
            rules: program
                .rules
                .iter()
                .map(|rule| CompiledRule {
                    lets: rule.lets.iter().map(compile).collect(),
                    conditions: rule.clauses.iter().map(|c| compile(&c.condition)).collect(),
                    iterations: rule
                        .clauses
                        .iter()
                        .map(|c| c.iteration.as_ref().map(|it| compile(&it.collection)))
                        .collect(),
                })
                .collect(),
            functions: program.functions.iter().map(|f| compile(&f.body)).collect(),
            program,
        }
    }

    /// The program it was compiled from.
    pub fn program(&self) -> &Program {
        &self.program
    }

    pub(crate) fn lets(&self, rule: usize) -> &[Node] {
        self.rules.get(rule).map_or(&[], |r| &r.lets)
    }

    pub(crate) fn condition(&self, rule: usize, clause: usize) -> Option<&Node> {
        self.rules.get(rule)?.conditions.get(clause)
    }

    pub(crate) fn iteration(&self, rule: usize, clause: usize) -> Option<&Node> {
        self.rules.get(rule)?.iterations.get(clause)?.as_ref()
    }
}

/// One compiled expression.
#[derive(Debug)]
pub(crate) struct Node(Form);

#[derive(Debug)]
enum Form {
    /// An expression with no compiled shape: walked as the tree.
    Tree(Expr),
    Op {
        /// The expression's span: where its errors point.
        span: Span,
        op: Op,
    },
}

#[derive(Debug)]
enum Op {
    Const(Value),
    Local(usize),
    Let(usize),
    Data(usize),
    Now,
    /// A field chain over a place. `expr` is the chain itself, read the
    /// tree's way when the place cannot be (a field of something that has none).
    Path {
        place: Place,
        expr: Expr,
    },
    /// A field of a computed value.
    Field {
        base: Box<Node>,
        field: (RecordId, u32),
        name: Arc<str>,
        optional_chain: bool,
    },
    DynField {
        base: Box<Node>,
        name: Arc<str>,
    },
    Index {
        base: Box<Node>,
        index: Box<Node>,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Coalesce(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Compare {
        op: BinOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
        /// The `let` at the root of each side's field chain: computed first,
        /// as the tree does, so that the side can be read in place.
        roots: [Option<usize>; 2],
        /// Both sides as places, when both are.
        places: Option<Box<(Place, Place)>>,
    },
    Call {
        builtin: Builtin,
        args: Vec<Node>,
    },
    CallFn {
        func: usize,
        args: Vec<Node>,
    },
    If {
        condition: Box<Node>,
        then_branch: Box<Node>,
        else_branch: Box<Node>,
    },
    Quantifier {
        all: bool,
        local: usize,
        collection: Box<Node>,
        body: Box<Node>,
    },
    /// A list written of constants, built once; each element still charges
    /// its step, as the tree evaluates each.
    ConstList {
        value: Value,
        element_spans: Box<[Span]>,
    },
    List(Vec<Node>),
    Comprehension {
        local: usize,
        collection: Box<Node>,
        element: Box<Node>,
        filter: Option<Box<Node>>,
    },
    Has {
        base: Box<Node>,
        slot: Option<(RecordId, u32)>,
        name: Arc<str>,
    },
}

/// A value that is read where it is held: a constant, a local, a `let`
/// once computed, a data document, then fields.
#[derive(Debug)]
struct Place {
    root: Root,
    steps: Box<[Step]>,
}

#[derive(Debug)]
enum Root {
    Const(Value),
    Local(usize),
    Let(usize),
    Data(usize),
}

#[derive(Debug)]
enum Step {
    Field {
        field: (RecordId, u32),
        name: Arc<str>,
        optional_chain: bool,
    },
    Dyn(Arc<str>),
}

/// `e` as a place, when it is one (the shapes the tree reads in place).
fn place_of(e: &Expr) -> Option<Place> {
    let mut steps = Vec::new();
    let mut current = e;
    let root = loop {
        match &current.kind {
            ExprKind::Field {
                base,
                record,
                slot,
                name,
                optional_chain,
            } => {
                steps.push(Step::Field {
                    field: (*record, *slot),
                    name: name.clone(),
                    optional_chain: *optional_chain,
                });
                current = base;
            }
            ExprKind::DynField { base, name, .. } => {
                steps.push(Step::Dyn(name.clone()));
                current = base;
            }
            ExprKind::Const(v) => break Root::Const(v.clone()),
            ExprKind::Local(id) => break Root::Local(id.index()),
            ExprKind::Let(id) => break Root::Let(id.index()),
            ExprKind::Data(id) => break Root::Data(id.index()),
            _ => return None,
        }
    };
    steps.reverse();
    Some(Place {
        root,
        steps: steps.into(),
    })
}

/// The `let` at the root of `e`'s field chain, if any: what the tree
/// computes before it reads a comparison's side in place.
fn root_let(e: &Expr) -> Option<usize> {
    let mut current = e;
    loop {
        match &current.kind {
            ExprKind::Field { base, .. } | ExprKind::DynField { base, .. } => current = base,
            ExprKind::Let(id) => return Some(id.index()),
            _ => return None,
        }
    }
}

fn boxed(e: &Expr) -> Box<Node> {
    Box::new(compile(e))
}

/// Compiles one expression (deep ones on a grown stack, as the tree walks them).
fn compile(e: &Expr) -> Node {
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || match compile_op(e) {
        Some(op) => Node(Form::Op { span: e.span, op }),
        None => Node(Form::Tree(e.clone())),
    })
}

/// The compiled form of `e`, when it has one.
fn compile_op(e: &Expr) -> Option<Op> {
    Some(match &e.kind {
        ExprKind::Const(v) => Op::Const(v.clone()),
        ExprKind::Local(id) => Op::Local(id.index()),
        ExprKind::Let(id) => Op::Let(id.index()),
        ExprKind::Data(id) => Op::Data(id.index()),
        ExprKind::Now => Op::Now,
        ExprKind::Field {
            base,
            record,
            slot,
            name,
            optional_chain,
        } => match place_of(e) {
            Some(place) => Op::Path {
                place,
                expr: e.clone(),
            },
            None => Op::Field {
                base: boxed(base),
                field: (*record, *slot),
                name: name.clone(),
                optional_chain: *optional_chain,
            },
        },
        ExprKind::DynField { base, name, .. } => match place_of(e) {
            Some(place) => Op::Path {
                place,
                expr: e.clone(),
            },
            None => Op::DynField {
                base: boxed(base),
                name: name.clone(),
            },
        },
        ExprKind::Index { base, index, .. } => Op::Index {
            base: boxed(base),
            index: boxed(index),
        },
        ExprKind::Binary { op, lhs, rhs } => match op {
            BinOp::And => Op::And(boxed(lhs), boxed(rhs)),
            BinOp::Or => Op::Or(boxed(lhs), boxed(rhs)),
            BinOp::Coalesce => Op::Coalesce(boxed(lhs), boxed(rhs)),
            op if is_comparison(*op) => Op::Compare {
                op: *op,
                lhs: boxed(lhs),
                rhs: boxed(rhs),
                roots: [root_let(lhs), root_let(rhs)],
                places: place_of(lhs).zip(place_of(rhs)).map(Box::new),
            },
            _ => return None,
        },
        ExprKind::Not(inner) => Op::Not(boxed(inner)),
        ExprKind::Call { builtin, args } => Op::Call {
            builtin: *builtin,
            args: args.iter().map(compile).collect(),
        },
        ExprKind::CallFn { func, args } => Op::CallFn {
            func: func.index(),
            args: args.iter().map(compile).collect(),
        },
        ExprKind::If {
            condition,
            then_branch,
            else_branch,
        } => Op::If {
            condition: boxed(condition),
            then_branch: boxed(then_branch),
            else_branch: boxed(else_branch),
        },
        ExprKind::Quantifier {
            all,
            local,
            collection,
            body,
        } => Op::Quantifier {
            all: *all,
            local: local.index(),
            collection: boxed(collection),
            body: boxed(body),
        },
        ExprKind::List(items) => {
            let constants: Option<Vec<Value>> = items
                .iter()
                .map(|i| match &i.kind {
                    ExprKind::Const(v) => Some(v.clone()),
                    _ => None,
                })
                .collect();
            match constants {
                Some(values) => Op::ConstList {
                    value: Value::List(values.into()),
                    element_spans: items.iter().map(|i| i.span).collect(),
                },
                None => Op::List(items.iter().map(compile).collect()),
            }
        }
        ExprKind::Comprehension {
            local,
            collection,
            element,
            filter,
        } => Op::Comprehension {
            local: local.index(),
            collection: boxed(collection),
            element: boxed(element),
            filter: filter.as_deref().map(boxed),
        },
        ExprKind::Has { base, slot, name } => Op::Has {
            base: boxed(base),
            slot: *slot,
            name: name.clone(),
        },
        _ => return None,
    })
}

/// Reads `place`; `None` where the tree would evaluate instead (a field of
/// a value that has none, a `let` not computed).
fn read<'a>(
    place: &'a Place,
    data: &'a [Value],
    types: &TypeTable,
    frame: &'a Frame<'_>,
) -> Option<&'a Value> {
    let mut value = match &place.root {
        Root::Const(v) => v,
        Root::Local(i) => &frame.locals[*i],
        Root::Let(i) => frame.lets[*i].as_ref()?,
        Root::Data(i) => &data[*i],
    };
    for step in &place.steps {
        value = match step {
            Step::Field {
                field: (record, slot),
                name,
                optional_chain,
            } => field_of(types, value, *record, *slot, name, *optional_chain)?,
            Step::Dyn(name) => field_by_name(types, value, name),
        };
    }
    Some(value)
}

impl Node {
    /// The node's value: [`Evaluator::eval`] of the expression it came from.
    pub(crate) fn run<'p>(&'p self, ev: &mut Evaluator<'p>, frame: &mut Frame<'p>) -> EvalResult {
        let (span, op) = match &self.0 {
            Form::Tree(e) => return ev.eval(e, frame),
            Form::Op { span, op } => (*span, op),
        };
        // The tree's stack discipline: deep conditions grow the stack.
        ev.depth += 1;
        let result = if (ev.depth - 1).is_multiple_of(STACK_CHECK_EVERY) {
            stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
                run_op(span, op, ev, frame)
            })
        } else {
            run_op(span, op, ev, frame)
        };
        ev.depth -= 1;
        result
    }

    /// Where the expression is written: where its errors point.
    fn span(&self) -> Span {
        match &self.0 {
            Form::Tree(e) => e.span,
            Form::Op { span, .. } => *span,
        }
    }

    /// The node as a condition: [`Evaluator::eval_bool`].
    pub(crate) fn run_bool<'p>(
        &'p self,
        ev: &mut Evaluator<'p>,
        frame: &mut Frame<'p>,
    ) -> Result<bool, EvalError> {
        match self.run(ev, frame)? {
            Value::Bool(b) => Ok(b),
            // Only `any` values get here: fail closed rather than guess.
            other => Err(kind_error(
                self.span(),
                "a condition must be true or false",
                &other,
            )),
        }
    }
}

/// A compiled node's value, its step charged first as the tree charges it.
fn run_op<'p>(span: Span, op: &'p Op, ev: &mut Evaluator<'p>, frame: &mut Frame<'p>) -> EvalResult {
    ev.charge(1, span)?;
    let program = ev.program;
    let types = &program.types;
    Ok(match op {
        Op::Const(v) => v.clone(),
        Op::Local(i) => frame.locals[*i].clone(),
        Op::Let(i) => {
            ev.compute_let(*i, frame)?;
            frame.lets[*i].clone().unwrap_or_default()
        }
        Op::Data(i) => ev.data[*i].clone(),
        Op::Now => Value::Time(ev.now),
        Op::Path { place, expr } => {
            if let Root::Let(i) = place.root {
                ev.compute_let(i, frame)?;
            }
            match read(place, ev.data, types, frame) {
                Some(v) => v.clone(),
                None => return ev.field_expr(expr, frame),
            }
        }
        Op::Field {
            base,
            field,
            name,
            optional_chain,
        } => {
            let value = base.run(ev, frame)?;
            return read_field(types, &value, *field, name, *optional_chain, base.span());
        }
        Op::DynField { base, name } => {
            let value = base.run(ev, frame)?;
            field_by_name(types, &value, name).clone()
        }
        Op::Index { base, index } => {
            let b = base.run(ev, frame)?;
            let i = index.run(ev, frame)?;
            return ev.index_value(&b, &i, span);
        }
        Op::And(lhs, rhs) => Value::Bool(lhs.run_bool(ev, frame)? && rhs.run_bool(ev, frame)?),
        Op::Or(lhs, rhs) => Value::Bool(lhs.run_bool(ev, frame)? || rhs.run_bool(ev, frame)?),
        Op::Coalesce(lhs, rhs) => {
            let l = lhs.run(ev, frame)?;
            if l.is_none() {
                return rhs.run(ev, frame);
            }
            l
        }
        Op::Not(inner) => Value::Bool(!inner.run_bool(ev, frame)?),
        Op::Compare {
            op,
            lhs,
            rhs,
            roots,
            places,
        } => {
            for root in roots.iter().flatten() {
                ev.compute_let(*root, frame)?;
            }
            if let Some(places) = places
                && let (Some(l), Some(r)) = (
                    read(&places.0, ev.data, types, frame),
                    read(&places.1, ev.data, types, frame),
                )
            {
                return ev.compare(types, *op, l, r, span);
            }
            let l = lhs.run(ev, frame)?;
            let r = rhs.run(ev, frame)?;
            return ev.compare(types, *op, &l, &r, span);
        }
        Op::Call { builtin, args } => {
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                values.push(a.run(ev, frame)?);
            }
            return ev.call_builtin(*builtin, &values, span);
        }
        Op::CallFn { func, args } => {
            let function = &program.functions[*func];
            let mut callee = Frame::new(function.locals, &[]);
            for (i, a) in args.iter().enumerate() {
                callee.locals[i] = a.run(ev, frame)?;
            }
            return match ev.compiled.and_then(|c| c.functions.get(*func)) {
                Some(body) => body.run(ev, &mut callee),
                None => ev.eval(&function.body, &mut callee),
            };
        }
        Op::If {
            condition,
            then_branch,
            else_branch,
        } => {
            return if condition.run_bool(ev, frame)? {
                then_branch.run(ev, frame)
            } else {
                else_branch.run(ev, frame)
            };
        }
        Op::Quantifier {
            all,
            local,
            collection,
            body,
        } => {
            let items = collection.run(ev, frame)?;
            let mut result = *all;
            for item in crate::eval::items_of(&items, collection.span())?.iter() {
                frame.locals[*local] = item.clone();
                if body.run_bool(ev, frame)? != *all {
                    result = !*all;
                    break;
                }
            }
            Value::Bool(result)
        }
        Op::ConstList {
            value,
            element_spans,
        } => {
            for span in element_spans.iter() {
                ev.charge(1, *span)?;
            }
            value.clone()
        }
        Op::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(item.run(ev, frame)?);
            }
            Value::List(out.into())
        }
        Op::Comprehension {
            local,
            collection,
            element,
            filter,
        } => {
            let items = collection.run(ev, frame)?;
            let mut out = Vec::new();
            for item in crate::eval::items_of(&items, collection.span())?.iter() {
                frame.locals[*local] = item.clone();
                if let Some(filter) = filter
                    && !filter.run_bool(ev, frame)?
                {
                    continue;
                }
                out.push(element.run(ev, frame)?);
            }
            Value::List(out.into())
        }
        Op::Has { base, slot, name } => {
            let value = base.run(ev, frame)?;
            Value::Bool(crate::eval::has_field(types, &value, *slot, name))
        }
    })
}
