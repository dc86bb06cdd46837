//! Renumbering the record and union types a file's check made, when the
//! checked files are put together into one program: each file started from
//! the declarations' type table, so the types it added are numbered from the
//! end of that table, and move to the end of the program's.

use std::sync::Arc;
use warden_ir::{self as ir, EnumId, ExprKind, RecordId, Ty, TypeTable, Value};

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
