//! `textDocument/hover`: the type and docs of the name under the cursor.

use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn hover(state: &State, params: HoverParams) -> Result<Option<Hover>> {
    let Some((key, offset)) = state.at(&params.text_document_position_params) else {
        return Ok(None);
    };
    Ok(state
        .host
        .hover(&key, offset)
        .map(|(markdown, range)| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown,
            }),
            range: state.range(&key, range),
        }))
}
