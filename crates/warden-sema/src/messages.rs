//! Diagnostics more than one pass reports alike.

use warden_diagnostics::{Code, Diagnostic, Span, did_you_mean};

/// E0103 for a second declaration of a name.
pub(crate) fn defined_twice(span: Span, what: &str, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0103,
        span,
        format!("the {what} `{name}` is defined twice"),
    )
    .with_label("defined again here")
    .with_help(format!("rename one of the two {what}s"))
}

/// E0111 for an attribute a declaration does not take; `span` is its name.
pub(crate) fn unknown_attribute(span: Span, name: &str, known: &[&str]) -> Diagnostic {
    let d = Diagnostic::new(Code::E0111, span, format!("unknown attribute `@{name}`"))
        .with_label("not an attribute here");
    match did_you_mean(name, known.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `@{s}`?")),
        None => d.with_help(format!(
            "attributes here are {}",
            known
                .iter()
                .map(|k| format!("`@{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
