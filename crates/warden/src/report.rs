//! Diagnostics as data: the one serde shape `warden lint --format json`,
//! the server's refused reload (422) and the language server all read.

use serde::{Deserialize, Serialize};
use warden_diagnostics::{Diagnostic, Span};

/// A diagnostic with its places resolved: 1-based lines and columns
/// (columns count characters), paths joined to the policy folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticReport {
    /// The permanent code (`E0105`).
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// What is wrong.
    pub message: String,
    /// Where: the primary place.
    #[serde(flatten)]
    pub place: Place,
    /// What the primary label says about that place.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// More context, each a sentence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Other places the diagnostic points at (the first definition of a
    /// duplicate, the declaration a type comes from), each with its label.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedPlace>,
}

/// A range of a policy file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The policy file, joined to the policy folder.
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    /// Where the range ends (1-based).
    pub end_line: u32,
    /// 1-based, in characters, exclusive.
    pub end_column: u32,
}

/// A secondary place of a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedPlace {
    /// Where.
    #[serde(flatten)]
    pub place: Place,
    /// What it says there.
    pub message: String,
}

impl crate::Workspace {
    /// `diagnostics` as reports; one whose file is not in the set is left out.
    pub fn reports(&self, diagnostics: &[Diagnostic]) -> Vec<DiagnosticReport> {
        diagnostics.iter().filter_map(|d| self.report(d)).collect()
    }

    /// One diagnostic as a report.
    pub fn report(&self, d: &Diagnostic) -> Option<DiagnosticReport> {
        Some(DiagnosticReport {
            code: d.code.to_string(),
            severity: d.severity.as_str().to_string(),
            message: d.message.clone(),
            place: self.place(d.primary.span)?,
            label: d.primary.message.clone(),
            help: d.help.clone(),
            notes: d.notes.clone(),
            related: d
                .secondary
                .iter()
                .filter_map(|label| {
                    Some(RelatedPlace {
                        place: self.place(label.span)?,
                        message: label.message.clone(),
                    })
                })
                .collect(),
        })
    }

    /// A span as a place: its file joined to the policy folder.
    pub fn place(&self, span: Span) -> Option<Place> {
        let (path, start) = self.line_col(span.file, span.range.start)?;
        let (_, end) = self.line_col(span.file, span.range.end)?;
        Some(Place {
            file: self.shown_path(path),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        })
    }
}
