//! A compile-time bound on what deciding a rule costs, in the sizes of the
//! collections it walks: `O(|manifest.spec.endpoints| × |data.egress|)`.
//!
//! The bound counts walks: a `for` clause, a quantifier or comprehension
//! over a collection multiplies the cost of what it does per element by
//! the collection's size; `x in c` and a built-in given a collection (or a
//! text) are linear in it. It is an upper bound by shape, not by value: a
//! walk that stops early, or a map looked up by key, is still counted
//! whole. `let` bindings are counted once (they are evaluated at most once
//! per decision), and a function's body where it is called.

use crate::{BinOp, Expr, ExprKind, Function, LocalId, Program, Rule};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// A sum of products of collection sizes; only the products no other
/// product contains are kept (`|a|` is dropped beside `|a| × |b|`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CostBound {
    /// Each product, its sizes' names sorted; `[]` is a constant.
    terms: BTreeSet<Vec<String>>,
    /// The analysis gave up (calls nested too deep, too much to walk, too
    /// many products): no bound is claimed, `O(?)`, over any cap.
    unbounded: bool,
}

/// Most products a bound keeps before it gives up.
const MOST_TERMS: usize = 64;
/// Most expressions one rule's analysis visits before it gives up.
const MOST_STEPS: usize = 100_000;
/// The longest name of a size shown (a name built by nested calls grows).
const NAME_CHARS: usize = 120;
/// What names a literal: no size (a literal list costs a constant).
const LITERAL: &str = "";

impl CostBound {
    /// `O(1)`.
    pub fn constant() -> CostBound {
        CostBound {
            terms: BTreeSet::from([Vec::new()]),
            unbounded: false,
        }
    }

    /// No bound claimed.
    fn unbounded() -> CostBound {
        CostBound {
            terms: BTreeSet::new(),
            unbounded: true,
        }
    }

    /// Whether the analysis gave up.
    pub fn is_unbounded(&self) -> bool {
        self.unbounded
    }

    /// `O(|size|)` (a literal: `O(1)`).
    fn linear(size: String) -> CostBound {
        if size == LITERAL {
            return CostBound::constant();
        }
        CostBound {
            terms: BTreeSet::from([vec![size]]),
            unbounded: false,
        }
    }

    fn add(&mut self, other: CostBound) {
        if self.unbounded || other.unbounded {
            *self = CostBound::unbounded();
            return;
        }
        self.terms.extend(other.terms);
        self.prune();
    }

    fn plus(mut self, other: CostBound) -> CostBound {
        self.add(other);
        self
    }

    /// Every product multiplied by `size`.
    fn times(&self, size: &str) -> CostBound {
        if self.unbounded || size == LITERAL {
            return self.clone();
        }
        let mut out = CostBound::default();
        for term in &self.terms {
            let mut term = term.clone();
            term.push(size.to_string());
            term.sort();
            out.terms.insert(term);
        }
        out.prune();
        out
    }

    /// Drops each product that another one contains.
    fn prune(&mut self) {
        let all: Vec<Vec<String>> = self.terms.iter().cloned().collect();
        self.terms.retain(|t| {
            !all.iter()
                .any(|other| other != t && other.len() > t.len() && contains(other, t))
        });
        if self.terms.len() > MOST_TERMS {
            *self = CostBound::unbounded();
        }
    }

    /// The largest number of sizes multiplied in one product (0: constant).
    pub fn degree(&self) -> usize {
        self.terms.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// The bound's value with each collection of size `size(name)`.
    pub fn at(&self, size: impl Fn(&str) -> u64) -> u128 {
        if self.unbounded {
            return u128::MAX;
        }
        self.terms
            .iter()
            .map(|term| {
                term.iter().fold(1u128, |acc, name| {
                    acc.saturating_mul(u128::from(size(name)))
                })
            })
            .fold(0u128, u128::saturating_add)
    }

    /// The sizes the bound names.
    pub fn sizes(&self) -> BTreeSet<&str> {
        self.terms.iter().flatten().map(String::as_str).collect()
    }
}

/// Whether the multiset `big` holds every element of `small`.
fn contains(big: &[String], small: &[String]) -> bool {
    let mut left: Vec<&String> = big.iter().collect();
    small.iter().all(|s| {
        left.iter()
            .position(|b| *b == s)
            .map(|i| left.remove(i))
            .is_some()
    })
}

impl fmt::Display for CostBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unbounded {
            return f.write_str("O(?)");
        }
        let mut terms: Vec<&Vec<String>> = self.terms.iter().collect();
        terms.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        let shown: Vec<String> = terms
            .iter()
            .map(|t| {
                if t.is_empty() {
                    "1".to_string()
                } else {
                    t.iter()
                        .map(|s| format!("|{s}|"))
                        .collect::<Vec<_>>()
                        .join(" × ")
                }
            })
            .collect();
        write!(f, "O({})", shown.join(" + "))
    }
}

/// The cost bound of deciding `rule`: its clauses, their iterations, and
/// its `let` bindings once each.
pub fn rule_cost(program: &Program, rule: &Rule) -> CostBound {
    let root = program.target(rule.target).name.to_string();
    let mut walk = Walk {
        program,
        names: HashMap::from([(0, root)]),
        local_types: HashMap::from([(0, program.target(rule.target).ty.clone())]),
        lets: &rule.lets,
        depth: 0,
        steps: 0,
        gave_up: false,
    };
    let mut total = CostBound::constant();
    for e in &rule.lets {
        total.add(walk.expr(e));
    }
    for clause in &rule.clauses {
        // The element's name first: the condition reads it.
        let size = clause.iteration.as_ref().map(|it| {
            let size = walk.size_name(&it.collection);
            walk.names.insert(it.local.0, format!("{size}[]"));
            walk.bind_element(it.local, &it.collection);
            size
        });
        let mut per_element = walk.expr(&clause.condition);
        for (_, o) in &clause.obligations {
            per_element.add(walk.expr(o));
        }
        for part in clause.message.iter().flatten() {
            if let crate::MessagePart::Expr(e) = part {
                per_element.add(walk.expr(e));
                // A message writes its values out whole.
                if walk.walks(e) {
                    per_element.add(CostBound::linear(walk.size_name(e)));
                }
            }
        }
        // A deny finding may be excused: each waiver of the rule is
        // looked at once per finding.
        if clause.effect == crate::Effect::Deny {
            for waiver in program
                .waivers
                .iter()
                .filter(|w| program.rule(w.rule).name == rule.name)
            {
                if let Some(condition) = &waiver.condition {
                    per_element.add(walk.expr(condition));
                }
            }
        }
        match (&clause.iteration, size) {
            (Some(it), Some(size)) => {
                total.add(walk.expr(&it.collection));
                total.add(per_element.times(&size));
            }
            _ => total.add(per_element),
        }
    }
    if walk.gave_up {
        return CostBound::unbounded();
    }
    total
}

/// Deepest nesting of function calls followed (functions cannot recurse;
/// this only bounds the walk itself).
const CALL_DEPTH: usize = 32;

struct Walk<'a> {
    program: &'a Program,
    /// What each local names: the rule's input, or the element of a
    /// collection (`manifest.spec.endpoints[]`).
    names: HashMap<u32, String>,
    /// What each loop variable holds, when the collection's type is known
    /// (an element compared whole walks what it holds).
    local_types: HashMap<u32, crate::Ty>,
    lets: &'a [Expr],
    depth: usize,
    /// Expressions visited: past `MOST_STEPS` the analysis gives up (each
    /// call is walked again where it is made, so a chain of calls that
    /// call twice would take exponential time).
    steps: usize,
    gave_up: bool,
}

impl Walk<'_> {
    fn expr(&mut self, e: &Expr) -> CostBound {
        self.steps += 1;
        if self.steps > MOST_STEPS || self.gave_up {
            self.gave_up = true;
            return CostBound::constant();
        }
        match &e.kind {
            ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Let(_)
            | ExprKind::Data(_)
            | ExprKind::Now
            | ExprKind::Error => CostBound::constant(),
            ExprKind::Field { base, .. }
            | ExprKind::DynField { base, .. }
            | ExprKind::Has { base, .. }
            | ExprKind::Not(base)
            | ExprKind::Neg(base)
            | ExprKind::ToFloat(base)
            | ExprKind::MatchesConst { lhs: base, .. } => self.expr(base),
            ExprKind::Index { base, index, .. } => self.expr(base).plus(self.expr(index)),
            ExprKind::Binary { op, lhs, rhs } => {
                let mut both = self.expr(lhs).plus(self.expr(rhs));
                // Comparing two collections walks them (`==` element by
                // element, ordering too); a text is one value.
                if matches!(
                    op,
                    BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq
                ) {
                    for side in [lhs, rhs] {
                        if self.walks(side) {
                            both.add(CostBound::linear(self.size_name(side)));
                        }
                    }
                }
                match op {
                    // Membership in a literal list is a constant's worth.
                    BinOp::In | BinOp::NotIn
                        if !matches!(rhs.kind, ExprKind::Const(_) | ExprKind::List(_)) =>
                    {
                        both.plus(CostBound::linear(self.size_name(rhs)))
                    }
                    _ => both,
                }
            }
            ExprKind::Call { builtin, args } => {
                // A collection built-in walks what it is given: linear in
                // each argument. The others work on one value (a text's
                // length is not a collection's size).
                let walks = matches!(builtin, crate::Builtin::Collections(_));
                // Writing a value out, or searching it, walks it whole.
                let writes = matches!(
                    builtin,
                    crate::Builtin::Strings(
                        crate::builtins::StringFn::ToString | crate::builtins::StringFn::Join
                    ) | crate::Builtin::Secrets(crate::builtins::SecretFn::StringsIn)
                );
                let mut cost = CostBound::constant();
                for a in args {
                    cost.add(self.expr(a));
                    let literal = matches!(a.kind, ExprKind::Const(_) | ExprKind::List(_));
                    if !literal && (walks || (writes && self.walks(a))) {
                        cost.add(CostBound::linear(self.size_name(a)));
                    }
                }
                cost
            }
            ExprKind::CallFn { func, args } => {
                let mut cost = CostBound::constant();
                for a in args {
                    cost.add(self.expr(a));
                }
                let function = &self.program.functions[func.0 as usize];
                cost.plus(self.function(function, args))
            }
            ExprKind::If {
                condition,
                then_branch,
                else_branch,
            } => self
                .expr(condition)
                .plus(self.expr(then_branch))
                .plus(self.expr(else_branch)),
            ExprKind::Quantifier {
                local,
                collection,
                body,
                ..
            } => self.walk(*local, collection, &[body]),
            ExprKind::Comprehension {
                local,
                collection,
                element,
                filter,
            } => {
                let mut parts: Vec<&Expr> = vec![element];
                if let Some(f) = filter {
                    parts.push(f);
                }
                self.walk(*local, collection, &parts)
            }
            ExprKind::List(items) | ExprKind::Record { values: items, .. } => {
                let mut cost = CostBound::constant();
                for i in items {
                    cost.add(self.expr(i));
                }
                cost
            }
        }
    }

    /// `parts`, once per element of `collection`, the element in `local`.
    fn walk(&mut self, local: LocalId, collection: &Expr, parts: &[&Expr]) -> CostBound {
        let size = self.size_name(collection);
        self.names.insert(local.0, format!("{size}[]"));
        self.bind_element(local, collection);
        let mut per_element = CostBound::constant();
        for p in parts {
            per_element.add(self.expr(p));
        }
        self.expr(collection).plus(per_element.times(&size))
    }

    /// A function's body, its parameters named by what the call passes.
    fn function(&mut self, function: &Function, args: &[Expr]) -> CostBound {
        if self.depth >= CALL_DEPTH {
            self.gave_up = true;
            return CostBound::constant();
        }
        let names: HashMap<u32, String> = (0..function.params)
            .map(|i| {
                let name = args
                    .get(i as usize)
                    .map_or_else(|| format!("{}#{i}", function.name), |a| self.size_name(a));
                (i, name)
            })
            .collect();
        let mut inner = Walk {
            program: self.program,
            names,
            local_types: HashMap::new(),
            lets: &[],
            depth: self.depth + 1,
            steps: self.steps,
            gave_up: false,
        };
        let cost = inner.expr(&function.body);
        self.steps = inner.steps;
        self.gave_up |= inner.gave_up;
        cost
    }

    /// Whether the value of `e` is a collection walked when compared or
    /// written out: a list, a map, an `any`, or a record holding one, by
    /// the type of the field, data document or `let` it reads. (A loop
    /// variable or a parameter is not typed here: counted as one value.)
    fn walks(&self, e: &Expr) -> bool {
        use crate::{Ty, TypeLookup};
        fn ty_walks(types: &crate::TypeTable, ty: &Ty, depth: u32) -> bool {
            if depth > 16 {
                return true;
            }
            match ty {
                Ty::List(_) | Ty::Map(_) | Ty::Any => true,
                Ty::Optional(inner) => ty_walks(types, inner, depth + 1),
                Ty::Record(id) => {
                    let def = types.record(*id);
                    def.open || def.fields.iter().any(|f| ty_walks(types, &f.ty, depth + 1))
                }
                _ => false,
            }
        }
        let types = &self.program.types;
        match &e.kind {
            ExprKind::Field { record, slot, .. } => types
                .record(*record)
                .fields
                .get(*slot as usize)
                .is_some_and(|f| ty_walks(types, &f.ty, 0)),
            ExprKind::DynField { .. } | ExprKind::Comprehension { .. } => true,
            ExprKind::Local(l) => self
                .local_types
                .get(&l.0)
                .is_some_and(|ty| ty_walks(types, ty, 0)),
            ExprKind::Data(id) => ty_walks(types, &self.program.data[id.0 as usize].ty, 0),
            ExprKind::Let(id) => self.lets.get(id.0 as usize).is_some_and(|l| self.walks(l)),
            ExprKind::Binary {
                op: BinOp::Coalesce,
                lhs,
                rhs,
            } => self.walks(lhs) || self.walks(rhs),
            ExprKind::Call {
                builtin: crate::Builtin::Collections(c),
                ..
            } => matches!(
                c,
                crate::builtins::CollectionFn::Keys
                    | crate::builtins::CollectionFn::Values
                    | crate::builtins::CollectionFn::Unique
                    | crate::builtins::CollectionFn::Sort
                    | crate::builtins::CollectionFn::Flatten
            ),
            _ => false,
        }
    }

    /// Records what a loop variable over `collection` holds, when its
    /// type is known: the element type of the list read.
    fn bind_element(&mut self, local: LocalId, collection: &Expr) {
        match self.type_of(collection).map(|ty| ty.present().clone()) {
            Some(crate::Ty::List(inner)) => {
                self.local_types.insert(local.0, (*inner).clone());
            }
            _ => {
                self.local_types.remove(&local.0);
            }
        }
    }

    /// The type of what `e` reads, where it is a field, a data document,
    /// a `let`, a loop variable, or `x ?? default`.
    fn type_of(&self, e: &Expr) -> Option<crate::Ty> {
        use crate::TypeLookup;
        match &e.kind {
            ExprKind::Field { record, slot, .. } => self
                .program
                .types
                .record(*record)
                .fields
                .get(*slot as usize)
                .map(|f| f.read_ty()),
            ExprKind::Data(id) => Some(self.program.data[id.0 as usize].ty.clone()),
            ExprKind::Let(id) => self.lets.get(id.0 as usize).and_then(|l| self.type_of(l)),
            ExprKind::Local(l) => self.local_types.get(&l.0).cloned(),
            ExprKind::Binary {
                op: BinOp::Coalesce,
                lhs,
                ..
            } => self.type_of(lhs),
            _ => None,
        }
    }

    /// What a collection (or text) is called in a bound: its path from the
    /// input, a data document or an element (`manifest.spec.endpoints`).
    fn size_name(&self, e: &Expr) -> String {
        let name = self.full_name(e);
        if name.chars().count() > NAME_CHARS {
            let cut: String = name.chars().take(NAME_CHARS).collect();
            format!("{cut}…")
        } else {
            name
        }
    }

    /// A call's arguments as a name shows them (a literal as `[…]`).
    fn arg_names(&self, args: &[Expr]) -> String {
        let names: Vec<String> = args
            .iter()
            .map(|a| match self.size_name(a) {
                name if name == LITERAL => "[…]".to_string(),
                name => name,
            })
            .collect();
        names.join(", ")
    }

    fn full_name(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Const(_) | ExprKind::List(_) => LITERAL.to_string(),
            ExprKind::Local(l) => self.names.get(&l.0).cloned().unwrap_or_else(|| "…".into()),
            ExprKind::Let(l) => self
                .lets
                .get(l.0 as usize)
                .map_or_else(|| "…".into(), |e| self.size_name(e)),
            ExprKind::Data(d) => format!("data.{}", self.program.data[d.0 as usize].name),
            ExprKind::Field { base, name, .. } | ExprKind::DynField { base, name, .. } => {
                format!("{}.{name}", self.size_name(base))
            }
            ExprKind::Index { base, .. } => format!("{}[…]", self.size_name(base)),
            ExprKind::Call { builtin, args } => {
                format!("{}({})", builtin.name(), self.arg_names(args))
            }
            ExprKind::Comprehension { collection, .. } => self.size_name(collection),
            ExprKind::CallFn { func, args } => {
                let name = &self.program.functions[func.0 as usize].name;
                format!("{name}({})", self.arg_names(args))
            }
            ExprKind::Binary {
                op: BinOp::Coalesce,
                lhs,
                ..
            } => self.size_name(lhs),
            _ => "…".into(),
        }
    }
}
