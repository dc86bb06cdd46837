//! The types of the built-in functions.

use warden_ir::{Builtin, Ty};

/// What a call's arguments must be, and what it returns; `Err` says what is wrong.
pub(crate) fn check_builtin(builtin: Builtin, args: &[Ty]) -> Result<Ty, String> {
    use Builtin::*;
    let arity = match builtin {
        Now => 0,
        Count | Keys | Values | Sum | Min | Max | Unique | Sort | Flatten | Lower | Upper
        | Trim | ToString | SemverValid | ParseTime | Days | Hours | IpValid | IpIsPrivate
        | UrlScheme | UrlHost | LooksLikeSecret | SecretKind | StringsIn => 1,
        StartsWith | EndsWith | Contains | Split | Join | RegexMatch | RegexFind
        | SemverCompare | SemverSatisfies | CidrContains | HostMatches | GlobMatch => 2,
        Replace => 3,
    };
    if args.len() != arity {
        return Err(format!(
            "`{}` takes {arity} argument{}, not {}",
            builtin.name(),
            if arity == 1 { "" } else { "s" },
            args.len()
        ));
    }
    let string_args = |n: usize| -> Result<(), String> {
        for (i, a) in args.iter().enumerate().take(n) {
            if !is_stringy(a) {
                return Err(format!(
                    "argument {} of `{}` must be a string",
                    i + 1,
                    builtin.name()
                ));
            }
        }
        Ok(())
    };
    Ok(match builtin {
        Now => Ty::Time,
        Count => match &args[0] {
            Ty::List(_) | Ty::Map(_) | Ty::String | Ty::Enum(_) | Ty::Any | Ty::Error => Ty::Int,
            _ => return Err("`count` takes a list, a map or a string".into()),
        },
        Keys => match &args[0] {
            Ty::Map(_) | Ty::Any | Ty::Error => Ty::List(Box::new(Ty::String)),
            _ => return Err("`keys` takes a map".into()),
        },
        Values => match &args[0] {
            Ty::Map(inner) => Ty::List(inner.clone()),
            Ty::Any | Ty::Error => Ty::List(Box::new(Ty::Any)),
            _ => return Err("`values` takes a map".into()),
        },
        Sum => match &args[0] {
            Ty::List(inner) if matches!(**inner, Ty::Int | Ty::Never) => Ty::Int,
            Ty::List(inner) if matches!(**inner, Ty::Float) => Ty::Float,
            Ty::Any | Ty::Error => Ty::Float,
            _ => return Err("`sum` takes a list of numbers".into()),
        },
        Min | Max => match &args[0] {
            Ty::List(inner) if is_ordered(inner) => inner.as_ref().clone().optional(),
            Ty::Any | Ty::Error => Ty::Any,
            _ => {
                return Err(format!(
                    "`{}` takes a list of numbers, strings, times or durations",
                    builtin.name()
                ));
            }
        },
        Unique | Sort => match &args[0] {
            Ty::List(inner)
                if builtin == Unique || is_ordered(inner) || matches!(**inner, Ty::Never) =>
            {
                args[0].clone()
            }
            Ty::Any | Ty::Error => Ty::List(Box::new(Ty::Any)),
            _ => {
                return Err(format!(
                    "`{}` takes a list{}",
                    builtin.name(),
                    if builtin == Sort {
                        " of numbers, strings, times or durations"
                    } else {
                        ""
                    }
                ));
            }
        },
        Flatten => match &args[0] {
            Ty::List(inner) => match &**inner {
                Ty::List(_) => (**inner).clone(),
                Ty::Never => Ty::List(Box::new(Ty::Never)),
                _ => return Err("`flatten` takes a list of lists".into()),
            },
            Ty::Any | Ty::Error => Ty::List(Box::new(Ty::Any)),
            _ => return Err("`flatten` takes a list of lists".into()),
        },
        Lower | Upper | Trim => {
            string_args(1)?;
            Ty::String
        }
        StartsWith | EndsWith | Contains | RegexMatch | SemverCompare | SemverSatisfies
        | CidrContains | HostMatches | GlobMatch => {
            string_args(2)?;
            if builtin == SemverCompare {
                Ty::Int
            } else {
                Ty::Bool
            }
        }
        Replace => {
            string_args(3)?;
            Ty::String
        }
        Split => {
            string_args(2)?;
            Ty::List(Box::new(Ty::String))
        }
        Join => {
            if !matches!(&args[0], Ty::List(inner) if is_stringy(inner) || matches!(**inner, Ty::Never))
                && !matches!(args[0], Ty::Any | Ty::Error)
            {
                return Err("argument 1 of `join` must be a list of strings".into());
            }
            if !is_stringy(&args[1]) {
                return Err("argument 2 of `join` must be a string".into());
            }
            Ty::String
        }
        ToString => Ty::String,
        RegexFind => {
            string_args(2)?;
            Ty::String.optional()
        }
        SemverValid | IpValid | IpIsPrivate | LooksLikeSecret => {
            string_args(1)?;
            Ty::Bool
        }
        ParseTime => {
            string_args(1)?;
            Ty::Time.optional()
        }
        Days | Hours => match &args[0] {
            Ty::Duration | Ty::Error => Ty::Int,
            _ => return Err(format!("`{}` takes a duration", builtin.name())),
        },
        UrlScheme | UrlHost | SecretKind => {
            string_args(1)?;
            Ty::String.optional()
        }
        StringsIn => Ty::List(Box::new(Ty::String)),
    })
}

fn is_stringy(ty: &Ty) -> bool {
    matches!(ty, Ty::String | Ty::Enum(_) | Ty::Any | Ty::Error)
}

fn is_ordered(ty: &Ty) -> bool {
    matches!(
        ty,
        // Not unions: alphabetical order would put "high" before "low".
        Ty::Int | Ty::Float | Ty::String | Ty::Time | Ty::Duration
    )
}

/// Builtins that cannot fail at run time whatever their arguments hold (even
/// `any` values of an unexpected kind): the rule index may skip past them.
pub fn is_infallible(builtin: Builtin) -> bool {
    use Builtin::*;
    matches!(
        builtin,
        Now | Count | Keys | Values | Unique | Sort | Flatten | ToString | StringsIn
    )
}
