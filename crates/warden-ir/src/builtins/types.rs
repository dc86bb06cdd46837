//! What the type rules of the built-ins share.

use crate::Ty;

/// A string, or what may hold one (an enum of strings, `any`, an error
/// already reported).
pub(crate) fn is_stringy(ty: &Ty) -> bool {
    matches!(ty, Ty::String | Ty::Enum(_) | Ty::Any | Ty::Error)
}

/// What `min`, `max` and `sort` can order.
pub(crate) fn is_ordered(ty: &Ty) -> bool {
    matches!(
        ty,
        // Not unions: alphabetical order would put "high" before "low".
        Ty::Int | Ty::Float | Ty::String | Ty::Time | Ty::Duration
    )
}

/// `Ok` when every argument is a string, else which is not.
pub(crate) fn strings(name: &str, args: &[Ty]) -> Result<(), String> {
    match args.iter().position(|a| !is_stringy(a)) {
        None => Ok(()),
        Some(i) => Err(format!("argument {} of `{name}` must be a string", i + 1)),
    }
}
