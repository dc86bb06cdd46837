//! A compiled policy set's decisions as a formula over the symbolic input.
//!
//! Each expression becomes a value and an error flag (the evaluator fails
//! closed: a clause whose condition errs is a deny finding no waiver
//! lifts), following the evaluator's order exactly: `and`, `or`, `??`,
//! `if` and quantifiers stop early, so an error past the point they stop
//! at is no error. What is not encoded is abstracted, never guessed: a
//! built-in on plain values becomes an uninterpreted function (the same
//! arguments give the same answer, in both policy sets), and a clause
//! that reads anything else holds and errs as two free booleans named by
//! its content, so a clause the two sets share abstracts to the same
//! booleans. A proof over abstractions holds for any behaviour of them;
//! a counterexample is only reported after the real evaluator agrees.

use crate::sym::{self, Encoded, Sym, Unsupported, and, equal, f, merge, not, or, str_lit, t};
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use warden_diagnostics::Span;
use warden_ir::builtins::{
    CollectionFn, GlobFn, RegexFn, SecretFn, SemverFn, StringFn, TimeFn, UrlFn,
};
use warden_ir::{
    BinOp, Builtin, Effect, Expr, ExprKind, Program, RuleId, TargetId, UndeclaredFields, Value,
};
use z3::FuncDecl;
use z3::Sort;
use z3::ast::{Ast, Bool, Dynamic, Int, String as Str};

/// How deep function calls may nest while encoding.
const MOST_CALL_DEPTH: u32 = 32;

/// Most expression nodes encoded for one policy set: past it the rest is
/// abstracted (a formula that size would not be solved in time anyway).
const MOST_NODES: usize = 2_000_000;

/// The most parts a value built while encoding may have: past it the
/// clause is abstracted.
const MOST_VALUE_PARTS: usize = 20_000;

/// A clause (or waiver condition) verify did not encode.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Abstraction {
    pub rule: String,
    /// `file:line:column` of the clause.
    pub location: String,
    /// What was not encoded, and where.
    pub why: String,
}

/// A built-in (or a pattern) left uninterpreted, applied to terms: what
/// refinement pins to the real answer at a candidate's arguments.
#[derive(Clone, Debug)]
pub(crate) struct Application {
    pub what: Applied,
    pub args: Vec<Dynamic>,
    /// `f(args)`: the value, whether it is present (optional results),
    /// whether it fails.
    pub value: Dynamic,
    pub present: Option<Bool>,
    pub fails: Option<Bool>,
    /// Its real answers on the witness strings (see [`WITNESSES`]).
    pub witnessed: Vec<Bool>,
    /// Its arguments are witnesses.
    pub among_witnesses: Bool,
}

#[derive(Clone, Debug)]
pub(crate) enum Applied {
    Builtin(Builtin),
    /// `s matches pattern`.
    Pattern(String),
}

/// Strings every uninterpreted built-in is told its real answer on
/// (besides the policy set's own string constants): a version, URLs,
/// addresses, hosts. With them the solver can pick an argument the
/// evaluator agrees with (a version that is valid, a URL whose scheme is
/// `https`); each answer is the built-in's own, so no input is ruled out.
const WITNESSES: &[&str] = &[
    "",
    "a",
    "1.0.0",
    "https://a.example",
    "https://a.example/x",
    "http://a.example",
    "a.example",
    "10.0.0.1",
    "8.8.8.8",
    "10.0.0.0/8",
    "*.example",
];

/// The most string constants of a policy set used as witnesses.
const MOST_WITNESSES: usize = 200;

/// What an expression is, and whether evaluating it fails.
#[derive(Clone, Debug)]
struct Val {
    v: Sym,
    err: Bool,
}

impl Val {
    fn ok(v: Sym) -> Val {
        Val { v, err: f() }
    }
}

struct Frame<'p> {
    locals: Vec<Option<Sym>>,
    lets: &'p [Expr],
    let_values: Vec<Option<Val>>,
}

/// A target's decision over the symbolic input.
pub(crate) struct Decision {
    pub allowed: Bool,
    /// Per rule of the target: one of its clauses holds for the input (a
    /// finding, whatever its effect), by rule name.
    pub fires: Vec<(String, Bool)>,
    /// What denies, by the rule it comes from (`None`: an undeclared field):
    /// its unwaived deny findings and its failures.
    pub denials: Vec<(Option<String>, Bool)>,
    /// Per rule: one of its clauses fails (a deny finding with a code).
    pub fails: Vec<(String, Bool)>,
    /// What allows, by rule: its allow findings.
    pub allows: Vec<(String, Bool)>,
    /// `default allow`: allowed when nothing denies.
    pub default_allow: bool,
}

impl Decision {
    /// Whether the target allows the input once `rule` is removed.
    pub(crate) fn allowed_without(&self, rule: &str) -> Bool {
        let denies: Vec<Bool> = self
            .denials
            .iter()
            .filter(|(name, _)| name.as_deref() != Some(rule))
            .map(|(_, d)| d.clone())
            .collect();
        let allows: Vec<Bool> = self
            .allows
            .iter()
            .filter(|(name, _)| name != rule)
            .map(|(_, a)| a.clone())
            .collect();
        if self.default_allow {
            not(&or(&denies))
        } else {
            and(&[not(&or(&denies)), or(&allows)])
        }
    }
}

pub(crate) struct Encoder<'p> {
    program: &'p Program,
    data: &'p [Value],
    data_syms: Vec<Option<Sym>>,
    data_waivers: &'p [warden_eval::DataWaiver],
    now: i64,
    depth: u32,
    nodes: usize,
    pub abstracted: Vec<Abstraction>,
    /// The rule and clause (or waiver) being encoded, for what it abstracts.
    current: Option<(RuleId, Span)>,
    pub applications: Vec<Application>,
    witnesses: Vec<String>,
}

impl<'p> Encoder<'p> {
    pub(crate) fn new(
        program: &'p Program,
        data: &'p [Value],
        data_waivers: &'p [warden_eval::DataWaiver],
        now: i64,
    ) -> Self {
        Encoder {
            program,
            data,
            data_syms: vec![None; data.len()],
            data_waivers,
            now,
            depth: 0,
            nodes: 0,
            abstracted: Vec::new(),
            current: None,
            applications: Vec::new(),
            witnesses: witnesses(program, data),
        }
    }

    fn location(&self, span: Span) -> String {
        let (file, line, column) = self.program.location(span);
        format!("{file}:{line}:{column}")
    }

    fn abstract_clause(&mut self, rule: RuleId, span: Span, why: &Unsupported) {
        let name = self.program.rule(rule).name.clone();
        let location = self.location(span);
        let why = format!("{} ({})", why.what, self.location(why.span));
        let abstraction = Abstraction {
            rule: name,
            location,
            why,
        };
        if !self.abstracted.contains(&abstraction) {
            self.abstracted.push(abstraction);
        }
    }

    /// Notes a built-in (or pattern) left uninterpreted in the clause being encoded.
    fn note_uninterpreted(&mut self, what: String, span: Span) {
        if let Some((rule, clause)) = self.current {
            self.abstract_clause(rule, clause, &Unsupported { what, span });
        }
    }

    /// The decision on `input` for `target`; `extended`: the input carries
    /// a field its type does not declare.
    pub(crate) fn decision(&mut self, target: TargetId, input: &Sym, extended: &Bool) -> Decision {
        let program = self.program;
        let target_def = program.target(target);
        let mut denials: Vec<(Option<String>, Bool)> = Vec::new();
        let mut allows = Vec::new();
        let mut allows_by_rule = Vec::new();
        let mut fires = Vec::new();
        let mut fails = Vec::new();
        if target_def.undeclared_fields == UndeclaredFields::Deny {
            denials.push((None, extended.clone()));
        }
        for &rule_id in &target_def.rules {
            let rule = program.rule(rule_id);
            let mut frame = Frame {
                locals: vec![None; rule.locals.max(1) as usize],
                lets: &rule.lets,
                let_values: vec![None; rule.lets.len()],
            };
            frame.locals[0] = Some(input.clone());
            let mut rule_fires = Vec::new();
            let mut rule_fails = Vec::new();
            let mut rule_allows = Vec::new();
            let mut rule_denies = Vec::new();
            for (index, clause) in rule.clauses.iter().enumerate() {
                self.current = Some((rule_id, clause.span));
                let (holds, errs) = match self.clause(clause, &mut frame) {
                    Ok(pair) => pair,
                    Err(why) => {
                        self.abstract_clause(rule_id, clause.span, &why);
                        let key = clause_key(program, self.data, rule_id, index);
                        (
                            Bool::new_const(format!("abstract:{key:016x}:holds")),
                            Bool::new_const(format!("abstract:{key:016x}:errs")),
                        )
                    }
                };
                // A clause that fails is a deny finding, whatever its effect,
                // and no waiver lifts it.
                denials.push((Some(rule.name.clone()), errs.clone()));
                rule_fails.push(errs.clone());
                rule_fires.push(holds.clone());
                match clause.effect {
                    Effect::Deny if !rule.enforce_warn => rule_denies.push(holds),
                    Effect::Allow => {
                        allows.push(holds.clone());
                        rule_allows.push(holds);
                    }
                    Effect::Deny | Effect::Warn => {}
                }
            }
            if !rule_denies.is_empty() {
                let waived = self.waived(rule_id, input);
                denials.push((
                    Some(rule.name.clone()),
                    and(&[or(&rule_denies), not(&waived)]),
                ));
            }
            fires.push((rule.name.clone(), or(&rule_fires)));
            fails.push((rule.name.clone(), or(&rule_fails)));
            allows_by_rule.push((rule.name.clone(), or(&rule_allows)));
        }
        let all: Vec<Bool> = denials.iter().map(|(_, d)| d.clone()).collect();
        let denied = or(&all);
        let allowed = if target_def.default_allow {
            not(&denied)
        } else {
            and(&[not(&denied), or(&allows)])
        };
        Decision {
            allowed,
            fires,
            denials,
            fails,
            allows: allows_by_rule,
            default_allow: target_def.default_allow,
        }
    }

    /// Whether a waiver in force lifts the rule's deny findings for this input.
    fn waived(&mut self, rule: RuleId, input: &Sym) -> Bool {
        let program = self.program;
        let mut applies = Vec::new();
        for waiver in program.waivers.iter().filter(|w| w.rule == rule) {
            // An expired waiver lifts nothing (the search goes on to the next).
            if self.now >= waiver.until {
                continue;
            }
            let Some(condition) = &waiver.condition else {
                applies.push(t());
                continue;
            };
            let mut frame = Frame {
                locals: vec![None; waiver.locals.max(1) as usize],
                lets: &[],
                let_values: Vec::new(),
            };
            frame.locals[0] = Some(input.clone());
            self.current = Some((rule, waiver.span));
            // A waiver whose condition fails does not apply.
            match self.expr(condition, &mut frame).and_then(|c| {
                let holds = as_bool(&c.v, condition.span)?;
                Ok(and(&[not(&c.err), holds]))
            }) {
                Ok(holds) => applies.push(holds),
                Err(why) => {
                    self.abstract_clause(rule, waiver.span, &why);
                    let key = waiver_key(program, self.data, waiver);
                    applies.push(Bool::new_const(format!("abstract:{key:016x}:waiver")));
                }
            }
        }
        let subject = program
            .target(program.rule(rule).target)
            .subject
            .as_ref()
            .and_then(|slots| slot_path(input, slots));
        for waiver in self.data_waivers.iter().filter(|w| w.waiver.rule == rule) {
            if self.now >= waiver.waiver.until {
                continue;
            }
            match (&waiver.subject, &subject) {
                (None, _) => applies.push(t()),
                (Some(name), Some(value)) => {
                    let (present, value) = value.split_optional();
                    match (sym::text(value), sym::try_lit(name)) {
                        (Sym::Str(s), Some(name)) => applies.push(and(&[present, s.eq(name)])),
                        // A subject z3 cannot write: whether it applies is
                        // left open, named by the field the subject is read
                        // from too (two sets may read it from others).
                        _ => {
                            let target = program.target(program.rule(rule).target);
                            let key = clause_key(program, self.data, rule, 0);
                            applies.push(Bool::new_const(format!(
                                "abstract:data-waiver:{}:{}:{:?}:{key:016x}",
                                waiver.waiver.name,
                                program.rule(rule).name,
                                target.subject,
                            )));
                            self.abstract_clause(
                                rule,
                                target.span,
                                &Unsupported {
                                    what: format!(
                                        "the data waiver `{}`, whose subject z3 cannot write",
                                        waiver.waiver.name
                                    ),
                                    span: target.span,
                                },
                            );
                        }
                    }
                }
                (Some(_), None) => {}
            }
        }
        or(&applies)
    }

    /// Whether a clause makes a finding, and whether it fails.
    fn clause(
        &mut self,
        clause: &'p warden_ir::Clause,
        frame: &mut Frame<'p>,
    ) -> Encoded<(Bool, Bool)> {
        let Some(iteration) = &clause.iteration else {
            let c = self.expr(&clause.condition, frame)?;
            let holds = as_bool(&c.v, clause.condition.span)?;
            return Ok((and(&[not(&c.err), holds]), c.err));
        };
        if iteration.strings || iteration.keys {
            return Err(Unsupported {
                what: "iterating over strings_in or keys".into(),
                span: iteration.collection.span,
            });
        }
        let collection = self.expr(&iteration.collection, frame)?;
        let items = list_items(&collection.v, iteration.collection.span)?;
        // The evaluator runs the condition for every element, recording
        // each failure and each finding.
        let mut holds = Vec::new();
        let mut errs = vec![collection.err.clone()];
        for (present, item) in items {
            frame.locals[iteration.local.index()] = Some(item);
            let c = self.expr(&clause.condition, frame)?;
            let value = as_bool(&c.v, clause.condition.span)?;
            holds.push(and(&[present.clone(), not(&c.err), value]));
            errs.push(and(&[present, c.err]));
        }
        frame.locals[iteration.local.index()] = None;
        let failed = collection.err;
        Ok((and(&[not(&failed), or(&holds)]), or(&errs)))
    }

    /// A record's field as the evaluator finds it: by slot when the record
    /// has the type the checker saw, else by name (a record that came
    /// through `any`); a name the type does not declare is `none` in a
    /// closed record, and unknown (not modelled) in an open one.
    fn field_of(
        &self,
        id: warden_ir::RecordId,
        fields: &[Sym],
        (checked, slot): (warden_ir::RecordId, u32),
        name: &str,
        span: Span,
    ) -> Encoded<Sym> {
        use warden_ir::TypeLookup;
        let def = self.program.types.record(id);
        let slot = if id == checked {
            Some(slot as usize)
        } else {
            def.slot(name)
        };
        match slot.and_then(|slot| fields.get(slot)) {
            Some(field) => Ok(field.clone()),
            None if def.open => Err(unsupported(
                span,
                "a field the record type does not declare",
            )),
            None => Ok(Sym::None),
        }
    }

    /// Whether a value holds a record of an open type (`...`).
    fn holds_open_record(&self, v: &Sym) -> bool {
        use warden_ir::TypeLookup;
        let mut stack = vec![v];
        let mut seen = 0;
        while let Some(v) = stack.pop() {
            seen += 1;
            if seen > MOST_VALUE_PARTS {
                return true;
            }
            match v {
                Sym::Record(id, fields) => {
                    if self.program.types.record(*id).open {
                        return true;
                    }
                    stack.extend(fields.iter());
                }
                Sym::Opt(_, inner) => stack.push(inner),
                Sym::List { items, .. } => stack.extend(items.iter().map(|(_, i)| i)),
                _ => {}
            }
        }
        false
    }

    /// Charges the work of handing on (copying) a value, and refuses one
    /// of more than [`MOST_VALUE_PARTS`] parts.
    fn charge(&mut self, v: &Sym, span: Span) -> Encoded<()> {
        let parts = sym::size(v, MOST_VALUE_PARTS);
        if parts > MOST_VALUE_PARTS {
            return Err(unsupported(span, "a value of more than 20,000 parts"));
        }
        self.nodes += parts;
        if self.nodes > MOST_NODES {
            return Err(unsupported(span, "a formula larger than verify builds"));
        }
        Ok(())
    }

    fn data_sym(&mut self, id: usize, span: Span) -> Encoded<Sym> {
        if let Some(sym) = &self.data_syms[id] {
            return Ok(sym.clone());
        }
        let sym = value_sym(&self.data[id], span)?;
        self.data_syms[id] = Some(sym.clone());
        Ok(sym)
    }

    fn expr(&mut self, e: &'p Expr, frame: &mut Frame<'p>) -> Encoded<Val> {
        self.nodes += 1;
        if self.nodes > MOST_NODES {
            return Err(unsupported(e.span, "a formula larger than verify builds"));
        }
        Ok(match &e.kind {
            ExprKind::Const(v) => Val::ok(value_sym(v, e.span)?),
            ExprKind::Local(id) => match frame.locals.get(id.index()).cloned().flatten() {
                Some(v) => {
                    self.charge(&v, e.span)?;
                    Val::ok(v)
                }
                None => return Err(unsupported(e.span, "a variable verify did not bind")),
            },
            ExprKind::Let(id) => {
                let index = id.index();
                if let Some(v) = frame.let_values[index].clone() {
                    self.charge(&v.v, e.span)?;
                    return Ok(v);
                }
                let lets = frame.lets;
                let v = self.expr(&lets[index], frame)?;
                frame.let_values[index] = Some(v.clone());
                v
            }
            ExprKind::Data(id) => {
                let v = self.data_sym(id.index(), e.span)?;
                self.charge(&v, e.span)?;
                Val::ok(v)
            }
            ExprKind::Now => Val::ok(Sym::Int(Int::from_i64(self.now))),
            ExprKind::Field {
                base,
                record: checked,
                slot,
                name,
                optional_chain,
            } => {
                let b = self.expr(base, frame)?;
                let (present, record) = b.v.split_optional();
                match record {
                    Sym::Record(id, fields) => {
                        let field = self.field_of(id, &fields, (*checked, *slot), name, e.span)?;
                        if *optional_chain {
                            Val {
                                v: field.optional(present),
                                err: b.err,
                            }
                        } else {
                            Val {
                                v: field,
                                err: or(&[b.err, not(&present)]),
                            }
                        }
                    }
                    Sym::None if *optional_chain => Val {
                        v: Sym::None,
                        err: b.err,
                    },
                    Sym::None => Val {
                        v: Sym::None,
                        err: t(),
                    },
                    other => {
                        return Err(unsupported(
                            e.span,
                            &format!("reading a field of a {}", other.kind()),
                        ));
                    }
                }
            }
            ExprKind::DynField { .. } => {
                return Err(unsupported(e.span, "reading a field by name (type any)"));
            }
            ExprKind::Index {
                base,
                index,
                optional_chain,
            } => {
                let b = self.expr(base, frame)?;
                let i = self.expr(index, frame)?;
                let (present, list) = b.v.split_optional();
                let err = if *optional_chain {
                    or(&[b.err, i.err])
                } else {
                    or(&[b.err, i.err, not(&present)])
                };
                match (list, &i.v) {
                    (Sym::List { items, dense: true }, Sym::Int(n)) => {
                        let mut value = Sym::None;
                        for (k, (held, item)) in items.iter().enumerate().rev() {
                            let here = and(&[
                                present.clone(),
                                held.clone(),
                                n.eq(Int::from_i64(k as i64)),
                            ]);
                            value = merge(&here, &item.clone().optional(t()), &value, e.span)?;
                        }
                        Val { v: value, err }
                    }
                    (Sym::None, _) => Val { v: Sym::None, err },
                    (other, _) => {
                        return Err(unsupported(e.span, &format!("indexing a {}", other.kind())));
                    }
                }
            }
            ExprKind::Has { base, slot, name } => {
                let Some(checked) = slot else {
                    return Err(unsupported(e.span, "`has` on a map or an any"));
                };
                let b = self.expr(base, frame)?;
                let (present, record) = b.v.split_optional();
                let held = match record {
                    Sym::Record(id, fields) => {
                        self.field_of(id, &fields, *checked, name, e.span)?
                            .split_optional()
                            .0
                    }
                    Sym::None => f(),
                    other => {
                        return Err(unsupported(e.span, &format!("`has` on a {}", other.kind())));
                    }
                };
                Val {
                    v: Sym::Bool(and(&[present, held])),
                    err: b.err,
                }
            }
            ExprKind::Call { builtin, args } => {
                let mut values = Vec::with_capacity(args.len());
                let mut errs = Vec::new();
                for a in args {
                    let v = self.expr(a, frame)?;
                    errs.push(v.err);
                    values.push(v.v);
                }
                let (v, call_err) = self.builtin(*builtin, &values, e.span)?;
                errs.push(call_err);
                Val { v, err: or(&errs) }
            }
            ExprKind::CallFn { func, args } => {
                if self.depth >= MOST_CALL_DEPTH {
                    return Err(unsupported(e.span, "calls nested deeper than 32"));
                }
                let function = &self.program.functions[func.index()];
                let mut callee = Frame {
                    locals: vec![None; function.locals.max(function.params) as usize],
                    lets: &[],
                    let_values: Vec::new(),
                };
                let mut errs = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    let v = self.expr(a, frame)?;
                    errs.push(v.err);
                    callee.locals[i] = Some(v.v);
                }
                self.depth += 1;
                let body = self.expr(&function.body, &mut callee);
                self.depth -= 1;
                let body = body?;
                errs.push(body.err);
                Val {
                    v: body.v,
                    err: or(&errs),
                }
            }
            ExprKind::Not(inner) => {
                let v = self.expr(inner, frame)?;
                let b = as_bool(&v.v, inner.span)?;
                Val {
                    v: Sym::Bool(not(&b)),
                    err: v.err,
                }
            }
            ExprKind::Neg(inner) => {
                let v = self.expr(inner, frame)?;
                let (present, value) = v.v.split_optional();
                let Sym::Int(i) = value else {
                    return Err(unsupported(e.span, "negating a float"));
                };
                Val {
                    v: Sym::Int(i.unary_minus()),
                    err: or(&[v.err, not(&present), i.eq(Int::from_i64(i64::MIN))]),
                }
            }
            ExprKind::ToFloat(_) => return Err(unsupported(e.span, "a float")),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.span, frame)?,
            ExprKind::MatchesConst { lhs, regex, .. } => {
                let l = self.expr(lhs, frame)?;
                let (present, value) = l.v.split_optional();
                match sym::text(value) {
                    // `none matches p` is false.
                    Sym::None => Val {
                        v: Sym::Bool(f()),
                        err: l.err,
                    },
                    Sym::Str(s) => Val {
                        v: Sym::Bool(and(&[present, self.matches(&s, regex.as_str(), e.span)])),
                        err: l.err,
                    },
                    other => {
                        return Err(unsupported(
                            e.span,
                            &format!("`matches` on a {}", other.kind()),
                        ));
                    }
                }
            }
            ExprKind::If {
                condition,
                then_branch,
                else_branch,
            } => {
                let c = self.expr(condition, frame)?;
                let cv = as_bool(&c.v, condition.span)?;
                let a = self.expr(then_branch, frame)?;
                let b = self.expr(else_branch, frame)?;
                Val {
                    v: merge(&cv, &a.v, &b.v, e.span)?,
                    err: or(&[c.err, and(&[cv.clone(), a.err]), and(&[not(&cv), b.err])]),
                }
            }
            ExprKind::Quantifier {
                all,
                local,
                collection,
                body,
            } => {
                let c = self.expr(collection, frame)?;
                let items = list_items(&c.v, collection.span)?;
                // In order: the walk stops at the first element that settles
                // it, or at the first error.
                let mut settled = f();
                let mut err = c.err.clone();
                for (present, item) in items {
                    frame.locals[local.index()] = Some(item);
                    let v = self.expr(body, frame)?;
                    let holds = as_bool(&v.v, body.span)?;
                    let reached = and(&[present, not(&settled), not(&err)]);
                    let decisive = if *all { not(&holds) } else { holds };
                    err = or(&[err, and(&[reached.clone(), v.err.clone()])]);
                    settled = or(&[settled, and(&[reached, not(&v.err), decisive])]);
                }
                frame.locals[local.index()] = None;
                // `all`: true unless settled by a counter-example; `any`: settled by a witness.
                let value = if *all { not(&settled) } else { settled };
                Val {
                    v: Sym::Bool(value),
                    err,
                }
            }
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut errs = Vec::new();
                for item in items {
                    let v = self.expr(item, frame)?;
                    errs.push(v.err);
                    out.push((t(), v.v));
                }
                let v = Sym::List {
                    items: out,
                    dense: true,
                };
                self.charge(&v, e.span)?;
                Val { v, err: or(&errs) }
            }
            ExprKind::Record { ty, values } => {
                let mut out = Vec::with_capacity(values.len());
                let mut errs = Vec::new();
                for value in values {
                    let v = self.expr(value, frame)?;
                    errs.push(v.err);
                    out.push(v.v);
                }
                let v = Sym::Record(*ty, out);
                self.charge(&v, e.span)?;
                Val { v, err: or(&errs) }
            }
            ExprKind::Comprehension {
                local,
                collection,
                element,
                filter,
            } => {
                let c = self.expr(collection, frame)?;
                let items = list_items(&c.v, collection.span)?;
                let mut out = Vec::new();
                let mut errs = vec![c.err];
                let mut dense = true;
                for (present, item) in items {
                    frame.locals[local.index()] = Some(item);
                    let kept = match filter {
                        Some(filter) => {
                            let v = self.expr(filter, frame)?;
                            errs.push(and(&[present.clone(), v.err]));
                            dense = false;
                            and(&[present, as_bool(&v.v, filter.span)?])
                        }
                        None => present,
                    };
                    let v = self.expr(element, frame)?;
                    errs.push(and(&[kept.clone(), v.err]));
                    out.push((kept, v.v));
                }
                frame.locals[local.index()] = None;
                let v = Sym::List { items: out, dense };
                self.charge(&v, e.span)?;
                Val { v, err: or(&errs) }
            }
            ExprKind::Error => {
                return Err(unsupported(e.span, "an expression that did not compile"));
            }
        })
    }

    fn binary(
        &mut self,
        op: BinOp,
        lhs: &'p Expr,
        rhs: &'p Expr,
        span: Span,
        frame: &mut Frame<'p>,
    ) -> Encoded<Val> {
        let l = self.expr(lhs, frame)?;
        let r = self.expr(rhs, frame)?;
        match op {
            BinOp::And | BinOp::Or => {
                let a = as_bool(&l.v, lhs.span)?;
                let b = as_bool(&r.v, rhs.span)?;
                // The right side runs only when the left does not settle it.
                let runs_right = if op == BinOp::And { a.clone() } else { not(&a) };
                let value = if op == BinOp::And {
                    and(&[a, b])
                } else {
                    or(&[a, b])
                };
                return Ok(Val {
                    v: Sym::Bool(value),
                    err: or(&[l.err.clone(), and(&[not(&l.err), runs_right, r.err])]),
                });
            }
            BinOp::Coalesce => {
                let (present, value) = l.v.split_optional();
                let v = match value {
                    Sym::None => r.v.clone(),
                    value => merge(&present, &value, &r.v, span)?,
                };
                return Ok(Val {
                    v,
                    err: or(&[l.err.clone(), and(&[not(&present), r.err])]),
                });
            }
            _ => {}
        }
        let err = or(&[l.err.clone(), r.err.clone()]);
        // An open record keeps undeclared fields, which equality compares
        // and verify does not model.
        // (Comparing with `none`, or with a value that holds no record,
        // looks at no field.)
        if matches!(op, BinOp::Eq | BinOp::NotEq | BinOp::In | BinOp::NotIn)
            && (self.holds_open_record(&l.v) || self.holds_open_record(&r.v))
            && holds_record(&l.v)
            && holds_record(&r.v)
        {
            return Err(unsupported(
                span,
                "comparing records that may carry undeclared fields",
            ));
        }
        let (v, op_err) = match op {
            BinOp::Eq => (Sym::Bool(equal(&l.v, &r.v, span)?), f()),
            BinOp::NotEq => (Sym::Bool(not(&equal(&l.v, &r.v, span)?)), f()),
            BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq => {
                let (pl, vl) = l.v.split_optional();
                let (pr, vr) = r.v.split_optional();
                let (vl, vr) = (sym::text(vl), sym::text(vr));
                // Ordering `none` (or kinds that do not order) is an error.
                let holds = match (&vl, &vr) {
                    (Sym::Int(a), Sym::Int(b)) => match op {
                        BinOp::Lt => a.lt(b),
                        BinOp::LtEq => a.le(b),
                        BinOp::Gt => a.gt(b),
                        _ => a.ge(b),
                    },
                    // Strings are not ordered here: z3 4.8 holds no
                    // character past U+2FFFF, and those order above all
                    // it holds, so an order proved would not be sound.
                    (Sym::Str(_), Sym::Str(_)) => {
                        return Err(unsupported(span, "ordering strings"));
                    }
                    (Sym::None, _) | (_, Sym::None) => f(),
                    _ => {
                        return Err(unsupported(
                            span,
                            &format!("ordering a {} and a {}", vl.kind(), vr.kind()),
                        ));
                    }
                };
                let unordered = if matches!(vl, Sym::None) || matches!(vr, Sym::None) {
                    t()
                } else {
                    or(&[not(&pl), not(&pr)])
                };
                (Sym::Bool(holds), unordered)
            }
            BinOp::In | BinOp::NotIn => {
                let (held, contained) = self.contains(&r.v, &l.v, span)?;
                let value = if op == BinOp::In {
                    contained
                } else {
                    not(&contained)
                };
                (Sym::Bool(value), held)
            }
            BinOp::Matches => {
                return Err(unsupported(span, "`matches` with a computed pattern"));
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul => {
                let (pl, vl) = l.v.split_optional();
                let (pr, vr) = r.v.split_optional();
                let (vl, vr) = (sym::text(vl), sym::text(vr));
                let absent = or(&[not(&pl), not(&pr)]);
                match (&vl, &vr) {
                    (Sym::Int(a), Sym::Int(b)) => {
                        let result = match op {
                            BinOp::Add => Int::add(&[a.clone(), b.clone()]),
                            BinOp::Sub => Int::sub(&[a.clone(), b.clone()]),
                            _ => Int::mul(&[a.clone(), b.clone()]),
                        };
                        too_large(&result, span)?;
                        let overflow = or(&[
                            result.lt(Int::from_i64(i64::MIN)),
                            result.gt(Int::from_i64(i64::MAX)),
                        ]);
                        (Sym::Int(result), or(&[absent, overflow]))
                    }
                    (Sym::Str(a), Sym::Str(b)) if op == BinOp::Add => {
                        let joined = Str::concat(&[a.clone(), b.clone()]);
                        too_large(&joined, span)?;
                        (Sym::Str(joined), absent)
                    }
                    _ => {
                        return Err(unsupported(
                            span,
                            &format!("arithmetic on a {} and a {}", vl.kind(), vr.kind()),
                        ));
                    }
                }
            }
            _ => return Err(unsupported(span, "division (verify does not encode it)")),
        };
        Ok(Val {
            v,
            err: or(&[err, op_err]),
        })
    }

    /// `item in collection`: (the operation fails, it holds).
    fn contains(&mut self, collection: &Sym, item: &Sym, span: Span) -> Encoded<(Bool, Bool)> {
        let (present, value) = collection.split_optional();
        match sym::text(value) {
            Sym::List { items, .. } => {
                let mut any = Vec::new();
                for (held, element) in &items {
                    any.push(and(&[held.clone(), equal(element, item, span)?]));
                }
                Ok((not(&present), and(&[present, or(&any)])))
            }
            Sym::Str(s) => {
                let (item_present, item) = item.split_optional();
                match sym::text(item) {
                    Sym::Str(part) => Ok((
                        not(&present),
                        and(&[present, item_present, s.contains(&part)]),
                    )),
                    // Anything but a string is in no string.
                    _ => Ok((not(&present), f())),
                }
            }
            // `x in none` is an error.
            Sym::None => Ok((t(), f())),
            other => Err(unsupported(span, &format!("`in` a {}", other.kind()))),
        }
    }

    /// A built-in call on encoded arguments: its value, and whether it fails.
    fn builtin(&mut self, builtin: Builtin, args: &[Sym], span: Span) -> Encoded<(Sym, Bool)> {
        let arg = |i: usize| {
            let (present, value) = args[i].split_optional();
            (present, sym::text(value))
        };
        match builtin {
            Builtin::Collections(CollectionFn::Count) => {
                let (present, value) = arg(0);
                let n = match value {
                    Sym::List { items, .. } => sym::count(&items),
                    Sym::Str(s) => s.length(),
                    Sym::Record(_, fields) => Int::from_i64(fields.len() as i64),
                    Sym::None => Int::from_i64(0),
                    other => {
                        return Err(unsupported(span, &format!("count of a {}", other.kind())));
                    }
                };
                Ok((Sym::Int(present.ite(&n, &Int::from_i64(0))), f()))
            }
            Builtin::Strings(
                which @ (StringFn::StartsWith | StringFn::EndsWith | StringFn::Contains),
            ) => {
                let (p0, s) = arg(0);
                let (p1, part) = arg(1);
                let (Sym::Str(s), Sym::Str(part)) = (s, part) else {
                    return Err(unsupported(span, "a string function on other values"));
                };
                let holds = match which {
                    StringFn::StartsWith => part.prefix(&s),
                    StringFn::EndsWith => part.suffix(&s),
                    _ => s.contains(&part),
                };
                Ok((Sym::Bool(holds), or(&[not(&p0), not(&p1)])))
            }
            Builtin::Time(TimeFn::Now) => Ok((Sym::Int(Int::from_i64(self.now)), f())),
            Builtin::Time(which @ (TimeFn::Days | TimeFn::Hours)) => {
                let (present, value) = arg(0);
                let Sym::Int(d) = value else {
                    return Err(unsupported(span, "days or hours of something else"));
                };
                let unit: i64 = if which == TimeFn::Days {
                    86_400_000_000
                } else {
                    3_600_000_000
                };
                // Rounded down: z3's `div` by a positive number is the floor.
                Ok((Sym::Int(d.div(Int::from_i64(unit))), not(&present)))
            }
            Builtin::Regex(RegexFn::RegexMatch) => {
                let (p0, s) = arg(0);
                match (s, sym::text(args[1].clone())) {
                    (Sym::Str(s), Sym::Str(pattern)) if sym::literal(&pattern).is_some() => {
                        let text = sym::literal(&pattern).unwrap_or_default();
                        if warden_ir::compile_pattern(&text).is_err() {
                            return Ok((Sym::Bool(f()), t()));
                        }
                        Ok((Sym::Bool(self.matches(&s, &text, span)), not(&p0)))
                    }
                    _ => self.uninterpreted(builtin, args, span),
                }
            }
            _ => self.uninterpreted(builtin, args, span),
        }
    }

    /// A built-in verify does not model, on strings, ints and bools: an
    /// uninterpreted function of its arguments (one for its value, one for
    /// whether it fails), the same in both policy sets.
    fn uninterpreted(
        &mut self,
        builtin: Builtin,
        args: &[Sym],
        span: Span,
    ) -> Encoded<(Sym, Bool)> {
        #[derive(Clone, Copy)]
        enum Out {
            Bool,
            Int,
            Str,
            OptStr,
        }
        let out = match builtin {
            Builtin::Strings(
                StringFn::Lower | StringFn::Upper | StringFn::Trim | StringFn::Replace,
            ) => Out::Str,
            Builtin::Url(UrlFn::UrlScheme | UrlFn::UrlHost) => Out::OptStr,
            Builtin::Url(UrlFn::HostMatches)
            | Builtin::Net(_)
            | Builtin::Glob(GlobFn::GlobMatch)
            | Builtin::Semver(SemverFn::SemverValid | SemverFn::SemverSatisfies)
            | Builtin::Secrets(SecretFn::LooksLikeSecret)
            | Builtin::Regex(RegexFn::RegexMatch) => Out::Bool,
            Builtin::Semver(SemverFn::SemverCompare) => Out::Int,
            Builtin::Secrets(SecretFn::SecretKind) | Builtin::Regex(RegexFn::RegexFind) => {
                Out::OptStr
            }
            _ => {
                return Err(unsupported(
                    span,
                    &format!("the built-in `{}`", builtin.name()),
                ));
            }
        };
        let mut absent = Vec::new();
        let mut values: Vec<Dynamic> = Vec::new();
        for a in args {
            let (present, value) = a.split_optional();
            absent.push(not(&present));
            match sym::text(value) {
                Sym::Str(s) => values.push(Dynamic::from_ast(&s)),
                Sym::Int(i) => values.push(Dynamic::from_ast(&i)),
                Sym::Bool(b) => values.push(Dynamic::from_ast(&b)),
                other => {
                    return Err(unsupported(
                        span,
                        &format!("the built-in `{}` on a {}", builtin.name(), other.kind()),
                    ));
                }
            }
        }
        self.note_uninterpreted(
            format!("the built-in `{}`, left uninterpreted", builtin.name()),
            span,
        );
        let domain: Vec<Sort> = values.iter().map(|v| v.get_sort()).collect();
        let domain_refs: Vec<&Sort> = domain.iter().collect();
        let signature: String = domain
            .iter()
            .map(|s| format!("{s}"))
            .collect::<Vec<_>>()
            .join(",");
        let apply = |suffix: &str, range: &Sort| -> Dynamic {
            let decl = FuncDecl::new(
                format!("builtin:{}:{suffix}({signature})", builtin.name()),
                &domain_refs,
                range,
            );
            let args: Vec<&dyn Ast> = values.iter().map(|v| v as &dyn Ast).collect();
            decl.apply(&args)
        };
        let fails = (!builtin.is_total())
            .then(|| apply("fails", &Sort::bool()).as_bool().unwrap_or_else(t));
        let range = match out {
            Out::Bool => Sort::bool(),
            Out::Int => Sort::int(),
            Out::Str | Out::OptStr => Sort::string(),
        };
        let applied = apply("value", &range);
        let present = matches!(out, Out::OptStr)
            .then(|| apply("present", &Sort::bool()).as_bool().unwrap_or_else(f));
        let value = match out {
            Out::Bool => Sym::Bool(applied.as_bool().unwrap_or_else(f)),
            Out::Int => Sym::Int(applied.as_int().unwrap_or_else(|| Int::from_i64(0))),
            Out::Str => Sym::Str(applied.as_string().unwrap_or_else(|| Str::from(""))),
            Out::OptStr => Sym::Str(applied.as_string().unwrap_or_else(|| Str::from("")))
                .optional(present.clone().unwrap_or_else(f)),
        };
        let (witnessed, among_witnesses) =
            self.witness_facts(builtin, &values, &applied, present.as_ref(), fails.as_ref());
        self.applications.push(Application {
            what: Applied::Builtin(builtin),
            args: values.clone(),
            value: applied,
            present,
            fails: fails.clone(),
            witnessed,
            among_witnesses,
        });
        absent.push(fails.unwrap_or_else(f));
        Ok((value, or(&absent)))
    }
    /// The built-in's real answers on the witnesses, as facts about this
    /// application (`arg == w → f(arg) == f(w)`), for calls on strings.
    fn witness_facts(
        &mut self,
        builtin: Builtin,
        args: &[Dynamic],
        applied: &Dynamic,
        present: Option<&Bool>,
        fails: Option<&Bool>,
    ) -> (Vec<Bool>, Bool) {
        let strings: Option<Vec<Str>> = args.iter().map(|a| a.as_string()).collect();
        let Some(strings) = strings else {
            return (Vec::new(), t());
        };
        // One argument: every witness; two: pairs of the first twenty.
        let per_argument = match strings.len() {
            1 => self.witnesses.len(),
            2 => self.witnesses.len().min(20),
            _ => return (Vec::new(), t()),
        };
        let among: Vec<Bool> = strings
            .iter()
            .map(|s| {
                let options: Vec<Bool> = self
                    .witnesses
                    .iter()
                    .take(per_argument)
                    .map(|w| s.eq(str_lit(w)))
                    .collect();
                or(&options)
            })
            .collect();
        let among = and(&among);
        let mut choices: Vec<Vec<&str>> = vec![Vec::new()];
        for _ in &strings {
            let mut next = Vec::new();
            for prefix in &choices {
                for w in self.witnesses.iter().take(per_argument) {
                    let mut c = prefix.clone();
                    c.push(w.as_str());
                    next.push(c);
                }
            }
            choices = next;
        }
        let cx = warden_ir::builtins::CallContext {
            now: self.now,
            types: &self.program.types,
        };
        let mut facts = Vec::new();
        for choice in &choices {
            let values: Vec<Value> = choice.iter().map(|w| Value::str(w)).collect();
            let real = builtin.call(&values, &cx);
            let mut answer = Vec::new();
            if let Some(fails) = fails {
                answer.push(fails.eq(Bool::from_bool(real.is_err())));
            }
            match &real {
                Ok(Value::None) => {
                    if let Some(p) = present {
                        answer.push(not(p));
                    }
                }
                Ok(value) => {
                    if let Some(p) = present {
                        answer.push(p.clone());
                    }
                    match value {
                        Value::Bool(b) => {
                            if let Some(v) = applied.as_bool() {
                                answer.push(v.eq(Bool::from_bool(*b)));
                            }
                        }
                        Value::Int(i) => {
                            if let Some(v) = applied.as_int() {
                                answer.push(v.eq(Int::from_i64(*i)));
                            }
                        }
                        Value::Str(text) => match (applied.as_string(), sym::try_lit(text)) {
                            (Some(v), Some(text)) => answer.push(v.eq(text)),
                            _ => continue,
                        },
                        _ => continue,
                    }
                }
                Err(_) => {}
            }
            let at: Vec<Bool> = strings
                .iter()
                .zip(choice)
                .map(|(s, w)| s.eq(str_lit(w)))
                .collect();
            facts.push(and(&at).implies(and(&answer)));
        }
        (facts, among)
    }

    /// `s matches pattern` (a search, as the `regex` crate's `is_match`): the
    /// pattern as a z3 regular expression when it translates, else an
    /// uninterpreted predicate of the pattern's text.
    fn matches(&mut self, s: &Str, pattern: &str, span: Span) -> Bool {
        match crate::regex::translate(pattern) {
            Some(re) => s.regex_matches(&re),
            None => {
                self.note_uninterpreted(
                    format!(
                        "the pattern `{}`, left uninterpreted",
                        pattern.chars().take(60).collect::<String>()
                    ),
                    span,
                );
                let mut hasher = DefaultHasher::new();
                pattern.hash(&mut hasher);
                let decl = FuncDecl::new(
                    format!("matches:{:016x}", hasher.finish()),
                    &[&Sort::string()],
                    &Sort::bool(),
                );
                let applied = decl.apply(&[s as &dyn Ast]);
                self.applications.push(Application {
                    what: Applied::Pattern(pattern.to_string()),
                    args: vec![Dynamic::from_ast(s)],
                    value: applied.clone(),
                    present: None,
                    fails: None,
                    witnessed: Vec::new(),
                    among_witnesses: t(),
                });
                applied.as_bool().unwrap_or_else(f)
            }
        }
    }
}

/// The most nodes a term may have written out (its shared parts counted
/// each time they occur): z3 rewrites a term whole before a check's time
/// limit starts, so a string doubled twenty times over (`let v1 = v0 + v0`
/// …) would hold it for minutes.
const MOST_TERM_NODES: usize = 20_000;

/// Whether a value may hold a record (anywhere inside).
fn holds_record(v: &Sym) -> bool {
    match v {
        Sym::Record(..) => true,
        Sym::Opt(_, inner) => holds_record(inner),
        Sym::List { items, .. } => items.iter().any(|(_, i)| holds_record(i)),
        _ => false,
    }
}

fn too_large(term: &impl Ast, span: Span) -> Encoded<()> {
    let mut seen = 0usize;
    let mut stack: Vec<Dynamic> = vec![Dynamic::from_ast(term)];
    while let Some(t) = stack.pop() {
        seen += 1;
        if seen > MOST_TERM_NODES {
            return Err(unsupported(
                span,
                "a term of more than 20,000 parts written out (a value doubled over and over)",
            ));
        }
        stack.extend(t.children());
    }
    Ok(())
}

fn unsupported(span: Span, what: &str) -> Unsupported {
    Unsupported {
        what: what.to_string(),
        span,
    }
}

fn as_bool(v: &Sym, span: Span) -> Encoded<Bool> {
    match v {
        Sym::Bool(b) => Ok(b.clone()),
        other => Err(unsupported(
            span,
            &format!("a {} where a bool is needed", other.kind()),
        )),
    }
}

/// The slots of a list (a `none` is an error the caller already counts).
fn list_items(v: &Sym, span: Span) -> Encoded<Vec<(Bool, Sym)>> {
    let (present, value) = v.split_optional();
    match value {
        Sym::List { items, .. } => Ok(items
            .into_iter()
            .map(|(held, item)| (and(&[present.clone(), held]), item))
            .collect()),
        Sym::None => Ok(Vec::new()),
        other => Err(unsupported(
            span,
            &format!("iterating over a {}", other.kind()),
        )),
    }
}

/// A constant value, symbolically: at most 100,000 parts (a data
/// document larger than that abstracts what reads it).
fn value_sym(v: &Value, span: Span) -> Encoded<Sym> {
    let mut left = 100_000usize;
    constant(v, span, &mut left)
}

fn constant(v: &Value, span: Span, left: &mut usize) -> Encoded<Sym> {
    *left = left
        .checked_sub(1)
        .ok_or_else(|| unsupported(span, "a constant of more than 100,000 parts"))?;
    Ok(match v {
        Value::None => Sym::None,
        Value::Bool(b) => Sym::Bool(Bool::from_bool(*b)),
        Value::Int(i) | Value::Time(i) | Value::Duration(i) => Sym::Int(Int::from_i64(*i)),
        Value::Str(s) => Sym::Str(
            sym::try_lit(s)
                .ok_or_else(|| unsupported(span, "a string past U+2FFFF (z3 4.8 holds none)"))?,
        ),
        Value::List(items) => {
            let mut out = Vec::with_capacity(items.len().min(*left));
            for item in items.iter() {
                out.push((t(), constant(item, span, left)?));
            }
            Sym::List {
                items: out,
                dense: true,
            }
        }
        Value::Record(r) => {
            let mut out = Vec::with_capacity(r.slots.len());
            for slot in r.slots.iter() {
                out.push(constant(slot, span, left)?);
            }
            Sym::Record(r.ty, out)
        }
        Value::Float(_) => Sym::Opaque("float"),
        Value::Map(_) => Sym::Opaque("map"),
    })
}

fn slot_path(value: &Sym, slots: &[u32]) -> Option<Sym> {
    let mut current = value.clone();
    let mut present = t();
    for &slot in slots {
        let (p, inner) = current.split_optional();
        present = and(&[present, p]);
        match inner {
            Sym::Record(_, fields) => current = fields.get(slot as usize)?.clone(),
            _ => return None,
        }
    }
    Some(current.optional(present))
}

/// A clause's content, spans left out: the two policy sets of a comparison
/// abstract a clause they share to the same booleans.
fn clause_key(program: &Program, data: &[Value], rule: RuleId, index: usize) -> u64 {
    let rule_def = program.rule(rule);
    let clause = &rule_def.clauses[index];
    let mut hashing = Hashing {
        program,
        data,
        lets: &rule_def.lets,
        let_hashes: vec![None; rule_def.lets.len()],
        fn_hashes: vec![None; program.functions.len()],
        type_hashes: HashMap::new(),
    };
    let mut hasher = DefaultHasher::new();
    // The input's type too: the same text reads other things from
    // another type (`strings_in` sees undeclared fields' names).
    hashing
        .ty(&program.target(rule_def.target).ty, 0)
        .hash(&mut hasher);
    rule_def.name.hash(&mut hasher);
    rule_def.enforce_warn.hash(&mut hasher);
    clause.effect.hash(&mut hasher);
    if let Some(it) = &clause.iteration {
        (it.strings, it.keys, it.local.0).hash(&mut hasher);
        hashing.expr(&it.collection, 0).hash(&mut hasher);
    }
    hashing.expr(&clause.condition, 0).hash(&mut hasher);
    hasher.finish()
}

/// A waiver condition's content, as [`clause_key`].
fn waiver_key(program: &Program, data: &[Value], waiver: &warden_ir::Waiver) -> u64 {
    let mut hashing = Hashing {
        program,
        data,
        lets: &[],
        let_hashes: Vec::new(),
        fn_hashes: vec![None; program.functions.len()],
        type_hashes: HashMap::new(),
    };
    let mut hasher = DefaultHasher::new();
    let target = program.rule(waiver.rule).target;
    hashing.ty(&program.target(target).ty, 0).hash(&mut hasher);
    waiver.name.hash(&mut hasher);
    if let Some(condition) = &waiver.condition {
        hashing.expr(condition, 0).hash(&mut hasher);
    }
    hasher.finish()
}

/// Hashes expressions by content; each `let` and function once (a chain
/// of lets that each read the one before twice is 2^n reads, not 2^n
/// hashes).
struct Hashing<'p> {
    program: &'p Program,
    data: &'p [Value],
    lets: &'p [Expr],
    let_hashes: Vec<Option<u64>>,
    fn_hashes: Vec<Option<u64>>,
    /// Each record type's content, hashed once.
    type_hashes: HashMap<warden_ir::RecordId, u64>,
}

impl Hashing<'_> {
    /// A type by its content (field names, optionality, members, openness).
    fn ty(&mut self, ty: &warden_ir::Ty, depth: u32) -> u64 {
        use warden_ir::{Ty, TypeLookup};
        let mut hasher = DefaultHasher::new();
        std::mem::discriminant(ty).hash(&mut hasher);
        if depth > 64 {
            return hasher.finish();
        }
        match ty {
            Ty::Record(id) => {
                if let Some(h) = self.type_hashes.get(id) {
                    return *h;
                }
                let def = self.program.types.record(*id);
                def.open.hash(&mut hasher);
                for field in &def.fields {
                    (&field.name, field.optional).hash(&mut hasher);
                    self.ty(&field.ty, depth + 1).hash(&mut hasher);
                }
                let h = hasher.finish();
                self.type_hashes.insert(*id, h);
                return h;
            }
            Ty::Enum(id) => self
                .program
                .types
                .enumeration(*id)
                .members
                .hash(&mut hasher),
            Ty::List(inner) | Ty::Map(inner) | Ty::Optional(inner) => {
                self.ty(inner, depth + 1).hash(&mut hasher)
            }
            _ => {}
        }
        hasher.finish()
    }

    fn expr(&mut self, e: &Expr, depth: u32) -> u64 {
        let mut hasher = DefaultHasher::new();
        if depth > MOST_CALL_DEPTH {
            "deep".hash(&mut hasher);
            return hasher.finish();
        }
        let mut nodes = Vec::new();
        e.walk(&mut |node| nodes.push(node));
        for node in nodes {
            std::mem::discriminant(&node.kind).hash(&mut hasher);
            match &node.kind {
                ExprKind::Const(v) => format!("{v:?}").hash(&mut hasher),
                ExprKind::Local(id) => id.0.hash(&mut hasher),
                ExprKind::Let(id) => {
                    let index = id.index();
                    let known = self.let_hashes.get(index).copied().flatten();
                    let h = match known {
                        Some(h) => h,
                        None => {
                            let lets = self.lets;
                            let h = lets.get(index).map_or(0, |l| self.expr(l, depth + 1));
                            if let Some(slot) = self.let_hashes.get_mut(index) {
                                *slot = Some(h);
                            }
                            h
                        }
                    };
                    h.hash(&mut hasher);
                }
                ExprKind::Data(id) => {
                    self.program.data[id.index()].name.hash(&mut hasher);
                    format!("{:?}", self.data.get(id.index())).hash(&mut hasher);
                }
                ExprKind::Field {
                    name,
                    optional_chain,
                    record,
                    ..
                } => {
                    (name, optional_chain).hash(&mut hasher);
                    self.ty(&warden_ir::Ty::Record(*record), 0)
                        .hash(&mut hasher);
                }
                ExprKind::DynField {
                    name,
                    optional_chain,
                    ..
                } => (name, optional_chain).hash(&mut hasher),
                ExprKind::Index { optional_chain, .. } => optional_chain.hash(&mut hasher),
                ExprKind::Has { name, slot, .. } => (name, slot.is_some()).hash(&mut hasher),
                ExprKind::Call { builtin, args } => (builtin.name(), args.len()).hash(&mut hasher),
                ExprKind::CallFn { func, args } => {
                    args.len().hash(&mut hasher);
                    let h = match self.fn_hashes[func.index()] {
                        Some(h) => h,
                        None => {
                            // A function's body has no lets of the rule's.
                            let lets = std::mem::take(&mut self.lets);
                            let let_hashes = std::mem::take(&mut self.let_hashes);
                            let program = self.program;
                            let h = self.expr(&program.functions[func.index()].body, depth + 1);
                            self.lets = lets;
                            self.let_hashes = let_hashes;
                            self.fn_hashes[func.index()] = Some(h);
                            h
                        }
                    };
                    h.hash(&mut hasher);
                }
                ExprKind::Binary { op, .. } => format!("{op:?}").hash(&mut hasher),
                ExprKind::MatchesConst { regex, .. } => regex.as_str().hash(&mut hasher),
                ExprKind::Quantifier { all, local, .. } => (all, local.0).hash(&mut hasher),
                ExprKind::Comprehension { local, filter, .. } => {
                    (local.0, filter.is_some()).hash(&mut hasher)
                }
                ExprKind::Record { ty, values } => {
                    use warden_ir::TypeLookup;
                    values.len().hash(&mut hasher);
                    for field in &self.program.types.record(*ty).fields {
                        (&field.name, field.optional).hash(&mut hasher);
                    }
                }
                ExprKind::List(items) => items.len().hash(&mut hasher),
                _ => {}
            }
        }
        hasher.finish()
    }
}

/// The witnesses for a policy set: [`WITNESSES`], then its string
/// constants (literals, and strings in its data), at most
/// [`MOST_WITNESSES`] of at most 200 characters.
fn witnesses(program: &Program, data: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = WITNESSES.iter().map(|w| w.to_string()).collect();
    let add = |text: &str, out: &mut Vec<String>| {
        if out.len() < MOST_WITNESSES
            && text.chars().count() <= 200
            && sym::escape(text).is_some()
            && !out.iter().any(|w| w == text)
        {
            out.push(text.to_string());
        }
    };
    for rule in &program.rules {
        for e in rule.expressions() {
            e.walk(&mut |node| {
                if let ExprKind::Const(Value::Str(text)) = &node.kind {
                    add(text, &mut out);
                }
            });
        }
    }
    let mut stack: Vec<&Value> = data.iter().collect();
    while let Some(v) = stack.pop() {
        if out.len() >= MOST_WITNESSES {
            break;
        }
        match v {
            Value::Str(text) => add(text, &mut out),
            Value::List(items) => stack.extend(items.iter()),
            Value::Record(r) => stack.extend(r.slots.iter()),
            Value::Map(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    out
}
