//! `textDocument/completion`.

use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use warden_ide::CompletionKind;

pub(crate) fn completion(
    state: &State,
    params: CompletionParams,
) -> Result<Option<CompletionResponse>> {
    let Some((key, offset)) = state.at(&params.text_document_position) else {
        return Ok(None);
    };
    let position = params.text_document_position.position;
    let items = state
        .host
        .completions(&key, offset)
        .into_iter()
        .map(|c| CompletionItem {
            // A dotted name or a quoted literal replaces what was typed of it.
            text_edit: c.replace_from.and_then(|from| {
                let end = c.replace_to.unwrap_or(offset);
                let range = state.range(&key, warden_diagnostics::TextRange::new(from, end))?;
                Some(CompletionTextEdit::Edit(TextEdit {
                    range: Range {
                        start: range.start,
                        end: if end == offset { position } else { range.end },
                    },
                    new_text: c.label.clone(),
                }))
            }),
            filter_text: c.replace_from.map(|_| c.label.clone()),
            insert_text: c.snippet.clone().filter(|_| state.snippets),
            insert_text_format: c
                .snippet
                .as_ref()
                .filter(|_| state.snippets)
                .map(|_| InsertTextFormat::SNIPPET),
            label: c.label,
            kind: Some(match c.kind {
                CompletionKind::EnumMember => CompletionItemKind::ENUM_MEMBER,
                CompletionKind::Package => CompletionItemKind::MODULE,
                CompletionKind::Field => CompletionItemKind::FIELD,
                CompletionKind::Keyword => CompletionItemKind::KEYWORD,
                CompletionKind::Function => CompletionItemKind::FUNCTION,
                CompletionKind::Rule => CompletionItemKind::CLASS,
                CompletionKind::Type => CompletionItemKind::STRUCT,
                CompletionKind::Data => CompletionItemKind::CONSTANT,
                CompletionKind::Variable => CompletionItemKind::VARIABLE,
            }),
            detail: c.detail,
            documentation: c.documentation.map(|doc| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: doc,
                })
            }),
            ..CompletionItem::default()
        })
        .collect();
    Ok(Some(CompletionResponse::Array(items)))
}
