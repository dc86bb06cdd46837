//! What a target's rules can read of its input, worked out once from the
//! IR: the input is then converted only as far as that, and the rest of it
//! is checked against its type without being built (validation stays
//! complete; only the values nobody reads are never allocated).
//!
//! The analysis follows places: an expression that names a part of the
//! input (`app.spec.roles`, a `let` or a loop variable bound to one) is
//! tracked as a path from the input's root; reading a field extends the
//! path; any other use of a place (a comparison, a call, a message, a
//! condition) reads all of it. What it cannot follow, it counts as read
//! whole, so the answer errs only towards building more.
//!
//! A field is found by name in the type of the place it is read from, not
//! by the slot the checker chose: record types are structural, so a place
//! of one record type can be read where another is expected (`x ?? {
//! status: "active" }` has the literal's type, and reads `status` from `x`
//! by name).

use crate::{
    Expr, ExprKind, LetId, MessagePart, Program, RecordId, Rule, TargetId, Ty, TypeLookup,
    TypeTable,
};
use std::collections::BTreeMap;

/// What is read of a value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Reads {
    /// Nothing: the value is checked against its type, never built.
    #[default]
    Nothing,
    /// All of it.
    Whole,
    /// The value itself (a record, a list, a map) and, below it, what is
    /// read of each field (by slot) or of each item (a list's elements, a
    /// map's values).
    Parts {
        fields: BTreeMap<u32, Reads>,
        items: Box<Reads>,
    },
}

static WHOLE: Reads = Reads::Whole;
static NOTHING: Reads = Reads::Nothing;

impl Reads {
    /// All of a value: what deciding with an explanation, or without the
    /// analysis, converts.
    pub fn whole() -> &'static Reads {
        &WHOLE
    }

    /// Whether the value is built at all.
    pub fn builds(&self) -> bool {
        !matches!(self, Reads::Nothing)
    }

    /// What is read of a record's field. Items of a record make no sense:
    /// such a shape is taken as the whole record.
    pub fn field(&self, slot: usize) -> &Reads {
        match self {
            Reads::Nothing => &NOTHING,
            Reads::Parts { fields, items } if !items.builds() => u32::try_from(slot)
                .ok()
                .and_then(|slot| fields.get(&slot))
                .unwrap_or(&NOTHING),
            _ => &WHOLE,
        }
    }

    /// What is read of each item of a list or each value of a map. Fields
    /// of a list make no sense: such a shape is taken as the whole list.
    pub fn items(&self) -> &Reads {
        match self {
            Reads::Nothing => &NOTHING,
            Reads::Parts { fields, items } if fields.is_empty() => items,
            _ => &WHOLE,
        }
    }

    /// Marks the value at `path` as read (whole, or just itself), and so
    /// each value on the way to it.
    fn mark(&mut self, path: &[Step], whole: bool) {
        let mut node = self;
        for step in path {
            match node {
                Reads::Whole => return,
                Reads::Nothing => {
                    *node = Reads::Parts {
                        fields: BTreeMap::new(),
                        items: Box::default(),
                    }
                }
                Reads::Parts { .. } => {}
            }
            let Reads::Parts { fields, items } = node else {
                unreachable!("made parts above")
            };
            node = match step {
                Step::Field(slot) => fields.entry(*slot).or_default(),
                Step::Item => items,
            };
        }
        if whole {
            *node = Reads::Whole;
        } else if !node.builds() {
            *node = Reads::Parts {
                fields: BTreeMap::new(),
                items: Box::default(),
            };
        }
    }
}

/// One step from a value into a part of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Field(u32),
    Item,
}

/// A part of the input, as the steps from its root.
type Place = Vec<Step>;

/// The most places one expression is followed to (see [`Analysis::union`]).
const MAX_PLACES: usize = 64;

/// A step as the IR writes it, before it is found in a place's type.
#[derive(Clone, Copy)]
enum Access<'n> {
    Field {
        record: RecordId,
        slot: u32,
        name: &'n str,
    },
    Item,
}

/// What deciding `target` can read of its input: its rules' `let`s,
/// conditions, `for` collections, messages and obligations, its waivers'
/// conditions, the fields its index tests and the subject field.
pub fn input_reads(program: &Program, target: TargetId) -> Reads {
    let decl = program.target(target);
    let mut analysis = Analysis {
        types: &program.types,
        root: &decl.ty,
        reads: Reads::Nothing,
        locals: Vec::new(),
        lets: Vec::new(),
        rule: None,
    };
    let fields = |slots: &[u32]| slots.iter().map(|&s| Step::Field(s)).collect::<Place>();
    if let Some(subject) = &decl.subject {
        analysis.reads.mark(&fields(subject), true);
    }
    for guard in &decl.index.guards {
        analysis.reads.mark(&fields(&guard.slots), true);
    }
    for &rule_id in &decl.rules {
        let rule = program.rule(rule_id);
        analysis.enter(Some(rule));
        for clause in &rule.clauses {
            if let Some(it) = &clause.iteration {
                let collection = analysis.places(&it.collection);
                analysis.iterate(it.local.index(), collection);
            }
            analysis.read(&clause.condition);
            for part in clause.message.iter().flatten() {
                if let MessagePart::Expr(e) = part {
                    analysis.read(e);
                }
            }
            for (_, e) in &clause.obligations {
                analysis.read(e);
            }
        }
        for waiver in program.waivers.iter().filter(|w| w.rule == rule_id) {
            analysis.enter(None);
            if let Some(condition) = &waiver.condition {
                analysis.read(condition);
            }
        }
    }
    analysis.reads
}

struct Analysis<'p> {
    types: &'p TypeTable,
    /// The input's type: what a place's type is worked out from.
    root: &'p Ty,
    reads: Reads,
    /// The places each local of the current frame can name (slot 0: the input).
    locals: Vec<Vec<Place>>,
    /// The places each `let` of the current rule names, once worked out.
    lets: Vec<Option<Vec<Place>>>,
    rule: Option<&'p Rule>,
}

impl<'p> Analysis<'p> {
    /// A new frame: a rule's (with its `let`s) or a waiver's.
    fn enter(&mut self, rule: Option<&'p Rule>) {
        self.locals = vec![vec![Vec::new()]];
        self.lets = vec![None; rule.map_or(0, |r| r.lets.len())];
        self.rule = rule;
    }

    /// The declared type of the value at `place`, its `?` taken off;
    /// `None` past an `any`.
    fn type_at(&self, place: &[Step]) -> Option<&'p Ty> {
        let mut ty = self.root.present();
        for step in place {
            ty = Ty::present(match (step, ty) {
                (Step::Field(slot), Ty::Record(id)) => {
                    &self.types.record(*id).fields.get(*slot as usize)?.ty
                }
                (Step::Item, Ty::List(inner) | Ty::Map(inner)) => inner,
                _ => return None,
            });
        }
        Some(ty)
    }

    /// The places one step into each of `places`: the field `name` (the
    /// checker's `slot` of `record`) found by name in each place's own
    /// record type, or an item of each list or map. A place the step
    /// cannot be followed into (an `any`, a field its type does not
    /// declare, which an open record keeps by name) is read whole.
    fn step_into(&mut self, places: Vec<Place>, step: Access<'_>) -> Vec<Place> {
        let mut into = Vec::with_capacity(places.len());
        for mut place in places {
            let next = match (step, self.type_at(&place)) {
                (Access::Field { record, slot, .. }, Some(Ty::Record(id))) if *id == record => {
                    Some(Step::Field(slot))
                }
                (Access::Field { name, .. }, Some(Ty::Record(id))) => self
                    .types
                    .record(*id)
                    .slot(name)
                    .and_then(|slot| u32::try_from(slot).ok())
                    .map(Step::Field),
                (Access::Item, Some(Ty::List(_) | Ty::Map(_))) => Some(Step::Item),
                _ => None,
            };
            match next {
                Some(step) => {
                    place.push(step);
                    into.push(place);
                }
                None => self.reads.mark(&place, true),
            }
        }
        into
    }

    /// The places either side can name, each once: `let`s that choose
    /// between `let`s (`let b = a ?? a`) would otherwise double them at
    /// each. Past [`MAX_PLACES`] (`let`s choosing between distinct parts at
    /// each step can name exponentially many), the part they all lie in is
    /// read whole, and stands for them: what lies below it is built.
    fn union(&mut self, mut places: Vec<Place>, more: Vec<Place>) -> Vec<Place> {
        places.extend(more);
        places.sort_unstable();
        places.dedup();
        if places.len() <= MAX_PLACES {
            return places;
        }
        let mut common = places[0].clone();
        for place in &places[1..] {
            let shared = common.iter().zip(place).take_while(|(a, b)| a == b).count();
            common.truncate(shared);
        }
        self.reads.mark(&common, true);
        vec![common]
    }

    fn bind(&mut self, local: usize, places: Vec<Place>) {
        if self.locals.len() <= local {
            self.locals.resize(local + 1, Vec::new());
        }
        self.locals[local] = places;
    }

    /// A loop over `collection`: the list itself is read (its length), and
    /// `local` names each of its items.
    fn iterate(&mut self, local: usize, collection: Vec<Place>) {
        for place in &collection {
            self.reads.mark(place, false);
        }
        let items = self.step_into(collection, Access::Item);
        self.bind(local, items);
    }

    /// `e` is used as a value: everything it names is read whole.
    fn read(&mut self, e: &'p Expr) {
        for place in self.places(e) {
            self.reads.mark(&place, true);
        }
    }

    fn let_places(&mut self, id: LetId) -> Vec<Place> {
        if let Some(Some(places)) = self.lets.get(id.index()) {
            return places.clone();
        }
        let Some(e) = self.rule.and_then(|r| r.lets.get(id.index())) else {
            return Vec::new();
        };
        // A `let` runs in a frame of its own making: its loops' locals must
        // not rebind the locals of the expression that first reads it.
        let outer = self.locals.clone();
        self.locals.truncate(1);
        let places = self.places(e);
        self.locals = outer;
        if let Some(slot) = self.lets.get_mut(id.index()) {
            *slot = Some(places.clone());
        }
        places
    }

    /// The places of the field `name` (the checker's `slot` of `record`)
    /// of what `base` names.
    fn field_places(
        &mut self,
        base: &'p Expr,
        record: RecordId,
        slot: u32,
        name: &str,
    ) -> Vec<Place> {
        let base = self.places(base);
        self.step_into(base, Access::Field { record, slot, name })
    }

    /// The parts of the input `e` can name (none when it makes a new
    /// value), marking as read whatever it reads to work that out.
    fn places(&mut self, e: &'p Expr) -> Vec<Place> {
        // Deeply nested expressions (a long chain of `let`s) recurse as
        // deep: the stack grows on the heap, as the evaluator's does.
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.places_of(e))
    }

    fn places_of(&mut self, e: &'p Expr) -> Vec<Place> {
        match &e.kind {
            ExprKind::Const(_) | ExprKind::Data(_) | ExprKind::Now | ExprKind::Error => Vec::new(),
            ExprKind::Local(id) => self.locals.get(id.index()).cloned().unwrap_or_default(),
            ExprKind::Let(id) => self.let_places(*id),
            ExprKind::Field {
                base,
                record,
                slot,
                name,
                ..
            } => self.field_places(base, *record, *slot, name),
            ExprKind::Index { base, index, .. } => {
                self.read(index);
                let base = self.places(base);
                self.step_into(base, Access::Item)
            }
            ExprKind::Has {
                base,
                slot: Some((record, slot)),
                name,
            } => {
                for place in self.field_places(base, *record, *slot, name) {
                    self.reads.mark(&place, true);
                }
                Vec::new()
            }
            ExprKind::Binary {
                op: crate::BinOp::Coalesce,
                lhs,
                rhs,
            } => {
                let lhs = self.places(lhs);
                let rhs = self.places(rhs);
                self.union(lhs, rhs)
            }
            ExprKind::If {
                condition,
                then_branch,
                else_branch,
            } => {
                self.read(condition);
                let then_places = self.places(then_branch);
                let else_places = self.places(else_branch);
                self.union(then_places, else_places)
            }
            ExprKind::Quantifier {
                local,
                collection,
                body,
                ..
            } => {
                let collection = self.places(collection);
                self.iterate(local.index(), collection);
                self.read(body);
                Vec::new()
            }
            ExprKind::Comprehension {
                local,
                collection,
                element,
                filter,
            } => {
                let collection = self.places(collection);
                self.iterate(local.index(), collection.clone());
                if let Some(filter) = filter {
                    self.read(filter);
                }
                // `[x for x in xs if …]` is some of `xs`'s items: reading it
                // reads theirs. Anything else makes new values of what it reads.
                if matches!(element.kind, ExprKind::Local(l) if l == *local) {
                    collection
                } else {
                    self.read(element);
                    Vec::new()
                }
            }
            // Everything else reads its operands whole and makes a new value.
            ExprKind::DynField { base, .. }
            | ExprKind::Has { base, .. }
            | ExprKind::Not(base)
            | ExprKind::Neg(base)
            | ExprKind::ToFloat(base)
            | ExprKind::MatchesConst { lhs: base, .. } => {
                self.read(base);
                Vec::new()
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                self.read(lhs);
                self.read(rhs);
                Vec::new()
            }
            ExprKind::Call { args, .. }
            | ExprKind::CallFn { args, .. }
            | ExprKind::List(args)
            | ExprKind::Record { values: args, .. } => {
                for arg in args {
                    self.read(arg);
                }
                Vec::new()
            }
        }
    }
}
