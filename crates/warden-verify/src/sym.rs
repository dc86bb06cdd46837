//! Symbolic values: what an expression is for every input at once, as z3
//! terms, shaped like the evaluator's [`warden_ir::Value`].

use z3::ast::{Bool, Int, String as Str};

/// Why an expression was not encoded: the clause holding it is then
/// abstracted (see `encode`), never guessed.
#[derive(Clone, Debug)]
pub(crate) struct Unsupported {
    pub what: String,
    pub span: warden_diagnostics::Span,
}

pub(crate) type Encoded<T> = Result<T, Unsupported>;

#[derive(Clone, Debug)]
pub(crate) enum Sym {
    Bool(Bool),
    /// `int`, and `time` and `duration` as microseconds.
    Int(Int),
    Str(Str),
    /// A member of a union of string literals, by its index in `members`
    /// (an integer is far cheaper for the solver than a string).
    Enum(std::sync::Arc<[std::sync::Arc<str>]>, Int),
    /// The value `none`.
    None,
    /// A value that may be `none`: present when the flag holds.
    Opt(Bool, Box<Sym>),
    /// A record of a type, its declared fields by slot.
    Record(warden_ir::RecordId, Vec<Sym>),
    /// A list as slots that may hold an element: an input list of at most
    /// `--max-items` elements (slot `i` holds one when `i < len`), or what a
    /// comprehension kept of one. `dense`: the slots that hold one come
    /// first, so slot `i` is element `i`.
    List {
        items: Vec<(Bool, Sym)>,
        dense: bool,
    },
    /// A value verify does not model (a float, a map, an `any`): reading it
    /// abstracts the clause.
    Opaque(&'static str),
}

pub(crate) fn t() -> Bool {
    Bool::from_bool(true)
}
pub(crate) fn f() -> Bool {
    Bool::from_bool(false)
}
pub(crate) fn and(parts: &[Bool]) -> Bool {
    let kept: Vec<&Bool> = parts.iter().filter(|b| b.as_bool() != Some(true)).collect();
    if kept.iter().any(|b| b.as_bool() == Some(false)) {
        return f();
    }
    match kept.as_slice() {
        [] => t(),
        [one] => (*one).clone(),
        _ => Bool::and(&kept),
    }
}
pub(crate) fn or(parts: &[Bool]) -> Bool {
    let kept: Vec<&Bool> = parts
        .iter()
        .filter(|b| b.as_bool() != Some(false))
        .collect();
    if kept.iter().any(|b| b.as_bool() == Some(true)) {
        return t();
    }
    match kept.as_slice() {
        [] => f(),
        [one] => (*one).clone(),
        _ => Bool::or(&kept),
    }
}
pub(crate) fn not(b: &Bool) -> Bool {
    match b.as_bool() {
        Some(v) => Bool::from_bool(!v),
        None => b.not(),
    }
}

/// A string literal as z3 reads it: every character outside printable
/// ASCII, and the backslash, written `\u{…}` (z3 takes the text as
/// escapes, and raw UTF-8 as one character per byte).
///
/// Panics on text z3 cannot hold (see [`try_lit`]): only for text verify
/// wrote itself.
pub(crate) fn str_lit(text: &str) -> Str {
    try_lit(text).unwrap_or_else(|| Str::from(""))
}

/// A string literal, or `None` when the text holds a character past
/// U+2FFFF: z3 4.8's strings stop there. Whatever reads such a literal is
/// abstracted.
pub(crate) fn try_lit(text: &str) -> Option<Str> {
    Some(Str::from(escape(text)?.as_str()))
}

/// The last character z3 4.8's strings hold.
pub(crate) const LAST_CHAR: u32 = 0x2FFFF;

/// Text as z3's `Z3_mk_string` reads it (see [`try_lit`]).
pub(crate) fn escape(text: &str) -> Option<String> {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if (' '..='~').contains(&c) && c != '\\' {
            escaped.push(c);
        } else if c as u32 <= LAST_CHAR {
            escaped.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            return None;
        }
    }
    Some(escaped)
}

/// The text of a string literal; `None` for any other term (a constant's
/// `Z3_get_string` is not its value). A literal is told by how z3 prints
/// it, quoted: the binding's `DeclKind` numbering does not match the z3
/// 4.8 of Debian, and every constant verify names starts with `$`, or
/// with a word and a colon.
pub(crate) fn literal(s: &Str) -> Option<String> {
    use z3::ast::Ast;
    let literal = s.is_const() && s.to_string().starts_with('"');
    if literal {
        exact_text(s, |part| Some(part.simplify()))
    } else {
        None
    }
}

/// The most characters of a string read back from z3.
const MOST_CHARS: i64 = 100_000;

/// The text of a string value, exactly. z3 4.8's `Z3_get_string` writes
/// characters outside printable ASCII as `\u{…}` but a backslash as
/// itself, so `\u{41}` could be either; when the text holds a backslash
/// it is read one character at a time (one character reads back
/// unambiguously). `value` turns a term into the value to read (a model's
/// evaluation, or simplification of a literal).
pub(crate) fn exact_text(s: &Str, value: impl Fn(&Str) -> Option<Str>) -> Option<String> {
    let whole = value(s)?.as_string()?;
    if !whole.contains('\\') {
        return Some(whole);
    }
    let n = value(s).map(|v| v.length())?;
    let n = value_int(&n, &value)?.min(MOST_CHARS);
    let mut out = String::new();
    for i in 0..n {
        let c = value(&s.at(Int::from_i64(i)))?.as_string()?;
        if c.chars().count() == 1 {
            out.push_str(&c);
        } else {
            out.push_str(&decode_str(&c));
        }
    }
    Some(out)
}

fn value_int(n: &Int, value: &impl Fn(&Str) -> Option<Str>) -> Option<i64> {
    use z3::ast::Ast;
    let _ = value;
    n.simplify().as_i64()
}

/// A string from a model, its `\u{…}` escapes read back.
pub(crate) fn decode_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(body) = tail.strip_prefix("\\u{")
            && let Some(end) = body.find('}')
            && let Ok(code) = u32::from_str_radix(&body[..end], 16)
            && let Some(c) = char::from_u32(code)
        {
            out.push(c);
            rest = &body[end + 1..];
        } else if let Some(body) = tail.strip_prefix("\\\\") {
            out.push('\\');
            rest = body;
        } else {
            out.push('\\');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

impl Sym {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Sym::Bool(_) => "bool",
            Sym::Int(_) => "number",
            Sym::Str(_) | Sym::Enum(..) => "string",
            Sym::None => "none",
            Sym::Opt(..) => "optional value",
            Sym::Record(..) => "record",
            Sym::List { .. } => "list",
            Sym::Opaque(what) => what,
        }
    }

    /// Whether the value is present (not `none`), and the value when it is.
    pub(crate) fn split_optional(&self) -> (Bool, Sym) {
        match self {
            Sym::None => (f(), Sym::None),
            Sym::Opt(present, inner) => {
                let (inner_present, value) = inner.split_optional();
                (and(&[present.clone(), inner_present]), value)
            }
            other => (t(), other.clone()),
        }
    }

    /// The same value made optional under `present`.
    pub(crate) fn optional(self, present: Bool) -> Sym {
        match present.as_bool() {
            Some(true) => self,
            Some(false) => Sym::None,
            None => match self {
                Sym::None => Sym::None,
                Sym::Opt(inner_present, inner) => Sym::Opt(and(&[present, inner_present]), inner),
                other => Sym::Opt(present, Box::new(other)),
            },
        }
    }
}

/// How many parts a value has (itself, its fields, its elements), counted
/// no further than `limit`: a value built by doubling a `let` forty times
/// has 2^40 parts, and is never walked whole.
pub(crate) fn size(v: &Sym, limit: usize) -> usize {
    let mut count = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        count += 1;
        if count > limit {
            return count;
        }
        match v {
            Sym::Opt(_, inner) => stack.push(inner),
            Sym::Record(_, fields) => stack.extend(fields.iter()),
            Sym::List { items, .. } => stack.extend(items.iter().map(|(_, item)| item)),
            _ => {}
        }
    }
    count
}

/// The value with a union member written as its string (for operations
/// on text); anything else as it is.
pub(crate) fn text(v: Sym) -> Sym {
    match v {
        Sym::Enum(members, i) => {
            let Some(mut out) = try_lit(members.last().map_or("", |m| m)) else {
                return Sym::Opaque("union member past U+2FFFF");
            };
            for (k, m) in members.iter().enumerate().rev().skip(1) {
                let Some(lit) = try_lit(m) else {
                    return Sym::Opaque("union member past U+2FFFF");
                };
                out = i.eq(Int::from_i64(k as i64)).ite(&lit, &out);
            }
            Sym::Str(out)
        }
        Sym::Opt(p, inner) => Sym::Opt(p, Box::new(text(*inner))),
        other => other,
    }
}

/// `a == b`, as the evaluator's `equal` compares: `none` equals only
/// `none`; records field by field; lists element by element.
pub(crate) fn equal(a: &Sym, b: &Sym, span: warden_diagnostics::Span) -> Encoded<Bool> {
    let unsupported = |what: String| Unsupported { what, span };
    Ok(match (a, b) {
        (Sym::Opt(..) | Sym::None, _) | (_, Sym::Opt(..) | Sym::None) => {
            let (pa, va) = a.split_optional();
            let (pb, vb) = b.split_optional();
            let both_absent = and(&[not(&pa), not(&pb)]);
            if matches!(va, Sym::None) || matches!(vb, Sym::None) {
                return Ok(both_absent);
            }
            let values = equal(&va, &vb, span)?;
            or(&[both_absent, and(&[pa, pb, values])])
        }
        (Sym::Enum(m, i), Sym::Enum(n, j)) if m == n => i.eq(j),
        (Sym::Enum(members, i), Sym::Str(s)) | (Sym::Str(s), Sym::Enum(members, i))
            if literal(s).is_some() =>
        {
            let text = literal(s).unwrap_or_default();
            match members.iter().position(|m| **m == *text) {
                Some(k) => i.eq(Int::from_i64(k as i64)),
                None => f(),
            }
        }
        (Sym::Enum(..), _) | (_, Sym::Enum(..)) => {
            return equal(&text(a.clone()), &text(b.clone()), span);
        }
        (Sym::Bool(x), Sym::Bool(y)) => x.eq(y),
        (Sym::Int(x), Sym::Int(y)) => x.eq(y),
        (Sym::Str(x), Sym::Str(y)) => x.eq(y),
        (Sym::Record(tx, x), Sym::Record(ty, y)) if tx == ty => {
            let mut parts = Vec::with_capacity(x.len());
            for (p, q) in x.iter().zip(y) {
                parts.push(equal(p, q, span)?);
            }
            and(&parts)
        }
        (
            Sym::List {
                items: x,
                dense: true,
            },
            Sym::List {
                items: y,
                dense: true,
            },
        ) => {
            // Same length (the same slots hold an element) and the same elements.
            let mut parts = Vec::new();
            for i in 0..x.len().max(y.len()) {
                let (px, ex) = x.get(i).cloned().unwrap_or((f(), Sym::None));
                let (py, ey) = y.get(i).cloned().unwrap_or((f(), Sym::None));
                parts.push(px.eq(&py));
                if px.as_bool() != Some(false) && py.as_bool() != Some(false) {
                    let same = equal(&ex, &ey, span)?;
                    parts.push(px.implies(&same));
                }
            }
            and(&parts)
        }
        (Sym::Opaque(what), _) | (_, Sym::Opaque(what)) => {
            return Err(unsupported(format!("comparing a {what}")));
        }
        _ => {
            // Values of different kinds (the checker lets `any` through) are unequal.
            if a.kind() == b.kind() {
                return Err(unsupported(format!("comparing two {}s", a.kind())));
            }
            f()
        }
    })
}

/// `if cond then a else b`, for values of the same type.
pub(crate) fn merge(cond: &Bool, a: &Sym, b: &Sym, span: warden_diagnostics::Span) -> Encoded<Sym> {
    match cond.as_bool() {
        Some(true) => return Ok(a.clone()),
        Some(false) => return Ok(b.clone()),
        None => {}
    }
    Ok(match (a, b) {
        (Sym::Bool(x), Sym::Bool(y)) => Sym::Bool(cond.ite(x, y)),
        (Sym::Int(x), Sym::Int(y)) => Sym::Int(cond.ite(x, y)),
        (Sym::Str(x), Sym::Str(y)) => Sym::Str(cond.ite(x, y)),
        (Sym::Enum(m, i), Sym::Enum(n, j)) if m == n => Sym::Enum(m.clone(), cond.ite(i, j)),
        (Sym::Enum(..), Sym::Str(_) | Sym::Enum(..)) | (Sym::Str(_), Sym::Enum(..)) => {
            return merge(cond, &text(a.clone()), &text(b.clone()), span);
        }
        (Sym::None, Sym::None) => Sym::None,
        (Sym::Opt(..) | Sym::None, _) | (_, Sym::Opt(..) | Sym::None) => {
            let (pa, va) = a.split_optional();
            let (pb, vb) = b.split_optional();
            let present = cond.ite(&pa, &pb);
            let value = match (&va, &vb) {
                (Sym::None, _) => vb.clone(),
                (_, Sym::None) => va.clone(),
                _ => merge(cond, &va, &vb, span)?,
            };
            value.optional(present)
        }
        (Sym::Record(tx, x), Sym::Record(ty, y)) if tx == ty => {
            let mut fields = Vec::with_capacity(x.len());
            for (p, q) in x.iter().zip(y) {
                fields.push(merge(cond, p, q, span)?);
            }
            Sym::Record(*tx, fields)
        }
        (
            Sym::List {
                items: x,
                dense: dx,
            },
            Sym::List {
                items: y,
                dense: dy,
            },
        ) => {
            let mut items = Vec::new();
            for i in 0..x.len().max(y.len()) {
                let (px, ex) = x.get(i).cloned().unwrap_or((f(), Sym::None));
                let (py, ey) = y.get(i).cloned().unwrap_or((f(), Sym::None));
                let element = match (&ex, &ey) {
                    _ if px.as_bool() == Some(false) => ey.clone(),
                    _ if py.as_bool() == Some(false) => ex.clone(),
                    _ => merge(cond, &ex, &ey, span)?,
                };
                items.push((cond.ite(&px, &py), element));
            }
            Sym::List {
                items,
                dense: *dx && *dy,
            }
        }
        _ => {
            return Err(Unsupported {
                what: format!("choosing between a {} and a {}", a.kind(), b.kind()),
                span,
            });
        }
    })
}

/// The number of elements a list holds.
pub(crate) fn count(items: &[(Bool, Sym)]) -> Int {
    let one = Int::from_i64(1);
    let zero = Int::from_i64(0);
    let terms: Vec<Int> = items
        .iter()
        .filter(|(p, _)| p.as_bool() != Some(false))
        .map(|(p, _)| p.ite(&one, &zero))
        .collect();
    if terms.is_empty() {
        zero
    } else {
        Int::add(&terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use z3::{SatResult, Solver};

    /// Text goes to z3 and comes back as it was: backslashes, control
    /// characters, letters outside ASCII.
    #[test]
    fn strings_reach_z3_and_come_back_unchanged() {
        for text in [
            "",
            "plain",
            "a\\u{41}b",
            "back\\slash",
            "nul\0byte",
            "é ü 日本",
            "tab\there",
            "\u{1F600}",
        ] {
            let s = Str::new_const("s");
            let solver = Solver::new();
            solver.assert(s.eq(str_lit(text)));
            assert_eq!(solver.check(), SatResult::Sat);
            let model = solver.get_model().unwrap();
            let back = exact_text(&s, |part| model.eval(part, true)).unwrap();
            assert_eq!(back, text);
            // One character each, as the evaluator's `count` counts them.
            let n = model
                .eval(&str_lit(text).length(), true)
                .and_then(|n| n.as_i64());
            assert_eq!(n, Some(text.chars().count() as i64), "{text:?}");
        }
    }

    #[test]
    fn literals_are_told_from_constants() {
        assert_eq!(literal(&str_lit("abc")), Some("abc".into()));
        assert_eq!(literal(&str_lit("a\\b")), Some("a\\b".into()));
        assert_eq!(literal(&str_lit("\\u{41}")), Some("\\u{41}".into()));
        assert_eq!(literal(&str_lit("é")), Some("é".into()));
        assert_eq!(literal(&Str::new_const("$.x:str")), None);
    }
}
