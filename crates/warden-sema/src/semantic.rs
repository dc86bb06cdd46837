//! The semantic side table: what each name of a file means, as the checker
//! resolved it. The editor reads meaning here, never from the text.

use warden_diagnostics::{FileId, Span, TextRange};
use warden_ir::{Builtin, DataId, FnId, RecordId, RuleId, TargetId, Ty, TypeLookup};

/// One name of a file, and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub range: TextRange,
    pub meaning: Meaning,
    /// Its type, where it has one (not a rule); [`type_text`] shows it.
    pub ty: Option<Ty>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// A binding (the rule's input, a parameter, a `let`, a `for` element,
    /// a quantifier's or comprehension's variable), declared in the same
    /// file at `declared`. A binding's own declaration names itself.
    Binding {
        declared: TextRange,
    },
    /// A field of a record type: of the environment's, or of one the file
    /// made (numbered after them).
    Field {
        record: RecordId,
        slot: u32,
    },
    Function(FnId),
    Builtin(Builtin),
    Data(DataId),
    Target(TargetId),
    /// A type declaration, by its index among the set's.
    Type(u32),
    Rule(RuleId),
    /// A package, by its index among the set's (a `package` or `import`
    /// line, or the prefix of a qualified name).
    Package(u32),
}

impl Meaning {
    /// Whether this meaning holds only in its own file: a binding, or a
    /// field of a record type the file made (whose id another file reuses).
    pub fn is_file_local(&self, declarations: &crate::Declarations) -> bool {
        match self {
            Meaning::Binding { .. } => true,
            Meaning::Field { record, .. } => {
                record.0 as usize >= declarations.env.types.records.len()
            }
            _ => false,
        }
    }
}

/// Where the declarations of a set are: what [`Meaning`]s point at.
#[derive(Clone, Debug, Default)]
pub struct Positions {
    /// By function id.
    pub fns: Vec<Span>,
    /// By type declaration index.
    pub type_decls: Vec<Span>,
    /// By record id: each field's name, where it was written (none for a
    /// record made from a JSON Schema file).
    pub fields: Vec<Vec<Option<Span>>>,
    /// By package index: its first `package` line.
    pub packages: Vec<Span>,
}

/// A file's occurrences, as the passes record them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Occurrences {
    pub by_file: std::collections::BTreeMap<FileId, Vec<Occurrence>>,
    /// Off: nothing is kept (a batch run, [`crate::SourceInput::meanings`]).
    pub record: bool,
}

impl Occurrences {
    pub(crate) fn note(&mut self, file: FileId, occurrence: Occurrence) {
        if self.record {
            self.by_file.entry(file).or_default().push(occurrence);
        }
    }
}

/// The occurrences of the field declarations of `records` (numbered from
/// `first`): a field's name means itself, so references start from it too.
pub(crate) fn field_declarations(
    records: &[Vec<Option<Span>>],
    first: usize,
    types: &dyn TypeLookup,
) -> Vec<(FileId, Occurrence)> {
    let mut out = Vec::new();
    for (index, fields) in records.iter().enumerate() {
        let record = RecordId((first + index) as u32);
        let def = types.record(record);
        for (slot, span) in fields.iter().enumerate() {
            let (Some(span), Some(field)) = (span, def.fields.get(slot)) else {
                continue;
            };
            let ty = field.read_ty();
            let meaning = Meaning::Field {
                record,
                slot: slot as u32,
            };
            out.push((
                span.file,
                Occurrence {
                    range: span.range,
                    meaning,
                    ty: Some(ty),
                },
            ));
        }
    }
    out
}

/// The occurrence that covers `offset` (the innermost, when several do).
pub fn occurrence_at(occurrences: &[Occurrence], offset: u32) -> Option<&Occurrence> {
    occurrences
        .iter()
        .filter(|o| o.range.start <= offset && offset <= o.range.end)
        .min_by_key(|o| o.range.end - o.range.start)
}

/// The innermost occurrence that ends at `end` (what a `.` or an operator
/// right after it applies to).
pub fn occurrence_ending_at(occurrences: &[Occurrence], end: u32) -> Option<&Occurrence> {
    occurrences
        .iter()
        .filter(|o| o.range.end == end)
        .max_by_key(|o| o.range.start)
}

/// Where what `meaning` (a name of `file`) names is declared. `checked` is
/// that file's check (for the record types it made), `program` the set's.
pub fn definition(
    meaning: &Meaning,
    file: FileId,
    declarations: &crate::Declarations,
    checked: &crate::FileChecked,
    program: &warden_ir::Program,
) -> Option<Span> {
    match meaning {
        Meaning::Binding { declared } => Some(Span::new(file, *declared)),
        Meaning::Field { record, slot } => {
            let index = record.0 as usize;
            let fields = match index.checked_sub(declarations.env.types.records.len()) {
                Some(added) => checked.record_fields.get(added)?,
                None => declarations.positions.fields.get(index)?,
            };
            *fields.get(*slot as usize)?
        }
        Meaning::Function(id) => declarations.positions.fns.get(id.index()).copied(),
        Meaning::Type(index) => declarations
            .positions
            .type_decls
            .get(*index as usize)
            .copied(),
        Meaning::Data(id) => program.data.get(id.index()).map(|d| d.span),
        Meaning::Target(id) => program.targets.get(id.index()).map(|t| t.span),
        Meaning::Rule(id) => program.rules.get(id.index()).map(|r| r.span),
        Meaning::Package(index) => declarations
            .positions
            .packages
            .get(*index as usize)
            .copied(),
        Meaning::Builtin(_) => None,
    }
}

/// The types a checked file sees: the set's, and those the file made.
pub fn file_types<'a>(
    declarations: &'a crate::Declarations,
    checked: &'a crate::FileChecked,
) -> impl TypeLookup + 'a {
    crate::env::Types {
        base: &declarations.env.types,
        added: std::borrow::Cow::Borrowed(&checked.types),
        added_fields: Vec::new(),
    }
}

/// An occurrence's type as messages show it (`string`, `{ sso: bool }`);
/// `checked` is its file's check, for the record types the file made.
pub fn type_text(
    occurrence: &Occurrence,
    declarations: &crate::Declarations,
    checked: &crate::FileChecked,
) -> Option<String> {
    let types = file_types(declarations, checked);
    occurrence.ty.as_ref().map(|ty| types.display(ty))
}
