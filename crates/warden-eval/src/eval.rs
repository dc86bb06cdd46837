//! Expression evaluation over values.

use crate::compiled::{Compiled, Node};
use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Instant;
use warden_diagnostics::{Code, Span};
use warden_ir::builtins::{self, CallContext, cost};
use warden_ir::{BinOp, Expr, ExprKind, LocalId, Program, RecordId, RecordValue, TypeTable, Value};
use warden_ir::{as_f64, compare, equal_counted, field_by_name};

/// A problem that stops one clause from deciding; it becomes a fail-closed finding.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    pub code: Code,
    pub message: String,
    pub span: Span,
}

/// One evaluated sub-expression, recorded when a decision is explained.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEntry {
    pub span: Span,
    pub value: Value,
    /// For a field chain over a local (the input, a `for` element): the local and the field names.
    pub path: Option<(LocalId, Vec<Arc<str>>)>,
}

/// The local and field names of `a.b.c`, when `e` is a field chain over a local.
fn chain_path(e: &Expr) -> Option<(LocalId, Vec<Arc<str>>)> {
    match &e.kind {
        ExprKind::Local(id) => Some((*id, Vec::new())),
        ExprKind::Field { base, name, .. } | ExprKind::DynField { base, name, .. } => {
            let (root, mut fields) = chain_path(base)?;
            fields.push(name.clone());
            Some((root, fields))
        }
        _ => None,
    }
}

pub(crate) type EvalResult = Result<Value, EvalError>;

/// Stack growth for deep evaluations: when less than the red zone is left, a
/// new segment is allocated.
pub(crate) const STACK_RED_ZONE: usize = 256 * 1024;
/// Levels of `eval` between two stack checks (a level is a few frames).
pub(crate) const STACK_CHECK_EVERY: u32 = 4;
pub(crate) const STACK_SEGMENT: usize = 4 * 1024 * 1024;

/// The locals of one rule, function or waiver evaluation. `let`s are computed
/// on first use and kept for the rest of the decision.
pub(crate) struct Frame<'p> {
    pub locals: Vec<Value>,
    pub lets: Vec<Option<Value>>,
    pub let_exprs: &'p [Expr],
    /// The same `let`s compiled ([`crate::compiled`]), when the rule runs
    /// compiled; either form computes the same value at the same cost.
    pub let_nodes: &'p [Node],
}

impl<'p> Frame<'p> {
    /// Clears the frame for another rule, keeping its buffers.
    pub fn reset(&mut self, locals: u32, let_exprs: &'p [Expr], let_nodes: &'p [Node]) {
        self.locals.clear();
        self.locals.resize(locals as usize, Value::None);
        self.lets.clear();
        self.lets.resize(let_exprs.len(), None);
        self.let_exprs = let_exprs;
        self.let_nodes = let_nodes;
    }

    pub fn new(locals: u32, let_exprs: &'p [Expr]) -> Self {
        Frame {
            locals: vec![Value::None; locals as usize],
            lets: vec![None; let_exprs.len()],
            let_exprs,
            let_nodes: &[],
        }
    }
}

pub(crate) struct Evaluator<'p> {
    pub program: &'p Program,
    pub data: &'p [Value],
    pub now: i64,
    pub steps: u64,
    pub budget: u64,
    /// The wall-clock time by which the decision must be reached.
    pub deadline: Option<Instant>,
    /// The step count at which the clock is read next.
    pub next_clock_check: u64,
    /// Below this step count a charge needs no check (the lesser of the
    /// next clock reading and the step past the budget; 0 once stopped, or
    /// before the first charge).
    pub checkpoint: u64,
    /// How deep `eval` is nested: the stack is checked every few levels.
    pub depth: u32,
    /// Set once the budget or the deadline is spent: every later evaluation
    /// fails at once with this code.
    pub exhausted: Option<Code>,
    /// Recorded sub-expression values, when explaining.
    pub trace: Option<Vec<TraceEntry>>,
    /// The program's compiled form, when the decision runs it (never while
    /// explaining: the trace is the tree walker's).
    pub compiled: Option<&'p Compiled>,
}

/// How many steps pass between two readings of the clock: often enough that
/// a deadline is noticed within microseconds, rarely enough to cost nothing.
const STEPS_PER_CLOCK_CHECK: u64 = 2048;

pub(crate) fn err(code: Code, span: Span, message: impl Into<String>) -> EvalError {
    EvalError {
        code,
        message: message.into(),
        span,
    }
}

impl<'p> Evaluator<'p> {
    pub fn eval(&mut self, e: &'p Expr, frame: &mut Frame<'p>) -> EvalResult {
        // Chains of lets and calls can nest deeper than a thread's stack: grow it
        // on demand rather than abort (the step budget bounds the work). The
        // check is made every few levels: between two, less stack is used than
        // the red zone leaves.
        self.depth += 1;
        let result = if (self.depth - 1).is_multiple_of(STACK_CHECK_EVERY) {
            stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
                self.eval_counted(e, frame)
            })
        } else {
            self.eval_counted(e, frame)
        };
        self.depth -= 1;
        result
    }

    fn eval_counted(&mut self, e: &'p Expr, frame: &mut Frame<'p>) -> EvalResult {
        self.charge(1, e.span)?;
        let value = self.eval_kind(e, frame)?;
        if let Some(trace) = &mut self.trace
            && !matches!(e.kind, ExprKind::Const(_))
        {
            trace.push(TraceEntry {
                span: e.span,
                value: value.clone(),
                path: chain_path(e).filter(|(_, fields)| !fields.is_empty()),
            });
        }
        Ok(value)
    }

    pub fn eval_bool(&mut self, e: &'p Expr, frame: &mut Frame<'p>) -> Result<bool, EvalError> {
        match self.eval(e, frame)? {
            Value::Bool(b) => Ok(b),
            // Only `any` values get here: fail closed rather than guess.
            other => Err(kind_error(
                e.span,
                "a condition must be true or false",
                &other,
            )),
        }
    }

    fn eval_kind(&mut self, e: &'p Expr, frame: &mut Frame<'p>) -> EvalResult {
        // Field chains are read in place: one clone of the result, none of the
        // records along the way, one step for the chain. While explaining,
        // the trace gets each link as if it had been evaluated, at no more
        // cost: an explanation never takes more steps than its decision.
        if matches!(e.kind, ExprKind::Field { .. } | ExprKind::DynField { .. }) {
            self.ensure_root(e, frame)?;
            if let Some(v) = place(self.data, &self.program.types, frame, e) {
                let v = v.clone();
                if let ExprKind::Field { base, .. } | ExprKind::DynField { base, .. } = &e.kind {
                    self.trace_place(base, frame);
                }
                return Ok(v);
            }
        }
        Ok(match &e.kind {
            ExprKind::Const(v) => v.clone(),
            ExprKind::Local(id) => frame.locals[id.index()].clone(),
            ExprKind::Let(id) => {
                self.compute_let(id.index(), frame)?;
                frame.lets[id.index()].clone().unwrap_or_default()
            }
            ExprKind::Data(id) => self.data[id.index()].clone(),
            ExprKind::Now => Value::Time(self.now),
            ExprKind::Field { .. } | ExprKind::DynField { .. } => self.field_expr(e, frame)?,
            ExprKind::Index { base, index, .. } => {
                let b = self.eval(base, frame)?;
                let i = self.eval(index, frame)?;
                self.index_value(&b, &i, e.span)?
            }
            ExprKind::Has { base, slot, name } => {
                let value = self.eval(base, frame)?;
                Value::Bool(has_field(&self.program.types, &value, *slot, name))
            }
            ExprKind::Call { builtin, args } => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a, frame)?);
                }
                self.call_builtin(*builtin, &values, e.span)?
            }
            ExprKind::CallFn { func, args } => {
                let function = &self.program.functions[func.index()];
                let mut callee = Frame::new(function.locals, &[]);
                for (i, a) in args.iter().enumerate() {
                    callee.locals[i] = self.eval(a, frame)?;
                }
                self.eval(&function.body, &mut callee)?
            }
            ExprKind::Not(inner) => Value::Bool(!self.eval_bool(inner, frame)?),
            ExprKind::Neg(inner) => match self.eval(inner, frame)? {
                Value::Int(i) => Value::Int(
                    i.checked_neg()
                        .ok_or_else(|| err(Code::E0503, e.span, "integer overflow"))?,
                ),
                Value::Float(f) => Value::Float(-f),
                Value::Duration(d) => Value::Duration(
                    d.checked_neg()
                        .ok_or_else(|| err(Code::E0503, e.span, "duration overflow"))?,
                ),
                other => {
                    return Err(kind_error(
                        e.span,
                        "`-` needs a number or a duration",
                        &other,
                    ));
                }
            },
            ExprKind::ToFloat(inner) => match self.eval(inner, frame)? {
                Value::Int(i) => Value::Float(i as f64),
                other => other,
            },
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.span, frame)?,
            ExprKind::MatchesConst { lhs, regex, weight } => match self.eval(lhs, frame)? {
                Value::Str(s) => {
                    self.charge(cost::regex_scan_cost(&s, *weight), e.span)?;
                    Value::Bool(regex.is_match(&s))
                }
                other @ (Value::Int(_)
                | Value::Float(_)
                | Value::Bool(_)
                | Value::List(_)
                | Value::Map(_)
                | Value::Record(_)) => {
                    return Err(kind_error(e.span, "`matches` needs a string", &other));
                }
                _ => Value::Bool(false),
            },
            ExprKind::If {
                condition,
                then_branch,
                else_branch,
            } => {
                if self.eval_bool(condition, frame)? {
                    self.eval(then_branch, frame)?
                } else {
                    self.eval(else_branch, frame)?
                }
            }
            ExprKind::Quantifier {
                all,
                local,
                collection,
                body,
            } => {
                let items = self.eval(collection, frame)?;
                let mut result = *all;
                for item in items_of(&items, collection.span)?.iter().cloned() {
                    frame.locals[local.index()] = item;
                    let holds = self.eval_bool(body, frame)?;
                    if holds != *all {
                        result = !*all;
                        break;
                    }
                }
                Value::Bool(result)
            }
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i, frame)?);
                }
                Value::List(out.into())
            }
            ExprKind::Record { ty, values } => {
                let mut slots = Vec::with_capacity(values.len());
                for v in values {
                    slots.push(self.eval(v, frame)?);
                }
                Value::Record(Arc::new(RecordValue {
                    ty: *ty,
                    slots: slots.into(),
                    extra: None,
                }))
            }
            ExprKind::Comprehension {
                local,
                collection,
                element,
                filter,
            } => {
                let items = self.eval(collection, frame)?;
                let mut out = Vec::new();
                for item in items_of(&items, collection.span)?.iter().cloned() {
                    frame.locals[local.index()] = item;
                    if let Some(f) = filter
                        && !self.eval_bool(f, frame)?
                    {
                        continue;
                    }
                    out.push(self.eval(element, frame)?);
                }
                Value::List(out.into())
            }
            ExprKind::Error => {
                return Err(err(Code::E0504, e.span, "this expression did not compile"));
            }
        })
    }

    /// A comparison's value, its cost charged: what reading the operands
    /// costs up front, then the work equality and `in` did.
    pub(crate) fn compare(
        &mut self,
        types: &TypeTable,
        op: BinOp,
        l: &Value,
        r: &Value,
        span: Span,
    ) -> EvalResult {
        self.charge(comparison_cost(op, l, r), span)?;
        let mut work = 0;
        // Past what is left of the budget the walk stops; the charge below fails.
        let limit = self.left();
        let result = compare_op(types, op, l, r, span, &mut work, limit);
        self.charge(work, span)?;
        result
    }

    /// A field read of `e` (a `Field` or `DynField`) whose base could not be
    /// read in place: the base is evaluated, then its field read.
    pub(crate) fn field_expr(&mut self, e: &'p Expr, frame: &mut Frame<'p>) -> EvalResult {
        match &e.kind {
            ExprKind::Field {
                base,
                record,
                slot,
                name,
                optional_chain,
            } => {
                let value = self.eval(base, frame)?;
                read_field(
                    &self.program.types,
                    &value,
                    (*record, *slot),
                    name,
                    *optional_chain,
                    base.span,
                )
            }
            ExprKind::DynField { base, name, .. } => {
                let value = self.eval(base, frame)?;
                Ok(field_by_name(&self.program.types, &value, name).clone())
            }
            _ => Err(err(Code::E0504, e.span, "this expression did not compile")),
        }
    }

    /// `b[i]`: a list's element or a map's entry, else none.
    pub(crate) fn index_value(&mut self, b: &Value, i: &Value, span: Span) -> EvalResult {
        Ok(match (b, i) {
            (Value::List(items), Value::Int(n)) => usize::try_from(*n)
                .ok()
                .and_then(|n| items.get(n))
                .cloned()
                .unwrap_or(Value::None),
            (Value::Map(m), Value::Str(k)) => {
                // The key is hashed whole.
                self.charge(k.len() as u64 / 64, span)?;
                m.get(k).cloned().unwrap_or(Value::None)
            }
            _ => Value::None,
        })
    }

    /// A built-in called on evaluated arguments, its cost charged first.
    pub(crate) fn call_builtin(
        &mut self,
        builtin: warden_ir::Builtin,
        values: &[Value],
        span: Span,
    ) -> EvalResult {
        let cost = builtin.cost(values, &self.program.types, self.left());
        self.charge(cost, span)?;
        let cx = CallContext {
            now: self.now,
            types: &self.program.types,
        };
        let result = builtin.call(values, &cx);
        self.clock_after(cost, span)?;
        result.map_err(|message| err(Code::E0502, span, message))
    }

    /// After work priced at `cost` that ran in one piece (a built-in, a
    /// message written out), a look at the clock if it was priced as much
    /// as the steps between two looks: the work could not be interrupted,
    /// but its result is not used past the deadline.
    pub(crate) fn clock_after(&mut self, cost: u64, span: Span) -> Result<(), EvalError> {
        if cost < STEPS_PER_CLOCK_CHECK {
            return Ok(());
        }
        self.next_clock_check = self.steps;
        self.charge_checked(span)
    }

    /// Charges the walk over `value` a rendering or a copy out of the
    /// evaluator makes (a message's value, an obligation), its size counted
    /// no further than the budget allows; returns the price.
    pub(crate) fn charge_size(&mut self, value: &Value, span: Span) -> Result<u64, EvalError> {
        let size = cost::deep_size(&self.program.types, value, self.left());
        self.charge(size, span)?;
        Ok(size)
    }

    fn binary(
        &mut self,
        op: BinOp,
        lhs: &'p Expr,
        rhs: &'p Expr,
        span: Span,
        frame: &mut Frame<'p>,
    ) -> EvalResult {
        match op {
            BinOp::And => {
                return Ok(Value::Bool(
                    self.eval_bool(lhs, frame)? && self.eval_bool(rhs, frame)?,
                ));
            }
            BinOp::Or => {
                return Ok(Value::Bool(
                    self.eval_bool(lhs, frame)? || self.eval_bool(rhs, frame)?,
                ));
            }
            BinOp::Coalesce => {
                let l = self.eval(lhs, frame)?;
                return if l.is_none() {
                    self.eval(rhs, frame)
                } else {
                    Ok(l)
                };
            }
            _ => {}
        }
        if is_comparison(op) {
            self.ensure_root(lhs, frame)?;
            self.ensure_root(rhs, frame)?;
            let (data, program) = (self.data, self.program);
            let types = &program.types;
            if let (Some(l), Some(r)) = (
                place(data, types, frame, lhs),
                place(data, types, frame, rhs),
            ) {
                if self.trace.is_some() {
                    self.trace_place(lhs, frame);
                    self.trace_place(rhs, frame);
                }
                return self.compare(types, op, l, r, span);
            }
        }
        let l = self.eval(lhs, frame)?;
        let r = self.eval(rhs, frame)?;
        if is_comparison(op) {
            return self.compare(&self.program.types, op, &l, &r, span);
        }
        if op == BinOp::Add {
            // Paid for before it is built: doubling a string in a chain of lets
            // must run out of budget, not out of memory.
            self.charge(cost::output_cost(&l, &r), span)?;
        }
        let overflow = || err(Code::E0503, span, "arithmetic overflow");
        Ok(match op {
            BinOp::Add => match (l, r) {
                (Value::Int(a), Value::Int(b)) => {
                    Value::Int(a.checked_add(b).ok_or_else(overflow)?)
                }
                (Value::Str(a), Value::Str(b)) => Value::Str(Arc::from(format!("{a}{b}"))),
                (Value::List(a), Value::List(b)) => {
                    Value::List(a.iter().chain(b.iter()).cloned().collect::<Vec<_>>().into())
                }
                (Value::Time(t), Value::Duration(d)) | (Value::Duration(d), Value::Time(t)) => {
                    Value::Time(t.checked_add(d).ok_or_else(overflow)?)
                }
                (Value::Duration(a), Value::Duration(b)) => {
                    Value::Duration(a.checked_add(b).ok_or_else(overflow)?)
                }
                (a, b) => float_op(&a, &b, span, "`+`", |x, y| x + y)?,
            },
            BinOp::Sub => match (l, r) {
                (Value::Int(a), Value::Int(b)) => {
                    Value::Int(a.checked_sub(b).ok_or_else(overflow)?)
                }
                (Value::Time(a), Value::Time(b)) => {
                    Value::Duration(a.checked_sub(b).ok_or_else(overflow)?)
                }
                (Value::Time(t), Value::Duration(d)) => {
                    Value::Time(t.checked_sub(d).ok_or_else(overflow)?)
                }
                (Value::Duration(a), Value::Duration(b)) => {
                    Value::Duration(a.checked_sub(b).ok_or_else(overflow)?)
                }
                (a, b) => float_op(&a, &b, span, "`-`", |x, y| x - y)?,
            },
            BinOp::Mul => match (l, r) {
                (Value::Int(a), Value::Int(b)) => {
                    Value::Int(a.checked_mul(b).ok_or_else(overflow)?)
                }
                (Value::Duration(d), Value::Int(n)) | (Value::Int(n), Value::Duration(d)) => {
                    Value::Duration(d.checked_mul(n).ok_or_else(overflow)?)
                }
                (a, b) => float_op(&a, &b, span, "`*`", |x, y| x * y)?,
            },
            BinOp::Div => match (l, r) {
                (Value::Int(_), Value::Int(0)) | (Value::Duration(_), Value::Int(0)) => {
                    return Err(err(Code::E0503, span, "division by zero"));
                }
                (Value::Int(a), Value::Int(b)) => {
                    Value::Int(a.checked_div(b).ok_or_else(overflow)?)
                }
                (Value::Duration(d), Value::Int(n)) => {
                    Value::Duration(d.checked_div(n).ok_or_else(overflow)?)
                }
                (a, b) if as_f64(&b) == Some(0.0) && as_f64(&a).is_some() => {
                    return Err(err(Code::E0503, span, "division by zero"));
                }
                (a, b) => float_op(&a, &b, span, "`/`", |x, y| x / y)?,
            },
            BinOp::Rem => match (l, r) {
                (Value::Int(_), Value::Int(0)) => {
                    return Err(err(Code::E0503, span, "division by zero"));
                }
                (Value::Int(a), Value::Int(b)) => {
                    Value::Int(a.checked_rem(b).ok_or_else(overflow)?)
                }
                (a, _) => return Err(kind_error(span, "`%` needs integers", &a)),
            },
            // Short-circuiting operators and comparisons returned above.
            other => unreachable!("{other:?} is not arithmetic"),
        })
    }
}

impl<'p> Evaluator<'p> {
    /// Counts work (one step, a built-in walking a list, `in` scanning one)
    /// against the budget, and now and then against the deadline. Once either
    /// is spent, every later charge fails too: the decision stops there.
    #[inline]
    pub(crate) fn charge(&mut self, cost: u64, span: Span) -> Result<(), EvalError> {
        self.steps = self.steps.saturating_add(cost);
        // Nearly every charge ends here: one add and one compare per step.
        if self.steps < self.checkpoint {
            return Ok(());
        }
        self.charge_checked(span)
    }

    /// What is left of the budget, plus one: how far a walk whose work is
    /// charged afterwards need go before that charge must fail.
    pub(crate) fn left(&self) -> u64 {
        self.budget.saturating_sub(self.steps).saturating_add(1)
    }

    /// [`Evaluator::charge`] past its checkpoint: the budget, the clock, or
    /// an evaluation already stopped.
    #[cold]
    #[inline(never)]
    fn charge_checked(&mut self, span: Span) -> Result<(), EvalError> {
        if self.steps > self.budget {
            self.exhausted = Some(Code::E0501);
        } else if self.steps >= self.next_clock_check {
            self.next_clock_check = self.steps.saturating_add(STEPS_PER_CLOCK_CHECK);
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                self.exhausted = Some(Code::E0505);
            }
        }
        self.checkpoint = match self.exhausted {
            Some(_) => 0,
            None => self.next_clock_check.min(self.budget.saturating_add(1)),
        };
        match self.exhausted {
            None => Ok(()),
            Some(Code::E0505) => Err(err(
                Code::E0505,
                span,
                "the decision ran past its deadline; it fails closed",
            )),
            Some(code) => Err(err(
                code,
                span,
                format!(
                    "evaluation took more than {} steps; the decision fails closed",
                    self.budget
                ),
            )),
        }
    }

    /// Computes a `let` the first time it is read; later reads use the value.
    pub(crate) fn compute_let(&mut self, i: usize, frame: &mut Frame<'p>) -> Result<(), EvalError> {
        if frame.lets[i].is_none() {
            let v = match frame.let_nodes.get(i) {
                Some(node) => node.run(self, frame)?,
                None => self.eval(&frame.let_exprs[i], frame)?,
            };
            frame.lets[i] = Some(v);
        }
        Ok(())
    }

    /// Records in the trace what evaluating `e`, a place read in place
    /// ([`place`]), would have: each link of its chain, innermost first,
    /// then `e` (constants are not recorded).
    fn trace_place(&mut self, e: &'p Expr, frame: &Frame<'p>) {
        if self.trace.is_none() {
            return;
        }
        if let ExprKind::Field { base, .. } | ExprKind::DynField { base, .. } = &e.kind {
            self.trace_place(base, frame);
        }
        if matches!(e.kind, ExprKind::Const(_)) {
            return;
        }
        let Some(value) = place(self.data, &self.program.types, frame, e) else {
            return;
        };
        let entry = TraceEntry {
            span: e.span,
            value: value.clone(),
            path: chain_path(e).filter(|(_, fields)| !fields.is_empty()),
        };
        if let Some(trace) = &mut self.trace {
            trace.push(entry);
        }
    }

    /// Computes the `let` at the root of a field chain, so the chain can be read in place.
    fn ensure_root(&mut self, e: &'p Expr, frame: &mut Frame<'p>) -> Result<(), EvalError> {
        let mut current = e;
        loop {
            match &current.kind {
                ExprKind::Field { base, .. } | ExprKind::DynField { base, .. } => current = base,
                ExprKind::Let(id) => return self.compute_let(id.index(), frame),
                _ => return Ok(()),
            }
        }
    }
}

static NONE: Value = Value::None;

/// The value of a constant, a local, a computed `let`, a data document, or a
/// field chain over those, by reference; `None` when it must be evaluated.
fn place<'a>(
    data: &'a [Value],
    types: &'a TypeTable,
    frame: &'a Frame<'_>,
    e: &'a Expr,
) -> Option<&'a Value> {
    match &e.kind {
        ExprKind::Const(v) => Some(v),
        ExprKind::Local(id) => Some(&frame.locals[id.index()]),
        ExprKind::Let(id) => frame.lets[id.index()].as_ref(),
        ExprKind::Data(id) => Some(&data[id.index()]),
        // `None` here lets the evaluator report what went wrong.
        ExprKind::Field {
            base,
            record,
            slot,
            name,
            optional_chain,
        } => field_of(
            types,
            place(data, types, frame, base)?,
            *record,
            *slot,
            name,
            *optional_chain,
        ),
        ExprKind::DynField { base, name, .. } => {
            Some(field_by_name(types, place(data, types, frame, base)?, name))
        }
        _ => None,
    }
}

/// A declared field of `value` (by slot, or by name through `any`), or the
/// error of reading a field of something that has none (`E0504`, at the base).
pub(crate) fn read_field(
    types: &TypeTable,
    value: &Value,
    (record, slot): (RecordId, u32),
    name: &str,
    optional_chain: bool,
    base_span: Span,
) -> EvalResult {
    match field_of(types, value, record, slot, name, optional_chain) {
        Some(v) => Ok(v.clone()),
        None => Err(err(
            Code::E0504,
            base_span,
            format!(
                "expected a record with `{name}` here, found {}",
                value.kind_name()
            ),
        )),
    }
}

/// Whether `value` holds field `name`: like a field read, by slot for the
/// checker's record type, else by name.
pub(crate) fn has_field(
    types: &TypeTable,
    value: &Value,
    slot: Option<(RecordId, u32)>,
    name: &str,
) -> bool {
    let field = match slot {
        Some((record, slot)) => field_of(types, value, record, slot, name, true),
        None => Some(field_by_name(types, value, name)),
    };
    field.is_some_and(|f| !f.is_none())
}

/// A declared field. By slot when the value has the record type the checker
/// saw; by name when it came through `any` (another record type, or a map).
/// `None` when the value has no fields at all.
pub(crate) fn field_of<'a>(
    types: &TypeTable,
    value: &'a Value,
    record: RecordId,
    slot: u32,
    name: &str,
    optional_chain: bool,
) -> Option<&'a Value> {
    match value {
        Value::Record(r) if r.ty == record => Some(&r.slots[slot as usize]),
        Value::Record(_) | Value::Map(_) => Some(field_by_name(types, value, name)),
        Value::None if optional_chain => Some(&NONE),
        _ => None,
    }
}

/// A field by name: a map's key, a record's declared field or one of its unknown fields.
/// What a comparison costs before it runs: ordering and matching read text;
/// the work of equality and `in`, which may descend into records and lists,
/// is counted as it is done (`compare_op`).
fn comparison_cost(op: BinOp, l: &Value, r: &Value) -> u64 {
    match op {
        BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq => cost::size(l).min(cost::size(r)),
        BinOp::Matches => r
            .as_str()
            .map_or(0, |p| cost::regex_cost(p, l.as_str().unwrap_or_default())),
        _ => 0,
    }
}

pub(crate) fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq
            | BinOp::NotEq
            | BinOp::Lt
            | BinOp::LtEq
            | BinOp::Gt
            | BinOp::GtEq
            | BinOp::In
            | BinOp::NotIn
            | BinOp::Matches
    )
}

/// A comparison's value; `work` counts the elements and text it looked at.
fn compare_op(
    types: &TypeTable,
    op: BinOp,
    l: &Value,
    r: &Value,
    span: Span,
    work: &mut u64,
    limit: u64,
) -> EvalResult {
    Ok(Value::Bool(match op {
        BinOp::Eq => equal_counted(types, l, r, work, limit),
        BinOp::NotEq => !equal_counted(types, l, r, work, limit),
        BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq => {
            let Some(ord) = compare(l, r) else {
                return Err(err(
                    Code::E0504,
                    span,
                    format!("cannot order {} and {}", l.kind_name(), r.kind_name()),
                ));
            };
            match op {
                BinOp::Lt => ord == Ordering::Less,
                BinOp::LtEq => ord != Ordering::Greater,
                BinOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }
        }
        BinOp::In => contains(types, r, l, span, work, limit)?,
        BinOp::NotIn => !contains(types, r, l, span, work, limit)?,
        BinOp::Matches => match (l, r) {
            (Value::Str(s), Value::Str(p)) => {
                let pattern = builtins::compiled_regex(p)
                    .map_err(|message| err(Code::E0502, span, message))?;
                pattern.is_match(s)
            }
            _ => false,
        },
        _ => unreachable!("not a comparison: {op:?}"),
    }))
}

fn float_op(a: &Value, b: &Value, span: Span, op: &str, f: impl Fn(f64, f64) -> f64) -> EvalResult {
    match (as_f64(a), as_f64(b)) {
        (Some(x), Some(y)) => Ok(Value::Float(f(x, y))),
        _ => Err(err(
            Code::E0504,
            span,
            format!(
                "cannot apply {op} to {} and {}",
                a.kind_name(),
                b.kind_name()
            ),
        )),
    }
}

/// An `any` value of the wrong kind reached an operation: an error, so the decision fails closed.
pub(crate) fn kind_error(span: Span, what: &str, found: &Value) -> EvalError {
    err(
        Code::E0504,
        span,
        format!("{what}, found {}", found.kind_name()),
    )
}

/// The elements a quantifier, comprehension or `for` clause walks; only `any`
/// values can be something else, and that is an error.
pub(crate) fn items_of(v: &Value, span: Span) -> Result<&[Value], EvalError> {
    match v {
        Value::List(items) => Ok(items),
        other => Err(kind_error(span, "only a list can be iterated", other)),
    }
}

fn contains(
    types: &TypeTable,
    collection: &Value,
    item: &Value,
    span: Span,
    work: &mut u64,
    limit: u64,
) -> Result<bool, EvalError> {
    Ok(match (collection, item) {
        (Value::List(items), _) => items
            .iter()
            .any(|i| equal_counted(types, i, item, work, limit)),
        (Value::Map(m), Value::Str(k)) => {
            *work += k.len() as u64 / 64;
            m.contains_key(k)
        }
        (Value::Str(s), Value::Str(part)) => {
            *work += (s.len() + part.len()) as u64 / 64;
            s.contains(&**part)
        }
        (Value::Map(_) | Value::Str(_), _) => false,
        (other, _) => {
            return Err(kind_error(
                span,
                "`in` needs a list, a map or a string",
                other,
            ));
        }
    })
}
