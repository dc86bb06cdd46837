//! The last pass: a set's declarations and checked files put together into
//! one program.
//!
//! Each file's check started from the environment's type table, so the
//! types it added are numbered from the end of that table; here they move
//! to the end of the program's ([`Remap`]).

use crate::SourceInput;
use crate::declare::Declarations;
use crate::index::build_index;
use crate::lower::FileChecked;
use crate::rule_table::RuleTable;
use crate::suite::Test;
use std::sync::Arc;
use warden_diagnostics::Span;
use warden_ir::{self as ir, EnumId, ExprKind, Program, RecordId, Ty, TypeTable, Value};

/// Puts a set's declarations and checked files together into one program
/// (files in set order, as `files` gives them): the rules by id, the
/// waivers in file order, every type a file made renumbered into
/// one table, then the clause indexes. Reports nothing: each check did.
/// The tests stay out of it ([`tests_of`]).
pub fn assemble(
    declarations: &Declarations,
    table: &RuleTable,
    files: &[SourceInput<'_>],
    checked: &[&FileChecked],
) -> Program {
    let mut program = declarations.program.clone();
    program.types = declarations.env.types.clone();
    for input in files {
        program.files.push(ir::SourceInfo {
            path: input.path.clone(),
            text: input.text.clone(),
            line_index: input.line_index.clone(),
        });
    }
    let mut rules: Vec<Option<ir::Rule>> = (0..table.rules.len()).map(|_| None).collect();
    for file in checked {
        let remap = Remap::new(&declarations.env.types, &program.types);
        for record in &file.types.records {
            let mut record = record.clone();
            for field in &mut record.fields {
                remap.ty(&mut field.ty);
            }
            program.types.records.push(record);
        }
        program.types.enums.extend(file.types.enums.iter().cloned());
        for (id, rule) in &file.rules {
            let mut rule = rule.clone();
            remap.rule(&mut rule);
            rules[id.index()] = Some(rule);
        }
        // A repeated name was reported, and left out, by the file's check.
        for waiver in &file.waivers {
            let mut waiver = waiver.clone();
            if let Some(condition) = &mut waiver.condition {
                remap.expr(condition);
            }
            program.waivers.push(waiver);
        }
    }
    // Every rule of the table belongs to a file that was checked; a missing
    // one would be a bug, and an empty rule decides nothing.
    program.rules = rules
        .into_iter()
        .enumerate()
        .map(|(i, rule)| {
            rule.unwrap_or_else(|| ir::Rule {
                name: table.rules[i].full.clone(),
                target: table.rules[i].target,
                severity: ir::Severity::Medium,
                control: None,
                enforce_warn: false,
                tags: Vec::new(),
                doc: None,
                span: Span::default(),
                item_span: Span::default(),
                locals: 0,
                lets: Vec::new(),
                clauses: Vec::new(),
            })
        })
        .collect();
    for (i, rule) in program.rules.iter().enumerate() {
        program.targets[rule.target.index()]
            .rules
            .push(ir::RuleId(i as u32));
    }
    for t in 0..program.targets.len() {
        let index = build_index(&program, ir::TargetId(t as u32));
        program.targets[t].index = index;
    }
    program
}

pub(crate) struct Remap {
    /// Ids from here on were added by the file.
    records_from: u32,
    enums_from: u32,
    /// Where they go in the program's table.
    records_to: u32,
    enums_to: u32,
}

impl Remap {
    /// From the declarations' table (`base`) to the program's (`program`, before the file's types are added).
    pub fn new(base: &TypeTable, program: &TypeTable) -> Remap {
        Remap {
            records_from: base.records.len() as u32,
            enums_from: base.enums.len() as u32,
            records_to: program.records.len() as u32,
            enums_to: program.enums.len() as u32,
        }
    }

    fn is_identity(&self) -> bool {
        self.records_from == self.records_to && self.enums_from == self.enums_to
    }

    fn record(&self, id: RecordId) -> RecordId {
        if id.0 >= self.records_from {
            RecordId(id.0 - self.records_from + self.records_to)
        } else {
            id
        }
    }

    pub fn ty(&self, ty: &mut Ty) {
        match ty {
            Ty::Record(id) => *id = self.record(*id),
            Ty::Enum(id) if id.0 >= self.enums_from => {
                *id = EnumId(id.0 - self.enums_from + self.enums_to)
            }
            Ty::List(inner) | Ty::Map(inner) | Ty::Optional(inner) => self.ty(inner),
            _ => {}
        }
    }

    fn value(&self, value: &mut Value) {
        match value {
            Value::List(items) => {
                let mut items_owned: Vec<Value> = items.to_vec();
                items_owned.iter_mut().for_each(|v| self.value(v));
                *items = Arc::from(items_owned);
            }
            Value::Map(map) => {
                Arc::make_mut(map).values_mut().for_each(|v| self.value(v));
            }
            Value::Record(record) => {
                let record = Arc::make_mut(record);
                record.ty = self.record(record.ty);
                record.slots.iter_mut().for_each(|v| self.value(v));
                if let Some(extra) = &mut record.extra {
                    extra.values_mut().for_each(|v| self.value(v));
                }
            }
            _ => {}
        }
    }

    pub fn expr(&self, expr: &mut ir::Expr) {
        if self.is_identity() {
            return;
        }
        expr.walk_mut(&mut |e| match &mut e.kind {
            ExprKind::Field { record, .. } | ExprKind::Record { ty: record, .. } => {
                *record = self.record(*record)
            }
            ExprKind::Has {
                slot: Some((record, _)),
                ..
            } => *record = self.record(*record),
            ExprKind::Const(value) => self.value(value),
            _ => {}
        });
    }

    pub fn rule(&self, rule: &mut ir::Rule) {
        if self.is_identity() {
            return;
        }
        for expr in rule.expressions_mut() {
            self.expr(expr);
        }
    }
}

/// The set's `test` blocks, in file order (files as `checked` gives them).
pub fn tests_of(checked: &[&FileChecked]) -> Vec<Test> {
    checked
        .iter()
        .flat_map(|f| f.tests.iter().cloned())
        .collect()
}
