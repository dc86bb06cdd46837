//! Warden's answers in LSP's terms: diagnostics, symbol kinds, the
//! semantic token legend.

use crate::state::State;
use std::path::Path;
use tower_lsp_server::ls_types::*;
use warden_ide::{Highlight, SymbolKind};

/// The semantic token types, in the order of [`Highlight`] indexes.
pub(crate) const LEGEND: [SemanticTokenType; 10] = [
    SemanticTokenType::KEYWORD,
    SemanticTokenType::COMMENT,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::TYPE,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::NAMESPACE,
];

pub(crate) fn legend_index(highlight: Highlight) -> u32 {
    match highlight {
        Highlight::Keyword => 0,
        Highlight::Comment => 1,
        Highlight::String => 2,
        Highlight::Number => 3,
        Highlight::Function => 4,
        Highlight::Type => 5,
        Highlight::Property => 6,
        Highlight::Variable => 7,
        Highlight::Operator => 8,
        Highlight::Namespace => 9,
    }
}

pub(crate) fn symbol_kind(kind: SymbolKind) -> tower_lsp_server::ls_types::SymbolKind {
    use tower_lsp_server::ls_types::SymbolKind as Lsp;
    match kind {
        SymbolKind::Type => Lsp::STRUCT,
        SymbolKind::Target => Lsp::INTERFACE,
        SymbolKind::Data => Lsp::CONSTANT,
        SymbolKind::Rule => Lsp::CLASS,
        SymbolKind::Function => Lsp::FUNCTION,
        SymbolKind::Waiver => Lsp::EVENT,
        SymbolKind::Test => Lsp::METHOD,
    }
}

pub(crate) fn to_lsp_diagnostic(
    state: &State,
    key: &str,
    found: &warden_ide::FileDiagnostic,
    docs: Option<&Path>,
) -> Option<Diagnostic> {
    let d = &found.diagnostic;
    let mut message = d.message.clone();
    if !d.primary.message.is_empty() {
        message.push_str(&format!(" ({})", d.primary.message));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    Some(Diagnostic {
        range: state.range(key, found.range)?,
        severity: Some(if d.is_error() {
            DiagnosticSeverity::ERROR
        } else {
            DiagnosticSeverity::WARNING
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        code_description: docs
            // Every code has a page (the docs tests see to it), written at start.
            .map(|dir| dir.join(format!("{}.md", d.code)))
            .and_then(Uri::from_file_path)
            .map(|href| CodeDescription { href }),
        source: Some("warden".into()),
        message,
        related_information: related_information(state, key, found),
        ..Diagnostic::default()
    })
}

/// What the CLI prints beside the primary label: each secondary label at
/// its place, each note at the primary one.
fn related_information(
    state: &State,
    key: &str,
    found: &warden_ide::FileDiagnostic,
) -> Option<Vec<DiagnosticRelatedInformation>> {
    let at = |key: &str, range| -> Option<Location> {
        Some(Location {
            uri: state.uri(key)?,
            range: state.range(key, range)?,
        })
    };
    let labels = found.related.iter().filter_map(|(file, range, message)| {
        Some(DiagnosticRelatedInformation {
            location: at(file, *range)?,
            message: message.clone(),
        })
    });
    let notes = found.diagnostic.notes.iter().filter_map(|note| {
        Some(DiagnosticRelatedInformation {
            location: at(key, found.range)?,
            message: format!("note: {note}"),
        })
    });
    let all: Vec<DiagnosticRelatedInformation> = labels.chain(notes).collect();
    (!all.is_empty()).then_some(all)
}
