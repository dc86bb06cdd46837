//! `warden fmt`: one canonical layout, comments kept.

use crate::lexer::TokenKind;
use crate::print::{SourceComment, print_file_with_comments};
use warden_diagnostics::{Diagnostic, FileId};

/// Formats a policy file. A file with syntax errors is not formatted: its
/// diagnostics come back instead, so nothing a user wrote is lost.
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    let parse = crate::parse(FileId(0), text);
    if parse.diagnostics().iter().any(Diagnostic::is_error) {
        return Err(parse.diagnostics().to_vec());
    }
    let tree = parse.tree();
    // `///` runs the parser attached to an item or a field are printed from the tree;
    // any other comment, `///` included, is kept verbatim.
    let documented = tree.documented_starts();
    let mut comments: Vec<SourceComment> = Vec::new();
    // The token before was a plain comment.
    let mut after_comment = false;
    let mut doc_run: Vec<SourceComment> = Vec::new();
    // The end of the last significant token, while no line break has followed it.
    let mut code_on_line: Option<u32> = None;
    for token in parse.tokens() {
        let was_comment = std::mem::replace(&mut after_comment, token.kind == TokenKind::Comment);
        let comment = || SourceComment {
            start: token.range.start,
            trails: code_on_line,
            text: text[token.range.as_range()].trim_end().to_string(),
            blank_after: false,
        };
        match token.kind {
            TokenKind::DocComment => doc_run.push(comment()),
            TokenKind::Whitespace => {
                let space = &text[token.range.as_range()];
                if space.contains('\n') {
                    code_on_line = None;
                }
                // A blank line after a plain comment (a comment token ends
                // before its line break, so two breaks make one blank line).
                if space.matches('\n').count() >= 2
                    && was_comment
                    && let Some(last) = comments.last_mut()
                {
                    last.blank_after = true;
                }
            }
            TokenKind::Comment => {
                comments.append(&mut doc_run);
                comments.push(comment());
            }
            _ => {
                if documented.binary_search(&token.range.start).is_err() {
                    comments.append(&mut doc_run);
                }
                doc_run.clear();
                code_on_line = Some(token.range.end);
            }
        }
    }
    comments.append(&mut doc_run);
    Ok(print_file_with_comments(tree, comments))
}
