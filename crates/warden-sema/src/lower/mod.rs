//! The file pass: one file's rules, waivers and tests checked against the
//! set's [`Environment`] and [`RuleTable`], and lowered to the IR. Reads the
//! environment in place; what the file adds (record types of its literals)
//! is numbered after the set's, for `assemble` to renumber.

mod rules;
mod tests;
mod waivers;

use crate::SourceInput;
use crate::check::Context;
use crate::env::{Environment, Types};
use crate::rule_table::RuleTable;
use crate::semantic::{Meaning, Occurrence, field_declarations};
use warden_diagnostics::{Diagnostic, FileId, Span, TextRange};
use warden_ir::{self as ir, RecordDef, RecordId, Ty, TypeLookup};

/// One file's rules (by id), waivers and tests, the record types its
/// checking made, and what it reported.
#[derive(Debug)]
pub struct FileChecked {
    pub(crate) rules: Vec<(ir::RuleId, ir::Rule)>,
    pub(crate) waivers: Vec<ir::Waiver>,
    pub(crate) tests: Vec<crate::Test>,
    /// Numbered after the environment's types.
    pub(crate) types: ir::TypeTable,
    /// Where the fields of those record types are written.
    pub record_fields: Vec<Vec<Option<Span>>>,
    /// What the file's names mean (those of its rules, waivers and tests).
    pub occurrences: Vec<Occurrence>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks one file's rules, waivers and tests against the set's
/// environment and rules.
pub fn check_file(env: &Environment, table: &RuleTable, file: &SourceInput<'_>) -> FileChecked {
    let mut check = FileCheck {
        env,
        table,
        input: file,
        types: Types::over(&env.types),
        diagnostics: Vec::new(),
        rules: Vec::new(),
        waivers: Vec::new(),
        tests: Vec::new(),
        occurrences: Vec::new(),
    };
    check.lower_rules();
    check.lower_waivers();
    check.check_tests();
    let first = env.types.records.len();
    let fields = field_declarations(&check.types.added_fields, first, &check.types);
    if file.meanings {
        check.occurrences.extend(fields.into_iter().map(|(_, o)| o));
    }
    // Kept as long as the database keeps the check: no room to spare.
    check.occurrences.shrink_to_fit();
    FileChecked {
        rules: check.rules,
        waivers: check.waivers,
        tests: check.tests,
        types: check.types.added.into_owned(),
        record_fields: check.types.added_fields,
        occurrences: check.occurrences,
        diagnostics: check.diagnostics,
    }
}

/// The pass's state over one file.
struct FileCheck<'e> {
    env: &'e Environment,
    table: &'e RuleTable,
    input: &'e SourceInput<'e>,
    types: Types<'e>,
    diagnostics: Vec<Diagnostic>,
    rules: Vec<(ir::RuleId, ir::Rule)>,
    waivers: Vec<ir::Waiver>,
    tests: Vec<crate::Test>,
    occurrences: Vec<Occurrence>,
}

impl FileCheck<'_> {
    fn note(&mut self, range: TextRange, meaning: Meaning, ty: Option<Ty>) {
        if self.input.meanings {
            self.occurrences.push(Occurrence { range, meaning, ty });
        }
    }

    fn span(&self, range: TextRange) -> Span {
        Span::new(self.input.file, range)
    }

    fn report(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }
}

impl Context for FileCheck<'_> {
    fn env(&self) -> &Environment {
        self.env
    }

    fn types(&self) -> &dyn TypeLookup {
        &self.types
    }

    fn add_record(&mut self, def: RecordDef, fields: Vec<Option<Span>>) -> RecordId {
        self.types.add_record(def, fields)
    }

    fn note(&mut self, file: FileId, occurrence: Occurrence) {
        debug_assert_eq!(file, self.input.file, "a file's check notes its own names");
        if self.input.meanings {
            self.occurrences.push(occurrence);
        }
    }

    fn report(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// Every function was checked with the declarations.
    fn fn_return(&mut self, func: usize) -> Option<Ty> {
        self.env.fns[func].ret.clone()
    }
}
