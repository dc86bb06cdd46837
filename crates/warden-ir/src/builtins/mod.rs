//! The built-in functions, one file per category. A category's file
//! declares its built-ins (name, arity, whether a call can fail, a one-line
//! doc) and holds all there is to each: the type rule the checker applies
//! (`check`), the steps the evaluator charges before a call (`cost`) and
//! what the call does (`call`). So a built-in is added in one file: its
//! line in the table, then the arms its three exhaustive matches ask for.
//! This file only routes by category; checker and evaluator call
//! [`Builtin::check`], [`Builtin::cost`] and [`Builtin::call`].

mod collections;
pub mod cost;
mod glob;
mod net;
mod regex;
mod secrets;
mod semver;
mod strings;
mod time;
mod types;
mod url;

pub use collections::CollectionFn;
pub use glob::GlobFn;
pub use net::NetFn;
pub use regex::RegexFn;
pub use regex::compiled as compiled_regex;
pub use secrets::{SecretFn, StringPaths, secret_kind, string_paths};
pub use semver::SemverFn;
pub use strings::StringFn;
pub use time::TimeFn;
pub use url::UrlFn;

use crate::{Ty, TypeTable, Value};

/// What a call returns, or why its arguments are unusable (the evaluator
/// turns that into a fail-closed `E0502` finding).
pub type CallResult = Result<Value, String>;

/// What a call may read besides its arguments.
pub struct CallContext<'a> {
    /// The evaluation time, microseconds since the epoch (`now()`).
    pub now: i64,
    /// The program's types (rendering a record in `to_string`, comparing).
    pub types: &'a TypeTable,
}

/// Declares a category's built-ins: `Variant = "name"(arity) [total]: "doc"`;
/// `total` marks one that cannot fail whatever its arguments hold.
macro_rules! category {
    ($category:ident $label:literal {
        $( $variant:ident = $name:literal ($arity:literal) $($total:ident)? : $doc:literal ),* $(,)?
    }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $category { $( $variant, )* }

        impl $category {
            pub const ALL: &'static [$category] = &[ $( $category::$variant, )* ];
            pub fn category(self) -> &'static str { $label }
            pub fn name(self) -> &'static str { match self { $( $category::$variant => $name, )* } }
            pub fn doc(self) -> &'static str { match self { $( $category::$variant => $doc, )* } }
            pub fn arity(self) -> usize { match self { $( $category::$variant => $arity, )* } }
            pub fn total(self) -> bool {
                match self { $( $category::$variant => category!(@total $($total)?), )* }
            }
        }
    };
    (@total total) => { true };
    (@total) => { false };
}
pub(crate) use category;

/// A built-in function, by its category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    Collections(CollectionFn),
    Strings(StringFn),
    Regex(RegexFn),
    Semver(SemverFn),
    Time(TimeFn),
    Net(NetFn),
    Url(UrlFn),
    Glob(GlobFn),
    Secrets(SecretFn),
}

/// `$body` for the category function `$f` inside `$builtin`.
macro_rules! by_category {
    ($builtin:expr, $f:ident => $body:expr) => {
        match $builtin {
            Builtin::Collections($f) => $body,
            Builtin::Strings($f) => $body,
            Builtin::Regex($f) => $body,
            Builtin::Semver($f) => $body,
            Builtin::Time($f) => $body,
            Builtin::Net($f) => $body,
            Builtin::Url($f) => $body,
            Builtin::Glob($f) => $body,
            Builtin::Secrets($f) => $body,
        }
    };
}

impl Builtin {
    /// Every built-in, category by category.
    pub fn all() -> impl Iterator<Item = Builtin> {
        (CollectionFn::ALL.iter().copied().map(Builtin::Collections))
            .chain(StringFn::ALL.iter().copied().map(Builtin::Strings))
            .chain(RegexFn::ALL.iter().copied().map(Builtin::Regex))
            .chain(SemverFn::ALL.iter().copied().map(Builtin::Semver))
            .chain(TimeFn::ALL.iter().copied().map(Builtin::Time))
            .chain(NetFn::ALL.iter().copied().map(Builtin::Net))
            .chain(UrlFn::ALL.iter().copied().map(Builtin::Url))
            .chain(GlobFn::ALL.iter().copied().map(Builtin::Glob))
            .chain(SecretFn::ALL.iter().copied().map(Builtin::Secrets))
    }

    /// The one named `name`.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::all().find(|b| b.name() == name)
    }

    /// The name policies call it by.
    pub fn name(self) -> &'static str {
        by_category!(self, f => f.name())
    }

    /// The category it is documented under.
    pub fn category(self) -> &'static str {
        by_category!(self, f => f.category())
    }

    /// Its signature and what it does, one line.
    pub fn doc(self) -> &'static str {
        by_category!(self, f => f.doc())
    }

    /// How many arguments it takes.
    pub fn arity(self) -> usize {
        by_category!(self, f => f.arity())
    }

    /// Whether a call cannot fail at run time whatever its arguments hold
    /// (even `any` values of an unexpected kind): the rule index may skip
    /// past it.
    pub fn is_total(self) -> bool {
        by_category!(self, f => f.total())
    }

    /// The type a call with arguments of types `args` returns, or what is
    /// wrong with them.
    pub fn check(self, args: &[Ty]) -> Result<Ty, String> {
        let arity = self.arity();
        if args.len() != arity {
            return Err(format!(
                "`{}` takes {arity} argument{}, not {}",
                self.name(),
                if arity == 1 { "" } else { "s" },
                args.len()
            ));
        }
        by_category!(self, f => f.check(args))
    }

    /// The steps a call with `args` costs beyond its own, paid before it
    /// runs: proportional to what it walks and what it builds. A value's
    /// size is counted no further than `limit` (what is left of the budget,
    /// plus one): past it the charge fails anyway.
    pub fn cost(self, args: &[Value], types: &crate::TypeTable, limit: u64) -> u64 {
        by_category!(self, f => f.cost(args, types, limit))
    }

    /// Calls it.
    pub fn call(self, args: &[Value], cx: &CallContext<'_>) -> CallResult {
        by_category!(self, f => f.call(args, cx))
    }
}

/// The string argument at `i`; the checker guarantees the type, `any`
/// values may still surprise.
pub(crate) fn str_arg(args: &[Value], i: usize) -> Result<&str, String> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s),
        Some(other) => Err(format!(
            "argument {} must be a string, found {}",
            i + 1,
            other.kind_name()
        )),
        None => Err(format!("argument {} is missing", i + 1)),
    }
}

pub(crate) fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::None, Value::str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let mut names: Vec<&str> = Builtin::all().map(Builtin::name).collect();
        let count = names.len();
        for name in &names {
            let found = Builtin::from_name(name).expect("found by its name");
            assert_eq!(found.name(), *name);
            assert!(found.doc().starts_with(&format!("{name}(")), "{name}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a name is taken twice");
    }
}
