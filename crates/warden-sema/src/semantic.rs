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
}

/// A file's occurrences, as the passes record them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Occurrences {
    pub by_file: std::collections::BTreeMap<FileId, Vec<Occurrence>>,
}

impl Occurrences {
    pub(crate) fn note(&mut self, file: FileId, occurrence: Occurrence) {
        self.by_file.entry(file).or_default().push(occurrence);
    }
}

/// The occurrence that covers `offset` (the innermost, when several do).
pub fn occurrence_at(occurrences: &[Occurrence], offset: u32) -> Option<&Occurrence> {
    occurrences
        .iter()
        .filter(|o| o.range.start <= offset && offset <= o.range.end)
        .min_by_key(|o| o.range.end - o.range.start)
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
        Meaning::Builtin(_) => None,
    }
}

/// An occurrence's type as messages show it (`string`, `{ sso: bool }`);
/// `checked` is its file's check, for the record types the file made.
pub fn type_text(
    occurrence: &Occurrence,
    declarations: &crate::Declarations,
    checked: &crate::FileChecked,
) -> Option<String> {
    let types = crate::env::Types {
        base: &declarations.env.types,
        added: checked.types.clone(),
        added_fields: Vec::new(),
    };
    occurrence.ty.as_ref().map(|ty| types.display(ty))
}
