//! Prints a tree back as canonical Warden text.
//!
//! Printing is idempotent (`print ∘ parse ∘ print = print`, a property test)
//! and adds parentheses only where the grammar needs them. Records, record
//! types and lists stay on one line when they fit in [`WIDTH`] columns and
//! otherwise take a line per entry. Comments are not in the tree; the
//! formatter ([`crate::format`]) hands them to the printer, which puts each
//! back before the declaration or statement it stood in, or at the end of
//! the line it trailed.

use crate::ast::*;
use std::fmt::Write;

/// The column limit a group must fit in to stay on one line.
pub const WIDTH: usize = 100;

pub fn print_file(file: &SourceFile) -> String {
    let mut p = Printer::default();
    p.file(file);
    p.out
}

/// A comment of the source, for the formatter to place.
#[derive(Clone, Debug)]
pub(crate) struct SourceComment {
    pub start: u32,
    /// The end of the code it trails on the same line, if it does.
    pub trails: Option<u32>,
    pub text: String,
    /// A blank line follows it in the source (a file's header comment,
    /// kept apart from the declaration after it).
    pub blank_after: bool,
}

/// Prints `file` with its comments (sorted by position) put back.
pub(crate) fn print_file_with_comments(file: &SourceFile, comments: Vec<SourceComment>) -> String {
    let mut p = Printer {
        comments,
        ..Printer::default()
    };
    p.file(file);
    // Comments after the last declaration.
    p.before(u32::MAX, 0);
    while p.out.ends_with("\n\n") {
        p.out.pop();
    }
    p.out
}

pub fn print_expr(expr: &Expr) -> String {
    let mut p = Printer::default();
    p.expr(expr, Prec::Open);
    p.out
}

pub fn print_type(ty: &TypeExpr) -> String {
    let mut p = Printer::default();
    p.ty(ty);
    p.out
}

#[derive(Default)]
struct Printer {
    out: String,
    /// Measuring a group: never break.
    flat: bool,
    /// Comments not yet printed, in source order.
    comments: Vec<SourceComment>,
    /// How many `and`/`or` chains enclose the one being printed.
    chains: usize,
    next_comment: usize,
}

/// Binding strength, loosest first; mirrors the grammar's levels.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Open,
    Or,
    And,
    Not,
    Cmp,
    Coalesce,
    Sum,
    Product,
    Unary,
    Postfix,
}

fn binary_prec(op: BinaryOp) -> Prec {
    use BinaryOp::*;
    match op {
        Or => Prec::Or,
        And => Prec::And,
        Eq | NotEq | Lt | LtEq | Gt | GtEq | In | NotIn | Matches => Prec::Cmp,
        Coalesce => Prec::Coalesce,
        Add | Sub => Prec::Sum,
        Mul | Div | Rem => Prec::Product,
    }
}

fn expr_prec(expr: &Expr) -> Prec {
    match &expr.kind {
        ExprKind::Quantifier { .. } | ExprKind::If { .. } => Prec::Open,
        ExprKind::Binary { op, .. } => binary_prec(*op),
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => Prec::Not,
        ExprKind::Unary {
            op: UnaryOp::Neg, ..
        }
        | ExprKind::Has(_) => Prec::Unary,
        _ => Prec::Postfix,
    }
}

impl Printer {
    fn file(&mut self, file: &SourceFile) {
        if let Some(package) = &file.package {
            self.before(package.range.end, 0);
            write!(self.out, "package {}", package.path.to_dotted()).unwrap();
            self.after(package.range.end);
        }
        for import in &file.imports {
            self.before(import.range.end, 0);
            write!(self.out, "import {}", import.path.to_dotted()).unwrap();
            if let Some(alias) = &import.alias {
                write!(self.out, " as {}", alias.text).unwrap();
            }
            self.after(import.range.end);
        }
        for item in &file.items {
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            // Rule and test bodies place their own comments; elsewhere a comment
            // inside a declaration moves above it.
            let has_body = matches!(item.kind, ItemKind::Rule(_) | ItemKind::Test(_));
            self.before(
                if has_body {
                    item.range.start
                } else {
                    item.range.end
                },
                0,
            );
            self.item(item);
            // `item` ends its last line; trailing comments go before that newline.
            self.out.pop();
            self.after(item.range.end);
        }
    }

    /// Prints, each on its own line at `indent`, the comments
    /// that start before `end`: those above a statement and those inside it.
    fn before(&mut self, end: u32, indent: usize) {
        while let Some(c) = self.comments.get(self.next_comment) {
            if c.start >= end {
                break;
            }
            if !self.out.is_empty() && !self.out.ends_with('\n') {
                self.out.push('\n');
            }
            let text = c.text.clone();
            let blank = c.blank_after && indent == 0;
            writeln!(self.out, "{}{text}", " ".repeat(indent)).unwrap();
            if blank {
                self.out.push('\n');
            }
            self.next_comment += 1;
        }
    }

    /// Ends a statement's line, keeping the comments that trailed it there.
    fn after(&mut self, end: u32) {
        while let Some(c) = self.comments.get(self.next_comment)
            && c.trails == Some(end)
        {
            write!(self.out, "  {}", c.text).unwrap();
            self.next_comment += 1;
        }
        self.out.push('\n');
    }

    /// The indentation of the line being written (or, at a line start, of the previous one's block).
    fn indent(&self) -> usize {
        let line = self.out.rsplit('\n').next().unwrap_or("");
        line.len() - line.trim_start_matches(' ').len()
    }

    fn column(&self) -> usize {
        self.out.rsplit('\n').next().unwrap_or("").chars().count()
    }

    /// Prints `flat` when it fits on the current line, else `broken`.
    fn group(&mut self, flat: impl Fn(&mut Printer), broken: impl Fn(&mut Printer)) {
        if self.flat {
            flat(self);
            return;
        }
        let mut measure = Printer {
            flat: true,
            ..Printer::default()
        };
        flat(&mut measure);
        if !measure.out.contains('\n') && self.column() + measure.out.chars().count() <= WIDTH {
            self.out.push_str(&measure.out);
        } else {
            broken(self);
        }
    }

    /// A `///` run, a line each, at `indent`.
    fn doc(&mut self, doc: &str, indent: usize) {
        for line in doc.lines() {
            let pad = " ".repeat(indent);
            if line.is_empty() {
                writeln!(self.out, "{pad}///").unwrap();
            } else {
                writeln!(self.out, "{pad}/// {line}").unwrap();
            }
        }
    }

    fn item(&mut self, item: &Item) {
        if let Some(doc) = &item.doc {
            self.doc(doc, 0);
        }
        for (i, attr) in item.attributes.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            write!(self.out, "@{}", attr.name.text).unwrap();
            if !attr.args.is_empty() {
                self.out.push('(');
                for (i, arg) in attr.args.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    match arg {
                        AttributeArg::Name(n) => self.out.push_str(&n.text),
                        AttributeArg::Str(s) => self.string(&s.value),
                    }
                }
                self.out.push(')');
            }
        }
        if !item.attributes.is_empty() {
            self.out.push('\n');
        }
        match &item.kind {
            ItemKind::Type(t) => {
                write!(self.out, "type {} = ", t.name.text).unwrap();
                self.ty(&t.ty);
            }
            ItemKind::Target(t) => {
                write!(self.out, "target {}: ", t.name.text).unwrap();
                self.ty(&t.ty);
                if let Some((effect, _)) = t.default {
                    self.out.push_str(match effect {
                        DefaultEffect::Allow => " default allow",
                        DefaultEffect::Deny => " default deny",
                    });
                }
            }
            ItemKind::Data(d) => {
                write!(self.out, "data {}: ", d.name.text).unwrap();
                self.ty(&d.ty);
                if let Some(default) = &d.default {
                    self.out.push_str(" = ");
                    self.expr(default, Prec::Open);
                }
            }
            ItemKind::Rule(r) => {
                write!(self.out, "rule {} on {}", r.name.text, r.target.text).unwrap();
                if let Some(binding) = &r.binding {
                    write!(self.out, " as {}", binding.text).unwrap();
                }
                self.out.push_str(" {\n");
                for stmt in &r.body {
                    let end = match stmt {
                        RuleStmt::Let(l) => l.range.end,
                        RuleStmt::Clause(c) => c.range.end,
                        RuleStmt::Error(r) => r.end,
                    };
                    self.before(end, 2);
                    self.rule_stmt(stmt);
                    self.out.pop();
                    self.after(end);
                }
                self.before(item.range.end, 2);
                self.out.push('}');
            }
            ItemKind::Fn(f) => {
                write!(self.out, "fn {}(", f.name.text).unwrap();
                for (i, param) in f.params.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    write!(self.out, "{}: ", param.name.text).unwrap();
                    self.ty(&param.ty);
                }
                self.out.push(')');
                if let Some(ret) = &f.ret {
                    self.out.push_str(" -> ");
                    self.ty(ret);
                }
                self.out.push_str(" =\n  ");
                self.expr(&f.body, Prec::Open);
            }
            ItemKind::Waiver(w) => {
                write!(
                    self.out,
                    "waiver {} for {}",
                    w.name.text,
                    w.rule.to_dotted()
                )
                .unwrap();
                if let Some(condition) = &w.condition {
                    self.out.push_str("\n  when ");
                    self.expr(condition, Prec::Open);
                }
                for (name, value) in &w.fields {
                    write!(self.out, "\n  {} ", name.text).unwrap();
                    self.expr(value, Prec::Open);
                }
            }
            ItemKind::Test(t) => {
                writeln!(self.out, "test {} {{", t.name.text).unwrap();
                for stmt in &t.body {
                    let end = match stmt {
                        TestStmt::Given { range, .. }
                        | TestStmt::At { range, .. }
                        | TestStmt::WithData { range, .. }
                        | TestStmt::Expect { range, .. }
                        | TestStmt::Error(range) => range.end,
                    };
                    self.before(end, 2);
                    self.test_stmt(stmt);
                    self.out.pop();
                    self.after(end);
                }
                self.before(item.range.end, 2);
                self.out.push('}');
            }
            ItemKind::Error => self.out.push_str("/* error */"),
        }
        self.out.push('\n');
    }

    fn rule_stmt(&mut self, stmt: &RuleStmt) {
        match stmt {
            RuleStmt::Let(l) => {
                write!(self.out, "  let {} = ", l.name.text).unwrap();
                self.expr(&l.value, Prec::Open);
                self.out.push('\n');
            }
            RuleStmt::Clause(c) => self.clause(c),
            RuleStmt::Error(_) => self.out.push_str("  /* error */\n"),
        }
    }

    fn clause(&mut self, c: &Clause) {
        write!(self.out, "  {}", c.effect.as_str()).unwrap();
        if let Some(it) = &c.iteration {
            write!(self.out, " for {} in ", it.binding.text).unwrap();
            self.expr(&it.collection, Prec::Coalesce);
        }
        self.out.push_str(" when ");
        match &c.condition {
            Some(condition) => self.expr(condition, Prec::Open),
            None => self.out.push_str("/* missing */"),
        }
        if let Some(message) = &c.message {
            self.out.push_str("\n    message ");
            self.template(message);
        }
        self.obligations(&c.obligations, "\n    with ");
        self.out.push('\n');
    }

    fn obligations(&mut self, obligations: &[Obligation], lead: &str) {
        for (i, o) in obligations.iter().enumerate() {
            self.out.push_str(if i == 0 { lead } else { ", " });
            write!(self.out, "{} = ", o.key.text).unwrap();
            self.expr(&o.value, Prec::Open);
        }
    }

    fn test_stmt(&mut self, stmt: &TestStmt) {
        self.out.push_str("  ");
        match stmt {
            TestStmt::Given { target, value, .. } => {
                write!(self.out, "given {} = ", target.text).unwrap();
                self.expr(value, Prec::Open);
            }
            TestStmt::WithData { name, value, .. } => {
                write!(self.out, "given data.{} = ", name.text).unwrap();
                self.expr(value, Prec::Open);
            }
            TestStmt::At { value, .. } => {
                self.out.push_str("at ");
                self.expr(value, Prec::Open);
            }
            TestStmt::Expect {
                negated,
                waived,
                effect,
                rule,
                obligations,
                ..
            } => {
                let not = if *negated { "not " } else { "" };
                let effect = if *waived { "waived" } else { effect.as_str() };
                write!(self.out, "expect {not}{effect}").unwrap();
                if let Some(rule) = rule {
                    write!(self.out, " {}", rule.to_dotted()).unwrap();
                }
                self.obligations(obligations, " with ");
            }
            TestStmt::Error(_) => self.out.push_str("/* error */"),
        }
        self.out.push('\n');
    }

    fn ty(&mut self, ty: &TypeExpr) {
        match &ty.kind {
            TypeExprKind::Named(path) => self.out.push_str(&path.to_dotted()),
            TypeExprKind::Any => self.out.push_str("any"),
            TypeExprKind::Literal(s) => self.string(&s.value),
            TypeExprKind::Union(members) => {
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(" | ");
                    }
                    self.ty_atom(m, true);
                }
            }
            TypeExprKind::Optional(inner) => {
                self.ty_atom(inner, false);
                self.out.push('?');
            }
            TypeExprKind::List(inner) => {
                self.out.push('[');
                self.ty(inner);
                self.out.push(']');
            }
            TypeExprKind::Map(inner) => {
                self.out.push_str("{string: ");
                self.ty(inner);
                self.out.push('}');
            }
            TypeExprKind::Record { fields, open } => {
                if fields.is_empty() && !open {
                    self.out.push_str("{}");
                    return;
                }
                let field = |p: &mut Printer, f: &FieldDecl| {
                    p.out.push_str(&f.name.text);
                    if f.optional {
                        p.out.push('?');
                    }
                    p.out.push_str(": ");
                    p.ty(&f.ty);
                };
                let flat = |p: &mut Printer| {
                    p.out.push_str("{ ");
                    for (i, f) in fields.iter().enumerate() {
                        if i > 0 {
                            p.out.push_str(", ");
                        }
                        field(p, f);
                    }
                    if *open {
                        p.out
                            .push_str(if fields.is_empty() { "..." } else { ", ..." });
                    }
                    p.out.push_str(" }");
                };
                let broken = |p: &mut Printer| {
                    let indent = p.indent();
                    p.out.push_str("{\n");
                    for f in fields {
                        if let Some(doc) = &f.doc {
                            p.doc(doc, indent + 2);
                        }
                        p.out.push_str(&" ".repeat(indent + 2));
                        field(p, f);
                        p.out.push_str(",\n");
                    }
                    if *open {
                        writeln!(p.out, "{}...", " ".repeat(indent + 2)).unwrap();
                    }
                    write!(p.out, "{}}}", " ".repeat(indent)).unwrap();
                };
                // A documented field has a line of its own, under its doc.
                if fields.iter().any(|f| f.doc.is_some()) {
                    broken(self);
                } else {
                    self.group(flat, broken);
                }
            }
            TypeExprKind::Schema(s) => {
                self.out.push_str("schema ");
                self.string(&s.value);
            }
            TypeExprKind::Error => self.out.push_str("/* error */"),
        }
    }

    /// A type inside a union (`optional_ok`) or before `?`: parenthesized when it would bind differently.
    fn ty_atom(&mut self, ty: &TypeExpr, optional_ok: bool) {
        let needs_parens = match &ty.kind {
            TypeExprKind::Union(_) => true,
            TypeExprKind::Optional(_) => !optional_ok,
            _ => false,
        };
        if needs_parens {
            self.out.push('(');
            self.ty(ty);
            self.out.push(')');
        } else {
            self.ty(ty);
        }
    }

    /// `key: ` in a record literal, quoted unless it is a plain name.
    fn record_key(&mut self, key: &str) {
        let mut chars = key.chars();
        let plain = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            self.out.push_str(key);
        } else {
            self.string(key);
        }
        self.out.push_str(": ");
    }

    fn string(&mut self, value: &str) {
        self.out.push('"');
        self.escaped(value, false);
        self.out.push('"');
    }

    /// Writes `text` with the escapes a string needs; in a template, braces too.
    fn escaped(&mut self, text: &str, template: bool) {
        for c in text.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\t' => self.out.push_str("\\t"),
                '\r' => self.out.push_str("\\r"),
                '{' if template => self.out.push_str("\\{"),
                '}' if template => self.out.push_str("\\}"),
                c => self.out.push(c),
            }
        }
    }

    fn template(&mut self, template: &Template) {
        self.out.push('"');
        for part in &template.parts {
            match part {
                TemplatePart::Text(text) => self.escaped(text, true),
                TemplatePart::Expr(e) => {
                    self.out.push('{');
                    // A string cannot span lines: nothing inside it breaks.
                    let flat = std::mem::replace(&mut self.flat, true);
                    self.expr(e, Prec::Open);
                    self.flat = flat;
                    self.out.push('}');
                }
            }
        }
        self.out.push('"');
    }

    /// Prints `expr` where the grammar accepts binding strength `min` or tighter.
    fn expr(&mut self, expr: &Expr, min: Prec) {
        if expr_prec(expr) < min {
            self.out.push('(');
            self.expr_inner(expr);
            self.out.push(')');
        } else {
            self.expr_inner(expr);
        }
    }

    /// `a and b and c` on one line when it fits; otherwise each operand on
    /// a line of its own, the operator leading, indented under the first.
    fn chain(&mut self, expr: &Expr, op: BinaryOp) {
        // The chain is the left spine: `and` and `or` associate to the left.
        let mut operands = Vec::new();
        let mut rest = expr;
        while let ExprKind::Binary { op: o, lhs, rhs } = &rest.kind
            && *o == op
        {
            operands.push(&**rhs);
            rest = lhs;
        }
        operands.push(rest);
        operands.reverse();
        let prec = binary_prec(op);
        let print = |p: &mut Printer, separator: &str| {
            for (i, operand) in operands.iter().enumerate() {
                if i > 0 {
                    p.out.push_str(separator);
                }
                p.expr(operand, if i == 0 { prec } else { next(prec) });
            }
        };
        // A chain inside a broken chain indents further, so precedence shows.
        let depth = self.chains;
        self.chains += 1;
        self.group(
            |p| print(p, &format!(" {} ", op.as_str())),
            |p| {
                let indent = p.indent() + 2 + 2 * depth;
                let separator = format!("\n{}{} ", " ".repeat(indent), op.as_str());
                print(p, &separator);
            },
        );
        self.chains -= 1;
    }

    fn expr_inner(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Literal(lit) => self.literal(lit),
            ExprKind::Name(n) => self.out.push_str(&n.text),
            ExprKind::Data => self.out.push_str("data"),
            ExprKind::Field {
                base,
                name,
                optional_chain,
            } => {
                self.expr(base, Prec::Postfix);
                self.out.push_str(if *optional_chain { "?." } else { "." });
                self.out.push_str(&name.text);
            }
            ExprKind::Index {
                base,
                index,
                optional_chain,
            } => {
                self.expr(base, Prec::Postfix);
                self.out.push_str(if *optional_chain { "?.[" } else { "[" });
                self.expr(index, Prec::Open);
                self.out.push(']');
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee, Prec::Postfix);
                self.out.push('(');
                self.expr_list(args);
                self.out.push(')');
            }
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => {
                self.out.push_str("not ");
                self.expr(operand, Prec::Not);
            }
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => {
                self.out.push('-');
                self.expr(operand, Prec::Unary);
            }
            ExprKind::Has(inner) => {
                self.out.push_str("has ");
                self.expr(inner, Prec::Postfix);
            }
            ExprKind::Binary {
                op: op @ (BinaryOp::And | BinaryOp::Or),
                ..
            } => self.chain(expr, *op),
            ExprKind::Binary { op, lhs, rhs } => {
                let prec = binary_prec(*op);
                let right_min = next(prec);
                // Comparisons do not chain; the others are left-associative.
                let left_min = if prec == Prec::Cmp { right_min } else { prec };
                self.expr(lhs, left_min);
                write!(self.out, " {} ", op.as_str()).unwrap();
                self.expr(rhs, right_min);
            }
            ExprKind::If {
                condition,
                then_branch,
                else_branch,
            } => {
                self.out.push_str("if ");
                self.expr(condition, Prec::Or);
                self.out.push_str(" then ");
                self.expr(then_branch, Prec::Or);
                self.out.push_str(" else ");
                self.expr(else_branch, Prec::Open);
            }
            ExprKind::Quantifier {
                kind,
                binding,
                collection,
                body,
            } => {
                self.out.push_str(match kind {
                    QuantifierKind::All => "all ",
                    QuantifierKind::Any => "any ",
                });
                write!(self.out, "{} in ", binding.text).unwrap();
                self.expr(collection, Prec::Coalesce);
                self.out.push(':');
                // The body moves to the next line before it breaks inside.
                self.group(
                    |p| {
                        p.out.push(' ');
                        p.expr(body, Prec::Open);
                    },
                    |p| {
                        let indent = p.indent() + 2;
                        write!(p.out, "\n{}", " ".repeat(indent)).unwrap();
                        p.expr(body, Prec::Open);
                    },
                );
            }
            ExprKind::List(items) if items.is_empty() => self.out.push_str("[]"),
            ExprKind::List(items) => self.group(
                |p| {
                    p.out.push('[');
                    p.expr_list(items);
                    p.out.push(']');
                },
                |p| {
                    let indent = p.indent();
                    p.out.push_str("[\n");
                    for item in items {
                        p.out.push_str(&" ".repeat(indent + 2));
                        p.expr(item, Prec::Open);
                        p.out.push_str(",\n");
                    }
                    write!(p.out, "{}]", " ".repeat(indent)).unwrap();
                },
            ),
            ExprKind::Record(entries) => {
                if entries.is_empty() {
                    self.out.push_str("{}");
                    return;
                }
                self.group(
                    |p| {
                        p.out.push_str("{ ");
                        for (i, (name, value)) in entries.iter().enumerate() {
                            if i > 0 {
                                p.out.push_str(", ");
                            }
                            p.record_key(&name.text);
                            p.expr(value, Prec::Open);
                        }
                        p.out.push_str(" }");
                    },
                    |p| {
                        let indent = p.indent();
                        p.out.push_str("{\n");
                        for (name, value) in entries {
                            p.out.push_str(&" ".repeat(indent + 2));
                            p.record_key(&name.text);
                            p.expr(value, Prec::Open);
                            p.out.push_str(",\n");
                        }
                        write!(p.out, "{}}}", " ".repeat(indent)).unwrap();
                    },
                );
            }
            ExprKind::Comprehension {
                element,
                binding,
                collection,
                filter,
            } => {
                self.out.push('[');
                self.expr(element, Prec::Open);
                write!(self.out, " for {} in ", binding.text).unwrap();
                self.expr(collection, Prec::Coalesce);
                if let Some(filter) = filter {
                    self.out.push_str(" if ");
                    self.expr(filter, Prec::Open);
                }
                self.out.push(']');
            }
            ExprKind::Paren(inner) => {
                self.out.push('(');
                self.expr(inner, Prec::Open);
                self.out.push(')');
            }
            ExprKind::Error => self.out.push_str("/* error */"),
        }
    }

    fn expr_list(&mut self, items: &[Expr]) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expr(item, Prec::Open);
        }
    }

    fn literal(&mut self, lit: &Literal) {
        match lit {
            Literal::Bool(b) => write!(self.out, "{b}").unwrap(),
            Literal::Int(i) => write!(self.out, "{i}").unwrap(),
            Literal::Float(f) => {
                let text = format!("{f}");
                self.out.push_str(&text);
                if !text.contains('.') {
                    self.out.push_str(".0");
                }
            }
            Literal::Str(s) => self.string(s),
            Literal::RawStr(s) => write!(self.out, "r\"{s}\"").unwrap(),
            Literal::None => self.out.push_str("none"),
            Literal::Time(t) | Literal::Duration(t) => self.out.push_str(t),
        }
    }
}

fn next(prec: Prec) -> Prec {
    match prec {
        Prec::Open => Prec::Or,
        Prec::Or => Prec::And,
        Prec::And => Prec::Not,
        Prec::Not => Prec::Cmp,
        Prec::Cmp => Prec::Coalesce,
        Prec::Coalesce => Prec::Sum,
        Prec::Sum => Prec::Product,
        Prec::Product => Prec::Unary,
        Prec::Unary | Prec::Postfix => Prec::Postfix,
    }
}
