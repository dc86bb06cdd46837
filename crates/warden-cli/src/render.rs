//! Diagnostics for people: ariadne reports from byte offsets (tools read
//! `warden::DiagnosticReport`).

use ariadne::{Config, IndexType, Label, Report, ReportKind};
use warden_diagnostics::{Diagnostic, Severity};

/// Renders diagnostics like a compiler: code, message, source snippet, labels, help.
pub fn human(diagnostics: &[Diagnostic], files: &[(String, String)], color: bool) -> String {
    let mut out = Vec::new();
    // One source cache for every report: rebuilding it per diagnostic made
    // rendering quadratic in the size of the policy set.
    let mut cache = ariadne::sources(files.to_vec());
    let mut lines: std::collections::HashMap<usize, warden_diagnostics::LineIndex> =
        Default::default();
    for d in diagnostics.iter().take(SHOWN_DIAGNOSTICS) {
        let Some((path, text)) = files.get(d.primary.span.file.0 as usize) else {
            continue;
        };
        // A line too long to read is not drawn: the diagnostic names its place.
        let index = lines
            .entry(d.primary.span.file.0 as usize)
            .or_insert_with(|| warden_diagnostics::LineIndex::new(text));
        let start = d.primary.span.range.start as usize;
        if index.line_bounds(text, start).len() > SNIPPET_LINE_BYTES {
            let at = index.line_col(text, start);
            let word = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "advice",
            };
            out.extend_from_slice(
                format!(
                    "[{}] {word}: {}\n  --> {path}:{}:{}\n",
                    d.code, d.message, at.line, at.column
                )
                .as_bytes(),
            );
            if let Some(help) = &d.help {
                out.extend_from_slice(format!("  help: {help}\n").as_bytes());
            }
            continue;
        }
        let clamp = |r: warden_diagnostics::TextRange| {
            let start = (r.start as usize).min(text.len());
            let end = (r.end as usize).clamp(start, text.len());
            start..end
        };
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
            Severity::Info => ReportKind::Advice,
        };
        let range = clamp(d.primary.span.range);
        let mut report = Report::build(kind, (path.clone(), range.clone()))
            .with_config(
                Config::default()
                    .with_index_type(IndexType::Byte)
                    .with_color(color),
            )
            .with_code(d.code)
            .with_message(&d.message)
            .with_label({
                let label = Label::new((path.clone(), range)).with_order(0);
                // A label without words underlines, and says nothing more.
                if d.primary.message.is_empty() {
                    label
                } else {
                    label.with_message(&d.primary.message)
                }
            });
        for (i, label) in d.secondary.iter().enumerate() {
            if let Some((other, _)) = files.get(label.span.file.0 as usize) {
                let r = if other == path {
                    clamp(label.span.range)
                } else {
                    label.span.range.as_range()
                };
                report = report.with_label(
                    Label::new((other.clone(), r))
                        .with_message(&label.message)
                        .with_order(i as i32 + 1),
                );
            }
        }
        for note in &d.notes {
            report = report.with_note(note);
        }
        if let Some(help) = &d.help {
            report = report.with_help(help);
        }
        let _ = report.finish().write(&mut cache, &mut out);
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    if let Some(more) = diagnostics
        .len()
        .checked_sub(SHOWN_DIAGNOSTICS)
        .filter(|n| *n > 0)
    {
        text.push_str(&format!(
            "… and {more} more diagnostics, not shown (`--format json` lists them all)\n"
        ));
    }
    text
}

/// Diagnostics drawn with their source: each draws its whole line, so
/// thousands on one long line would print gigabytes.
pub const SHOWN_DIAGNOSTICS: usize = 200;

/// The longest source line a diagnostic or a `check` finding draws.
pub const SNIPPET_LINE_BYTES: usize = 2_000;
