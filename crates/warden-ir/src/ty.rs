//! Types as the checker and the value converter see them.

use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RecordId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnumId(pub u32);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Int,
    Float,
    String,
    Time,
    Duration,
    /// Untyped JSON.
    Any,
    /// The type of the literal `none`.
    None,
    /// The element type of `[]`: fits anywhere.
    Never,
    Enum(EnumId),
    List(Box<Ty>),
    Map(Box<Ty>),
    Record(RecordId),
    Optional(Box<Ty>),
    /// A type that could not be worked out; an error was already reported.
    Error,
}

impl Ty {
    pub fn optional(self) -> Ty {
        match self {
            Ty::Optional(_) | Ty::Any | Ty::None | Ty::Error => self,
            other => Ty::Optional(Box::new(other)),
        }
    }
    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Optional(_) | Ty::None)
    }
    /// The type with one layer of optionality removed.
    pub fn strip_optional(&self) -> &Ty {
        match self {
            Ty::Optional(inner) => inner,
            other => other,
        }
    }
    /// The type with every `?` layer removed: what a present value has.
    pub fn present(&self) -> &Ty {
        let mut ty = self;
        while let Ty::Optional(inner) = ty {
            ty = inner;
        }
        ty
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: Arc<str>,
    pub ty: Ty,
    pub optional: bool,
}

impl FieldDef {
    /// The type a read of the field has: optional when the field may be absent.
    pub fn read_ty(&self) -> Ty {
        if self.optional {
            self.ty.clone().optional()
        } else {
            self.ty.clone()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordDef {
    /// The alias it was declared under, for messages.
    pub name: Option<String>,
    pub fields: Vec<FieldDef>,
    /// Open records (`...`) accept unknown fields and keep them.
    pub open: bool,
}

impl RecordDef {
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| &*f.name == name)
    }

    /// [`RecordDef::slot`], trying `next` first: a document mostly lists a
    /// record's fields in the order they are declared, so a reader that
    /// passes the slot after the last one it found matches most keys with
    /// one comparison.
    pub fn slot_from(&self, name: &str, next: usize) -> Option<usize> {
        match self.fields.get(next) {
            Some(field) if &*field.name == name => Some(next),
            _ => self.slot(name),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumDef {
    pub name: Option<String>,
    /// The members; a value of this type is one of these very `Arc`s.
    pub members: Vec<Arc<str>>,
}

/// Every record and union type of a policy set, addressed by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeTable {
    pub records: Vec<RecordDef>,
    pub enums: Vec<EnumDef>,
}

/// How many levels of record types without a name a type's text writes out.
const NAMELESS_SHOWN: u32 = 3;

/// How many fields of such types a type's text writes out in all: three
/// levels of records a hundred fields wide would be a million.
const NAMELESS_FIELDS_SHOWN: u32 = 64;

/// Finds record and union types by id: a program's table, or a table a
/// file's check adds to on top of the set's (see `warden_sema`).
pub trait TypeLookup {
    fn record(&self, id: RecordId) -> &RecordDef;
    fn enumeration(&self, id: EnumId) -> &EnumDef;

    /// How a type reads in a message: `string`, `[Role]`, `"oidc" | "saml"`.
    fn display(&self, ty: &Ty) -> String {
        self.display_nested(
            ty,
            NAMELESS_SHOWN,
            &std::cell::Cell::new(NAMELESS_FIELDS_SHOWN),
        )
    }

    /// [`TypeLookup::display`], writing out record types that have no name
    /// `nameless` levels deep, and `{ … }` below: such a type can hold
    /// itself twice at each level (`let r2 = { a: r1, b: r1 }`), and would
    /// read exponentially long; and no more than `fields_left` of their
    /// fields in all, then `…`.
    fn display_nested(&self, ty: &Ty, nameless: u32, fields_left: &std::cell::Cell<u32>) -> String {
        let display = |ty: &Ty| self.display_nested(ty, nameless, fields_left);
        match ty {
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::String => "string".into(),
            Ty::Time => "time".into(),
            Ty::Duration => "duration".into(),
            Ty::Any => "any".into(),
            Ty::None => "none".into(),
            Ty::Never => "nothing".into(),
            Ty::Error => "unknown".into(),
            Ty::Enum(id) => {
                let def = self.enumeration(*id);
                def.members
                    .iter()
                    .map(|m| format!("\"{m}\""))
                    .collect::<Vec<_>>()
                    .join(" | ")
            }
            Ty::List(inner) => format!("[{}]", display(inner)),
            Ty::Map(inner) => format!("{{string: {}}}", display(inner)),
            Ty::Record(id) => {
                let def = self.record(*id);
                match &def.name {
                    Some(name) => name.clone(),
                    None if nameless == 0 => "{ … }".into(),
                    None => {
                        let mut fields: Vec<String> = Vec::new();
                        for f in &def.fields {
                            if fields_left.get() == 0 {
                                fields.push("…".into());
                                break;
                            }
                            fields_left.set(fields_left.get() - 1);
                            fields.push(format!(
                                "{}{}: {}",
                                f.name,
                                if f.optional { "?" } else { "" },
                                self.display_nested(&f.ty, nameless - 1, fields_left)
                            ));
                        }
                        format!(
                            "{{ {}{} }}",
                            fields.join(", "),
                            if def.open { ", ..." } else { "" }
                        )
                    }
                }
            }
            Ty::Optional(inner) => match **inner {
                Ty::Enum(_) => format!("({})?", display(inner)),
                _ => format!("{}?", display(inner)),
            },
        }
    }
}

impl TypeLookup for TypeTable {
    fn record(&self, id: RecordId) -> &RecordDef {
        &self.records[id.0 as usize]
    }
    fn enumeration(&self, id: EnumId) -> &EnumDef {
        &self.enums[id.0 as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `let r1 = { a: r0, b: r0 }`, `let r2 = { a: r1, b: r1 }`, …: a type
    /// without a name that holds the one below twice, 64 levels deep, reads
    /// in a few lines, not in 2^64 fields.
    #[test]
    fn a_nameless_record_type_is_written_out_a_few_levels_deep() {
        let mut types = TypeTable::default();
        let field = |name: &str, ty: Ty| FieldDef {
            name: Arc::from(name),
            ty,
            optional: false,
        };
        types.records.push(RecordDef {
            name: None,
            fields: vec![field("s", Ty::String)],
            open: false,
        });
        for below in 0..64 {
            types.records.push(RecordDef {
                name: None,
                fields: vec![
                    field("a", Ty::Record(RecordId(below))),
                    field("b", Ty::Record(RecordId(below))),
                ],
                open: false,
            });
        }
        let text = types.display(&Ty::Record(RecordId(64)));
        assert!(text.len() < 200, "{text}");
        assert!(
            text.starts_with("{ a: { a: { a: { … }, b: { … } }"),
            "{text}"
        );
        assert_eq!(
            types.display(&Ty::Record(RecordId(1))),
            "{ a: { s: string }, b: { s: string } }"
        );
    }

    /// Three levels of records 400 fields wide would be 64 million fields
    /// (found by review: 20 s and 3.7 GB to compile a 12 KB policy).
    #[test]
    fn a_wide_nameless_record_type_is_written_out_only_so_far() {
        let mut types = TypeTable::default();
        let wide = |below: Ty| RecordDef {
            name: None,
            fields: (0..400)
                .map(|i| FieldDef {
                    name: Arc::from(format!("f{i}").as_str()),
                    ty: below.clone(),
                    optional: false,
                })
                .collect(),
            open: false,
        };
        types.records.push(wide(Ty::Int));
        types.records.push(wide(Ty::Record(RecordId(0))));
        types.records.push(wide(Ty::Record(RecordId(1))));
        let text = types.display(&Ty::Record(RecordId(2)));
        assert!(text.len() < 2_000, "{} bytes", text.len());
        assert!(
            text.starts_with("{ f0: { f0: { f0: int, f1: int,"),
            "{text}"
        );
        assert!(text.ends_with("… }, … }, … }"), "{text}");
    }
}
