//! The compiled policy set.

use crate::{Builtin, RecordId, Ty, TypeTable, Value};
use regex::Regex;
use rustc_hash::FxHashMap;
use std::sync::Arc;
use warden_diagnostics::{LineIndex, Span};

macro_rules! id {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}
id!(LocalId, FnId, TargetId, RuleId, DataId, LetId);

/// A whole compiled policy set. Immutable; shared by every decision.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub types: TypeTable,
    pub files: Vec<SourceInfo>,
    pub targets: Vec<Target>,
    pub data: Vec<DataDecl>,
    pub rules: Vec<Rule>,
    pub functions: Vec<Function>,
    pub waivers: Vec<Waiver>,
}

impl Program {
    pub fn target_by_name(&self, name: &str) -> Option<TargetId> {
        self.targets
            .iter()
            .position(|t| &*t.name == name)
            .map(|i| TargetId(i as u32))
    }
    pub fn rule_by_name(&self, name: &str) -> Option<RuleId> {
        self.rules
            .iter()
            .position(|r| r.name == name)
            .map(|i| RuleId(i as u32))
    }
    pub fn data_by_name(&self, name: &str) -> Option<DataId> {
        self.data
            .iter()
            .position(|d| &*d.name == name)
            .map(|i| DataId(i as u32))
    }
    pub fn target(&self, id: TargetId) -> &Target {
        &self.targets[id.index()]
    }
    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id.index()]
    }
    /// File, 1-based line and column of a span.
    pub fn location(&self, span: Span) -> (&str, u32, u32) {
        let info = &self.files[span.file.0 as usize];
        let lc = info
            .line_index
            .line_col(&info.text, span.range.start as usize);
        (&info.path, lc.line, lc.column)
    }
}

#[derive(Clone, Debug)]
pub struct SourceInfo {
    /// The path as the user named it, relative to the policy folder.
    pub path: String,
    pub text: Arc<str>,
    pub line_index: Arc<LineIndex>,
}

/// What a clause (or a finding) does: written as `deny`, `allow` or `warn`,
/// and serialized so.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    Deny,
    Allow,
    Warn,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Deny => "deny",
            Effect::Allow => "allow",
            Effect::Warn => "warn",
        }
    }
}

/// A rule's `@severity`, lowest first: written and serialized as `low`,
/// `medium`, `high` or `critical`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// What an input field the target's type does not declare makes of a
/// decision (a typo such as `local_acounts` is otherwise silent in an open
/// record).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UndeclaredFields {
    /// Nothing: open records take extensions silently.
    Allow,
    /// A warning finding per field (`W0007`), with the line and a suggestion.
    #[default]
    Warn,
    /// A deny finding per field: the decision is deny.
    Deny,
}

impl UndeclaredFields {
    pub const ALL: [UndeclaredFields; 3] = [
        UndeclaredFields::Allow,
        UndeclaredFields::Warn,
        UndeclaredFields::Deny,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            UndeclaredFields::Allow => "allow",
            UndeclaredFields::Warn => "warn",
            UndeclaredFields::Deny => "deny",
        }
    }
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct Target {
    pub name: Arc<str>,
    pub ty: Ty,
    /// `default allow`: compliant unless a rule denies.
    pub default_allow: bool,
    /// Slot path of the field that names a finding's subject (`@subject("metadata.name")`).
    pub subject: Option<Vec<u32>>,
    /// What a field the type does not declare (kept by an open record)
    /// makes of a decision: `@undeclared_fields(allow|warn|deny)`.
    pub undeclared_fields: UndeclaredFields,
    pub rules: Vec<RuleId>,
    pub index: TargetIndex,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct DataDecl {
    pub name: Arc<str>,
    pub ty: Ty,
    pub default: Option<Value>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Rule {
    /// `package.rule`.
    pub name: String,
    pub target: TargetId,
    pub severity: Severity,
    pub control: Option<String>,
    pub enforce_warn: bool,
    pub tags: Vec<String>,
    pub doc: Option<String>,
    /// The rule's name.
    pub span: Span,
    /// The whole declaration, attributes included.
    pub item_span: Span,
    /// Slots in the rule's frame: 0 is the input, then `for` and quantifier bindings.
    pub locals: u32,
    /// `let` bindings, evaluated lazily, at most once per decision.
    pub lets: Vec<Expr>,
    pub clauses: Vec<Clause>,
}

#[derive(Clone, Debug)]
pub struct Clause {
    pub effect: Effect,
    pub iteration: Option<Iteration>,
    pub condition: Expr,
    pub message: Option<Vec<MessagePart>>,
    pub obligations: Vec<(Arc<str>, Expr)>,
    pub span: Span,
    /// The input path the condition reads first, for `input_path` (slots, field names).
    pub input_path: Option<InputPath>,
}

#[derive(Clone, Debug)]
pub struct Iteration {
    pub local: LocalId,
    pub collection: Expr,
    /// The input path of the collection, when it is one.
    pub path: Option<InputPath>,
    /// The collection is `strings_in(…)` of the value at `path`: element `i`
    /// is the `i`-th string inside it, not the `i`-th item of a list there.
    pub strings: bool,
    /// The collection is `keys(…)` of the map at `path`: element `i` is its
    /// `i`-th key (in sorted order), and a finding points at that entry.
    pub keys: bool,
}

/// A path into the input, as field names (for `$.spec.auth.sso`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputPath {
    /// Rooted at the iteration element instead of the input.
    pub from_element: bool,
    pub fields: Vec<Arc<str>>,
}

#[derive(Clone, Debug)]
pub enum MessagePart {
    Text(String),
    Expr(Expr),
}

#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub params: u32,
    pub locals: u32,
    pub body: Expr,
}

#[derive(Clone, Debug)]
pub struct Waiver {
    pub name: String,
    pub rule: RuleId,
    /// Evaluated in a frame whose slot 0 is the input.
    pub condition: Option<Expr>,
    pub locals: u32,
    pub until: i64,
    pub reason: String,
    pub approved_by: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Its static type is `any`: at run time it may be of a kind the operation
    /// using it cannot take (and that fails closed), so it is never "infallible".
    pub dynamic: bool,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Const(Value),
    Local(LocalId),
    Let(LetId),
    Data(DataId),
    Now,
    /// A declared record field, by slot (its name kept for explanations).
    Field {
        base: Box<Expr>,
        /// The record type the slot belongs to.
        record: RecordId,
        slot: u32,
        name: Arc<str>,
        optional_chain: bool,
    },
    /// A field looked up by name: on `any` values and maps.
    DynField {
        base: Box<Expr>,
        name: Arc<str>,
        optional_chain: bool,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
        optional_chain: bool,
    },
    /// Whether a record slot (or a dynamic field) holds a value.
    Has {
        base: Box<Expr>,
        /// The record type and slot the checker saw (`None` for maps and `any`).
        slot: Option<(RecordId, u32)>,
        name: Arc<str>,
    },
    Call {
        builtin: Builtin,
        args: Vec<Expr>,
    },
    CallFn {
        func: FnId,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    /// An `int` used where a `float` is expected.
    ToFloat(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `s matches "literal"`, the pattern compiled once.
    MatchesConst {
        lhs: Box<Expr>,
        regex: Arc<Regex>,
        /// What matching one byte may cost ([`crate::Pattern::weight`]).
        weight: u64,
    },
    If {
        condition: Box<Expr>,
        then_branch: Box<Expr>,
        else_branch: Box<Expr>,
    },
    Quantifier {
        all: bool,
        local: LocalId,
        collection: Box<Expr>,
        body: Box<Expr>,
    },
    List(Vec<Expr>),
    /// A record literal; values in the slot order of its type.
    Record {
        ty: RecordId,
        values: Vec<Expr>,
    },
    Comprehension {
        local: LocalId,
        collection: Box<Expr>,
        element: Box<Expr>,
        filter: Option<Box<Expr>>,
    },
    /// Stands in for an expression that failed to check; never in a program that compiled.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    In,
    NotIn,
    Matches,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// Which clauses of a target can apply, by literal equality tests on the input.
///
/// A clause whose condition starts (after infallible conjuncts) with
/// `input.path == "lit"` or `input.path in ["a", "b"]` is listed under those
/// literals; at decision time only the clauses under the input's actual value
/// are evaluated. Skipping is exact: such a clause's `and` chain is false for
/// any other value, and nothing before the test can fail.
#[derive(Clone, Debug, Default)]
pub struct TargetIndex {
    /// Clauses that are always evaluated, as (rule, clause) in rule order.
    pub unguarded: Vec<(RuleId, u32)>,
    /// Guarded clauses: one entry per distinct input path tested.
    pub guards: Vec<GuardIndex>,
}

#[derive(Clone, Debug)]
pub struct GuardIndex {
    /// Slot path from the input root to a string field.
    pub slots: Vec<u32>,
    pub by_value: FxHashMap<Arc<str>, Vec<(RuleId, u32)>>,
}

impl Expr {
    /// Calls `f` on this expression and every sub-expression, parents first.
    pub fn walk<'e>(&'e self, f: &mut impl FnMut(&'e Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Let(_)
            | ExprKind::Data(_)
            | ExprKind::Now
            | ExprKind::Error => {}
            ExprKind::Field { base, .. }
            | ExprKind::DynField { base, .. }
            | ExprKind::Has { base, .. }
            | ExprKind::Not(base)
            | ExprKind::Neg(base)
            | ExprKind::ToFloat(base) => base.walk(f),
            ExprKind::Index { base, index, .. } => {
                base.walk(f);
                index.walk(f);
            }
            ExprKind::Call { args, .. }
            | ExprKind::CallFn { args, .. }
            | ExprKind::List(args)
            | ExprKind::Record { values: args, .. } => args.iter().for_each(|a| a.walk(f)),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            ExprKind::MatchesConst { lhs, .. } => lhs.walk(f),
            ExprKind::If {
                condition,
                then_branch,
                else_branch,
            } => {
                condition.walk(f);
                then_branch.walk(f);
                else_branch.walk(f);
            }
            ExprKind::Quantifier {
                collection, body, ..
            } => {
                collection.walk(f);
                body.walk(f);
            }
            ExprKind::Comprehension {
                collection,
                element,
                filter,
                ..
            } => {
                collection.walk(f);
                element.walk(f);
                if let Some(filter) = filter {
                    filter.walk(f);
                }
            }
        }
    }
}

impl Expr {
    /// Calls `f` on this expression and every sub-expression, parents
    /// first, mutably.
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        f(self);
        match &mut self.kind {
            ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Let(_)
            | ExprKind::Data(_)
            | ExprKind::Now
            | ExprKind::Error => {}
            ExprKind::Field { base, .. }
            | ExprKind::DynField { base, .. }
            | ExprKind::Has { base, .. }
            | ExprKind::Not(base)
            | ExprKind::Neg(base)
            | ExprKind::ToFloat(base)
            | ExprKind::MatchesConst { lhs: base, .. } => base.walk_mut(f),
            ExprKind::Index { base, index, .. } => {
                base.walk_mut(f);
                index.walk_mut(f);
            }
            ExprKind::Call { args, .. }
            | ExprKind::CallFn { args, .. }
            | ExprKind::List(args)
            | ExprKind::Record { values: args, .. } => args.iter_mut().for_each(|a| a.walk_mut(f)),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk_mut(f);
                rhs.walk_mut(f);
            }
            ExprKind::If {
                condition,
                then_branch,
                else_branch,
            } => {
                condition.walk_mut(f);
                then_branch.walk_mut(f);
                else_branch.walk_mut(f);
            }
            ExprKind::Quantifier {
                collection, body, ..
            } => {
                collection.walk_mut(f);
                body.walk_mut(f);
            }
            ExprKind::Comprehension {
                collection,
                element,
                filter,
                ..
            } => {
                collection.walk_mut(f);
                element.walk_mut(f);
                if let Some(filter) = filter {
                    filter.walk_mut(f);
                }
            }
        }
    }
}

impl Rule {
    /// Every expression of the rule, mutably (see [`Rule::expressions`]).
    pub fn expressions_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        self.lets
            .iter_mut()
            .chain(self.clauses.iter_mut().flat_map(|c| {
                c.iteration
                    .iter_mut()
                    .map(|it| &mut it.collection)
                    .chain(std::iter::once(&mut c.condition))
                    .chain(c.message.iter_mut().flatten().filter_map(|p| match p {
                        MessagePart::Expr(e) => Some(e),
                        MessagePart::Text(_) => None,
                    }))
                    .chain(c.obligations.iter_mut().map(|(_, e)| e))
            }))
    }

    /// Every expression of the rule: lets, iterations, conditions, messages, obligations.
    pub fn expressions(&self) -> impl Iterator<Item = &Expr> {
        self.lets.iter().chain(self.clauses.iter().flat_map(|c| {
            c.iteration
                .iter()
                .map(|it| &it.collection)
                .chain(std::iter::once(&c.condition))
                .chain(c.message.iter().flatten().filter_map(|p| match p {
                    MessagePart::Expr(e) => Some(e),
                    MessagePart::Text(_) => None,
                }))
                .chain(c.obligations.iter().map(|(_, e)| e))
        }))
    }
}

impl Program {
    /// The data documents that deciding `target` may read (through its rules,
    /// the functions they call, and their waivers).
    pub fn data_read_by(&self, target: TargetId) -> Vec<DataId> {
        let mut data = Vec::new();
        let mut fns_seen = vec![false; self.functions.len()];
        let mut pending: Vec<&Expr> = Vec::new();
        for &rule in &self.target(target).rules {
            pending.extend(self.rule(rule).expressions());
            pending.extend(
                self.waivers
                    .iter()
                    .filter(|w| w.rule == rule)
                    .filter_map(|w| w.condition.as_ref()),
            );
        }
        while let Some(expr) = pending.pop() {
            let mut calls = Vec::new();
            expr.walk(&mut |e| match &e.kind {
                ExprKind::Data(id) if !data.contains(id) => data.push(*id),
                ExprKind::CallFn { func, .. } => calls.push(*func),
                _ => {}
            });
            for func in calls {
                if !std::mem::replace(&mut fns_seen[func.index()], true) {
                    pending.push(&self.functions[func.index()].body);
                }
            }
        }
        data.sort();
        data
    }
}
