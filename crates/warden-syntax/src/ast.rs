//! The abstract syntax tree. Node names follow the grammar's nonterminals.
//!
//! Every node carries its byte range. Broken input is normal here (the editor
//! parses half-typed files), so the tree has `Error` variants at item,
//! statement and expression level and optional parts where a mistake can
//! leave a hole.

use warden_diagnostics::TextRange;

/// An identifier as written, with its range.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub text: String,
    pub range: TextRange,
}

/// A dotted path such as `microapps.identity.sso_required`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub segments: Vec<Name>,
    pub range: TextRange,
}

impl Path {
    pub fn to_dotted(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct SourceFile {
    pub package: Option<PackageDecl>,
    pub imports: Vec<ImportDecl>,
    pub items: Vec<Item>,
}

impl SourceFile {
    /// Every type expression of the file, nested ones too, each before
    /// those inside it.
    pub fn type_exprs(&self) -> Vec<&TypeExpr> {
        fn visit<'a>(ty: &'a TypeExpr, out: &mut Vec<&'a TypeExpr>) {
            out.push(ty);
            match &ty.kind {
                TypeExprKind::Record { fields, .. } => {
                    fields.iter().for_each(|field| visit(&field.ty, out))
                }
                TypeExprKind::Union(members) => members.iter().for_each(|m| visit(m, out)),
                TypeExprKind::Optional(inner)
                | TypeExprKind::List(inner)
                | TypeExprKind::Map(inner) => visit(inner, out),
                TypeExprKind::Named(_)
                | TypeExprKind::Any
                | TypeExprKind::Literal(_)
                | TypeExprKind::Schema(_)
                | TypeExprKind::Error => {}
            }
        }
        let mut out = Vec::new();
        for item in &self.items {
            match &item.kind {
                ItemKind::Type(t) => visit(&t.ty, &mut out),
                ItemKind::Target(t) => visit(&t.ty, &mut out),
                ItemKind::Data(d) => visit(&d.ty, &mut out),
                ItemKind::Fn(f) => {
                    for param in &f.params {
                        visit(&param.ty, &mut out);
                    }
                    if let Some(ret) = &f.ret {
                        visit(ret, &mut out);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Every record field declared in the file's type expressions, nested
    /// ones too, in order.
    pub fn record_fields(&self) -> Vec<&FieldDecl> {
        self.type_exprs()
            .into_iter()
            .flat_map(|ty| match &ty.kind {
                TypeExprKind::Record { fields, .. } => fields.iter().collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The JSON files the file names, as written (relative to the file):
    /// `schema "…"` types and `file("…")` data defaults.
    pub fn named_files(&self) -> Vec<&str> {
        let schemas = self
            .type_exprs()
            .into_iter()
            .filter_map(|ty| match &ty.kind {
                TypeExprKind::Schema(path) => Some(path.value.as_str()),
                _ => None,
            });
        let data = self.items.iter().filter_map(|item| match &item.kind {
            ItemKind::Data(d) => d.default.as_ref()?.data_file().map(|(path, _)| path),
            _ => None,
        });
        schemas.chain(data).collect()
    }

    /// Where each declaration and record field that has a `///` doc starts, in order.
    pub fn documented_starts(&self) -> Vec<u32> {
        let items = self
            .items
            .iter()
            .filter(|item| item.doc.is_some())
            .map(|item| item.range.start);
        let fields = self
            .record_fields()
            .into_iter()
            .filter(|field| field.doc.is_some())
            .map(|field| field.range.start);
        let mut out: Vec<u32> = items.chain(fields).collect();
        out.sort_unstable();
        out
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PackageDecl {
    pub path: Path,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ImportDecl {
    pub path: Path,
    pub alias: Option<Name>,
    pub range: TextRange,
}

/// A top-level declaration with its doc comment and attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The `///` lines just above the item, without the slashes.
    pub doc: Option<String>,
    pub attributes: Vec<Attribute>,
    pub kind: ItemKind,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Type(TypeDecl),
    Target(TargetDecl),
    Data(DataDecl),
    Rule(RuleDecl),
    Fn(FnDecl),
    Waiver(WaiverDecl),
    Test(TestDecl),
    /// Text the parser skipped to recover.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: Name,
    pub args: Vec<AttributeArg>,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AttributeArg {
    Name(Name),
    Str(StrLit),
}

impl AttributeArg {
    pub fn text(&self) -> &str {
        match self {
            AttributeArg::Name(n) => &n.text,
            AttributeArg::Str(s) => &s.value,
        }
    }
    pub fn range(&self) -> TextRange {
        match self {
            AttributeArg::Name(n) => n.range,
            AttributeArg::Str(s) => s.range,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeDecl {
    pub name: Name,
    pub ty: TypeExpr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultEffect {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TargetDecl {
    pub name: Name,
    pub ty: TypeExpr,
    pub default: Option<(DefaultEffect, TextRange)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataDecl {
    pub name: Name,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    pub name: Name,
    pub target: Name,
    /// The name the input goes by inside the rule (`as app`); the target's name otherwise.
    pub binding: Option<Name>,
    pub body: Vec<RuleStmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleStmt {
    Let(LetStmt),
    Clause(Clause),
    Error(TextRange),
}

#[derive(Clone, Debug, PartialEq)]
pub struct LetStmt {
    pub name: Name,
    pub value: Expr,
    pub range: TextRange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub effect: Effect,
    pub effect_range: TextRange,
    /// `for x in xs`: one finding per element.
    pub iteration: Option<Iteration>,
    /// `None` only in broken code (a clause without `when`, reported as E0006).
    pub condition: Option<Expr>,
    pub message: Option<Template>,
    pub obligations: Vec<Obligation>,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Iteration {
    pub binding: Name,
    pub collection: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Obligation {
    pub key: Name,
    pub value: Expr,
}

/// A message with `{expr}` interpolations.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    Text(String),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    pub name: Name,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Name,
    pub ty: TypeExpr,
}

/// `waiver NAME for RULE when … until … reason "…" approved_by "…"`.
#[derive(Clone, Debug, PartialEq)]
pub struct WaiverDecl {
    pub name: Name,
    pub rule: Path,
    pub condition: Option<Expr>,
    /// The other fields, by name (`until`, `reason`, `approved_by`), checked by semantic analysis.
    pub fields: Vec<(Name, Expr)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub name: Name,
    pub body: Vec<TestStmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TestStmt {
    Given {
        target: Name,
        value: Expr,
        range: TextRange,
    },
    At {
        value: Expr,
        range: TextRange,
    },
    WithData {
        name: Name,
        value: Expr,
        range: TextRange,
    },
    Expect {
        /// `expect not …`: the finding must be absent.
        negated: bool,
        /// `expect [not] waived RULE`: a deny finding of RULE was waived
        /// (`effect` is then `deny`).
        waived: bool,
        effect: Effect,
        rule: Option<Path>,
        obligations: Vec<Obligation>,
        range: TextRange,
    },
    Error(TextRange),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `string`, `Manifest`, `schema.Role`.
    Named(Path),
    /// `any`.
    Any,
    /// A string literal type, a member of a union.
    Literal(StrLit),
    Union(Vec<TypeExpr>),
    Optional(Box<TypeExpr>),
    List(Box<TypeExpr>),
    /// `{string: T}`.
    Map(Box<TypeExpr>),
    Record {
        fields: Vec<FieldDecl>,
        open: bool,
    },
    /// `schema "file.schema.json"`.
    Schema(StrLit),
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// Its `///` documentation (shown on hover).
    pub doc: Option<String>,
    pub name: Name,
    pub optional: bool,
    pub ty: TypeExpr,
    pub range: TextRange,
}

/// A string literal: its unescaped value and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    pub value: String,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Name(Name),
    /// The `data` keyword: the root of the data documents.
    Data,
    Field {
        base: Box<Expr>,
        name: Name,
        optional_chain: bool,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
        optional_chain: bool,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `has x.f`: whether an optional field is present.
    Has(Box<Expr>),
    If {
        condition: Box<Expr>,
        then_branch: Box<Expr>,
        else_branch: Box<Expr>,
    },
    Quantifier {
        kind: QuantifierKind,
        binding: Name,
        collection: Box<Expr>,
        body: Box<Expr>,
    },
    List(Vec<Expr>),
    Record(Vec<(Name, Expr)>),
    Comprehension {
        element: Box<Expr>,
        binding: Name,
        collection: Box<Expr>,
        filter: Option<Box<Expr>>,
    },
    Paren(Box<Expr>),
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A raw string `r"…"`, written for regular expressions.
    RawStr(String),
    None,
    /// An RFC 3339 time or a date, as written; validated by semantic analysis.
    Time(String),
    /// A duration such as `90d` or `1h30m`, as written.
    Duration(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
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

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Or => "or",
            And => "and",
            Eq => "==",
            NotEq => "!=",
            Lt => "<",
            LtEq => "<=",
            Gt => ">",
            GtEq => ">=",
            In => "in",
            NotIn => "not in",
            Matches => "matches",
            Coalesce => "??",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Rem => "%",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantifierKind {
    All,
    Any,
}

impl Expr {
    pub fn new(kind: ExprKind, range: TextRange) -> Self {
        Expr { kind, range }
    }

    /// A test input as written: the base document, then the `+ { … }`
    /// patches applied to it, in order (`base + {…} + {…}` parses as
    /// `(base + {…}) + {…}`).
    pub fn split_patches(&self) -> (&Expr, Vec<&Expr>) {
        let mut base = self;
        let mut patches = Vec::new();
        while let ExprKind::Binary {
            op: BinaryOp::Add,
            lhs,
            rhs,
        } = &base.kind
            && matches!(rhs.kind, ExprKind::Record(_))
        {
            patches.push(&**rhs);
            base = lhs;
        }
        patches.reverse();
        (base, patches)
    }

    /// `file("x.json")`, a data default read from a file: its path and
    /// where the path is written.
    pub fn data_file(&self) -> Option<(&str, TextRange)> {
        let ExprKind::Call { callee, args } = &self.kind else {
            return None;
        };
        match (&callee.kind, args.as_slice()) {
            (
                ExprKind::Name(name),
                [
                    arg @ Expr {
                        kind: ExprKind::Literal(Literal::Str(path)),
                        ..
                    },
                ],
            ) if name.text == "file" => Some((path.as_str(), arg.range)),
            _ => None,
        }
    }

    /// The path of a `fixture("…")` test input (patches aside).
    pub fn fixture_path(&self) -> Option<&str> {
        let (base, _) = self.split_patches();
        let ExprKind::Call { callee, args } = &base.kind else {
            return None;
        };
        let ExprKind::Name(name) = &callee.kind else {
            return None;
        };
        match args.as_slice() {
            [
                Expr {
                    kind: ExprKind::Literal(Literal::Str(path)),
                    ..
                },
            ] if name.text == "fixture" => Some(path),
            _ => None,
        }
    }
}
